// Unbuffered-reading and buffered-writing file descriptors that turn every failed
// system call into a Failure naming the file. stdin and stdout are "-".

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Something bytes can be read from, a chunk at a time.
public protocol ByteSource: AnyObject {
    /// Name used in messages.
    var name: String { get }
    /// Reads up to `buffer.count` bytes; returns 0 at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    /// Reads the rest of the input into memory.
    public func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }
}

/// A file opened for reading, or standard input for "-".
public final class InputFile: ByteSource {
    public let name: String
    public let fd: Int32
    private let owned: Bool

    public init(path: String) throws {
        if path == "-" {
            name = "<stdin>"
            fd = 0
            owned = false
            return
        }
        name = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let e = errno
            let status: ExitStatus = (e == ENOENT || e == EACCES || e == ENOTDIR) ? .noInput : .ioError
            throw Failure(status, errnoString(e), file: path)
        }
        var st = stat()
        if fstat(fd, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw Failure(.noInput, "is a directory", file: path)
        }
        self.fd = fd
        owned = true
    }

    deinit { if owned { close(fd) } }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(fd, base, buffer.count)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw Failure(.ioError, "read: \(errnoString(errno))", file: name)
        }
    }
}

/// Bytes already in memory, read as a source.
public final class MemorySource: ByteSource {
    public let name: String
    private let base: UnsafeRawBufferPointer
    private var position = 0

    /// The memory must outlive the source.
    public init(_ base: UnsafeRawBufferPointer, name: String) {
        self.base = base
        self.name = name
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, base.count - position)
        if n > 0 {
            buffer.baseAddress!.copyMemory(from: base.baseAddress! + position, byteCount: n)
            position += n
        }
        return n
    }
}

/// Something bytes can be written to.
public protocol ByteSink: AnyObject {
    var name: String { get }
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension ByteSink {
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
    public func write(_ text: String) throws {
        var t = text
        try t.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }
}

/// A buffered writer over a file descriptor. A write to a closed pipe throws a
/// Failure with status `.brokenPipe`, which programs turn into a quiet exit.
public final class OutputFile: ByteSink {
    public let name: String
    public let fd: Int32
    private let owned: Bool
    private var buffer: UnsafeMutableRawPointer
    private let capacity: Int
    private var count = 0

    /// Standard output, or an already open descriptor.
    public init(fd: Int32, name: String, owned: Bool = false, bufferSize: Int = 1 << 16) {
        self.fd = fd
        self.name = name
        self.owned = owned
        capacity = bufferSize
        buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 64)
    }

    public static func standardOutput() -> OutputFile { OutputFile(fd: 1, name: "<stdout>") }

    deinit {
        try? flush()
        if owned { close(fd) }
        buffer.deallocate()
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        if count + bytes.count > capacity { try flush() }
        if bytes.count >= capacity {
            try writeAll(bytes)
            return
        }
        (buffer + count).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        count += bytes.count
    }

    public func flush() throws {
        guard count > 0 else { return }
        let n = count
        count = 0
        try writeAll(UnsafeRawBufferPointer(start: buffer, count: n))
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { throw Failure(.brokenPipe, "broken pipe", file: name) }
                throw Failure(.ioError, "write: \(errnoString(errno))", file: name)
            }
            done += n
        }
    }

    /// Flushes and forces the data to the device (for files that are renamed into place).
    public func sync() throws {
        try flush()
        if fsync(fd) != 0 && errno != EINVAL && errno != EROFS {
            throw Failure(.ioError, "fsync: \(errnoString(errno))", file: name)
        }
    }
}

/// A read-only memory map of a whole file.
public final class MappedFile {
    public let name: String
    public let bytes: UnsafeRawBufferPointer

    public init(path: String) throws {
        let input = try InputFile(path: path)
        name = input.name
        var st = stat()
        guard fstat(input.fd, &st) == 0 else {
            throw Failure(.ioError, "stat: \(errnoString(errno))", file: path)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(.usage, "not a regular file (random access needs a file, not a pipe)", file: path)
        }
        let size = Int(st.st_size)
        if size == 0 {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, input.fd, 0), p != MAP_FAILED else {
            throw Failure(.ioError, "mmap: \(errnoString(errno))", file: path)
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    deinit {
        if let p = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: p), bytes.count) }
    }
}

/// Whether a path names an existing file or directory.
public func fileExists(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0
}

/// Collects written bytes in memory.
public final class MemorySink: ByteSink {
    public let name: String
    public private(set) var bytes: [UInt8] = []

    public init(name: String = "<memory>") { self.name = name }

    public func write(_ buffer: UnsafeRawBufferPointer) throws {
        bytes.append(contentsOf: buffer)
    }
}
