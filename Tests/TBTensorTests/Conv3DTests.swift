import XCTest
import TBCore
@testable import TBTensor

/// Conv3D's vol2col + GEMM kernels against the direct loops of ConvReference.
final class Conv3DTests: XCTestCase {
    struct Case {
        let name: String
        let batch, inChannels, outChannels: Int
        let size: (Int, Int, Int)
        let geometry: ConvGeometry
    }

    static let cases: [Case] = [
        Case(name: "1x1x1 on one voxel", batch: 1, inChannels: 1, outChannels: 1, size: (1, 1, 1),
             geometry: .cube(kernel: 1)),
        Case(name: "2D 3x3", batch: 3, inChannels: 3, outChannels: 4, size: (1, 5, 7),
             geometry: .square2D(kernel: 3, padding: 1)),
        Case(name: "2D 3x3 stride 2", batch: 3, inChannels: 5, outChannels: 7, size: (1, 5, 7),
             geometry: .square2D(kernel: 3, stride: 2, padding: 1)),
        Case(name: "3x3x3", batch: 3, inChannels: 5, outChannels: 7, size: (4, 6, 3),
             geometry: .cube(kernel: 3, padding: 1)),
        Case(name: "3x3x3 unpadded", batch: 1, inChannels: 3, outChannels: 4, size: (4, 6, 3),
             geometry: .cube(kernel: 3)),
        Case(name: "stem 3x7x7", batch: 1, inChannels: 3, outChannels: 4, size: (4, 6, 3),
             geometry: ConvGeometry(kernel: (3, 7, 7), stride: (1, 2, 2), padding: (1, 3, 3))),
        Case(name: "stem 3x7x7 batch", batch: 3, inChannels: 3, outChannels: 7, size: (4, 9, 10),
             geometry: ConvGeometry(kernel: (3, 7, 7), stride: (1, 2, 2), padding: (1, 3, 3))),
        Case(name: "1x3x3", batch: 3, inChannels: 5, outChannels: 4, size: (4, 6, 3),
             geometry: ConvGeometry(kernel: (1, 3, 3), padding: (0, 1, 1))),
        Case(name: "3x1x1", batch: 3, inChannels: 3, outChannels: 7, size: (4, 6, 3),
             geometry: ConvGeometry(kernel: (3, 1, 1), padding: (1, 0, 0))),
        Case(name: "1x1x1 stride 2", batch: 3, inChannels: 5, outChannels: 4, size: (4, 6, 3),
             geometry: .cube(kernel: 1, stride: 2)),
        Case(name: "1x1x1 padded", batch: 3, inChannels: 5, outChannels: 4, size: (1, 5, 7),
             geometry: .cube(kernel: 1, padding: 1)),
        Case(name: "3x3x3 stride 2", batch: 3, inChannels: 3, outChannels: 4, size: (5, 7, 6),
             geometry: .cube(kernel: 3, stride: 2, padding: 1)),
        Case(name: "padding 3 on size 2", batch: 1, inChannels: 3, outChannels: 4, size: (2, 2, 2),
             geometry: .cube(kernel: 3, padding: 3)),
        Case(name: "padding 3 on size 2, stride 2", batch: 3, inChannels: 1, outChannels: 1, size: (2, 2, 2),
             geometry: .cube(kernel: 3, stride: 2, padding: 3)),
        // t-taps 0 and 2 only ever read padding: the GEMMs leave them out.
        Case(name: "3x3x3 on T = 1 (dead taps)", batch: 3, inChannels: 5, outChannels: 4, size: (1, 5, 7),
             geometry: .cube(kernel: 3, padding: 1)),
        Case(name: "3x3x3 /2 on T = 2 (dead tap)", batch: 3, inChannels: 3, outChannels: 7, size: (2, 7, 7),
             geometry: .cube(kernel: 3, stride: 2, padding: 1)),
        Case(name: "dilation 2 on t", batch: 3, inChannels: 3, outChannels: 4, size: (5, 6, 3),
             geometry: ConvGeometry(kernel: (3, 3, 3), padding: (2, 1, 1), dilation: (2, 1, 1))),
        Case(name: "dilated in h and w, same size", batch: 3, inChannels: 3, outChannels: 4, size: (2, 7, 9),
             geometry: ConvGeometry(kernel: (1, 3, 3), padding: (0, 2, 2), dilation: (1, 2, 2))),
        Case(name: "dilated, strided, uneven", batch: 3, inChannels: 5, outChannels: 7, size: (7, 6, 5),
             geometry: ConvGeometry(kernel: (2, 3, 2), stride: (2, 1, 3), padding: (1, 2, 0), dilation: (3, 2, 1))),
        Case(name: "1x1x1 wide (per-sample GEMMs)", batch: 3, inChannels: 5, outChannels: 7, size: (4, 16, 20),
             geometry: .cube(kernel: 1)),
        // Column matrices of ~10 MB per sample: tiles of a few output rows of one sample.
        Case(name: "tiled", batch: 3, inChannels: 5, outChannels: 2, size: (4, 64, 76),
             geometry: .cube(kernel: 3, padding: 1)),
        // Strided, through col2vol, with tile boundaries inside planes.
        Case(name: "tiled, strided", batch: 2, inChannels: 5, outChannels: 2, size: (4, 63, 76),
             geometry: ConvGeometry(kernel: (3, 3, 3), stride: (1, 2, 2), padding: (1, 1, 1))),
        // Stride 2 in h and w through phase planes of the output's size, wide enough for the
        // direct kernel that reads them without packing.
        Case(name: "stem 3x7x7, direct", batch: 2, inChannels: 3, outChannels: 5, size: (3, 20, 19),
             geometry: ConvGeometry(kernel: (3, 7, 7), stride: (1, 2, 2), padding: (1, 3, 3))),
        // The direct kernel with dead taps, and with panels that end inside a sample.
        Case(name: "3x3x3 on T = 1, direct", batch: 2, inChannels: 3, outChannels: 9, size: (1, 17, 19),
             geometry: .cube(kernel: 3, padding: 1)),
        // The AVX2 kernels take rows 6 at a time: the last block is 4 rows (10 channels) or 2 (8).
        Case(name: "direct, last rows 4", batch: 1, inChannels: 2, outChannels: 10, size: (2, 9, 11),
             geometry: .cube(kernel: 3, padding: 1)),
        Case(name: "direct, last rows 2", batch: 2, inChannels: 3, outChannels: 8, size: (1, 10, 12),
             geometry: .cube(kernel: 3, padding: 1)),
        // Weight gradients from a padded input (AVX2): 16 channels (two vectors), 24 (one left
        // over), dilation, one sample split into runs of rows.
        Case(name: "padded dW, 16 channels", batch: 3, inChannels: 3, outChannels: 16, size: (3, 6, 7),
             geometry: .cube(kernel: 3, padding: 1)),
        Case(name: "padded dW, 24 channels, dilated", batch: 1, inChannels: 2, outChannels: 24, size: (5, 6, 5),
             geometry: ConvGeometry(kernel: (3, 3, 3), padding: (2, 2, 2), dilation: (2, 2, 2))),
        Case(name: "padded dW, 8 channels, uneven padding", batch: 2, inChannels: 3, outChannels: 8, size: (4, 5, 9),
             geometry: ConvGeometry(kernel: (3, 1, 3), padding: (1, 0, 2))),
        Case(name: "padded dW, stem strides", batch: 2, inChannels: 3, outChannels: 16, size: (3, 13, 12),
             geometry: ConvGeometry(kernel: (3, 7, 7), stride: (1, 2, 2), padding: (1, 3, 3))),
        Case(name: "padded dW, stride 3 and 2", batch: 1, inChannels: 2, outChannels: 8, size: (5, 9, 8),
             geometry: ConvGeometry(kernel: (2, 3, 3), stride: (3, 2, 2), padding: (0, 1, 1))),
        // Stride-2 input gradients phase by phase: an even kernel, stride 2 on one axis only,
        // and R3D-S's downsampling shapes (odd sizes leave one phase shorter than the output).
        Case(name: "4x4x4 stride 2", batch: 2, inChannels: 3, outChannels: 5, size: (6, 10, 8),
             geometry: .cube(kernel: 4, stride: 2, padding: 1)),
        Case(name: "3x3x3 stride (2, 1, 1)", batch: 2, inChannels: 4, outChannels: 3, size: (5, 6, 7),
             geometry: ConvGeometry(kernel: (3, 3, 3), stride: (2, 1, 1), padding: (1, 1, 1))),
        Case(name: "R3D-S 64>128 /2", batch: 2, inChannels: 9, outChannels: 17, size: (2, 7, 7),
             geometry: .cube(kernel: 3, stride: 2, padding: 1)),
        Case(name: "R3D-S 1x1x1 /2, odd", batch: 2, inChannels: 9, outChannels: 17, size: (2, 7, 7),
             geometry: .cube(kernel: 1, stride: 2)),
        // 98 positions per sample: the direct forward kernel with a mostly empty last panel.
        Case(name: "R3D-S 64>64 @2x7x7", batch: 2, inChannels: 5, outChannels: 9, size: (2, 7, 7),
             geometry: .cube(kernel: 3, padding: 1)),
        // ~0.3 MB per sample: several samples per tile, the last tile shorter.
        Case(name: "batched tiles", batch: 7, inChannels: 3, outChannels: 5, size: (2, 20, 20),
             geometry: .cube(kernel: 3, padding: 1)),
    ]

