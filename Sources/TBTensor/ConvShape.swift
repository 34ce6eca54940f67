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

    init(batch: Int, inChannels: Int, outChannels: Int, input: (t: Int, h: Int, w: Int),
         output: (t: Int, h: Int, w: Int), geometry: ConvGeometry) {
        self.batch = batch
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.input = input
        self.output = output
        self.geometry = geometry
    }

    /// From tensor shapes; mismatched ranks or channels are programming errors.
    init(inputShape: [Int], outChannels: Int, geometry: ConvGeometry) {
        precondition(inputShape.count == 5, "Conv3D: input shape \(inputShape) is not [N, C, T, H, W]")
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
    /// Rows of the column matrix: one per (input channel, kernel tap).
    var columnRows: Int { inChannels * kernelVolume }

    var inputShape: [Int] { [batch, inChannels, input.t, input.h, input.w] }
    var outputShape: [Int] { [batch, outChannels, output.t, output.h, output.w] }
    var weightShape: [Int] {
        [outChannels, inChannels, geometry.kernel.t, geometry.kernel.h, geometry.kernel.w]
    }

    /// Multiply–adds × 2 of one pass (forward, backward-input and backward-weight cost the same).
    var flops: Double {
        2 * Double(batch) * Double(outChannels) * Double(outputVolume) * Double(columnRows)
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

    /// Column-matrix bytes of one GEMM. Small enough that vol2col's writes are still in cache
    /// when the GEMM reads them (the columns are ~Cin·K times larger than the input, so streaming
    /// them through memory costs as much as the GEMM), large enough that the GEMM stays efficient.
    nonisolated(unsafe) static var tileBudgetBytes = 1 << 20

    /// The GEMM tiles of this convolution, in a fixed order: several whole samples per tile when
    /// samples are small (so deep layers with few positions still get a wide GEMM), else runs of
    /// output rows of one sample.
    func tiles(budgetBytes: Int = ConvShape.tileBudgetBytes) -> [ConvTile] {
        let rowBytes = max(1, columnRows * output.w * MemoryLayout<Float>.size)
        let sampleBytes = rowBytes * outputRows
        if sampleBytes <= budgetBytes {
            let perTile = max(1, budgetBytes / max(1, sampleBytes))
            return stride(from: 0, to: batch, by: perTile).map {
                ConvTile(firstSample: $0, samples: min(perTile, batch - $0), rows: 0..<outputRows)
            }
        }
        let rowsPerTile = max(1, budgetBytes / rowBytes)
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
