// Convolutions that read planes of their output's size at stride 1 ("same size": R3D's 3×3×3
// layers, and its strided ones through phase planes): output position p of tap i reads plane
// position p + shift(i), zero where (t, h, w) + offset(i) leaves the plane. Per panel of lanes
// each tap gets a validity mask once; then packing columns, the forward GEMM and the weight
// gradient's GEMM all read the input with masked loads.

#include "CKernels.h"
#include "avx2_rows.h"
#include <immintrin.h>
#include <limits.h>
#include <stdlib.h>

#define UNROLL _Pragma("clang loop unroll(full)")

// Lane coordinates of the positions of one panel: lane l holds position pb + l as (t, h, w);
// lanes outside [lo, hi) are given coordinates that no offset brings inside.
static void lane_coordinates(long pb, long lo, long hi, long T, long H, long W, int nr, int *t, int *h, int *w) {
    long p = pb + lo, tt = p / (H * W), hh = p / W % H, ww = p % W;
    for (int l = 0; l < nr; l++) {
        if (l < lo || l >= hi) { t[l] = h[l] = w[l] = -(1 << 28); continue; }
        t[l] = (int)tt, h[l] = (int)hh, w[l] = (int)ww;
        if (++ww == W) { ww = 0; if (++hh == H) { hh = 0; tt++; } }
    }
}

// Per tap of a same-size convolution, for one panel of lanes: which lanes read inside the input
// (valid, within [lo, hi)) and how far the tap's reads are shifted from the output position.
__attribute__((target("avx512f")))
static void tap_masks_avx512(const int *lt, const int *lh, const int *lw, long lo, long hi, long T, long H, long W,
                             const long *offsets, long taps, __mmask16 (*valid)[2], long *shift,
                             __mmask16 *range) {
    for (int half = 0; half < 2; half++) {
        long a = lo - 16 * half, b = hi - 16 * half;
        a = a < 0 ? 0 : a > 16 ? 16 : a, b = b < 0 ? 0 : b > 16 ? 16 : b;
        range[half] = (__mmask16)(((1u << b) - 1) & ~((1u << a) - 1));
        __m512i t = _mm512_loadu_si512(lt + 16 * half), h = _mm512_loadu_si512(lh + 16 * half);
        __m512i w = _mm512_loadu_si512(lw + 16 * half);
        // Taps come in (t, h, w) order: the t and h masks change rarely, so they are kept.
        long lastT = LONG_MIN, lastH = LONG_MIN;
        __mmask16 mt = 0, mh = 0;
        for (long i = 0; i < taps; i++) {
            const long *o = offsets + 4 * i;
            // 0 ≤ v < n as one unsigned comparison.
            if (o[0] != lastT) {
                mt = _mm512_cmplt_epu32_mask(_mm512_add_epi32(t, _mm512_set1_epi32((int)o[0])), _mm512_set1_epi32((int)T));
                lastT = o[0];
            }
            if (o[1] != lastH) {
                mh = _mm512_cmplt_epu32_mask(_mm512_add_epi32(h, _mm512_set1_epi32((int)o[1])), _mm512_set1_epi32((int)H));
                lastH = o[1];
            }
            __mmask16 m = mt & mh & _mm512_cmplt_epu32_mask(_mm512_add_epi32(w, _mm512_set1_epi32((int)o[2])),
                                                            _mm512_set1_epi32((int)W));
            valid[i][half] = m & range[half];
            shift[i] = o[3] + (o[0] * H + o[1]) * W + o[2];
        }
    }
}

