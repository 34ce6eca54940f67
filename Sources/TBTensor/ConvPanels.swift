// Convolution GEMMs on tb's own microkernels (CKernels) instead of OpenBLAS. vol2col packs a
// tile's columns straight into panels [K][nr], which the microkernel multiplies by the packed
// weight straight into the output; convolutions that read planes of their output's size at
// stride 1 (R3D's 3×3×3 layers, and its strided ones through phase planes) skip even that: their
// microkernels read the input through per-tap masks. Threads take whole tiles, vol2col and GEMM
// together, so no BLAS thread pool competes with tb's threads (2-thread inference ran slower
// than 1-thread before), and no column matrix goes through memory to be packed again by sgemm.

import CKernels

/// The microkernel level of this CPU and the levels it can run.
enum MicroKernel {
    /// tb_cpu_level: 2 AVX-512F, 1 AVX2 + FMA, 0 portable C.
    static let best = tb_cpu_level()
    /// Every level this CPU runs, for tests.
    static var supported: [Int32] { Array(0...best) }
    /// Whether convolutions use the panel kernels: portable C is slower than OpenBLAS.
    static var isFast: Bool { best >= 1 }
    /// Whether weight gradients do too: at AVX2 their kernel, which sums across lanes, ran at
    /// half OpenBLAS's speed (28–41 against 45–65 GFLOP/s on R3D-S's layers, Zen 4 at level 1).
    static var isFastForWeights: Bool { best >= 2 }
}

/// tb_pack_rows with its blocks of rows shared out among threads (it reads a whole weight).
func packRows(level: Int32, _ M: Int, _ K: Int, _ a: UnsafePointer<Float>, lda: Int, into packed: UnsafeMutablePointer<Float>) {
    let mr = tb_gemm_rows(level), blocks = (M + mr - 1) / mr
    Parallel.forEach(blocks, work: M * K) { b in
        tb_pack_rows(level, min(mr, M - b * mr), K, a + b * mr * lda, lda, packed + b * mr * K)
    }
}

extension Conv3D {
    /// Panels per sample from which the direct forward kernel runs instead of packing columns:
    /// the last panel's unused lanes cost less than packing from 3 on (R3D-S's 64-channel
    /// 3×3×3 layer on 2×7×7 maps, 98 positions: 0.87 ms against 1.14 on 2 threads, Zen 4).
    static let directMinimumPanels = 3
    /// The same for the direct weight-gradient kernel, which lost on 98 positions (1.29 ms
    /// against 1.07 on 1 thread) and wins on 784.
    static let directGradientMinimumPanels = 8

    /// Packed-column bytes of one tile: small enough to stay in L2 between vol2col and the GEMM.
    static let panelTileBudgetBytes = 1 << 20
    /// The same for the weight gradient, whose microkernel reduces across lanes once per tile:
    /// wider tiles make that rarer (1–8 MB measured on R3D-S, 4 MB best or near it).
    static let gradientTileBudgetBytes = 4 << 20

    /// output = weight ⊛ input for one non-empty ConvShape through the panel microkernels at `level`.
    static func convolveByPanels(input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, shape: ConvShape,
                                 output y: UnsafeMutablePointer<Float>, level: Int32) {
        let M = shape.outChannels, K = shape.columnRows, P = shape.outputVolume, outW = shape.output.w
        let mr = tb_gemm_rows(level), nr = tb_gemm_columns(level)
        let tiles = shape.tiles(budgetBytes: panelTileBudgetBytes, parts: computeThreads)
        let width = tiles.map { $0.width(shape) }.max() ?? 0
        let packedWeight = UnsafeMutablePointer<Float>.allocate(capacity: (M + mr - 1) / mr * mr * K)
        defer { packedWeight.deallocate() }
        shape.withLiveWeight(w, outer: M) { packRows(level: level, M, K, $0, lda: K, into: packedWeight) }
        ColumnSource.with(input: x, shape: shape) { source in
            let reads = SameSizeReads(shape, source)
            // Panels of the direct kernel stay within a sample: it needs several per sample for
            // the last one's unused lanes not to matter.
            if let reads, P >= Conv3D.directMinimumPanels * nr {
                return convolveSameSize(reads, source: source, packedWeight: packedWeight, shape: shape, output: y,
                                        level: level)
            }
            let work = K * width * tiles.count
            let scratch = PanelScratch(shape: shape, reads: reads, width: width, nr: nr, gradient: false,
                                       threads: Parallel.threads(tiles.count, work: work))
            defer { scratch.deallocate() }
            Parallel.forEachShare(tiles.count, work: work) { k, share in
                let buffers = scratch[k], staging = buffers.staging
                for t in share {
                    let tile = tiles[t], ld = tile.width(shape), first = y + tile.firstSample * M * P
                    packColumns(source: source, tile: tile, shape: shape, level: level, buffers: buffers)
                    for q in stride(from: 0, to: ld, by: nr) {
                        let cols = min(nr, ld - q), panel = buffers.columns + q / nr * K * nr
                        guard tile.isBatched else {
                            tb_gemm_panel(level, M, K, packedWeight, panel, first + tile.rows.lowerBound * outW + q,
                                          P, cols)
                            continue
                        }
                        // Whole samples side by side: a panel within one sample lands in place,
                        // one that straddles samples is staged and split.
                        if q / P == (q + cols - 1) / P {
                            tb_gemm_panel(level, M, K, packedWeight, panel, first + q / P * M * P + q % P, P, cols)
                            continue
                        }
                        tb_gemm_panel(level, M, K, packedWeight, panel, staging, nr, cols)
                        var j = 0
                        while j < cols {
                            let s = (q + j) / P, p = (q + j) % P, n = min(cols - j, P - p)
                            for m in 0..<M { (first + (s * M + m) * P + p).update(from: staging + m * nr + j, count: n) }
                            j += n
                        }
                    }
                }
            }
        }
    }

