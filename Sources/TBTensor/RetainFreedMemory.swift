// glibc's malloc hands freed memory back to the kernel: blocks above the mmap threshold are
// unmapped when freed, and free space above the trim threshold at the heap's top is returned
// too. A training step frees its activations (~100 MB for R3D-S at batch 8) and allocates them
// again in the next step, which then faults every page back in and has the kernel zero it: a
// fifth of an R3D-S step. Fixed thresholds keep that memory in the process instead.

import CKernels

/// Keeps freed memory in the process for reuse (process-wide, like BLAS.setThreads): programs
/// that repeat steps over same-sized tensors call it once before the first step.
public func retainFreedMemory() {
    tb_retain_freed_memory()
}
