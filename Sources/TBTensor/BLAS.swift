// The OpenBLAS entry points tb uses, and what the library chose at load time.

import CBLAS

public enum BLAS {
    /// The kernel family OpenBLAS picked for this CPU (e.g. "Haswell", "SkylakeX").
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// OpenBLAS's build description, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
    public static var configString: String {
        guard let p = openblas_get_config() else { return "unknown" }
        return String(cString: p)
    }

    public static var threads: Int {
        get { Int(openblas_get_num_threads()) }
    }

    /// OpenBLAS's own threads. tb keeps them at 1 (`useComputeThreads`) and splits GEMMs over its
    /// own threads instead; the benchmarks set other counts to compare.
    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(max(1, n))) }

    /// One pool of threads for everything: tb's kernels get `n` (0: every core) and each GEMM is
    /// split over them, while OpenBLAS runs single-threaded in the calling thread. With two pools,
    /// OpenBLAS's idle workers spin (sched_yield) for a while after each call and took the cores
    /// from tb's kernels: a quarter of a 2-thread training run's CPU samples (perf, Zen 3).
    public static func useComputeThreads(_ n: Int) {
        setComputeThreads(n)
        setThreads(1)
    }

    /// Below this many multiply-adds a GEMM runs on the calling thread alone.
    static let splitMinimumWork = 1 << 20

    /// C[m×n] = alpha·A[m×k]·B[k×n] + beta·C, row-major, no transposes.
    public static func sgemm(m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                             beta: Float = 0, c: UnsafeMutablePointer<Float>) {
        sgemm(transA: false, transB: false, m: m, n: n, k: k, alpha: alpha, a: a, lda: k, b: b, ldb: n,
              beta: beta, c: c, ldc: n)
    }
}

extension BLAS {
    /// C[m×n] = alpha·op(A)·op(B) + beta·C, row-major with explicit leading dimensions,
    /// where op(A) is m×k (A stored k×m when `transA`) and op(B) is k×n (stored n×k when `transB`).
    /// Conv kernels use the leading dimensions to address one sample's block of a batched matrix.
    /// Large GEMMs are split over tb's threads; `split: false` runs on the calling thread alone
    /// (for callers that already share out work among threads).
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, split: Bool = true) {
        guard m > 0, n > 0 else { return }
        guard k > 0 else {
            // BLAS would only scale C; do it here so a zero-size K never reaches OpenBLAS.
            for i in 0..<m {
                let row = c + i * ldc
                for j in 0..<n { row[j] = beta == 0 ? 0 : beta * row[j] }
            }
            return
        }
        let threads = computeThreads
        guard threads > 1, m * n * k >= splitMinimumWork, split else {
            return cblas(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
        }
        // Columns of C in blocks of 16 when there are enough, else rows: each part is a GEMM of its
        // own on one thread, so the split fixes every value's summation for a given thread count.
        if n >= 64 * threads {
            let block = (n / threads + 15) / 16 * 16
            let parts = (n + block - 1) / block
            Parallel.forEach(parts, work: Int.max) { p in
                let j0 = p * block, width = min(block, n - j0)
                cblas(transA, transB, m, width, k, alpha, a, lda, b + (transB ? j0 * ldb : j0), ldb, beta, c + j0, ldc)
            }
        } else {
            let block = (m + threads - 1) / threads
            let parts = (m + block - 1) / block
            Parallel.forEach(parts, work: Int.max) { p in
                let i0 = p * block, height = min(block, m - i0)
                cblas(transA, transB, height, n, k, alpha, a + (transA ? i0 : i0 * lda), lda, b, ldb, beta,
                      c + i0 * ldc, ldc)
            }
        }
    }

    private static func cblas(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                              _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                              _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
