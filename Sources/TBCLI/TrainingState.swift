// A training run's state for --resume: the checkpoint FILE and its optimizer state FILE.optim
// (DESIGN.md §2), saved as a pair that a kill at any moment cannot tear or mismatch:
//   - each file is written to a temporary beside it and renamed into place (Output), so
//     neither is ever half-written;
//   - both temporaries are complete and synced before the first rename, so only the two
//     renames separate the old pair from the new one;
//   - FILE.optim records its step and a fingerprint of the weights it belongs to, which a
//     resume checks against FILE: a kill between the two renames, or files of two runs,
//     is refused with a clear message instead of continuing from a wrong state.

import TBCore
import TBNN
import TBStream

public enum TrainingState {
    /// Metadata key of FILE.optim: FNV-1a (64 bits, hex) of the weights saved beside it.
    static let fingerprintKey = "checkpoint_fnv1a64"

    /// Writes the checkpoint (by `writeModel`) to `path` and the optimizer's state to `path.optim`.
    public static func save(_ path: String, optimizer: any Optimizer, parameters: [Parameter],
                            writeModel: (ByteSink) throws -> Void) throws {
        let model = try Output(path: path)
        try writeModel(model.file)
        try model.file.sync()
        let optim = try Output(path: path + ".optim")
        var state = optimizer.state
        state.hyperparameters[fingerprintKey] = fingerprint(parameters)
        try state.write(to: optim.file)
        try optim.file.sync()
        // The state first: a kill between the renames leaves a newer .optim beside an older
        // checkpoint, which `restore` recognises by the step.
        try optim.commit()
        try model.commit()
    }

    /// Restores `optimizer` from `path.optim`, after checking that it is the state saved with
    /// the checkpoint `path` of `steps` steps whose weights are now `parameters`.
    public static func restore(_ optimizer: any Optimizer, checkpoint path: String, steps: Int?,
                               parameters: [Parameter]) throws {
        let name = path + ".optim"
        let file = try SafeTensorsFile(path: name)
        do {
            let state = try OptimizerState(file: file)
            if let steps, steps != state.stepCount {
                throw Failure(.dataError, "optimizer state of step \(state.stepCount), but \(path) holds step \(steps): "
                              + "not a pair (saving was interrupted, or they come from different runs)")
            }
            if let saved = state.hyperparameters[fingerprintKey], saved != fingerprint(parameters) {
                throw Failure(.dataError, "optimizer state saved with other weights than those of \(path) "
                              + "(they come from different runs)")
            }
            try optimizer.restore(state)
        } catch let f as Failure {
            throw f.at(file: name)
        }
    }

    /// FNV-1a over the parameters' names and the bits of their values, in order.
    static func fingerprint(_ parameters: [Parameter]) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        @inline(__always) func mix(_ byte: UInt8) { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        for p in parameters {
            for b in p.name.utf8 { mix(b) }
            p.value.data.withUnsafeBytes { for b in $0 { mix(b) } }
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
