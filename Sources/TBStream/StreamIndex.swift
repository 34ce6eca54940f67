// Finds record boundaries of a stream file from zstd frame headers alone, so a file can
// be counted, sharded and sampled at random without decompressing payloads.

import CZstd
import TBCore

public final class StreamIndex {
    public struct Entry: Sendable, Equatable {
        /// Byte offset of the record's zstd frame in the file.
        public var offset: Int
        /// Compressed size of the frame.
        public var compressedSize: Int
        /// Decompressed record size when the frame header states it.
        public var recordSize: Int?
    }

    public let name: String
    public let entries: [Entry]
    private let file: MappedFile

    public var count: Int { entries.count }

    /// Walks the file's frames. A frame that is cut short or not zstd is a `.dataError`
    /// naming the record number and byte offset.
    public init(path: String) throws {
        file = try MappedFile(path: path)
        name = file.name
        var entries: [Entry] = []
        let bytes = file.bytes
        var offset = 0
        while offset < bytes.count {
            let base = bytes.baseAddress! + offset
            let left = bytes.count - offset
            guard left >= 4 else {
                throw Failure(.dataError, "stream ends with \(left) stray bytes (truncated?)",
                              file: path, record: entries.count, offset: offset)
            }
            let magic = base.loadUnaligned(as: UInt32.self).littleEndian
            let size = ZSTD_findFrameCompressedSize(base, left)
            if ZSTD_isError(size) != 0 {
                let why = magic == 0xFD2F_B528 ? "truncated or corrupt zstd frame" : "no zstd frame here (corrupt or not a tb stream)"
                throw Failure(.dataError, why, file: path, record: entries.count, offset: offset)
            }
            if magic & 0xFFFF_FFF0 != 0x184D_2A50 {  // skippable frames hold no record
                let content = ZSTD_getFrameContentSize(base, left)
                let known = content != ZSTD_CONTENTSIZE_UNKNOWN && content != ZSTD_CONTENTSIZE_ERROR
                // The frame header is untrusted: a size past Int.max is no record's (RecordReader says so).
                entries.append(Entry(offset: offset, compressedSize: size, recordSize: known ? Int(exactly: content) : nil))
            }
            offset += size
        }
        self.entries = entries
    }

    /// Record `i`, decompressed and validated.
    public func record(_ i: Int) throws -> Record {
        let reader = try reader(for: i)
        guard let r = try reader.next() else {
            throw Failure(.dataError, "empty frame", file: name, record: i, offset: entries[i].offset)
        }
        return r
    }

    /// Only the header of record `i`: decompresses the first bytes of its frame.
    public func header(_ i: Int) throws -> RecordHeader {
        let reader = try reader(for: i)
        guard let h = try reader.nextHeader() else {
            throw Failure(.dataError, "empty frame", file: name, record: i, offset: entries[i].offset)
        }
        return h
    }

    private func reader(for i: Int) throws -> RecordReader {
        precondition(i >= 0 && i < entries.count, "record index out of range")
        let e = entries[i]
        let slice = UnsafeRawBufferPointer(rebasing: file.bytes[e.offset..<(e.offset + e.compressedSize)])
        return try RecordReader(source: MemorySource(slice, name: name), firstRecord: i, baseOffset: e.offset)
    }
}
