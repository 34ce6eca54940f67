// Training batches, the student's loss, 2D clip logits, checkpoint initialisation and the
// temporal similarity score, each against a hand computation or a fixed point.

import XCTest
import TBCore
import TBNN
import TBStream
import TBTensor
@testable import TBMethods

final class TrainerTests: XCTestCase {
    /// A sample record of `b` clips of 2×4×4 frames; sample i is filled with value 10·i.
    func sample(_ roles: [String], labels: [Int?], soft: [[Double]?]? = nil) -> Record {
        let b = roles.count
        var payload: [UInt8] = []
        for i in 0..<b { payload += [UInt8](repeating: UInt8(10 * i), count: 2 * 4 * 4 * 3) }
        var h = JSONObject([("layout", "NTHWC"), ("roles", .array(roles.map { .string($0) })),
                            ("labels", .array(labels.map { $0.map { JSON($0) } ?? .null })), ("epoch", JSON(3))])
        if let soft { h["soft"] = .array(soft.map { $0.map { JSON($0) } ?? .null }) }
        return Record(kind: "sample", dtype: .u8, shape: [b, 2, 4, 4, 3], header: h, payload: payload)
    }

    func testBatchRowsAreInLossOrderAndChecked() throws {
        let r = sample(["unlabeled", "labeled", "labeled", "unlabeled"], labels: [nil, 1, 0, nil],
                       soft: [[0.5, 0.5], nil, [0.9, 0.1], nil])
        let b = try TrainingBatch(record: r, classes: 2, place: ("s", 0))
        XCTAssertEqual(b.labeled, 2)
        XCTAssertEqual(b.labeledSoft, 1)
        XCTAssertEqual(b.unlabeledSoft, 1)
        XCTAssertEqual(b.labels, [0, 1], "labeled with soft first")
        XCTAssertEqual(b.soft?.data, [0.9, 0.1, 0.5, 0.5])
        XCTAssertEqual(b.epoch, 3)
        // Row order 2, 1, 0, 3: the first pixel of each row tells which sample it is.
        let plane = 2 * 4 * 4
        let firsts = (0..<4).map { b.input.data[$0 * 3 * plane] }
        let expected = [2, 1, 0, 3].map { (Float(10 * $0) / 255 - PixelNormalization.mean) / PixelNormalization.std }
        for (x, y) in zip(firsts, expected) { XCTAssertEqual(x, y, accuracy: 1e-5) }

        XCTAssertThrowsError(try TrainingBatch(record: sample(["labeled"], labels: [5]), classes: 2, place: ("s", 7))) {
            XCTAssertEqual(($0 as? Failure)?.record, 7)
            XCTAssertTrue("\($0)".contains("label 5 is not a class of 0..<2"), "\($0)")
        }
        XCTAssertThrowsError(try TrainingBatch(record: sample(["labeled"], labels: [1], soft: [[1, 0, 0]]), classes: 2,
                                               place: ("s", 0)))
        var six = sample(["labeled"], labels: [0])
        six.shape = [1, 1, 2, 4, 4, 3]
        XCTAssertThrowsError(try TrainingBatch(record: six, classes: 2, place: ("s", 0))) {
            XCTAssertTrue("\($0)".contains("pretraining samples are for tb-teach"), "\($0)")
        }
    }

    func testStudentLossIsTheSumOfItsWeightedParts() throws {
        let model = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w4"), classes: 2, seed: 1)
        let r = sample(["labeled", "labeled", "unlabeled"], labels: [0, 1, nil], soft: [[0.7, 0.3], nil, [0.2, 0.8]])
        let b = try TrainingBatch(record: r, classes: 2, place: ("s", 0))
        // The same terms by hand on the same logits (before the update changes the weights).
        let tape = Tape(recording: false, training: true)
        let logits = clipLogits(model, b.input, tape).value
        func softmax(_ row: Int) -> [Double] {
            let x = [Double(logits.data[2 * row]), Double(logits.data[2 * row + 1])]
            let m = x.max()!, e = x.map { exp($0 - m) }
            return e.map { $0 / e.reduce(0, +) }
        }
        let ce = (-log(softmax(0)[0]) - log(softmax(1)[1])) / 2
        func mse(_ p: [Double], _ q: [Double]) -> Double { zip(p, q).map { ($0 - $1) * ($0 - $1) }.reduce(0, +) / 2 }
        let msel = mse(softmax(0), [0.7, 0.3]), mseu = mse(softmax(2), [0.2, 0.8])
        let trainer = Trainer(model: model, optimizer: try Adam(parameters: model.parameters, learningRate: 1e-3),
                              schedule: ConstantSchedule(1e-3))
        let parts = try trainer.step(b)
        XCTAssertEqual(parts.crossEntropy ?? 0, ce, accuracy: 1e-4)
        XCTAssertEqual(parts.mseLabeled ?? 0, msel, accuracy: 1e-5)
        XCTAssertEqual(parts.mseUnlabeled ?? 0, mseu, accuracy: 1e-5)
        XCTAssertEqual(parts.total, ce + 50 * msel + 100 * mseu, accuracy: 1e-3)
        let nothing = try TrainingBatch(record: sample(["unlabeled"], labels: [nil]), classes: 2, place: ("s", 0))
        XCTAssertThrowsError(try trainer.step(nothing))
    }

