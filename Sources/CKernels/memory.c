// malloc.h is not part of Swift's Glibc module, so its one setting tb needs is made here.

#include "CKernels.h"
#include <malloc.h>

void tb_retain_freed_memory(void) {
    // 32 MB is the largest mmap threshold glibc accepts on 64-bit; trimming waits for 1 GB free.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
}
