import XCTest
import TBCore
import TBNN
import TBTensor

/// torch.optim.Adam / AdamW's documented algorithm for one parameter, in Double, step by step.
private func adamReference(_ start: [Double], gradients: [[Double]], lr: Double, betas: (Double, Double) = (0.9, 0.999),
                           eps: Double = 1e-8, weightDecay: Double = 0, decoupled: Bool = false) -> [Double] {
    var theta = start
    var m = [Double](repeating: 0, count: start.count), v = m
    for (k, gradient) in gradients.enumerated() {
        let t = Double(k + 1)
        for j in theta.indices {
            var g = gradient[j]
            if decoupled { theta[j] *= 1 - lr * weightDecay } else { g += weightDecay * theta[j] }
            m[j] = betas.0 * m[j] + (1 - betas.0) * g
            v[j] = betas.1 * v[j] + (1 - betas.1) * g * g
            let mHat = m[j] / (1 - pow(betas.0, t)), vHat = v[j] / (1 - pow(betas.1, t))
            theta[j] -= lr * mHat / (vHat.squareRoot() + eps)
        }
    }
    return theta
}

final class AdamTests: XCTestCase {
    func testFirstStepMatchesHandComputedValue() throws {
        // Bias correction makes the first step m̂ = g, v̂ = g², so θ₁ = θ − η g / (|g| + ε):
        // 1 − 0.01 · 0.1 / (0.1 + 1e-8) = 0.990000001.
        let p = Parameter(name: "w", value: Tensor(shape: [1], data: [1]))
        let adam = try Adam(parameters: [p], learningRate: 0.01)
        p.grad = Tensor(shape: [1], data: [0.1])
        adam.step()
        XCTAssertEqual(p.value.data[0], 0.990000001, accuracy: 1e-6)
        // Second step, same gradient: m = 0.019, v = 1.999e-5, m̂ = 0.1, v̂ = 0.01: the same move again.
        adam.step()
        XCTAssertEqual(p.value.data[0], 0.980000002, accuracy: 1e-6)
    }

    func testAdamMatchesReference() throws {
        let (a, b) = twoParameterProblem()
        let adam = try Adam(parameters: [a, b], learningRate: 0.01)
        runFixedGradients(adam, a, b)
        assertValues(a.value, adamReference([1, -2], gradients: fixedWeightGradients, lr: 0.01))
        assertValues(b.value, adamReference([0.5], gradients: fixedBiasGradients, lr: 0.01))
        XCTAssertEqual(adam.stepCount, 4)
    }

    func testAdamWithL2WeightDecayAndOtherBetas() throws {
        let (a, b) = twoParameterProblem()
        let adam = try Adam(parameters: [a, b], learningRate: 0.05, betas: (0.8, 0.99), eps: 1e-6, weightDecay: 0.5)
        runFixedGradients(adam, a, b)
        assertValues(a.value, adamReference([1, -2], gradients: fixedWeightGradients, lr: 0.05, betas: (0.8, 0.99), eps: 1e-6,
                                           weightDecay: 0.5))
        assertValues(b.value, adamReference([0.5], gradients: fixedBiasGradients, lr: 0.05, betas: (0.8, 0.99), eps: 1e-6))
    }

    func testAdamWDecouplesWeightDecay() throws {
        let (a, b) = twoParameterProblem()
        let adamW = try Adam.adamW(parameters: [a, b], learningRate: 0.05, weightDecay: 0.5)
        XCTAssertEqual(adamW.kind, "adamw")
        runFixedGradients(adamW, a, b)
        let decoupled = adamReference([1, -2], gradients: fixedWeightGradients, lr: 0.05, weightDecay: 0.5, decoupled: true)
        assertValues(a.value, decoupled)
        assertValues(b.value, adamReference([0.5], gradients: fixedBiasGradients, lr: 0.05))
        // L2 decay in Adam is divided by √v̂ with the gradient; decoupled decay is not.
        let coupled = adamReference([1, -2], gradients: fixedWeightGradients, lr: 0.05, weightDecay: 0.5)
        XCTAssertGreaterThan(abs(decoupled[0] - coupled[0]), 1e-4)
    }

    func testAdamWDefaultsAreTorchs() throws {
        let p = Parameter(name: "w", value: Tensor(shape: [1], data: [1]))
        let adamW = try Adam.adamW(parameters: [p])
        XCTAssertEqual(adamW.learningRate, 1e-3)
        XCTAssertEqual(adamW.weightDecay, 0.01)
        XCTAssertEqual(adamW.beta1, 0.9)
        XCTAssertEqual(adamW.beta2, 0.999)
        XCTAssertEqual(adamW.eps, 1e-8)
        XCTAssertEqual(try Adam(parameters: [p]).weightDecay, 0)
    }

    func testFrozenParameterIsUntouchedAndStartsItsOwnCountWhenUnfrozen() throws {
        let (a, b) = twoParameterProblem()
        b.requiresGrad = false
        let adam = try Adam(parameters: [a, b], learningRate: 0.01)
        runFixedGradients(adam, a, b, steps: 0..<2)
        XCTAssertEqual(b.value.data, [0.5])
        XCTAssertNil(adam.state.counters["step.layer.bias"])
        // Unfrozen, the bias is on its own first step: bias correction as for t = 1, as PyTorch.
        b.requiresGrad = true
        runFixedGradients(adam, a, b, steps: 2..<4)
        assertValues(b.value, adamReference([0.5], gradients: Array(fixedBiasGradients[2..<4]), lr: 0.01))
        assertValues(a.value, adamReference([1, -2], gradients: fixedWeightGradients, lr: 0.01))
        XCTAssertEqual(adam.state.counters, ["step.layer.weight": 4, "step.layer.bias": 2])
    }

    func testRefusesBadHyperparameters() {
        let (a, _) = twoParameterProblem()
        func status(_ make: () throws -> Adam) -> ExitStatus? {
            do { _ = try make(); return nil } catch { return (error as? Failure)?.status }
        }
        XCTAssertEqual(status { try Adam(parameters: [a], learningRate: -1) }, .usage)
        XCTAssertEqual(status { try Adam(parameters: [a], betas: (1, 0.999)) }, .usage)
        XCTAssertEqual(status { try Adam(parameters: [a], betas: (0.9, -0.1)) }, .usage)
        XCTAssertEqual(status { try Adam(parameters: [a], eps: -1) }, .usage)
        XCTAssertEqual(status { try Adam.adamW(parameters: [a], weightDecay: -0.01) }, .usage)
    }
}
