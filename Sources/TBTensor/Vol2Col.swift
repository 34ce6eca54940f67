// vol2col and col2vol: between the input [N, C, T, H, W] and the column matrix
// [C·kt·kh·kw, positions] of one tile of output positions (ConvShape.tiles) that turns the
// convolution of that tile into one GEMM. A tile of several samples puts them side by side.
// vol2col reads through a ColumnSource, so stride-2 layers read phase planes at stride 1;
// where rows keep their width it copies whole runs of rows at once (gatherShifted).

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
}

enum VolumeColumns {
    /// Per-axis ranges of the live taps of a shape, computed once per call.
    struct Taps {
        let t: [TapRange], h: [TapRange], w: [TapRange]

        init(_ shape: ConvShape) {
            let g = shape.geometry
            t = shape.liveTaps.t.map {
                TapRange(size: shape.input.t, outputSize: shape.output.t, stride: g.stride.t,
                         padding: g.padding.t, dilation: g.dilation.t, tap: $0)
            }
            h = shape.liveTaps.h.map {
                TapRange(size: shape.input.h, outputSize: shape.output.h, stride: g.stride.h,
                         padding: g.padding.h, dilation: g.dilation.h, tap: $0)
            }
            w = shape.liveTaps.w.map {
                TapRange(size: shape.input.w, outputSize: shape.output.w, stride: g.stride.w,
                         padding: g.padding.w, dilation: g.dilation.w, tap: $0)
            }
        }
    }

    /// vol2col of one tile: columns[c·K + tap, s·R·W' + (r − r0)·W' + w'] = input[s, c, at(tap, r, w')],
    /// zero where the tap reads padding, for the samples of `tile` in `source`; `columns` is
    /// [C·K, tile width]. Rows of the column matrix are independent, so the work is split over
    /// (sample, channel, kt, kh).
    /// `parallel: false` keeps it on the calling thread (callers that share out whole tiles).
    static func gather(source: ColumnSource, tile: ConvTile, shape: ConvShape, columns: UnsafeMutablePointer<Float>,
                       parallel: Bool = true) {
        let sampleWidth = tile.rows.count * shape.output.w, ld = tile.samples * sampleWidth
        let KT = source.t.count, KH = source.h.count, KW = source.w.count
        Parallel.forEach(tile.samples * shape.inChannels * KT * KH, work: parallel ? shape.columnRows * ld : 0) { item in
            let s = item / (KH * KT * shape.inChannels), rows = item % (KH * KT * shape.inChannels) * KW
            gatherItem(item, source: source, tile: tile, shape: shape, into: columns + rows * ld + s * sampleWidth,
                       rowStride: ld)
        }
    }

    /// The column rows of one item (sample, channel, kt, kh) of `tile`, one per kw: tile.rows.count·W'
    /// values each, `rowStride` apart from `into`. Items are numbered ((s·C + c)·KT + kt)·KH + kh.
    @inline(__always)
    static func gatherItem(_ item: Int, source: ColumnSource, tile: ConvTile, shape: ConvShape,
                           into rows: UnsafeMutablePointer<Float>, rowStride: Int) {
        let (outH, outW) = (shape.output.h, shape.output.w), (inH, inW) = (source.size.h, source.size.w)
        let KT = source.t.count, KH = source.h.count, KW = source.w.count, C = shape.inChannels
        let st = source.stride.t, sh = source.stride.h, sw = source.stride.w
        // With stride 1 in h and w and W' = W, the tap reads a whole run of output rows of one
        // plane as one contiguous, shifted run of input: one copy, then the padding columns fixed up.
        let shifted = sh == 1 && sw == 1 && inW == outW
        let kh = item % KH, kt = item / KH % KT, c = item / (KH * KT) % C, s = item / (KH * KT * C)
        let tr = source.t[kt].range, hr = source.h[kh].range
        for kw in 0..<KW {
            let wr = source.w[kw].range, n = wr.hi - wr.lo
            let src = source.plane(sample: tile.firstSample + s, channel: c, phaseT: source.t[kt].phase,
                                   phaseH: source.h[kh].phase, phaseW: source.w[kw].phase)
            let row = rows + kw * rowStride
            if shifted {
                gatherShifted(src, tile: tile, outH: outH, width: outW, inH: inH, st: st, tr: tr, hr: hr, wr: wr,
                              into: row)
                continue
            }
            var d = row
            var ot = tile.rows.lowerBound / outH, oh = tile.rows.lowerBound % outH
            for _ in tile.rows {
                if ot >= tr.lo && ot < tr.hi && oh >= hr.lo && oh < hr.hi && n > 0 {
                    let s0 = src + ((ot * st + tr.offset) * inH + oh * sh + hr.offset) * inW + wr.lo * sw + wr.offset
                    copyRow(from: s0, stride: sw, to: d, zeros: wr.lo, count: n, width: outW)
                } else {
                    zero(d, outW)
                }
                d += outW
                oh += 1
                if oh == outH { oh = 0; ot += 1 }
            }
        }
    }

