// Batch norm on the tape, for [N, C] and [N, C, ...] alike (BatchNorm1d/2d/3d), over
// TBTensor's BatchNormKernels. Training normalises with the batch's statistics and moves the
// running ones (momentum 0.1, unbiased variance, as PyTorch); evaluation uses the running
// statistics, which makes the op a fixed per-channel affine map — its backward is below.
// `relu` fuses the ReLU that follows most batch norms: one pass and one tensor fewer each way.

import TBTensor

extension Tape {
    /// Normalises x [N, C, ...] per channel and applies γ [C], β [C]. `training` (default: the
    /// tape's mode) picks batch statistics and updates `runningMean` / `runningVar` in place,
    /// even on a non-recording tape; otherwise the running statistics are used and kept.
    /// `relu` returns relu(batchNorm(x)) as one op.
    public func batchNorm(_ x: Variable, gamma: Variable, beta: Variable, runningMean: Buffer,
                          runningVar: Buffer, training: Bool? = nil,
                          momentum: Float = 0.1, eps: Float = 1e-5, relu: Bool = false) -> Variable {
        precondition(x.value.rank >= 2, "batchNorm: \(x.shape) has no channel axis")
        let inputs = [x, gamma, beta]
        guard training ?? self.training else {
            return batchNormInference(x, gamma: gamma, beta: beta, runningMean: runningMean.value,
                                      runningVar: runningVar.value, eps: eps, relu: relu)
        }
        let (y, saved) = BatchNormKernels.forwardTraining(
            input: x.value, gamma: gamma.value, beta: beta.value, runningMean: &runningMean.value,
            runningVariance: &runningVar.value, momentum: momentum, epsilon: eps, relu: relu)
        return result(y, inputs: inputs) { [y] dy in
            let g = BatchNormKernels.backward(gradOutput: dy, input: x.value, gamma: gamma.value, saved: saved,
                                              reluOutput: relu ? y : nil)
            if x.requiresGrad { x.accumulate(g.gradInput) }
            if gamma.requiresGrad { gamma.accumulate(g.gradGamma) }
            if beta.requiresGrad { beta.accumulate(g.gradBeta) }
        }
    }

    /// y = (x − μ)·γ/√(σ² + ε) + β with fixed μ, σ²: dX = dY·γ/√(σ² + ε),
    /// dγ = Σ dY·(x − μ)/√(σ² + ε), dβ = Σ dY, sums over every axis but the channels.
    private func batchNormInference(_ x: Variable, gamma: Variable, beta: Variable,
                                    runningMean: Tensor, runningVar: Tensor, eps: Float, relu: Bool) -> Variable {
        let y = BatchNormKernels.forwardInference(input: x.value, gamma: gamma.value, beta: beta.value,
                                                  runningMean: runningMean, runningVariance: runningVar,
                                                  epsilon: eps, relu: relu)
        let channels = x.shape[1], blocks = x.shape[0], volume = x.shape.dropFirst(2).reduce(1, *)
        // [C] 1/√(σ² + ε), in Double as the kernel computes it.
        let inverseStd = (0..<channels).map { Float(1 / (Double(runningVar.data[$0]) + Double(eps)).squareRoot()) }
        return result(y, inputs: [x, gamma, beta]) { [y] gradOutput in
            let dy = relu ? Elementwise.reluBackward(gradOutput: gradOutput, output: y) : gradOutput
            var dx = Tensor(zeros: x.shape)
            var dGamma = Tensor(zeros: [channels]), dBeta = Tensor(zeros: [channels])
            dy.data.withUnsafeBufferPointer { d in
                x.value.data.withUnsafeBufferPointer { xv in
                    dx.data.withUnsafeMutableBufferPointer { g in
                        for c in 0..<channels {
                            let a = gamma.value.data[c] * inverseStd[c], m = runningMean.data[c]
                            var sumDy = 0.0, sumDyXhat = 0.0
                            for b in 0..<blocks {
                                let o = (b * channels + c) * volume
                                for i in o..<o + volume {
                                    g[i] = a * d[i]
                                    sumDy += Double(d[i])
                                    sumDyXhat += Double(d[i]) * Double(xv[i] - m)
                                }
                            }
                            dBeta.data[c] = Float(sumDy)
                            dGamma.data[c] = Float(sumDyXhat) * inverseStd[c]
                        }
                    }
                }
            }
            if x.requiresGrad { x.accumulate(dx) }
            if gamma.requiresGrad { gamma.accumulate(dGamma) }
            if beta.requiresGrad { beta.accumulate(dBeta) }
        }
    }
}
