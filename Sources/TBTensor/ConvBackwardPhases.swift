// The input gradient of a stride-2 convolution as a set of stride-1 ones. Input position
// i = 2·o + k − p along a stride-2 axis, so the inputs of one parity r (i = 2m + r) are reached
// only by the taps k ≡ r + p (mod 2), each from output position o = m + (r + p − k)/2: per
// parity ("phase") dX is dY convolved at stride 1 with that phase's taps of the transposed
// weight, on a plane of the output's size. The phases run on the direct same-size kernel that
// reads dY through per-tap masks (same_size.c), so nothing is packed and nothing is scattered
// with additions (col2vol), and every dX value is one kernel's sum in a fixed order.

import CKernels

/// One axis of a phase-split input gradient: per phase, its taps and each tap's offset from
/// m into dY, and how many input positions the phase holds.
struct PhaseAxis {
    let stride: Int
    /// Per phase r: (tap, dY offset) pairs.
    let taps: [[(tap: Int, offset: Int)]]
    /// Per phase r: input positions r, r + stride, ... below the input size.
    let sizes: [Int]

    /// nil unless the axis has stride 1 with output size = input size, or stride 2 without
    /// dilation whose phases fit in the output's size.
    init?(input: Int, output: Int, kernel: Int, stride: Int, padding: Int, dilation: Int) {
        self.stride = stride
        switch stride {
        case 1:
            guard input == output else { return nil }
            sizes = [input]
            // i = o + k·d − p  ⇒  o = i + (p − k·d)
            taps = [(0..<kernel).map { (tap: $0, offset: padding - $0 * dilation) }]
        case 2:
            guard dilation == 1, (input + 1) / 2 <= output else { return nil }
            sizes = [(input + 1) / 2, input / 2]
            taps = (0..<2).map { r in
                (0..<kernel).filter { (r + padding - $0) & 1 == 0 }.map { (tap: $0, offset: (r + padding - $0) / 2) }
            }
        default:
            return nil
        }
    }

    /// Taps of phase r that read dY at some position m < sizes[r].
    func liveTaps(_ r: Int, outputSize: Int) -> [(tap: Int, offset: Int)] {
        taps[r].filter { max(0, -$0.offset) < min(sizes[r], outputSize - $0.offset) }
    }
}

extension Conv3D {
    /// Whether `backwardInput` of a strided convolution runs phase by phase (else col2vol).
    static func phaseAxes(_ shape: ConvShape) -> (t: PhaseAxis, h: PhaseAxis, w: PhaseAxis)? {
        guard MicroKernel.isFast, shape.geometry.stride != (1, 1, 1) else { return nil }
        let g = shape.geometry, i = shape.input, o = shape.output
        guard let t = PhaseAxis(input: i.t, output: o.t, kernel: g.kernel.t, stride: g.stride.t, padding: g.padding.t,
                                dilation: g.dilation.t),
              let h = PhaseAxis(input: i.h, output: o.h, kernel: g.kernel.h, stride: g.stride.h, padding: g.padding.h,
                                dilation: g.dilation.h),
              let w = PhaseAxis(input: i.w, output: o.w, kernel: g.kernel.w, stride: g.stride.w, padding: g.padding.w,
                                dilation: g.dilation.w)
        else { return nil }
        // A 1×1×1 stride-2 kernel reaches one phase in eight: col2vol, a GEMM and a copy, is cheaper.
        guard ![t, h, w].contains(where: { $0.taps.contains(where: \.isEmpty) }) else { return nil }
        return (t, h, w)
    }

    /// One phase of the split: where its inputs sit and which taps reach them.
    struct GradientPhase {
        let phase: (t: Int, h: Int, w: Int)
        let size: (t: Int, h: Int, w: Int)
        /// (dt, dh, dw, 0) per tap, as tb_conv_same_size reads them.
        let offsets: [Int]
        /// Wᵀ of the phase's taps, [Cin, Cout·taps] packed by tb_pack_rows.
        let packed: UnsafeMutablePointer<Float>?
    }

