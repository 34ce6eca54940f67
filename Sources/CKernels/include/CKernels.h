// Microkernels for tb's convolutions: GEMMs over "panels", column matrices packed as
// [panels][K][nr] so that each microkernel streams one contiguous block, or read straight from
// the input through per-tap masks. Functions take the instruction-set level they run at, so
// tests can check each level the CPU has. Plus one malloc setting (tb_retain_freed_memory).
#ifndef TB_CKERNELS_H
#define TB_CKERNELS_H

/// 0: portable C, 1: AVX2 + FMA, 2: AVX-512F.
int tb_cpu_level(void);

/// Rows per block of packed A (mr) and columns per panel of B (nr) at a level.
long tb_gemm_rows(int level);
long tb_gemm_columns(int level);

/// Packs A [M, K] (row-major, rows lda apart) as [⌈M/mr⌉][K][mr], rows beyond M zero.
void tb_pack_rows(int level, long M, long K, const float *a, long lda, float *packed);

/// Packs a row-major matrix [rows, cols] (rows ld apart) as columns j0 ..< j0 + cols of panels
/// [..][rows][nr]. Lanes of the touched panels outside those columns are left alone.
void tb_pack_matrix(int level, const float *src, long rows, long cols, long ld, long j0, float *panels);

/// Most kernel taps tb_pack_same_size takes.
#define TB_SAME_SIZE_MAX_TAPS 343

/// Packs the columns of a stride-1 convolution whose output has the size T×H×W of the planes it
/// reads, straight from one sample x (channel c at x + c·cs): output positions p0 ..< p0 + count
/// become columns j0 ..< j0 + count of panels [..][C·taps][nr]. Tap i, given by offsets[4i ..< 4i + 4]
/// = (dt, dh, dw, base), reads the plane at x + c·cs + base at (t + dt, h + dh, w + dw), zero
/// outside it; row c·taps + i holds it. Lanes of the touched panels outside those columns are left alone.
void tb_pack_same_size(int level, const float *x, long C, long cs, long T, long H, long W, const long *offsets,
                       long taps, long p0, long count, long j0, float *panels);

/// The same convolution's output straight from x, with nothing packed: y[m, p − p0] (rows ldy
/// apart) for output positions p0 ..< p0 + count and the weight packed by tb_pack_rows as
/// A [M, C·taps], column c·taps + i for input channel c and tap i.
void tb_conv_same_size(int level, const float *x, long C, long cs, long T, long H, long W, const long *offsets,
                       long taps, const float *packedA, long M, long p0, long count, float *y, long ldy);

/// C[M, C·taps] += Σ_p G[m, p] · column(c·taps + i, p) over output positions p0 ..< p0 + count of
/// `samples` samples (sample s at x + s·sampleStride), the columns read straight from x as
/// tb_pack_same_size reads them and G packed as panels [samples][⌈count/32⌉][M][32], lanes past
/// `count` zero. AVX-512 only (level 2); the other levels pack the columns for tb_gemm_panels_nt.
void tb_gemm_same_size_nt_avx512(const float *x, long sampleStride, long samples, long C, long cs, long T, long H,
                                 long W, const long *offsets, long taps, long p0, long count, const float *g, long M,
                                 float *c, long ldc);

/// C[M, cols] = A · B for A packed by tb_pack_rows and one panel B [K][nr]; row m of C
/// starts at c + m·ldc and only its first `cols` (≤ nr) values are written.
void tb_gemm_panel(int level, long M, long K, const float *packedA, const float *panel,
                   float *c, long ldc, long cols);

/// C[M, K] += Σ_p G_p · B_pᵀ over `panels` pairs G_p [M][nr] (at g + p·M·nr) and B_p [K][nr]
/// (at b + p·K·nr); row m of C starts at c + m·ldc. Each value is summed in a fixed order.
void tb_gemm_panels_nt(int level, long M, long K, long panels, const float *g, const float *b,
                       float *c, long ldc);

/// Cᵀ[r, m] += Σ x(r, p) · gT[p, m] over the output positions of rows r0 ..< r1 (row q = t·Ho + h, Wo
/// positions each) of a convolution of one sample with strides stride[0 ..< 3]: column row
/// r = c·taps + i reads xpad[c·plane + t·s0·Hp·Wp + h·s1·Wp + w·s2 + offsets[i]] from the input
/// zero-padded to planes of Hp×Wp rows; gT holds dY of those positions as [positions][M]; M a
/// multiple of 8 at the AVX2 level. Cᵀ rows are ldc apart.
void tb_weight_gradient_padded(int level, const float *xpad, long C, long plane, long Hp, long Wp,
                               const long *offsets, long taps, long Ho, long Wo, const long *stride, long r0, long r1,
                               const float *gT, long M, float *ct, long ldc);
/// Fixes glibc's mmap and trim thresholds so that freed memory stays in the process.
void tb_retain_freed_memory(void);

#endif