    /// One tap's column row for the tile when input rows and output rows have the same width
    /// and stride 1 in h and w: per output plane, one shifted copy of the valid rows, zeros for
    /// rows and columns that read padding.
    @inline(__always)
    static func gatherShifted(_ src: UnsafePointer<Float>, tile: ConvTile, outH: Int, width W: Int, inH: Int, st: Int,
                              tr: TapRange, hr: TapRange, wr: TapRange, into row: UnsafeMutablePointer<Float>) {
        var r = tile.rows.lowerBound
        var d = row
        while r < tile.rows.upperBound {
            let ot = r / outH, first = r - ot * outH
            let last = min(outH, first + tile.rows.upperBound - r)  // rows first..<last of plane ot
            let rows = last - first
            let lo = ot >= tr.lo && ot < tr.hi ? min(max(first, hr.lo), last) : last
            let hi = ot >= tr.lo && ot < tr.hi ? max(lo, min(last, hr.hi)) : last
            zero(d, (lo - first) * W)
            zero(d + (hi - first) * W, (last - hi) * W)
            if hi > lo && wr.hi > wr.lo {
                // Output (oh, w') reads input (oh + hr.offset, w' + wr.offset): a constant shift.
                // Elements that would wrap into the neighbouring row are the padding columns; the
                // copy skips those at the ends (so it never reads outside the plane) and the loop
                // below zeroes the rest.
                let d0 = d + (lo - first) * W
                let s0 = src + ((ot * st + tr.offset) * inH + lo + hr.offset) * W + wr.offset
                let count = (hi - lo) * W
                let skipFront = max(0, -wr.offset), skipBack = max(0, wr.offset)
                (d0 + skipFront).update(from: s0 + skipFront, count: count - skipFront - skipBack)
                for k in 0..<(hi - lo) {
                    let line = d0 + k * W
                    zero(line, wr.lo)
                    zero(line + wr.hi, W - wr.hi)
                }
            } else {
                zero(d + (lo - first) * W, (hi - lo) * W)
            }
            d += rows * W
            r += rows
        }
    }

    /// p[0..<count] = 0. Border fix-ups are 0–3 floats, for which a memset call (what the
    /// compiler makes of a plain loop) costs more than the stores.
    @inline(__always)
    static func zero(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
        switch count {
        case 0: return
        case 1: p[0] = 0
        case 2: p[0] = 0; p[1] = 0
        case 3: p[0] = 0; p[1] = 0; p[2] = 0
        default: p.update(repeating: 0, count: count)
        }
    }

    /// col2vol of one tile, the adjoint of `gather`: gradInput[s, c, at(tap, r, w')] += columns[...];
    /// taps that read padding are dropped. Taps of one channel add into the same input values,
    /// so the work is split over (sample, channel) only and each adds its taps in a fixed order.
    static func scatterAdd(columns: UnsafePointer<Float>, tile: ConvTile, shape: ConvShape,
                           gradInput: UnsafeMutablePointer<Float>) {
        let taps = Taps(shape), g = shape.geometry
        let (inH, inW) = (shape.input.h, shape.input.w), (outH, outW) = (shape.output.h, shape.output.w)
        let KT = taps.t.count, KH = taps.h.count, KW = taps.w.count, C = shape.inChannels
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
                                addRow(s0, to: d0, stride: sw, count: n)
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

    /// d[0..<zeros] = 0, d[zeros + j] = s[j·stride] for j < count, d[zeros + count..<width] = 0.
    /// Wrapping index arithmetic (no overflow checks) and a constant stride of 2 let the
    /// compiler vectorise the strided loops.
    @inline(__always)
    static func copyRow(from s: UnsafePointer<Float>, stride: Int, to d: UnsafeMutablePointer<Float>,
                        zeros: Int, count: Int, width: Int) {
        zero(d, zeros)
        let d0 = d + zeros
        switch stride {
        case 1: for j in 0..<count { d0[j] = s[j] }
        case 2: for j in 0..<count { d0[j] = s[j &<< 1] }
        default: for j in 0..<count { d0[j] = s[j &* stride] }
        }
        zero(d + zeros + count, width - zeros - count)
    }

    /// d[j·stride] += s[j] for j < count.
    @inline(__always)
    static func addRow(_ s: UnsafePointer<Float>, to d: UnsafeMutablePointer<Float>, stride: Int, count: Int) {
        switch stride {
        case 1: for j in 0..<count { d[j] += s[j] }
        case 2: for j in 0..<count { d[j &<< 1] += s[j] }
        default: for j in 0..<count { d[j &* stride] += s[j] }
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
