// Pooling and batch norm ops: gradients against finite differences, values by hand, and the
// running statistics batch norm keeps.

import XCTest
import TBTensor
import TBNN

final class PoolBatchNormGradientTests: XCTestCase {
    func testMaxPool() {
        // Distinct values 0.05 apart: a ±0.01 step never changes a window's winner.
        let g = ConvGeometry(kernel: (3, 3, 3), stride: (2, 2, 2), padding: (1, 1, 1))
        let r = GradientCheck.run(inputs: [distinctValues([2, 2, 4, 5, 5], seed: 50)]) { t, v in
            t.maxPool3d(v[0], geometry: g)
        }
        assertGradientsMatch(r, "maxPool3d")
        let r2 = GradientCheck.run(inputs: [distinctValues([2, 3, 6, 6], seed: 51)]) { t, v in
            t.maxPool3d(v[0], geometry: .square2D(kernel: 3, stride: 2, padding: 1))
        }
        assertGradientsMatch(r2, "maxPool 2D")
        let tape = Tape()
        let y = tape.maxPool3d(tape.constant(Tensor(shape: [1, 1, 2, 2], data: [1, 4, 3, 2])),
                               geometry: .square2D(kernel: 2, stride: 2))
        XCTAssertEqual(y.shape, [1, 1, 1, 1])
        XCTAssertEqual(y.value.data, [4])
    }

    func testAvgPoolCountsPaddingInTheDivisor() {
        let g = ConvGeometry(kernel: (1, 3, 3), stride: (1, 1, 1), padding: (0, 1, 1))
        let r = GradientCheck.run(inputs: [randomTensor([2, 2, 3, 4, 4], seed: 52)]) { t, v in
            t.avgPool3d(v[0], geometry: g)
        }
        assertGradientsMatch(r, "avgPool3d")
        // 2×2 plane, 3×3 window with padding 1: every output sees all four values, divided by 9.
        let tape = Tape()
        let y = tape.avgPool3d(tape.constant(Tensor(shape: [1, 1, 2, 2], data: [1, 2, 3, 4])),
                               geometry: .square2D(kernel: 3, stride: 1, padding: 1))
        XCTAssertEqual(y.value.data, [Float](repeating: 10.0 / 9, count: 4))
    }

    func testGlobalAvgPool() {
        for shape in [[2, 3, 2, 3, 3], [2, 3, 4, 4], [2, 3, 5]] {
            let r = GradientCheck.run(inputs: [randomTensor(shape, seed: 53)]) { t, v in t.globalAvgPool(v[0]) }
            assertGradientsMatch(r, "globalAvgPool \(shape)")
        }
        let tape = Tape()
        let y = tape.globalAvgPool(tape.constant(Tensor(shape: [1, 2, 1, 2], data: [1, 3, 5, 9])))
        XCTAssertEqual(y.shape, [1, 2])
        XCTAssertEqual(y.value.data, [2, 7])
    }

    func testBatchNormTrainingGradients() {
        for shape in [[4, 3, 2, 3, 3], [3, 2, 4, 4], [6, 4]] {
            let c = shape[1]
            let inputs = [randomTensor(shape, seed: 54), randomTensor([c], seed: 55), randomTensor([c], seed: 56)]
            let mean = Buffer(name: "running_mean", value: Tensor(zeros: [c]))
            let variance = Buffer(name: "running_var", value: Tensor(shape: [c], repeating: 1))
            let r = GradientCheck.run(inputs: inputs) { t, v in
                t.batchNorm(v[0], gamma: v[1], beta: v[2], runningMean: mean, runningVar: variance)
            }
            assertGradientsMatch(r, "batchNorm training \(shape)")
        }
    }

    func testBatchNormEvaluationGradients() {
        let inputs = [randomTensor([3, 2, 2, 3, 3], seed: 57), randomTensor([2], seed: 58), randomTensor([2], seed: 59)]
        let mean = Buffer(name: "running_mean", value: Tensor(shape: [2], data: [0.3, -0.2]))
        let variance = Buffer(name: "running_var", value: Tensor(shape: [2], data: [0.5, 2]))
        let r = GradientCheck.run(inputs: inputs, training: false) { t, v in
            t.batchNorm(v[0], gamma: v[1], beta: v[2], runningMean: mean, runningVar: variance)
        }
        assertGradientsMatch(r, "batchNorm evaluation")
        XCTAssertEqual(mean.value.data, [0.3, -0.2], "evaluation leaves the running statistics alone")
        // y = (x − μ)/√(σ² + ε)·γ + β for the first value.
        let tape = Tape(recording: false)
        let y = tape.batchNorm(tape.constant(inputs[0]), gamma: tape.constant(inputs[1]), beta: tape.constant(inputs[2]),
                               runningMean: mean, runningVar: variance)
        let expected = (inputs[0].data[0] - 0.3) / (0.5 + 1e-5).squareRoot() * inputs[1].data[0] + inputs[2].data[0]
        XCTAssertEqual(y.value.data[0], expected, accuracy: 1e-5)
    }

    func testBatchNormTrainingMovesRunningStatisticsEvenWithoutRecording() {
        // One channel of values 1, 2, 3, 6: mean 3, unbiased variance (4 + 1 + 0 + 9)/3 = 14/3.
        let mean = Buffer(name: "running_mean", value: Tensor(zeros: [1]))
        let variance = Buffer(name: "running_var", value: Tensor(shape: [1], repeating: 1))
        let tape = Tape(recording: false, training: true)
        let y = tape.batchNorm(tape.constant(Tensor(shape: [4, 1], data: [1, 2, 3, 6])),
                               gamma: tape.constant(Tensor(shape: [1], repeating: 1)),
                               beta: tape.constant(Tensor(zeros: [1])), runningMean: mean, runningVar: variance)
        XCTAssertEqual(mean.value.data[0], 0.3, accuracy: 1e-6)
        XCTAssertEqual(variance.value.data[0], 0.9 + 0.1 * 14 / 3, accuracy: 1e-6)
        // Normalised with the biased variance 14/4.
        XCTAssertEqual(y.value.data[3], 3 / (3.5 + 1e-5).squareRoot(), accuracy: 1e-5)
        XCTAssertEqual(tape.recordedCount, 0)
    }
}
