// JSON lines (one JSON object per line) and the plain text lines under it.
// Lines are read a chunk at a time, so memory is bounded by the longest line,
// not by the file, and there is no fixed line limit.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TBCore

/// Reads a text source line by line: LF or CRLF endings, an optional final newline,
/// and a UTF-8 byte order mark on line 1 (dropped, as editors on Windows write one).
public final class LineReader {
    /// The source's name, for messages.
    public let name: String
    /// The number of the line `next()` returned last, counted from 1.
    public private(set) var lineNumber = 0
    private let source: ByteSource
    private var buffer: [UInt8]
    private var start = 0   // first unread byte in `buffer`
    private var end = 0     // one past the last valid byte
    private var atEnd = false
    private static let chunk = 1 << 16

    /// Reads from an open source.
    public init(source: ByteSource) {
        self.source = source
        name = source.name
        buffer = [UInt8](repeating: 0, count: LineReader.chunk)
    }

    /// Opens a file, or standard input for "-".
    public convenience init(path: String) throws {
        self.init(source: try InputFile(path: path))
    }

    /// The next line without its terminator, or nil at the end of the input.
    public func next() throws -> [UInt8]? {
        var scanned = 0  // bytes after `start` known to hold no newline
        while true {
            let scanFrom = start + scanned
            let found: Int? = buffer.withUnsafeBytes { raw in
                guard scanFrom < end, let base = raw.baseAddress,
                      let hit = memchr(base + scanFrom, 0x0A, end - scanFrom) else { return nil }
                return UnsafeRawPointer(hit) - base
            }
            if let newline = found {
                return finish(lineEnd: newline, next: newline + 1)
            }
            if atEnd {
                if start == end { return nil }
                return finish(lineEnd: end, next: end)  // no final newline
            }
            scanned = end - start
            try fill()
        }
    }

    /// The next line as UTF-8 text; bytes that are not UTF-8 are a `.dataError`.
    public func nextString() throws -> String? {
        guard let bytes = try next() else { return nil }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw Failure(.dataError, "not UTF-8 text", file: name, line: lineNumber)
        }
        return text
    }

    private func finish(lineEnd: Int, next: Int) -> [UInt8] {
        var first = start, last = lineEnd
        if last > first && buffer[last - 1] == 0x0D { last -= 1 }
        lineNumber += 1
        if lineNumber == 1 && last - first >= 3 && buffer[first] == 0xEF && buffer[first + 1] == 0xBB
            && buffer[first + 2] == 0xBF {
            first += 3
        }
        start = next
        return Array(buffer[first..<last])
    }

    /// Moves the unread bytes to the front, grows the buffer if one line fills it, and reads more.
    private func fill() throws {
        if start > 0 {
            let pending = end - start
            buffer.withUnsafeMutableBytes { raw in
                guard let base = raw.baseAddress else { return }
                memmove(base, base + start, pending)
            }
            start = 0
            end = pending
        }
        if end == buffer.count {
            buffer.append(contentsOf: repeatElement(0, count: buffer.count))
        }
        let n = try buffer.withUnsafeMutableBytes { raw in
            try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[end...]))
        }
        if n == 0 { atEnd = true }
        end += n
    }
}

/// Reads JSON lines: one object per non-empty line. Blank lines (only spaces, tabs
/// or CR) are skipped; any other line that is not a JSON object is a `.dataError`
/// naming the file and line.
public final class JSONLinesReader {
    private let lines: LineReader
    /// The source's name, for messages.
    public var name: String { lines.name }
    /// The line the object `next()` returned last came from, counted from 1.
    public var lineNumber: Int { lines.lineNumber }

    /// Reads from an open source.
    public init(source: ByteSource) { lines = LineReader(source: source) }

    /// Opens a file, or standard input for "-".
    public init(path: String) throws { lines = try LineReader(path: path) }

    /// Reads objects from lines already being read.
    public init(lines: LineReader) { self.lines = lines }

    /// The next object, or nil at the end of the input.
    public func next() throws -> JSONObject? {
        while let line = try lines.next() {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let value: JSON
            do {
                value = try JSON.parse(line)
            } catch let f as Failure {
                throw f.at(file: name, line: lineNumber)
            }
            guard case .object(let object) = value else {
                throw Failure(.dataError, "expected a JSON object, found \(value.typeName)",
                              file: name, line: lineNumber)
            }
            return object
        }
        return nil
    }

    /// Every remaining object with the line it came from.
    public func readAll() throws -> [(line: Int, object: JSONObject)] {
        var out: [(line: Int, object: JSONObject)] = []
        while let o = try next() { out.append((lineNumber, o)) }
        return out
    }
}

/// Writes JSON lines: each object as compact JSON, keys in their stored order, then "\n".
/// JSON escapes newlines inside strings, so every object is exactly one line.
public final class JSONLinesWriter {
    /// Where the lines go.
    public let sink: ByteSink
    /// Objects written so far.
    public private(set) var count = 0

    /// Writes to a sink; the caller flushes or renames it into place.
    public init(sink: ByteSink) { self.sink = sink }

    /// Appends one object as one line.
    public func write(_ object: JSONObject) throws {
        try sink.write(JSON.object(object).text + "\n")
        count += 1
    }
}
