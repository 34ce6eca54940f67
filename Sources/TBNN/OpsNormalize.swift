// Softmax over the last axis and L2 normalisation over the channel axis (F.normalize):
// the teachers' class distributions and the contrastive losses' unit features.

import TBTensor
#if canImport(Glibc)
import Glibc
#endif

extension Tape {
    /// softmax over the last axis ([N, K] → class distributions per row).
    public func softmax(_ x: Variable) -> Variable {
        precondition(x.value.rank >= 1, "softmax: a scalar has no classes")
        let k = x.shape[x.value.rank - 1], rows = k == 0 ? 0 : x.value.count / k
        let y = softmaxRows(x.value, rows: rows, classes: k)
        return result(y, inputs: [x]) { [y] dy in
            // dX = Y ⊙ (dY − Σ_k dY·Y), row by row.
            var dx = Tensor(zeros: x.shape)
            dx.data.withUnsafeMutableBufferPointer { g in
                dy.data.withUnsafeBufferPointer { d in
                    y.data.withUnsafeBufferPointer { p in
                        for r in 0..<rows {
                            let o = r * k
                            var dot: Float = 0
                            for j in 0..<k { dot += d[o + j] * p[o + j] }
                            for j in 0..<k { g[o + j] = p[o + j] * (d[o + j] - dot) }
                        }
                    }
                }
            }
            x.accumulate(dx)
        }
    }

    /// x / max(‖x‖₂, eps) along axis 1 of [N, C, ...], as F.normalize(x, dim=1).
    public func l2Normalize(_ x: Variable, eps: Float = 1e-12) -> Variable {
        precondition(x.value.rank >= 2, "l2Normalize: \(x.shape) has no axis 1")
        let blocks = AxisBlocks(shape: x.shape, axis: 1)
        let channels = x.shape[1], inner = blocks.inner
        // [N, inner]: max(‖x‖, eps) of each vector along C; vectors are strided by `inner`.
        var norms = [Float](repeating: 0, count: blocks.outer * inner)
        var y = Tensor(zeros: x.shape)
        norms.withUnsafeMutableBufferPointer { nrm in
            x.value.data.withUnsafeBufferPointer { src in
                y.data.withUnsafeMutableBufferPointer { out in
                    for n in 0..<blocks.outer {
                        let base = n * blocks.stride, nb = n * inner
                        for c in 0..<channels {
                            for i in 0..<inner { nrm[nb + i] += src[base + c * inner + i] * src[base + c * inner + i] }
                        }
                        for i in 0..<inner { nrm[nb + i] = max(nrm[nb + i].squareRoot(), eps) }
                        for c in 0..<channels {
                            for i in 0..<inner { out[base + c * inner + i] = src[base + c * inner + i] / nrm[nb + i] }
                        }
                    }
                }
            }
        }
        return result(y, inputs: [x]) { [y, norms] dy in
            // Above eps: dX = (dY − Y·(Y·dY)) / ‖x‖. At eps the divisor is a constant: dX = dY / eps.
            var dx = Tensor(zeros: x.shape)
            dx.data.withUnsafeMutableBufferPointer { g in
                dy.data.withUnsafeBufferPointer { d in
                    y.data.withUnsafeBufferPointer { out in
                        norms.withUnsafeBufferPointer { nrm in
                            var dots = [Float](repeating: 0, count: inner)
                            for n in 0..<blocks.outer {
                                let base = n * blocks.stride, nb = n * inner
                                for i in 0..<inner { dots[i] = 0 }
                                for c in 0..<channels {
                                    for i in 0..<inner { dots[i] += out[base + c * inner + i] * d[base + c * inner + i] }
                                }
                                for i in 0..<inner where nrm[nb + i] <= eps { dots[i] = 0 }
                                for c in 0..<channels {
                                    for i in 0..<inner {
                                        let j = base + c * inner + i
                                        g[j] = (d[j] - out[j] * dots[i]) / nrm[nb + i]
                                    }
                                }
                            }
                        }
                    }
                }
            }
            x.accumulate(dx)
        }
    }
}

/// softmax of each row of a [rows, classes] block. A row that is all −∞ (fully masked)
/// gives zeros rather than NaN.
func softmaxRows(_ x: Tensor, rows: Int, classes k: Int) -> Tensor {
    var y = Tensor(zeros: x.shape)
    y.data.withUnsafeMutableBufferPointer { out in
        x.data.withUnsafeBufferPointer { src in
            for r in 0..<rows { _ = softmaxRow(src, out, offset: r * k, count: k) }
        }
    }
    return y
}

/// out[offset..<offset+count] = softmax(x[same]); returns log Σ exp(x) (−∞ for an all −∞ row,
/// whose output is left at zero). Subtracting the row maximum keeps exp from overflowing.
@inline(__always)
func softmaxRow(_ x: UnsafeBufferPointer<Float>, _ out: UnsafeMutableBufferPointer<Float>,
                offset o: Int, count k: Int) -> Float {
    var top = -Float.infinity
    for j in 0..<k { top = max(top, x[o + j]) }
    guard top > -.infinity else {
        for j in 0..<k { out[o + j] = 0 }
        return -.infinity
    }
    var sum: Float = 0
    for j in 0..<k {
        let e = expf(x[o + j] - top)
        out[o + j] = e
        sum += e
    }
    let inv = 1 / sum
    for j in 0..<k { out[o + j] *= inv }
    return top + logf(sum)
}