    /// dX of a stride-2 convolution, phase by phase; `axes` from `phaseAxes(shape)`.
    static func backwardInputByPhases(gradOutput: Tensor, weight: Tensor, shape: ConvShape,
                                      axes: (t: PhaseAxis, h: PhaseAxis, w: PhaseAxis),
                                      level: Int32 = MicroKernel.best) -> Tensor {
        let cin = shape.inChannels, cout = shape.outChannels, P = shape.outputVolume, o = shape.output
        let k = shape.geometry.kernel, mr = tb_gemm_rows(level)
        var phases: [GradientPhase] = []
        defer { for p in phases { p.packed?.deallocate() } }
        weight.data.withUnsafeBufferPointer { w in
            for rt in 0..<axes.t.stride {
                for rh in 0..<axes.h.stride {
                    for rw in 0..<axes.w.stride {
                        var offsets: [Int] = [], taps: [Int] = []
                        for (kt, dt) in axes.t.liveTaps(rt, outputSize: o.t) {
                            for (kh, dh) in axes.h.liveTaps(rh, outputSize: o.h) {
                                for (kw, dw) in axes.w.liveTaps(rw, outputSize: o.w) {
                                    offsets += [dt, dh, dw, 0]
                                    taps.append((kt * k.h + kh) * k.w + kw)
                                }
                            }
                        }
                        var packed: UnsafeMutablePointer<Float>?
                        if !taps.isEmpty {
                            // A[ci, co·taps + i] = W[co, ci, tap i]
                            let columns = cout * taps.count
                            var a = [Float](repeating: 0, count: cin * columns)
                            for ci in 0..<cin {
                                for co in 0..<cout {
                                    for (i, tap) in taps.enumerated() {
                                        a[ci * columns + co * taps.count + i] = w[(co * cin + ci) * shape.kernelVolume + tap]
                                    }
                                }
                            }
                            let p = UnsafeMutablePointer<Float>.allocate(capacity: (cin + mr - 1) / mr * mr * columns)
                            packRows(level: level, cin, columns, a, lda: columns, into: p)
                            packed = p
                        }
                        phases.append(GradientPhase(phase: (rt, rh, rw),
                                                    size: (axes.t.sizes[rt], axes.h.sizes[rh], axes.w.sizes[rw]),
                                                    offsets: offsets, packed: packed))
                    }
                }
            }
        }
        let items = shape.batch * phases.count, work = shape.batch * P * shape.columnRows
        let threads = Parallel.threads(items, work: work)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: threads * cin * P)
        defer { scratch.deallocate() }
        let (H, W) = (shape.input.h, shape.input.w), volume = shape.inputVolume
        let st = axes.t.stride, sh = axes.h.stride, sw = axes.w.stride
        return Tensor.filled(shape.inputShape) { dx in
            gradOutput.data.withUnsafeBufferPointer { dyBuffer in
                guard let dy = dyBuffer.baseAddress else { return dx.update(repeating: 0, count: shape.inputShape.reduce(1, *)) }
                Parallel.forEachShare(items, work: work) { thread, share in
                    let plane = scratch + thread * cin * P
                    for item in share {
                        let n = item / phases.count, phase = phases[item % phases.count]
                        let sample = dx + n * cin * volume
                        guard let packed = phase.packed else {
                            // No tap reaches these inputs (padding wider than the input).
                            for ci in 0..<cin {
                                for mt in 0..<phase.size.t {
                                    for mh in 0..<phase.size.h {
                                        let row = sample + ci * volume + ((mt * st + phase.phase.t) * H + mh * sh + phase.phase.h) * W
                                        for mw in 0..<phase.size.w { row[mw * sw + phase.phase.w] = 0 }
                                    }
                                }
                            }
                            continue
                        }
                        phase.offsets.withUnsafeBufferPointer { offsets in
                            tb_conv_same_size(level, dy + n * cout * P, cout, P, o.t, o.h, o.w, offsets.baseAddress,
                                              offsets.count / 4, packed, cin, 0, P, plane, P)
                        }
                        for ci in 0..<cin {
                            for mt in 0..<phase.size.t {
                                for mh in 0..<phase.size.h {
                                    let row = sample + ci * volume + ((mt * st + phase.phase.t) * H + mh * sh + phase.phase.h) * W
                                    let from = plane + ci * P + (mt * o.h + mh) * o.w
                                    if sw == 1 {
                                        row.update(from: from, count: phase.size.w)
                                    } else {
                                        for mw in 0..<phase.size.w { row[mw * 2 + phase.phase.w] = from[mw] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
