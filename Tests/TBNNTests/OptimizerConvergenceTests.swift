import XCTest
import TBNN
import TBTensor

/// ‖Ax − b‖² for a symmetric, well-conditioned A whose minimum is 0 at x* = A⁻¹b;
/// x is split over two parameters as a model's weight and bias would be.
private struct Quadratic {
    let a: [[Double]] = [[3, 1, 0], [1, 2, 0.5], [0, 0.5, 1]]
    let b: [Double] = [1, -2, 0.5]

    func residual(_ x: [Double]) -> [Double] {
        (0..<3).map { i in (0..<3).reduce(-b[i]) { $0 + a[i][$1] * x[$1] } }
    }

    func loss(_ x: [Double]) -> Double { residual(x).reduce(0) { $0 + $1 * $1 } }

    /// 2Aᵀ(Ax − b).
    func gradient(_ x: [Double]) -> [Double] {
        let r = residual(x)
        return (0..<3).map { j in 2 * (0..<3).reduce(0) { $0 + a[$1][j] * r[$1] } }
    }
}

final class OptimizerConvergenceTests: XCTestCase {
    /// Runs `steps` steps from x = 0 with the rate from `schedule`; returns the final loss.
    private func minimise(_ make: ([Parameter]) throws -> Optimizer, schedule: LearningRateSchedule,
                          steps: Int) throws -> Double {
        let weight = Parameter(name: "weight", value: Tensor(zeros: [2]))
        let bias = Parameter(name: "bias", value: Tensor(zeros: [1]))
        let optimizer = try make([weight, bias])
        let problem = Quadratic()
        func x() -> [Double] { (weight.value.data + bias.value.data).map(Double.init) }
        XCTAssertGreaterThan(problem.loss(x()), 1)
        for _ in 0..<steps {
            optimizer.learningRate = schedule.rate(at: optimizer.stepCount)
            optimizer.zeroGrad()
            let g = problem.gradient(x()).map(Float.init)
            weight.grad.data = Array(g[0..<2])
            bias.grad.data = [g[2]]
            optimizer.step()
        }
        return problem.loss(x())
    }

    func testSGDWithMomentumConverges() throws {
        let loss = try minimise({ try SGD(parameters: $0, learningRate: 0.01, momentum: 0.9) },
                                schedule: ConstantSchedule(0.01), steps: 600)
        XCTAssertLessThan(loss, 1e-8)
    }

    func testNesterovConverges() throws {
        let loss = try minimise({ try SGD(parameters: $0, learningRate: 0.01, momentum: 0.9, nesterov: true) },
                                schedule: ConstantSchedule(0.01), steps: 600)
        XCTAssertLessThan(loss, 1e-8)
    }

    func testAdamConverges() throws {
        // Adam's steps stay about the rate long, so the rate must decay for it to settle.
        let schedule = try WarmupSchedule(steps: 20, then: CosineSchedule(base: 0.05, minimum: 0, steps: 1980))
        let loss = try minimise({ try Adam(parameters: $0) }, schedule: schedule, steps: 2000)
        XCTAssertLessThan(loss, 1e-6)
    }

    func testAdamWConvergesWithoutDecay() throws {
        let schedule = try CosineSchedule(base: 0.05, minimum: 0, steps: 2000)
        let loss = try minimise({ try Adam.adamW(parameters: $0, weightDecay: 0) }, schedule: schedule, steps: 2000)
        XCTAssertLessThan(loss, 1e-6)
    }
}
