// Matrix ops on sgemm: a fully connected layer as PyTorch's nn.Linear, and matmul (the
// similarity matrices of the contrastive losses are z·zᵀ). Backward GEMMs add into the
// gradient buffers with beta = 1 rather than allocating and adding afterwards.

import TBTensor

extension Tape {
    /// y = x·Wᵀ + b for x [N, in], W [out, in], b [out] (nn.Linear's layout).
    public func linear(_ x: Variable, weight: Variable, bias: Variable? = nil) -> Variable {
        precondition(x.value.rank == 2 && weight.value.rank == 2 && x.shape[1] == weight.shape[1],
                     "linear: input \(x.shape) and weight \(weight.shape)")
        let n = x.shape[0], inputs = x.shape[1], outputs = weight.shape[0]
        if let b = bias { precondition(b.shape == [outputs], "linear: bias \(b.shape) for \(outputs) outputs") }
        var y = Tensor(zeros: [n, outputs]) // [N, out]
        y.data.withUnsafeMutableBufferPointer { c in
            gemm(transA: false, transB: true, m: n, n: outputs, k: inputs,
                 x.value, lda: inputs, weight.value, ldb: inputs, beta: 0, c, ldc: outputs)
            if let b = bias {
                b.value.data.withUnsafeBufferPointer { bv in
                    for row in 0..<n {
                        let r = row * outputs
                        for j in 0..<outputs { c[r + j] += bv[j] }
                    }
                }
            }
        }
        let inputsOfOp = [x, weight] + (bias.map { [$0] } ?? [])
        return result(y, inputs: inputsOfOp) { dy in
            // dX [N, in] += dY [N, out] · W [out, in]
            if x.requiresGrad {
                x.accumulate { g in
                    gemm(transA: false, transB: false, m: n, n: inputs, k: outputs,
                         dy, lda: outputs, weight.value, ldb: inputs, beta: 1, g, ldc: inputs)
                }
            }
            // dW [out, in] += dYᵀ [out, N] · X [N, in]
            if weight.requiresGrad {
                weight.accumulate { g in
                    gemm(transA: true, transB: false, m: outputs, n: inputs, k: n,
                         dy, lda: outputs, x.value, ldb: inputs, beta: 1, g, ldc: inputs)
                }
            }
            // db [out] += Σ_n dY[n, :]
            if let b = bias, b.requiresGrad {
                b.accumulate { g in
                    dy.data.withUnsafeBufferPointer { d in
                        for row in 0..<n {
                            let r = row * outputs
                            for j in 0..<outputs { g[j] += d[r + j] }
                        }
                    }
                }
            }
        }
    }

    /// a [m, k] · b [k, n], or a · bᵀ for b [n, k] when `transposeB`.
    public func matmul(_ a: Variable, _ b: Variable, transposeB: Bool = false) -> Variable {
        precondition(a.value.rank == 2 && b.value.rank == 2, "matmul: \(a.shape) and \(b.shape)")
        let m = a.shape[0], k = a.shape[1]
        let n = transposeB ? b.shape[0] : b.shape[1]
        precondition((transposeB ? b.shape[1] : b.shape[0]) == k,
                     "matmul: \(a.shape) times \(b.shape)\(transposeB ? "ᵀ" : "")")
        let ldb = transposeB ? k : n
        var y = Tensor(zeros: [m, n]) // [m, n]
        y.data.withUnsafeMutableBufferPointer { c in
            gemm(transA: false, transB: transposeB, m: m, n: n, k: k,
                 a.value, lda: k, b.value, ldb: ldb, beta: 0, c, ldc: n)
        }
        return result(y, inputs: [a, b]) { dy in
            // C = A·B:  dA = dC·Bᵀ, dB = Aᵀ·dC.   C = A·Bᵀ:  dA = dC·B, dB = dCᵀ·A.
            if a.requiresGrad {
                a.accumulate { g in
                    gemm(transA: false, transB: !transposeB, m: m, n: k, k: n,
                         dy, lda: n, b.value, ldb: ldb, beta: 1, g, ldc: k)
                }
            }
            if b.requiresGrad {
                b.accumulate { g in
                    if transposeB {
                        gemm(transA: true, transB: false, m: n, n: k, k: m,
                             dy, lda: n, a.value, ldb: k, beta: 1, g, ldc: k)
                    } else {
                        gemm(transA: true, transB: false, m: k, n: n, k: m,
                             a.value, lda: k, dy, ldb: n, beta: 1, g, ldc: n)
                    }
                }
            }
        }
    }
}

/// c = op(a)·op(b) + beta·c on tensors' storage (see `BLAS.sgemm`); empty operands add nothing.
func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
          _ a: Tensor, lda: Int, _ b: Tensor, ldb: Int, beta: Float,
          _ c: UnsafeMutableBufferPointer<Float>, ldc: Int) {
    guard m > 0, n > 0, k > 0 else { return }
    a.data.withUnsafeBufferPointer { pa in
        b.data.withUnsafeBufferPointer { pb in
            guard let ap = pa.baseAddress, let bp = pb.baseAddress, let cp = c.baseAddress else { return }
            BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: ap, lda: lda,
                       b: bp, ldb: ldb, beta: beta, c: cp, ldc: ldc)
        }
    }
}
