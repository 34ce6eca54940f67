// Panel GEMM microkernels at three levels: AVX-512F (8 rows × 32 columns, 16 zmm
// accumulators), AVX2 + FMA (6 × 16, 12 ymm) and portable C (4 × 8). The vector levels are
// compiled with target attributes and picked at run time, so one binary runs on any x86-64.
// Sums run over k (or panels) in order, so results do not depend on how callers split work.

#include "CKernels.h"
#include "avx2_rows.h"
#include <immintrin.h>

#define UNROLL _Pragma("clang loop unroll(full)")

int tb_cpu_level(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 1;
    return 0;
}

long tb_gemm_rows(int level) { return level == 2 ? 8 : level == 1 ? 6 : 4; }
long tb_gemm_columns(int level) { return level == 2 ? 32 : level == 1 ? 16 : 8; }

void tb_pack_rows(int level, long M, long K, const float *a, long lda, float *packed) {
    long mr = tb_gemm_rows(level);
    for (long i0 = 0; i0 < M; i0 += mr) {
        float *block = packed + i0 * K;
        for (long k = 0; k < K; k++) {
            for (long i = 0; i < mr; i++) block[k * mr + i] = i0 + i < M ? a[(i0 + i) * lda + k] : 0;
        }
    }
}

// ---- C[M, cols] = A · panel ----

