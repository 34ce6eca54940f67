// vol2col and col2vol: between the input [N, C, T, H, W] and the column matrix
// [C·kt·kh·kw, positions] of one tile of output positions (ConvShape.tiles) that turns the
// convolution of that tile into one GEMM. A tile of several samples puts them side by side.

/// For one axis and one kernel tap, the output positions o whose input position
/// o·stride + offset falls inside [0, size): they form the range lo..<hi.
struct TapRange {
    let lo: Int
    let hi: Int
    /// Input position of output position 0 (may be negative: padding).
    let offset: Int

    init(size: Int, outputSize: Int, stride: Int, padding: Int, dilation: Int, tap: Int) {
        offset = tap * dilation - padding
        // o·s + offset ≥ 0  ⇔  o ≥ ⌈−offset / s⌉;   o·s + offset ≤ size − 1  ⇔  o ≤ ⌊(size − 1 − offset) / s⌋
        let first = -TapRange.floorDiv(offset, stride)
        let last = TapRange.floorDiv(size - 1 - offset, stride)
        lo = min(max(first, 0), outputSize)
        hi = max(lo, min(last + 1, outputSize))
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    /// One range per kernel tap along an axis.
    static func axis(size: Int, outputSize: Int, stride: Int, padding: Int, dilation: Int,
                     kernel: Int) -> [TapRange] {
        (0..<kernel).map {
            TapRange(size: size, outputSize: outputSize, stride: stride, padding: padding,
                     dilation: dilation, tap: $0)
        }
    }
}

enum VolumeColumns {
    /// Per-axis tap ranges of a shape, computed once per call.
    struct Taps {
        let t: [TapRange], h: [TapRange], w: [TapRange]

        init(_ shape: ConvShape) {
            let g = shape.geometry
            t = TapRange.axis(size: shape.input.t, outputSize: shape.output.t, stride: g.stride.t,
                              padding: g.padding.t, dilation: g.dilation.t, kernel: g.kernel.t)
            h = TapRange.axis(size: shape.input.h, outputSize: shape.output.h, stride: g.stride.h,
                              padding: g.padding.h, dilation: g.dilation.h, kernel: g.kernel.h)
            w = TapRange.axis(size: shape.input.w, outputSize: shape.output.w, stride: g.stride.w,
                              padding: g.padding.w, dilation: g.dilation.w, kernel: g.kernel.w)
        }
    }

    /// vol2col of one tile: columns[c·K + tap, s·R·W' + (r − r0)·W' + w'] = input[s, c, at(tap, r, w')],
    /// zero where the tap reads padding. `input` points at the tile's first sample [samples, C, T, H, W];
    /// `columns` is [C·K, tile width]. Rows of the column matrix are independent, so the work is
    /// split over (sample, channel, kt, kh).
    static func gather(input: UnsafePointer<Float>, tile: ConvTile, shape: ConvShape,
                       columns: UnsafeMutablePointer<Float>) {
        let taps = Taps(shape), g = shape.geometry
        let (inH, inW) = (shape.input.h, shape.input.w), (outH, outW) = (shape.output.h, shape.output.w)
        let KT = g.kernel.t, KH = g.kernel.h, KW = g.kernel.w, C = shape.inChannels
        let sampleWidth = tile.rows.count * outW, ld = tile.samples * sampleWidth
        let st = g.stride.t, sh = g.stride.h, sw = g.stride.w, volume = shape.inputVolume
        let items = tile.samples * C * KT * KH
        Parallel.forEach(items, work: shape.columnRows * ld) { item in
            let kh = item % KH, kt = item / KH % KT, c = item / (KH * KT) % C, s = item / (KH * KT * C)
            let src = input + (s * C + c) * volume
            let tr = taps.t[kt], hr = taps.h[kh]
            for kw in 0..<KW {
                let wr = taps.w[kw], n = wr.hi - wr.lo
                var d = columns + (((c * KT + kt) * KH + kh) * KW + kw) * ld + s * sampleWidth
                var ot = tile.rows.lowerBound / outH, oh = tile.rows.lowerBound % outH
                for _ in tile.rows {
                    if ot >= tr.lo && ot < tr.hi && oh >= hr.lo && oh < hr.hi && n > 0 {
                        let s0 = src + ((ot * st + tr.offset) * inH + oh * sh + hr.offset) * inW + wr.lo * sw + wr.offset
                        d.update(repeating: 0, count: wr.lo)
                        let d0 = d + wr.lo
                        if sw == 1 {
                            d0.update(from: s0, count: n)
                        } else {
                            for j in 0..<n { d0[j] = s0[j * sw] }
                        }
                        (d + wr.hi).update(repeating: 0, count: outW - wr.hi)
                    } else {
                        d.update(repeating: 0, count: outW)
                    }
                    d += outW
                    oh += 1
                    if oh == outH { oh = 0; ot += 1 }
                }
            }
        }
    }