__attribute__((target("avx2,fma")))
static void tap_masks_avx2(const int *lt, const int *lh, const int *lw, long lo, long hi, long T, long H, long W,
                           const long *offsets, long taps, __m256i (*valid)[2], long *shift, __m256i *range) {
    __m256i lanes = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), none = _mm256_set1_epi32(-1);
    for (int half = 0; half < 2; half++) {
        __m256i l = _mm256_add_epi32(lanes, _mm256_set1_epi32(8 * half));
        range[half] = _mm256_and_si256(_mm256_cmpgt_epi32(l, _mm256_set1_epi32((int)lo - 1)),
                                       _mm256_cmpgt_epi32(_mm256_set1_epi32((int)hi), l));
        __m256i t = _mm256_loadu_si256((const __m256i *)(lt + 8 * half));
        __m256i h = _mm256_loadu_si256((const __m256i *)(lh + 8 * half));
        __m256i w = _mm256_loadu_si256((const __m256i *)(lw + 8 * half));
        for (long i = 0; i < taps; i++) {
            const long *o = offsets + 4 * i;
            // 0 ≤ v < n as n > v > −1 on signed lanes (coordinates stay far from overflow).
            __m256i vt = _mm256_add_epi32(t, _mm256_set1_epi32((int)o[0]));
            __m256i vh = _mm256_add_epi32(h, _mm256_set1_epi32((int)o[1]));
            __m256i vw = _mm256_add_epi32(w, _mm256_set1_epi32((int)o[2]));
            __m256i m = _mm256_and_si256(_mm256_cmpgt_epi32(vt, none), _mm256_cmpgt_epi32(_mm256_set1_epi32((int)T), vt));
            m = _mm256_and_si256(m, _mm256_and_si256(_mm256_cmpgt_epi32(vh, none),
                                                     _mm256_cmpgt_epi32(_mm256_set1_epi32((int)H), vh)));
            m = _mm256_and_si256(m, _mm256_and_si256(_mm256_cmpgt_epi32(vw, none),
                                                     _mm256_cmpgt_epi32(_mm256_set1_epi32((int)W), vw)));
            valid[i][half] = _mm256_and_si256(m, range[half]);
            shift[i] = o[3] + (o[0] * H + o[1]) * W + o[2];
        }
    }
}

static int inside(const int *lt, const int *lh, const int *lw, long l, const long *o, long T, long H, long W) {
    long t = lt[l] + o[0], h = lh[l] + o[1], w = lw[l] + o[2];
    return t >= 0 && t < T && h >= 0 && h < H && w >= 0 && w < W;
}

#define SAME_SIZE_PANELS(NR, ...)                                                               \
    long K = C * taps;                                                                          \
    (void)K;                                                                                    \
    for (long panel = j0 / NR; panel <= (j0 + count - 1) / NR; panel++) {                       \
        long base = panel * NR, pb = p0 + base - j0;                                            \
        long lo = j0 > base ? j0 - base : 0, hi = j0 + count - base < NR ? j0 + count - base : NR; \
        int lt[NR], lh[NR], lw[NR];                                                             \
        lane_coordinates(pb, lo, hi, T, H, W, NR, lt, lh, lw);                                  \
        __VA_ARGS__                                                                             \
    }

__attribute__((target("avx512f")))
static void same_size_avx512(const float *x, long C, long cs, long T, long H, long W, const long *offsets, long taps,
                             long p0, long count, long j0, float *panels) {
    __mmask16 valid[TB_SAME_SIZE_MAX_TAPS][2], range[2];
    long shift[TB_SAME_SIZE_MAX_TAPS];
    SAME_SIZE_PANELS(32, {
        tap_masks_avx512(lt, lh, lw, lo, hi, T, H, W, offsets, taps, valid, shift, range);
        float *dst = panels + panel * K * 32;
        for (long c = 0; c < C; c++) {
            const float *xc = x + c * cs + pb;
            for (long i = 0; i < taps; i++, dst += 32) {
                const float *s = xc + shift[i];
                _mm512_mask_storeu_ps(dst, range[0], _mm512_maskz_loadu_ps(valid[i][0], s));
                _mm512_mask_storeu_ps(dst + 16, range[1], _mm512_maskz_loadu_ps(valid[i][1], s + 16));
            }
        }
    })
}

