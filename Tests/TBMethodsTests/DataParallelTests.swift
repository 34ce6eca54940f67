// Cutting a batch into shards: contiguous slices that keep the loss order, and shard
// weights under which the slices' losses add up to the whole batch's loss.

import XCTest
import TBCore
import TBNN
import TBStream
import TBTensor
@testable import TBMethods

final class DataParallelTests: XCTestCase {
    func testShardsCoverTheBatchInOrder() {
        for n in 1...9 {
            for shards in 1...n {
                let ranges = (0..<shards).map { DataParallel.rows(shard: $0, of: shards, batchSize: n) }
                XCTAssertEqual(ranges.first?.lowerBound, 0)
                XCTAssertEqual(ranges.last?.upperBound, n)
                for (a, b) in zip(ranges, ranges.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound) }
                XCTAssertLessThanOrEqual(ranges.map(\.count).max()! - ranges.map(\.count).min()!, 1)
            }
        }
        let p = DataParallel(collective: nil, microBatches: 3)
        XCTAssertEqual(p.shards, 3)
        XCTAssertEqual(p.localShards, 0..<3)
    }

    func testSlicesLossesAddUpToTheWholeBatchLoss() throws {
        // Rows in loss order: 2 labeled with soft, 1 labeled, 2 unlabeled with soft, 1 unlabeled.
        let roles = ["labeled", "unlabeled", "labeled", "unlabeled", "labeled", "unlabeled"]
        let labels: [Int?] = [0, nil, 2, nil, 1, nil]
        let soft: [[Double]?] = [[0.2, 0.3, 0.5], [0.6, 0.3, 0.1], nil, nil, [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]]
        var payload: [UInt8] = []
        for i in 0..<6 { payload += [UInt8](repeating: UInt8(20 * i), count: 2 * 4 * 4 * 3) }
        let header = JSONObject([("roles", .array(roles.map { .string($0) })),
                                 ("labels", .array(labels.map { $0.map { JSON($0) } ?? .null })),
                                 ("soft", .array(soft.map { $0.map { JSON($0) } ?? .null }))])
        let batch = try TrainingBatch(record: Record(kind: "sample", dtype: .u8, shape: [6, 2, 4, 4, 3], header: header,
                                                     payload: payload), classes: 3, place: ("s", 0))
        XCTAssertEqual([batch.labeled, batch.labeledSoft, batch.unlabeledSoft], [3, 2, 2])

        let model = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w4"), classes: 3, seed: 1)
        let trainer = Trainer(model: model, optimizer: try makeOptimizer("sgd", parameters: model.parameters,
                                                                          learningRate: 0.1, weightDecay: 0),
                              schedule: ConstantSchedule(0.1), weights: LossWeights(labeledSoft: 5, unlabeledSoft: 7))
        // Fixed logits, so that batch norm plays no part: [6, 3].
        let values = Tensor(shape: [6, 3], data: (0..<18).map { Float(($0 * 7) % 11) / 5 - 1 })
        func loss(_ b: TrainingBatch, _ rows: Range<Int>, _ shares: LossShares) -> Double {
            let tape = Tape(recording: false, training: true)
            let logits = tape.constant(Tensor(shape: [rows.count, 3], data: Array(values.data[rows.lowerBound * 3..<rows.upperBound * 3])))
            return trainer.loss(logits, b, tape, shares: shares).1.total
        }
        let whole = loss(batch, 0..<6, .whole)
        for shards in 2...6 {
            var sum = 0.0
            for s in 0..<shards {
                let rows = DataParallel.rows(shard: s, of: shards, batchSize: 6)
                let part = batch.rows(rows)
                XCTAssertEqual(part.input.data, Array(batch.input.data[rows.lowerBound * 96..<rows.upperBound * 96]))
                sum += loss(part, rows, LossShares(part, of: batch))
            }
            XCTAssertEqual(sum, whole, accuracy: 1e-5, "\(shards) shards")
        }
        // Shard 1 of 2 (rows 3..<6): no labeled row, both unlabeled soft targets in order.
        let second = batch.rows(3..<6)
        XCTAssertEqual([second.labeled, second.labeledSoft, second.unlabeledSoft], [0, 0, 2])
        XCTAssertEqual(second.soft.map { Array($0.data) }, Array(batch.soft!.data[6..<12]))
    }

    /// Joint batches slice too: auxiliary rows and mixed label targets follow their rows.
    func testSlicesOfJointBatchesAddUp() throws {
        let roles = ["labeled", "aux", "labeled", "unlabeled", "aux", "labeled", "aux"]
        let labels: [Int?] = [0, 2, 1, nil, 1, 2, 0]
        let soft: [[Double]?] = [nil, nil, nil, [0.2, 0.5, 0.3], nil, nil, nil]
        let mix: [JSON] = [.array([JSON(4), .double(0.7)]), .null, .null, .null, .array([JSON(6), .double(0.4)]), .null, .null]
        var payload: [UInt8] = []
        for i in 0..<7 { payload += [UInt8](repeating: UInt8(20 * i), count: 2 * 4 * 4 * 3) }
        let header = JSONObject([("roles", .array(roles.map { .string($0) })),
                                 ("labels", .array(labels.map { $0.map { JSON($0) } ?? .null })),
                                 ("soft", .array(soft.map { $0.map { JSON($0) } ?? .null })), ("mix", .array(mix))])
        let batch = try TrainingBatch(record: Record(kind: "sample", dtype: .u8, shape: [7, 2, 4, 4, 3], header: header,
                                                     payload: payload), classes: 3, place: ("s", 0))
        XCTAssertEqual([batch.labeled, batch.unlabeledSoft, batch.auxiliary], [3, 1, 3])
        let model = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w4"), classes: 3, seed: 1)
        let trainer = Trainer(model: model, optimizer: try makeOptimizer("sgd", parameters: model.parameters,
                                                                          learningRate: 0.1, weightDecay: 0),
                              schedule: ConstantSchedule(0.1), weights: LossWeights(labeledSoft: 5, unlabeledSoft: 7))
        let values = Tensor(shape: [7, 3], data: (0..<21).map { Float(($0 * 5) % 13) / 6 - 1 })
        func loss(_ b: TrainingBatch, _ rows: Range<Int>, _ shares: LossShares) -> LossParts {
            let tape = Tape(recording: false, training: true)
            let logits = tape.constant(Tensor(shape: [rows.count, 3], data: Array(values.data[rows.lowerBound * 3..<rows.upperBound * 3])))
            return trainer.loss(logits, b, tape, shares: shares).1
        }
        let whole = loss(batch, 0..<7, .whole)
        XCTAssertNotNil(whole.crossEntropyAux)
        for shards in 2...7 {
            var sum = 0.0, aux = 0.0
            for s in 0..<shards {
                let rows = DataParallel.rows(shard: s, of: shards, batchSize: 7)
                let part = batch.rows(rows)
                let shares = LossShares(part, of: batch)
                let parts = loss(part, rows, shares)
                sum += parts.total
                aux += (parts.crossEntropyAux ?? 0) * Double(shares.auxiliary)
            }
            XCTAssertEqual(sum, whole.total, accuracy: 1e-5, "\(shards) shards")
            XCTAssertEqual(aux, whole.crossEntropyAux!, accuracy: 1e-5, "\(shards) shards")
        }
    }
}
