// SIGTERM and SIGINT for the training programs (tb-train, tb-teach): the first one only
// raises a flag, which the training loop reads between steps; the loop then saves a
// checkpoint and its optimizer state and ends (0 after SIGTERM, Slurm's preemption notice;
// 130 after SIGINT). A second signal ends the program at once, as in every other program
// (TemporaryFiles: temporaries removed, killed by the signal).
//
// The flag is process-wide state because a signal handler can reach nothing else; it is an
// atomic, set by the handler, which does nothing else (async-signal-safe).

import Synchronization
import TBCore
import TBStream
#if canImport(Glibc)
import Glibc
#endif

public enum Interruption {
    private static let pending = Atomic<Int32>(0)

    /// Replaces the SIGINT and SIGTERM handlers `runTool` installed with ones that only set
    /// the flag the first time. Call once, before the training loop.
    public static func deferSignals() {
        _ = pending.load(ordering: .relaxed)  // initialise the global outside the handler
        for s in [SIGINT, SIGTERM] where !TemporaryFiles.isIgnored(s) {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { sig in
                if Interruption.pending.compareExchange(expected: 0, desired: sig, ordering: .sequentiallyConsistent).exchanged {
                    return
                }
                TemporaryFiles.removeAllAndDie(sig)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART  // a read of the next batch goes on; the loop checks the flag after it
            sigaction(s, &action, nil)
        }
    }

    /// The signal received (SIGINT or SIGTERM), or nil.
    public static var requested: Int32? {
        let s = pending.load(ordering: .sequentiallyConsistent)
        return s == 0 ? nil : s
    }


    /// The next record of a training input; nil at its end, or once a signal asked the run to
    /// stop. After a signal the input may end early or mid-record (tb-mix in the same pipeline
    /// got it too): that is then the end, not an error.
    public static func nextRecord(from reader: StreamReader) throws -> Record? {
        guard requested == nil else { return nil }
        do {
            let record = try reader.next()
            return requested == nil ? record : nil
        } catch where requested != nil {
            return nil
        }
    }

    /// Skips `count` records of a resumed run's input, those its checkpoint has trained on.
    /// Returns false when a signal came first; throws when the input ends before.
    @discardableResult
    public static func skip(_ count: Int, of reader: StreamReader) throws -> Bool {
        do {
            for skipped in 0..<count {
                guard requested == nil else { return false }
                guard try reader.nextHeader() != nil else {
                    if requested != nil { return false }
                    throw Failure(.dataError, "the input ends after \(skipped) batches; the checkpoint has trained \(count)",
                                  file: reader.currentName)
                }
                try reader.skipPayload()
            }
        } catch where requested != nil {
            return false
        }
        return true
    }

    /// The signal's name for messages.
    public static func name(_ signal: Int32) -> String {
        switch signal {
        case SIGINT: return "SIGINT"
        case SIGTERM: return "SIGTERM"
        default: return "signal \(signal)"
        }
    }

    /// The status a training program ends with after saving: 0 after SIGTERM (the job was
    /// asked to stop and did, cleanly), 130 (128 + SIGINT) after SIGINT, as a shell reports it.
    public static func exitStatus(for signal: Int32) -> Int32 { signal == SIGTERM ? 0 : 128 + signal }

    /// Ends a training program after it saved: one line on stderr saying where and how to go
    /// on, then the status of `exitStatus(for:)`. Never returns.
    public static func end(tool: String, signal: Int32, step: Int, saved path: String) -> Never {
        writeStandardError("\(tool): \(name(signal)): stopped after step \(step); saved \(path) and \(path).optim; "
                           + "to continue, feed the same input to \(tool) --resume \(path) with the same options\n")
        TemporaryFiles.removeAll()
        Glibc.exit(exitStatus(for: signal))
    }
}
