// The file handling of tb-toyset: the output directory, files that appear only when
// complete, and a pool of threads that stops at the first failure.

import Foundation
import TBCore

extension ToySet {
    /// Creates `directory` (and its parents) or checks that it is an empty directory.
    static func prepare(_ directory: String, force: Bool) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw Failure(.usage, "exists and is not a directory", file: directory) }
            let entries: [String]
            do { entries = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
                throw Failure(.ioError, "cannot list the directory: \(error.localizedDescription)", file: directory)
            }
            if !entries.isEmpty && !force {
                throw Failure(.usage, "is not empty (--force writes into it anyway)", file: directory)
            }
        }
        try makeDirectory(directory)
    }

    /// mkdir -p.
    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw Failure(.ioError, "cannot create the directory: \(error.localizedDescription)", file: path)
        }
    }

    /// Writes `bytes` to a hidden name beside `path`, then renames it into place.
    static func writeAtomically(_ bytes: [UInt8], to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).part").path
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw Failure(.ioError, "cannot create: \(errnoString(errno))", file: temporary) }
        do {
            let file = OutputFile(fd: fd, name: path, owned: true)
            try file.write(bytes)
            try file.flush()
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let e = errno
            unlink(temporary)
            throw Failure(.ioError, "cannot rename the finished file into place: \(errnoString(e))", file: path)
        }
    }

    /// Runs `body(0..<count)` on `threads` threads, each taking the next index when free.
    /// After a failure no new index starts; the first failure is thrown.
    static func forEachInParallel(_ count: Int, threads: Int, progress: ((Int, Int) -> Void)?,
                                  _ body: (Int) throws -> Void) throws {
        final class Shared: @unchecked Sendable {
            let lock = NSLock()
            var next = 0, done = 0
            var failure: Error?
        }
        let shared = Shared()
        DispatchQueue.concurrentPerform(iterations: max(min(threads, count), 1)) { _ in
            while true {
                shared.lock.lock()
                let index = shared.next
                let stop = shared.failure != nil || index >= count
                shared.next += 1
                shared.lock.unlock()
                if stop { return }
                do {
                    try body(index)
                } catch {
                    shared.lock.lock()
                    if shared.failure == nil { shared.failure = error }
                    shared.lock.unlock()
                    return
                }
                shared.lock.lock()
                shared.done += 1
                progress?(shared.done, count)
                shared.lock.unlock()
            }
        }
        if let failure = shared.failure { throw failure }
    }
}
