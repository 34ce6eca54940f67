// Errors as values that carry their sysexits status and the place they happened.

/// The exit statuses of sysexits(3) that tb's programs use (DESIGN.md §1).
public enum ExitStatus: Int32, Sendable {
    case ok = 0
    case usage = 64        // EX_USAGE: bad options or arguments
    case dataError = 65    // EX_DATAERR: input exists but is malformed
    case noInput = 66      // EX_NOINPUT: an input file is missing or unreadable
    case unavailable = 69  // EX_UNAVAILABLE: a service is missing (libmpi under mpirun)
    case software = 70     // EX_SOFTWARE: a bug in tb
    case ioError = 74      // EX_IOERR: reading or writing failed
    case brokenPipe = 141  // 128 + SIGPIPE: the reader went away; ends quietly
}

/// Every error a tb library throws. `description` is the one line a program prints
/// after its name: `train.tbs: record 17 (byte 40960): shape [8,64,64] has no channel axis`.
public struct Failure: Error, CustomStringConvertible, Sendable, Equatable {
    public var status: ExitStatus
    public var message: String
    /// The file (or "-" / "<stdin>") the problem is in.
    public var file: String?
    /// Record number within the file, counted from 0.
    public var record: Int?
    /// Byte offset in the file where the record or problem starts.
    public var offset: Int?
    /// Line number within a text file, counted from 1.
    public var line: Int?
    /// Name of the tensor, for checkpoint problems.
    public var tensor: String?

    public init(_ status: ExitStatus, _ message: String, file: String? = nil, record: Int? = nil,
                offset: Int? = nil, line: Int? = nil, tensor: String? = nil) {
        self.status = status
        self.message = message
        self.file = file
        self.record = record
        self.offset = offset
        self.line = line
        self.tensor = tensor
    }

    public static func usage(_ m: String) -> Failure { Failure(.usage, m) }
    public static func data(_ m: String, file: String? = nil) -> Failure { Failure(.dataError, m, file: file) }
    public static func io(_ m: String, file: String? = nil) -> Failure { Failure(.ioError, m, file: file) }
    public static func internalError(_ m: String) -> Failure { Failure(.software, m) }

    /// Fills in the place where it is not yet known, keeping what the thrower said.
    public func at(file: String? = nil, record: Int? = nil, offset: Int? = nil, line: Int? = nil) -> Failure {
        var f = self
        if f.file == nil { f.file = file }
        if f.record == nil { f.record = record }
        if f.offset == nil { f.offset = offset }
        if f.line == nil { f.line = line }
        return f
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(file) }
        if let line { parts.append("line \(line)") }
        if let record {
            parts.append(offset.map { "record \(record) (byte \($0))" } ?? "record \(record)")
        } else if let offset {
            parts.append("byte \(offset)")
        }
        if let tensor { parts.append("tensor '\(tensor)'") }
        parts.append(message)
        return parts.joined(separator: ": ")
    }
}

/// Bytes of a tensor with `elementSize`-byte elements and this shape; nil for a negative
/// dimension or an overflow (headers of streams and checkpoints are untrusted input).
public func checkedByteCount(elementSize: Int, shape: [Int]) -> Int? {
    var n = elementSize
    for d in shape {
        guard d >= 0 else { return nil }
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return n
}

/// The text of errno, for messages.
public func errnoString(_ code: Int32) -> String {
    guard let s = strerror(code) else { return "error \(code)" }
    return String(cString: s)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
