// OmniSource's joint sampling (ALGORITHMS.md §2.3): auxiliary samples per batch, class
// resampling ∝ N_c^p, and mixup whose targets are the same convex combination as its inputs.

import Foundation
import XCTest
import TBCore
import TBStream
import TBTensor
import TBVideo
@testable import TBMethods

final class JointSamplingTests: XCTestCase {
    func stream(_ frames: [Int], labels: [Int?]? = nil) throws -> String {
        try framesStream(frames, labels: labels, for: self)
    }

    func options(_ l: Int) -> Sampler.Options {
        Sampler.Options(labeledPerBatch: l, unlabeledPerBatch: 0, structure: .clip(ClipShape(length: 3)),
                        augment: .centre(size: 4), seed: 1)
    }

    func testBetaDrawsHaveTheirMoments() {
        var g = SeededGenerator(seed: 7)
        for a in [0.2, 1.0, 4.0] {
            let n = 20_000
            let x = (0..<n).map { _ in g.nextBeta(a, a) }
            XCTAssertTrue(x.allSatisfy { (0...1).contains($0) })
            let mean = x.reduce(0, +) / Double(n)
            let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
            let expected = 1 / (4 * (2 * a + 1))
            // Standard error of the mean is sqrt(var / n) <= 0.0036; 5 of them.
            XCTAssertEqual(mean, 0.5, accuracy: 0.018, "α = \(a)")
            XCTAssertEqual(variance, expected, accuracy: expected * 0.06, "α = \(a)")
        }
    }

    func testResamplingWeights() {
        let w = Resampling(power: 0.5).weights(counts: [100, 25, 0, 4])
        XCTAssertEqual(w[0], 10 / 17, accuracy: 1e-12)
        XCTAssertEqual(w[1], 5 / 17, accuracy: 1e-12)
        XCTAssertEqual(w[2], 0)
        let capped = Resampling(power: 1, cap: 10).weights(counts: [100, 25, 5])
        XCTAssertEqual(capped, [0.4, 0.4, 0.2])
    }

    /// Draw counts per auxiliary class follow N_c^p within sampling error.
    func testAuxiliaryClassCountsFollowThePower() throws {
        let counts = [32, 8, 2]
        var labels: [Int?] = []
        for (c, n) in counts.enumerated() { labels += Array(repeating: c, count: n) }
        let aux = try stream(Array(repeating: 3, count: labels.count), labels: labels)
        let target = try stream([3, 3], labels: [0, 1])
        for power in [0.0, 0.5, 1.0] {
            var o = options(1)
            o.auxPerBatch = 8
            o.resampling = Resampling(power: power)
            let s = try Sampler(labeled: [target], unlabeled: [], aux: [aux], options: o)
            XCTAssertEqual(s.auxClassCounts, counts)
            var drawn = [0, 0, 0]
            let steps = 400
            for _ in 0..<steps {
                let r = try s.next(epoch: 0)
                let roles = r.header["roles"]!.arrayValue!.compactMap(\.stringValue)
                XCTAssertEqual(roles, ["labeled"] + Array(repeating: "aux", count: 8))
                for l in r.header["labels"]!.arrayValue!.dropFirst() { drawn[l.intValue!] += 1 }
            }
            let n = Double(steps * 8)
            let p = Resampling(power: power).weights(counts: counts)
            for c in counts.indices {
                // Four binomial standard errors.
                let tolerance = 4 * (p[c] * (1 - p[c]) / n).squareRoot() * n
                XCTAssertEqual(Double(drawn[c]), p[c] * n, accuracy: tolerance, "power \(power), class \(c)")
            }
        }
    }

    /// A batch's mixed inputs and targets are one convex combination: x_i' = λx_i + (1−λ)x_j
    /// and y_i' = λ·onehot(y_i) + (1−λ)·onehot(y_j), with the λ and j the record names.
    func testMixupMixesInputsAndTargetsAlike() throws {
        let target = try stream([4, 4, 4, 4], labels: [0, 1, 2, 3])
        let aux = try stream([3, 3, 3], labels: [1, 2, 3])
        for across in [false, true] {
            var o = options(3)
            o.auxPerBatch = 2
            o.mixup = MixupOptions(alpha: 0.4, across: across)
            let s = try Sampler(labeled: [target], unlabeled: [], aux: [aux], options: o)
            for _ in 0..<5 {
                let r = try s.next(epoch: 0)
                let mixed = try TrainingBatch(record: r, classes: 4, place: ("t", 0))
                var plain = r
                plain.header["mix"] = nil
                let original = try TrainingBatch(record: plain, classes: 4, place: ("t", 0))
                XCTAssertNil(original.labelTargets)
                let roles = r.header["roles"]!.arrayValue!.compactMap(\.stringValue)
                let labels = r.header["labels"]!.arrayValue!.map { $0.intValue! }
                let size = mixed.input.count / 5
                var rowsSeen = 0
                // No unlabeled rows: batch order equals record order.
                for (i, m) in r.header["mix"]!.arrayValue!.enumerated() {
                    let pair = m.arrayValue!
                    let j = pair[0].intValue!, lambda = Float(pair[1].doubleValue!)
                    XCTAssertEqual(roles[j] == roles[i], !across, "partner roles")
                    for k in stride(from: 0, to: size, by: 37) {
                        let want = lambda * original.input.data[i * size + k] + (1 - lambda) * original.input.data[j * size + k]
                        XCTAssertEqual(mixed.input.data[i * size + k], want, accuracy: 1e-5)
                    }
                    let targets = roles[i] == "aux" ? mixed.auxTargets! : mixed.labelTargets!
                    let row = roles[i] == "aux" ? i - 3 : i
                    var want = [Float](repeating: 0, count: 4)
                    want[labels[i]] += lambda
                    want[labels[j]] += 1 - lambda
                    XCTAssertEqual(Array(targets.data[row * 4..<row * 4 + 4]), want)
                    rowsSeen += 1
                }
                XCTAssertEqual(rowsSeen, 5)
                XCTAssertEqual(mixed.auxiliary, 2)
                XCTAssertEqual(mixed.auxLabels, Array(labels[3...]))
            }
        }
    }

