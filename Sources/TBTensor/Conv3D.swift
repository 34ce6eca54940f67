// 3D convolution (no groups, no bias) by vol2col + GEMM, forward and both backward passes
// side by side. Layout NCTHW; a 2D convolution is the T = 1, kernel-t = 1 case.
//
// The output positions are cut into tiles (ConvShape.tiles) whose column matrix fits in cache;
// each tile is one GEMM. With AVX2 or AVX-512 the GEMMs run on tb's panel microkernels
// (ConvPanels.swift; weight gradients only with AVX-512), threads taking whole tiles; otherwise
// on OpenBLAS, which threads them itself, with vol2col/col2vol split over rows or channels that
// write disjoint memory. Either way each output value is summed in a fixed order; the panel
// kernels' dW sums per thread, the threads' sums added in thread order.

/// Fast 3D convolution kernels over NCTHW tensors.
public enum Conv3D {
    /// Output [N, Cout, T', H', W'] of input [N, Cin, T, H, W] and weight [Cout, Cin, kt, kh, kw].
    public static func forward(input: Tensor, weight: Tensor, geometry: ConvGeometry) -> Tensor {
        let shape = ConvShape(inputShape: input.shape, weightShape: weight.shape, geometry: geometry)
        guard !shape.isEmpty else { return Tensor(zeros: shape.outputShape) }
        return Tensor.filled(shape.outputShape) { y in
            input.data.withUnsafeBufferPointer { x in
                weight.data.withUnsafeBufferPointer { w in
                    guard let x = x.baseAddress, let w = w.baseAddress else {
                        return y.update(repeating: 0, count: shape.outputShape.reduce(1, *))
                    }
                    convolve(input: x, weight: w, shape: shape, output: y)
                }
            }
        }
    }

    /// Gradient with respect to the input [N, Cin, T, H, W] (`inputShape`), given dY [N, Cout, T', H', W'].
    public static func backwardInput(gradOutput: Tensor, weight: Tensor, inputShape: [Int],
                                     geometry: ConvGeometry) -> Tensor {
        let shape = ConvShape(inputShape: inputShape, weightShape: weight.shape, geometry: geometry)
        precondition(gradOutput.shape == shape.outputShape,
                     "Conv3D: gradient \(gradOutput.shape) is not the output shape \(shape.outputShape)")
        guard !shape.isEmpty else { return Tensor(zeros: inputShape) }
        if usesTransposedConvolution(shape) {
            return backwardInputByConvolution(gradOutput: gradOutput, weight: weight, shape: shape)
        }
        if let axes = phaseAxes(shape) {
            return backwardInputByPhases(gradOutput: gradOutput, weight: weight, shape: shape, axes: axes)
        }
        return backwardInputByCol2Vol(gradOutput: gradOutput, weight: weight, shape: shape)
    }

    /// Gradient with respect to the weight, dW [Cout, Cin, kt, kh, kw], summed over the batch.
    public static func backwardWeight(gradOutput: Tensor, input: Tensor, geometry: ConvGeometry) -> Tensor {
        precondition(gradOutput.rank == 5, "Conv3D: gradient shape \(gradOutput.shape) is not [N, C, T, H, W]")
        let shape = ConvShape(inputShape: input.shape, outChannels: gradOutput.shape[1], geometry: geometry)
        precondition(gradOutput.shape == shape.outputShape,
                     "Conv3D: gradient \(gradOutput.shape) is not the output shape \(shape.outputShape)")
        return Tensor.filled(shape.weightShape) { dw in
            gradOutput.data.withUnsafeBufferPointer { dy in
                input.data.withUnsafeBufferPointer { x in
                    guard let dy = dy.baseAddress, let x = x.baseAddress, !shape.isEmpty else {
                        return dw.update(repeating: 0, count: shape.weightShape.reduce(1, *))
                    }
                    weightGradient(gradOutput: dy, input: x, shape: shape, into: dw)
                }
            }
        }
    }

    /// Below this many output positions per sample, a 1×1×1 convolution batches samples
    /// through the column path rather than running one small GEMM per sample.
    static let pointwiseMinimumVolume = 1024

