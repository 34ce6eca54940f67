// The input gradient of Conv3D, two ways. With stride 1 it is itself a convolution: dY
// convolved with the weight flipped in space and transposed in channels. That GEMM is
// [Cin, Cout·K]·[Cout·K, N·THW], with a deep K; the col2vol way is [Cin·K, Cout]·[Cout, N·T'H'W'],
// whose K is only Cout and whose result must then be scattered back. Strided layers need col2vol.

extension Conv3D {
    /// Whether `backwardInput` runs as a convolution of dY rather than GEMM + col2vol.
    static func usesTransposedConvolution(_ shape: ConvShape) -> Bool {
        shape.geometry.stride == (1, 1, 1)
    }

    /// dX = dY ⊛ flip(W)ᵀ with padding d·(k − 1) − p per axis (stride 1 only).
    static func backwardInputByConvolution(gradOutput: Tensor, weight: Tensor, shape: ConvShape) -> Tensor {
        let g = shape.geometry
        precondition(g.stride == (1, 1, 1), "Conv3D: transposed path needs stride 1, not \(g)")
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
        let transposed = ConvGeometry(
            kernel: (g.kernel.t, g.kernel.h, g.kernel.w), stride: (1, 1, 1),
            padding: (g.dilation.t * (g.kernel.t - 1) - g.padding.t,
                      g.dilation.h * (g.kernel.h - 1) - g.padding.h,
                      g.dilation.w * (g.kernel.w - 1) - g.padding.w),
            dilation: (g.dilation.t, g.dilation.h, g.dilation.w))
        // Negative padding (p > d·(k − 1)) crops; TapRange handles both signs.
        let dual = ConvShape(batch: shape.batch, inChannels: cout, outChannels: cin, input: shape.output,
                             output: shape.input, geometry: transposed)
        return Tensor.filled(shape.inputShape) { dx in
            gradOutput.data.withUnsafeBufferPointer { dy in
                flipped.withUnsafeBufferPointer { f in
                    guard let dy = dy.baseAddress, let f = f.baseAddress else { return }
                    convolve(input: dy, weight: f, shape: dual, output: dx)
                }
            }
        }
    }

    /// dX = col2vol(Wᵀ · dY), tile by tile.
    static func backwardInputByCol2Vol(gradOutput: Tensor, weight: Tensor, shape: ConvShape) -> Tensor {
        let P = shape.outputVolume, rows = shape.columnRows, cout = shape.outChannels
        let sampleInput = shape.inChannels * shape.inputVolume
        return Tensor.filled(shape.inputShape) { dx in
            dx.update(repeating: 0, count: shape.batch * sampleInput)
            gradOutput.data.withUnsafeBufferPointer { dy in
                weight.data.withUnsafeBufferPointer { w in
                    guard let dy = dy.baseAddress, let w = w.baseAddress else { return }
                    let tiles = shape.tiles(), width = tiles.map { $0.width(shape) }.max() ?? 0
                    let columns = UnsafeMutablePointer<Float>.allocate(capacity: rows * width)
                    let batchedGrad = UnsafeMutablePointer<Float>.allocate(capacity: tiles[0].isBatched ? cout * width : 0)
                    defer { columns.deallocate(); batchedGrad.deallocate() }
                    for tile in tiles {
                        let ld = tile.width(shape), grad = dy + tile.firstSample * cout * P
                        if tile.isBatched {
                            VolumeColumns.interleave(grad, samples: tile.samples, rows: cout, columns: P, into: batchedGrad)
                        }
                        // columns[Cin·K, tile] = W[Cout, Cin·K]ᵀ · dY[Cout, tile]
                        BLAS.sgemm(transA: true, transB: false, m: rows, n: ld, k: cout, a: w, lda: rows,
                                   b: tile.isBatched ? UnsafePointer(batchedGrad) : grad + tile.rows.lowerBound * shape.output.w,
                                   ldb: tile.isBatched ? ld : P, beta: 0, c: columns, ldc: ld)
                        VolumeColumns.scatterAdd(columns: columns, tile: tile, shape: shape,
                                                 gradInput: dx + tile.firstSample * sampleInput)
                    }
                }
            }
        }
    }
}
