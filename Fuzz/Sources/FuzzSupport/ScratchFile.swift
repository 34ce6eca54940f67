// A file the harnesses write each input to, for readers that take a path (FFmpeg, mmap).
// Plain open/write/close: Foundation's createFile syncs, which made every input cost ~5 ms.

#if canImport(Glibc)
import Glibc
#endif

public struct ScratchFile {
    public let path: String

    /// A name unique to this process in $TMPDIR (or /tmp).
    public init(_ name: String) {
        let dir = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        path = "\(dir)/tb-fuzz-\(name)-\(getpid())"
    }

    /// Replaces the file's contents; false if it cannot be written.
    public func write(_ data: UnsafePointer<UInt8>, _ size: Int) -> Bool {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var done = 0
        while done < size {
            let n = Glibc.write(fd, data + done, size - done)
            if n <= 0 { return false }
            done += n
        }
        return true
    }

    public func remove() { unlink(path) }
}