__attribute__((target("avx2,fma")))
static void same_size_avx2(const float *x, long C, long cs, long T, long H, long W, const long *offsets, long taps,
                           long p0, long count, long j0, float *panels) {
    __m256i valid[TB_SAME_SIZE_MAX_TAPS][2], range[2];
    long shift[TB_SAME_SIZE_MAX_TAPS];
    SAME_SIZE_PANELS(16, {
        tap_masks_avx2(lt, lh, lw, lo, hi, T, H, W, offsets, taps, valid, shift, range);
        float *dst = panels + panel * K * 16;
        for (long c = 0; c < C; c++) {
            const float *xc = x + c * cs + pb;
            for (long i = 0; i < taps; i++, dst += 16) {
                const float *s = xc + shift[i];
                _mm256_maskstore_ps(dst, range[0], _mm256_maskload_ps(s, valid[i][0]));
                _mm256_maskstore_ps(dst + 8, range[1], _mm256_maskload_ps(s + 8, valid[i][1]));
            }
        }
    })
}

static void same_size_portable(const float *x, long C, long cs, long T, long H, long W, const long *offsets, long taps,
                               long p0, long count, long j0, float *panels) {
    SAME_SIZE_PANELS(8, {
        float *dst = panels + panel * K * 8;
        for (long c = 0; c < C; c++) {
            for (long i = 0; i < taps; i++, dst += 8) {
                const long *o = offsets + 4 * i;
                for (long l = lo; l < hi; l++) {
                    dst[l] = inside(lt, lh, lw, l, o, T, H, W) ? x[c * cs + o[3] + pb + l + (o[0] * H + o[1]) * W + o[2]] : 0;
                }
            }
        }
    })
}

void tb_pack_same_size(int level, const float *x, long C, long cs, long T, long H, long W, const long *offsets,
                       long taps, long p0, long count, long j0, float *panels) {
    if (count <= 0) return;
    switch (level) {
    case 2: same_size_avx512(x, C, cs, T, H, W, offsets, taps, p0, count, j0, panels); break;
    case 1: same_size_avx2(x, C, cs, T, H, W, offsets, taps, p0, count, j0, panels); break;
    default: same_size_portable(x, C, cs, T, H, W, offsets, taps, p0, count, j0, panels);
    }
}

// The taps whose masks leave some lane of the panel valid, in order: a tap that reads only padding
// for every lane (t − 1 on a panel of the first frame) adds nothing, so the kernels skip it, as
// direct convolutions skip the kernel rows that fall outside the input.
__attribute__((target("avx512f")))
static long live_taps_avx512(__mmask16 (*valid)[2], long taps, long *live) {
    long n = 0;
    for (long t = 0; t < taps; t++) if (valid[t][0] | valid[t][1]) live[n++] = t;
    return n;
}

__attribute__((target("avx2,fma")))
static long live_taps_avx2(__m256i (*valid)[2], long taps, long *live) {
    long n = 0;
    for (long t = 0; t < taps; t++) {
        if (!_mm256_testz_si256(valid[t][0], valid[t][0]) || !_mm256_testz_si256(valid[t][1], valid[t][1])) live[n++] = t;
    }
    return n;
}

// ---- same-size convolutions straight from the input ----
// The panel kernel's loop with the panel's loads replaced by masked loads from the input: row
// c·taps + i of the column panel is x[c] shifted by tap i, so nothing is packed at all.