    /// col2vol of one tile, the adjoint of `gather`: gradInput[s, c, at(tap, r, w')] += columns[...];
    /// taps that read padding are dropped. Taps of one channel add into the same input values,
    /// so the work is split over (sample, channel) only and each adds its taps in a fixed order.
    static func scatterAdd(columns: UnsafePointer<Float>, tile: ConvTile, shape: ConvShape,
                           gradInput: UnsafeMutablePointer<Float>) {
        let taps = Taps(shape), g = shape.geometry
        let (inH, inW) = (shape.input.h, shape.input.w), (outH, outW) = (shape.output.h, shape.output.w)
        let KT = g.kernel.t, KH = g.kernel.h, KW = g.kernel.w, C = shape.inChannels
        let sampleWidth = tile.rows.count * outW, ld = tile.samples * sampleWidth
        let st = g.stride.t, sh = g.stride.h, sw = g.stride.w, volume = shape.inputVolume
        Parallel.forEach(tile.samples * C, work: shape.columnRows * ld) { item in
            let c = item % C, s = item / C
            let dst = gradInput + (s * C + c) * volume
            var row = columns + c * KT * KH * KW * ld + s * sampleWidth
            for tr in taps.t {
                for hr in taps.h {
                    for wr in taps.w {
                        let n = wr.hi - wr.lo
                        var src = row
                        var ot = tile.rows.lowerBound / outH, oh = tile.rows.lowerBound % outH
                        for _ in tile.rows {
                            if ot >= tr.lo && ot < tr.hi && oh >= hr.lo && oh < hr.hi && n > 0 {
                                let s0 = src + wr.lo
                                let d0 = dst + ((ot * st + tr.offset) * inH + oh * sh + hr.offset) * inW
                                    + wr.lo * sw + wr.offset
                                if sw == 1 {
                                    for j in 0..<n { d0[j] += s0[j] }
                                } else {
                                    for j in 0..<n { d0[j * sw] += s0[j] }
                                }
                            }
                            src += outW
                            oh += 1
                            if oh == outH { oh = 0; ot += 1 }
                        }
                        row += ld
                    }
                }
            }
        }
    }

    /// [samples, rows, P] → [rows, samples·P]: a batch of per-sample matrices side by side.
    static func interleave(_ src: UnsafePointer<Float>, samples: Int, rows: Int, columns P: Int,
                           into dst: UnsafeMutablePointer<Float>) {
        for s in 0..<samples {
            for r in 0..<rows {
                (dst + r * samples * P + s * P).update(from: src + (s * rows + r) * P, count: P)
            }
        }
    }

    /// [rows, samples·P] → [samples, rows, P]: the inverse of `interleave`.
    static func deinterleave(_ src: UnsafePointer<Float>, samples: Int, rows: Int, columns P: Int,
                             into dst: UnsafeMutablePointer<Float>) {
        for s in 0..<samples {
            for r in 0..<rows {
                (dst + (s * rows + r) * P).update(from: src + r * samples * P + s * P, count: P)
            }
        }
    }
}
