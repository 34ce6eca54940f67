// InfoNCE with a positives mask: the building block of the contrastive objectives
// (ALGORITHMS.md §1.2–1.3). NT-Xent over 2B views is infoNCE(z·zᵀ, positives = partner,
// excluded = diagonal, temperature τ); the local-local and global-local terms are the same
// call on smaller similarity matrices with other masks.
//
//   L = mean_i −log( Σ_{j ∈ pos(i)} exp(s_ij/τ) / Σ_{j ∉ excl(i)} exp(s_ij/τ) )
//
// Both sums are log-sum-exps with the row maximum subtracted; excluded entries are skipped,
// never set to −∞, so nothing turns into NaN.

import TBTensor
#if canImport(Glibc)
import Glibc
#endif

extension Tape {
    /// Mean over rows of −log(Σ_positives exp(s/τ) / Σ_not-excluded exp(s/τ)) for similarities
    /// s [M, M'] (cosines, or logits already divided by τ with `temperature` 1). `positives`
    /// and `excluded` are row-major [M, M'] masks; excluded entries (self-pairs) are in neither
    /// sum, and every row needs a positive that is not excluded.
    public func infoNCE(_ similarity: Variable, positives: [Bool], excluded: [Bool]? = nil,
                        temperature: Float = 1) -> Variable {
        precondition(similarity.value.rank == 2 && similarity.shape[0] > 0,
                     "infoNCE: similarity \(similarity.shape) is not [M, M'] with M > 0")
        precondition(temperature > 0, "infoNCE: temperature \(temperature)")
        let m = similarity.shape[0], cols = similarity.shape[1], count = m * cols
        precondition(positives.count == count && (excluded?.count ?? count) == count,
                     "infoNCE: masks do not cover \(similarity.shape)")
        let invT = 1 / temperature
        // Per entry: 0 excluded, 1 in the denominator only, 2 in both sums.
        var role = [UInt8](repeating: 1, count: count)
        for i in 0..<count {
            if excluded?[i] == true { role[i] = 0 } else if positives[i] { role[i] = 2 }
        }
        for r in 0..<m {
            precondition(role[(r * cols)..<((r + 1) * cols)].contains(2), "infoNCE: row \(r) has no positive")
        }
        // [M] log-partitions over all kept entries and over the positives, saved for backward.
        var logZAll = [Float](repeating: 0, count: m), logZPos = [Float](repeating: 0, count: m)
        var total: Double = 0
        similarity.value.data.withUnsafeBufferPointer { s in
            role.withUnsafeBufferPointer { roles in
                for r in 0..<m {
                    let o = r * cols
                    logZAll[r] = maskedLogSumExp(s, roles, offset: o, count: cols, scale: invT, minimumRole: 1)
                    logZPos[r] = maskedLogSumExp(s, roles, offset: o, count: cols, scale: invT, minimumRole: 2)
                    total += Double(logZAll[r]) - Double(logZPos[r])
                }
            }
        }
        let loss = Tensor(shape: [], data: [Float(total / Double(m))])
        return result(loss, inputs: [similarity]) { [role, logZAll, logZPos] dy in
            // d/ds_ij = (softmax over kept − softmax over positives)_ij / τ / M · dL.
            let g = dy.scalar * invT / Float(m)
            var ds = Tensor(zeros: similarity.shape)
            ds.data.withUnsafeMutableBufferPointer { d in
                similarity.value.data.withUnsafeBufferPointer { s in
                    for r in 0..<m {
                        let o = r * cols, za = logZAll[r], zp = logZPos[r]
                        for j in 0..<cols where role[o + j] > 0 {
                            let z = s[o + j] * invT
                            var v = z == -.infinity || za == -.infinity ? 0 : expf(z - za)
                            if role[o + j] == 2 && z != -.infinity && zp != -.infinity { v -= expf(z - zp) }
                            d[o + j] = v * g
                        }
                    }
                }
            }
            similarity.accumulate(ds)
        }
    }
}

/// log Σ exp(scale · x_j) over the entries of one row whose role is at least `minimumRole`;
/// −∞ when no entry counts or all are −∞.
private func maskedLogSumExp(_ x: UnsafeBufferPointer<Float>, _ role: UnsafeBufferPointer<UInt8>,
                             offset o: Int, count: Int, scale: Float, minimumRole: UInt8) -> Float {
    var top = -Float.infinity
    for j in 0..<count where role[o + j] >= minimumRole { top = max(top, x[o + j] * scale) }
    guard top > -.infinity else { return -.infinity }
    var sum: Float = 0
    for j in 0..<count where role[o + j] >= minimumRole { sum += expf(x[o + j] * scale - top) }
    return top + logf(sum)
}
