// Direct alignment recovers known homographies; textureless frames are skipped and counted.

import XCTest
import TBCore
import TBStream
import TBVideo
@testable import TBWarp

final class AlignmentTests: XCTestCase {
    func frame(_ image: RGBImage) -> AlignmentFrame {
        AlignmentFrame(GreyImage(rgb: image.pixels, width: image.width, height: image.height))
    }

    func testHomographyAlgebra() throws {
        let h = Homography(parameters: [0.02, -0.01, 0.05, 0.015, -0.01, -0.03, 0.002, -0.001])
        let inv = try XCTUnwrap(h.inverse())
        let product = try XCTUnwrap(h * inv)
        for p in product.parameters { XCTAssertEqual(p, 0, accuracy: 1e-12) }
        let q = try XCTUnwrap(h.apply(x: 0.3, y: -0.7))
        let back = try XCTUnwrap(inv.apply(x: q.x, y: q.y))
        XCTAssertEqual(back.x, 0.3, accuracy: 1e-12)
        XCTAssertEqual(back.y, -0.7, accuracy: 1e-12)
        // A translation by 0.1 normalised units is 0.1 × half the shorter side in pixels.
        let frame = NormalisedFrame(width: 96, height: 64)
        let m = frame.pixelMatrix(Homography(parameters: [0, 0, 0.1, 0, 0, 0, 0, 0]))
        let moved = try XCTUnwrap(Matrix3.apply(m, x: 10, y: 20))
        XCTAssertEqual(moved.x, 13.2, accuracy: 1e-12)
        XCTAssertEqual(moved.y, 20, accuracy: 1e-12)
    }

    /// Frames rendered exactly through known homographies (no resampling, no codec): the
    /// estimate must match to a small fraction of a pixel.
    func testRecoversASyntheticWarp() throws {
        let texture = SyntheticTexture(seed: 7)
        let truths: [[Double]] = [
            [0, 0, 0.03, 0, 0, -0.02, 0, 0],                                    // translation, ~1.4 px
            [0.01, -0.02, 0.01, 0.02, 0.01, 0.015, 0, 0],                       // similarity
            [0.012, 0.004, -0.025, -0.006, -0.008, 0.02, 0.003, -0.002],        // full projective
            [0, 0, 0, 0, 0, 0, 0.04, -0.03],                                    // perspective terms alone, ~2 px
        ]
        for truth in truths {
            let h = Homography(parameters: truth)
            let a = frame(texture.render(width: 96, height: 80))
            let b = frame(texture.render(width: 96, height: 80, motion: h))
            guard case .aligned(let estimate, let rms) = Alignment.estimate(from: a, to: b) else {
                return XCTFail("not aligned: \(Alignment.estimate(from: a, to: b))")
            }
            XCTAssertLessThan(rms, 2, "residual")
            // Compare where the two send the frame's corners, in pixels: the quantity that matters.
            let f = NormalisedFrame(width: 96, height: 80)
            let difference = zip(estimate.parameters, truth).map { $0 - $1 }
            XCTAssertLessThan(Alignment.cornerDisplacement(difference, frame: f), 0.05, "\(truth) vs \(estimate.parameters)")
            for k in 0..<8 { XCTAssertEqual(estimate.parameters[k], truth[k], accuracy: 1e-3, "parameter \(k)") }
        }
    }

    func testFlatFramesAreTextureless() {
        let flat = frame(RGBImage(width: 64, height: 48, color: RGB(90, 120, 30)))
        let textured = frame(SyntheticTexture(seed: 1).render(width: 64, height: 48))
        XCTAssertEqual(Alignment.estimate(from: flat, to: flat), .skipped(.textureless))
        XCTAssertEqual(Alignment.estimate(from: textured, to: flat), .skipped(.textureless))
    }

    func testUnrelatedFramesAreRejected() {
        let a = frame(SyntheticTexture(seed: 1).render(width: 64, height: 48))
        let b = frame(SyntheticTexture(seed: 2).render(width: 64, height: 48))
        let result = Alignment.estimate(from: a, to: b)
        XCTAssertTrue(result == .skipped(.residual) || result == .skipped(.noConvergence), "\(result)")
    }

    /// A video record whose first 6 frames are textured and moving, the last 4 flat: the fit
    /// uses the 5 textured pairs and counts the other 4 (one textured→flat, three flat→flat).
    func testFitSkipsAndCountsTexturelessFrames() throws {
        let texture = SyntheticTexture(seed: 3)
        var pixels: [UInt8] = []
        for i in 0..<6 {
            pixels += texture.render(width: 48, height: 48, motion: Homography(parameters: [0, 0, 0.02 * Double(i), 0, 0, 0, 0, 0])).pixels
        }
        for _ in 0..<4 { pixels += RGBImage(width: 48, height: 48, color: RGB(50, 50, 50)).pixels }
        let record = Record(kind: "frames", dtype: .u8, shape: [10, 48, 48, 3],
                            header: JSONObject([("id", "v.mp4"), ("index", 0)]), payload: pixels)
        let fit = MotionFit()
        try fit.add(record, place: ("v.tbs", 0))
        XCTAssertEqual(fit.counts.used, 5)
        XCTAssertEqual(fit.counts.skipped, [.textureless: 4])
        let model = try fit.model(perClass: false)
        XCTAssertEqual(model.gaussian.mean[2], 0.02, accuracy: 1e-3)
        XCTAssertEqual(model.json.objectValue?["skipped"]?.objectValue?["textureless"], JSON(4))

        // Only flat frames: nothing to fit, said as a data error.
        let flatOnly = MotionFit()
        try flatOnly.add(Record(kind: "frames", dtype: .u8, shape: [3, 48, 48, 3], header: JSONObject([("id", "f.mp4")]),
                                payload: [UInt8](repeating: 9, count: 3 * 48 * 48 * 3)), place: ("f.tbs", 0))
        XCTAssertEqual(flatOnly.counts.skipped[.textureless], 2)
        XCTAssertThrowsError(try flatOnly.model(perClass: false)) { XCTAssertEqual(($0 as? Failure)?.status, .dataError) }
    }

    func testChunksOfOneVideoPairAcrossTheBoundary() throws {
        let texture = SyntheticTexture(seed: 4)
        func chunk(_ index: Int, frames: Range<Int>) -> Record {
            var pixels: [UInt8] = []
            for i in frames {
                pixels += texture.render(width: 64, height: 64, motion: Homography(parameters: [0, 0, 0, 0, 0, 0.01 * Double(i), 0, 0])).pixels
            }
            return Record(kind: "frames", dtype: .u8, shape: [frames.count, 64, 64, 3],
                          header: JSONObject([("id", "v.mp4"), ("index", JSON(index)), ("label", 1)]), payload: pixels)
        }
        let fit = MotionFit(minimumPairs: 2)
        try fit.add(chunk(0, frames: 0..<3), place: ("v.tbs", 0))
        try fit.add(chunk(1, frames: 3..<5), place: ("v.tbs", 1))
        XCTAssertEqual(fit.counts.used, 4)
        XCTAssertThrowsError(try fit.add(chunk(3, frames: 5..<6), place: ("v.tbs", 2))) {
            XCTAssertEqual(($0 as? Failure)?.description.hasPrefix("v.tbs: record 2: chunk 3"), true, "\($0)")
        }
        let model = try fit.model(perClass: true)
        XCTAssertEqual(model.classes.map(\.label), [1])
        XCTAssertEqual(model.classes[0].gaussian?.mean[5] ?? 0, 0.01, accuracy: 1e-3)
    }
}
