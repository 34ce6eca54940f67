// Batch normalisation over [N, C, ...] tensors, per channel over N and the trailing axes, as
// PyTorch's BatchNorm1d/2d/3d: forward in training and in eval mode, and backward, side by side.
// Channel sums add Float lanes over short chunks and the chunks in Double (ChannelSums): a
// channel of 8·8·28·28 = 50 176 values loses digits in Float alone. An optional ReLU is fused
// into the forward pass and its mask into the backward pass, saving a pass and a tensor each.
// Channels run in parallel; each channel's sums are sequential, so results are deterministic.

/// Per-channel batch norm kernels (training, inference, backward).
public enum BatchNormKernels {
    /// What a training forward pass keeps for backward: per channel the batch mean and 1/√(var + ε).
    public struct Statistics: Sendable, Equatable {
        public var mean: [Float]
        public var inverseStd: [Float]

        public init(mean: [Float], inverseStd: [Float]) {
            self.mean = mean
            self.inverseStd = inverseStd
        }
    }

    /// y = (x − mean)/√(var + ε)·γ + β with the batch's mean and biased variance; the running
    /// mean and variance move by `momentum` toward the batch's mean and unbiased variance
    /// (n/(n − 1) times the biased one), as PyTorch. A channel of one value keeps its biased
    /// variance (PyTorch refuses that input). `relu` gives max(y, 0) instead.
    public static func forwardTraining(input: Tensor, gamma: Tensor, beta: Tensor,
                                       runningMean: inout Tensor, runningVariance: inout Tensor,
                                       momentum: Float = 0.1, epsilon: Float = 1e-5, relu: Bool = false)
        -> (output: Tensor, saved: Statistics) {
        let (C, blocks, volume) = layout(input.shape, gamma: gamma, beta: beta)
        precondition(runningMean.count == C && runningVariance.count == C,
                     "BatchNorm: running statistics for \(runningMean.count) channels, input has \(C)")
        let n = blocks * volume
        var mean = [Float](repeating: 0, count: C), inverseStd = [Float](repeating: 0, count: C)
        var unbiased = [Float](repeating: 0, count: C)
        let output = Tensor.filled(input.shape) { y in
            input.data.withUnsafeBufferPointer { x in
                mean.withUnsafeMutableBufferPointer { mean in
                    inverseStd.withUnsafeMutableBufferPointer { inverseStd in
                        unbiased.withUnsafeMutableBufferPointer { unbiased in
                            guard let x = x.baseAddress, n > 0 else { return }
                            Parallel.forEach(C, work: input.count) { c in
                                var sum = 0.0
                                forEachBlock(c, C, blocks, volume) { o in sum += ChannelSums.sum(x + o, volume) }
                                let m = sum / Double(n)
                                var squares = 0.0
                                forEachBlock(c, C, blocks, volume) { o in
                                    squares += ChannelSums.squares(x + o, volume, center: Float(m))
                                }
                                let variance = squares / Double(n)
                                let invStd = 1 / (variance + Double(epsilon)).squareRoot()
                                mean[c] = Float(m)
                                inverseStd[c] = Float(invStd)
                                unbiased[c] = Float(n > 1 ? squares / Double(n - 1) : variance)
                                let a = Double(gamma.data[c]) * invStd
                                affine(x, y, c, C, blocks, volume, center: Float(m), scale: Float(a), shift: beta.data[c],
                                       relu: relu)
                            }
                        }
                    }
                }
            }
        }
        if n > 0 {
            for c in 0..<C {
                runningMean.data[c] = (1 - momentum) * runningMean.data[c] + momentum * mean[c]
                runningVariance.data[c] = (1 - momentum) * runningVariance.data[c] + momentum * unbiased[c]
            }
        }
        return (output, Statistics(mean: mean, inverseStd: inverseStd))
    }

    /// y = (x − running mean)/√(running var + ε)·γ + β: eval mode; max(y, 0) with `relu`.
    public static func forwardInference(input: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor,
                                        runningVariance: Tensor, epsilon: Float = 1e-5, relu: Bool = false) -> Tensor {
        let (C, blocks, volume) = layout(input.shape, gamma: gamma, beta: beta)
        precondition(runningMean.count == C && runningVariance.count == C,
                     "BatchNorm: running statistics for \(runningMean.count) channels, input has \(C)")
        return Tensor.filled(input.shape) { y in
            input.data.withUnsafeBufferPointer { x in
                guard let x = x.baseAddress else { return }
                Parallel.forEach(C, work: input.count) { c in
                    let invStd = 1 / (Double(runningVariance.data[c]) + Double(epsilon)).squareRoot()
                    let a = Double(gamma.data[c]) * invStd
                    affine(x, y, c, C, blocks, volume, center: runningMean.data[c], scale: Float(a),
                           shift: beta.data[c], relu: relu)
                }
            }
        }
    }