    /// The direct kernel over whole samples or runs of rows: nothing is packed, the microkernel
    /// reads the input through per-tap masks. Tiles only share out the work, one per thread.
    static func convolveSameSize(_ reads: SameSizeReads, source: ColumnSource, packedWeight: UnsafePointer<Float>,
                                 shape: ConvShape, output y: UnsafeMutablePointer<Float>, level: Int32) {
        let M = shape.outChannels, K = shape.columnRows, P = shape.outputVolume, outW = shape.output.w
        let threads = max(1, computeThreads)
        let tiles = shape.tiles(budgetBytes: max(1, K * P * shape.batch * 4 / threads), parts: threads)
        reads.offsets.withUnsafeBufferPointer { o in
            Parallel.forEachShare(tiles.count, work: K * P * shape.batch) { _, share in
                for t in share {
                    let tile = tiles[t], p0 = tile.rows.lowerBound * outW, count = tile.rows.count * outW
                    for s in tile.firstSample..<tile.firstSample + tile.samples {
                        tb_conv_same_size(level, source.plane(sample: s, channel: 0),
                                          shape.inChannels, reads.channelStride, reads.size.t, reads.size.h,
                                          reads.size.w, o.baseAddress, o.count / 4, packedWeight, M, p0, count,
                                          y + s * M * P + p0, P)
                    }
                }
            }
        }
    }

    /// dW [Cout, Cin·K] (live taps) = Σ over tiles of dY[Cout, tile] · columns[Cin·K, tile]ᵀ through the
    /// panel microkernels. Each thread sums its share of tiles; the shares are added in thread order,
    /// so the result is the same for the same thread count.
    static func weightGradientByPanels(gradOutput dy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                                       shape: ConvShape, into liveGrad: UnsafeMutablePointer<Float>, level: Int32) {
        let M = shape.outChannels, K = shape.columnRows, P = shape.outputVolume, outW = shape.output.w
        let nr = tb_gemm_columns(level)
        ColumnSource.with(input: x, shape: shape) { source in
            let reads = SameSizeReads(shape, source)
            // The direct kernel exists at AVX-512 only; like the forward one, it wants many panels per sample.
            if let reads, P >= Conv3D.directGradientMinimumPanels * nr, level == 2 {
                return weightGradientSameSize(reads, gradOutput: dy, source: source, shape: shape, into: liveGrad,
                                              level: level)
            }
            let tiles = shape.tiles(budgetBytes: gradientTileBudgetBytes, parts: computeThreads)
            let width = tiles.map { $0.width(shape) }.max() ?? 0, work = K * width * tiles.count
            let threads = Parallel.threads(tiles.count, work: work)
            let scratch = PanelScratch(shape: shape, reads: reads, width: width, nr: nr, gradient: true, threads: threads)
            defer { scratch.deallocate() }
            sumShares(tiles.count, work: work, threads: threads, size: M * K, into: liveGrad) { k, share, sum in
                let buffers = scratch[k]
                for t in share {
                    let tile = tiles[t], ld = tile.width(shape), sampleWidth = tile.rows.count * outW
                    packColumns(source: source, tile: tile, shape: shape, level: level, buffers: buffers)
                    // dY of the tile as panels [M][nr]; lanes past the tile's end stay zero.
                    let panels = (ld + nr - 1) / nr
                    (buffers.gradient + (panels - 1) * M * nr).update(repeating: 0, count: M * nr)
                    for s in 0..<tile.samples {
                        let src = dy + (tile.firstSample + s) * M * P + tile.rows.lowerBound * outW
                        tb_pack_matrix(level, src, M, sampleWidth, P, s * sampleWidth, buffers.gradient)
                    }
                    tb_gemm_panels_nt(level, M, K, panels, buffers.gradient, buffers.columns, sum, K)
                }
            }
        }
    }

