import XCTest
import TBCore
@testable import TBTensor

/// BatchNormKernels against PyTorch's formulas computed in Double, and backward against
/// central finite differences of a Double forward.
final class BatchNormTests: XCTestCase {
    func testTrainingForwardAndRunningStatistics() {
        for shape in [[3, 4, 2, 3, 5], [5, 3], [2, 2, 1, 7, 7]] {
            var g = SeededGenerator(seed: 11)
            let x = Tensor(randomNormal: shape, std: 2, generator: &g)
            let gamma = Tensor(randomNormal: [shape[1]], generator: &g)
            let beta = Tensor(randomNormal: [shape[1]], generator: &g)
            let meanBefore = Tensor(randomNormal: [shape[1]], generator: &g)
            let varianceBefore = Tensor(shape: [shape[1]], data: (0..<shape[1]).map { 0.5 + Float($0) })
            var runningMean = meanBefore, runningVariance = varianceBefore
            let (y, saved) = BatchNormKernels.forwardTraining(input: x, gamma: gamma, beta: beta,
                                                               runningMean: &runningMean,
                                                               runningVariance: &runningVariance)
            let values = channelValues(x)
            for c in 0..<shape[1] {
                let v = values[c].map(Double.init), n = Double(v.count)
                let mean = v.reduce(0, +) / n
                let biased = v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / n
                XCTAssertEqual(Double(saved.mean[c]), mean, accuracy: 1e-5)
                XCTAssertEqual(Double(saved.inverseStd[c]), 1 / (biased + 1e-5).squareRoot(), accuracy: 1e-4)
                XCTAssertEqual(Double(runningMean.data[c]), 0.9 * Double(meanBefore.data[c]) + 0.1 * mean, accuracy: 1e-5)
                XCTAssertEqual(Double(runningVariance.data[c]),
                               0.9 * Double(varianceBefore.data[c]) + 0.1 * biased * n / (n - 1), accuracy: 1e-5)
            }
            let expected = forwardDouble(x.data.map(Double.init), shape: shape, gamma: gamma.data.map(Double.init),
                                         beta: beta.data.map(Double.init))
            for i in 0..<x.count { XCTAssertEqual(Double(y.data[i]), expected[i], accuracy: 1e-4) }
        }
    }

    func testInferenceUsesRunningStatistics() {
        var g = SeededGenerator(seed: 12)
        let x = Tensor(randomNormal: [2, 3, 2, 2, 2], generator: &g)
        let gamma = Tensor(randomNormal: [3], generator: &g), beta = Tensor(randomNormal: [3], generator: &g)
        let mean = Tensor(shape: [3], data: [0.5, -1, 2]), variance = Tensor(shape: [3], data: [1, 0.25, 4])
        let y = BatchNormKernels.forwardInference(input: x, gamma: gamma, beta: beta, runningMean: mean,
                                                  runningVariance: variance)
        for i in 0..<x.count {
            let c = (i / 8) % 3
            let expected = (x.data[i] - mean.data[c]) / (variance.data[c] + 1e-5).squareRoot() * gamma.data[c]
                + beta.data[c]
            XCTAssertEqual(y.data[i], expected, accuracy: 1e-5)
        }
    }

