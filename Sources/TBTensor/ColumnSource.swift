// What vol2col reads: the input itself, or, for stride 2 along t, h or w, the input split into
// phase planes (even and odd frames/rows/columns apart). In phase planes a stride-2 tap becomes
// a stride-1 read, so the stem and the downsampling convolutions get the same contiguous,
// shifted copies as stride-1 layers instead of a strided gather per output row.

/// One kernel tap along one axis: which phase plane it reads and the output range it covers there.
struct PhaseTap {
    let range: TapRange
    let phase: Int
}

/// The input as vol2col sees it: [N, C, phases.t, phases.h, phases.w, size.t, size.h, size.w], zero
/// beyond the input.
struct ColumnSource {
    let base: UnsafePointer<Float>
    let channels: Int
    let phases: (t: Int, h: Int, w: Int)
    let size: (t: Int, h: Int, w: Int)
    /// Step in the source between neighbouring output positions: 1 along a split axis.
    let stride: (t: Int, h: Int, w: Int)
    let t: [PhaseTap], h: [PhaseTap], w: [PhaseTap]

    var planeVolume: Int { size.t * size.h * size.w }

    /// The (size.t, size.h, size.w) plane of one sample, channel and phase triple.
    func plane(sample: Int, channel: Int, phaseT: Int = 0, phaseH: Int = 0, phaseW: Int = 0) -> UnsafePointer<Float> {
        base + ((((sample * channels + channel) * phases.t + phaseT) * phases.h + phaseH) * phases.w + phaseW)
            * planeVolume
    }

    /// Calls `body` with the source for `input` [N, C, T, H, W]; a phase-split copy lives only
    /// for the call.
    static func with<R>(input: UnsafePointer<Float>, shape: ConvShape, _ body: (ColumnSource) -> R) -> R {
        let g = shape.geometry, (T, H, W) = shape.input
        // A 1-tap axis reads one phase only: splitting would copy the whole input to use a quarter.
        let splitT = g.stride.t == 2 && g.kernel.t > 1
        let splitH = g.stride.h == 2 && g.kernel.h > 1, splitW = g.stride.w == 2 && g.kernel.w > 1
        let phases = (t: splitT ? 2 : 1, h: splitH ? 2 : 1, w: splitW ? 2 : 1)
        let size = (t: splitT ? (T + 1) / 2 : T, h: splitH ? (H + 1) / 2 : H, w: splitW ? (W + 1) / 2 : W)
        // Only the live taps: a dead one may look live in a phase plane's zero row.
        let allT = taps(size: size.t, output: shape.output.t, stride: g.stride.t, padding: g.padding.t,
                        dilation: g.dilation.t, kernel: g.kernel.t, split: splitT)
        let allH = taps(size: size.h, output: shape.output.h, stride: g.stride.h, padding: g.padding.h,
                        dilation: g.dilation.h, kernel: g.kernel.h, split: splitH)
        let allW = taps(size: size.w, output: shape.output.w, stride: g.stride.w, padding: g.padding.w,
                        dilation: g.dilation.w, kernel: g.kernel.w, split: splitW)
        let live = shape.liveTaps
        let (t, h, w) = (live.t.map { allT[$0] }, live.h.map { allH[$0] }, live.w.map { allW[$0] })
        let stride = (t: splitT ? 1 : g.stride.t, h: splitH ? 1 : g.stride.h, w: splitW ? 1 : g.stride.w)
        guard splitT || splitH || splitW else {
            return body(ColumnSource(base: input, channels: shape.inChannels, phases: phases, size: size,
                                     stride: stride, t: t, h: h, w: w))
        }
        let planes = shape.batch * shape.inChannels
        let planeVolume = size.t * size.h * size.w, volume = phases.t * phases.h * phases.w * planeVolume
        let split = UnsafeMutablePointer<Float>.allocate(capacity: planes * volume)
        defer { split.deallocate() }
        // [N·C, T, H, W] → [N·C, pt, ph, pw, T/2, H/2, W/2]; odd sizes leave a zero frame, row or column.
        Parallel.forEach(planes, work: planes * volume) { p in
            let src = input + p * T * H * W, dst = split + p * volume
            dst.update(repeating: 0, count: volume)
            for pt in 0..<phases.t {
                for ph in 0..<phases.h {
                    for pw in 0..<phases.w {
                        let phasePlane = dst + ((pt * phases.h + ph) * phases.w + pw) * planeVolume
                        var it = pt, ot = 0
                        while it < T {
                            var ih = ph, oh = 0
                            while ih < H {
                                let s = src + (it * H + ih) * W, d = phasePlane + (ot * size.h + oh) * size.w
                                var iw = pw, ow = 0
                                while iw < W { d[ow] = s[iw]; iw += phases.w; ow += 1 }
                                ih += phases.h
                                oh += 1
                            }
                            it += phases.t
                            ot += 1
                        }
                    }
                }
            }
        }
        return body(ColumnSource(base: split, channels: shape.inChannels, phases: phases, size: size,
                                 stride: stride, t: t, h: h, w: w))
    }

    /// Taps along one axis. Split (stride 2): input position 2·o + k·d − p lies in phase
    /// (k·d − p) mod 2 at position o + ⌊(k·d − p) / 2⌋, a stride-1 read.
    static func taps(size: Int, output: Int, stride: Int, padding: Int, dilation: Int, kernel: Int,
                     split: Bool) -> [PhaseTap] {
        (0..<kernel).map { k in
            guard split else {
                return PhaseTap(range: TapRange(size: size, outputSize: output, stride: stride, padding: padding,
                                                dilation: dilation, tap: k), phase: 0)
            }
            let raw = k * dilation - padding, shift = TapRange.floorDiv(raw, 2)
            return PhaseTap(range: TapRange(size: size, outputSize: output, stride: 1, padding: -shift,
                                            dilation: 0, tap: 0), phase: raw - 2 * shift)
        }
    }
}
