import XCTest
import TBCore
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

    /// GEMMs large enough to be split over two threads, by columns (wide C) and by rows (narrow
    /// C), with every transpose and beta 1, against a naive loop in Double.
    func testSplitSgemmMatchesNaive() {
        defer { BLAS.useComputeThreads(0) }
        BLAS.useComputeThreads(2)
        XCTAssertEqual(BLAS.threads, 1)
        for (m, n, k) in [(37, 301, 131), (300, 45, 113)] {
            XCTAssertGreaterThanOrEqual(m * n * k, BLAS.splitMinimumWork)
            for (transA, transB) in [(false, false), (true, false), (false, true), (true, true)] {
                var g = SeededGenerator(seed: 3)
                let a = Tensor(randomNormal: [m * k], generator: &g).data, b = Tensor(randomNormal: [k * n], generator: &g).data
                let c0 = Tensor(randomNormal: [m * n], generator: &g).data
                let lda = transA ? m : k, ldb = transB ? k : n
                var c = c0
                a.withUnsafeBufferPointer { pa in
                    b.withUnsafeBufferPointer { pb in
                        c.withUnsafeMutableBufferPointer { pc in
                            BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: pa.baseAddress!, lda: lda,
                                       b: pb.baseAddress!, ldb: ldb, beta: 1, c: pc.baseAddress!, ldc: n)
                        }
                    }
                }
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = Double(c0[i * n + j])
                        for p in 0..<k {
                            sum += Double(transA ? a[p * lda + i] : a[i * lda + p]) * Double(transB ? b[j * ldb + p] : b[p * ldb + j])
                        }
                        XCTAssertEqual(Double(c[i * n + j]), sum, accuracy: 1e-3, "\(m)x\(n)x\(k) \(transA) \(transB) at \(i), \(j)")
                    }
                }
            }
        }
    }
}
