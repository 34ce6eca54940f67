// Pooling over NCTHW tensors as PyTorch's max_pool3d, avg_pool3d (count_include_pad = true,
// ceil_mode = false) and adaptive_avg_pool3d(1), forward and backward side by side. Each
// (sample, channel) plane is independent, so planes run in parallel and results stay deterministic.

/// Max, average and global average pooling kernels.
public enum Pool3D {
    /// Max over each window; padding reads as −∞ and NaN wins, as PyTorch. `indices` holds per
    /// output the flat T·H·W index of the maximum within its (n, c) plane (PyTorch's return_indices).
    public static func maxForward(input: Tensor, geometry: ConvGeometry) -> (output: Tensor, indices: [Int32]) {
        let s = planes(input.shape, geometry)
        guard !s.shape.isEmpty else {
            let zeros = Tensor(zeros: s.shape.outputShape)
            return (zeros, [Int32](repeating: -1, count: zeros.count))
        }
        var indices = [Int32](repeating: -1, count: s.planes * s.outputVolume)
        let output = Tensor.filled(s.shape.outputShape) { y in
            input.data.withUnsafeBufferPointer { x in
                indices.withUnsafeMutableBufferPointer { idx in
                    guard let x = x.baseAddress, let idx = idx.baseAddress else { return }
                    Parallel.forEach(s.planes, work: s.planes * s.outputVolume * s.shape.kernelVolume) { p in
                        let src = x + p * s.inputVolume, dst = y + p * s.outputVolume, arg = idx + p * s.outputVolume
                        forEachWindow(s.shape) { o, window in
                            var best = -Float.infinity, at: Int32 = -1
                            window { i in
                                let v = src[i]
                                if v > best || v.isNaN || at < 0 { best = v; at = Int32(i) }
                            }
                            dst[o] = best
                            arg[o] = at
                        }
                    }
                }
            }
        }
        return (output, indices)
    }

    /// dX [N, C, T, H, W]: each output's gradient added to the input its window's maximum came from.
    public static func maxBackward(gradOutput: Tensor, indices: [Int32], inputShape: [Int]) -> Tensor {
        precondition(inputShape.count == 5 && gradOutput.rank == 5 && indices.count == gradOutput.count
                     && gradOutput.shape[0] == inputShape[0] && gradOutput.shape[1] == inputShape[1],
                     "Pool3D: gradient \(gradOutput.shape) does not fit input \(inputShape)")
        let planes = inputShape[0] * inputShape[1], volume = inputShape[2] * inputShape[3] * inputShape[4]
        let outputVolume = planes == 0 ? 0 : gradOutput.count / planes
        return Tensor.filled(inputShape) { dx in
            dx.update(repeating: 0, count: planes * volume)
            gradOutput.data.withUnsafeBufferPointer { dy in
                indices.withUnsafeBufferPointer { idx in
                    guard let dy = dy.baseAddress, let idx = idx.baseAddress else { return }
                    Parallel.forEach(planes, work: planes * outputVolume) { p in
                        let dst = dx + p * volume, src = dy + p * outputVolume, arg = idx + p * outputVolume
                        for o in 0..<outputVolume where arg[o] >= 0 && Int(arg[o]) < volume {
                            dst[Int(arg[o])] += src[o]
                        }
                    }
                }
            }
        }
    }

    /// Mean over each window, padding counted as zeros in the divisor (count_include_pad = true).
    public static func averageForward(input: Tensor, geometry: ConvGeometry) -> Tensor {
        let s = planes(input.shape, geometry, averaging: true)
        let scale = 1 / Float(s.shape.kernelVolume)
        guard !s.shape.isEmpty else { return Tensor(zeros: s.shape.outputShape) }
        return Tensor.filled(s.shape.outputShape) { y in
            input.data.withUnsafeBufferPointer { x in
                guard let x = x.baseAddress else { return }
                Parallel.forEach(s.planes, work: s.planes * s.outputVolume * s.shape.kernelVolume) { p in
                    let src = x + p * s.inputVolume, dst = y + p * s.outputVolume
                    forEachWindow(s.shape) { o, window in
                        var sum: Float = 0
                        window { i in sum += src[i] }
                        dst[o] = sum * scale
                    }
                }
            }
        }
    }