__attribute__((target("avx512f")))
static void panel_avx512(long M, long K, const float *a, const float *b, float *c, long ldc, long cols) {
    __mmask16 low = cols >= 16 ? 0xFFFF : (__mmask16)((1u << cols) - 1);
    __mmask16 high = cols >= 32 ? 0xFFFF : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    for (long i0 = 0; i0 < M; i0 += 8, a += 8 * K) {
        __m512 acc[8][2];
        UNROLL for (int i = 0; i < 8; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
        const float *ak = a, *bk = b;
        for (long k = 0; k < K; k++, ak += 8, bk += 32) {
            __m512 b0 = _mm512_loadu_ps(bk), b1 = _mm512_loadu_ps(bk + 16);
            UNROLL for (int i = 0; i < 8; i++) {
                __m512 ai = _mm512_set1_ps(ak[i]);
                acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
                acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
            }
        }
        UNROLL for (int i = 0; i < 8; i++) {
            if (i0 + i < M) {
                _mm512_mask_storeu_ps(c + (i0 + i) * ldc, low, acc[i][0]);
                _mm512_mask_storeu_ps(c + (i0 + i) * ldc + 16, high, acc[i][1]);
            }
        }
    }
}

// 6 rows by 16 columns (avx2_rows.h), as conv_same_rows_avx2 (same_size.c).
__attribute__((target("avx2,fma"), always_inline))
static inline void panel_rows_avx2(int MR, long K, const float *a, const float *b, float *c, long ldc, long cols,
                                   long rows) {
    __m256 acc[6][2];
    UNROLL for (int i = 0; i < 6; i++) if (i < MR) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    const float *ak = a, *bk = b;
    for (long k = 0; k < K; k++, ak += 6, bk += 16) {
        fma_rows_avx2(MR, ak, _mm256_loadu_ps(bk), _mm256_loadu_ps(bk + 8), acc);
    }
    UNROLL for (int i = 0; i < 6; i++) {
        if (i >= MR || i >= rows) continue;
        float *ci = c + i * ldc;
        if (cols == 16) {
            _mm256_storeu_ps(ci, acc[i][0]);
            _mm256_storeu_ps(ci + 8, acc[i][1]);
        } else {
            float row[16];
            _mm256_storeu_ps(row, acc[i][0]);
            _mm256_storeu_ps(row + 8, acc[i][1]);
            for (long j = 0; j < cols; j++) ci[j] = row[j];
        }
    }
}

__attribute__((target("avx2,fma")))
static void panel_avx2(long M, long K, const float *a, const float *b, float *c, long ldc, long cols) {
    for (long i0 = 0; i0 < M; i0 += 6, a += 6 * K) {
        long rows = M - i0;
        if (rows == 4) panel_rows_avx2(4, K, a, b, c + i0 * ldc, ldc, cols, rows);
        else if (rows == 2) panel_rows_avx2(2, K, a, b, c + i0 * ldc, ldc, cols, rows);
        else panel_rows_avx2(6, K, a, b, c + i0 * ldc, ldc, cols, rows);
    }
}

static void panel_portable(long M, long K, const float *a, const float *b, float *c, long ldc, long cols) {
    for (long i0 = 0; i0 < M; i0 += 4, a += 4 * K) {
        float acc[4][8] = {{0}};
        for (long k = 0; k < K; k++) {
            for (int i = 0; i < 4; i++) {
                for (int j = 0; j < 8; j++) acc[i][j] += a[k * 4 + i] * b[k * 8 + j];
            }
        }
        for (int i = 0; i < 4 && i0 + i < M; i++) {
            for (long j = 0; j < cols; j++) c[(i0 + i) * ldc + j] = acc[i][j];
        }
    }
}

void tb_gemm_panel(int level, long M, long K, const float *packedA, const float *panel,
                   float *c, long ldc, long cols) {
    switch (level) {
    case 2: panel_avx512(M, K, packedA, panel, c, ldc, cols); break;
    case 1: panel_avx2(M, K, packedA, panel, c, ldc, cols); break;
    default: panel_portable(M, K, packedA, panel, c, ldc, cols);
    }
}

// ---- C[M, K] += Σ_p G_p · B_pᵀ ----
// A block of MI rows of G by KJ rows of B keeps MI·KJ vector sums over the panels' lanes,
// reduced across lanes once at the end. Blocks of B rows are the outer loop: their panels stay
// in L1 while every block of G rows passes. Edge blocks take one (row, row) pair at a time.

__attribute__((target("avx512f")))
static void nt_avx512(long M, long K, long panels, const float *g, const float *b, float *c, long ldc) {
    enum { MI = 4, KJ = 6, NR = 32 };
    long fullM = M - M % MI, fullK = K - K % KJ;
    for (long j0 = 0; j0 < fullK; j0 += KJ) {
        for (long i0 = 0; i0 < fullM; i0 += MI) {
            __m512 acc[MI][KJ];
            UNROLL for (int i = 0; i < MI; i++) UNROLL for (int j = 0; j < KJ; j++) acc[i][j] = _mm512_setzero_ps();
            for (long p = 0; p < panels; p++) {
                const float *gp = g + (p * M + i0) * NR, *bp = b + (p * K + j0) * NR;
                UNROLL for (int h = 0; h < NR; h += 16) {
                    __m512 gi[MI];
                    UNROLL for (int i = 0; i < MI; i++) gi[i] = _mm512_loadu_ps(gp + i * NR + h);
                    UNROLL for (int j = 0; j < KJ; j++) {
                        __m512 bj = _mm512_loadu_ps(bp + j * NR + h);
                        UNROLL for (int i = 0; i < MI; i++) acc[i][j] = _mm512_fmadd_ps(gi[i], bj, acc[i][j]);
                    }
                }
            }
            UNROLL for (int i = 0; i < MI; i++) UNROLL for (int j = 0; j < KJ; j++)
                c[(i0 + i) * ldc + j0 + j] += _mm512_reduce_add_ps(acc[i][j]);
        }
    }
    for (long i = 0; i < M; i++) {
        for (long j = i < fullM ? fullK : 0; j < K; j++) {
            __m512 acc = _mm512_setzero_ps();
            for (long p = 0; p < panels; p++) {
                const float *gp = g + (p * M + i) * NR, *bp = b + (p * K + j) * NR;
                acc = _mm512_fmadd_ps(_mm512_loadu_ps(gp), _mm512_loadu_ps(bp), acc);
                acc = _mm512_fmadd_ps(_mm512_loadu_ps(gp + 16), _mm512_loadu_ps(bp + 16), acc);
            }
            c[i * ldc + j] += _mm512_reduce_add_ps(acc);
        }
    }
}

__attribute__((target("avx2,fma")))
static float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma")))
static void nt_avx2(long M, long K, long panels, const float *g, const float *b, float *c, long ldc) {
    enum { MI = 2, KJ = 6, NR = 16 };
    long fullM = M - M % MI, fullK = K - K % KJ;
    for (long j0 = 0; j0 < fullK; j0 += KJ) {
        for (long i0 = 0; i0 < fullM; i0 += MI) {
            __m256 acc[MI][KJ];
            UNROLL for (int i = 0; i < MI; i++) UNROLL for (int j = 0; j < KJ; j++) acc[i][j] = _mm256_setzero_ps();
            for (long p = 0; p < panels; p++) {
                const float *gp = g + (p * M + i0) * NR, *bp = b + (p * K + j0) * NR;
                UNROLL for (int h = 0; h < NR; h += 8) {
                    __m256 gi[MI];
                    UNROLL for (int i = 0; i < MI; i++) gi[i] = _mm256_loadu_ps(gp + i * NR + h);
                    UNROLL for (int j = 0; j < KJ; j++) {
                        __m256 bj = _mm256_loadu_ps(bp + j * NR + h);
                        UNROLL for (int i = 0; i < MI; i++) acc[i][j] = _mm256_fmadd_ps(gi[i], bj, acc[i][j]);
                    }
                }
            }
            UNROLL for (int i = 0; i < MI; i++) UNROLL for (int j = 0; j < KJ; j++)
                c[(i0 + i) * ldc + j0 + j] += hsum256(acc[i][j]);
        }
    }
    for (long i = 0; i < M; i++) {
        for (long j = i < fullM ? fullK : 0; j < K; j++) {
            __m256 acc = _mm256_setzero_ps();
            for (long p = 0; p < panels; p++) {
                const float *gp = g + (p * M + i) * NR, *bp = b + (p * K + j) * NR;
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(gp), _mm256_loadu_ps(bp), acc);
                acc = _mm256_fmadd_ps(_mm256_loadu_ps(gp + 8), _mm256_loadu_ps(bp + 8), acc);
            }
            c[i * ldc + j] += hsum256(acc);
        }
    }
}

