// Reads the records of several streams in order, as if they were concatenated.

import TBCore

public final class StreamReader {
    public let paths: [String]
    private var fileIndex = -1
    private var current: RecordReader?
    private var lastName = ""

    /// Streams to read in order; "-" is standard input. No file is opened until it is reached.
    public init(paths: [String]) {
        self.paths = paths.isEmpty ? ["-"] : paths
    }

    /// The file the last record came from ("<stdin>" for standard input), or after the end
    /// the last file read, so that "no records" can name it.
    public var currentName: String { current?.name ?? lastName }
    /// The number of the last record within its file.
    public var currentRecord: Int { (current?.recordNumber ?? 1) - 1 }

    /// The next record of the first stream that has one left, or nil when all are read.
    public func next() throws -> Record? {
        while true {
            if let reader = current, let record = try reader.next() { return record }
            fileIndex += 1
            guard fileIndex < paths.count else { lastName = current?.name ?? lastName; current = nil; return nil }
            current = try RecordReader(source: try InputFile(path: paths[fileIndex]))
        }
    }

    /// Headers only, payloads skipped (still decompressed and checked).
    public func nextHeader() throws -> RecordHeader? {
        while true {
            if let reader = current, let header = try reader.nextHeader() { return header }
            fileIndex += 1
            guard fileIndex < paths.count else { lastName = current?.name ?? lastName; current = nil; return nil }
            current = try RecordReader(source: try InputFile(path: paths[fileIndex]))
        }
    }

    /// Skips the payload belonging to the header `nextHeader()` returned.
    public func skipPayload() throws {
        guard let current else { throw Failure.internalError("skipPayload with no current stream") }
        try current.skipPayload()
    }

    /// Reads the payload belonging to the header `nextHeader()` returned.
    public func readPayload() throws -> [UInt8] {
        guard let current else { throw Failure.internalError("readPayload with no current stream") }
        return try current.readPayload()
    }
}

/// A writer of records to a byte sink, for programs that only append.
extension StreamWriter {
    public func write<S: Sequence>(contentsOf records: S) throws where S.Element == Record {
        for r in records { try write(r) }
    }
}
