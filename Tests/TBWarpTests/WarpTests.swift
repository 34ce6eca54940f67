// The warp against its naive reference, the Gaussian's fit and draws, the model file.

import XCTest
import TBCore
import TBStream
import TBVideo
@testable import TBWarp

final class WarpTests: XCTestCase {
    func randomImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
        var g = SeededGenerator(seed: seed)
        return try! RGBImage(width: width, height: height, pixels: (0..<width * height * 3).map { _ in UInt8(truncatingIfNeeded: g.next()) })
    }

    func testResampleMatchesTheNaiveWarp() {
        let image = randomImage(width: 37, height: 29, seed: 5)
        let frame = NormalisedFrame(width: 37, height: 29)
        let maps: [[Double]] = [
            Matrix3.identity,
            frame.pixelMatrix(Homography(parameters: [0.05, -0.1, 0.2, 0.08, -0.04, -0.3, 0.05, -0.04])),
            [0.8, 0, 3.3, 0, 0.8, 2.7, 0, 0, 1],            // a translate-mode window
            [1, 0, -50, 0, 1, 40, 0, 0, 1],                 // entirely off the image: edges replicated
        ]
        for a in maps {
            let fast = Resample.image(image, through: a, width: 31, height: 23)
            let slow = Resample.naive(image, through: a, width: 31, height: 23)
            // Same formula, different order of floating-point operations: a value exactly at .5
            // may round either way, nothing else may differ.
            let differences = zip(fast.pixels, slow.pixels).map { abs(Int($0) - Int($1)) }
            XCTAssertLessThanOrEqual(differences.max() ?? 0, 1, "\(a)")
            XCTAssertLessThan(differences.filter { $0 != 0 }.count, 5, "\(a)")
        }
        // The identity at the same size is the image itself.
        XCTAssertEqual(Resample.image(image, through: Matrix3.identity, width: 37, height: 29), image)
    }

    func testEdgesAreReplicated() {
        let image = randomImage(width: 8, height: 6, seed: 9)
        // Shift the content right by 3: the first 3 columns repeat the image's column 0.
        let out = Resample.image(image, through: [1, 0, -3, 0, 1, 0, 0, 0, 1], width: 8, height: 6)
        for y in 0..<6 {
            for x in 0..<3 { XCTAssertEqual(out.pixel(x: x, y: y), image.pixel(x: 0, y: y)) }
            XCTAssertEqual(out.pixel(x: 5, y: y), image.pixel(x: 2, y: y))
        }
    }

    func testGaussianFitIsTheMaximumLikelihoodOne() {
        // Two samples: mean halfway, variance (d/2)^2 with divisor n.
        let g = MotionGaussian.fit([[1, 0, 0, 0, 0, 0, 0, 2], [3, 0, 0, 0, 0, 0, 0, -2]])
        XCTAssertEqual(g.mean, [2, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(g.covariance[0], 1)
        XCTAssertEqual(g.covariance[63], 4)
        XCTAssertEqual(g.covariance[7], -2)
        XCTAssertEqual(g.covariance[56], -2)
    }

    func testDrawsHaveTheModelsMomentsAndTheStillModelDrawsIdentity() throws {
        var sigma = [Double](repeating: 0, count: 64)
        let sd: [Double] = [0.01, 0.005, 0.02, 0.005, 0.01, 0.02, 0.001, 0.001]
        for k in 0..<8 { sigma[9 * k] = sd[k] * sd[k] }
        sigma[1 * 8 + 3] = -0.8 * sd[1] * sd[3]    // rotation: h12 and h21 opposite
        sigma[3 * 8 + 1] = sigma[1 * 8 + 3]
        let truth = MotionGaussian(mean: [0.001, 0, 0.01, 0, -0.002, 0.005, 0, 0.0005], covariance: sigma)
        let sampler = try XCTUnwrap(truth.sampler())
        var g = SeededGenerator(seed: 11)
        let fitted = MotionGaussian.fit((0..<20000).map { _ in sampler.draw(&g).parameters })
        for k in 0..<8 {
            XCTAssertEqual(fitted.mean[k], truth.mean[k], accuracy: 4 * sd[k] / 20000.0.squareRoot())
            XCTAssertEqual(fitted.covariance[9 * k], sigma[9 * k], accuracy: 0.05 * sigma[9 * k])
        }
        XCTAssertEqual(fitted.covariance[11], sigma[11], accuracy: 0.05 * sd[1] * sd[3])

        let still = try XCTUnwrap(MotionGaussian.still.sampler())
        XCTAssertEqual(still.draw(&g), .identity)
        // Not positive semi-definite: no sampler.
        var bad = sigma
        bad[0] = -1e-4
        XCTAssertNil(MotionGaussian(mean: truth.mean, covariance: bad).sampler())
    }

    func testIdentityModelPerspectiveIsCopy() throws {
        let image = randomImage(width: 33, height: 21, seed: 2)
        let record = Record(kind: "frames", dtype: .u8, shape: [1, 21, 33, 3],
                            header: JSONObject([("layout", "THWC"), ("id", "a.png"), ("label", 4)]), payload: image.pixels)
        let model = try MotionModel(gaussian: .still)
        let copy = try PseudoVideo(mode: .copy, length: 5).clip(of: record, position: 0, seed: 1, place: ("x", 0))
        let warped = try PseudoVideo(mode: .perspective, length: 5, model: model).clip(of: record, position: 0, seed: 1, place: ("x", 0))
        XCTAssertEqual(warped.payload, copy.payload)
        XCTAssertEqual(copy.shape, [1, 5, 21, 33, 3])
        XCTAssertEqual(copy.kind, "clip")
        XCTAssertEqual(copy.layout, "NTHWC")
        XCTAssertEqual(copy.label, 4)
        XCTAssertEqual(copy.id, "a.png")
    }

    func testPerspectiveMovesTheImageAndIsSeeded() throws {
        let image = SyntheticTexture(seed: 1).render(width: 48, height: 40)
        let record = Record(kind: "frames", dtype: .u8, shape: [1, 40, 48, 3], header: JSONObject([("id", "a.png")]),
                            payload: image.pixels)
        var sigma = [Double](repeating: 0, count: 64)
        for k in 0..<8 { sigma[9 * k] = k >= 6 ? 1e-6 : 1e-4 }
        let model = try MotionModel(gaussian: MotionGaussian(mean: [0, 0, 0.02, 0, 0, 0, 0, 0], covariance: sigma))
        let maker = PseudoVideo(mode: .perspective, length: 4, model: model)
        let a = try maker.clip(of: record, position: 3, seed: 7, place: ("x", 0))
        let b = try maker.clip(of: record, position: 3, seed: 7, place: ("x", 0))
        let c = try maker.clip(of: record, position: 4, seed: 7, place: ("x", 0))
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a.payload, c.payload)
        let frameBytes = 40 * 48 * 3
        XCTAssertEqual(Array(a.payload[0..<frameBytes]), image.pixels)
        XCTAssertNotEqual(Array(a.payload[frameBytes..<2 * frameBytes]), image.pixels)
        // Translate mode: every frame is a moving window, none is the image itself.
        let t = try PseudoVideo(mode: .translate, length: 3).clip(of: record, position: 0, seed: 7, place: ("x", 0))
        XCTAssertNotEqual(Array(t.payload[0..<frameBytes]), Array(t.payload[2 * frameBytes..<3 * frameBytes]))
    }

    func testModelFileRoundTripsAndNamesItsProblems() throws {
        var sigma = [Double](repeating: 0, count: 64)
        for k in 0..<8 { sigma[9 * k] = 1e-4 }
        var counts = PairCounts()
        counts.used = 12
        counts.skipped[.textureless] = 3
        let model = try MotionModel(gaussian: MotionGaussian(mean: [0, 0, 0.01, 0, 0, 0, 0, 0], covariance: sigma), counts: counts,
                                    classes: [ClassMotion(label: 0, name: "walk", counts: counts,
                                                          gaussian: MotionGaussian(mean: [0.1, 0, 0, 0, 0, 0, 0, 0], covariance: sigma)),
                                              ClassMotion(label: 2, name: nil, counts: PairCounts(), gaussian: nil)])
        let back = try MotionModel(json: try JSON.parse(model.json.text))
        XCTAssertEqual(back.gaussian, model.gaussian)
        XCTAssertEqual(back.classes, model.classes)
        XCTAssertEqual(back.sampler(label: 0).mean[0], 0.1)
        XCTAssertEqual(back.sampler(label: 2).mean, model.gaussian.mean)   // too few pairs: falls back
        XCTAssertEqual(back.sampler(label: nil).mean, model.gaussian.mean)

        func problem(_ text: String) -> String {
            do { _ = try MotionModel(json: try JSON.parse(text)); return "no error" } catch { return "\(error)" }
        }
        let row = "[0,0,0,0,0,0,0,0]"
        let rows = Array(repeating: row, count: 8).joined(separator: ",")
        XCTAssertEqual(problem(#"{"sigma": [\#(rows)]}"#), #"no "mu""#)
        XCTAssertEqual(problem(#"{"mu": \#(row)}"#), #"no "sigma""#)
        XCTAssertEqual(problem(#"{"mu": [0,0], "sigma": [\#(rows)]}"#), #""mu" has 2 numbers, not 8"#)
        XCTAssertEqual(problem(#"{"mu": \#(row), "sigma": [\#(row)]}"#), #""sigma" has 1 rows, not 8"#)
        XCTAssertEqual(problem(#"{"mu": \#(row), "sigma": [\#(rows)], "classes": [{"label": 1, "mu": \#(row)}]}"#),
                       #"classes[0]: no "sigma""#)
        XCTAssertEqual(problem("[1]"), "a JSON array, not a tb-warp model object")
    }
}