    func testForwardMatchesReference() {
        for (i, c) in Self.cases.enumerated() {
            let (x, w, _) = tensors(c, seed: UInt64(i))
            assertClose(Conv3D.forward(input: x, weight: w, geometry: c.geometry),
                        ConvReference.forward(input: x, weight: w, geometry: c.geometry), c.name)
        }
    }

    func testBackwardInputMatchesReference() {
        for (i, c) in Self.cases.enumerated() {
            let (x, w, dy) = tensors(c, seed: UInt64(i))
            let expected = ConvReference.backwardInput(gradOutput: dy, weight: w, inputShape: x.shape,
                                                       geometry: c.geometry)
            assertClose(Conv3D.backwardInput(gradOutput: dy, weight: w, inputShape: x.shape, geometry: c.geometry),
                        expected, c.name)
            // Both strategies, whichever backwardInput picked.
            let shape = ConvShape(inputShape: x.shape, weightShape: w.shape, geometry: c.geometry)
            assertClose(Conv3D.backwardInputByCol2Vol(gradOutput: dy, weight: w, shape: shape),
                        expected, c.name + " (col2vol)")
            if c.geometry.stride == (1, 1, 1) {
                assertClose(Conv3D.backwardInputByConvolution(gradOutput: dy, weight: w, shape: shape),
                            expected, c.name + " (transposed convolution)")
            }
            if let axes = Conv3D.phaseAxes(shape) {
                for level in MicroKernel.supported {
                    assertClose(Conv3D.backwardInputByPhases(gradOutput: dy, weight: w, shape: shape, axes: axes,
                                                             level: level),
                                expected, c.name + " (phases, level \(level))")
                }
            }
        }
    }

