// Shared helpers of the gradient tests: random inputs, inputs kept away from kinks, and
// an assertion over GradientCheck's results that names the input that failed.

import XCTest
import Foundation
import TBCore
import TBTensor
import TBNN

/// Normal values (std 1) from a fixed seed.
func randomTensor(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
    var g = SeededGenerator(seed: seed)
    return Tensor(randomNormal: shape, std: std, generator: &g)
}

/// Normal values pushed at least `margin` away from zero, so that ±h never crosses ReLU's kink.
func awayFromZero(_ shape: [Int], seed: UInt64, margin: Float = 0.1) -> Tensor {
    var t = randomTensor(shape, seed: seed)
    for i in 0..<t.count { t.data[i] = t.data[i] < 0 ? t.data[i] - margin : t.data[i] + margin }
    return t
}

/// Distinct values spaced `spacing` apart in shuffled order, so that ±h never changes which
/// element of a pooling window is the largest.
func distinctValues(_ shape: [Int], seed: UInt64, spacing: Float = 0.05) -> Tensor {
    let n = shape.reduce(1, *)
    var g = SeededGenerator(seed: seed)
    var order = Array(0..<n)
    order.shuffle(using: &g)
    return Tensor(shape: shape, data: order.map { Float($0 - n / 2) * spacing })
}

/// Fails for every input whose worst relative error reaches `tolerance`.
func assertGradientsMatch(_ results: [GradientCheck.Result], tolerance: Float = 5e-3, _ what: String,
                          file: StaticString = #filePath, line: UInt = #line) {
    for (k, r) in results.enumerated() {
        if ProcessInfo.processInfo.environment["TB_GRADCHECK_VERBOSE"] != nil { print("gradcheck \(what) [\(k)]: \(r)") }
        XCTAssertLessThan(r.worstError, tolerance, "\(what): input \(k): \(r)", file: file, line: line)
        XCTAssertGreaterThanOrEqual(r.worstIndex, 0, "\(what): input \(k) was not checked", file: file, line: line)
    }
}
