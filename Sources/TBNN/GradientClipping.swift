// Gradient-norm clipping, as torch.nn.utils.clip_grad_norm_ with norm_type 2: one L2 norm
// over every gradient together, and one scale for all of them, so the update keeps its
// direction and only its length is capped.

/// The L2 norm of all gradients taken as one vector, over parameters whose `requiresGrad` is true.
public func gradientNorm(_ parameters: [Parameter]) -> Float {
    // Squares summed in Double: a ResNet's 30M squares in Float would lose the small ones,
    // and large gradients would overflow before the square root brings them back.
    var sum: Double = 0
    for p in parameters where p.requiresGrad {
        p.grad.data.withUnsafeBufferPointer { g in
            var partial: Double = 0
            for x in g { partial += Double(x) * Double(x) }
            sum += partial
        }
    }
    return Float(sum.squareRoot())
}

/// Scales every gradient by maxNorm / (norm + 1e-6) when that is below 1, as clip_grad_norm_;
/// returns the norm before clipping. A non-finite norm leaves the gradients alone: check the
/// result and skip the step.
@discardableResult
public func clipGradientNorm(_ parameters: [Parameter], maxNorm: Float) -> Float {
    let total = gradientNorm(parameters)
    // PyTorch's coefficient, in float32 as it computes it; the 1e-6 keeps a zero norm finite.
    let coefficient = maxNorm / (total + 1e-6)
    guard coefficient < 1 else { return total }
    for p in parameters where p.requiresGrad {
        p.grad.data.withUnsafeMutableBufferPointer { g in
            for j in 0..<g.count { g[j] = g[j] * coefficient }
        }
    }
    return total
}
