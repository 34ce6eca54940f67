// Direct convolution loops that accumulate in Double: slow and obviously right. Only tests
// use them, to check Conv3D's vol2col + GEMM kernels.

/// Naive reference for `Conv3D`: the same three functions, by definition.
public enum ConvReference {
    /// Output [N, Cout, T', H', W'] of input [N, Cin, T, H, W] and weight [Cout, Cin, kt, kh, kw].
    public static func forward(input: Tensor, weight: Tensor, geometry: ConvGeometry) -> Tensor {
        let shape = ConvShape(inputShape: input.shape, weightShape: weight.shape, geometry: geometry)
        var sum = [Double](repeating: 0, count: shape.outputShape.reduce(1, *))
        forEachProduct(shape) { y, x, w in sum[y] += Double(input.data[x]) * Double(weight.data[w]) }
        return Tensor(shape: shape.outputShape, data: sum.map { Float($0) })
    }

    /// Gradient with respect to the input (of shape `inputShape`), given dY.
    public static func backwardInput(gradOutput: Tensor, weight: Tensor, inputShape: [Int],
                                     geometry: ConvGeometry) -> Tensor {
        let shape = ConvShape(inputShape: inputShape, weightShape: weight.shape, geometry: geometry)
        precondition(gradOutput.shape == shape.outputShape)
        var sum = [Double](repeating: 0, count: inputShape.reduce(1, *))
        forEachProduct(shape) { y, x, w in sum[x] += Double(gradOutput.data[y]) * Double(weight.data[w]) }
        return Tensor(shape: inputShape, data: sum.map { Float($0) })
    }

    /// Gradient with respect to the weight, summed over the batch.
    public static func backwardWeight(gradOutput: Tensor, input: Tensor, geometry: ConvGeometry) -> Tensor {
        let shape = ConvShape(inputShape: input.shape, outChannels: gradOutput.shape[1], geometry: geometry)
        precondition(gradOutput.shape == shape.outputShape)
        var sum = [Double](repeating: 0, count: shape.weightShape.reduce(1, *))
        forEachProduct(shape) { y, x, w in sum[w] += Double(gradOutput.data[y]) * Double(input.data[x]) }
        return Tensor(shape: shape.weightShape, data: sum.map { Float($0) })
    }

    /// Calls `body(outputIndex, inputIndex, weightIndex)` for every product the convolution
    /// sums, skipping taps that land in the zero padding.
    static func forEachProduct(_ s: ConvShape, _ body: (Int, Int, Int) -> Void) {
        let g = s.geometry, (T, H, W) = s.input, (OT, OH, OW) = s.output, k = g.kernel
        for n in 0..<s.batch {
            for co in 0..<s.outChannels {
                for ot in 0..<OT {
                    for oh in 0..<OH {
                        for ow in 0..<OW {
                            let y = (((n * s.outChannels + co) * OT + ot) * OH + oh) * OW + ow
                            for ci in 0..<s.inChannels {
                                for kt in 0..<k.t {
                                    let it = ot * g.stride.t - g.padding.t + kt * g.dilation.t
                                    guard it >= 0 && it < T else { continue }
                                    for kh in 0..<k.h {
                                        let ih = oh * g.stride.h - g.padding.h + kh * g.dilation.h
                                        guard ih >= 0 && ih < H else { continue }
                                        for kw in 0..<k.w {
                                            let iw = ow * g.stride.w - g.padding.w + kw * g.dilation.w
                                            guard iw >= 0 && iw < W else { continue }
                                            let x = (((n * s.inChannels + ci) * T + it) * H + ih) * W + iw
                                            let w = (((co * s.inChannels + ci) * k.t + kt) * k.h + kh) * k.w + kw
                                            body(y, x, w)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
