// Models saved as safetensors (DESIGN.md §2): torchvision's names, so numpy and PyTorch
// read them, with the architecture and classes in `__metadata__`.

import TBCore
import TBStream
import TBTensor

/// What a load did: which tensors came from the file, and which the model kept.
public struct LoadReport: Equatable, Sendable {
    public var loaded: [String] = []
    /// Model tensors the file does not have (left as initialised).
    public var missing: [String] = []
    /// File tensors the model does not have.
    public var unexpected: [String] = []
}

extension HasState {
    /// Every tensor a checkpoint holds, parameters and buffers, by name.
    public var namedTensors: [(name: String, tensor: Tensor)] {
        parameters.map { ($0.name, $0.value) } + buffers.map { ($0.name, $0.value) }
    }
}

extension ResNet {
    /// Writes the model as safetensors; `metadata` adds provenance to `arch` and `classes`.
    public func save(classNames: [String]? = nil, metadata extra: [String: String] = [:], to sink: ByteSink) throws {
        var tensors = namedTensors.map { SafeTensor(name: $0.name, shape: $0.tensor.shape, floats: $0.tensor.data) }
        // PyTorch's strict load_state_dict wants num_batches_tracked too.
        tensors += batchNorms.map(\.batchesTrackedTensor)
        var metadata = extra
        metadata["format"] = "pt"
        metadata["arch"] = spec.description
        metadata["num_classes"] = String(classes)
        if let classNames {
            metadata["classes"] = JSON.array(classNames.map { .string($0) }).text
        }
        try SafeTensorsWriter.write(tensors, metadata: metadata, to: sink)
    }

    /// Builds the model a checkpoint describes (`arch`, `num_classes`) and loads every tensor.
    public static func load(path: String) throws -> ResNet {
        let file = try SafeTensorsFile(path: path)
        guard let arch = file.metadata["arch"] else {
            throw Failure(.dataError, "no \"arch\" in __metadata__: not a tb checkpoint (use --arch and --init)", file: path)
        }
        let spec: ArchitectureSpec
        do { spec = try ArchitectureSpec(parsing: arch) } catch let f as Failure {
            throw Failure(.dataError, "__metadata__ arch: \(f.message)", file: path)
        }
        guard let classes = file.metadata["num_classes"].flatMap({ Int($0) }) ?? file.entries.first(where: { $0.name == "fc.bias" })?.shape.first else {
            throw Failure(.dataError, "cannot tell the number of classes (no num_classes, no fc.bias)", file: path)
        }
        let model = ResNet(spec: spec, classes: classes)
        try model.load(file, strict: true)
        return model
    }

    /// Copies the file's tensors into the model. Strict: every model tensor must be in the
    /// file, and nothing else. A shape mismatch is refused naming the tensor and both shapes.
    @discardableResult
    public func load(_ file: SafeTensorsFile, strict: Bool) throws -> LoadReport {
        var report = LoadReport()
        let byName = Dictionary(file.entries.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func fill(_ name: String, _ shape: [Int], _ set: (Tensor) -> Void) throws {
            guard let entry = byName[name] else { report.missing.append(name); return }
            guard entry.shape == shape else {
                throw Failure(.dataError, "checkpoint has shape \(entry.shape), the model needs \(shape)",
                              file: file.name, tensor: name)
            }
            set(Tensor(shape: shape, data: try file.floats(name)))
            report.loaded.append(name)
        }
        for p in parameters { try fill(p.name, p.shape) { p.value = $0 } }
        for b in buffers { try fill(b.name, b.value.shape) { b.value = $0 } }
        try restoreBatchCounts(batchNorms, from: file)
        let known = Set(namedTensors.map(\.name))
        report.unexpected = file.names.filter { !known.contains($0) && !$0.hasSuffix("num_batches_tracked") }
        if strict, let name = report.missing.first {
            throw Failure(.dataError, "missing from the checkpoint (\(report.missing.count) tensors missing)", file: file.name, tensor: name)
        }
        if strict, let name = report.unexpected.first {
            throw Failure(.dataError, "the model has no such tensor (\(report.unexpected.count) unexpected)", file: file.name, tensor: name)
        }
        return report
    }
}

extension BatchNorm {
    /// `num_batches_tracked` as a checkpoint holds it: an I64 scalar beside the running statistics.
    public var batchesTrackedTensor: SafeTensor {
        SafeTensor(name: String(runningMean.name.dropLast("running_mean".count)) + "num_batches_tracked",
                   shape: [], int64s: [batchesTracked])
    }
}

/// Takes each batch norm's `num_batches_tracked` from the file where it has one, so that a
/// resumed run saves the same counts as an uninterrupted one.
public func restoreBatchCounts(_ batchNorms: [BatchNorm], from file: SafeTensorsFile) throws {
    let names = Set(file.names)
    for bn in batchNorms {
        let name = bn.batchesTrackedTensor.name
        guard names.contains(name) else { continue }
        guard let v = try file.tensor(name).integers().first, v >= 0 else {
            throw Failure(.dataError, "num_batches_tracked is not a count", file: file.name, tensor: name)
        }
        bn.batchesTracked = v
    }
}
