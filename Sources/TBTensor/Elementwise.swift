// Elementwise loops over whole tensors, written over unsafe buffers as plain indexed loops so
// the compiler vectorises them; those that run on every activation of a step also split over
// threads. In-place forms exist because activations are the largest tensors of a step and
// copying them costs as much as the arithmetic.

/// ReLU, axpy and friends over tensors of equal element counts.
public enum Elementwise {
    /// max(x, 0) in place; NaN stays NaN, as PyTorch's relu.
    public static func reluInPlace(_ x: inout Tensor) {
        x.data.withUnsafeMutableBufferPointer { x in
            for i in 0..<x.count { let v = x[i]; x[i] = v < 0 ? 0 : v }
        }
    }

    /// max(x, 0) as a new tensor, in one pass.
    public static func relu(_ x: Tensor) -> Tensor {
        Tensor.filled(x.shape) { y in
            x.data.withUnsafeBufferPointer { x in
                Parallel.forEachChunk(x.count) { r in for i in r { let v = x[i]; y[i] = v < 0 ? 0 : v } }
            }
        }
    }

    /// max(a + b, 0) in the shape of `a`, in one pass.
    public static func addReLU(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.count == b.count, "addReLU: \(a.shape) and \(b.shape)")
        return Tensor.filled(a.shape) { y in
            a.data.withUnsafeBufferPointer { a in
                b.data.withUnsafeBufferPointer { b in
                    Parallel.forEachChunk(a.count) { r in for i in r { let v = a[i] + b[i]; y[i] = v < 0 ? 0 : v } }
                }
            }
        }
    }

    /// dX = dY where relu's output is positive, else 0 (PyTorch's threshold_backward), in place on dY.
    public static func reluBackwardInPlace(gradient: inout Tensor, output: Tensor) {
        precondition(gradient.count == output.count, "relu backward: \(gradient.shape) and \(output.shape)")
        gradient.data.withUnsafeMutableBufferPointer { g in
            output.data.withUnsafeBufferPointer { y in
                for i in 0..<g.count { g[i] = y[i] > 0 ? g[i] : 0 }
            }
        }
    }

    /// dX = dY · [y > 0] as a new tensor, in one pass (no copy of dY first).
    public static func reluBackward(gradOutput: Tensor, output: Tensor) -> Tensor {
        precondition(gradOutput.count == output.count, "relu backward: \(gradOutput.shape) and \(output.shape)")
        return Tensor.filled(gradOutput.shape) { g in
            gradOutput.data.withUnsafeBufferPointer { dy in
                output.data.withUnsafeBufferPointer { y in
                    // Both loads unconditional, so the loop vectorises.
                    Parallel.forEachChunk(dy.count) { r in for i in r { let d = dy[i]; g[i] = y[i] > 0 ? d : 0 } }
                }
            }
        }
    }

    /// y += alpha·x.
    public static func axpy(_ alpha: Float, _ x: Tensor, _ y: inout Tensor) {
        precondition(x.count == y.count, "axpy: \(x.shape) and \(y.shape)")
        y.data.withUnsafeMutableBufferPointer { y in
            x.data.withUnsafeBufferPointer { x in
                for i in 0..<y.count { y[i] += alpha * x[i] }
            }
        }
    }

    /// a + b elementwise, in the shape of `a`.
    public static func sum(_ a: Tensor, _ b: Tensor) -> Tensor {
        var c = a
        c.add(b)
        return c
    }

    /// x ·= alpha in place.
    public static func scale(_ x: inout Tensor, by alpha: Float) {
        x.data.withUnsafeMutableBufferPointer { x in
            for i in 0..<x.count { x[i] *= alpha }
        }
    }

    /// x[n, c, ...] += bias[c] in place on an [N, C, ...] tensor.
    public static func addChannelBias(_ x: inout Tensor, _ bias: Tensor) {
        precondition(x.rank >= 2 && bias.count == x.shape[1], "channel bias: \(bias.shape) on \(x.shape)")
        let C = x.shape[1], volume = x.shape.dropFirst(2).reduce(1, *)
        x.data.withUnsafeMutableBufferPointer { x in
            bias.data.withUnsafeBufferPointer { bias in
                for block in 0..<x.count / max(1, C * volume) {
                    for c in 0..<C {
                        let o = (block * C + c) * volume, b = bias[c]
                        for i in o..<o + volume { x[i] += b }
                    }
                }
            }
        }
    }

    /// Σ over every axis but the channel axis of an [N, C, ...] tensor: the gradient of a channel bias.
    public static func channelSums(_ x: Tensor) -> Tensor {
        precondition(x.rank >= 2, "channel sums: \(x.shape) has no channel axis")
        let C = x.shape[1], volume = x.shape.dropFirst(2).reduce(1, *)
        var sums = [Double](repeating: 0, count: C)
        x.data.withUnsafeBufferPointer { x in
            for block in 0..<x.count / max(1, C * volume) {
                for c in 0..<C {
                    let o = (block * C + c) * volume
                    var s = 0.0
                    for i in o..<o + volume { s += Double(x[i]) }
                    sums[c] += s
                }
            }
        }
        return Tensor(shape: [C], data: sums.map { Float($0) })
    }
}
