// Writes records as a tensor stream: one standard zstd frame per record.

import CZstd
import TBCore

public final class StreamWriter {
    /// zstd level used when none is given. Level 1 is about 2.5× faster than 3 on
    /// video-like frames for ~5% larger files (`bin/bench stream`, tb-stream(5)).
    public static let defaultLevel: Int32 = 1

    public let sink: ByteSink
    private let cctx: OpaquePointer
    private let outCapacity = ZSTD_CStreamOutSize()
    private let out: UnsafeMutableRawPointer
    public private(set) var recordsWritten = 0
    public private(set) var bytesWritten = 0

    /// - Parameters:
    ///   - level: zstd compression level (negative levels are faster still).
    ///   - workers: zstd worker threads; 0 compresses in the calling thread.
    public init(sink: ByteSink, level: Int32 = StreamWriter.defaultLevel, workers: Int = 0) throws {
        guard let c = ZSTD_createCCtx() else { throw Failure.internalError("zstd: out of memory") }
        cctx = c
        out = UnsafeMutableRawPointer.allocate(byteCount: outCapacity, alignment: 64)
        self.sink = sink
        let bounds = ZSTD_cParam_getBounds(ZSTD_c_compressionLevel)
        guard ZSTD_isError(bounds.error) == 0, level >= bounds.lowerBound, level <= bounds.upperBound else {
            // Every stored property is set, so deinit frees the context and buffer.
            throw Failure.usage("compression level \(level) is outside \(bounds.lowerBound)...\(bounds.upperBound)")
        }
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level))
        // A checksum per frame turns silent payload corruption into a clear error.
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1))
        if workers > 0 {
            // Fails harmlessly when libzstd was built without threads: stay single-threaded.
            _ = ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, Int32(workers))
        }
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        out.deallocate()
    }

    public func write(_ record: Record) throws {
        guard let expected = Record.byteCount(dtype: record.dtype, shape: record.shape),
              expected == record.payload.count else {
            throw Failure.internalError("record \(recordsWritten): payload of \(record.payload.count) bytes "
                + "does not fit shape \(record.shape) of \(record.dtype.rawValue)")
        }
        let prefix: [UInt8]
        do {
            prefix = try StreamWriter.prefix(of: record)
        } catch let f as Failure {
            throw Failure(f.status, "record \(recordsWritten): \(f.message)", file: sink.name)
        }

        try check(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only))
        // Declaring the size puts it in the frame header, where readers and the index find it.
        try check(ZSTD_CCtx_setPledgedSrcSize(cctx, UInt64(prefix.count + record.payload.count)))
        try prefix.withUnsafeBytes { try compress($0, end: false) }
        try record.payload.withUnsafeBytes { try compress($0, end: true) }
        recordsWritten += 1
    }

    /// Writes out what is buffered in the sink.
    public func flush() throws {
        if let file = sink as? OutputFile { try file.flush() }
    }

    private func compress(_ bytes: UnsafeRawBufferPointer, end: Bool) throws {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while true {
            var output = ZSTD_outBuffer(dst: out, size: outCapacity, pos: 0)
            let remaining = ZSTD_compressStream2(cctx, &output, &input, end ? ZSTD_e_end : ZSTD_e_continue)
            try check(remaining)
            if output.pos > 0 {
                try sink.write(UnsafeRawBufferPointer(start: out, count: output.pos))
                bytesWritten += output.pos
            }
            if end ? remaining == 0 : input.pos == input.size { return }
        }
    }

    private func check(_ code: Int) throws {
        if ZSTD_isError(code) != 0 {
            throw Failure(.software, "zstd: \(String(cString: ZSTD_getErrorName(code)))", file: sink.name)
        }
    }
}

extension StreamWriter {
    /// Magic, header length, header and padding: what precedes the payload.
    static func prefix(of record: Record) throws -> [UInt8] {
        let header = Array(record.headerJSON.text.utf8)
        guard header.count <= RecordLayout.maxHeaderLength else {
            throw Failure.data("header of \(header.count) bytes exceeds 1 MiB")
        }
        var prefix = RecordLayout.magic
        withUnsafeBytes(of: UInt32(header.count).littleEndian) { prefix.append(contentsOf: $0) }
        prefix += header
        prefix += [UInt8](repeating: 0, count: RecordLayout.padding(headerLength: header.count))
        return prefix
    }

    /// A whole record uncompressed, as `zstd -d` shows it.
    public static func rawBytes(of record: Record) throws -> [UInt8] {
        try prefix(of: record) + record.payload
    }

    /// One zstd frame holding `raw` as it is, with or without its size in the frame
    /// header: how tests and tools build records that StreamWriter would refuse to write.
    static func frame(raw: [UInt8], declareSize: Bool = true, level: Int32 = 1) throws -> [UInt8] {
        guard let c = ZSTD_createCCtx() else { throw Failure.internalError("zstd: out of memory") }
        defer { ZSTD_freeCCtx(c) }
        _ = ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, level)
        _ = ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1)
        _ = ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, declareSize ? 1 : 0)
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(raw.count))
        let n = out.withUnsafeMutableBytes { o in
            raw.withUnsafeBytes { i in ZSTD_compress2(c, o.baseAddress, o.count, i.baseAddress, i.count) }
        }
        if ZSTD_isError(n) != 0 { throw Failure.internalError("zstd: \(String(cString: ZSTD_getErrorName(n)))") }
        return Array(out[0..<n])
    }
}

extension StreamWriter {
    /// "zstd 1.5.4", for --version.
    public static var zstdVersion: String { "zstd " + String(cString: ZSTD_versionString()) }
}
