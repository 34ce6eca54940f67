// The sizes of one convolution call, derived once and shared by the fast kernels,
// the reference kernels and the benchmark.

/// Batch, channels and (T, H, W) volumes of a convolution: input [N, Cin, T, H, W],
/// weight [Cout, Cin, kt, kh, kw], output [N, Cout, T', H', W'].
struct ConvShape {
    let batch: Int
    let inChannels: Int
    let outChannels: Int
    let input: (t: Int, h: Int, w: Int)
    let output: (t: Int, h: Int, w: Int)
    let geometry: ConvGeometry
    /// Per axis, the kernel taps that read input for at least one output position. The others
    /// only ever read padding (t-taps 0 and 2 of a 3×3×3 kernel on T = 1); the GEMMs leave them out.
    let liveTaps: (t: [Int], h: [Int], w: [Int])

    init(batch: Int, inChannels: Int, outChannels: Int, input: (t: Int, h: Int, w: Int),
         output: (t: Int, h: Int, w: Int), geometry g: ConvGeometry) {
        self.batch = batch
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.input = input
        self.output = output
        geometry = g
        func live(_ size: Int, _ out: Int, _ s: Int, _ p: Int, _ d: Int, _ k: Int) -> [Int] {
            (0..<k).filter { tap in
                let r = TapRange(size: size, outputSize: out, stride: s, padding: p, dilation: d, tap: tap)
                return r.hi > r.lo
            }
        }
        liveTaps = (live(input.t, output.t, g.stride.t, g.padding.t, g.dilation.t, g.kernel.t),
                    live(input.h, output.h, g.stride.h, g.padding.h, g.dilation.h, g.kernel.h),
                    live(input.w, output.w, g.stride.w, g.padding.w, g.dilation.w, g.kernel.w))
    }

    /// From tensor shapes; mismatched ranks or channels are programming errors.
    init(inputShape: [Int], outChannels: Int, geometry: ConvGeometry) {
        precondition(inputShape.count == 5, "Conv3D: input shape \(inputShape) is not [N, C, T, H, W]")
        let g = geometry
        precondition(min(g.kernel.t, g.kernel.h, g.kernel.w, g.stride.t, g.stride.h, g.stride.w,
                         g.dilation.t, g.dilation.h, g.dilation.w) >= 1, "Conv3D: \(g) has a size below 1")
        let t = inputShape[2], h = inputShape[3], w = inputShape[4]
        self.init(batch: inputShape[0], inChannels: inputShape[1], outChannels: outChannels,
                  input: (t, h, w), output: geometry.outputSize(t: t, h: h, w: w), geometry: geometry)
    }

    init(inputShape: [Int], weightShape: [Int], geometry: ConvGeometry) {
        let k = geometry.kernel
        precondition(weightShape.count == 5 && inputShape.count == 5 && weightShape[1] == inputShape[1]
                     && weightShape[2] == k.t && weightShape[3] == k.h && weightShape[4] == k.w,
                     "Conv3D: weight \(weightShape) does not fit input \(inputShape) and \(geometry)")
        self.init(inputShape: inputShape, outChannels: weightShape[0], geometry: geometry)
    }

    var inputVolume: Int { input.t * input.h * input.w }
    var outputVolume: Int { output.t * output.h * output.w }
    var kernelVolume: Int { geometry.kernelVolume }
    var liveKernelVolume: Int { liveTaps.t.count * liveTaps.h.count * liveTaps.w.count }
    var hasDeadTaps: Bool { liveKernelVolume < kernelVolume }
    /// Rows of the column matrix: one per (input channel, live kernel tap).
    var columnRows: Int { inChannels * liveKernelVolume }

    var inputShape: [Int] { [batch, inChannels, input.t, input.h, input.w] }
    var outputShape: [Int] { [batch, outChannels, output.t, output.h, output.w] }
    var weightShape: [Int] {
        [outChannels, inChannels, geometry.kernel.t, geometry.kernel.h, geometry.kernel.w]
    }

    /// Multiply–adds × 2 of one pass as PyTorch counts them, dead taps included (forward,
    /// backward-input and backward-weight cost the same).
    var flops: Double {
        2 * Double(batch) * Double(outChannels) * Double(outputVolume) * Double(inChannels * kernelVolume)
    }

    /// Calls `body(full, live)` for the index of every live tap of a weight [outer, Cin, kt, kh, kw]
    /// and its index in the same weight with only live taps, [outer, Cin, live t, live h, live w].
    func forEachLiveTap(outer: Int, _ body: (Int, Int) -> Void) {
        let k = geometry.kernel
        var live = 0
        for o in 0..<(outer * inChannels) {
            for kt in liveTaps.t {
                for kh in liveTaps.h {
                    for kw in liveTaps.w {
                        body(o * kernelVolume + (kt * k.h + kh) * k.w + kw, live)
                        live += 1
                    }
                }
            }
        }
    }

