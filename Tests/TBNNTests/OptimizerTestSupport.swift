import XCTest
import TBNN
import TBTensor

// The small problem the optimizer tests share: a weight [1, −2] that decays and a bias [0.5]
// that does not, with four steps of fixed gradients whose signs and sizes change, so that
// mixing up which gradient enters a buffer shows.

let fixedWeightGradients: [[Double]] = [[0.1, -0.3], [-0.2, 0.4], [0.05, 0.25], [0.3, -0.1]]
let fixedBiasGradients: [[Double]] = [[2.0], [1.5], [-1.0], [0.5]]

/// The weight and the bias, named as a layer's.
func twoParameterProblem() -> (weight: Parameter, bias: Parameter) {
    let weight = Parameter(name: "layer.weight", value: Tensor(shape: [2], data: [1, -2]))
    let bias = Parameter(name: "layer.bias", value: Tensor(shape: [1], data: [0.5]))
    bias.decays = false  // as biases and batch norm usually are
    return (weight, bias)
}

/// Steps `optimizer` over the fixed gradients, setting them as a backward pass would.
func runFixedGradients(_ optimizer: Optimizer, _ weight: Parameter, _ bias: Parameter, steps: Range<Int> = 0..<4) {
    for k in steps {
        optimizer.zeroGrad()
        weight.grad = Tensor(shape: [2], data: fixedWeightGradients[k].map(Float.init))
        bias.grad = Tensor(shape: [1], data: fixedBiasGradients[k].map(Float.init))
        optimizer.step()
    }
}

/// Each value within `tolerance` of the Double reference.
func assertValues(_ actual: Tensor, _ expected: [Double], tolerance: Double = 1e-6,
                  file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, file: file, line: line)
    for (x, y) in zip(actual.data, expected) {
        XCTAssertEqual(Double(x), y, accuracy: tolerance, "\(actual.data) vs \(expected)", file: file, line: line)
    }
}