    /// Joint training: the target and auxiliary cross-entropies are kept apart and summed;
    /// a mixed row's loss is the cross-entropy against its mixed label distribution.
    func testJointLossSumsTheSourcesAndMixedTargets() throws {
        let model = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w4"), classes: 2, seed: 1)
        var r = sample(["aux", "labeled", "aux"], labels: [1, 0, 1])
        r.header["mix"] = .array([.null, .array([JSON(2), .double(0.25)]), .null])
        let b = try TrainingBatch(record: r, classes: 2, place: ("s", 0))
        XCTAssertEqual(b.labeled, 1)
        XCTAssertEqual(b.auxiliary, 2)
        XCTAssertEqual(b.auxLabels, [1, 1])
        XCTAssertEqual(b.labelTargets?.data, [0.25, 0.75])  // 0.25·onehot(0) + 0.75·onehot(1)
        XCTAssertNil(b.auxTargets)
        let tape = Tape(recording: false, training: true)
        let logits = clipLogits(model, b.input, tape).value
        func logSoftmax(_ row: Int) -> [Double] {
            let x = [Double(logits.data[2 * row]), Double(logits.data[2 * row + 1])]
            let m = x.max()!, z = log(x.map { exp($0 - m) }.reduce(0, +)) + m
            return x.map { $0 - z }
        }
        let ce = -0.25 * logSoftmax(0)[0] - 0.75 * logSoftmax(0)[1], ceAux = (-logSoftmax(1)[1] - logSoftmax(2)[1]) / 2
        let trainer = Trainer(model: model, optimizer: try Adam(parameters: model.parameters, learningRate: 1e-3),
                              schedule: ConstantSchedule(1e-3))
        let parts = try trainer.step(b)
        XCTAssertEqual(parts.crossEntropy ?? 0, ce, accuracy: 1e-4)
        XCTAssertEqual(parts.crossEntropyAux ?? 0, ceAux, accuracy: 1e-4)
        XCTAssertEqual(parts.total, ce + ceAux, accuracy: 1e-4)
    }

    func testStepMilestonesCountFromTheEndOfWarmUp() throws {
        let s = try makeSchedule(rate: 1, warmup: 2, cosineSteps: nil, milestones: [5, 3], gamma: 0.5)
        XCTAssertEqual(s.rate(at: 1), 0.5, accuracy: 1e-6)  // halfway up the warm-up
        XCTAssertEqual(s.rate(at: 2), 1)
        XCTAssertEqual(s.rate(at: 4), 1)
        XCTAssertEqual(s.rate(at: 5), 0.5)
        XCTAssertEqual(s.rate(at: 7), 0.25)
        XCTAssertEqual(s.rate(at: 100), 0.25)
        XCTAssertThrowsError(try makeSchedule(rate: 1, warmup: 0, cosineSteps: 10, milestones: [3]))
    }

