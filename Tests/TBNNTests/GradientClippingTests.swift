import XCTest
import TBNN
import TBTensor

final class GradientClippingTests: XCTestCase {
    /// Gradients (3, 4) and (12): one vector of norm √(9 + 16 + 144) = 13.
    private func parameters() -> [Parameter] {
        let a = Parameter(name: "a", value: Tensor(zeros: [2]))
        let b = Parameter(name: "b", value: Tensor(zeros: [1]))
        a.grad = Tensor(shape: [2], data: [3, 4])
        b.grad = Tensor(shape: [1], data: [12])
        return [a, b]
    }

    func testNormIsOverAllGradientsTogether() {
        XCTAssertEqual(gradientNorm(parameters()), 13)
    }

    func testScalesByMaxNormOverNormPlusEpsilon() {
        let ps = parameters()
        let norm = clipGradientNorm(ps, maxNorm: 1)
        XCTAssertEqual(norm, 13, "the norm before clipping")
        // clip_grad_norm_'s coefficient, in float32 as PyTorch computes it.
        let coefficient = Float(1) / (Float(13) + 1e-6)
        XCTAssertEqual(ps[0].grad.data, [3 * coefficient, 4 * coefficient])
        XCTAssertEqual(ps[1].grad.data, [12 * coefficient])
        XCTAssertEqual(Double(gradientNorm(ps)), 1, accuracy: 1e-6)
    }

    func testLeavesSmallGradientsAlone() {
        let ps = parameters()
        XCTAssertEqual(clipGradientNorm(ps, maxNorm: 20), 13)
        XCTAssertEqual(ps[0].grad.data, [3, 4])
        XCTAssertEqual(ps[1].grad.data, [12])
        // At exactly the norm PyTorch still scales, by 13 / (13 + 1e-6) in float32 (13 + 1e-6
        // rounds up to 13 + 2⁻²⁰), so the bound is norm + 1e-6 > max, not norm > max.
        XCTAssertEqual(clipGradientNorm(ps, maxNorm: 13), 13)
        let coefficient = Float(13) / (Float(13) + 1e-6)
        XCTAssertLessThan(coefficient, 1)
        XCTAssertEqual(ps[1].grad.data, [12 * coefficient])
    }

    func testSkipsFrozenParameters() {
        let ps = parameters()
        ps[1].requiresGrad = false  // PyTorch's frozen parameters have no gradient to count
        XCTAssertEqual(clipGradientNorm(ps, maxNorm: 2.5), 5)
        let coefficient = Float(2.5) / (Float(5) + 1e-6)
        XCTAssertEqual(ps[0].grad.data, [3 * coefficient, 4 * coefficient])
        XCTAssertEqual(ps[1].grad.data, [12])
    }

    func testZeroGradientsStayZero() {
        let p = Parameter(name: "a", value: Tensor(zeros: [3]))
        XCTAssertEqual(clipGradientNorm([p], maxNorm: 1), 0)
        XCTAssertEqual(p.grad.data, [0, 0, 0])
    }

    func testNonFiniteNormIsReportedAndGradientsKept() {
        let ps = parameters()
        ps[0].grad.data[0] = .nan
        XCTAssertTrue(clipGradientNorm(ps, maxNorm: 1).isNaN)
        XCTAssertEqual(ps[1].grad.data, [12])
    }
}