    /// Calls `body` with `weight` [outer, Cin, kt, kh, kw] reduced to its live taps (itself when all are).
    func withLiveWeight<R>(_ weight: UnsafePointer<Float>, outer: Int, _ body: (UnsafePointer<Float>) -> R) -> R {
        guard hasDeadTaps else { return body(weight) }
        let live = UnsafeMutablePointer<Float>.allocate(capacity: outer * columnRows)
        defer { live.deallocate() }
        forEachLiveTap(outer: outer) { full, j in live[j] = weight[full] }
        return body(live)
    }

    /// The stride-1 convolution whose output is this one's input gradient: dY [N, Cout, T', H', W']
    /// convolved with the flipped, transposed weight, padding d·(k − 1) − p per axis. Padding
    /// beyond d·(k − 1) makes that negative, which crops; TapRange handles both signs.
    var transposed: ConvShape {
        let g = geometry
        precondition(g.stride == (1, 1, 1), "Conv3D: only a stride-1 convolution transposes to one, not \(g)")
        let dual = ConvGeometry(kernel: (g.kernel.t, g.kernel.h, g.kernel.w),
                                padding: (g.dilation.t * (g.kernel.t - 1) - g.padding.t,
                                          g.dilation.h * (g.kernel.h - 1) - g.padding.h,
                                          g.dilation.w * (g.kernel.w - 1) - g.padding.w),
                                dilation: (g.dilation.t, g.dilation.h, g.dilation.w))
        return ConvShape(batch: batch, inChannels: outChannels, outChannels: inChannels, input: output,
                         output: input, geometry: dual)
    }

    /// A 1×1×1, stride-1, unpadded kernel: the input already is the column matrix of each sample.
    var isPointwise: Bool {
        let g = geometry
        return g.kernelVolume == 1 && g.stride == (1, 1, 1) && g.padding == (0, 0, 0)
    }

    /// True when some axis has no output or no input: the result is all zeros.
    var isEmpty: Bool {
        batch == 0 || inChannels == 0 || outChannels == 0 || outputVolume == 0 || inputVolume == 0
    }

    /// Output rows (t', h') of one sample; a row is W' output positions.
    var outputRows: Int { output.t * output.h }

    /// Column-matrix bytes of one GEMM. Small enough that vol2col's writes are still in the
    /// 32 MB L3 when the GEMM reads them (the columns are ~Cin·K times the input, so streaming
    /// them through memory costs as much as the GEMM; and sgemm itself runs 1.7× faster on
    /// [16, 2400] tiles than on [16, 50 176]), large enough that the switches between vol2col's
    /// threads and OpenBLAS's stay few. 1–16 MB measured on R3D-S: 4 MB was best or near it.
    static let tileBudgetBytes = 4 << 20

    /// The GEMM tiles of this convolution, in a fixed order: several whole samples per tile when
    /// samples are small (so deep layers with few positions still get a wide GEMM), else runs of
    /// output rows of one sample. At least `parts` tiles where the positions allow, so that as
    /// many threads can each take one.
    func tiles(budgetBytes: Int = ConvShape.tileBudgetBytes, parts: Int = 1) -> [ConvTile] {
        let rowBytes = max(1, columnRows * output.w * MemoryLayout<Float>.size)
        let sampleBytes = rowBytes * outputRows
        if sampleBytes <= budgetBytes {
            let perBudget = max(1, budgetBytes / max(1, sampleBytes))
            let count = max(1, (batch + perBudget - 1) / perBudget, min(batch, parts))
            let perTile = max(1, (batch + count - 1) / count)
            return stride(from: 0, to: batch, by: perTile).map {
                ConvTile(firstSample: $0, samples: min(perTile, batch - $0), rows: 0..<outputRows)
            }
        }
        var rowsPerTile = max(1, budgetBytes / rowBytes)
        if batch < parts { rowsPerTile = min(rowsPerTile, max(1, (outputRows * batch + parts - 1) / parts)) }
        var tiles: [ConvTile] = []
        for n in 0..<batch {
            for r in stride(from: 0, to: outputRows, by: rowsPerTile) {
                tiles.append(ConvTile(firstSample: n, samples: 1, rows: r..<min(r + rowsPerTile, outputRows)))
            }
        }
        return tiles
    }
}

/// A block of output positions whose columns form one GEMM: output rows `rows` (r = t'·H' + h')
/// of samples firstSample ..< firstSample + samples. Several samples only ever come with all rows.
struct ConvTile {
    let firstSample: Int
    let samples: Int
    let rows: Range<Int>

    /// Columns of the tile's column matrix.
    func width(_ shape: ConvShape) -> Int { samples * rows.count * shape.output.w }
    /// Whether the tile is whole samples, whose outputs must be reordered from [Cout, samples·P].
    var isBatched: Bool { samples > 1 }
}