__attribute__((target("avx512f")))
static void conv_same_avx512(const float *x, long C, long cs, long T, long H, long W, const long *offsets, long taps,
                             const float *a, long M, long p0, long count, float *y, long ldy) {
    __mmask16 valid[TB_SAME_SIZE_MAX_TAPS][2], range[2];
    long shift[TB_SAME_SIZE_MAX_TAPS], K = C * taps;
    for (long pb = p0; pb < p0 + count; pb += 32) {
        long hi = p0 + count - pb < 32 ? p0 + count - pb : 32;
        int lt[32], lh[32], lw[32];
        lane_coordinates(pb, 0, hi, T, H, W, 32, lt, lh, lw);
        tap_masks_avx512(lt, lh, lw, 0, hi, T, H, W, offsets, taps, valid, shift, range);
        long live[TB_SAME_SIZE_MAX_TAPS], lives = live_taps_avx512(valid, taps, live);
        for (long i0 = 0; i0 < M; i0 += 8) {
            __m512 acc[8][2];
            UNROLL for (int i = 0; i < 8; i++) acc[i][0] = acc[i][1] = _mm512_setzero_ps();
            for (long c = 0; c < C; c++) {
                const float *xc = x + c * cs + pb, *ac = a + i0 * K + c * taps * 8;
                for (long j = 0; j < lives; j++) {
                    long t = live[j];
                    const float *s = xc + shift[t], *ak = ac + t * 8;
                    __m512 b0 = _mm512_maskz_loadu_ps(valid[t][0], s), b1 = _mm512_maskz_loadu_ps(valid[t][1], s + 16);
                    UNROLL for (int i = 0; i < 8; i++) {
                        __m512 ai = _mm512_set1_ps(ak[i]);
                        acc[i][0] = _mm512_fmadd_ps(ai, b0, acc[i][0]);
                        acc[i][1] = _mm512_fmadd_ps(ai, b1, acc[i][1]);
                    }
                }
            }
            UNROLL for (int i = 0; i < 8; i++) {
                if (i0 + i < M) {
                    float *yi = y + (i0 + i) * ldy + (pb - p0);
                    _mm512_mask_storeu_ps(yi, range[0], acc[i][0]);
                    _mm512_mask_storeu_ps(yi + 16, range[1], acc[i][1]);
                }
            }
        }
    }
}

// AVX2: blocks of 6 rows (12 accumulators, 2 columns and a broadcast in 16 registers), the
// last block of 4 or 2 rows when M leaves one; other remainders run 6 rows, the packed weight's
// rows past M being zero. MR is a constant wherever this is inlined. Taps whose 16 lanes all
// read inside the input go first, with plain loads (masked loads cost R3D-S's stride-1 layers
// about a fifth of their time on Zen 3), then the others with masked loads.
__attribute__((target("avx2,fma"), always_inline))
static inline void conv_same_rows_avx2(int MR, const float *x, long C, long cs, long taps, const long *full,
                                       long fulls, const long *part, long parts, const long *shift,
                                       __m256i (*valid)[2], const __m256i *range, const float *a, long rows,
                                       float *y, long ldy) {
    __m256 acc[6][2];
    UNROLL for (int i = 0; i < 6; i++) if (i < MR) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    for (long c = 0; c < C; c++) {
        const float *xc = x + c * cs, *ac = a + c * taps * 6;
        for (long j = 0; j < fulls; j++) {
            long t = full[j];
            const float *s = xc + shift[t], *ak = ac + t * 6;
            fma_rows_avx2(MR, ak, _mm256_loadu_ps(s), _mm256_loadu_ps(s + 8), acc);
        }
        for (long j = 0; j < parts; j++) {
            long t = part[j];
            const float *s = xc + shift[t], *ak = ac + t * 6;
            fma_rows_avx2(MR, ak, _mm256_maskload_ps(s, valid[t][0]), _mm256_maskload_ps(s + 8, valid[t][1]), acc);
        }
    }
    UNROLL for (int i = 0; i < 6; i++) {
        if (i < MR && i < rows) {
            _mm256_maskstore_ps(y + i * ldy, range[0], acc[i][0]);
            _mm256_maskstore_ps(y + i * ldy + 8, range[1], acc[i][1]);
        }
    }
}

