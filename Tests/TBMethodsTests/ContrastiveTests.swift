// The three contrastive terms of the teachers against plain loops over the definitions
// (ALGORITHMS.md §1.2–1.3), and the view order of pretraining batches.

import XCTest
import Foundation
import TBCore
import TBNN
import TBStream
import TBTensor
@testable import TBMethods

final class ContrastiveTests: XCTestCase {
    let tau = 0.1

    func trainer() throws -> ContrastiveTrainer {
        let model = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w4"), classes: 1)
        let head = ProjectionHead(in: 32, out: 3)
        return ContrastiveTrainer(model: model, head: head,
                                  optimizer: try Adam(parameters: ContrastiveTrainer.parameters(model, head)),
                                  schedule: ConstantSchedule(1e-3), weights: ContrastiveWeights(objective: "tclr")!,
                                  temperature: Float(tau))
    }

    /// n random unit vectors of dimension d.
    func units(_ n: Int, _ d: Int, seed: UInt64) -> [[Double]] {
        var g = SeededGenerator(seed: seed)
        return (0..<n).map { _ in
            let v = (0..<d).map { _ in Double(g.nextUnitFloat()) - 0.5 }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
    }

    func variable(_ rows: [[Double]], _ tape: Tape) -> Variable {
        tape.constant(Tensor(shape: [rows.count, rows[0].count], data: rows.flatMap { $0.map(Float.init) }))
    }

    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    /// −log softmax(logits)[target].
    func ce(_ logits: [Double], _ target: Int) -> Double {
        let m = logits.max()!
        return -(logits[target] - m - log(logits.reduce(0) { $0 + exp($1 - m) }))
    }

    /// SimCLR's NT-Xent over views a[i], b[i].
    func ntXent(_ a: [[Double]], _ b: [[Double]]) -> Double {
        let all = a + b, n = all.count
        var total = 0.0
        for i in 0..<n {
            let partner = (i + n / 2) % n
            let others = (0..<n).filter { $0 != i }
            total += ce(others.map { dot(all[i], all[$0]) / tau }, others.firstIndex(of: partner)!)
        }
        return total / Double(n)
    }

    func testInstanceLocalLocalAndGlobalLocalMatchTheirDefinitions() throws {
        let (b, s, d) = (3, 2, 4)
        let t = try trainer()
        let zLong = units(2 * b, d, seed: 1), zShort = units(2 * s * b, d, seed: 2), zStep = units(2 * s * b, d, seed: 3)
        func short(_ c: Int, _ a: Int, _ v: Int) -> [Double] { zShort[(c * 2 + a) * b + v] }
        func step(_ la: Int, _ c: Int, _ v: Int) -> [Double] { zStep[(la * s + c) * b + v] }
        let tape = Tape(recording: false)

        // Instance: the long pair, then every pair of distinct short slots, a quarter each.
        var instance = ntXent(Array(zLong[0..<b]), Array(zLong[b..<2 * b]))
        let slots = (0..<s).flatMap { c in (0..<2).map { (c, $0) } }
        for p in 0..<slots.count { for q in (p + 1)..<slots.count {
            instance += 0.25 * ntXent((0..<b).map { short(slots[p].0, slots[p].1, $0) },
                                      (0..<b).map { short(slots[q].0, slots[q].1, $0) })
        } }
        let gotInstance = t.instanceLoss(zLong: variable(zLong, tape), zShort: variable(zShort, tape), videos: b, shorts: s, tape)
        XCTAssertEqual(Double(gotInstance.value.scalar), instance, accuracy: 1e-4 * instance)

        // Local-local: within a video, (c, a) against (c, 1 − a) among the video's other short views.
        var local = 0.0
        for v in 0..<b { for c in 0..<s { for a in 0..<2 {
            let others = slots.filter { $0 != (c, a) }
            local += ce(others.map { dot(short(c, a, v), short($0.0, $0.1, v)) / tau }, others.firstIndex { $0 == (c, 1 - a) }!)
        } } }
        local /= Double(2 * s * b)
        let gotLocal = t.localLocalLoss(zShort: variable(zShort, tape), videos: b, shorts: s, tape)
        XCTAssertEqual(Double(gotLocal.value.scalar), local, accuracy: 1e-4 * local)

        // Global-local: each (long, short) augmentation pair, both directions, averaged over rows.
        var global = 0.0
        for la in 0..<2 { for sa in 0..<2 {
            var there = 0.0, back = 0.0
            for v in 0..<b { for c in 0..<s {
                there += ce((0..<s).map { dot(step(la, c, v), short($0, sa, v)) / tau }, c)
                back += ce((0..<s).map { dot(short(c, sa, v), step(la, $0, v)) / tau }, c)
            } }
            global += (there + back) / Double(s * b)
        } }
        let gotGlobal = t.globalLocalLoss(zStep: variable(zStep, tape), zShort: variable(zShort, tape), videos: b, shorts: s, tape)
        XCTAssertEqual(Double(gotGlobal.value.scalar), global, accuracy: 1e-4 * global)
    }

    func testPretrainingBatchViewOrder() throws {
        // B = 2 videos, V = 6 views (S = 2), 1×1×1 clips whose value is 10·video + view.
        var payload: [UInt8] = []
        for v in 0..<2 { for k in 0..<6 { payload += [UInt8(10 * v + k), 0, 0] } }
        let r = Record(kind: "sample", dtype: .u8, shape: [2, 6, 1, 1, 1, 3], header: JSONObject(), payload: payload)
        let batch = try PretrainingBatch(record: r, place: ("s", 0))
        XCTAssertEqual(batch.shorts, 2)
        func values(_ t: Tensor) -> [Int] {
            (0..<t.shape[0]).map { Int(((t.data[$0 * 3] * PixelNormalization.std + PixelNormalization.mean) * 255).rounded()) }
        }
        XCTAssertEqual(values(batch.long), [0, 10, 1, 11])
        XCTAssertEqual(values(batch.short), [2, 12, 3, 13, 4, 14, 5, 15], "rows (clip, augmentation, video)")
        var wrong = r
        wrong.shape = [2, 6, 1, 1, 3]
        XCTAssertThrowsError(try PretrainingBatch(record: wrong, place: ("s", 4))) { XCTAssertEqual(($0 as? Failure)?.record, 4) }
    }

    func testAStepLowersTheLossOnRepeatedBatches() throws {
        let model = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w4:dilated3"), classes: 1, seed: 1)
        let head = ProjectionHead(in: 32, out: 8)
        let t = ContrastiveTrainer(model: model, head: head,
                                   optimizer: try Adam(parameters: ContrastiveTrainer.parameters(model, head), learningRate: 3e-3),
                                   schedule: ConstantSchedule(3e-3), weights: ContrastiveWeights(objective: "tclr")!)
        var g = SeededGenerator(seed: 2)
        let payload = (0..<(3 * 6 * 2 * 8 * 8 * 3)).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        let r = Record(kind: "sample", dtype: .u8, shape: [3, 6, 2, 8, 8, 3], header: JSONObject(), payload: payload)
        let batch = try PretrainingBatch(record: r, place: ("s", 0))
        let first = try t.step(batch)
        var last = first
        for _ in 0..<15 { last = try t.step(batch) }
        XCTAssertNotNil(first.instance)
        XCTAssertNotNil(first.localLocal)
        XCTAssertNotNil(first.globalLocal)
        XCTAssertLessThan(last.total, first.total)
        // The teacher checkpoint holds the backbone and the head, no classifier.
        let sink = MemorySink()
        try t.save(metadata: ["objective": "tclr"], to: sink)
        let file = try SafeTensorsFile(bytes: sink.bytes, name: "teacher")
        XCTAssertTrue(file.names.contains("head.3.weight"))
        XCTAssertFalse(file.names.contains("fc.weight"))
        XCTAssertEqual(file.metadata["arch"], "r3d10:w4:dilated3")
    }
}
