// The sampler: batch composition, epochs, fresh clip positions, the pretraining
// structure and determinism, on frames whose pixels all equal their frame number.

import Foundation
import XCTest
import TBCore
import TBStream
import TBVideo
@testable import TBMethods

final class SamplerTests: XCTestCase {
    func stream(_ frames: [Int], labels: [Int?]? = nil, size: Int = 4) throws -> String {
        try framesStream(frames, labels: labels, size: size, for: self)
    }

    func options(_ l: Int, _ u: Int, _ structure: SampleStructure = .clip(ClipShape(length: 3)), seed: UInt64 = 1)
        -> Sampler.Options {
        Sampler.Options(labeledPerBatch: l, unlabeledPerBatch: u, structure: structure,
                        augment: .centre(size: 4), seed: seed)
    }

    /// The first pixel of every frame of every clip of a sample record: [sample][view·frame].
    func pixels(_ r: Record) -> [[Int]] {
        let b = r.shape[0], perSample = r.payload.count / b, frame = 4 * 4 * 3
        return (0..<b).map { s in stride(from: 0, to: perSample, by: frame).map { Int(r.payload[s * perSample + $0]) } }
    }

    func testCompositionLabelsAndEpochs() throws {
        let lab = try stream([6, 6, 6, 6], labels: [0, 1, 2, 0])
        let unl = try stream([5, 5, 5])
        var targets = Targets()
        targets.soft["v1"] = [0.2, 0.8]
        targets.labels["v3"] = 2
        let s = try Sampler(labeled: [lab], unlabeled: [unl], targets: targets, options: options(2, 3))
        XCTAssertEqual(s.stepsPerEpoch, 2)
        var seen: [String] = []
        for step in 0..<2 {
            let r = try s.next(epoch: 0)
            XCTAssertEqual(r.kind, "sample")
            XCTAssertEqual(r.shape, [5, 3, 4, 4, 3])
            XCTAssertEqual(r.header["step"], JSON(step))
            let roles = r.header["roles"]?.arrayValue?.compactMap(\.stringValue)
            XCTAssertEqual(roles, ["labeled", "labeled", "unlabeled", "unlabeled", "unlabeled"])
            let ids = r.header["ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let labels = r.header["labels"]?.arrayValue ?? []
            for (i, id) in ids.enumerated().prefix(2) {
                seen.append(id)
                let expected = ["v0": 0, "v1": 1, "v2": 2, "v3": 2][id]!  // --labels overrides the stream's
                XCTAssertEqual(labels[i], JSON(expected), id)
            }
            XCTAssertEqual(Array(labels.suffix(3)), [.null, .null, .null], "unlabeled samples carry no label")
            // Each pixel block is the video it claims to be.
            for (i, p) in pixels(r).enumerated() {
                let v = Int(ids[i].dropFirst())!
                XCTAssertTrue(p.allSatisfy { $0 / 10 == v }, "\(ids[i]): \(p)")
                XCTAssertEqual(p, [p[0], p[0] + 1, p[0] + 2], "consecutive frames")
            }
        }
        XCTAssertEqual(seen.sorted(), ["v0", "v1", "v2", "v3"], "an epoch is one pass over the labeled videos")
    }

    func testFreshClipPositionsAndDeterminism() throws {
        let lab = try stream([12], labels: [0])
        let s = try Sampler(labeled: [lab], unlabeled: [], options: options(1, 0, .clip(ClipShape(length: 3, stride: 2))))
        var starts = Set<Int>()
        var all: [Record] = []
        for e in 0..<60 {
            let r = try s.next(epoch: e)
            all.append(r)
            let p = pixels(r)[0]
            XCTAssertEqual(p, [p[0], p[0] + 2, p[0] + 4])
            starts.insert(p[0])
        }
        XCTAssertEqual(starts, Set(0...7), "every position a 5-frame span can take, over the epochs")
        let again = try Sampler(labeled: [lab], unlabeled: [], options: options(1, 0, .clip(ClipShape(length: 3, stride: 2))))
        XCTAssertEqual(try (0..<60).map { try again.next(epoch: $0) }, all, "same seed, same batches")
        let other = try Sampler(labeled: [lab], unlabeled: [],
                                options: options(1, 0, .clip(ClipShape(length: 3, stride: 2)), seed: 2))
        XCTAssertNotEqual(try (0..<60).map { try other.next(epoch: $0) }, all)
    }

    func testPretrainingStructure() throws {
        let unl = try stream([20, 9])
        let s = try Sampler(labeled: [], unlabeled: [unl], options: options(0, 2, .pretraining(shorts: 2, length: 3)))
        let r = try s.next(epoch: 0)
        XCTAssertEqual(r.shape, [2, 6, 3, 4, 4, 3])
        XCTAssertEqual(r.layout, "NVTHWC")
        for p in pixels(r) {
            let start = p[0]
            // long·a, long·b: every 2nd frame of a 6-frame span; then each short clip twice.
            XCTAssertEqual(Array(p[0..<6]), [start, start + 2, start + 4, start, start + 2, start + 4])
            XCTAssertEqual(Array(p[6..<12]), [start, start + 1, start + 2, start, start + 1, start + 2])
            XCTAssertEqual(Array(p[12..<18]), [start + 3, start + 4, start + 5, start + 3, start + 4, start + 5])
        }
    }

    func testAugmentedViewsDifferAndBadInputsAreNamed() throws {
        let unl = try stream([8], size: 16)
        var o = options(0, 1, .pretraining(shorts: 1, length: 2))
        o.augment = AugmentOptions(size: 8)
        let r = try Sampler(labeled: [], unlabeled: [unl], options: o).next(epoch: 0)
        XCTAssertEqual(r.shape, [1, 4, 2, 8, 8, 3])

        let unlabeledOnly = try stream([5])
        XCTAssertThrowsError(try Sampler(labeled: [unlabeledOnly], unlabeled: [], options: options(1, 0))) { e in
            XCTAssertEqual((e as? Failure)?.status, .dataError)
            XCTAssertTrue("\(e)".contains("labeled video \"v0\" has no label"), "\(e)")
        }
        XCTAssertThrowsError(try Sampler(labeled: [], unlabeled: [], options: options(0, 1)))
        let small = try stream([5], labels: [0], size: 4), big = try stream([5], labels: [1], size: 6)
        let mixed = try Sampler(labeled: [small, big], unlabeled: [], options: options(2, 0))
        XCTAssertThrowsError(try mixed.next(epoch: 0)) { e in
            XCTAssertTrue("\(e)".contains("decode every input at one size"), "\(e)")
        }
    }
}
