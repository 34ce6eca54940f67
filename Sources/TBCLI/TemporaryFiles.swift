// Atomic output: a program writes `-o FILE` to a temporary beside it and renames it
// into place only when the whole output is written. A failing, interrupted or
// killed-by-signal run leaves no file behind (a `kill -9` leaves only the hidden temporary).

import Foundation
import TBCore
#if canImport(Glibc)
import Glibc
#endif

enum TemporaryFiles {
    // The signal handler may only call async-signal-safe functions, so the paths live in
    // C strings in a fixed table it can walk without Swift's runtime.
    static let capacity = 16
    nonisolated(unsafe) static let table = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: capacity)
    nonisolated(unsafe) static var initialized = false

    static func installSignalHandlers() {
        if !initialized {
            table.initialize(repeating: nil, count: capacity)
            initialized = true
        }
        for s in [SIGINT, SIGTERM, SIGHUP] where !isIgnored(s) {
            signal(s) { sig in TemporaryFiles.removeAllAndDie(sig) }
        }
    }

    /// Whether the signal was ignored when the program started (`nohup`, a background job of
    /// a script): it stays ignored, as the parent asked.
    static func isIgnored(_ s: Int32) -> Bool {
        var current = sigaction()
        sigaction(s, nil, &current)
        return unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == 1  // SIG_IGN
    }

    /// The signal handler's work: unlink every temporary, then die by the signal with its
    /// default action, so that a shell sees 128 + N (130 for SIGINT, 143 for SIGTERM) and a
    /// script running the program stops as it would for any interrupted command.
    /// Async-signal-safe: unlink, signal, pthread_sigmask, raise and _exit only.
    static func removeAllAndDie(_ sig: Int32) -> Never {
        if initialized {
            for i in 0..<capacity {
                if let p = table[i] { unlink(p) }
            }
        }
        signal(sig, SIG_DFL)
        // A handler runs with its signal blocked: unblock it so that raise kills now.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, sig)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(sig)
        _exit(128 + sig)
    }

    static func add(_ path: String) {
        if !initialized { installSignalHandlers() }
        for i in 0..<capacity where table[i] == nil {
            table[i] = strdup(path)
            return
        }
    }

    static func remove(_ path: String, unlinkFile: Bool) {
        guard initialized else { return }
        for i in 0..<capacity {
            if let p = table[i], String(cString: p) == path {
                table[i] = nil
                if unlinkFile { unlink(p) }
                free(p)
            }
        }
    }

    static func removeAll() {
        guard initialized else { return }
        for i in 0..<capacity {
            if let p = table[i] {
                table[i] = nil
                unlink(p)
                free(p)
            }
        }
    }
}

/// Where a program's main output goes: stdout, or a file that appears only when complete.
public final class Output {
    public let file: OutputFile
    /// The name the user gave ("-" or nil for stdout).
    public let path: String?
    private let temporaryPath: String?
    private var committed = false

    /// Opens `path` for atomic writing, or stdout when `path` is nil or "-".
    public init(path: String?) throws {
        guard let path, path != "-" else {
            self.path = nil
            temporaryPath = nil
            file = OutputFile.standardOutput()
            return
        }
        let slash = path.lastIndex(of: "/")
        let dir = slash.map { String(path[...$0]) } ?? ""
        let base = slash.map { String(path[path.index(after: $0)...]) } ?? path
        guard !base.isEmpty else { throw Failure(.usage, "output name is a directory", file: path) }
        var template = Array("\(dir).\(base).tmp.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw Failure(.ioError, "cannot create output: \(errnoString(errno))", file: path)
        }
        let tmp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        // mkstemp makes the file 0600; outputs are ordinary files, so honour the umask.
        let mask = umask(0)
        umask(mask)
        fchmod(fd, 0o666 & ~mask)
        self.path = path
        temporaryPath = tmp
        file = OutputFile(fd: fd, name: path, owned: true, bufferSize: 1 << 20)
        TemporaryFiles.add(tmp)
    }

    /// Flushes and, for a file, moves it into place. Until this is called the output does not exist.
    public func commit() throws {
        guard !committed else { return }
        guard let tmp = temporaryPath, let path else {
            try file.flush()
            committed = true
            return
        }
        try file.sync()
        guard rename(tmp, path) == 0 else {
            throw Failure(.ioError, "cannot rename the finished output into place: \(errnoString(errno))", file: path)
        }
        committed = true
        TemporaryFiles.remove(tmp, unlinkFile: false)
    }

    deinit {
        if !committed, let tmp = temporaryPath { TemporaryFiles.remove(tmp, unlinkFile: true) }
    }
}

/// Standard input copied to a temporary file in TMPDIR, for programs that read their input
/// at random (tb-mix): removed when the program ends, however it ends.
public final class SpooledInput {
    public let path: String

    public init() throws {
        let dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array("\(dir)/tb-stdin.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw Failure(.ioError, "cannot create a temporary file in \(dir): \(errnoString(errno))") }
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        TemporaryFiles.add(path)
        let out = OutputFile(fd: fd, name: path, owned: true, bufferSize: 1 << 20)
        let input = try InputFile(path: "-")
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try input.read(into: $0) }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try out.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        try out.flush()
    }

    deinit { TemporaryFiles.remove(path, unlinkFile: true) }
}

/// Removes every temporary output not yet committed, as a failing program does before it
/// exits; for programs that end another way (MPI_Abort under mpirun).
public func removeTemporaryOutputs() {
    TemporaryFiles.removeAll()
}
