// Reads records one zstd frame at a time from any byte source, validating each
// header before its payload is allocated. Memory is bounded by the largest record.

import CZstd
import TBCore

public final class RecordReader {
    public let name: String
    private let source: ByteSource
    private let dctx: OpaquePointer
    private let inCapacity = 1 << 20
    /// The most payload bytes allocated before decompressed data shows they exist.
    static let allocateAtOnce = 64 << 20
    private let inBuffer: UnsafeMutableRawPointer
    private var inPos = 0, inEnd = 0
    private var consumedBeforeBuffer = 0
    private var atEOF = false

    /// Number of the record `next()` returns next, counted from 0 in this source.
    public private(set) var recordNumber: Int
    /// Byte offset in the source of the current record's frame.
    public private(set) var recordOffset = 0
    /// Bytes of the source consumed so far: after a whole record, where the next one starts.
    public var position: Int { consumedBeforeBuffer + inPos }
    private var pending: RecordHeader?
    private var frameDone = false
    private var contentSize: UInt64?

    /// - Parameters:
    ///   - firstRecord: number given to the first record (for readers that start mid-file).
    ///   - baseOffset: byte offset of the source's first byte in the file, for messages.
    public init(source: ByteSource, firstRecord: Int = 0, baseOffset: Int = 0) throws {
        guard let d = ZSTD_createDCtx() else { throw Failure.internalError("zstd: out of memory") }
        dctx = d
        self.source = source
        name = source.name
        recordNumber = firstRecord
        consumedBeforeBuffer = baseOffset
        inBuffer = UnsafeMutableRawPointer.allocate(byteCount: inCapacity, alignment: 64)
    }

    deinit {
        ZSTD_freeDCtx(dctx)
        inBuffer.deallocate()
    }

    /// The next whole record, or nil at the end of the source.
    public func next() throws -> Record? {
        guard let h = try nextHeader() else { return nil }
        let payload = try readPayload()
        return Record(dtype: h.dtype, shape: h.shape, header: h.header, payload: payload)
    }

    /// Reads and validates the next record's header; the payload must then be read with
    /// `readPayload()` or skipped with `skipPayload()` before the next call.
    public func nextHeader() throws -> RecordHeader? {
        if pending != nil { try skipPayload() }
        guard try startFrame() else { return nil }
        var prefix = [UInt8](repeating: 0, count: RecordLayout.prefixSize)
        try prefix.withUnsafeMutableBytes { try decompress(into: $0, what: "the record's 8-byte prefix") }
        guard Array(prefix[0..<4]) == RecordLayout.magic else {
            throw fail("bad record magic \(printable(prefix[0..<4])), expected \"TBR1\"")
        }
        let headerLength = prefix.withUnsafeBytes { Int(UInt32(littleEndian: $0.loadUnaligned(fromByteOffset: 4, as: UInt32.self))) }
        guard headerLength <= RecordLayout.maxHeaderLength else {
            throw fail("header length \(headerLength) exceeds the 1 MiB limit")
        }
        if let size = contentSize, UInt64(RecordLayout.prefixSize + headerLength) > size {
            throw fail("header length \(headerLength) runs past the record's \(size) bytes")
        }
        var headerBytes = [UInt8](repeating: 0, count: headerLength)
        try headerBytes.withUnsafeMutableBytes { try decompress(into: $0, what: "the header") }
        let header: RecordHeader
        do {
            header = try RecordHeader(json: try JSON.parse(headerBytes))
        } catch let f as Failure {
            throw fail(f.message)
        }
        let padding = RecordLayout.padding(headerLength: headerLength)
        var pad = [UInt8](repeating: 0, count: padding)
        try pad.withUnsafeMutableBytes { try decompress(into: $0, what: "the padding") }
        guard pad.allSatisfy({ $0 == 0 }) else { throw fail("padding after the header is not zero") }
        if let size = contentSize {
            // The frame header's size is untrusted and may be anything up to 2^64 - 1.
            let used = UInt64(RecordLayout.prefixSize + headerLength + padding)
            if size < used || size - used != UInt64(header.payloadSize) {
                let available = size < used ? "-\(used - size)" : "\(size - used)"
                throw fail("payload has \(available) bytes, not " + needs(header))
            }
        }
        pending = header
        return header
    }

    /// The payload of the record whose header `nextHeader()` returned.
    public func readPayload() throws -> [UInt8] {
        guard let h = pending else { throw Failure.internalError("readPayload without a header") }
        var payload: [UInt8]
        if contentSize != nil && h.payloadSize <= RecordReader.allocateAtOnce {
            // The frame header vouched for the size: allocate once, decompress in place.
            payload = [UInt8](unsafeUninitializedCapacity: h.payloadSize) { buf, n in n = h.payloadSize }
            try payload.withUnsafeMutableBytes { try decompress(into: $0, what: "the payload", header: h) }
        } else {
            // Size unknown (e.g. made by `zstd` from a pipe) or large: grow as data arrives, so
            // a corrupt shape or frame header cannot make us allocate more than the frame
            // really holds (a frame may claim a terabyte in a few bytes).
            payload = []
            while payload.count < h.payloadSize {
                let start = payload.count
                let step = min(h.payloadSize - start, RecordReader.allocateAtOnce)
                payload.append(contentsOf: repeatElement(0, count: step))
                try payload.withUnsafeMutableBytes {
                    try decompress(into: UnsafeMutableRawBufferPointer(rebasing: $0[start...]), what: "the payload", header: h)
                }
            }
        }
        try endFrame(h)
        return payload
    }