    /// Gradients of a training forward pass, with x̂ = (x − mean)·invStd:
    /// dβ = Σ dy, dγ = Σ dy·x̂, dx = γ·invStd·(dy − dβ/n − x̂·dγ/n). With `reluOutput` (the output
    /// of a forward pass with `relu`), dy is first zeroed where that output is not positive.
    public static func backward(gradOutput: Tensor, input: Tensor, gamma: Tensor, saved: Statistics,
                                reluOutput: Tensor? = nil)
        -> (gradInput: Tensor, gradGamma: Tensor, gradBeta: Tensor) {
        let (C, blocks, volume) = layout(input.shape, gamma: gamma, beta: gamma)
        precondition(gradOutput.shape == input.shape && saved.mean.count == C && saved.inverseStd.count == C,
                     "BatchNorm: gradient \(gradOutput.shape) does not fit input \(input.shape)")
        precondition(reluOutput.map { $0.shape == input.shape } ?? true, "BatchNorm: ReLU output of another shape")
        let n = blocks * volume
        var gradGamma = [Float](repeating: 0, count: C), gradBeta = [Float](repeating: 0, count: C)
        let mask = reluOutput ?? Tensor(zeros: [0])
        let gradInput = Tensor.filled(input.shape) { dx in
            input.data.withUnsafeBufferPointer { x in
                gradOutput.data.withUnsafeBufferPointer { dy in
                    mask.data.withUnsafeBufferPointer { y in
                        gradGamma.withUnsafeMutableBufferPointer { gradGamma in
                            gradBeta.withUnsafeMutableBufferPointer { gradBeta in
                                guard let x = x.baseAddress, let dy = dy.baseAddress, n > 0 else { return }
                                let y = reluOutput == nil ? nil : y.baseAddress
                                Parallel.forEach(C, work: 2 * input.count) { c in
                                    let m = saved.mean[c], invStd = Double(saved.inverseStd[c])
                                    var sumDy = 0.0, sumDyCentred = 0.0
                                    forEachBlock(c, C, blocks, volume) { o in
                                        let (s, sc) = ChannelSums.gradientSums(dy + o, x + o, y.map { $0 + o }, volume,
                                                                               center: m)
                                        sumDy += s
                                        sumDyCentred += sc
                                    }
                                    let sumDyXhat = sumDyCentred * invStd
                                    gradBeta[c] = Float(sumDy)
                                    gradGamma[c] = Float(sumDyXhat)
                                    // dx = a·dy − b·(x − mean) − a·Σdy/n, a = γ·invStd, b = a·invStd·Σdy·x̂/n
                                    let a = Double(gamma.data[c]) * invStd
                                    let b = a * invStd * sumDyXhat / Double(n)
                                    let fa = Float(a), fb = Float(b), shift = Float(-a * sumDy / Double(n))
                                    forEachBlock(c, C, blocks, volume) { o in
                                        if let y {
                                            for i in o..<o + volume {
                                                // Both loads unconditional, so the loop vectorises.
                                                let g = dy[i], keep = y[i] > 0
                                                dx[i] = (keep ? fa * g : 0) - fb * (x[i] - m) + shift
                                            }
                                        } else {
                                            for i in o..<o + volume { dx[i] = fa * dy[i] - fb * (x[i] - m) + shift }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (gradInput, Tensor(shape: [C], data: gradGamma), Tensor(shape: [C], data: gradBeta))
    }

    /// (channels, blocks, volume) of an [N, C, ...] input: channel c's values are the `blocks`
    /// runs of `volume` contiguous floats starting at (b·C + c)·volume.
    static func layout(_ shape: [Int], gamma: Tensor, beta: Tensor) -> (Int, Int, Int) {
        precondition(shape.count >= 2, "BatchNorm: input shape \(shape) has no channel axis")
        let C = shape[1], volume = shape.dropFirst(2).reduce(1, *)
        precondition(gamma.count == C && beta.count == C,
                     "BatchNorm: γ and β of \(gamma.count) and \(beta.count) channels, input has \(C)")
        return (C, shape[0], volume)
    }

    @inline(__always)
    static func forEachBlock(_ c: Int, _ C: Int, _ blocks: Int, _ volume: Int, _ body: (Int) -> Void) {
        for b in 0..<blocks { body((b * C + c) * volume) }
    }

    /// y = (x − center)·scale + shift over channel c, or its max with 0 for `relu` (NaN stays NaN,
    /// as PyTorch's relu). Centring first keeps digits when the mean is large beside the spread.
    @inline(__always)
    static func affine(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ c: Int, _ C: Int,
                       _ blocks: Int, _ volume: Int, center: Float, scale: Float, shift: Float, relu: Bool) {
        forEachBlock(c, C, blocks, volume) { o in
            if relu {
                for i in o..<o + volume { let v = (x[i] - center) * scale + shift; y[i] = v < 0 ? 0 : v }
            } else {
                for i in o..<o + volume { y[i] = (x[i] - center) * scale + shift }
            }
        }
    }
}
