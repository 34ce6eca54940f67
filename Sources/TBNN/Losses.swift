// Classification and distillation losses (ALGORITHMS.md §1.5), each a scalar Variable.
// Cross-entropies work from log-softmax with the row maximum subtracted; entries with zero
// weight are skipped rather than multiplied, so −∞ logits (masks) give no NaN.

import TBTensor

extension Tape {
    /// Mean over N of −Σ_k q_k log softmax(logits)_k with q = (1 − ε)·onehot(label) + ε/K,
    /// as PyTorch's F.cross_entropy(label_smoothing: ε). logits [N, K], labels in 0..<K.
    public func crossEntropy(_ logits: Variable, labels: [Int], labelSmoothing: Float = 0) -> Variable {
        let (n, k) = rowsAndClasses(logits, "crossEntropy")
        precondition(labels.count == n, "crossEntropy: \(labels.count) labels for \(n) rows")
        precondition(labels.allSatisfy { $0 >= 0 && $0 < k }, "crossEntropy: a label outside 0..<\(k)")
        precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "crossEntropy: smoothing \(labelSmoothing)")
        let eps = labelSmoothing, offTarget = labelSmoothing / Float(k)
        var probabilities = Tensor(zeros: logits.shape) // [N, K]
        var total: Double = 0
        probabilities.data.withUnsafeMutableBufferPointer { p in
            logits.value.data.withUnsafeBufferPointer { x in
                for r in 0..<n {
                    let o = r * k
                    let logZ = softmaxRow(x, p, offset: o, count: k)
                    // −log p_j = logZ − x_j
                    var rowLoss = Double(1 - eps) * Double(logZ - x[o + labels[r]])
                    if eps > 0 {
                        var all: Double = 0
                        for j in 0..<k { all += Double(logZ - x[o + j]) }
                        rowLoss += Double(offTarget) * all
                    }
                    total += rowLoss
                }
            }
        }
        let loss = Tensor(shape: [], data: [Float(total / Double(n))])
        return result(loss, inputs: [logits]) { [probabilities] dy in
            // dlogits = (softmax − q) / N · dL
            let s = dy.scalar / Float(n)
            var dx = probabilities
            dx.data.withUnsafeMutableBufferPointer { g in
                for r in 0..<n {
                    let o = r * k
                    for j in 0..<k { g[o + j] = (g[o + j] - offTarget) * s }
                    g[o + labels[r]] -= (1 - eps) * s
                }
            }
            logits.accumulate(dx)
        }
    }

    /// Mean over N of −Σ_k t_k log softmax(logits)_k, for target distributions t [N, K].
    public func softCrossEntropy(_ logits: Variable, targets: Tensor) -> Variable {
        let (n, k) = rowsAndClasses(logits, "softCrossEntropy")
        precondition(targets.count == logits.value.count, "softCrossEntropy: targets \(targets.shape) for \(logits.shape)")
        var probabilities = Tensor(zeros: logits.shape) // [N, K]
        var total: Double = 0
        probabilities.data.withUnsafeMutableBufferPointer { p in
            logits.value.data.withUnsafeBufferPointer { x in
                targets.data.withUnsafeBufferPointer { t in
                    for r in 0..<n {
                        let o = r * k
                        let logZ = softmaxRow(x, p, offset: o, count: k)
                        for j in 0..<k where t[o + j] != 0 { total += Double(t[o + j]) * Double(logZ - x[o + j]) }
                    }
                }
            }
        }
        let loss = Tensor(shape: [], data: [Float(total / Double(n))])
        return result(loss, inputs: [logits]) { [probabilities] dy in
            // dlogits = (softmax · Σ_k t_k − t) / N · dL (Σ t = 1 for a distribution)
            let s = dy.scalar / Float(n)
            var dx = probabilities
            dx.data.withUnsafeMutableBufferPointer { g in
                targets.data.withUnsafeBufferPointer { t in
                    for r in 0..<n {
                        let o = r * k
                        var mass: Float = 0
                        for j in 0..<k { mass += t[o + j] }
                        for j in 0..<k { g[o + j] = (g[o + j] * mass - t[o + j]) * s }
                    }
                }
            }
            logits.accumulate(dx)
        }
    }

    /// Mean of (a − b)² over all elements, as F.mse_loss; both sides get gradients.
    public func mse(_ a: Variable, _ b: Variable) -> Variable {
        precondition(a.value.count == b.value.count && a.value.count > 0, "mse: \(a.shape) and \(b.shape)")
        let count = a.value.count
        var difference = a.value // a − b, kept for backward
        var total: Double = 0
        difference.data.withUnsafeMutableBufferPointer { d in
            b.value.data.withUnsafeBufferPointer { bv in
                for i in 0..<count {
                    d[i] -= bv[i]
                    total += Double(d[i]) * Double(d[i])
                }
            }
        }
        let loss = Tensor(shape: [], data: [Float(total / Double(count))])
        return result(loss, inputs: [a, b]) { [difference] dy in
            // d/da = 2(a − b)/count · dL; d/db is its negative.
            let s = 2 * dy.scalar / Float(count)
            if a.requiresGrad { a.accumulate(scaled(difference, s)) }
            if b.requiresGrad { b.accumulate(scaled(difference, -s)) }
        }
    }

    /// MSE between softmax(logits) and target distributions [N, K]: the student's
    /// distillation term (ALGORITHMS.md §1.5), mean over batch and classes.
    public func mseSoftmax(_ logits: Variable, targets: Tensor) -> Variable {
        precondition(targets.count == logits.value.count, "mseSoftmax: targets \(targets.shape) for \(logits.shape)")
        return mse(softmax(logits), constant(targets))
    }

    /// (N, K) of a [N, K] logits matrix with N > 0 (the mean over no rows is undefined).
    private func rowsAndClasses(_ logits: Variable, _ op: String) -> (Int, Int) {
        precondition(logits.value.rank == 2 && logits.shape[0] > 0 && logits.shape[1] > 0,
                     "\(op): logits \(logits.shape) are not [N, K] with N, K > 0")
        return (logits.shape[0], logits.shape[1])
    }
}
