// The input gradient of Conv3D, two ways. With stride 1 it is itself a convolution: dY
// convolved with the weight flipped in space and transposed in channels. Its GEMMs are
// [Cin, Cout·K]·[Cout·K, tile], with a deep K; the col2vol way is [Cin·K, Cout]·[Cout, tile],
// whose K is only Cout and whose result must then be scattered back. Strided layers need col2vol.

import CKernels

extension Conv3D {
    /// Whether `backwardInput` runs as a convolution of dY rather than GEMM + col2vol.
    static func usesTransposedConvolution(_ shape: ConvShape) -> Bool {
        shape.geometry.stride == (1, 1, 1)
    }

    /// dX = dY ⊛ flip(W)ᵀ with padding d·(k − 1) − p per axis (stride 1 only).
    static func backwardInputByConvolution(gradOutput: Tensor, weight: Tensor, shape: ConvShape) -> Tensor {
        let dual = shape.transposed
        let cin = shape.inChannels, cout = shape.outChannels, K = shape.kernelVolume
        // [Cin, Cout, K]: W'[ci, co, K−1−k] = W[co, ci, k]. Reversing the flat tap index
        // reverses the t, h and w taps together.
        var flipped = [Float](repeating: 0, count: cin * cout * K)
        weight.data.withUnsafeBufferPointer { w in
            flipped.withUnsafeMutableBufferPointer { f in
                Parallel.forEach(cin, work: cin * cout * K) { ci in
                    for co in 0..<cout {
                        let src = (co * cin + ci) * K, dst = (ci * cout + co) * K
                        for k in 0..<K { f[dst + K - 1 - k] = w[src + k] }
                    }
                }
            }
        }
        return Tensor.filled(shape.inputShape) { dx in
            gradOutput.data.withUnsafeBufferPointer { dy in
                flipped.withUnsafeBufferPointer { f in
                    guard let dy = dy.baseAddress, let f = f.baseAddress else {
                        return dx.update(repeating: 0, count: shape.inputShape.reduce(1, *))
                    }
                    convolve(input: dy, weight: f, shape: dual, output: dx)
                }
            }
        }
    }

    /// dX = col2vol(Wᵀ · dY), tile by tile; the GEMMs on the panel microkernels at `level`, or on
    /// OpenBLAS when nil.
    static func backwardInputByCol2Vol(gradOutput: Tensor, weight: Tensor, shape: ConvShape,
                                       level: Int32? = MicroKernel.isFast ? MicroKernel.best : nil) -> Tensor {
        Tensor.filled(shape.inputShape) { dx in
            dx.update(repeating: 0, count: shape.inputShape.reduce(1, *))
            gradOutput.data.withUnsafeBufferPointer { dy in
                weight.data.withUnsafeBufferPointer { w in
                    guard let dy = dy.baseAddress, let w = w.baseAddress, !shape.isEmpty else { return }
                    shape.withLiveWeight(w, outer: shape.outChannels) { w in
                        scatterInputGradient(gradOutput: dy, weight: w, shape: shape, into: dx, level: level)
                    }
                }
            }
        }
    }

    /// dX += col2vol(columns) with columns[Cin·K, tile] = W[Cout, Cin·K]ᵀ · dY[Cout, tile] for
    /// each tile; `weight` holds the live taps only, `dx` [N, Cin, T, H, W] starts zeroed.
    static func scatterInputGradient(gradOutput dy: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                                     shape: ConvShape, into dx: UnsafeMutablePointer<Float>, level: Int32?) {
        let P = shape.outputVolume, rows = shape.columnRows, cout = shape.outChannels
        let tiles = shape.tiles(), width = tiles.map { $0.width(shape) }.max() ?? 0
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
        let batchedGrad = UnsafeMutablePointer<Float>.allocate(capacity: tiles[0].isBatched ? cout * width : 0)
        defer { columns.deallocate(); batchedGrad.deallocate() }
        let transposed = level.map { TransposedWeight(w, shape: shape, level: $0) }
        defer { transposed?.deallocate() }
        for tile in tiles {
            let ld = tile.width(shape)
            var grad = dy + tile.firstSample * cout * P + tile.rows.lowerBound * shape.output.w, ldb = P
            if let level, let transposed {
                transposed.multiply(grad, tile: tile, shape: shape, level: level, into: columns)
            } else {
                if tile.isBatched {
                    VolumeColumns.interleave(grad, samples: tile.samples, rows: cout, columns: P, into: batchedGrad)
                    grad = UnsafePointer(batchedGrad)
                    ldb = ld
                }
                BLAS.sgemm(transA: true, transB: false, m: rows, n: ld, k: cout, a: w, lda: rows, b: grad, ldb: ldb,
                           beta: 0, c: columns, ldc: ld)
            }
            VolumeColumns.scatterAdd(columns: columns, tile: tile, shape: shape,
                                     gradInput: dx + tile.firstSample * shape.inChannels * shape.inputVolume)
        }
    }
}

/// Wᵀ [Cin·K, Cout] packed for the panel microkernel, and the GEMM of one col2vol tile with it.
struct TransposedWeight {
    let packed: UnsafeMutablePointer<Float>

    init(_ w: UnsafePointer<Float>, shape: ConvShape, level: Int32) {
        let rows = shape.columnRows, cout = shape.outChannels, mr = tb_gemm_rows(level)
        let transposed = UnsafeMutablePointer<Float>.allocate(capacity: rows * cout)
        defer { transposed.deallocate() }
        for o in 0..<cout {
            for r in 0..<rows { transposed[r * cout + o] = w[o * rows + r] }
        }
        packed = .allocate(capacity: (rows + mr - 1) / mr * mr * cout)
        packRows(level: level, rows, cout, transposed, lda: cout, into: packed)
    }

    func deallocate() { packed.deallocate() }

    /// columns[Cin·K, tile] = Wᵀ · dY[Cout, tile], dY's tile packed into panels first; the panels
    /// write disjoint columns, so they run in parallel.
    func multiply(_ dy: UnsafePointer<Float>, tile: ConvTile, shape: ConvShape, level: Int32,
                  into columns: UnsafeMutablePointer<Float>) {
        let rows = shape.columnRows, cout = shape.outChannels, P = shape.outputVolume, nr = tb_gemm_columns(level)
        let ld = tile.width(shape), sampleWidth = tile.rows.count * shape.output.w, panels = (ld + nr - 1) / nr
        let grad = UnsafeMutablePointer<Float>.allocate(capacity: panels * cout * nr)
        defer { grad.deallocate() }
        for s in 0..<tile.samples {
            tb_pack_matrix(level, dy + s * cout * P, cout, sampleWidth, P, s * sampleWidth, grad)
        }
        Parallel.forEach(panels, work: rows * ld) { p in
            tb_gemm_panel(level, rows, cout, packed, grad + p * cout * nr, columns + p * nr, ld, min(nr, ld - p * nr))
        }
    }
}
