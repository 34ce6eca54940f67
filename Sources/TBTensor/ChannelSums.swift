// Sums over runs of floats for batch norm, vectorised by hand: the compiler keeps a Double
// running sum sequential (it may not reassociate), one add per value. Here 8 Float lanes sum a
// chunk of at most 256 values, the lanes are added in a fixed order and each chunk's total
// joins a Double, so error stays that of a 32-term Float sum and the result is deterministic.

enum ChannelSums {
    static let chunk = 256

    /// Σ x[i] for i < n.
    @inline(__always)
    static func sum(_ x: UnsafePointer<Float>, _ n: Int) -> Double {
        chunked(n) { i, lanes in lanes += load(x, i) } tail: { i in Double(x[i]) }
    }

    /// Σ (x[i] − center)² for i < n.
    @inline(__always)
    static func squares(_ x: UnsafePointer<Float>, _ n: Int, center: Float) -> Double {
        chunked(n) { i, lanes in
            let d = load(x, i) - center
            lanes += d * d
        } tail: { i in
            let d = Double(x[i]) - Double(center)
            return d * d
        }
    }

    /// (Σ g[i], Σ g[i]·(x[i] − center)) with g = dy, or dy where y > 0 when `y` is given.
    @inline(__always)
    static func gradientSums(_ dy: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>?,
                             _ n: Int, center: Float) -> (Double, Double) {
        var total = 0.0, centred = 0.0
        var i = 0
        while i + 8 <= n {
            let end = min(n, i + chunk) & ~7
            var a = SIMD8<Float>(), b = SIMD8<Float>()
            while i < end {
                var g = load(dy, i)
                if let y { g.replace(with: 0, where: load(y, i) .<= 0) }
                a += g
                b += g * (load(x, i) - center)
                i += 8
            }
            total += Double(a.sum())
            centred += Double(b.sum())
        }
        while i < n {
            let g = y.map { $0[i] > 0 } ?? true ? Double(dy[i]) : 0
            total += g
            centred += g * (Double(x[i]) - Double(center))
            i += 1
        }
        return (total, centred)
    }

    /// Chunks of whole 8-lane groups through `body`, then the last n mod 8 values through `tail`.
    @inline(__always)
    private static func chunked(_ n: Int, _ body: (Int, inout SIMD8<Float>) -> Void,
                                tail: (Int) -> Double) -> Double {
        var total = 0.0, i = 0
        while i + 8 <= n {
            let end = min(n, i + chunk) & ~7
            var lanes = SIMD8<Float>()
            while i < end {
                body(i, &lanes)
                i += 8
            }
            total += Double(lanes.sum())
        }
        while i < n {
            total += tail(i)
            i += 1
        }
        return total
    }

    @inline(__always)
    private static func load(_ p: UnsafePointer<Float>, _ i: Int) -> SIMD8<Float> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self)
    }
}
