// Timing of Conv3D on the convolutions of the R3D-S benchmark net, beside plain sgemm on the
// very GEMMs each pass runs, so that the cost of vol2col, col2vol and reordering shows.
// bin/bench prints the rows; tests never time anything.

import TBCore
#if canImport(Glibc)
import Glibc
#endif

/// Conv3D throughput per layer and pass, against cblas_sgemm alone on the same GEMM shapes.
public enum KernelBench {
    /// One layer's pass: conv GFLOP/s (vol2col + GEMM + col2vol, counting 2·outputs·Cin·kernel
    /// volume as PyTorch does), sgemm GFLOP/s alone on the GEMMs the conv ran (2·m·n·k, dead taps
    /// left out), and the share of the conv's time those GEMMs take.
    public struct Row: Sendable {
        public let layer: String
        public let pass: String
        public let gflops: Double
        public let sgemmGflops: Double
        public let gemmShare: Double
        /// The conv's time for one call, in milliseconds.
        public let milliseconds: Double

        public init(layer: String, pass: String, gflops: Double, sgemmGflops: Double, gemmShare: Double,
                    milliseconds: Double = 0) {
            self.layer = layer
            self.pass = pass
            self.gflops = gflops
            self.sgemmGflops = sgemmGflops
            self.gemmShare = gemmShare
            self.milliseconds = milliseconds
        }
    }

    /// A convolution of the benchmark net, by name.
    public struct Layer: Sendable {
        public let name: String
        public let inputShape: [Int]  // [N, Cin, T, H, W]
        public let outChannels: Int
        public let geometry: ConvGeometry

        public init(name: String, inputShape: [Int], outChannels: Int, geometry: ConvGeometry) {
            self.name = name
            self.inputShape = inputShape
            self.outChannels = outChannels
            self.geometry = geometry
        }
    }

    /// R3D-S on input [8, 3, 8, 56, 56]: stem, then per stage the 3×3×3 convs and the 1×1×1 shortcut.
    public static let r3dSmall: [Layer] = {
        let n = 8, conv3 = ConvGeometry.cube(kernel: 3, padding: 1)
        let down3 = ConvGeometry.cube(kernel: 3, stride: 2, padding: 1), down1 = ConvGeometry.cube(kernel: 1, stride: 2)
        return [
            Layer(name: "stem 3>16 3x7x7/1,2,2", inputShape: [n, 3, 8, 56, 56], outChannels: 16,
                  geometry: ConvGeometry(kernel: (3, 7, 7), stride: (1, 2, 2), padding: (1, 3, 3))),
            Layer(name: "16>16 @8x28x28", inputShape: [n, 16, 8, 28, 28], outChannels: 16, geometry: conv3),
            Layer(name: "16>32 /2", inputShape: [n, 16, 8, 28, 28], outChannels: 32, geometry: down3),
            Layer(name: "16>32 1x1x1/2", inputShape: [n, 16, 8, 28, 28], outChannels: 32, geometry: down1),
            Layer(name: "32>32 @4x14x14", inputShape: [n, 32, 4, 14, 14], outChannels: 32, geometry: conv3),
            Layer(name: "32>64 /2", inputShape: [n, 32, 4, 14, 14], outChannels: 64, geometry: down3),
            Layer(name: "32>64 1x1x1/2", inputShape: [n, 32, 4, 14, 14], outChannels: 64, geometry: down1),
            Layer(name: "64>64 @2x7x7", inputShape: [n, 64, 2, 7, 7], outChannels: 64, geometry: conv3),
            Layer(name: "64>128 /2", inputShape: [n, 64, 2, 7, 7], outChannels: 128, geometry: down3),
            Layer(name: "64>128 1x1x1/2", inputShape: [n, 64, 2, 7, 7], outChannels: 128, geometry: down1),
            Layer(name: "128>128 @1x4x4", inputShape: [n, 128, 1, 4, 4], outChannels: 128, geometry: conv3),
        ]
    }()

    /// Times forward, backwardInput and backwardWeight of each layer, each for at least
    /// `seconds` (best of the repetitions), and the same GEMMs through sgemm alone.
    public static func run(layers: [Layer] = r3dSmall, passes only: Set<String>? = nil, seconds: Double = 0.3) -> [Row] {
        var rows: [Row] = []
        var generator = SeededGenerator(seed: 1)
        for layer in layers {
            let shape = ConvShape(inputShape: layer.inputShape, outChannels: layer.outChannels,
                                  geometry: layer.geometry)
            let x = Tensor(randomNormal: shape.inputShape, generator: &generator)
            let w = Tensor(randomNormal: shape.weightShape, std: 0.1, generator: &generator)
            let dy = Tensor(randomNormal: shape.outputShape, generator: &generator)
            let g = layer.geometry
            let passes: [(String, () -> Void, [GEMM])] = [
                ("forward", { _ = Conv3D.forward(input: x, weight: w, geometry: g) }, forwardGEMMs(shape)),
                ("backwardInput",
                 { _ = Conv3D.backwardInput(gradOutput: dy, weight: w, inputShape: x.shape, geometry: g) },
                 backwardInputGEMMs(shape)),
                ("backwardWeight", { _ = Conv3D.backwardWeight(gradOutput: dy, input: x, geometry: g) },
                 backwardWeightGEMMs(shape)),
            ]
            for (pass, body, gemms) in passes where only?.contains(pass) ?? true {
                let (conv, plain) = withGEMMs(gemms) { sgemms in bestTimes(seconds: seconds, body, sgemms) }
                let gemmFlops = gemms.reduce(0.0) { $0 + 2 * Double($1.m) * Double($1.n) * Double($1.k) }
                rows.append(Row(layer: layer.name, pass: pass, gflops: shape.flops / conv / 1e9,
                                sgemmGflops: gemmFlops / plain / 1e9, gemmShare: plain / conv, milliseconds: conv * 1000))
            }
        }
        return rows
    }

