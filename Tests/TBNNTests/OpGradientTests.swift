// Every op's backward against central differences (GradientCheck), one test per op family.

import XCTest
import TBCore
import TBTensor
@testable import TBNN

final class OpGradientTests: XCTestCase {
    func testReLU() {
        let r = GradientCheck.run(inputs: [awayFromZero([3, 7], seed: 1)]) { t, v in t.relu(v[0]) }
        assertGradientsMatch(r, "relu")
    }

    func testAddAndScale() {
        let r = GradientCheck.run(inputs: [randomTensor([2, 5], seed: 2), randomTensor([10], seed: 3)]) { t, v in
            t.scale(t.add(v[0], v[1]), -1.5)
        }
        assertGradientsMatch(r, "add, scale")
    }

    func testAddOfAVariableToItselfCountsTwice() {
        let r = GradientCheck.run(inputs: [randomTensor([4], seed: 4)]) { t, v in t.add(v[0], v[0]) }
        assertGradientsMatch(r, "add(x, x)")
    }

    func testDropoutGradientAndScaling() {
        let x = randomTensor([4, 25], seed: 5)
        let r = GradientCheck.run(inputs: [x]) { t, v in
            var g = SeededGenerator(seed: 9) // same mask in every evaluation
            return t.dropout(v[0], p: 0.3, generator: &g)
        }
        assertGradientsMatch(r, "dropout")
        // Kept values are scaled by 1/(1 − p); about p of them are dropped.
        let tape = Tape()
        var g = SeededGenerator(seed: 10)
        let y = tape.dropout(tape.constant(Tensor(shape: [10000], repeating: 1)), p: 0.3, generator: &g)
        let kept = y.value.data.filter { $0 != 0 }
        XCTAssertEqual(Float(kept.count) / 10000, 0.7, accuracy: 0.02)
        XCTAssertTrue(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 })
    }

    func testDropoutIsIdentityWhenNotTraining() {
        let tape = Tape(recording: false)
        XCTAssertFalse(tape.training)
        var g = SeededGenerator(seed: 1)
        let x = tape.constant(randomTensor([8], seed: 1))
        let before = g
        XCTAssertTrue(tape.dropout(x, p: 0.5, generator: &g) === x)
        XCTAssertEqual(g, before, "evaluation draws no random numbers")
    }

    func testReshapeAndFlatten() {
        let tape = Tape()
        XCTAssertEqual(tape.flatten(tape.constant(Tensor(zeros: [2, 3, 4]))).shape, [2, 12])
        // Softmax after the reshape makes the gradient depend on where each value lands.
        let s = GradientCheck.run(inputs: [randomTensor([2, 3, 4], seed: 6)]) { t, v in
            t.softmax(t.reshape(t.flatten(v[0]), [4, 6]))
        }
        assertGradientsMatch(s, "reshape, flatten")
    }

    func testSliceAndConcat() {
        let x = randomTensor([2, 5, 3], seed: 7)
        let tape = Tape()
        let s = tape.slice(tape.constant(x), axis: 1, 1..<3)
        XCTAssertEqual(s.shape, [2, 2, 3])
        XCTAssertEqual(Array(s.value.data[0..<6]), Array(x.data[3..<9]))
        XCTAssertEqual(Array(s.value.data[6..<12]), Array(x.data[18..<24]))
        let joined = tape.concat([tape.slice(tape.constant(x), axis: 1, 0..<2),
                                  tape.slice(tape.constant(x), axis: 1, 2..<5)], axis: 1)
        XCTAssertEqual(joined.value, x)

        let r = GradientCheck.run(inputs: [x, randomTensor([2, 1, 3], seed: 8)]) { t, v in
            // Overlapping slices of the same input accumulate; the second input joins in the middle.
            t.concat([t.slice(v[0], axis: 1, 0..<3), v[1], t.slice(v[0], axis: 1, 2..<5)], axis: 1)
        }
        assertGradientsMatch(r, "slice, concat axis 1")
        let r0 = GradientCheck.run(inputs: [x, randomTensor([1, 5, 3], seed: 9)]) { t, v in
            t.concat([t.slice(v[0], axis: 0, 1..<2), v[1]], axis: 0)
        }
        assertGradientsMatch(r0, "slice, concat axis 0")
    }

    func testLinear() {
        let inputs = [randomTensor([4, 6], seed: 10), randomTensor([3, 6], seed: 11), randomTensor([3], seed: 12)]
        let r = GradientCheck.run(inputs: inputs) { t, v in t.linear(v[0], weight: v[1], bias: v[2]) }
        assertGradientsMatch(r, "linear")
        let noBias = GradientCheck.run(inputs: Array(inputs[0..<2])) { t, v in t.linear(v[0], weight: v[1]) }
        assertGradientsMatch(noBias, "linear without bias")
        // y = x Wᵀ + b by hand for one entry.
        let tape = Tape()
        let y = tape.linear(tape.constant(inputs[0]), weight: tape.constant(inputs[1]), bias: tape.constant(inputs[2]))
        var expected = inputs[2].data[2]
        for i in 0..<6 { expected += inputs[0].data[1 * 6 + i] * inputs[1].data[2 * 6 + i] }
        XCTAssertEqual(y.value.data[1 * 3 + 2], expected, accuracy: 1e-5)
    }

    func testMatmul() {
        let a = randomTensor([3, 4], seed: 13), b = randomTensor([4, 5], seed: 14), bt = randomTensor([5, 4], seed: 15)
        assertGradientsMatch(GradientCheck.run(inputs: [a, b]) { t, v in t.matmul(v[0], v[1]) }, "matmul")
        assertGradientsMatch(GradientCheck.run(inputs: [a, bt]) { t, v in t.matmul(v[0], v[1], transposeB: true) },
                             "matmul transposed")
        // z·zᵀ with the same variable on both sides (a similarity matrix).
        assertGradientsMatch(GradientCheck.run(inputs: [a]) { t, v in t.matmul(v[0], v[0], transposeB: true) },
                             "z zᵀ")
    }

    func testSoftmax() {
        let r = GradientCheck.run(inputs: [randomTensor([3, 5], seed: 16, std: 2)]) { t, v in t.softmax(v[0]) }
        assertGradientsMatch(r, "softmax")
        let tape = Tape()
        let p = tape.softmax(tape.constant(Tensor(shape: [2, 3], data: [0, 0, 0, 1000, -.infinity, 1000])))
        XCTAssertEqual(p.value.data, [1 / 3, 1 / 3, 1 / 3, 0.5, 0, 0.5])
        let masked = tape.softmax(tape.constant(Tensor(shape: [1, 2], repeating: -.infinity)))
        XCTAssertEqual(masked.value.data, [0, 0], "a fully masked row gives zeros, not NaN")
    }

    func testL2Normalize() {
        let r = GradientCheck.run(inputs: [randomTensor([4, 6], seed: 17)]) { t, v in t.l2Normalize(v[0]) }
        assertGradientsMatch(r, "l2Normalize [N, C]")
        let r3 = GradientCheck.run(inputs: [randomTensor([2, 3, 4], seed: 18)]) { t, v in t.l2Normalize(v[0]) }
        assertGradientsMatch(r3, "l2Normalize [N, C, S]")
        let tape = Tape()
        let y = tape.l2Normalize(tape.constant(Tensor(shape: [2, 2], data: [3, 4, 0, 0])))
        XCTAssertEqual(y.value.data, [0.6, 0.8, 0, 0], "F.normalize leaves a zero vector at zero")
    }

    func testConv3DAndConv2D() {
        let x = randomTensor([2, 3, 4, 5, 5], seed: 19), w = randomTensor([4, 3, 3, 3, 3], seed: 20, std: 0.3)
        let g = ConvGeometry(kernel: (3, 3, 3), stride: (1, 2, 2), padding: (1, 1, 1))
        assertGradientsMatch(GradientCheck.run(inputs: [x, w]) { t, v in t.conv3d(v[0], weight: v[1], geometry: g) },
                             "conv3d")
        let x2 = randomTensor([2, 3, 6, 6], seed: 21), w2 = randomTensor([2, 3, 3, 3], seed: 22, std: 0.3)
        let r2 = GradientCheck.run(inputs: [x2, w2]) { t, v in
            t.conv3d(v[0], weight: v[1], geometry: .square2D(kernel: 3, stride: 2, padding: 1))
        }
        assertGradientsMatch(r2, "conv2d")
        let tape = Tape()
        XCTAssertEqual(tape.conv3d(tape.constant(x2), weight: tape.constant(w2),
                                   geometry: .square2D(kernel: 3, stride: 2, padding: 1)).shape, [2, 2, 3, 3])
    }

    func testTheCheckCatchesAWrongBackward() {
        // An op whose backward forgets a factor 2: the check must fail it.
        let r = GradientCheck.run(inputs: [randomTensor([5], seed: 23)]) { t, v in
            let x = v[0]
            return t.result(scaled(x.value, 2), inputs: [x]) { dy in x.accumulate(dy) }
        }
        XCTAssertGreaterThan(r[0].worstError, 0.4)
    }
}
