// The camera-motion distribution: a Gaussian over the 8 homography parameters, its maximum
// likelihood fit from estimated homographies, and draws from it (ALGORITHMS.md §2.2).

import TBCore

/// N(μ, Σ) over the 8 parameters of `Homography`.
public struct MotionGaussian: Equatable, Sendable {
    public var mean: [Double]
    /// 8×8, row-major.
    public var covariance: [Double]

    public init(mean: [Double], covariance: [Double]) {
        precondition(mean.count == 8 && covariance.count == 64, "MotionGaussian: 8 means and 8x8 covariances")
        self.mean = mean
        self.covariance = covariance
    }

    /// μ = 0, Σ = 0: every draw is the identity.
    public static let still = MotionGaussian(mean: [Double](repeating: 0, count: 8),
                                             covariance: [Double](repeating: 0, count: 64))

    /// The maximum-likelihood fit: the sample mean and the covariance with divisor n (not n − 1).
    /// Two passes, so that small motions are not lost to cancellation. `samples` must not be empty.
    public static func fit(_ samples: [[Double]]) -> MotionGaussian {
        precondition(!samples.isEmpty, "MotionGaussian.fit: no samples")
        let n = Double(samples.count)
        var mean = [Double](repeating: 0, count: 8)
        for s in samples { for k in 0..<8 { mean[k] += s[k] } }
        for k in 0..<8 { mean[k] /= n }
        var cov = [Double](repeating: 0, count: 64)
        for s in samples {
            for i in 0..<8 {
                let di = s[i] - mean[i]
                for j in i..<8 { cov[8 * i + j] += di * (s[j] - mean[j]) }
            }
        }
        for i in 0..<8 {
            for j in i..<8 {
                cov[8 * i + j] /= n
                cov[8 * j + i] = cov[8 * i + j]
            }
        }
        return MotionGaussian(mean: mean, covariance: cov)
    }

    /// A sampler, or nil when Σ is not symmetric positive semi-definite.
    public func sampler() -> MotionSampler? {
        for i in 0..<8 { for j in 0..<i where abs(covariance[8 * i + j] - covariance[8 * j + i]) >
            1e-9 * max(abs(covariance[8 * i + j]), 1e-12) { return nil } }
        guard let l = Cholesky.factor(covariance, n: 8, tolerance: 1e-12) else { return nil }
        return MotionSampler(mean: mean, factor: l.factor)
    }
}

/// Draws H = μ + L z, z ~ N(0, I), L L^T = Σ.
public struct MotionSampler: Sendable {
    public let mean: [Double]
    /// Lower triangular, row-major 8×8.
    public let factor: [Double]

    public func draw(_ g: inout SeededGenerator) -> Homography {
        var z = [Double](repeating: 0, count: 8)
        for k in stride(from: 0, to: 8, by: 2) { (z[k], z[k + 1]) = standardNormalPair(&g) }
        var p = mean
        for i in 0..<8 { for j in 0...i { p[i] += factor[8 * i + j] * z[j] } }
        return Homography(parameters: p)
    }
}

/// Two independent N(0, 1) by Box–Muller.
public func standardNormalPair(_ g: inout SeededGenerator) -> (Double, Double) {
    let u1 = (Double(g.next() >> 11) + 1) * 0x1p-53   // (0, 1]: log is finite
    let u2 = Double(g.next() >> 11) * 0x1p-53
    let r = (-2 * log(u1)).squareRoot()
    return (r * cos(2 * Double.pi * u2), r * sin(2 * Double.pi * u2))
}

/// Cholesky factorisation of symmetric positive semi-definite matrices.
public enum Cholesky {
    /// L with L L^T = A (row-major n×n, lower triangular) and the number of pivots kept.
    /// A pivot at most `tolerance` × the largest diagonal entry counts as zero and its column of
    /// L is zero (positive semi-definite A, e.g. Σ = 0 or a parameter that never varies);
    /// nil when a pivot is clearly negative. With tolerance 0 only positive pivots count.
    public static func factor(_ a: [Double], n: Int, tolerance: Double) -> (factor: [Double], rank: Int)? {
        var l = [Double](repeating: 0, count: n * n)
        let largest = (0..<n).map { a[n * $0 + $0] }.max() ?? 0
        let floor = tolerance * max(largest, 0)
        var rank = 0
        for j in 0..<n {
            var d = a[n * j + j]
            for k in 0..<j { d -= l[n * j + k] * l[n * j + k] }
            guard d.isFinite else { return nil }
            if d <= floor {
                if tolerance > 0 && d < -1e-9 * largest { return nil }
                continue   // a zero pivot: this column of L stays zero
            }
            rank += 1
            let root = d.squareRoot()
            l[n * j + j] = root
            for i in (j + 1)..<n {
                var v = a[n * i + j]
                for k in 0..<j { v -= l[n * i + k] * l[n * j + k] }
                l[n * i + j] = v / root
            }
        }
        return (l, rank)
    }

    /// Solves L L^T x = b for a full-rank factor.
    public static func solve(_ l: [Double], _ b: [Double], n: Int) -> [Double] {
        var y = b
        for i in 0..<n {
            for k in 0..<i { y[i] -= l[n * i + k] * y[k] }
            y[i] /= l[n * i + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            for k in (i + 1)..<n { y[i] -= l[n * k + i] * y[k] }
            y[i] /= l[n * i + i]
        }
        return y
    }
}

#if canImport(Glibc)
import Glibc
#endif