    /// L = Σ r·y for a fixed random r, so dL/dy = r; gradients by (L(θ + h) − L(θ − h)) / 2h in Double.
    func testBackwardMatchesFiniteDifferences() {
        for shape in [[3, 2, 2, 2, 1], [4, 3]] {
            var g = SeededGenerator(seed: 13)
            let x = Tensor(randomNormal: shape, generator: &g)
            let gamma = Tensor(randomNormal: [shape[1]], generator: &g)
            let beta = Tensor(randomNormal: [shape[1]], generator: &g)
            let r = Tensor(randomNormal: shape, generator: &g)
            var runningMean = Tensor(zeros: [shape[1]]), runningVariance = Tensor(shape: [shape[1]], repeating: 1)
            let (_, saved) = BatchNormKernels.forwardTraining(input: x, gamma: gamma, beta: beta,
                                                              runningMean: &runningMean,
                                                              runningVariance: &runningVariance)
            let (dx, dGamma, dBeta) = BatchNormKernels.backward(gradOutput: r, input: x, gamma: gamma, saved: saved)
            var xs = x.data.map(Double.init), gs = gamma.data.map(Double.init), bs = beta.data.map(Double.init)
            let rs = r.data.map(Double.init)
            func loss() -> Double {
                zip(forwardDouble(xs, shape: shape, gamma: gs, beta: bs), rs).map { $0 * $1 }.reduce(0, +)
            }
            func derivative(_ v: inout [Double], _ i: Int) -> Double {
                let h = 1e-5, keep = v[i]
                v[i] = keep + h; let up = loss()
                v[i] = keep - h; let down = loss()
                v[i] = keep
                return (up - down) / (2 * h)
            }
            for i in 0..<xs.count { XCTAssertEqual(Double(dx.data[i]), derivative(&xs, i), accuracy: 1e-4, "dx[\(i)]") }
            for c in 0..<shape[1] {
                XCTAssertEqual(Double(dGamma.data[c]), derivative(&gs, c), accuracy: 1e-4, "dγ[\(c)]")
                XCTAssertEqual(Double(dBeta.data[c]), derivative(&bs, c), accuracy: 1e-4, "dβ[\(c)]")
            }
        }
    }

    /// Values of each channel of an [N, C, ...] tensor.
    func channelValues(_ x: Tensor) -> [[Float]] {
        let C = x.shape[1], volume = x.count / (x.shape[0] * C)
        var values = [[Float]](repeating: [], count: C)
        for i in 0..<x.count { values[(i / volume) % C].append(x.data[i]) }
        return values
    }

    /// Training-mode batch norm in Double, straight from the definition.
    func forwardDouble(_ x: [Double], shape: [Int], gamma: [Double], beta: [Double]) -> [Double] {
        let C = shape[1], volume = x.count / (shape[0] * C), n = Double(x.count / C)
        var mean = [Double](repeating: 0, count: C), variance = [Double](repeating: 0, count: C)
        for i in 0..<x.count { mean[(i / volume) % C] += x[i] / n }
        for i in 0..<x.count { let c = (i / volume) % C; variance[c] += (x[i] - mean[c]) * (x[i] - mean[c]) / n }
        return (0..<x.count).map { i in
            let c = (i / volume) % C
            return (x[i] - mean[c]) / (variance[c] + 1e-5).squareRoot() * gamma[c] + beta[c]
        }
    }
}

/// The vectorised channel sums against plain Double sums, over lengths around the 8-lane and
/// chunk boundaries.
final class ChannelSumsTests: XCTestCase {
    func testSumsMatchDouble() {
        var g = SeededGenerator(seed: 21)
        for n in [0, 1, 7, 8, 9, 255, 256, 257, 1000] {
            let x = Tensor(randomNormal: [max(n, 1)], std: 3, generator: &g).data
            let dy = Tensor(randomNormal: [max(n, 1)], generator: &g).data
            let y = Tensor(randomNormal: [max(n, 1)], generator: &g).data
            let center: Float = 0.5
            var sum = 0.0, squares = 0.0, masked = 0.0, maskedCentred = 0.0
            for i in 0..<n {
                sum += Double(x[i])
                squares += (Double(x[i]) - 0.5) * (Double(x[i]) - 0.5)
                if y[i] > 0 { masked += Double(dy[i]); maskedCentred += Double(dy[i]) * (Double(x[i]) - 0.5) }
            }
            x.withUnsafeBufferPointer { x in
                dy.withUnsafeBufferPointer { dy in
                    y.withUnsafeBufferPointer { y in
                        let p = x.baseAddress!, d = dy.baseAddress!, m = y.baseAddress!
                        XCTAssertEqual(ChannelSums.sum(p, n), sum, accuracy: 1e-4 * Double(n + 1))
                        XCTAssertEqual(ChannelSums.squares(p, n, center: center), squares, accuracy: 1e-4 * Double(n + 1))
                        let (s, sc) = ChannelSums.gradientSums(d, p, m, n, center: center)
                        XCTAssertEqual(s, masked, accuracy: 1e-4 * Double(n + 1))
                        XCTAssertEqual(sc, maskedCentred, accuracy: 1e-4 * Double(n + 1))
                    }
                }
            }
        }
    }
}