    func testAuxiliaryErrors() throws {
        let target = try stream([3], labels: [0])
        let unlabeledAux = try stream([3])
        var o = options(1)
        o.auxPerBatch = 1
        XCTAssertThrowsError(try Sampler(labeled: [target], unlabeled: [], aux: [unlabeledAux], options: o)) { e in
            XCTAssertTrue("\(e)".contains("auxiliary video \"v0\" has no label"), "\(e)")
        }
        XCTAssertThrowsError(try Sampler(labeled: [target], unlabeled: [], aux: [], options: o)) { e in
            XCTAssertTrue("\(e)".contains("no auxiliary videos"), "\(e)")
        }
        // A mix entry that points outside the batch is a data error naming the sample.
        let aux = try stream([3], labels: [0])
        let r = try Sampler(labeled: [target], unlabeled: [], aux: [aux], options: o).next(epoch: 0)
        var bad = r
        bad.header["mix"] = .array([.array([JSON(5), .double(0.5)]), .null])
        XCTAssertThrowsError(try TrainingBatch(record: bad, classes: 2, place: ("b.tbs", 3))) { e in
            XCTAssertEqual((e as? Failure)?.status, .dataError)
            XCTAssertTrue("\(e)".contains("sample 0: mix"), "\(e)")
        }
    }

    /// Teacher filtering: lines with "keep": false leave out a whole video, or with an
    /// "index" one clip record of it (a window of an untrimmed video).
    func testKeepFalseLeavesOutVideosAndWindows() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tb-keep-\(UUID().uuidString).tbs").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        let sink = MemorySink()
        let w = try StreamWriter(sink: sink, level: 1)
        for (v, windows) in [3, 2].enumerated() {
            for i in 0..<windows {  // one clip of 3 frames per window; pixels 10·v + i
                let h = JSONObject([("id", .string("u\(v)")), ("index", JSON(i)), ("label", JSON(v))])
                try w.write(Record(kind: "clip", dtype: .u8, shape: [1, 3, 4, 4, 3], header: h,
                                   payload: [UInt8](repeating: UInt8(10 * v + i), count: 3 * 4 * 4 * 3)))
            }
        }
        try w.flush()
        try Data(sink.bytes).write(to: URL(fileURLWithPath: path))
        let lines = [#"{"id": "u0", "index": 1, "label": 0, "keep": false}"#, #"{"id": "u0", "index": 2, "label": 0, "keep": true}"#,
                     #"{"id": "u1", "label": 1, "keep": false}"#]
        let labels = FileManager.default.temporaryDirectory.appendingPathComponent("tb-keep-\(UUID().uuidString).jsonl").path
        addTeardownBlock { try? FileManager.default.removeItem(atPath: labels) }
        try lines.joined(separator: "\n").write(toFile: labels, atomically: true, encoding: .utf8)
        let targets = try Targets.load(path: labels)
        let target = try stream([3], labels: [0])
        var o = options(1)
        o.auxPerBatch = 4
        let s = try Sampler(labeled: [target], unlabeled: [], aux: [path], targets: targets, options: o)
        XCTAssertEqual(s.dropped.videos, 1)
        XCTAssertEqual(s.dropped.records, 1)
        var seen = Set<Int>()
        for _ in 0..<20 {
            let r = try s.next(epoch: 0)
            let clip = r.payload.count / 5
            for k in 1..<5 { seen.insert(Int(r.payload[k * clip])) }
        }
        XCTAssertEqual(seen, [0, 2], "windows 0 and 2 of u0; never window 1, never u1")
        // A keep that is not a boolean is named.
        try #"{"id": "u0", "keep": "yes"}"#.write(toFile: labels, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try Targets.load(path: labels)) { e in
            XCTAssertTrue("\(e)".contains("keep of \"u0\" is not true or false"), "\(e)")
        }
    }
}