    /// R3D's stride-2 layers take the phase-split input gradient wherever the panel kernels run;
    /// stride-1, dilated or stride-3 geometries and 1×1×1 kernels (one phase in eight) do not.
    func testPhaseSplitCoversStrideTwoLayers() throws {
        try XCTSkipUnless(MicroKernel.isFast, "no AVX2 on this CPU: col2vol on OpenBLAS")
        func axes(_ name: String) -> Bool {
            guard let c = Self.cases.first(where: { $0.name == name }) else { XCTFail(name); return false }
            let shape = ConvShape(inputShape: [c.batch, c.inChannels, c.size.0, c.size.1, c.size.2],
                                  outChannels: c.outChannels, geometry: c.geometry)
            return Conv3D.phaseAxes(shape) != nil
        }
        for name in ["2D 3x3 stride 2", "3x3x3 stride 2", "4x4x4 stride 2", "3x3x3 stride (2, 1, 1)",
                     "R3D-S 64>128 /2", "stem 3x7x7", "3x3x3 /2 on T = 2 (dead tap)"] {
            XCTAssertTrue(axes(name), name)
        }
        for name in ["3x3x3", "dilated, strided, uneven", "1x1x1 stride 2", "R3D-S 1x1x1 /2, odd"] {
            XCTAssertFalse(axes(name), name)
        }
    }

