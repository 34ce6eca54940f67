// Shape ops: reshape, flatten, slice and concat along an axis. A batch of B videos with a
// long clip and S short clips each travels through the backbone as one [B·(1+S), ...]
// tensor; `slice` and `concat` split it and join it again.

import TBTensor

extension Tape {
    /// The same values under another shape with as many elements.
    public func reshape(_ x: Variable, _ shape: [Int]) -> Variable {
        precondition(shape.reduce(1, *) == x.value.count, "reshape: \(x.shape) to \(shape)")
        let inputShape = x.shape
        return result(x.value.reshaped(shape), inputs: [x]) { dy in x.accumulate(dy.reshaped(inputShape)) }
    }

    /// [N, ...] → [N, rest].
    public func flatten(_ x: Variable) -> Variable {
        precondition(x.value.rank >= 1, "flatten: a scalar has no batch axis")
        let n = x.shape[0]
        return reshape(x, [n, n == 0 ? 0 : x.value.count / n])
    }

    /// The entries `range` of axis `axis`, every other axis whole.
    public func slice(_ x: Variable, axis: Int, _ range: Range<Int>) -> Variable {
        precondition(axis >= 0 && axis < x.value.rank, "slice: axis \(axis) of \(x.shape)")
        precondition(range.lowerBound >= 0 && range.upperBound <= x.shape[axis],
                     "slice: \(range) of axis \(axis) in \(x.shape)")
        let blocks = AxisBlocks(shape: x.shape, axis: axis)
        var outShape = x.shape
        outShape[axis] = range.count
        // Each outer index contributes one contiguous run of range.count · inner values.
        let run = range.count * blocks.inner, srcStart = range.lowerBound * blocks.inner
        var y = Tensor(zeros: outShape)
        y.data.withUnsafeMutableBufferPointer { dst in
            x.value.data.withUnsafeBufferPointer { src in
                for o in 0..<blocks.outer {
                    copyRun(src, o * blocks.stride + srcStart, dst, o * run, run)
                }
            }
        }
        return result(y, inputs: [x]) { dy in
            x.accumulate { g in
                dy.data.withUnsafeBufferPointer { d in
                    for o in 0..<blocks.outer {
                        let s = o * run, t = o * blocks.stride + srcStart
                        for i in 0..<run { g[t + i] += d[s + i] }
                    }
                }
            }
        }
    }

    /// Joins `xs` along `axis`; all other axes must agree.
    public func concat(_ xs: [Variable], axis: Int) -> Variable {
        guard let first = xs.first else { preconditionFailure("concat: no inputs") }
        precondition(axis >= 0 && axis < first.value.rank, "concat: axis \(axis) of \(first.shape)")
        var outShape = first.shape
        outShape[axis] = 0
        let offAxis = outShape
        for x in xs {
            var s = x.shape
            s[axis] = 0
            precondition(s == offAxis, "concat: \(x.shape) does not match \(first.shape) off axis \(axis)")
            outShape[axis] += x.shape[axis]
        }
        let out = AxisBlocks(shape: outShape, axis: axis)
        // runs[k]: values input k contributes per outer index; offsets[k]: where they start.
        let runs = xs.map { $0.shape[axis] * out.inner }
        var offsets = [Int](repeating: 0, count: xs.count)
        for k in 1..<max(xs.count, 1) { offsets[k] = offsets[k - 1] + runs[k - 1] }
        var y = Tensor(zeros: outShape)
        y.data.withUnsafeMutableBufferPointer { dst in
            for (k, x) in xs.enumerated() {
                x.value.data.withUnsafeBufferPointer { src in
                    for o in 0..<out.outer { copyRun(src, o * runs[k], dst, o * out.stride + offsets[k], runs[k]) }
                }
            }
        }
        return result(y, inputs: xs) { dy in
            dy.data.withUnsafeBufferPointer { d in
                for (k, x) in xs.enumerated() where x.requiresGrad {
                    x.accumulate { g in
                        for o in 0..<out.outer {
                            let s = o * out.stride + offsets[k], t = o * runs[k]
                            for i in 0..<runs[k] { g[t + i] += d[s + i] }
                        }
                    }
                }
            }
        }
    }
}

/// A shape seen around one axis: `outer` blocks (axes before it) of `stride` values, each
/// holding shape[axis] runs of `inner` values (axes after it).
struct AxisBlocks {
    let outer: Int, inner: Int, stride: Int

    init(shape: [Int], axis: Int) {
        outer = shape[..<axis].reduce(1, *)
        inner = shape[(axis + 1)...].reduce(1, *)
        stride = shape[axis] * inner
    }
}

@inline(__always)
private func copyRun(_ src: UnsafeBufferPointer<Float>, _ from: Int,
                     _ dst: UnsafeMutableBufferPointer<Float>, _ to: Int, _ count: Int) {
    guard count > 0, let s = src.baseAddress, let d = dst.baseAddress else { return }
    (d + to).update(from: s + from, count: count)
}