    /// The weight gradient of a same-size convolution with nothing packed but dY: the microkernel
    /// reads the input through per-tap masks, as the direct forward kernel does.
    static func weightGradientSameSize(_ reads: SameSizeReads, gradOutput dy: UnsafePointer<Float>,
                                       source: ColumnSource, shape: ConvShape,
                                       into liveGrad: UnsafeMutablePointer<Float>, level: Int32) {
        let M = shape.outChannels, K = shape.columnRows, P = shape.outputVolume, outW = shape.output.w
        let nr = tb_gemm_columns(level), threads = max(1, computeThreads)
        let tiles = shape.tiles(budgetBytes: max(1, K * P * shape.batch * 4 / threads), parts: threads)
        let panels = tiles.map { ($0.rows.count * outW + nr - 1) / nr * $0.samples }.max() ?? 0
        let work = K * P * shape.batch, shares = Parallel.threads(tiles.count, work: work)
        let gradients = UnsafeMutablePointer<Float>.allocate(capacity: shares * panels * M * nr)
        defer { gradients.deallocate() }
        reads.offsets.withUnsafeBufferPointer { o in
            sumShares(tiles.count, work: work, threads: shares, size: M * K, into: liveGrad) { k, share, sum in
                let g = gradients + k * panels * M * nr
                for t in share {
                    // dY as panels [samples][panels][M][nr], each sample's from lane 0, the last one's tail zero.
                    let tile = tiles[t], p0 = tile.rows.lowerBound * outW, count = tile.rows.count * outW
                    let perSample = (count + nr - 1) / nr
                    for s in 0..<tile.samples {
                        let panel = g + s * perSample * M * nr
                        (panel + (perSample - 1) * M * nr).update(repeating: 0, count: M * nr)
                        tb_pack_matrix(level, dy + (tile.firstSample + s) * M * P + p0, M, count, P, 0, panel)
                    }
                    tb_gemm_same_size_nt_avx512(source.plane(sample: tile.firstSample, channel: 0),
                                                shape.inChannels * reads.channelStride, tile.samples, shape.inChannels,
                                                reads.channelStride, reads.size.t, reads.size.h, reads.size.w,
                                                o.baseAddress, o.count / 4, p0, count, g, M, sum, K)
                }
            }
        }
    }

    /// Runs `body(k, share, sum)` as Parallel.forEachShare, each thread adding into its own zeroed
    /// `size` floats, then `result` = the threads' sums added in thread order.
    static func sumShares(_ items: Int, work: Int, threads: Int, size: Int, into result: UnsafeMutablePointer<Float>,
                          _ body: (Int, StrideTo<Int>, UnsafeMutablePointer<Float>) -> Void) {
        let partials = UnsafeMutablePointer<Float>.allocate(capacity: threads * size)
        defer { partials.deallocate() }
        partials.update(repeating: 0, count: threads * size)
        Parallel.forEachShare(items, work: work) { k, share in body(k, share, partials + k * size) }
        result.update(from: partials, count: size)
        for k in 1..<max(1, threads) {
            let partial = partials + k * size
            for i in 0..<size { result[i] += partial[i] }
        }
    }