static void nt_portable(long M, long K, long panels, const float *g, const float *b, float *c, long ldc) {
    enum { NR = 8 };
    for (long i = 0; i < M; i++) {
        for (long j = 0; j < K; j++) {
            float lanes[NR] = {0};
            for (long p = 0; p < panels; p++) {
                const float *gp = g + (p * M + i) * NR, *bp = b + (p * K + j) * NR;
                for (int l = 0; l < NR; l++) lanes[l] += gp[l] * bp[l];
            }
            float sum = 0;
            for (int l = 0; l < NR; l++) sum += lanes[l];
            c[i * ldc + j] += sum;
        }
    }
}

void tb_gemm_panels_nt(int level, long M, long K, long panels, const float *g, const float *b,
                       float *c, long ldc) {
    switch (level) {
    case 2: nt_avx512(M, K, panels, g, b, c, ldc); break;
    case 1: nt_avx2(M, K, panels, g, b, c, ldc); break;
    default: nt_portable(M, K, panels, g, b, c, ldc);
    }
}

// ---- packing columns into panels ----

__attribute__((target("avx512f")))
static void pack_matrix_avx512(const float *s, long rows, long ld, long lo, long hi, float *d) {
    long a0 = lo < 16 ? lo : 16, b0 = hi < 16 ? hi : 16, a1 = lo > 16 ? lo - 16 : 0, b1 = hi > 16 ? hi - 16 : 0;
    __mmask16 low = (__mmask16)(((1u << b0) - 1) & ~((1u << a0) - 1));
    __mmask16 high = (__mmask16)(((1u << b1) - 1) & ~((1u << a1) - 1));
    for (long r = 0; r < rows; r++, s += ld, d += 32) {
        _mm512_mask_storeu_ps(d, low, _mm512_maskz_loadu_ps(low, s));
        _mm512_mask_storeu_ps(d + 16, high, _mm512_maskz_loadu_ps(high, s + 16));
    }
}

void tb_pack_matrix(int level, const float *src, long rows, long cols, long ld, long j0, float *panels) {
    long nr = tb_gemm_columns(level);
    for (long panel = j0 / nr; cols > 0 && panel <= (j0 + cols - 1) / nr; panel++) {
        long base = panel * nr, lo = j0 > base ? j0 - base : 0;
        long hi = j0 + cols - base < nr ? j0 + cols - base : nr;
        const float *s = src + base - j0;
        float *d = panels + panel * rows * nr;
        if (level == 2) {
            pack_matrix_avx512(s, rows, ld, lo, hi, d);
            continue;
        }
        for (long r = 0; r < rows; r++, s += ld, d += nr) {
            for (long l = lo; l < hi; l++) d[l] = s[l];
        }
    }
}

// ---- weight gradients from a zero-padded input ----
// Cᵀ[r, m] += Σ_p x(r, p) · gT[p, m], vectorised over m: 6 column rows by 16 channels of
// accumulators, a broadcast of the input per row and two loads of gT per position, as in the
// panel GEMM, with nothing to mask because the padded input holds the zeros. Positions go by
// chunks of rows whose gT stays in L1 while every block of column rows passes.