    func testBackwardWeightMatchesReference() {
        for (i, c) in Self.cases.enumerated() {
            let (x, _, dy) = tensors(c, seed: UInt64(i))
            assertClose(Conv3D.backwardWeight(gradOutput: dy, input: x, geometry: c.geometry),
                        ConvReference.backwardWeight(gradOutput: dy, input: x, geometry: c.geometry), c.name)
        }
    }

    /// The panel microkernels at every level this CPU runs (AVX-512, AVX2, portable C): forward,
    /// weight gradient and col2vol's GEMMs, whichever level Conv3D itself picks.
    func testPanelKernelsAtEveryLevel() {
        for level in MicroKernel.supported {
            for (i, c) in Self.cases.enumerated() {
                let (x, w, dy) = tensors(c, seed: UInt64(i))
                let shape = ConvShape(inputShape: x.shape, weightShape: w.shape, geometry: c.geometry)
                guard !shape.isEmpty else { continue }
                let name = "\(c.name) (level \(level))"
                let y = Tensor.filled(shape.outputShape) { y in
                    x.data.withUnsafeBufferPointer { x in
                        w.data.withUnsafeBufferPointer { w in
                            Conv3D.convolveByPanels(input: x.baseAddress!, weight: w.baseAddress!, shape: shape,
                                                    output: y, level: level)
                        }
                    }
                }
                assertClose(y, ConvReference.forward(input: x, weight: w, geometry: c.geometry), name)
                var live = [Float](repeating: 0, count: shape.outChannels * shape.columnRows)
                dy.data.withUnsafeBufferPointer { dy in
                    x.data.withUnsafeBufferPointer { x in
                        live.withUnsafeMutableBufferPointer { live in
                            Conv3D.weightGradientByPanels(gradOutput: dy.baseAddress!, input: x.baseAddress!,
                                                          shape: shape, into: live.baseAddress!, level: level)
                        }
                    }
                }
                let expected = ConvReference.backwardWeight(gradOutput: dy, input: x, geometry: c.geometry)
                var dw = [Float](repeating: 0, count: expected.count)
                shape.forEachLiveTap(outer: shape.outChannels) { full, j in dw[full] = live[j] }
                assertClose(Tensor(shape: expected.shape, data: dw), expected, name + " dW")
                assertClose(Conv3D.backwardInputByCol2Vol(gradOutput: dy, weight: w, shape: shape, level: level),
                            ConvReference.backwardInput(gradOutput: dy, weight: w, inputShape: x.shape,
                                                        geometry: c.geometry), name + " dX (col2vol)")
            }
        }
    }

    /// The padded-input weight gradient at the levels it has (portable C, AVX2), on every case it
    /// takes, dead taps included.
    func testPaddedWeightGradient() {
        var covered = 0, deadTaps = 0
        for level in MicroKernel.supported where level <= 1 {
            for (i, c) in Self.cases.enumerated() {
                let (x, w, dy) = tensors(c, seed: UInt64(i))
                let shape = ConvShape(inputShape: x.shape, weightShape: w.shape, geometry: c.geometry)
                guard Conv3D.usesPaddedWeightGradient(shape, level: 1) else { continue }
                covered += 1
                for threads in [1, 2] {
                    setComputeThreads(threads)
                    defer { setComputeThreads(0) }
                    // dW of the live taps, spread out to the full kernel (zeros at dead taps).
                    var live = [Float](repeating: 0, count: shape.outChannels * shape.columnRows)
                    dy.data.withUnsafeBufferPointer { dy in
                        x.data.withUnsafeBufferPointer { x in
                            live.withUnsafeMutableBufferPointer { live in
                                Conv3D.paddedWeightGradient(gradOutput: dy.baseAddress!, input: x.baseAddress!, shape: shape,
                                                            into: live.baseAddress!, level: level)
                            }
                        }
                    }
                    var dw = [Float](repeating: 0, count: w.count)
                    shape.forEachLiveTap(outer: shape.outChannels) { full, j in dw[full] = live[j] }
                    if shape.hasDeadTaps { deadTaps += 1 }
                    assertClose(Tensor(shape: w.shape, data: dw),
                                ConvReference.backwardWeight(gradOutput: dy, input: x, geometry: c.geometry),
                                "\(c.name) (level \(level), \(threads) threads)")
                }
            }
        }
        XCTAssertGreaterThanOrEqual(covered, 5)
        XCTAssertGreaterThan(deadTaps, 0)
    }

