// Stochastic gradient descent with momentum, as torch.optim.SGD (its single-tensor path,
// the one PyTorch takes on CPU). Per parameter θ with gradient g, momentum μ, dampening τ,
// weight decay λ and rate η:
//   d = g + λθ                                   (L2 decay, for parameters that decay)
//   b = d on the first step, else b = μb + (1 − τ)d
//   d = d + μb (Nesterov), else d = b
//   θ = θ − ηd
// Scalars PyTorch takes as Python floats are Doubles here and meet the Float data exactly
// where PyTorch's kernels cast them, so the same inputs give the same float arithmetic.

import TBTensor

/// torch.optim.SGD: momentum (buffer starts as the first gradient), dampening, Nesterov, L2 weight decay.
public final class SGD: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public private(set) var stepCount = 0
    public private(set) var momentum: Double
    public private(set) var dampening: Double
    public private(set) var nesterov: Bool
    /// Added to the gradient as λθ, for parameters whose `decays` is true.
    public private(set) var weightDecay: Double
    /// PyTorch's `momentum_buffer`: nil until the parameter's first step, and always without momentum.
    private var buffers: [[Float]?]

    /// Checks the hyperparameters as PyTorch does; a bad one is a `.usage` failure.
    public init(parameters: [Parameter], learningRate: Float, momentum: Double = 0, dampening: Double = 0,
                nesterov: Bool = false, weightDecay: Double = 0) throws {
        try requireHyperparameter(learningRate >= 0, "learning rate \(learningRate) is negative")
        try requireHyperparameter(momentum >= 0, "momentum \(momentum) is negative")
        try requireHyperparameter(weightDecay >= 0, "weight decay \(weightDecay) is negative")
        try requireHyperparameter(!nesterov || (momentum > 0 && dampening == 0),
                                  "Nesterov momentum needs a momentum above 0 and no dampening")
        try requireUniqueNames(parameters)
        self.parameters = parameters
        self.learningRate = learningRate
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        buffers = Array(repeating: nil, count: parameters.count)
    }

    public func step() {
        for (i, p) in parameters.enumerated() where p.requiresGrad {
            let decay = p.decays ? Float(weightDecay) : 0
            if momentum == 0 {
                update(p, decay: decay, buffer: nil, first: false)
            } else {
                let first = buffers[i] == nil
                var buffer = buffers[i] ?? [Float](repeating: 0, count: p.value.count)
                buffers[i] = nil  // so `buffer` is the only reference and is updated in place
                buffer.withUnsafeMutableBufferPointer { update(p, decay: decay, buffer: $0, first: first) }
                buffers[i] = buffer
            }
        }
        stepCount += 1
    }

    /// One parameter's update, element by element, in PyTorch's order of operations.
    private func update(_ p: Parameter, decay: Float, buffer: UnsafeMutableBufferPointer<Float>?, first: Bool) {
        let rate = -learningRate  // param.add_(d_p, alpha=-lr)
        let mu = Float(momentum), keep = Float(1 - dampening)
        p.value.data.withUnsafeMutableBufferPointer { theta in
            p.grad.data.withUnsafeBufferPointer { g in
                forEachChunkInParallel(theta.count) { range in
                    for j in range {
                        var d = g[j]
                        if decay != 0 { d = d + decay * theta[j] }  // grad.add(param, alpha=weight_decay)
                        if let b = buffer {
                            b[j] = first ? d : b[j] * mu + keep * d  // buf.mul_(momentum).add_(d_p, alpha=1 - dampening)
                            d = nesterov ? d + mu * b[j] : b[j]
                        }
                        theta[j] = theta[j] + rate * d
                    }
                }
            }
        }
    }

    public var state: OptimizerState {
        var saved: [String: Tensor] = [:]
        for (p, b) in zip(parameters, buffers) {
            if let b { saved["momentum_buffer." + p.name] = Tensor(shape: p.shape, data: b) }
        }
        return OptimizerState(kind: "sgd", stepCount: stepCount, learningRate: learningRate,
                              hyperparameters: ["momentum": momentum.description, "dampening": dampening.description,
                                                "nesterov": String(nesterov), "weight_decay": weightDecay.description],
                              parameterNames: parameters.map(\.name), buffers: saved)
    }

    public func restore(_ state: OptimizerState) throws {
        try state.check(kind: "sgd", parameters: parameters, bufferSlots: ["momentum_buffer"], counterSlots: [])
        let momentum = try state.number("momentum"), dampening = try state.number("dampening")
        let nesterov = try state.flag("nesterov"), weightDecay = try state.number("weight_decay")
        self.momentum = momentum
        self.dampening = dampening
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        stepCount = state.stepCount
        learningRate = state.learningRate
        buffers = parameters.map { state.buffers["momentum_buffer." + $0.name]?.data }
    }
}
