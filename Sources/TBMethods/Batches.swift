// From u8 records to network inputs: sample batches (tb-mix) and clip records (tb-clip),
// with each sample's role, label and soft target, validated once here so that the losses
// never meet a label outside the classes.

import TBCore
import TBStream
import TBTensor

/// Pixel normalisation of every network input: (x / 255 − mean) / std per channel, the
/// Kinetics statistics of pytorchvideo (0.45, 0.225), the same for RGB.
public enum PixelNormalization {
    public static let mean: Float = 0.45
    public static let std: Float = 0.225

    /// u8 clips [N, T, H, W, 3] (channels last) as floats [N, 3, T, H, W], normalised.
    public static func clips(_ bytes: [UInt8], n: Int, t: Int, h: Int, w: Int) -> Tensor {
        let plane = t * h * w
        var out = [Float](repeating: 0, count: n * 3 * plane)
        let scale = 1 / (255 * std), shift = -mean / std
        bytes.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for s in 0..<n {
                    let inBase = s * plane * 3, outBase = s * 3 * plane
                    for i in 0..<plane {
                        let p = src[inBase + i * 3..<inBase + i * 3 + 3]
                        dst[outBase + i] = Float(p[p.startIndex]) * scale + shift
                        dst[outBase + plane + i] = Float(p[p.startIndex + 1]) * scale + shift
                        dst[outBase + 2 * plane + i] = Float(p[p.startIndex + 2]) * scale + shift
                    }
                }
            }
        }
        return Tensor(shape: [n, 3, t, h, w], data: out)
    }
}

/// One training batch from a `sample` record, its rows in loss order: labeled with a soft
/// target, labeled without, unlabeled with a soft target, unlabeled without, auxiliary.
/// Samples with a mixup partner are mixed here, input and label target alike.
public struct TrainingBatch {
    /// [B, 3, T, H, W], normalised.
    public var input: Tensor
    /// Labels of the first `labeled` rows.
    public var labels: [Int]
    public var labeled: Int
    /// Rows 0..<labeledSoft have soft targets (labeled), and rows
    /// labeled..<labeled + unlabeledSoft (unlabeled).
    public var labeledSoft: Int
    public var unlabeledSoft: Int
    /// Soft targets of those rows, in row order, [labeledSoft + unlabeledSoft, K].
    public var soft: Tensor?
    /// Auxiliary rows (OmniSource's web samples) come last, after the unlabeled ones.
    public var auxiliary: Int
    public var auxLabels: [Int]
    /// Label distributions of the labeled (and auxiliary) rows when mixup mixed any of
    /// them: λ·one-hot(own) + (1 − λ)·one-hot(partner's); nil when labels are one-hot.
    public var labelTargets: Tensor?
    public var auxTargets: Tensor?
    public var epoch: Int

