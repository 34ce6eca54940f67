import XCTest
@testable import TBTensor

final class BLASTests: XCTestCase {
    /// sgemm through OpenBLAS against a naive triple loop, on a non-square odd shape.
    func testSgemmMatchesNaive() {
        let m = 7, n = 5, k = 3
        let a = (0..<(m * k)).map { Float($0 % 11) - 5 }
        let b = (0..<(k * n)).map { Float($0 % 7) * 0.5 - 1 }
        var c = [Float](repeating: 0, count: m * n)
        BLAS.sgemm(m: m, n: n, k: k, a: a, b: b, c: &c)
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0
                for p in 0..<k { s += a[i * k + p] * b[p * n + j] }
                XCTAssertEqual(c[i * n + j], s, accuracy: 1e-5)
            }
        }
        XCTAssertFalse(BLAS.coreName.isEmpty)
    }
}