    func testATinyNetworkLearnsBrightFromDark() throws {
        let model = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w4"), classes: 2, seed: 3)
        let trainer = Trainer(model: model, optimizer: try Adam(parameters: model.parameters, learningRate: 3e-3),
                              schedule: ConstantSchedule(3e-3))
        var g = SeededGenerator(seed: 5)
        func batch(_ n: Int) throws -> (TrainingBatch, [Int]) {
            var payload: [UInt8] = [], labels: [Int] = []
            for _ in 0..<n {
                let bright = g.next() % 2 == 0
                labels.append(bright ? 1 : 0)
                for _ in 0..<(2 * 8 * 8 * 3) { payload.append(UInt8((bright ? 150 : 40) + Int(g.next() % 60))) }
            }
            let h = JSONObject([("roles", .array(Array(repeating: "labeled", count: n))),
                                ("labels", .array(labels.map { JSON($0) }))])
            let r = Record(kind: "sample", dtype: .u8, shape: [n, 2, 8, 8, 3], header: h, payload: payload)
            return (try TrainingBatch(record: r, classes: 2, place: ("s", 0)), labels)
        }
        var first = 0.0, last = 0.0
        for i in 0..<40 {
            let parts = try trainer.step(try batch(8).0)
            if i == 0 { first = parts.total }
            last = parts.total
        }
        XCTAssertLessThan(last, first)
        let (test, labels) = try batch(16)
        var right = 0
        for i in 0..<16 {
            let clip = Tensor(shape: [1, 3, 2, 8, 8], data: Array(test.input.data[i * 384..<(i + 1) * 384]))
            let p = videoProbabilities(model, clips: clip)
            if (p[1] > p[0] ? 1 : 0) == test.labels[i] { right += 1 }
        }
        XCTAssertEqual(test.labels, labels)
        XCTAssertGreaterThanOrEqual(right, 15, "a bright/dark split is learnt")
    }

    func test2DNetworksAverageTheirFramesLogits() throws {
        let model = ResNet(spec: try ArchitectureSpec(parsing: "r2d10:w4"), classes: 3, seed: 2)
        var g = SeededGenerator(seed: 9)
        let clips = Tensor(randomNormal: [2, 3, 2, 16, 16], generator: &g)
        let tape = Tape(recording: false, training: false)
        let both = clipLogits(model, clips, tape).value
        for i in 0..<2 {
            var mean = [Float](repeating: 0, count: 3)
            for f in 0..<2 {
                var frame = [Float]()
                for c in 0..<3 {
                    let base = ((i * 3 + c) * 2 + f) * 256
                    frame += clips.data[base..<base + 256]
                }
                let l = model(tape.constant(Tensor(shape: [1, 3, 16, 16], data: frame)), tape).value
                for k in 0..<3 { mean[k] += l.data[k] / 2 }
            }
            for k in 0..<3 { XCTAssertEqual(both.data[i * 3 + k], mean[k], accuracy: 1e-4) }
        }
    }

    func testInitializeTakesWhatFitsAndRefusesANoOp() throws {
        let teacher = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w4"), classes: 5, seed: 1)
        let sink = MemorySink()
        try teacher.save(to: sink)
        let file = try SafeTensorsFile(bytes: sink.bytes, name: "teacher.safetensors")
        let student = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w4"), classes: 3, seed: 2)
        let report = try initialize(student, from: file)
        XCTAssertEqual(Set(report.kept), ["fc.weight", "fc.bias"])
        XCTAssertEqual(student.conv1.weight.value, teacher.conv1.weight.value)
        let other = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w8"), classes: 3, seed: 2)
        XCTAssertThrowsError(try initialize(other, from: file)) { XCTAssertEqual(($0 as? Failure)?.status, .dataError) }
    }

    func testTemporalSimilarityAndMixing() {
        XCTAssertEqual(TimeBalance.temporalSimilarity([[1, 2, 0], [2, 4, 0], [3, 6, 0]]), 1, accuracy: 1e-12)
        XCTAssertEqual(TimeBalance.temporalSimilarity([[1, 0], [0, 1]]), 0, accuracy: 1e-12)
        // Three clips: cos(a,b) = 1, cos(a,c) = cos(b,c) = 0 → (1 + 0 + 0) · 2 / 6.
        XCTAssertEqual(TimeBalance.temporalSimilarity([[1, 0], [2, 0], [0, 3]]), 1.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(TimeBalance.rescale([0.9, 0.95, 1.0]), [0, 0.5, 1], accuracy: 1e-12)
        XCTAssertEqual(TimeBalance.rescale([0.4, 0.4]), [0.5, 0.5])
        // Rank: an outlier moves nobody else; ties share their mean rank.
        XCTAssertEqual(TimeBalance.rankRescale([0.999, 0.2, 0.998, 0.9995]), [2.0 / 3, 0, 1.0 / 3, 1])
        XCTAssertEqual(TimeBalance.rankRescale([0.5, 0.7, 0.5]), [0.25, 1, 0.25])
        XCTAssertEqual(TimeBalance.rankRescale([0.3]), [0.5])
        XCTAssertEqual(TimeBalance.mix(invariant: [1, 0], distinctive: [0, 1], s: 0.25), [0.25, 0.75])
    }
}

private func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