__attribute__((target("avx2,fma"), always_inline))
static inline void padded_rows_avx2(int VN, const float *const *xr, long HpWp, long Wp, long Ho,
                                    long Wo, const long *stride, long q0, long q1, long r0, const float *gT, long M,
                                    long m0, float *ct, long ldc, long kb) {
    __m256 acc[6][2];
    UNROLL for (int j = 0; j < 6; j++) UNROLL for (int v = 0; v < 2; v++) if (v < VN) acc[j][v] = _mm256_setzero_ps();
    for (long q = q0; q < q1; q++) {
        long base = q / Ho * stride[0] * HpWp + q % Ho * stride[1] * Wp, sw = stride[2];
        const float *g = gT + (q - r0) * Wo * M + m0;
        const float *x0 = xr[0] + base, *x1 = xr[1] + base, *x2 = xr[2] + base;
        const float *x3 = xr[3] + base, *x4 = xr[4] + base, *x5 = xr[5] + base;
        for (long w = 0, ws = 0; w < Wo; w++, ws += sw, g += M) {
            __m256 g0 = _mm256_loadu_ps(g), g1 = VN == 2 ? _mm256_loadu_ps(g + 8) : g0;
            __m256 b;
#define TB_ROW(J, X)                                                              \
            b = _mm256_broadcast_ss(X + ws);                                      \
            acc[J][0] = _mm256_fmadd_ps(b, g0, acc[J][0]);                        \
            if (VN == 2) acc[J][1] = _mm256_fmadd_ps(b, g1, acc[J][1]);
            TB_ROW(0, x0) TB_ROW(1, x1) TB_ROW(2, x2) TB_ROW(3, x3) TB_ROW(4, x4) TB_ROW(5, x5)
#undef TB_ROW
        }
    }
    UNROLL for (int j = 0; j < 6; j++) {
        if (j >= kb) continue;
        UNROLL for (int v = 0; v < 2; v++) {
            if (v >= VN) continue;
            float *c = ct + j * ldc + m0 + 8 * v;
            _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), acc[j][v]));
        }
    }
}

__attribute__((target("avx2,fma")))
static void padded_avx2(const float *xpad, long C, long plane, long Hp, long Wp, const long *offsets, long taps,
                        long Ho, long Wo, const long *stride, long r0, long r1, const float *gT, long M, float *ct,
                        long ldc) {
    long K = C * taps, chunk = 4096 / (Wo * M);
    chunk = chunk < 1 ? 1 : chunk;
    for (long q0 = r0; q0 < r1; q0 += chunk) {
        long q1 = q0 + chunk < r1 ? q0 + chunk : r1;
        for (long k0 = 0; k0 < K; k0 += 6) {
            long kb = K - k0 < 6 ? K - k0 : 6;
            const float *xr[6];
            for (long j = 0; j < 6; j++) {
                long k = k0 + (j < kb ? j : 0);
                xr[j] = xpad + k / taps * plane + offsets[k % taps];
            }
            float *c = ct + k0 * ldc;
            for (long m0 = 0; m0 < M; m0 += 16) {
                if (M - m0 >= 16) {
                    padded_rows_avx2(2, xr, Hp * Wp, Wp, Ho, Wo, stride, q0, q1, r0, gT, M, m0, c, ldc, kb);
                } else {
                    padded_rows_avx2(1, xr, Hp * Wp, Wp, Ho, Wo, stride, q0, q1, r0, gT, M, m0, c, ldc, kb);
                }
            }
        }
    }
}

void tb_weight_gradient_padded(int level, const float *xpad, long C, long plane, long Hp, long Wp,
                               const long *offsets, long taps, long Ho, long Wo, const long *stride, long r0, long r1,
                               const float *gT, long M, float *ct, long ldc) {
    if (level >= 1) {
        padded_avx2(xpad, C, plane, Hp, Wp, offsets, taps, Ho, Wo, stride, r0, r1, gT, M, ct, ldc);
        return;
    }
    long K = C * taps;
    for (long k = 0; k < K; k++) {
        const float *x = xpad + k / taps * plane + offsets[k % taps];
        for (long q = r0; q < r1; q++) {
            long base = q / Ho * stride[0] * Hp * Wp + q % Ho * stride[1] * Wp;
            for (long w = 0; w < Wo; w++) {
                const float *g = gT + ((q - r0) * Wo + w) * M;
                float v = x[base + w * stride[2]];
                for (long m = 0; m < M; m++) ct[k * ldc + m] += v * g[m];
            }
        }
    }
}
