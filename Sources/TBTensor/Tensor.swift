// Float32 tensors: a shape and contiguous row-major values. Networks use NCTHW
// (2D networks are the T = 1 case, NCHW viewed as NC1HW).

import TBCore
#if canImport(Glibc)
import Glibc
#endif

public struct Tensor: Equatable, Sendable {
    /// Sizes of the axes, outermost first.
    public private(set) var shape: [Int]
    /// Values in row-major order; `data.count == shape.product`.
    public var data: [Float]

    /// Wraps `data`; its count must equal the product of `shape` (a programming error otherwise).
    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == data.count,
                     "Tensor: \(data.count) values do not fill shape \(shape)")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, repeating: 0)
    }

    public init(shape: [Int], repeating value: Float) {
        self.shape = shape
        data = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// Normal values with mean 0 and standard deviation `std` (Box–Muller), from `generator`.
    public init(randomNormal shape: [Int], std: Float = 1, generator: inout SeededGenerator) {
        let n = shape.reduce(1, *)
        var values = [Float](repeating: 0, count: n)
        var i = 0
        while i < n {
            let u1 = max(generator.nextUnitFloat(), 1e-7), u2 = generator.nextUnitFloat()
            let r = (-2 * logf(u1)).squareRoot()
            values[i] = std * r * cosf(2 * .pi * u2)
            if i + 1 < n { values[i + 1] = std * r * sinf(2 * .pi * u2) }
            i += 2
        }
        self.init(shape: shape, data: values)
    }

    /// Uniform values in [-bound, bound), as PyTorch's kaiming_uniform_ draws them.
    public init(randomUniform shape: [Int], bound: Float, generator: inout SeededGenerator) {
        let n = shape.reduce(1, *)
        self.init(shape: shape, data: (0..<n).map { _ in (generator.nextUnitFloat() * 2 - 1) * bound })
    }

    public var count: Int { data.count }
    public var rank: Int { shape.count }

    /// The same values under another shape with as many elements.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        Tensor(shape: newShape, data: data)
    }

    /// Values of a scalar or one-element tensor.
    public var scalar: Float { data[0] }

    /// Sets every value to zero, keeping the allocation.
    public mutating func zero() {
        data.withUnsafeMutableBufferPointer { p in p.update(repeating: 0) }
    }

    /// self += other, elementwise (shapes must have equal element counts).
    public mutating func add(_ other: Tensor) {
        precondition(count == other.count, "add: \(shape) and \(other.shape)")
        data.withUnsafeMutableBufferPointer { a in
            other.data.withUnsafeBufferPointer { b in
                Parallel.forEachChunk(a.count) { r in for i in r { a[i] += b[i] } }
            }
        }
    }

    /// Largest |a − b| / max(|a|, |b|, floor) over all elements: for comparing kernels.
    public func maxRelativeDifference(_ other: Tensor, floor: Float = 1e-6) -> Float {
        precondition(count == other.count)
        var worst: Float = 0
        for i in 0..<count {
            let a = data[i], b = other.data[i]
            worst = max(worst, abs(a - b) / max(abs(a), abs(b), floor))
        }
        return worst
    }
}

/// Where a 3D convolution or pooling window goes: per axis (T, H, W) kernel size, stride,
/// zero padding on both sides, and dilation. A 2D operation is T = 1 with kernel 1.
public struct ConvGeometry: Equatable, Sendable, CustomStringConvertible {
    public var kernel: (t: Int, h: Int, w: Int)
    public var stride: (t: Int, h: Int, w: Int)
    public var padding: (t: Int, h: Int, w: Int)
    public var dilation: (t: Int, h: Int, w: Int)

    public init(kernel: (Int, Int, Int), stride: (Int, Int, Int) = (1, 1, 1),
                padding: (Int, Int, Int) = (0, 0, 0), dilation: (Int, Int, Int) = (1, 1, 1)) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// A 2D geometry (kernel k×k, stride s, padding p), as a 3D one with T = 1.
    public static func square2D(kernel k: Int, stride s: Int = 1, padding p: Int = 0) -> ConvGeometry {
        ConvGeometry(kernel: (1, k, k), stride: (1, s, s), padding: (0, p, p))
    }

    /// A cube: kernel k, stride s, padding p on every axis.
    public static func cube(kernel k: Int, stride s: Int = 1, padding p: Int = 0) -> ConvGeometry {
        ConvGeometry(kernel: (k, k, k), stride: (s, s, s), padding: (p, p, p))
    }

    /// Output size along an axis of input size `n`: ⌊(n + 2p − d(k − 1) − 1) / s⌋ + 1, as PyTorch.
    public static func outputSize(_ n: Int, kernel k: Int, stride s: Int, padding p: Int, dilation d: Int) -> Int {
        let span = n + 2 * p - d * (k - 1) - 1
        return span < 0 ? 0 : span / s + 1
    }

    /// (T', H', W') for an input of (T, H, W).
    public func outputSize(t: Int, h: Int, w: Int) -> (t: Int, h: Int, w: Int) {
        (ConvGeometry.outputSize(t, kernel: kernel.t, stride: stride.t, padding: padding.t, dilation: dilation.t),
         ConvGeometry.outputSize(h, kernel: kernel.h, stride: stride.h, padding: padding.h, dilation: dilation.h),
         ConvGeometry.outputSize(w, kernel: kernel.w, stride: stride.w, padding: padding.w, dilation: dilation.w))
    }

    public var kernelVolume: Int { kernel.t * kernel.h * kernel.w }

    public static func == (a: ConvGeometry, b: ConvGeometry) -> Bool {
        a.kernel == b.kernel && a.stride == b.stride && a.padding == b.padding && a.dilation == b.dilation
    }

    public var description: String {
        "kernel \(kernel.t)x\(kernel.h)x\(kernel.w) stride \(stride.t)x\(stride.h)x\(stride.w) "
            + "padding \(padding.t)x\(padding.h)x\(padding.w) dilation \(dilation.t)x\(dilation.h)x\(dilation.w)"
    }
}