__attribute__((target("avx2,fma")))
static void conv_same_avx2(const float *x, long C, long cs, long T, long H, long W, const long *offsets, long taps,
                           const float *a, long M, long p0, long count, float *y, long ldy) {
    __m256i valid[TB_SAME_SIZE_MAX_TAPS][2], range[2], ones = _mm256_set1_epi32(-1);
    long shift[TB_SAME_SIZE_MAX_TAPS], K = C * taps;
    for (long pb = p0; pb < p0 + count; pb += 16) {
        long hi = p0 + count - pb < 16 ? p0 + count - pb : 16;
        int lt[16], lh[16], lw[16];
        lane_coordinates(pb, 0, hi, T, H, W, 16, lt, lh, lw);
        tap_masks_avx2(lt, lh, lw, 0, hi, T, H, W, offsets, taps, valid, shift, range);
        long live[TB_SAME_SIZE_MAX_TAPS], lives = live_taps_avx2(valid, taps, live);
        long full[TB_SAME_SIZE_MAX_TAPS], part[TB_SAME_SIZE_MAX_TAPS], fulls = 0, parts = 0;
        for (long j = 0; j < lives; j++) {
            long t = live[j];
            if (_mm256_testc_si256(valid[t][0], ones) && _mm256_testc_si256(valid[t][1], ones)) full[fulls++] = t;
            else part[parts++] = t;
        }
        for (long i0 = 0; i0 < M; i0 += 6) {
            long rows = M - i0;
            const float *ai = a + i0 * K;
            float *yi = y + i0 * ldy + (pb - p0);
            if (rows == 4) {
                conv_same_rows_avx2(4, x + pb, C, cs, taps, full, fulls, part, parts, shift, valid, range, ai, rows,
                                    yi, ldy);
            } else if (rows == 2) {
                conv_same_rows_avx2(2, x + pb, C, cs, taps, full, fulls, part, parts, shift, valid, range, ai, rows,
                                    yi, ldy);
            } else {
                conv_same_rows_avx2(6, x + pb, C, cs, taps, full, fulls, part, parts, shift, valid, range, ai, rows,
                                    yi, ldy);
            }
        }
    }
}

static void conv_same_portable(const float *x, long C, long cs, long T, long H, long W, const long *offsets, long taps,
                               const float *a, long M, long p0, long count, float *y, long ldy) {
    long K = C * taps;
    for (long pb = p0; pb < p0 + count; pb += 8) {
        long hi = p0 + count - pb < 8 ? p0 + count - pb : 8;
        int lt[8], lh[8], lw[8];
        lane_coordinates(pb, 0, hi, T, H, W, 8, lt, lh, lw);
        for (long i0 = 0; i0 < M; i0 += 4) {
            float acc[4][8] = {{0}};
            const float *ak = a + i0 * K;
            for (long c = 0; c < C; c++) {
                for (long t = 0; t < taps; t++, ak += 4) {
                    const long *o = offsets + 4 * t;
                    for (long l = 0; l < hi; l++) {
                        if (!inside(lt, lh, lw, l, o, T, H, W)) continue;
                        float v = x[c * cs + o[3] + pb + l + (o[0] * H + o[1]) * W + o[2]];
                        for (int i = 0; i < 4; i++) acc[i][l] += ak[i] * v;
                    }
                }
            }
            for (int i = 0; i < 4 && i0 + i < M; i++) {
                for (long l = 0; l < hi; l++) y[(i0 + i) * ldy + (pb - p0) + l] = acc[i][l];
            }
        }
    }
}

void tb_conv_same_size(int level, const float *x, long C, long cs, long T, long H, long W, const long *offsets,
                       long taps, const float *packedA, long M, long p0, long count, float *y, long ldy) {
    switch (level) {
    case 2: conv_same_avx512(x, C, cs, T, H, W, offsets, taps, packedA, M, p0, count, y, ldy); break;
    case 1: conv_same_avx2(x, C, cs, T, H, W, offsets, taps, packedA, M, p0, count, y, ldy); break;
    default: conv_same_portable(x, C, cs, T, H, W, offsets, taps, packedA, M, p0, count, y, ldy);
    }
}

// ---- same-size weight gradients straight from the input ----
// tb_gemm_panels_nt with the column panels' loads replaced by masked loads from the input, as
// in tb_conv_same_size. The masks depend on the panel and tap only, so they are made once per
// call for all samples.

