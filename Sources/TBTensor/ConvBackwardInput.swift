// The input gradient of Conv3D, two ways. With stride 1 it is itself a convolution: dY
// convolved with the weight flipped in space and transposed in channels. Its GEMMs are
// [Cin, Cout·K]·[Cout·K, tile], with a deep K; the col2vol way is [Cin·K, Cout]·[Cout, tile],
// whose K is only Cout and whose result must then be scattered back. Strided layers need col2vol.

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
                for co in 0..<cout {
                    for ci in 0..<cin {
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

    /// dX = col2vol(Wᵀ · dY), tile by tile.
    static func backwardInputByCol2Vol(gradOutput: Tensor, weight: Tensor, shape: ConvShape) -> Tensor {
        Tensor.filled(shape.inputShape) { dx in
            dx.update(repeating: 0, count: shape.inputShape.reduce(1, *))
            gradOutput.data.withUnsafeBufferPointer { dy in
                weight.data.withUnsafeBufferPointer { w in
                    guard let dy = dy.baseAddress, let w = w.baseAddress, !shape.isEmpty else { return }
                    shape.withLiveWeight(w, outer: shape.outChannels) { w in
                        scatterInputGradient(gradOutput: dy, weight: w, shape: shape, into: dx)
                    }
                }
            }
        }
    }

    /// dX += col2vol(columns) with columns[Cin·K, tile] = W[Cout, Cin·K]ᵀ · dY[Cout, tile] for
    /// each tile; `weight` holds the live taps only, `dx` [N, Cin, T, H, W] starts zeroed.
    static func scatterInputGradient(gradOutput dy: UnsafePointer<Float>, weight w: UnsafePointer<Float>,
                                     shape: ConvShape, into dx: UnsafeMutablePointer<Float>) {
        let P = shape.outputVolume, rows = shape.columnRows, cout = shape.outChannels
        let tiles = shape.tiles(), width = tiles.map { $0.width(shape) }.max() ?? 0
        let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
        let batchedGrad = UnsafeMutablePointer<Float>.allocate(capacity: tiles[0].isBatched ? cout * width : 0)
        defer { columns.deallocate(); batchedGrad.deallocate() }
        for tile in tiles {
            let ld = tile.width(shape)
            var grad = dy + tile.firstSample * cout * P + tile.rows.lowerBound * shape.output.w, ldb = P
            if tile.isBatched {
                VolumeColumns.interleave(grad, samples: tile.samples, rows: cout, columns: P, into: batchedGrad)
                grad = UnsafePointer(batchedGrad)
                ldb = ld
            }
            BLAS.sgemm(transA: true, transB: false, m: rows, n: ld, k: cout, a: w, lda: rows, b: grad, ldb: ldb,
                       beta: 0, c: columns, ldc: ld)
            VolumeColumns.scatterAdd(columns: columns, tile: tile, shape: shape,
                                     gradInput: dx + tile.firstSample * shape.inChannels * shape.inputVolume)
        }
    }
}
