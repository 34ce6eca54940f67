// A training run's state for --resume: the checkpoint FILE and its optimizer state FILE.optim
// (DESIGN.md §2), saved as a pair that a kill at any moment cannot tear or mismatch:
//   - each file is written to a temporary beside it and renamed into place (Output), so
//     neither is ever half-written;
//   - both temporaries are complete and synced before the first rename, so only the two
//     renames separate the old pair from the new one; FILE.optim is renamed first, and the
//     old state stays reachable as FILE.optim.prev (a hard link) until FILE is renamed too;
//   - FILE.optim records its step and a fingerprint of the weights it belongs to, which a
//     resume checks against FILE. After a kill between the two renames FILE.optim is one
//     save ahead of FILE, and FILE.optim.prev is the state that belongs to FILE: resume takes
//     it. Files of two runs, or a pair with neither state matching, are refused.

import TBCore
import TBNN
import TBStream
#if canImport(Glibc)
import Glibc
#endif

public enum TrainingState {
    /// Metadata key of FILE.optim: FNV-1a (64 bits, hex) of the weights saved beside it.
    static let fingerprintKey = "checkpoint_fnv1a64"

    /// Writes the checkpoint (by `writeModel`) to `path` (nil or "-": stdout) and, given an
    /// optimizer, its state to `path.optim`. Without one, a state left beside `path` by an
    /// earlier run is removed: it would not belong to the new checkpoint.
    public static func save(_ path: String?, optimizer: (any Optimizer)?, parameters: [Parameter],
                            writeModel: (ByteSink) throws -> Void) throws {
        let model = try Output(path: path)
        try writeModel(model.file)
        guard let path = model.path, let optimizer else {
            try model.commit()
            if let path = model.path {
                unlink(path + ".optim")
                unlink(path + ".optim.prev")
            }
            return
        }
        try model.file.sync()
        let optim = try Output(path: path + ".optim")
        var state = optimizer.state
        state.hyperparameters[fingerprintKey] = fingerprint(parameters)
        try state.write(to: optim.file)
        try optim.file.sync()
        // The state first: a kill between the renames leaves a newer .optim beside an older
        // checkpoint, which `restore` recognises, and the older state as .optim.prev.
        let previous = path + ".optim.prev"
        unlink(previous)
        if link(path + ".optim", previous) != 0 && errno != ENOENT {
            throw Failure(.ioError, "cannot link the previous optimizer state: \(errnoString(errno))", file: previous)
        }
        try optim.commit()
        try model.commit()
        unlink(previous)
    }

    /// Restores `optimizer` from `path.optim`, after checking that it is the state saved with
    /// the checkpoint `path` of `steps` steps whose weights are now `parameters`.
    public static func restore(_ optimizer: any Optimizer, checkpoint path: String, steps: Int?,
                               parameters: [Parameter]) throws {
        let weights = fingerprint(parameters)
        func state(_ name: String) throws -> OptimizerState {
            let file = try SafeTensorsFile(path: name)
            do {
                let state = try OptimizerState(file: file)
                if let steps, steps != state.stepCount {
                    throw Failure(.dataError, "optimizer state of step \(state.stepCount), but \(path) holds step \(steps): "
                                  + "not a pair (saving was interrupted, or they come from different runs)")
                }
                if let saved = state.hyperparameters[fingerprintKey], saved != weights {
                    throw Failure(.dataError, "optimizer state saved with other weights than those of \(path) "
                                  + "(they come from different runs)")
                }
                return state
            } catch let f as Failure {
                throw f.at(file: name)
            }
        }
        let found: OptimizerState
        do {
            found = try state(path + ".optim")
        } catch let f as Failure where f.status == .dataError && access(path + ".optim.prev", F_OK) == 0 {
            // A save stopped between its two renames: the previous state is FILE's.
            guard let earlier = try? state(path + ".optim.prev") else { throw f }
            found = earlier
        }
        do { try optimizer.restore(found) } catch let f as Failure { throw f.at(file: path + ".optim") }
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