    /// Reads a `sample` record; `classes` bounds labels and soft-target lengths. `place`
    /// names the record in errors.
    public init(record: Record, classes: Int, place: (file: String, record: Int)) throws {
        func fail(_ m: String) -> Failure { Failure(.dataError, m, file: place.file, record: place.record) }
        guard record.kind == "sample" else {
            throw fail("a \(record.kind ?? "record without kind"), not a sample: tb-train reads tb-mix's output")
        }
        guard record.dtype == .u8, record.shape.count == 5, record.shape[4] == 3, record.shape.allSatisfy({ $0 > 0 }) else {
            throw fail("samples must be u8 [B, T, H, W, 3], not \(record.dtype.rawValue) \(record.shape)"
                       + (record.shape.count == 6 ? " (pretraining samples are for tb-teach)" : ""))
        }
        let (b, t, h, w) = (record.shape[0], record.shape[1], record.shape[2], record.shape[3])
        let roles = record.header["roles"]?.arrayValue ?? []
        let labelValues = record.header["labels"]?.arrayValue ?? []
        let softValues = record.header["soft"]?.arrayValue
        let mixValues = record.header["mix"]?.arrayValue
        guard roles.count == b, labelValues.count == b, softValues.map({ $0.count == b }) ?? true,
              mixValues.map({ $0.count == b }) ?? true else {
            throw fail("roles, labels, soft and mix must have one entry per sample (\(b))")
        }
        var groups: [[Int]] = [[], [], [], [], []]
        var rowLabels = [Int?](repeating: nil, count: b), rowSoft = [[Float]?](repeating: nil, count: b)
        for i in 0..<b {
            let label: Int?
            switch labelValues[i] {
            case .null: label = nil
            default:
                guard let l = labelValues[i].intValue, (0..<classes).contains(l) else {
                    throw fail("sample \(i): label \(labelValues[i].text) is not a class of 0..<\(classes)")
                }
                label = l
            }
            if let s = softValues?[i], s != .null {
                guard let a = s.arrayValue, a.count == classes else {
                    throw fail("sample \(i): soft target of \(s.arrayValue?.count ?? 0) values for \(classes) classes")
                }
                rowSoft[i] = try a.map { v in
                    guard let d = v.doubleValue, d >= 0, d.isFinite else { throw fail("sample \(i): soft target \(v.text)") }
                    return Float(d)
                }
            }
            rowLabels[i] = label
            if roles[i].stringValue == "aux" {
                guard label != nil else { throw fail("sample \(i): an auxiliary sample without a label") }
                groups[4].append(i)
                continue
            }
            let isLabeled = roles[i].stringValue == "labeled" && label != nil
            groups[(isLabeled ? 0 : 2) + (rowSoft[i] != nil ? 0 : 1)].append(i)
        }
        // Mixup partners: [j, λ] with a labeled partner j and λ in [0, 1].
        var mix = [(partner: Int, lambda: Float)?](repeating: nil, count: b)
        for i in 0..<b {
            guard let m = mixValues?[i], m != .null else { continue }
            guard let a = m.arrayValue, a.count == 2, let j = a[0].intValue, (0..<b).contains(j), rowLabels[j] != nil,
                  rowLabels[i] != nil, let lambda = a[1].doubleValue, (0...1).contains(lambda) else {
                throw fail("sample \(i): mix \(m.text) is not [labeled sample, λ in 0...1] of a labeled sample")
            }
            mix[i] = (j, Float(lambda))
        }
        let order = groups.flatMap { $0 }
        labeled = groups[0].count + groups[1].count
        labeledSoft = groups[0].count
        unlabeledSoft = groups[2].count
        labels = order.prefix(labeled).map { rowLabels[$0]! }
        auxiliary = groups[4].count
        auxLabels = groups[4].map { rowLabels[$0]! }
        func targets(_ rows: [Int]) -> Tensor? {
            guard rows.contains(where: { mix[$0] != nil }) else { return nil }
            var t = [Float](repeating: 0, count: rows.count * classes)
            for (r, i) in rows.enumerated() {
                let (j, lambda) = mix[i] ?? (i, 1)
                t[r * classes + rowLabels[i]!] += lambda
                t[r * classes + rowLabels[j]!] += 1 - lambda
            }
            return Tensor(shape: [rows.count, classes], data: t)
        }
        labelTargets = targets(groups[0] + groups[1])
        auxTargets = targets(groups[4])
        let softRows = groups[0] + groups[2]
        soft = softRows.isEmpty ? nil : Tensor(shape: [softRows.count, classes], data: softRows.flatMap { rowSoft[$0]! })
        // Rows in loss order.
        let clipBytes = t * h * w * 3
        var bytes = [UInt8]()
        bytes.reserveCapacity(record.payload.count)
        for i in order { bytes.append(contentsOf: record.payload[i * clipBytes..<(i + 1) * clipBytes]) }
        input = PixelNormalization.clips(bytes, n: b, t: t, h: h, w: w)
        if mix.contains(where: { $0 != nil }) {
            // x_i ← λ·x_i + (1 − λ)·x_j from the unmixed inputs; normalisation is affine, so
            // this is the normalised mix of the pixels.
            let original = input.data, size = 3 * t * h * w
            var row = [Int](repeating: 0, count: b)
            for (r, i) in order.enumerated() { row[i] = r }
            input.data.withUnsafeMutableBufferPointer { x in
                for i in 0..<b {
                    guard let (j, lambda) = mix[i] else { continue }
                    let to = row[i] * size, from = row[j] * size
                    for k in 0..<size { x[to + k] = lambda * original[to + k] + (1 - lambda) * original[from + k] }
                }
            }
        }
        epoch = record.header["epoch"]?.intValue ?? 0
    }
}
