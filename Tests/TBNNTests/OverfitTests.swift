// Tiny models must drive a tiny batch's loss to near zero with plain SGD (written inline:
// the optimizers live elsewhere). A wrong gradient sign or a lost accumulation shows up here
// as a loss that stalls.

import XCTest
import TBCore
import TBTensor
import TBNN

/// p ← p − lr·∇p, then zero the gradients.
func sgdStep(_ parameters: [Parameter], learningRate: Float) {
    for p in parameters {
        for i in 0..<p.value.count { p.value.data[i] -= learningRate * p.grad.data[i] }
        p.grad.zero()
    }
}

final class OverfitTests: XCTestCase {
    func testTwoLayerPerceptronOverfitsEightSamples() {
        var g = SeededGenerator(seed: 40)
        let x = Tensor(randomNormal: [8, 6], generator: &g) // [N, features]
        let labels = [0, 1, 2, 0, 1, 2, 1, 0]
        let w1 = Parameter(name: "fc1.weight", value: Tensor(randomUniform: [16, 6], bound: 0.4, generator: &g))
        let b1 = Parameter(name: "fc1.bias", value: Tensor(zeros: [16]))
        let w2 = Parameter(name: "fc2.weight", value: Tensor(randomUniform: [3, 16], bound: 0.25, generator: &g))
        let b2 = Parameter(name: "fc2.bias", value: Tensor(zeros: [3]))
        var first: Float = 0, last: Float = 0
        for step in 0..<400 {
            let t = Tape()
            let h = t.relu(t.linear(t.constant(x), weight: t.parameter(w1), bias: t.parameter(b1)))
            let loss = t.crossEntropy(t.linear(h, weight: t.parameter(w2), bias: t.parameter(b2)), labels: labels)
            t.backward(loss)
            sgdStep([w1, b1, w2, b2], learningRate: 0.5)
            if step == 0 { first = loss.value.scalar }
            last = loss.value.scalar
        }
        XCTAssertEqual(first, logf(3), accuracy: 0.5)
        XCTAssertLessThan(last, 0.01)
    }
}
