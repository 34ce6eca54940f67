// Elementwise ops: relu, add, add + relu, scale, dropout. Loops run over unsafe buffers so that
// the compiler vectorises them; each backward allocates one gradient tensor at most.

import TBCore
import TBTensor

extension Tape {
    /// max(x, 0), elementwise (NaN stays NaN, as PyTorch).
    public func relu(_ x: Variable) -> Variable {
        let y = Elementwise.relu(x.value)
        // dX = dY where the output is positive: y > 0 exactly when x > 0, so the output (kept
        // anyway by the next op) serves and the input need not be saved.
        return result(y, inputs: [x]) { [y] dy in x.accumulate(Elementwise.reluBackward(gradOutput: dy, output: y)) }
    }

    /// a + b, elementwise (same element count; the result has a's shape).
    public func add(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.value.count == b.value.count, "add: \(a.shape) and \(b.shape)")
        var y = a.value
        y.add(b.value)
        return result(y, inputs: [a, b]) { dy in
            // The same dY reaches both; copy-on-write shares it until one is changed.
            if a.requiresGrad { a.accumulate(dy) }
            if b.requiresGrad { b.accumulate(dy) }
        }
    }

    /// relu(a + b) as one op (a residual block's end): one pass forward, and the gradient masked
    /// once for both inputs.
    public func addReLU(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.value.count == b.value.count, "addReLU: \(a.shape) and \(b.shape)")
        let y = Elementwise.addReLU(a.value, b.value)
        return result(y, inputs: [a, b]) { [y] dy in
            let g = Elementwise.reluBackward(gradOutput: dy, output: y)
            if a.requiresGrad { a.accumulate(g) }
            if b.requiresGrad { b.accumulate(g) }
        }
    }

    /// c · x.
    public func scale(_ x: Variable, _ c: Float) -> Variable {
        result(scaled(x.value, c), inputs: [x]) { dy in x.accumulate(scaled(dy, c)) }
    }

    /// Inverted dropout: zeroes each value with probability `p` and scales the kept ones by
    /// 1/(1 − p), so evaluation needs no rescaling. Identity unless training (`training`
    /// overrides the tape's mode). Draws one number per element from `generator`.
    public func dropout(_ x: Variable, p: Float, generator: inout SeededGenerator,
                        training: Bool? = nil) -> Variable {
        precondition(p >= 0 && p <= 1, "dropout: p = \(p) outside [0, 1]")
        guard training ?? self.training, p > 0 else { return x }
        let n = x.value.count
        // [same shape as x]: 0 or 1/(1 − p); forward and backward both multiply by it.
        var mask = Tensor(zeros: x.shape)
        let keep: Float = p < 1 ? 1 / (1 - p) : 0
        mask.data.withUnsafeMutableBufferPointer { m in
            for i in 0..<n { m[i] = generator.nextUnitFloat() >= p ? keep : 0 }
        }
        let y = multiplied(x.value, mask)
        return result(y, inputs: [x]) { [mask] dy in x.accumulate(multiplied(dy, mask)) }
    }
}

/// c · t.
func scaled(_ t: Tensor, _ c: Float) -> Tensor {
    var out = t
    let n = t.count
    out.data.withUnsafeMutableBufferPointer { o in
        for i in 0..<n { o[i] *= c }
    }
    return out
}

/// a ⊙ b, elementwise; the result has a's shape.
func multiplied(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.count == b.count)
    var out = a
    let n = a.count
    out.data.withUnsafeMutableBufferPointer { o in
        b.data.withUnsafeBufferPointer { m in
            for i in 0..<n { o[i] *= m[i] }
        }
    }
    return out
}
