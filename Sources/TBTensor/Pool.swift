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
                    let sw = geometry.stride.w
                    Parallel.forEach(s.planes, work: s.planes * s.outputVolume * s.shape.kernelVolume) { p in
                        let src = x + p * s.inputVolume, dst = y + p * s.outputVolume, arg = idx + p * s.outputVolume
                        dst.update(repeating: -.infinity, count: s.outputVolume)
                        forEachRowTap(s.shape) { out, input, w in
                            // PyTorch's rule `v > best || isnan(v)` (plus: the first tap always
                            // counts) as bit masks: on real data the comparison is a coin toss,
                            // and jumps mispredicted half the time cost more than the arithmetic.
                            for ow in w.lo..<w.hi {
                                let i = input &+ ow &* sw &+ w.offset, v = src[i], k = out &+ ow
                                let best = dst[k], at = arg[k]
                                let take = UInt32(v > best ? 1 : 0) | UInt32(v.isNaN ? 1 : 0) | UInt32(at < 0 ? 1 : 0)
                                dst[k] = Float(bitPattern: pick(take, v.bitPattern, best.bitPattern))
                                arg[k] = Int32(bitPattern: pick(take, UInt32(truncatingIfNeeded: i), UInt32(bitPattern: at)))
                            }
                        }
                    }
                }
            }
        }
        return (output, indices)
    }

    /// `take == 1 ? a : b` for `take` 0 or 1, without a jump.
    @inline(__always)
    static func pick(_ take: UInt32, _ a: UInt32, _ b: UInt32) -> UInt32 {
        let mask = 0 &- take
        return (a & mask) | (b & ~mask)
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
                let sw = geometry.stride.w
                Parallel.forEach(s.planes, work: s.planes * s.outputVolume * s.shape.kernelVolume) { p in
                    let src = x + p * s.inputVolume, dst = y + p * s.outputVolume
                    dst.update(repeating: 0, count: s.outputVolume)
                    forEachRowTap(s.shape) { out, input, w in
                        for ow in w.lo..<w.hi { dst[out + ow] += src[input + ow * sw + w.offset] }
                    }
                    for o in 0..<s.outputVolume { dst[o] *= scale }
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
                let sw = geometry.stride.w
                Parallel.forEach(s.planes, work: s.planes * s.outputVolume * s.shape.kernelVolume) { p in
                    let src = dy + p * s.outputVolume, dst = dx + p * s.inputVolume
                    forEachRowTap(s.shape) { out, input, w in
                        for ow in w.lo..<w.hi { dst[input + ow * sw + w.offset] += src[out + ow] * scale }
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

    /// For each output row (t', h') of one plane and each kernel tap (t, h, w order) whose t and h
    /// fall inside the input, calls `body(outputRow, inputRow, w)`: output (t', h', w') for w' in
    /// w.lo..<w.hi reads input index inputRow + w'·stride + w.offset. Every output thus sees its
    /// taps in PyTorch's order, and the inner loop over w' has no bounds tests.
    @inline(__always)
    static func forEachRowTap(_ s: ConvShape, _ body: (Int, Int, TapRange) -> Void) {
        let g = s.geometry, (T, H, W) = s.input, (OT, OH, OW) = s.output
        let tRanges = (0..<g.kernel.t).map {
            TapRange(size: T, outputSize: OT, stride: g.stride.t, padding: g.padding.t, dilation: g.dilation.t, tap: $0)
        }
        let hRanges = (0..<g.kernel.h).map {
            TapRange(size: H, outputSize: OH, stride: g.stride.h, padding: g.padding.h, dilation: g.dilation.h, tap: $0)
        }
        let wRanges = (0..<g.kernel.w).map {
            TapRange(size: W, outputSize: OW, stride: g.stride.w, padding: g.padding.w, dilation: g.dilation.w, tap: $0)
        }.filter { $0.hi > $0.lo }
        for ot in 0..<OT {
            for oh in 0..<OH {
                let out = (ot * OH + oh) * OW
                for t in tRanges where ot >= t.lo && ot < t.hi {
                    for h in hRanges where oh >= h.lo && oh < h.hi {
                        let input = ((ot * g.stride.t + t.offset) * H + oh * g.stride.h + h.offset) * W
                        for w in wRanges { body(out, input, w) }
                    }
                }
            }
        }
    }
}
