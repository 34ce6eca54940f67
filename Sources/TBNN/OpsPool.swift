// Pooling on the tape, over TBTensor's Pool3D kernels: max pooling (the stem), average
// pooling and the global average pool before the classifier. 2D tensors [N, C, H, W] are
// pooled as [N, C, 1, H, W] and keep their rank.

import TBTensor

extension Tape {
    /// Max over each window of x [N, C, T, H, W] (or [N, C, H, W]); padding never wins.
    public func maxPool3d(_ x: Variable, geometry: ConvGeometry) -> Variable {
        let input = pooledInput(x, "maxPool3d")
        let (out5, indices) = Pool3D.maxForward(input: input, geometry: geometry)
        return result(sameRank(out5, as: x), inputs: [x]) { [indices] dy in
            // Each output's gradient goes to the input its maximum came from.
            x.accumulate(Pool3D.maxBackward(gradOutput: dy.reshaped(out5.shape), indices: indices,
                                            inputShape: input.shape))
        }
    }

    /// Mean over each window of x [N, C, T, H, W] (or [N, C, H, W]), padding counted as zeros.
    public func avgPool3d(_ x: Variable, geometry: ConvGeometry) -> Variable {
        let input = pooledInput(x, "avgPool3d")
        let out5 = Pool3D.averageForward(input: input, geometry: geometry)
        let inputShape = input.shape
        return result(sameRank(out5, as: x), inputs: [x]) { dy in
            x.accumulate(Pool3D.averageBackward(gradOutput: dy.reshaped(out5.shape), inputShape: inputShape,
                                                geometry: geometry))
        }
    }

    /// [N, C, ...] → [N, C]: the mean over every axis after the channels.
    public func globalAvgPool(_ x: Variable) -> Variable {
        precondition(x.value.rank >= 2, "globalAvgPool: \(x.shape) has no channel axis")
        // Any trailing axes, flattened into W, make the [N, C, 1, 1, rest] the kernel pools.
        let shape5 = [x.shape[0], x.shape[1], 1, 1, x.shape.dropFirst(2).reduce(1, *)]
        let y = Pool3D.globalAverageForward(input: x.value.reshaped(shape5)) // [N, C]
        return result(y, inputs: [x]) { dy in
            x.accumulate(Pool3D.globalAverageBackward(gradOutput: dy, inputShape: shape5))
        }
    }

    /// x's value as [N, C, T, H, W].
    private func pooledInput(_ x: Variable, _ op: String) -> Tensor {
        precondition(x.value.rank == 5 || x.value.rank == 4, "\(op): \(x.shape) is not NCTHW / NCHW")
        return as5D(x.value)
    }
}

/// A pooled [N, C, 1, H', W'] back to [N, C, H', W'] when the input was 2D.
private func sameRank(_ out5: Tensor, as x: Variable) -> Tensor {
    x.value.rank == 4 ? out5.reshaped([out5.shape[0], out5.shape[1], out5.shape[3], out5.shape[4]]) : out5
}