    /// vol2col of one tile into `buffers.columns` as panels [⌈width/nr⌉][Cin·K][nr], lanes past the
    /// tile's end zero (so that a stale Inf there never meets a zero gradient). Same-size stride-1
    /// convolutions pack straight from the input; the others gather the tile's column matrix into
    /// `buffers.rows` first.
    static func packColumns(source: ColumnSource, tile: ConvTile, shape: ConvShape, level: Int32,
                            buffers: PanelBuffers) {
        let K = shape.columnRows, nr = buffers.nr, ld = tile.width(shape), sampleWidth = tile.rows.count * shape.output.w
        if ld % nr != 0 { (buffers.columns + ld / nr * K * nr).update(repeating: 0, count: K * nr) }
        if let reads = buffers.reads {
            reads.offsets.withUnsafeBufferPointer { o in
                for s in 0..<tile.samples {
                    tb_pack_same_size(level, source.plane(sample: tile.firstSample + s, channel: 0),
                                      shape.inChannels, reads.channelStride, reads.size.t, reads.size.h, reads.size.w,
                                      o.baseAddress, o.count / 4, tile.rows.lowerBound * shape.output.w, sampleWidth,
                                      s * sampleWidth, buffers.columns)
                }
            }
            return
        }
        let KT = source.t.count, KH = source.h.count, KW = source.w.count, itemsPerSample = shape.inChannels * KT * KH
        for item in 0..<tile.samples * itemsPerSample {
            let s = item / itemsPerSample, row = item % itemsPerSample * KW
            VolumeColumns.gatherItem(item, source: source, tile: tile, shape: shape,
                                     into: buffers.rows + row * ld + s * sampleWidth, rowStride: ld)
        }
        tb_pack_matrix(level, buffers.rows, K, ld, ld, 0, buffers.columns)
    }
}

/// How a convolution reads its ColumnSource when every tap reads at stride 1 from planes of the
/// output's size (stride 1 with "same" padding, or stride 2 through phase planes): then
/// output position p of tap i reads plane position p + shift, and vol2col is a set of shifted copies.
struct SameSizeReads {
    /// Per live tap (dt, dh, dw, start of its phase plane within a channel's planes).
    let offsets: [Int]
    let channelStride: Int
    let size: (t: Int, h: Int, w: Int)

    init?(_ shape: ConvShape, _ source: ColumnSource) {
        guard source.stride == (1, 1, 1), shape.output == source.size,
              shape.liveKernelVolume <= Int(TB_SAME_SIZE_MAX_TAPS) else { return nil }
        var offsets: [Int] = []
        for t in source.t {
            for h in source.h {
                for w in source.w {
                    offsets += [t.range.offset, h.range.offset, w.range.offset,
                                ((t.phase * source.phases.h + h.phase) * source.phases.w + w.phase)
                                    * source.planeVolume]
                }
            }
        }
        self.offsets = offsets
        channelStride = source.phases.t * source.phases.h * source.phases.w * source.planeVolume
        size = source.size
    }
}

/// Scratch for panel GEMMs, per thread: packed columns of the widest tile, the tile's column
/// matrix where vol2col needs one, dY packed as panels [M][nr] for the weight gradient, and one
/// panel of output to stage. Allocated by the calling thread for all threads at once: blocks
/// freed on Dispatch's threads go back to per-thread malloc arenas that return them to the
/// kernel, and every call then paid page faults for its scratch again.
struct PanelScratch {
    let nr: Int
    /// Set when the columns pack straight from the source, without a column matrix.
    let reads: SameSizeReads?
    let base: UnsafeMutablePointer<Float>
    let sizes: (columns: Int, rows: Int, gradient: Int, staging: Int)

    init(shape: ConvShape, reads: SameSizeReads?, width: Int, nr: Int, gradient: Bool, threads: Int) {
        let panels = (width + nr - 1) / nr, K = shape.columnRows
        self.nr = nr
        self.reads = reads
        sizes = (panels * K * nr, reads == nil ? K * width : 0, gradient ? panels * shape.outChannels * nr : 0,
                 shape.outChannels * nr)
        base = .allocate(capacity: threads * (sizes.columns + sizes.rows + sizes.gradient + sizes.staging))
    }

    func deallocate() { base.deallocate() }

    /// Thread k's buffers.
    subscript(k: Int) -> PanelBuffers {
        let start = base + k * (sizes.columns + sizes.rows + sizes.gradient + sizes.staging)
        return PanelBuffers(nr: nr, reads: reads, columns: start, rows: start + sizes.columns,
                            gradient: start + sizes.columns + sizes.rows,
                            staging: start + sizes.columns + sizes.rows + sizes.gradient)
    }
}

/// One thread's part of a PanelScratch.
struct PanelBuffers {
    let nr: Int
    let reads: SameSizeReads?
    let columns: UnsafeMutablePointer<Float>
    let rows: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    let staging: UnsafeMutablePointer<Float>
}
