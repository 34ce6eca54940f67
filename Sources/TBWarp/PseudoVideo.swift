// Images into pseudo-videos (OmniSource, ALGORITHMS.md §2.2): copy, a translating crop, or a
// chain of random perspective warps; `frames` records in, `clip` records out.

import TBCore
import TBStream
import TBVideo

public enum WarpMode: String, CaseIterable, Sendable {
    case copy, translate, perspective
}

/// Makes the clip of one image.
public struct PseudoVideo: Sendable {
    public var mode: WarpMode
    /// Frames per clip (T).
    public var length: Int
    /// The translate mode's window, as a fraction of the image's width and height.
    public var cropFraction: Double
    /// The perspective mode's motion model.
    public var model: MotionModel?

    public init(mode: WarpMode, length: Int, cropFraction: Double = 0.8, model: MotionModel? = nil) {
        precondition(length >= 1, "PseudoVideo: length must be at least 1")
        precondition(mode != .perspective || model != nil, "PseudoVideo: perspective needs a model")
        self.mode = mode
        self.length = length
        self.cropFraction = cropFraction
        self.model = model
    }

    /// The T frames made from `image`; `label` picks the class-specific motion when the model has it.
    public func frames(of image: RGBImage, label: Int?, generator g: inout SeededGenerator) -> [RGBImage] {
        let w = image.width, h = image.height
        switch mode {
        case .copy:
            return Array(repeating: image, count: length)
        case .translate:
            // A window of cropFraction × the image, its corner moving in a straight line at constant
            // speed between two positions drawn uniformly, scaled back to the image size.
            let cw = cropFraction * Double(w), ch = cropFraction * Double(h)
            func position() -> (Double, Double) {
                (Double(g.nextUnitFloat()) * (Double(w) - cw), Double(g.nextUnitFloat()) * (Double(h) - ch))
            }
            let start = position(), end = position()
            return (0..<length).map { i in
                let t = length > 1 ? Double(i) / Double(length - 1) : 0
                let x0 = start.0 + (end.0 - start.0) * t, y0 = start.1 + (end.1 - start.1) * t
                let sx = cw / Double(w), sy = ch / Double(h)
                // Output pixel centre u + 0.5 covers source x0 + (u + 0.5)·sx.
                let a = [sx, 0, x0 + 0.5 * sx - 0.5, 0, sy, y0 + 0.5 * sy - 0.5, 0, 0, 1]
                return Resample.image(image, through: a, width: w, height: h)
            }
        case .perspective:
            // J_1 = image, J_{i+1} = warp(J_i, H_i), computed as one resampling of the image by the
            // composed G_{i+1} = H_i ⋯ H_1 so that blur does not accumulate over the clip.
            let sampler = model!.sampler(label: label)
            let frame = NormalisedFrame(width: w, height: h)
            var composed = Homography.identity
            var out = [image]
            for _ in 1..<max(length, 1) {
                let step = sampler.draw(&g)
                composed = (step * composed) ?? composed
                let inverse = composed.inverse() ?? .identity
                out.append(Resample.image(image, through: frame.pixelMatrix(inverse), width: w, height: h))
            }
            return out
        }
    }

    /// The clip record of a `frames` record's first frame. `position` counts records from 0 in input
    /// order; with `seed` it seeds this record's draws, so a record's clip does not depend on
    /// which others are in the run (--shard). `place` names the record in errors.
    public func clip(of record: Record, position: Int, seed: UInt64, place: (file: String, record: Int)) throws -> Record {
        func fail(_ m: String) -> Failure { Failure(.dataError, m, file: place.file, record: place.record) }
        guard record.kind == "frames" else {
            throw fail("a \(record.kind ?? "record without kind"), not frames: tb-warp reads images as tb-decode writes them")
        }
        guard record.dtype == .u8, record.shape.count == 4, record.shape[3] == 3, record.shape.allSatisfy({ $0 > 0 }) else {
            throw fail("frames must be u8 [T, H, W, 3], not \(record.dtype.rawValue) \(record.shape)")
        }
        let image: RGBImage
        do { image = try RGBImage(record: record, frame: 0) } catch let f as Failure { throw f.at(file: place.file, record: place.record) }
        var g = SeededGenerator(seed: seed ^ (UInt64(position) &* 0x9E37_79B9_7F4A_7C15))
        let frames = frames(of: image, label: record.label, generator: &g)
        var payload = [UInt8]()
        payload.reserveCapacity(frames.count * image.pixels.count)
        for f in frames { payload.append(contentsOf: f.pixels) }
        var h = JSONObject([("layout", .string("NTHWC"))])
        for (k, v) in record.header where !["kind", "layout", "index", "t0"].contains(k) { h[k] = v }
        h["index"] = JSON(0)
        h["t0"] = .double(0)
        h["starts"] = JSON([0])
        return Record(kind: "clip", dtype: .u8, shape: [1, length, image.height, image.width, 3], header: h, payload: payload)
    }
}