__attribute__((target("avx512f")))
static void same_size_nt_avx512(const float *x, long sampleStride, long samples, long C, long cs, long T, long H,
                                long W, const long *offsets, long taps, long p0, long count, const float *g,
                                long M, float *c, long ldc) {
    enum { MI = 4, KJ = 6, NR = 32 };
    long panels = (count + NR - 1) / NR, K = C * taps, fullM = M - M % MI, fullK = K - K % KJ;
    __mmask16 (*valid)[TB_SAME_SIZE_MAX_TAPS][2] = malloc(sizeof(*valid) * panels);
    long *reached = malloc(sizeof(long) * panels), shift[TB_SAME_SIZE_MAX_TAPS];
    if (!valid || !reached) {
        free(valid);
        free(reached);
        return;
    }
    for (long p = 0; p < panels; p++) {
        long hi = count - p * NR < NR ? count - p * NR : NR;
        int lt[NR], lh[NR], lw[NR];
        __mmask16 range[2];
        lane_coordinates(p0 + p * NR, 0, hi, T, H, W, NR, lt, lh, lw);
        tap_masks_avx512(lt, lh, lw, 0, hi, T, H, W, offsets, taps, valid[p], shift, range);
    }
    for (long j0 = 0; j0 < K; j0 += KJ) {
        long kj = K - j0 < KJ ? K - j0 : KJ;
        const float *base[KJ];
        long tap[KJ];
        for (long j = 0; j < KJ; j++) {
            long k = j0 + (j < kj ? j : 0);
            tap[j] = k % taps;
            base[j] = x + k / taps * cs + shift[tap[j]] + p0;
        }
        // The panels where one of the block's taps reads inside the input: the others add zeros.
        for (long p = 0; p < panels; p++) {
            __mmask16 any = 0;
            for (long j = 0; j < kj; j++) any |= valid[p][tap[j]][0] | valid[p][tap[j]][1];
            reached[p] = any != 0;
        }
        for (long i0 = 0; i0 < M; i0 += MI) {
            if (j0 < fullK && i0 < fullM) {
                __m512 acc[MI][KJ];
                UNROLL for (int i = 0; i < MI; i++) UNROLL for (int j = 0; j < KJ; j++) acc[i][j] = _mm512_setzero_ps();
                for (long s = 0; s < samples; s++) {
                    for (long p = 0; p < panels; p++) {
                        if (!reached[p]) continue;
                        const float *gp = g + ((s * panels + p) * M + i0) * NR;
                        long at = s * sampleStride + p * NR;
                        UNROLL for (int h = 0; h < 2; h++) {
                            __m512 gi[MI];
                            UNROLL for (int i = 0; i < MI; i++) gi[i] = _mm512_loadu_ps(gp + i * NR + 16 * h);
                            UNROLL for (int j = 0; j < KJ; j++) {
                                __m512 bj = _mm512_maskz_loadu_ps(valid[p][tap[j]][h], base[j] + at + 16 * h);
                                UNROLL for (int i = 0; i < MI; i++) acc[i][j] = _mm512_fmadd_ps(gi[i], bj, acc[i][j]);
                            }
                        }
                    }
                }
                UNROLL for (int i = 0; i < MI; i++) UNROLL for (int j = 0; j < KJ; j++)
                    c[(i0 + i) * ldc + j0 + j] += _mm512_reduce_add_ps(acc[i][j]);
                continue;
            }
            // Edge blocks: one (row, column) pair at a time.
            for (long i = i0; i < i0 + MI && i < M; i++) {
                for (long j = 0; j < kj; j++) {
                    __m512 acc = _mm512_setzero_ps();
                    for (long s = 0; s < samples; s++) {
                        for (long p = 0; p < panels; p++) {
                            const float *gp = g + ((s * panels + p) * M + i) * NR;
                            const float *b = base[j] + s * sampleStride + p * NR;
                            acc = _mm512_fmadd_ps(_mm512_loadu_ps(gp), _mm512_maskz_loadu_ps(valid[p][tap[j]][0], b), acc);
                            acc = _mm512_fmadd_ps(_mm512_loadu_ps(gp + 16),
                                                  _mm512_maskz_loadu_ps(valid[p][tap[j]][1], b + 16), acc);
                        }
                    }
                    c[i * ldc + j0 + j] += _mm512_reduce_add_ps(acc);
                }
            }
        }
    }
    free(valid);
    free(reached);
}

void tb_gemm_same_size_nt_avx512(const float *x, long sampleStride, long samples, long C, long cs, long T, long H,
                                 long W, const long *offsets, long taps, long p0, long count, const float *g, long M,
                                 float *c, long ldc) {
    same_size_nt_avx512(x, sampleStride, samples, C, cs, T, H, W, offsets, taps, p0, count, g, M, c, ldc);
}
