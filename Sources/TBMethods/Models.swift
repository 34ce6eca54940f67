// Loading weights into a model for fine-tuning, and clip records as network inputs.

import TBCore
import TBNN
import TBStream
import TBTensor
import TBVideo

/// What `initialize(_:from:)` took from a checkpoint.
public struct InitReport: Sendable {
    public var loaded: [String] = []
    /// Model tensors the file lacks, or has with another shape (left as initialised).
    public var kept: [String] = []
    /// File tensors the model has no place for (a projection head, another classifier).
    public var ignored: [String] = []
}

/// Copies every tensor of `file` whose name and shape the model has (a backbone into a
/// network with another classifier, a teacher's backbone without its head). Refuses, with
/// `.dataError`, a file from which nothing fits: a silent no-op would train from scratch.
public func initialize(_ model: ResNet, from file: SafeTensorsFile) throws -> InitReport {
    var report = InitReport()
    let byName = Dictionary(file.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var known = Set<String>()
    func take(_ name: String, _ shape: [Int], _ set: (Tensor) -> Void) throws {
        known.insert(name)
        guard let e = byName[name], e.shape == shape else { report.kept.append(name); return }
        set(Tensor(shape: shape, data: try file.floats(name)))
        report.loaded.append(name)
    }
    for p in model.parameters { try take(p.name, p.shape) { p.value = $0 } }
    for b in model.buffers { try take(b.name, b.value.shape) { b.value = $0 } }
    report.ignored = file.names.filter { !known.contains($0) && !$0.hasSuffix("num_batches_tracked") }
    guard !report.loaded.isEmpty else {
        throw Failure(.dataError, "no tensor fits \(model.spec) (the file has \(file.names.prefix(3).joined(separator: ", "))"
                      + (file.names.count > 3 ? ", ..." : "") + ")", file: file.name)
    }
    return report
}

/// A clip record [K, T, H, W, 3] as normalised network input [K, 3, T, size, size]: each
/// frame's centre square (`crop` of its shorter side) resized to `size`.
public func clipInput(_ record: Record, size: Int, crop: Double, place: (file: String, record: Int)) throws -> Tensor {
    guard record.kind == "clip", record.dtype == .u8, record.shape.count == 5, record.shape[4] == 3,
          record.shape.allSatisfy({ $0 > 0 }) else {
        throw Failure(.dataError, "expected a clip record u8 [K, T, H, W, 3] (tb-clip's output), not "
                      + "\(record.kind ?? "a record without kind") \(record.dtype.rawValue) \(record.shape)",
                      file: place.file, record: place.record)
    }
    let (k, t, h, w) = (record.shape[0], record.shape[1], record.shape[2], record.shape[3])
    var g = SeededGenerator(seed: 0)  // the centre crop draws nothing
    let a = AugmentOptions.centre(size: size, fraction: crop).draw(width: w, height: h, using: &g)
    var out = [UInt8](repeating: 0, count: k * t * size * size * 3)
    record.payload.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            a.apply(frames: k * t, width: w, height: h, source: src.baseAddress!, destination: dst.baseAddress!)
        }
    }
    return PixelNormalization.clips(out, n: k, t: t, h: size, w: size)
}

extension ArchitectureSpec {
    /// How much the network shrinks space: the stem's stride 2, a max pool (2D and I3D
    /// layouts) and three strided stages.
    public var spatialStride: Int { family == .r3d ? 16 : 32 }
}

/// Refuses clips smaller than the network's spatial stride: their last feature map would
/// be made of padding.
public func checkInputSize(height: Int, width: Int, for spec: ArchitectureSpec) throws {
    guard min(height, width) >= spec.spatialStride else {
        throw Failure(.dataError, "clips of \(width)x\(height) pixels are too small for \(spec), "
                      + "which needs at least \(spec.spatialStride)")
    }
}
