// The step shared by tb's AVX2 row-block kernels (gemm.c's panel GEMM, same_size.c's direct
// convolution): rows i < MR of a block of 6 packed rows times one 16-lane column, two ymm each.
// MR is a constant wherever this is inlined, so the unused rows cost nothing.
#ifndef TB_AVX2_ROWS_H
#define TB_AVX2_ROWS_H
#include <immintrin.h>

__attribute__((target("avx2,fma"), always_inline))
static inline void fma_rows_avx2(int MR, const float *ak, __m256 b0, __m256 b1, __m256 acc[6][2]) {
    _Pragma("clang loop unroll(full)") for (int i = 0; i < 6; i++) {
        if (i >= MR) continue;
        __m256 ai = _mm256_broadcast_ss(ak + i);
        acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
}
#endif
