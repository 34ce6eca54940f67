// Optimizer state for --resume, as a safetensors file beside the checkpoint (DESIGN.md §2):
//   tensors   F32 `<slot>.<parameter>` with the parameter's shape (`exp_avg.layer1.0.conv1.weight`,
//             `momentum_buffer.fc.weight`) and I64 scalar counters (`step.fc.weight`);
//   metadata  format, optimizer kind, step, lr, the parameter names as a JSON array, and each
//             hyperparameter under PyTorch's name, as the shortest decimal that reads back exactly.
// Tensors are stored bit for bit and numbers as round-tripping decimals, so a resumed run
// continues exactly as an uninterrupted one.

import TBCore
import TBStream
import TBTensor

/// An optimizer's saved state: what `Optimizer.state` gives and `Optimizer.restore` takes.
public struct OptimizerState: Equatable, Sendable {
    /// The value of metadata "format" that marks these files.
    public static let format = "tb-optimizer-state"

    /// "sgd", "adam" or "adamw".
    public var kind: String
    public var stepCount: Int
    public var learningRate: Float
    /// Hyperparameters under PyTorch's names (`momentum`, `weight_decay`, `beta1`, ...).
    public var hyperparameters: [String: String]
    /// Every parameter the optimizer held, in order, including those without buffers yet.
    public var parameterNames: [String]
    /// Per-parameter float buffers by `<slot>.<parameter>`, e.g. `exp_avg.fc.weight`.
    public var buffers: [String: Tensor]
    /// Per-parameter counters by `<slot>.<parameter>`, e.g. Adam's `step.fc.weight`.
    public var counters: [String: Int]

    public init(kind: String, stepCount: Int, learningRate: Float, hyperparameters: [String: String],
                parameterNames: [String], buffers: [String: Tensor] = [:], counters: [String: Int] = [:]) {
        self.kind = kind
        self.stepCount = stepCount
        self.learningRate = learningRate
        self.hyperparameters = hyperparameters
        self.parameterNames = parameterNames
        self.buffers = buffers
        self.counters = counters
    }

    private static let reservedKeys: Set<String> = ["format", "optimizer", "step", "lr", "parameters"]

    /// Writes the state as a safetensors file.
    public func write(to sink: ByteSink) throws {
        var metadata = hyperparameters
        metadata["format"] = Self.format
        metadata["optimizer"] = kind
        metadata["step"] = String(stepCount)
        metadata["lr"] = learningRate.description
        metadata["parameters"] = JSON.array(parameterNames.map { .string($0) }).text
        var tensors = buffers.map { SafeTensor(name: $0.key, shape: $0.value.shape, floats: $0.value.data) }
        tensors += counters.map { SafeTensor(name: $0.key, shape: [], int64s: [Int64($0.value)]) }
        try SafeTensorsWriter.write(tensors, metadata: metadata, to: sink)
    }

    /// The file's bytes.
    public func encoded() throws -> [UInt8] {
        let sink = MemorySink()
        try write(to: sink)
        return sink.bytes
    }

    /// Reads a state file; checking it against an optimizer's parameters is `restore`'s part.
    public init(file: SafeTensorsFile) throws {
        let m = file.metadata
        func fail(_ message: String, tensor: String? = nil) -> Failure {
            Failure(.dataError, message, file: file.name, tensor: tensor)
        }
        guard m["format"] == Self.format else {
            throw fail("not an optimizer state: metadata \"format\" is not \"\(Self.format)\"")
        }
        guard let kind = m["optimizer"] else { throw fail("metadata has no \"optimizer\"") }
        guard let stepText = m["step"], let step = Int(stepText), step >= 0 else {
            throw fail("metadata \"step\" is \(quoted(m["step"])), not a count")
        }
        guard let lrText = m["lr"], let lr = Float(lrText) else {
            throw fail("metadata \"lr\" is \(quoted(m["lr"])), not a number")
        }
        guard let namesText = m["parameters"], let list = (try? JSON.parse(namesText))?.arrayValue else {
            throw fail("metadata \"parameters\" is not a JSON array of names")
        }
        var names: [String] = []
        for item in list {
            guard let name = item.stringValue else { throw fail("metadata \"parameters\" has \(item.text), not a name") }
            names.append(name)
        }
        var buffers: [String: Tensor] = [:]
        var counters: [String: Int] = [:]
        for e in file.entries {
            if e.dtype == .F32 {
                buffers[e.name] = Tensor(shape: e.shape, data: try file.floats(e.name))
            } else if e.dtype == .I64, e.shape == [] {
                guard let v = try file.tensor(e.name).integers().first, let n = Int(exactly: v), n >= 0 else {
                    throw fail("counter is negative", tensor: e.name)
                }
                counters[e.name] = n
            } else {
                throw fail("\(e.dtype.rawValue) \(e.shape) is neither an F32 buffer nor an I64 scalar counter", tensor: e.name)
            }
        }
        self.init(kind: kind, stepCount: step, learningRate: lr,
                  hyperparameters: m.filter { !Self.reservedKeys.contains($0.key) },
                  parameterNames: names, buffers: buffers, counters: counters)
    }

    /// Checks that the state was saved by an optimizer of `kind` over parameters of these names,
    /// and that every tensor is a known slot of one of them with its shape.
    func check(kind expected: String, parameters: [Parameter], bufferSlots: Set<String>,
               counterSlots: Set<String>) throws {
        guard kind == expected else {
            throw Failure(.dataError, "optimizer state is for \(kind), not \(expected)")
        }
        var byName: [String: Parameter] = [:]
        for p in parameters { byName[p.name] = p }
        var saved = Set<String>()
        for name in parameterNames {
            guard saved.insert(name).inserted else {
                throw Failure(.dataError, "parameter listed twice in the optimizer state", tensor: name)
            }
            guard byName[name] != nil else {
                throw Failure(.dataError, "optimizer state has a parameter the model does not", tensor: name)
            }
        }
        for p in parameters where !saved.contains(p.name) {
            throw Failure(.dataError, "parameter is missing from the optimizer state", tensor: p.name)
        }
        func parameter(of key: String, slots: Set<String>) throws -> Parameter {
            guard let dot = key.firstIndex(of: "."), slots.contains(String(key[..<dot])),
                  let p = byName[String(key[key.index(after: dot)...])] else {
                throw Failure(.dataError, "names no \(expected) buffer of any parameter", tensor: key)
            }
            return p
        }
        // In name order, so the same file always fails on the same tensor.
        for (key, value) in buffers.sorted(by: { $0.key < $1.key }) {
            let p = try parameter(of: key, slots: bufferSlots)
            guard value.shape == p.shape else {
                throw Failure(.dataError, "shape \(value.shape) does not match the parameter's \(p.shape)", tensor: key)
            }
        }
        for key in counters.keys.sorted() { _ = try parameter(of: key, slots: counterSlots) }
    }

    /// A hyperparameter saved as a number.
    func number(_ key: String) throws -> Double {
        guard let text = hyperparameters[key], let v = Double(text) else {
            throw Failure(.dataError, "metadata \"\(key)\" is \(quoted(hyperparameters[key])), not a number")
        }
        return v
    }

    /// A hyperparameter saved as "true" or "false".
    func flag(_ key: String) throws -> Bool {
        switch hyperparameters[key] {
        case "true": return true
        case "false": return false
        case let other:
            throw Failure(.dataError, "metadata \"\(key)\" is \(quoted(other)), not true or false")
        }
    }
}

/// A metadata value for a message: in quotes, or "missing".
private func quoted(_ value: String?) -> String {
    value.map { "\"\($0)\"" } ?? "missing"
}
