// Homography between two frames by direct image alignment: Gauss–Newton on the 8 parameters
// (forward-additive Lucas–Kanade), coarse to fine over a pyramid, starting from the identity.
// The parameters live in normalised coordinates, so an estimate carries from one pyramid level
// to the next unchanged. Pixels whose residual exceeds `huberThreshold` are down-weighted
// (Huber's IRLS weights) so that things moving against the camera pull less.

/// Limits that decide when an estimate is not to be trusted.
public struct AlignmentSettings: Equatable, Sendable {
    /// Frames whose RMS gradient (intensity levels per pixel) is below this are textureless.
    public var minimumGradient = 1.0
    /// An aligned pair whose RMS residual (intensity levels) exceeds this is rejected.
    public var maximumResidual = 20.0
    /// Gauss–Newton steps per pyramid level.
    public var iterations = 30
    /// Stop a level when no pixel moves more than this (pixels of that level).
    public var tolerance = 0.002
    /// Residuals beyond this many intensity levels get Huber weights.
    public var huberThreshold = 10.0
    /// The smallest pyramid level's shorter side, in pixels.
    public var coarsest = 16

    public init() {}
}

/// Why a pair of frames gave no homography.
public enum SkipReason: String, CaseIterable, Sendable {
    /// Too little gradient energy in either frame.
    case textureless
    /// Gauss–Newton failed: a singular system, too little overlap, or no convergence.
    case noConvergence = "no_convergence"
    /// Converged, but the frames still differ too much (a cut, or motion a homography cannot explain).
    case residual
}

public enum AlignmentResult: Equatable, Sendable {
    case aligned(Homography, residualRMS: Double)
    case skipped(SkipReason)
}

public enum Alignment {
    /// The homography H with `to(H x) ≈ from(x)` in normalised coordinates: how the content of
    /// `from` moved to become `to`. Both frames must have the same size.
    public static func estimate(from a: AlignmentFrame, to b: AlignmentFrame,
                                settings: AlignmentSettings = AlignmentSettings()) -> AlignmentResult {
        precondition(a.levels[0].width == b.levels[0].width && a.levels[0].height == b.levels[0].height,
                     "Alignment: frames of different sizes")
        guard a.gradientRMS >= settings.minimumGradient, b.gradientRMS >= settings.minimumGradient else {
            return .skipped(.textureless)
        }
        var p = [Double](repeating: 0, count: 8)
        var lastStep = Double.infinity
        for level in stride(from: min(a.levels.count, b.levels.count) - 1, through: 0, by: -1) {
            lastStep = .infinity
            for _ in 0..<settings.iterations {
                guard let system = normalEquations(a, b, level: level, p: p, huber: settings.huberThreshold),
                      let step = solve(system.hessian, system.gradient.map { -$0 }) else { return .skipped(.noConvergence) }
                for k in 0..<8 { p[k] += step[k] }
                guard p.allSatisfy({ $0.isFinite && abs($0) < 2 }) else { return .skipped(.noConvergence) }
                // The largest displacement the step causes at the frame's corners, in this level's pixels.
                let frame = NormalisedFrame(width: a.levels[level].width, height: a.levels[level].height)
                lastStep = cornerDisplacement(step, frame: frame)
                if lastStep < settings.tolerance { break }
            }
        }
        guard lastStep < 0.1 else { return .skipped(.noConvergence) }
        guard let final = normalEquations(a, b, level: 0, p: p, huber: .infinity) else { return .skipped(.noConvergence) }
        let rms = (final.squaredError / Double(final.count)).squareRoot()
        guard rms <= settings.maximumResidual else { return .skipped(.residual) }
        return .aligned(Homography(parameters: p), residualRMS: rms)
    }

    struct NormalEquations {
        var hessian: [Double]       // 8×8, J^T W J
        var gradient: [Double]      // 8, J^T W r
        var squaredError: Double
        var count: Int
    }

