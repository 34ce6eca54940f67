import XCTest
import TBCore
import TBTensor
@testable import TBNN

/// Fused ops against the ops they fuse: batchNorm(relu: true) against relu(batchNorm), addReLU
/// against relu(add). The unfused ops are gradient-checked elsewhere, so agreement in value and
/// in every gradient checks the fused ones (whose kink would trip a finite-difference check).
final class FusedOpTests: XCTestCase {
    /// Value and gradients of `op` on fresh variables for `inputs`, seeded with `seed`.
    func run(_ inputs: [Tensor], seed: Tensor, training: Bool = true,
             _ op: (Tape, [Variable]) -> Variable) -> (Tensor, [Tensor?]) {
        let tape = Tape(recording: true, training: training)
        let vars = inputs.map { tape.variable($0) }
        let y = op(tape, vars)
        tape.backward(y, seed: seed)
        return (y.value, vars.map(\.grad))
    }

    func assertSame(_ a: (Tensor, [Tensor?]), _ b: (Tensor, [Tensor?]), _ name: String) {
        XCTAssertEqual(a.0.shape, b.0.shape, name)
        XCTAssertLessThanOrEqual(a.0.maxRelativeDifference(b.0, floor: 1e-3), 1e-5, name + " value")
        for (i, (ga, gb)) in zip(a.1, b.1).enumerated() {
            guard let ga, let gb else { XCTFail("\(name): no gradient for input \(i)"); continue }
            XCTAssertLessThanOrEqual(ga.maxRelativeDifference(gb, floor: 1e-3), 1e-4, "\(name) gradient \(i)")
        }
    }

    func testBatchNormReLU() {
        for (shape, training) in [([4, 3, 2, 3, 3], true), ([3, 5], true), ([2, 3, 70], true), ([4, 3, 2, 3, 3], false)] {
            let c = shape[1]
            let inputs = [randomTensor(shape, seed: 71), randomTensor([c], seed: 72), randomTensor([c], seed: 73)]
            let seed = randomTensor(shape, seed: 74)
            func norm(_ relu: Bool) -> (Tape, [Variable]) -> Variable {
                let mean = Buffer(name: "running_mean", value: Tensor(shape: [c], repeating: 0.2))
                let variance = Buffer(name: "running_var", value: Tensor(shape: [c], repeating: 0.7))
                return { t, v in
                    let y = t.batchNorm(v[0], gamma: v[1], beta: v[2], runningMean: mean, runningVar: variance,
                                        relu: relu)
                    return relu ? y : t.relu(y)
                }
            }
            assertSame(run(inputs, seed: seed, training: training, norm(true)),
                       run(inputs, seed: seed, training: training, norm(false)), "batchNorm \(shape) \(training)")
        }
    }

    func testAddReLU() {
        let inputs = [randomTensor([3, 4, 5], seed: 75), randomTensor([3, 4, 5], seed: 76)]
        let seed = randomTensor([3, 4, 5], seed: 77)
        assertSame(run(inputs, seed: seed) { t, v in t.addReLU(v[0], v[1]) },
                   run(inputs, seed: seed) { t, v in t.relu(t.add(v[0], v[1])) }, "addReLU")
    }
}