    /// dX [N, C, T, H, W]: each output's gradient spread evenly over its window.
    public static func averageBackward(gradOutput: Tensor, inputShape: [Int], geometry: ConvGeometry) -> Tensor {
        let s = planes(inputShape, geometry, averaging: true)
        precondition(gradOutput.shape == s.shape.outputShape,
                     "Pool3D: gradient \(gradOutput.shape) is not the output shape \(s.shape.outputShape)")
        let scale = 1 / Float(s.shape.kernelVolume)
        return Tensor.filled(inputShape) { dx in
            dx.update(repeating: 0, count: s.planes * s.inputVolume)
            gradOutput.data.withUnsafeBufferPointer { dy in
                guard let dy = dy.baseAddress else { return }
                Parallel.forEach(s.planes, work: s.planes * s.outputVolume * s.shape.kernelVolume) { p in
                    let src = dy + p * s.outputVolume, dst = dx + p * s.inputVolume
                    forEachWindow(s.shape) { o, window in
                        let g = src[o] * scale
                        window { i in dst[i] += g }
                    }
                }
            }
        }
    }

    /// [N, C, T, H, W] → [N, C]: the mean of each plane (summed in Double).
    public static func globalAverageForward(input: Tensor) -> Tensor {
        precondition(input.rank == 5, "Pool3D: input shape \(input.shape) is not [N, C, T, H, W]")
        let planes = input.shape[0] * input.shape[1], volume = input.shape[2] * input.shape[3] * input.shape[4]
        return Tensor.filled([input.shape[0], input.shape[1]]) { y in
            input.data.withUnsafeBufferPointer { x in
                for p in 0..<planes {
                    var sum = 0.0
                    for i in p * volume..<(p + 1) * volume { sum += Double(x[i]) }
                    y[p] = volume == 0 ? 0 : Float(sum / Double(volume))
                }
            }
        }
    }

    /// dX [N, C, T, H, W] = dY[n, c] / (T·H·W) everywhere in plane (n, c).
    public static func globalAverageBackward(gradOutput: Tensor, inputShape: [Int]) -> Tensor {
        precondition(inputShape.count == 5 && gradOutput.shape == [inputShape[0], inputShape[1]],
                     "Pool3D: gradient \(gradOutput.shape) does not fit input \(inputShape)")
        let planes = inputShape[0] * inputShape[1], volume = inputShape[2] * inputShape[3] * inputShape[4]
        return Tensor.filled(inputShape) { dx in
            for p in 0..<planes {
                (dx + p * volume).update(repeating: gradOutput.data[p] / Float(volume), count: volume)
            }
        }
    }

    /// Sizes of a pooling call: channels stay channels, each (n, c) plane pooled alone.
    struct Planes {
        let shape: ConvShape
        var planes: Int { shape.batch * shape.inChannels }
        var inputVolume: Int { shape.inputVolume }
        var outputVolume: Int { shape.outputVolume }
    }

    /// PyTorch rejects padding over half the kernel (a window could then lie wholly in padding)
    /// and has no dilation for average pooling; both are programming errors here too.
    static func planes(_ inputShape: [Int], _ g: ConvGeometry, averaging: Bool = false) -> Planes {
        precondition(inputShape.count == 5, "Pool3D: input shape \(inputShape) is not [N, C, T, H, W]")
        precondition(2 * g.padding.t <= g.kernel.t && 2 * g.padding.h <= g.kernel.h && 2 * g.padding.w <= g.kernel.w,
                     "Pool3D: padding over half the kernel in \(g)")
        precondition(!averaging || g.dilation == (1, 1, 1), "Pool3D: average pooling has no dilation (\(g))")
        return Planes(shape: ConvShape(inputShape: inputShape, outChannels: inputShape[1], geometry: g))
    }

    /// Calls `body(outputIndex, window)` for each output position of one plane; `window(visit)`
    /// calls `visit(inputIndex)` for every tap of that window inside the input, in a fixed order.
    @inline(__always)
    static func forEachWindow(_ s: ConvShape, _ body: (Int, ((Int) -> Void) -> Void) -> Void) {
        let g = s.geometry, (T, H, W) = s.input, (OT, OH, OW) = s.output
        var o = 0
        for ot in 0..<OT {
            for oh in 0..<OH {
                for ow in 0..<OW {
                    let t0 = ot * g.stride.t - g.padding.t, h0 = oh * g.stride.h - g.padding.h
                    let w0 = ow * g.stride.w - g.padding.w
                    body(o) { visit in
                        for kt in 0..<g.kernel.t {
                            let it = t0 + kt * g.dilation.t
                            guard it >= 0 && it < T else { continue }
                            for kh in 0..<g.kernel.h {
                                let ih = h0 + kh * g.dilation.h
                                guard ih >= 0 && ih < H else { continue }
                                for kw in 0..<g.kernel.w {
                                    let iw = w0 + kw * g.dilation.w
                                    guard iw >= 0 && iw < W else { continue }
                                    visit((it * H + ih) * W + iw)
                                }
                            }
                        }
                    }
                    o += 1
                }
            }
        }
    }
}