    /// One Gauss–Newton linearisation at level `level`: r(x) = to(H x) − from(x) over the pixels of
    /// `from` whose image falls inside `to`; nil when fewer than a third of them do.
    static func normalEquations(_ a: AlignmentFrame, _ b: AlignmentFrame, level: Int, p: [Double],
                                huber: Double) -> NormalEquations? {
        let from = a.levels[level], to = b.levels[level]
        let gx = b.gradientsX[level], gy = b.gradientsY[level]
        let frame = NormalisedFrame(width: from.width, height: from.height)
        let s = frame.scale, cx = frame.centreX, cy = frame.centreY
        let w = to.width, h = to.height
        var hessian = [Double](repeating: 0, count: 64), gradient = [Double](repeating: 0, count: 8)
        var sse = 0.0, count = 0
        var j = [Double](repeating: 0, count: 8)
        to.pixels.withUnsafeBufferPointer { target in
            gx.withUnsafeBufferPointer { gxs in
                gy.withUnsafeBufferPointer { gys in
                    for row in 0..<from.height {
                        let yn = (Double(row) - cy) / s
                        for col in 0..<from.width {
                            let xn = (Double(col) - cx) / s
                            let c = p[6] * xn + p[7] * yn + 1
                            guard c > 1e-6 else { continue }
                            let un = ((1 + p[0]) * xn + p[1] * yn + p[2]) / c
                            let vn = (p[3] * xn + (1 + p[4]) * yn + p[5]) / c
                            let px = un * s + cx, py = vn * s + cy
                            guard px >= 0, py >= 0, px <= Double(w - 1), py <= Double(h - 1) else { continue }
                            // Bilinear samples of the target and its gradients at (px, py).
                            let x0 = min(Int(px), w - 2), y0 = min(Int(py), h - 2)
                            let fx = px - Double(x0), fy = py - Double(y0)
                            let i = y0 * w + x0
                            func bilinear(_ v: UnsafeBufferPointer<Float>) -> Double {
                                let top = Double(v[i]) * (1 - fx) + Double(v[i + 1]) * fx
                                let bottom = Double(v[i + w]) * (1 - fx) + Double(v[i + w + 1]) * fx
                                return top * (1 - fy) + bottom * fy
                            }
                            let r = bilinear(target) - Double(from.pixels[row * from.width + col])
                            // Gradient per normalised unit, then the chain rule through x' = (Hx)/c.
                            let dx = bilinear(gxs) * s, dy = bilinear(gys) * s
                            let dc = -(dx * un + dy * vn)
                            j[0] = dx * xn / c; j[1] = dx * yn / c; j[2] = dx / c
                            j[3] = dy * xn / c; j[4] = dy * yn / c; j[5] = dy / c
                            j[6] = dc * xn / c; j[7] = dc * yn / c
                            let weight = abs(r) <= huber ? 1 : huber / abs(r)
                            for m in 0..<8 {
                                let wj = weight * j[m]
                                gradient[m] += wj * r
                                for n in m..<8 { hessian[8 * m + n] += wj * j[n] }
                            }
                            sse += r * r
                            count += 1
                        }
                    }
                }
            }
        }
        guard count * 3 >= from.width * from.height, count > 8 else { return nil }
        for m in 0..<8 { for n in 0..<m { hessian[8 * m + n] = hessian[8 * n + m] } }
        return NormalEquations(hessian: hessian, gradient: gradient, squaredError: sse, count: count)
    }

    /// Solves the 8×8 symmetric positive definite system A x = b; nil when A is not.
    static func solve(_ a: [Double], _ b: [Double]) -> [Double]? {
        guard let l = Cholesky.factor(a, n: 8, tolerance: 0), l.rank == 8 else { return nil }
        return Cholesky.solve(l.factor, b, n: 8)
    }

    /// How far (pixels of `frame`) the parameter change `delta` moves the frame's corners at most.
    static func cornerDisplacement(_ delta: [Double], frame: NormalisedFrame) -> Double {
        let ex = frame.centreX / frame.scale, ey = frame.centreY / frame.scale
        var largest = 0.0
        for (x, y) in [(-ex, -ey), (ex, -ey), (-ex, ey), (ex, ey)] {
            let dx = delta[0] * x + delta[1] * y + delta[2] - (delta[6] * x + delta[7] * y) * x
            let dy = delta[3] * x + delta[4] * y + delta[5] - (delta[6] * x + delta[7] * y) * y
            largest = max(largest, (dx * dx + dy * dy).squareRoot() * frame.scale)
        }
        return largest
    }
}
