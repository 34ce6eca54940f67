// How many threads tb's own kernels use, GEMMs included (BLAS.sgemm splits each GEMM over them
// and runs OpenBLAS single-threaded: BLAS.useComputeThreads). A process-wide setting, like
// OpenBLAS's: programs set it once, from --threads, before any work starts.

import Dispatch

nonisolated(unsafe) private var computeThreadCount = 0  // 0: every core

/// Sets the threads of tb's kernels (vol2col, batch norm, pooling, ...); 0 means every core.
public func setComputeThreads(_ n: Int) { computeThreadCount = max(0, n) }

/// The threads tb's kernels may use.
public var computeThreads: Int {
    computeThreadCount > 0 ? computeThreadCount : max(1, sysconfCores())
}

private func sysconfCores() -> Int {
    #if canImport(Glibc)
    return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #else
    return 1
    #endif
}

#if canImport(Glibc)
import Glibc
#endif
