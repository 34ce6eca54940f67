import XCTest
import TBCore
import TBNN
import TBTensor

/// torch.optim.SGD's documented algorithm for one parameter, in Double, step by step.
private func sgdReference(_ start: [Double], gradients: [[Double]], lr: Double, momentum: Double = 0,
                          dampening: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) -> [Double] {
    var theta = start
    var buffer: [Double]? = nil
    for g in gradients {
        var d = zip(g, theta).map { $0 + weightDecay * $1 }
        if momentum != 0 {
            let b = buffer.map { zip($0, d).map { momentum * $0 + (1 - dampening) * $1 } } ?? d
            buffer = b
            d = nesterov ? zip(d, b).map { $0 + momentum * $1 } : b
        }
        theta = zip(theta, d).map { $0 - lr * $1 }
    }
    return theta
}

final class SGDTests: XCTestCase {
    func testMomentumMatchesHandComputedSteps() throws {
        // θ = 1, g = 0.1, λ = 0.01, μ = 0.9, η = 0.1: d₁ = 0.11 = b₁, θ₁ = 0.989;
        // d₂ = 0.1 + 0.00989 = 0.10989, b₂ = 0.099 + 0.10989 = 0.20889, θ₂ = 0.968111.
        let p = Parameter(name: "w", value: Tensor(shape: [1], data: [1]))
        let sgd = try SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        p.grad = Tensor(shape: [1], data: [0.1])
        sgd.step()
        XCTAssertEqual(p.value.data[0], 0.989, accuracy: 1e-6)
        sgd.step()
        XCTAssertEqual(p.value.data[0], 0.968111, accuracy: 1e-6)
        XCTAssertEqual(sgd.stepCount, 2)
    }

    func testNesterovMatchesHandComputedStep() throws {
        // First step: b₁ = d₁ = 0.11, d = 0.11 + 0.9 · 0.11 = 0.209, θ₁ = 1 − 0.0209 = 0.9791.
        let p = Parameter(name: "w", value: Tensor(shape: [1], data: [1]))
        let sgd = try SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        p.grad = Tensor(shape: [1], data: [0.1])
        sgd.step()
        XCTAssertEqual(p.value.data[0], 0.9791, accuracy: 1e-6)
    }

    func testMomentumMatchesReference() throws {
        let (a, b) = twoParameterProblem()
        let sgd = try SGD(parameters: [a, b], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        runFixedGradients(sgd, a, b)
        assertValues(a.value, sgdReference([1, -2], gradients: fixedWeightGradients, lr: 0.1, momentum: 0.9, weightDecay: 0.01))
        // The bias does not decay.
        assertValues(b.value, sgdReference([0.5], gradients: fixedBiasGradients, lr: 0.1, momentum: 0.9))
    }

    func testNesterovMatchesReferenceAndDiffersFromPlainMomentum() throws {
        let (a, b) = twoParameterProblem()
        let sgd = try SGD(parameters: [a, b], learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01)
        runFixedGradients(sgd, a, b)
        let nesterov = sgdReference([1, -2], gradients: fixedWeightGradients, lr: 0.1, momentum: 0.9, nesterov: true,
                                    weightDecay: 0.01)
        let plain = sgdReference([1, -2], gradients: fixedWeightGradients, lr: 0.1, momentum: 0.9, weightDecay: 0.01)
        assertValues(a.value, nesterov)
        assertValues(b.value, sgdReference([0.5], gradients: fixedBiasGradients, lr: 0.1, momentum: 0.9, nesterov: true))
        // Nesterov looks one momentum step ahead, so it moves further along a steady gradient.
        XCTAssertGreaterThan(abs(Double(a.value.data[0]) - plain[0]), 1e-3)
    }

    func testDampeningAndPlainDescent() throws {
        let (a, b) = twoParameterProblem()
        let damped = try SGD(parameters: [a, b], learningRate: 0.05, momentum: 0.8, dampening: 0.3, weightDecay: 0.1)
        runFixedGradients(damped, a, b)
        assertValues(a.value, sgdReference([1, -2], gradients: fixedWeightGradients, lr: 0.05, momentum: 0.8, dampening: 0.3,
                                          weightDecay: 0.1))

        let (c, d) = twoParameterProblem()
        let plain = try SGD(parameters: [c, d], learningRate: 0.05, weightDecay: 0.1)
        runFixedGradients(plain, c, d)
        assertValues(c.value, sgdReference([1, -2], gradients: fixedWeightGradients, lr: 0.05, weightDecay: 0.1))
        assertValues(d.value, sgdReference([0.5], gradients: fixedBiasGradients, lr: 0.05))
        XCTAssertEqual(plain.state.buffers, [:], "no momentum, no buffers")
    }

    func testFrozenParameterIsUntouched() throws {
        let (a, b) = twoParameterProblem()
        b.requiresGrad = false
        let sgd = try SGD(parameters: [a, b], learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        runFixedGradients(sgd, a, b)
        XCTAssertEqual(b.value.data, [0.5])
        XCTAssertNil(sgd.state.buffers["momentum_buffer.layer.bias"])
        assertValues(a.value, sgdReference([1, -2], gradients: fixedWeightGradients, lr: 0.1, momentum: 0.9, weightDecay: 0.01))
    }

    func testZeroGradClearsEveryGradient() throws {
        let (a, b) = twoParameterProblem()
        a.grad = Tensor(shape: [2], data: [1, 2])
        b.grad = Tensor(shape: [1], data: [3])
        try SGD(parameters: [a, b], learningRate: 0.1).zeroGrad()
        XCTAssertEqual(a.grad.data, [0, 0])
        XCTAssertEqual(b.grad.data, [0])
    }

    func testRefusesBadHyperparameters() {
        let (a, b) = twoParameterProblem()
        func status(_ make: () throws -> SGD) -> ExitStatus? {
            do { _ = try make(); return nil } catch { return (error as? Failure)?.status }
        }
        XCTAssertEqual(status { try SGD(parameters: [a], learningRate: -1) }, .usage)
        XCTAssertEqual(status { try SGD(parameters: [a], learningRate: 0.1, momentum: -0.5) }, .usage)
        XCTAssertEqual(status { try SGD(parameters: [a], learningRate: 0.1, nesterov: true) }, .usage)
        XCTAssertEqual(status { try SGD(parameters: [a], learningRate: 0.1, momentum: 0.9, dampening: 0.1,
                                        nesterov: true) }, .usage)
        XCTAssertEqual(status { try SGD(parameters: [a], learningRate: 0.1, weightDecay: -1) }, .usage)
        let twin = Parameter(name: b.name, value: b.value)
        XCTAssertEqual(status { try SGD(parameters: [b, twin], learningRate: 0.1) }, .software)
    }
}
