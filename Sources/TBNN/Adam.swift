// Adam and AdamW, as torch.optim.Adam / AdamW (the single-tensor path PyTorch takes on CPU;
// Kingma & Ba 2015, Algorithm 1; Loshchilov & Hutter 2019, Algorithm 2). Per parameter θ with
// gradient g, its own step count t, rate η, betas β₁ β₂, eps ε and weight decay λ:
//   Adam:   g = g + λθ                 (L2, folded into the gradient)
//   AdamW:  θ = θ(1 − ηλ)              (decoupled, before the update)
//   m = lerp(m, g, 1 − β₁);  v = β₂v + (1 − β₂)g²
//   θ = θ − (η / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
// Bias corrections and step size are Doubles, as Python computes them; the elementwise work is
// Float in the order PyTorch's CPU kernels (lerp, addcmul, addcdiv) do it.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TBCore
import TBTensor

/// torch.optim.Adam (L2 weight decay) or, with `decoupledWeightDecay`, torch.optim.AdamW.
public final class Adam: Optimizer {
    public let parameters: [Parameter]
    public var learningRate: Float
    public private(set) var stepCount = 0
    public private(set) var beta1: Double
    public private(set) var beta2: Double
    public private(set) var eps: Double
    /// λ, for parameters whose `decays` is true.
    public private(set) var weightDecay: Double
    /// AdamW's θ(1 − ηλ) instead of Adam's g + λθ.
    public let decoupledWeightDecay: Bool

    /// PyTorch's per-parameter state, made at the parameter's first step, so a frozen
    /// parameter has none and one unfrozen later starts its bias correction afresh.
    private struct Moments {
        var step = 0
        var first: [Float]   // exp_avg
        var second: [Float]  // exp_avg_sq
    }
    private var moments: [Moments?]

    /// "adam" or "adamw", as saved in the state.
    public var kind: String { decoupledWeightDecay ? "adamw" : "adam" }

    /// Adam with PyTorch's defaults; a bad hyperparameter is a `.usage` failure.
    public init(parameters: [Parameter], learningRate: Float = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 0, decoupledWeightDecay: Bool = false) throws {
        try requireHyperparameter(learningRate >= 0, "learning rate \(learningRate) is negative")
        try requireHyperparameter(eps >= 0, "eps \(eps) is negative")
        try requireHyperparameter((0..<1).contains(betas.0), "beta1 \(betas.0) is not in [0, 1)")
        try requireHyperparameter((0..<1).contains(betas.1), "beta2 \(betas.1) is not in [0, 1)")
        try requireHyperparameter(weightDecay >= 0, "weight decay \(weightDecay) is negative")
        try requireUniqueNames(parameters)
        self.parameters = parameters
        self.learningRate = learningRate
        (beta1, beta2) = betas
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupledWeightDecay = decoupledWeightDecay
        moments = Array(repeating: nil, count: parameters.count)
    }

    /// AdamW with PyTorch's defaults (weight decay 0.01).
    public static func adamW(parameters: [Parameter], learningRate: Float = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                             eps: Double = 1e-8, weightDecay: Double = 0.01) throws -> Adam {
        try Adam(parameters: parameters, learningRate: learningRate, betas: betas, eps: eps,
                 weightDecay: weightDecay, decoupledWeightDecay: true)
    }

    public func step() {
        for (i, p) in parameters.enumerated() where p.requiresGrad {
            var m = moments[i] ?? Moments(first: Array(repeating: 0, count: p.value.count),
                                          second: Array(repeating: 0, count: p.value.count))
            moments[i] = nil  // so `m`'s arrays are the only references and are updated in place
            m.step += 1
            update(p, &m)
            moments[i] = m
        }
        stepCount += 1
    }

    private func update(_ p: Parameter, _ m: inout Moments) {
        let lr = Double(learningRate), t = Double(m.step)
        let correction1 = 1 - pow(beta1, t), correction2 = 1 - pow(beta2, t)
        let negativeStepSize = Float(-(lr / correction1))  // addcdiv_(value=-step_size)
        let correction2Root = Float(correction2.squareRoot())
        let l2 = p.decays && !decoupledWeightDecay ? Float(weightDecay) : 0
        let shrink = p.decays && decoupledWeightDecay ? Float(1 - lr * weightDecay) : 1  // param.mul_(1 - lr * wd)
        let w1 = Float(1 - beta1), b2 = Float(beta2), w2 = Float(1 - beta2), epsilon = Float(eps)
        p.value.data.withUnsafeMutableBufferPointer { theta in
            p.grad.data.withUnsafeBufferPointer { grad in
                m.first.withUnsafeMutableBufferPointer { first in
                    m.second.withUnsafeMutableBufferPointer { second in
                        forEachChunkInParallel(theta.count) { range in
                            for j in range {
                                var g = grad[j]
                                if l2 != 0 { g = g + l2 * theta[j] }  // grad.add(param, alpha=weight_decay)
                                if shrink != 1 { theta[j] = theta[j] * shrink }
                                first[j] = lerp(first[j], g, w1)
                                second[j] = second[j] * b2 + w2 * g * g  // mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                                let denominator = second[j].squareRoot() / correction2Root + epsilon
                                theta[j] = theta[j] + negativeStepSize * first[j] / denominator
                            }
                        }
                    }
                }
            }
        }
    }

    /// PyTorch's lerp: the form that loses less precision for the weight's side of 1/2.
    @inline(__always) private func lerp(_ start: Float, _ end: Float, _ weight: Float) -> Float {
        abs(weight) < 0.5 ? start + weight * (end - start) : end - (end - start) * (1 - weight)
    }

    public var state: OptimizerState {
        var buffers: [String: Tensor] = [:], counters: [String: Int] = [:]
        for (p, m) in zip(parameters, moments) {
            guard let m else { continue }
            buffers["exp_avg." + p.name] = Tensor(shape: p.shape, data: m.first)
            buffers["exp_avg_sq." + p.name] = Tensor(shape: p.shape, data: m.second)
            counters["step." + p.name] = m.step
        }
        return OptimizerState(kind: kind, stepCount: stepCount, learningRate: learningRate,
                              hyperparameters: ["beta1": beta1.description, "beta2": beta2.description,
                                                "eps": eps.description, "weight_decay": weightDecay.description],
                              parameterNames: parameters.map(\.name), buffers: buffers, counters: counters)
    }

    public func restore(_ state: OptimizerState) throws {
        try state.check(kind: kind, parameters: parameters, bufferSlots: ["exp_avg", "exp_avg_sq"], counterSlots: ["step"])
        let beta1 = try state.number("beta1"), beta2 = try state.number("beta2")
        let eps = try state.number("eps"), weightDecay = try state.number("weight_decay")
        var restored: [Moments?] = []
        for p in parameters {
            let first = state.buffers["exp_avg." + p.name], second = state.buffers["exp_avg_sq." + p.name]
            let step = state.counters["step." + p.name]
            switch (first, second, step) {
            case (nil, nil, nil):
                restored.append(nil)
            case let (first?, second?, step?) where step > 0:
                restored.append(Moments(step: step, first: first.data, second: second.data))
            default:
                throw Failure(.dataError, "needs exp_avg, exp_avg_sq and a step above 0 together", tensor: p.name)
            }
        }
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        stepCount = state.stepCount
        learningRate = state.learningRate
        moments = restored
    }
}
