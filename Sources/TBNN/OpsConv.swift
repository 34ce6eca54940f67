// Convolution on the tape: forward and both backward passes are TBTensor's Conv3D kernels
// (vol2col + sgemm). No bias: every convolution in the ResNets is followed by batch norm.

import TBTensor

extension Tape {
    /// Convolution of x [N, Cin, T, H, W] with weight [Cout, Cin, kt, kh, kw] → [N, Cout, T', H', W'].
    /// 2D: x [N, Cin, H, W] and weight [Cout, Cin, kh, kw] (torchvision's layout) are taken
    /// as T = 1, kt = 1, and the output is [N, Cout, H', W']; `geometry` then has kernel t 1.
    public func conv3d(_ x: Variable, weight: Variable, geometry: ConvGeometry) -> Variable {
        let planar = x.value.rank == 4
        precondition((x.value.rank == 5 || planar) && (weight.value.rank == 5 || weight.value.rank == 4),
                     "conv3d: input \(x.shape) and weight \(weight.shape) are not NCTHW / NCHW")
        let input = as5D(x.value), kernel = as5D(weight.value)
        precondition(weight.value.rank == 5 || geometry.kernel.t == 1, "conv3d: 2D weight with \(geometry)")
        let out5 = Conv3D.forward(input: input, weight: kernel, geometry: geometry)
        let y = planar ? out5.reshaped([out5.shape[0], out5.shape[1], out5.shape[3], out5.shape[4]]) : out5
        return result(y, inputs: [x, weight]) { dy in
            let dy5 = dy.reshaped(out5.shape)
            if x.requiresGrad {
                x.accumulate(Conv3D.backwardInput(gradOutput: dy5, weight: kernel,
                                                  inputShape: input.shape, geometry: geometry))
            }
            if weight.requiresGrad {
                weight.accumulate(Conv3D.backwardWeight(gradOutput: dy5, input: input, geometry: geometry))
            }
        }
    }
}

/// [A, B, H, W] viewed as [A, B, 1, H, W]; 5-D tensors unchanged (no copy either way).
func as5D(_ t: Tensor) -> Tensor {
    t.rank == 4 ? t.reshaped([t.shape[0], t.shape[1], 1, t.shape[2], t.shape[3]]) : t
}
