// Loading weights into a model for fine-tuning, and clip records as network inputs.

import TBCore
import TBNN
import TBStream
import TBTensor
import TBVideo

/// What `initialize(_:from:)` took from a checkpoint.
public struct InitReport: Sendable {
    public var loaded: [String] = []
    /// Model tensors the file lacks, or has with another shape (left as initialised).
    public var kept: [String] = []
    /// File tensors the model has no place for (a projection head, another classifier).
    public var ignored: [String] = []
}

/// Copies every tensor of `file` whose name and shape the model has (a backbone into a
/// network with another classifier, a teacher's backbone without its head). Refuses, with
/// `.dataError`, a file from which nothing fits: a silent no-op would train from scratch.
public func initialize(_ model: ResNet, from file: SafeTensorsFile) throws -> InitReport {
    var report = InitReport()
    let byName = Dictionary(file.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var known = Set<String>()
    func take(_ name: String, _ shape: [Int], _ set: (Tensor) -> Void) throws {
        known.insert(name)
        guard let e = byName[name], e.shape == shape else { report.kept.append(name); return }
        set(Tensor(shape: shape, data: try file.floats(name)))
        report.loaded.append(name)
    }
    for p in model.parameters { try take(p.name, p.shape) { p.value = $0 } }
    for b in model.buffers { try take(b.name, b.value.shape) { b.value = $0 } }
    report.ignored = file.names.filter { !known.contains($0) && !$0.hasSuffix("num_batches_tracked") }
    guard !report.loaded.isEmpty else {
        throw Failure(.dataError, "no tensor fits \(model.spec) (the file has \(file.names.prefix(3).joined(separator: ", "))"
                      + (file.names.count > 3 ? ", ..." : "") + ")", file: file.name)
    }
    return report
}

/// A clip record [K, T, H, W, 3] as normalised network input [K, 3, T, size, size]: each
/// frame's centre square (`crop` of its shorter side) resized to `size`.
public func clipInput(_ record: Record, size: Int, crop: Double, place: (file: String, record: Int)) throws -> Tensor {
    guard record.kind == "clip", record.dtype == .u8, record.shape.count == 5, record.shape[4] == 3,
          record.shape.allSatisfy({ $0 > 0 }) else {
        throw Failure(.dataError, "expected a clip record u8 [K, T, H, W, 3] (tb-clip's output), not "
                      + "\(record.kind ?? "a record without kind") \(record.dtype.rawValue) \(record.shape)",
                      file: place.file, record: place.record)
    }
    let (k, t, h, w) = (record.shape[0], record.shape[1], record.shape[2], record.shape[3])
    var g = SeededGenerator(seed: 0)  // the centre crop draws nothing
    let a = AugmentOptions.centre(size: size, fraction: crop).draw(width: w, height: h, using: &g)
    var out = [UInt8](repeating: 0, count: k * t * size * size * 3)
    record.payload.withUnsafeBufferPointer { src in
        out.withUnsafeMutableBufferPointer { dst in
            a.apply(frames: k * t, width: w, height: h, source: src.baseAddress!, destination: dst.baseAddress!)
        }
    }
    return PixelNormalization.clips(out, n: k, t: t, h: size, w: size)
}

extension ArchitectureSpec {
    /// How much the network shrinks space: the stem's stride 2, a max pool (2D and I3D
    /// layouts) and three strided stages.
    public var spatialStride: Int { family == .r3d ? 16 : 32 }
}

/// Refuses clips smaller than the network's spatial stride: their last feature map would
/// be made of padding.
public func checkInputSize(height: Int, width: Int, for spec: ArchitectureSpec) throws {
    guard min(height, width) >= spec.spatialStride else {
        throw Failure(.dataError, "clips of \(width)x\(height) pixels are too small for \(spec), "
                      + "which needs at least \(spec.spatialStride)")
    }
}

/// A 3D network started from a 2D checkpoint by I3D inflation (ALGORITHMS.md §3). `arch`,
/// when given, must be the i3d network of the 2D one's depth and width; otherwise it is
/// derived from the checkpoint's `arch` (r2d18:w16 → i3d18:w16:STYLE). The metadata it
/// returns records which 2D tensor became which 3D tensor, for the new checkpoint (tb-info
/// shows it beside each tensor).
public func inflate(from file: SafeTensorsFile, style: ArchitectureSpec.InflationStyle, init mode: InflationInit,
                    arch: String?, classes: Int?) throws -> (model: ResNet, metadata: [String: String], inflated: Int) {
    guard let text = file.metadata["arch"] else {
        throw Failure(.dataError, "no 'arch' in the checkpoint's metadata: not a tb checkpoint to inflate", file: file.name)
    }
    let spec2D: ArchitectureSpec
    do { spec2D = try ArchitectureSpec(parsing: text) } catch let f as Failure { throw f.at(file: file.name) }
    guard spec2D.family == .r2d else {
        throw Failure(.dataError, "--inflate needs a 2D checkpoint (r2d), this one is \(spec2D)", file: file.name)
    }
    var spec = ArchitectureSpec(family: .i3d, depth: spec2D.depth, width: spec2D.width, inflation: style)
    if let arch {
        let asked = try ArchitectureSpec(parsing: arch)
        guard asked.family == .i3d, asked.depth == spec2D.depth, asked.width == spec2D.width else {
            throw Failure(.usage, "--arch \(asked) cannot be inflated from \(spec2D): give i3d\(spec2D.depth):w\(spec2D.width) "
                          + "or leave --arch out")
        }
        spec.inflation = style
    }
    let fileClasses = file.metadata["num_classes"].flatMap { Int($0) }
    guard let count = classes ?? fileClasses else {
        throw Failure(.dataError, "the checkpoint does not say how many classes it has; give --classes", file: file.name)
    }
    if let fileClasses, fileClasses != count {
        throw Failure(.dataError, "the 2D checkpoint has \(fileClasses) classes, the 3D network is to have \(count): "
                      + "inflation copies the classifier", file: file.name)
    }
    var state: [String: Tensor] = [:]
    for e in file.entries where !e.name.hasSuffix("num_batches_tracked") {
        state[e.name] = Tensor(shape: e.shape, data: try file.floats(e.name))
    }
    let (model, steps): (ResNet, [InflationStep])
    do { (model, steps) = try ResNet.inflating(state, into: spec, classes: count, init: mode) } catch let f as Failure {
        throw f.at(file: file.name)
    }
    let inflated = steps.filter(\.inflated)
    let map = JSONObject(inflated.map { ($0.name, JSON($0.from)) })
    let record = JSONObject([("from", .string(file.name)), ("from_arch", .string(spec2D.description)),
                             ("style", .string(style.rawValue)), ("init", .string(mode.rawValue)),
                             ("tensors", .object(map))])
    var metadata = ["inflation": JSON.object(record).text]
    if let size = file.metadata["input_size"] { metadata["input_size"] = size }
    return (model, metadata, inflated.count)
}