    /// One and two threads: each thread sums its own tiles, so the results agree to rounding,
    /// and each thread count repeats its own bits.
    func testThreadCounts() {
        guard let c = Self.cases.first(where: { $0.name == "tiled" }) else { return XCTFail("no case") }
        let (x, w, dy) = tensors(c, seed: 9)
        defer { setComputeThreads(0) }
        var results: [[Tensor]] = []
        for threads in [1, 2, 2] {
            setComputeThreads(threads)
            results.append([Conv3D.forward(input: x, weight: w, geometry: c.geometry),
                            Conv3D.backwardWeight(gradOutput: dy, input: x, geometry: c.geometry)])
        }
        for (a, b) in zip(results[0], results[1]) { assertClose(a, b, "1 vs 2 threads", tolerance: 1e-5) }
        XCTAssertEqual(results[1], results[2])
    }

    /// The same call twice gives the same bits (threads must not change summation order).
    func testDeterministic() {
        guard let c = Self.cases.first(where: { $0.name == "tiled" }) else { return XCTFail("no case") }
        let (x, w, dy) = tensors(c, seed: 7)
        XCTAssertEqual(Conv3D.forward(input: x, weight: w, geometry: c.geometry),
                       Conv3D.forward(input: x, weight: w, geometry: c.geometry))
        XCTAssertEqual(Conv3D.backwardWeight(gradOutput: dy, input: x, geometry: c.geometry),
                       Conv3D.backwardWeight(gradOutput: dy, input: x, geometry: c.geometry))
    }

    /// A kernel larger than the padded input has no output; every pass returns zeros of the right shape.
    func testEmptyOutput() {
        let g = ConvGeometry.cube(kernel: 3)
        let x = Tensor(shape: [2, 3, 1, 4, 4], repeating: 1), w = Tensor(shape: [4, 3, 3, 3, 3], repeating: 1)
        let y = Conv3D.forward(input: x, weight: w, geometry: g)
        XCTAssertEqual(y.shape, [2, 4, 0, 2, 2])
        XCTAssertEqual(Conv3D.backwardInput(gradOutput: y, weight: w, inputShape: x.shape, geometry: g),
                       Tensor(zeros: x.shape))
        XCTAssertEqual(Conv3D.backwardWeight(gradOutput: y, input: x, geometry: g), Tensor(zeros: w.shape))
    }

    /// Input, weight and output gradient for a case, normal(0, 1).
    func tensors(_ c: Case, seed: UInt64) -> (Tensor, Tensor, Tensor) {
        var g = SeededGenerator(seed: seed)
        let k = c.geometry.kernel
        let x = Tensor(randomNormal: [c.batch, c.inChannels, c.size.0, c.size.1, c.size.2], generator: &g)
        let w = Tensor(randomNormal: [c.outChannels, c.inChannels, k.t, k.h, k.w], generator: &g)
        let o = c.geometry.outputSize(t: c.size.0, h: c.size.1, w: c.size.2)
        let dy = Tensor(randomNormal: [c.batch, c.outChannels, o.t, o.h, o.w], generator: &g)
        return (x, w, dy)
    }
}

/// |a − b| ≤ tolerance · max |b| everywhere: relative to the tensor's scale, since sums that
/// cancel to near zero have no meaningful elementwise relative error.
func assertClose(_ a: Tensor, _ b: Tensor, _ name: String, tolerance: Float = 1e-4,
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, name, file: file, line: line)
    guard a.shape == b.shape else { return }
    let scale = max(b.data.reduce(0) { max($0, abs($1)) }, 1e-12)
    var worst: Float = 0
    for i in 0..<a.count { worst = max(worst, abs(a.data[i] - b.data[i]) / scale) }
    XCTAssertLessThanOrEqual(worst, tolerance, "\(name): worst difference \(worst) of scale \(scale)",
                             file: file, line: line)
}
