// Loss values against hand calculations, and their gradients against finite differences.

import XCTest
import Foundation
import TBTensor
import TBNN

final class LossTests: XCTestCase {
    private func value(_ build: (Tape) -> Variable) -> Float { build(Tape()).value.scalar }

    func testCrossEntropyOfUniformLogitsIsLogK() {
        let loss = value { t in t.crossEntropy(t.constant(Tensor(zeros: [3, 5])), labels: [0, 4, 2]) }
        XCTAssertEqual(loss, logf(5), accuracy: 1e-6)
        let smoothed = value { t in
            t.crossEntropy(t.constant(Tensor(zeros: [3, 5])), labels: [0, 4, 2], labelSmoothing: 0.2)
        }
        XCTAssertEqual(smoothed, logf(5), accuracy: 1e-6)
    }

    func testCrossEntropyByHandWithAndWithoutSmoothing() {
        // Row [0, 0, ln 2]: softmax [1/4, 1/4, 1/2]. Label 2: −log ½ = ln 2.
        // Smoothing ε = 0.3 (PyTorch): (1 − ε)·ln 2 + ε/3·(ln 4 + ln 4 + ln 2) = 1.2·ln 2.
        let logits = Tensor(shape: [1, 3], data: [0, 0, logf(2)])
        XCTAssertEqual(value { t in t.crossEntropy(t.constant(logits), labels: [2]) }, logf(2), accuracy: 1e-6)
        XCTAssertEqual(value { t in t.crossEntropy(t.constant(logits), labels: [2], labelSmoothing: 0.3) },
                       1.2 * logf(2), accuracy: 1e-6)
        // Label 0: −log ¼ = 2 ln 2; the mean over the two rows.
        let two = Tensor(shape: [2, 3], data: [0, 0, logf(2), 0, 0, logf(2)])
        XCTAssertEqual(value { t in t.crossEntropy(t.constant(two), labels: [2, 0]) }, 1.5 * logf(2), accuracy: 1e-6)
    }

    func testCrossEntropyGradients() {
        let x = randomTensor([4, 5], seed: 30, std: 2)
        assertGradientsMatch(GradientCheck.run(inputs: [x]) { t, v in t.crossEntropy(v[0], labels: [1, 0, 4, 1]) },
                             "crossEntropy")
        assertGradientsMatch(GradientCheck.run(inputs: [x]) { t, v in
            t.crossEntropy(v[0], labels: [1, 0, 4, 1], labelSmoothing: 0.1)
        }, "crossEntropy with smoothing")
    }

    func testCrossEntropyWithAMaskedClassStaysFinite() {
        let tape = Tape()
        let logits = tape.variable(Tensor(shape: [1, 3], data: [1, -.infinity, 2]))
        let loss = tape.crossEntropy(logits, labels: [2])
        tape.backward(loss)
        XCTAssertEqual(loss.value.scalar, logf(1 + expf(-1)), accuracy: 1e-6)
        XCTAssertTrue(logits.grad?.data.allSatisfy { $0.isFinite } ?? false)
        XCTAssertEqual(logits.grad?.data[1], 0)
    }

    func testSoftCrossEntropyMatchesCrossEntropyOnSmoothedOneHots() {
        let x = randomTensor([2, 4], seed: 31)
        // q = 0.9·onehot + 0.1/4
        var q = Tensor(shape: [2, 4], repeating: 0.025)
        q.data[3] += 0.9
        q.data[4] += 0.9
        let hard = value { t in t.crossEntropy(t.constant(x), labels: [3, 0], labelSmoothing: 0.1) }
        let soft = value { t in t.softCrossEntropy(t.constant(x), targets: q) }
        XCTAssertEqual(soft, hard, accuracy: 1e-5)
        assertGradientsMatch(GradientCheck.run(inputs: [x]) { t, v in t.softCrossEntropy(v[0], targets: q) },
                             "softCrossEntropy")
    }

    func testMSE() {
        let a = Tensor(shape: [2], data: [1, 2]), b = Tensor(zeros: [2])
        XCTAssertEqual(value { t in t.mse(t.constant(a), t.constant(b)) }, 2.5)
        let r = GradientCheck.run(inputs: [randomTensor([3, 4], seed: 32), randomTensor([3, 4], seed: 33)]) { t, v in
            t.mse(v[0], v[1])
        }
        assertGradientsMatch(r, "mse")
    }

