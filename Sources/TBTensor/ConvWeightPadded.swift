// Weight gradients of convolutions on AVX2 from a zero-padded copy of each sample:
// dWᵀ [Cin·K, Cout] accumulates input × dYᵀ with the output channels along the vector, so
// nothing is masked, nothing is summed across lanes and no column matrix is made. On a 2-core
// Zen 3 the column path (vol2col + OpenBLAS) ran R3D-S's 16>16 weight gradient at 66.9 GFLOP/s
// where its forward pass ran at 132.8; this kernel ran it at 160 (2 threads, bin/bench).

import CKernels

extension Conv3D {
    /// Whether `paddedWeightGradient` takes `shape` at `level`: AVX2 (AVX-512 has its own direct
    /// kernel), output channels a multiple of 8. Strides only space the input
    /// reads, which are broadcasts one value at a time. Not 1×1×1 kernels: a strided one would
    /// copy the whole input to read a quarter of it (R3D-S's 16>32 shortcut: 0.26 ms against 0.15
    /// on OpenBLAS, 2 threads).
    static func usesPaddedWeightGradient(_ shape: ConvShape, level: Int32) -> Bool {
        level == 1 && shape.outChannels % 8 == 0 && !shape.isEmpty && shape.kernelVolume > 1
            && shape.outputVolume >= paddedMinimumPositions
    }

    /// Output positions per sample below which the padding copy costs more than it saves
    /// (R3D-S's layers with 16 positions: 1.14 ms against 0.70 on OpenBLAS, 2 threads).
    static let paddedMinimumPositions = 64

    /// dW of the live taps [Cout, Cin·live K] of a shape `usesPaddedWeightGradient` accepts. Threads
    /// take (sample, run of output rows) items round robin and sum their own; the sums are added
    /// in thread order.
    static func paddedWeightGradient(gradOutput dy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                                     shape: ConvShape, into dw: UnsafeMutablePointer<Float>, level: Int32) {
        let g = shape.geometry, (T, H, W) = shape.input, (To, Ho, Wo) = shape.output
        let M = shape.outChannels, C = shape.inChannels, P = shape.outputVolume
        let Tp = T + 2 * g.padding.t, Hp = H + 2 * g.padding.h, Wp = W + 2 * g.padding.w, plane = Tp * Hp * Wp
        // Live taps only (a tap that reads only padding adds nothing): dW comes out for those.
        var offsets: [Int] = []
        for kt in shape.liveTaps.t {
            for kh in shape.liveTaps.h {
                for kw in shape.liveTaps.w {
                    offsets.append((kt * g.dilation.t * Hp + kh * g.dilation.h) * Wp + kw * g.dilation.w)
                }
            }
        }
        let taps = offsets.count, K = C * taps, rowsPerSample = To * Ho
        let stride = [g.stride.t, g.stride.h, g.stride.w]
        let threads = max(1, computeThreads)
        let parts = min(rowsPerSample, max(1, (2 * threads + shape.batch - 1) / shape.batch))
        let items = shape.batch * parts, rowsPerPart = (rowsPerSample + parts - 1) / parts
        let work = K * M * P * shape.batch, shares = Parallel.threads(items, work: work)
        let perThread = C * plane + rowsPerPart * Wo * M
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: shares * perThread)
        let total = UnsafeMutablePointer<Float>.allocate(capacity: K * M)
        defer {
            scratch.deallocate()
            total.deallocate()
        }
        offsets.withUnsafeBufferPointer { o in stride.withUnsafeBufferPointer { st in
            sumShares(items, work: work, threads: shares, size: K * M, into: total) { k, share, sum in
                let xpad = scratch + k * perThread, gT = xpad + C * plane
                var padded = -1
                for item in share {
                    let s = item / parts, r0 = item % parts * rowsPerPart, r1 = min(rowsPerSample, r0 + rowsPerPart)
                    guard r0 < r1 else { continue }
                    if padded != s {
                        xpad.update(repeating: 0, count: C * plane)
                        let src = x + s * C * shape.inputVolume
                        for c in 0..<C {
                            for t in 0..<T {
                                for h in 0..<H {
                                    (xpad + c * plane + ((t + g.padding.t) * Hp + h + g.padding.h) * Wp + g.padding.w)
                                        .update(from: src + ((c * T + t) * H + h) * W, count: W)
                                }
                            }
                        }
                        padded = s
                    }
                    // dY of rows r0 ..< r1 as [positions][M].
                    let p0 = r0 * Wo, count = (r1 - r0) * Wo, grad = dy + s * M * P
                    for m in 0..<M {
                        let row = grad + m * P + p0
                        for p in 0..<count { gT[p * M + m] = row[p] }
                    }
                    tb_weight_gradient_padded(level, xpad, C, plane, Hp, Wp, o.baseAddress, taps, Ho, Wo,
                                              st.baseAddress, r0, r1, gT, M, sum, M)
                }
            }
        } }
        for m in 0..<M {
            for r in 0..<K { dw[m * K + r] = total[r * M + m] }
        }
    }
}