    /// The rows as an aligned text table, with the OpenBLAS kernel and thread count.
    public static func table(_ rows: [Row]) -> String {
        var lines = ["OpenBLAS \(BLAS.coreName), \(computeThreads) threads. conv: GFLOP/s as PyTorch counts them; "
                        + "sgemm: GFLOP/s of the same GEMMs alone (cblas_sgemm split over tb's threads); gemm share: their time / the conv's; ms: the conv's time a call",
                     pad("layer", 24) + pad("pass", 16) + pad("conv", 8, right: true) + pad("sgemm", 8, right: true)
                        + pad("gemm share", 12, right: true) + pad("ms", 8, right: true)]
        for r in rows {
            lines.append(pad(r.layer, 24) + pad(r.pass, 16) + pad(fixed(r.gflops), 8, right: true)
                         + pad(fixed(r.sgemmGflops), 8, right: true) + pad(fixed(r.gemmShare, 2), 12, right: true)
                         + pad(fixed(r.milliseconds, 2), 8, right: true))
        }
        return lines.joined(separator: "\n")
    }

    /// `s` filled with spaces to `width` characters, on the left when `right` (table columns).
    public static func pad(_ s: String, _ width: Int, right: Bool = false) -> String {
        let fill = String(repeating: " ", count: max(0, width - s.count))
        return right ? fill + s : s + fill
    }

    private static func fixed(_ v: Double, _ digits: Int = 1) -> String {
        let scale = digits == 1 ? 10.0 : 100.0
        let r = (v * scale).rounded() / scale
        return "\(r)"
    }

    /// One sgemm call: row-major shapes and transposes as Conv3D issues them.
    struct GEMM {
        let transA: Bool, transB: Bool
        let m: Int, n: Int, k: Int
    }

    /// The GEMMs of Conv3D's vol2col + sgemm path (the one it takes without AVX2): per-sample GEMMs
    /// for wide pointwise layers, else one per 4 MB tile. The panel kernels are measured against
    /// OpenBLAS on these, its best shapes, rather than on their own smaller tiles.
    static func forwardGEMMs(_ s: ConvShape) -> [GEMM] {
        let P = s.outputVolume
        if s.isPointwise && P >= Conv3D.pointwiseMinimumVolume {
            return Array(repeating: GEMM(transA: false, transB: false, m: s.outChannels, n: P, k: s.columnRows),
                         count: s.batch)
        }
        return widths(s).map { GEMM(transA: false, transB: false, m: s.outChannels, n: $0, k: s.columnRows) }
    }

    static func backwardInputGEMMs(_ s: ConvShape) -> [GEMM] {
        if Conv3D.usesTransposedConvolution(s) { return forwardGEMMs(s.transposed) }
        return widths(s).map { GEMM(transA: true, transB: false, m: s.columnRows, n: $0, k: s.outChannels) }
    }

    static func backwardWeightGEMMs(_ s: ConvShape) -> [GEMM] {
        let P = s.outputVolume
        if s.isPointwise && P >= Conv3D.pointwiseMinimumVolume {
            return Array(repeating: GEMM(transA: false, transB: true, m: s.outChannels, n: s.columnRows, k: P),
                         count: s.batch)
        }
        return widths(s).map { GEMM(transA: false, transB: true, m: s.outChannels, n: s.columnRows, k: $0) }
    }

    /// Column counts of the tiles Conv3D cuts the output positions into.
    static func widths(_ s: ConvShape) -> [Int] {
        s.tiles().map { $0.width(s) }
    }

    /// Calls `body` with a closure that runs the GEMM list on random operands sized for its largest call.
    static func withGEMMs<R>(_ gemms: [GEMM], _ body: (() -> Void) -> R) -> R {
        let sizeA = gemms.map { $0.m * $0.k }.max() ?? 0, sizeB = gemms.map { $0.k * $0.n }.max() ?? 0
        let sizeC = gemms.map { $0.m * $0.n }.max() ?? 0
        var generator = SeededGenerator(seed: 2)
        let a = Tensor(randomNormal: [sizeA], generator: &generator).data
        let b = Tensor(randomNormal: [sizeB], generator: &generator).data
        var c = [Float](repeating: 0, count: sizeC)
        return a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    body {
                        guard let a = a.baseAddress, let b = b.baseAddress, let c = c.baseAddress else { return }
                        for g in gemms {
                            BLAS.sgemm(transA: g.transA, transB: g.transB, m: g.m, n: g.n, k: g.k,
                                       a: a, lda: g.transA ? g.m : g.k, b: b, ldb: g.transB ? g.k : g.n,
                                       beta: 0, c: c, ldc: g.n)
                        }
                    }
                }
            }
        }
    }

    /// Shortest wall times of `first` and `second`, run alternately (after a warm-up of each) until
    /// both have had `seconds`: on a shared machine both then see the same quiet moments.
    static func bestTimes(seconds: Double, _ first: () -> Void, _ second: () -> Void) -> (Double, Double) {
        first()
        second()
        var best = (Double.infinity, Double.infinity), total = 0.0, runs = 0
        while total < 2 * seconds || runs < 3 {
            let t0 = now()
            first()
            let t1 = now()
            second()
            let t2 = now()
            best = (min(best.0, t1 - t0), min(best.1, t2 - t1))
            total += t2 - t0
            runs += 1
        }
        return best
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }
}