    /// Decompresses and discards the pending payload (still checksummed).
    public func skipPayload() throws {
        guard let h = pending else { return }
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 18, alignment: 64)
        defer { scratch.deallocate() }
        var left = h.payloadSize
        while left > 0 {
            let n = min(left, scratch.count)
            try decompress(into: UnsafeMutableRawBufferPointer(rebasing: scratch[0..<n]), what: "the payload", header: h)
            left -= n
        }
        try endFrame(h)
    }

    // MARK: - Frames

    /// Positions at the next data frame, skipping zstd skippable frames. False at a clean end.
    private func startFrame() throws -> Bool {
        while true {
            let available = try ensure(18)  // ZSTD_FRAMEHEADERSIZE_MAX
            recordOffset = consumedBeforeBuffer + inPos
            if available == 0 { return false }
            guard available >= 4 else { throw fail("stream ends with \(available) stray bytes (truncated?)") }
            let magic = (inBuffer + inPos).loadUnaligned(as: UInt32.self).littleEndian
            if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
                guard available >= 8 else { throw fail("truncated skippable frame") }
                let size = Int((inBuffer + inPos + 4).loadUnaligned(as: UInt32.self).littleEndian)
                try discard(8 + size)
                continue
            }
            guard magic == 0xFD2F_B528 else {
                throw fail(recordNumber == 0 && recordOffset == 0
                    ? "not a tb stream: no zstd frame at the start" : "no zstd frame here (corrupt or not a tb stream)")
            }
            let size = ZSTD_getFrameContentSize(inBuffer + inPos, available)
            if size == ZSTD_CONTENTSIZE_ERROR { throw fail("corrupt zstd frame header") }
            contentSize = size == ZSTD_CONTENTSIZE_UNKNOWN ? nil : size
            let r = ZSTD_DCtx_reset(dctx, ZSTD_reset_session_only)
            if ZSTD_isError(r) != 0 { throw fail("zstd: \(String(cString: ZSTD_getErrorName(r)))") }
            frameDone = false
            return true
        }
    }

    /// After the payload: the frame must end exactly here.
    private func endFrame(_ h: RecordHeader) throws {
        pending = nil
        var extra: UInt8 = 0
        while !frameDone {
            try withUnsafeMutableBytes(of: &extra) { buf in
                try decompress(into: buf, what: "the end of the record", header: h, expectEnd: true)
            }
        }
        recordNumber += 1
    }

    /// Fills `buffer` with decompressed bytes of the current frame.
    private func decompress(into buffer: UnsafeMutableRawBufferPointer, what: String,
                            header: RecordHeader? = nil, expectEnd: Bool = false) throws {
        var output = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
        while output.pos < output.size || (expectEnd && !frameDone) {
            if frameDone {
                throw fail(header.map { "payload is shorter than " + needs($0) } ?? "record ends inside \(what)")
            }
            if inPos == inEnd, try refill() == 0 {
                throw fail("truncated: the stream ends inside this record (in \(what))")
            }
            var input = ZSTD_inBuffer(src: inBuffer, size: inEnd, pos: inPos)
            let r = ZSTD_decompressStream(dctx, &output, &input)
            inPos = input.pos
            if ZSTD_isError(r) != 0 {
                throw fail("corrupt data in \(what): zstd: \(String(cString: ZSTD_getErrorName(r)))")
            }
            if r == 0 { frameDone = true }
            if expectEnd && output.pos > 0 {
                throw fail(header.map { "payload is longer than " + needs($0) } ?? "record is longer than its header says")
            }
            if expectEnd && frameDone { return }
        }
    }

    // MARK: - Input buffer

    /// Makes at least `n` bytes available when the source has them; returns how many are.
    private func ensure(_ n: Int) throws -> Int {
        while inEnd - inPos < n, try refill() > 0 {}
        return inEnd - inPos
    }

    /// Moves unread bytes to the front and reads more; returns bytes added.
    private func refill() throws -> Int {
        if atEOF { return 0 }
        if inPos > 0 {
            let left = inEnd - inPos
            if left > 0 { inBuffer.copyMemory(from: inBuffer + inPos, byteCount: left) }
            consumedBeforeBuffer += inPos
            inPos = 0
            inEnd = left
        }
        let n = try source.read(into: UnsafeMutableRawBufferPointer(start: inBuffer + inEnd, count: inCapacity - inEnd))
        if n == 0 { atEOF = true }
        inEnd += n
        return n
    }

    private func discard(_ count: Int) throws {
        var left = count
        while left > 0 {
            if inPos == inEnd, try refill() == 0 { throw fail("stream ends inside a skippable frame (truncated)") }
            let n = min(left, inEnd - inPos)
            inPos += n
            left -= n
        }
    }

    private func fail(_ message: String) -> Failure {
        Failure(.dataError, message, file: name, record: recordNumber, offset: recordOffset)
    }

    private func needs(_ h: RecordHeader) -> String {
        "the \(h.payloadSize) bytes that shape \(h.shape) of \(h.dtype.rawValue) needs"
    }

    private func printable(_ bytes: ArraySlice<UInt8>) -> String {
        "\"" + bytes.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "\\x" + String($0, radix: 16) }.joined() + "\""
    }
}