    func testMSESoftmax() {
        // softmax of [0, 0] is [½, ½]; against [1, 0]: (¼ + ¼) / 2.
        let v = value { t in
            t.mseSoftmax(t.constant(Tensor(zeros: [1, 2])), targets: Tensor(shape: [1, 2], data: [1, 0]))
        }
        XCTAssertEqual(v, 0.25, accuracy: 1e-7)
        let targets = Tensor(shape: [2, 3], data: [0.2, 0.5, 0.3, 1, 0, 0])
        let r = GradientCheck.run(inputs: [randomTensor([2, 3], seed: 34)]) { t, v in
            t.mseSoftmax(v[0], targets: targets)
        }
        assertGradientsMatch(r, "mseSoftmax")
    }

    func testInfoNCEByHand() {
        // [[1, 0], [0, 1]], positives on the diagonal: each row −log(e / (e + 1)) = log(1 + 1/e).
        let s = Tensor(shape: [2, 2], data: [1, 0, 0, 1])
        let diagonal = [true, false, false, true]
        XCTAssertEqual(value { t in t.infoNCE(t.constant(s), positives: diagonal) },
                       logf(1 + expf(-1)), accuracy: 1e-6)
        // τ = 0.5 doubles the logits: log(1 + e^−2).
        XCTAssertEqual(value { t in t.infoNCE(t.constant(s), positives: diagonal, temperature: 0.5) },
                       logf(1 + expf(-2)), accuracy: 1e-6)
        // Row 0 with both entries positive has loss 0; row 1 as before.
        XCTAssertEqual(value { t in t.infoNCE(t.constant(s), positives: [true, true, false, true]) },
                       logf(1 + expf(-1)) / 2, accuracy: 1e-6)
    }

    func testNTXentOfTwoVideosExcludesSelfPairs() {
        // Views 0, 1 of videos A, B are rows 0, 1 and their partners rows 2, 3. Partners have
        // similarity 1, other views 0, self-pairs 10 (excluded): every row is −log(e / (e + 2)).
        var s = Tensor(zeros: [4, 4])
        var positives = [Bool](repeating: false, count: 16), selfPairs = positives
        for i in 0..<4 {
            s.data[i * 4 + i] = 10
            selfPairs[i * 4 + i] = true
            s.data[i * 4 + (i + 2) % 4] = 1
            positives[i * 4 + (i + 2) % 4] = true
        }
        let loss = value { t in t.infoNCE(t.constant(s), positives: positives, excluded: selfPairs) }
        XCTAssertEqual(loss, logf(1 + 2 * expf(-1)), accuracy: 1e-6)

        let r = GradientCheck.run(inputs: [randomTensor([4, 4], seed: 35, std: 0.5)]) { t, v in
            t.infoNCE(v[0], positives: positives, excluded: selfPairs, temperature: 0.5)
        }
        assertGradientsMatch(r, "infoNCE")
        // Several positives per row, M ≠ M', through a cosine matrix of normalized features.
        let many = (0..<12).map { $0 % 4 == 0 || $0 == 7 }
        let r2 = GradientCheck.run(inputs: [randomTensor([3, 5], seed: 36), randomTensor([4, 5], seed: 37)]) { t, v in
            t.infoNCE(t.matmul(t.l2Normalize(v[0]), t.l2Normalize(v[1]), transposeB: true),
                      positives: many, temperature: 0.2)
        }
        assertGradientsMatch(r2, "infoNCE on cosines")
    }

    func testInfoNCEWithMinusInfinityStaysFinite() {
        let tape = Tape()
        let s = tape.variable(Tensor(shape: [2, 3], data: [1, -.infinity, 0, -.infinity, 2, 0]))
        let loss = tape.infoNCE(s, positives: [true, false, false, false, true, false], temperature: 0.1)
        tape.backward(loss)
        XCTAssertTrue(loss.value.scalar.isFinite)
        XCTAssertTrue(s.grad?.data.allSatisfy { $0.isFinite } ?? false)
    }
}