    /// output = weight ⊛ input for one ConvShape; pointers address [N, Cin, T, H, W],
    /// [Cout, Cin·K] and [N, Cout, T', H', W'].
    static func convolve(input x: UnsafePointer<Float>, weight w: UnsafePointer<Float>, shape: ConvShape,
                         output y: UnsafeMutablePointer<Float>) {
        let P = shape.outputVolume, rows = shape.columnRows, cout = shape.outChannels
        guard !shape.isEmpty else {
            y.update(repeating: 0, count: shape.batch * cout * P)
            return
        }
        if shape.isPointwise && P >= pointwiseMinimumVolume {
            // Y_n[Cout, P] = W[Cout, Cin] · X_n[Cin, P]: the input is its own column matrix.
            for n in 0..<shape.batch {
                BLAS.sgemm(transA: false, transB: false, m: cout, n: P, k: rows, a: w, lda: rows,
                           b: x + n * rows * P, ldb: P, beta: 0, c: y + n * cout * P, ldc: P)
            }
            return
        }
        if MicroKernel.isFast {
            return convolveByPanels(input: x, weight: w, shape: shape, output: y, level: MicroKernel.best)
        }
        let tiles = shape.tiles(), width = tiles.map { $0.width(shape) }.max() ?? 0
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
        let batchedOutput = UnsafeMutablePointer<Float>.allocate(capacity: tiles[0].isBatched ? cout * width : 0)
        defer { columns.deallocate(); batchedOutput.deallocate() }
        shape.withLiveWeight(w, outer: cout) { w in
            ColumnSource.with(input: x, shape: shape) { source in
                for tile in tiles {
                    let ld = tile.width(shape), out = y + tile.firstSample * cout * P
                    VolumeColumns.gather(source: source, tile: tile, shape: shape, columns: columns)
                    // Y[Cout, tile] = W[Cout, Cin·K] · columns[Cin·K, tile]. A tile within one sample
                    // lands in place (ldc = P); whole samples come out as [Cout, samples·P] and are reordered.
                    if tile.isBatched {
                        BLAS.sgemm(transA: false, transB: false, m: cout, n: ld, k: rows, a: w, lda: rows,
                                   b: columns, ldb: ld, beta: 0, c: batchedOutput, ldc: ld)
                        VolumeColumns.deinterleave(batchedOutput, samples: tile.samples, rows: cout, columns: P,
                                                   into: out)
                    } else {
                        BLAS.sgemm(transA: false, transB: false, m: cout, n: ld, k: rows, a: w, lda: rows, b: columns,
                                   ldb: ld, beta: 0, c: out + tile.rows.lowerBound * shape.output.w, ldc: P)
                    }
                }
            }
        }
    }

    /// dW [Cout, Cin·K] = Σ over tiles of dY[Cout, tile] · columns[Cin·K, tile]ᵀ, tiles in a fixed
    /// order; pointers address [N, Cout, T', H', W'] and [N, Cin, T, H, W] of a non-empty shape.
    static func weightGradient(gradOutput dy: UnsafePointer<Float>, input x: UnsafePointer<Float>, shape: ConvShape,
                               into dw: UnsafeMutablePointer<Float>) {
        let P = shape.outputVolume, rows = shape.columnRows, cout = shape.outChannels
        if shape.isPointwise && P >= pointwiseMinimumVolume {
            // dW += dY_n[Cout, P] · X_n[Cin, P]ᵀ, straight from the tensors.
            for n in 0..<shape.batch {
                BLAS.sgemm(transA: false, transB: true, m: cout, n: rows, k: P, a: dy + n * cout * P, lda: P,
                           b: x + n * rows * P, ldb: P, beta: n == 0 ? 0 : 1, c: dw, ldc: rows)
            }
            return
        }
        // With dead taps the kernels make dW of the live taps only; it is spread out at the end.
        let liveGrad = shape.hasDeadTaps ? UnsafeMutablePointer<Float>.allocate(capacity: cout * rows) : dw
        defer { if liveGrad != dw { liveGrad.deallocate() } }
        if usesPaddedWeightGradient(shape, level: MicroKernel.best) {
            paddedWeightGradient(gradOutput: dy, input: x, shape: shape, into: liveGrad, level: MicroKernel.best)
        } else if MicroKernel.isFastForWeights {
            weightGradientByPanels(gradOutput: dy, input: x, shape: shape, into: liveGrad, level: MicroKernel.best)
        } else {
            weightGradientByBLAS(gradOutput: dy, input: x, shape: shape, into: liveGrad)
        }
        if liveGrad != dw {
            dw.update(repeating: 0, count: cout * shape.inChannels * shape.kernelVolume)
            shape.forEachLiveTap(outer: cout) { full, j in dw[full] = liveGrad[j] }
        }
    }

    /// dW of the live taps [Cout, Cin·K] by vol2col + sgemm: threads take whole tiles (gather and
    /// a one-thread sgemm each) and sum their own; the sums are added in thread order.
    static func weightGradientByBLAS(gradOutput dy: UnsafePointer<Float>, input x: UnsafePointer<Float>,
                                     shape: ConvShape, into liveGrad: UnsafeMutablePointer<Float>) {
        let P = shape.outputVolume, rows = shape.columnRows, cout = shape.outChannels
        let tiles = shape.tiles(parts: computeThreads), width = tiles.map { $0.width(shape) }.max() ?? 0
        let work = rows * width * tiles.count, threads = Parallel.threads(tiles.count, work: work)
        let batched = tiles[0].isBatched ? cout * width : 0, perThread = rows * width + batched
        // Allocated here for all threads: see PanelScratch.
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: threads * perThread)
        defer { scratch.deallocate() }
        ColumnSource.with(input: x, shape: shape) { source in
            sumShares(tiles.count, work: work, threads: threads, size: cout * rows, into: liveGrad) { k, share, sum in
                let columns = scratch + k * perThread, batchedGrad = columns + rows * width
                for t in share {
                    let tile = tiles[t], ld = tile.width(shape)
                    var grad = dy + tile.firstSample * cout * P + tile.rows.lowerBound * shape.output.w, lda = P
                    VolumeColumns.gather(source: source, tile: tile, shape: shape, columns: columns, parallel: false)
                    if tile.isBatched {
                        // Whole samples: dY reordered to [Cout, samples·P] to match the columns.
                        VolumeColumns.interleave(grad, samples: tile.samples, rows: cout, columns: P, into: batchedGrad)
                        grad = UnsafePointer(batchedGrad)
                        lda = ld
                    }
                    BLAS.sgemm(transA: false, transB: true, m: cout, n: rows, k: ld, a: grad, lda: lda,
                               b: columns, ldb: ld, beta: 1, c: sum, ldc: rows, split: false)
                }
            }
        }
    }
}
