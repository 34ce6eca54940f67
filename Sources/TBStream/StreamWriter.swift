// Writes records as a tensor stream: one standard zstd frame per record.

import CZstd
import Dispatch
import TBCore

public final class StreamWriter {
    /// zstd level used when none is given. On video-like frames (`bin/bench stream`,
    /// 2026-11-23) level 3 wrote as fast as level 1 (234 vs 213 MB/s on one thread) and
    /// made files 20% smaller (25.8% vs 32.1% of the raw size); reading was as fast.
    public static let defaultLevel: Int32 = 3

    public let sink: ByteSink
    public let level: Int32
    /// Background compression threads; 0 compresses in the calling thread.
    public let workers: Int
    public private(set) var recordsWritten = 0
    public private(set) var bytesWritten = 0

    // Records are independent zstd frames, so up to `workers` of them are compressed at
    // once, each with its own context, and written in order as they finish. Memory is
    // bounded by `workers` records and their compressed copies.
    private var idle: [FrameCompressor] = []
    private var inFlight: [Job] = []
    private let queue = DispatchQueue(label: "tb.stream.compress", attributes: .concurrent)

    private final class Job: @unchecked Sendable {
        let compressor: FrameCompressor
        let done = DispatchSemaphore(value: 0)
        var failure: Error?
        init(_ c: FrameCompressor) { compressor = c }
    }

    /// - Parameters:
    ///   - level: zstd compression level (negative levels are faster still).
    ///   - workers: background compression threads; 0 compresses in the calling thread.
    public init(sink: ByteSink, level: Int32 = StreamWriter.defaultLevel, workers: Int = 0) throws {
        let bounds = ZSTD_cParam_getBounds(ZSTD_c_compressionLevel)
        guard ZSTD_isError(bounds.error) == 0, level >= bounds.lowerBound, level <= bounds.upperBound else {
            throw Failure.usage("compression level \(level) is outside \(bounds.lowerBound)...\(bounds.upperBound)")
        }
        self.sink = sink
        self.level = level
        self.workers = max(0, workers)
        for _ in 0..<max(1, self.workers) { idle.append(try FrameCompressor(level: level, name: sink.name)) }
    }

    deinit {
        // Never free a context a worker is still using.
        for job in inFlight { job.done.wait() }
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
            throw Failure(f.status, "record \(recordsWritten + inFlight.count): \(f.message)", file: sink.name)
        }
        if workers == 0 {
            let c = idle[0]
            try c.compress(prefix: prefix, payload: record.payload)
            try emit(c)
            return
        }
        while inFlight.count >= workers { try finishOldest() }
        let job = Job(idle.removeLast())
        let payload = record.payload
        queue.async {
            do { try job.compressor.compress(prefix: prefix, payload: payload) } catch { job.failure = error }
            job.done.signal()
        }
        inFlight.append(job)
    }

    /// Waits for every record given so far to be compressed and written, then flushes the sink.
    /// Call it at the end: records may still be in flight until it returns.
    public func flush() throws {
        while !inFlight.isEmpty { try finishOldest() }
        if let file = sink as? OutputFile { try file.flush() }
    }

    private func finishOldest() throws {
        let job = inFlight.removeFirst()
        job.done.wait()
        idle.append(job.compressor)
        if let failure = job.failure { throw failure }
        try emit(job.compressor)
    }

    private func emit(_ c: FrameCompressor) throws {
        try sink.write(UnsafeRawBufferPointer(start: c.output, count: c.outputCount))
        bytesWritten += c.outputCount
        recordsWritten += 1
    }
}

/// One zstd context and its output buffer: compresses a record into one frame with the
/// size declared (so readers and the index find it) and a checksum (so a flipped bit is
/// an error, not silently wrong pixels).
final class FrameCompressor: @unchecked Sendable {
    private let cctx: OpaquePointer
    private let name: String
    private(set) var output: UnsafeMutableRawPointer
    private var capacity = 0
    private(set) var outputCount = 0

    init(level: Int32, name: String) throws {
        guard let c = ZSTD_createCCtx() else { throw Failure.internalError("zstd: out of memory") }
        cctx = c
        self.name = name
        output = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level))
        try check(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1))
    }

    deinit {
        ZSTD_freeCCtx(cctx)
        output.deallocate()
    }

    func compress(prefix: [UInt8], payload: [UInt8]) throws {
        let total = prefix.count + payload.count
        let bound = ZSTD_compressBound(total)
        if bound > capacity {
            output.deallocate()
            output = UnsafeMutableRawPointer.allocate(byteCount: bound, alignment: 64)
            capacity = bound
        }
        try check(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_only))
        try check(ZSTD_CCtx_setPledgedSrcSize(cctx, UInt64(total)))
        var out = ZSTD_outBuffer(dst: output, size: capacity, pos: 0)
        // With room for the worst case, each call consumes all its input at once.
        try prefix.withUnsafeBytes { p in
            var input = ZSTD_inBuffer(src: p.baseAddress, size: p.count, pos: 0)
            while input.pos < input.size { try check(ZSTD_compressStream2(cctx, &out, &input, ZSTD_e_continue)) }
        }
        try payload.withUnsafeBytes { p in
            var input = ZSTD_inBuffer(src: p.baseAddress, size: p.count, pos: 0)
            while try check(ZSTD_compressStream2(cctx, &out, &input, ZSTD_e_end)) != 0 {}
        }
        outputCount = out.pos
    }

    @discardableResult
    private func check(_ code: Int) throws -> Int {
        if ZSTD_isError(code) != 0 {
            throw Failure(.software, "zstd: \(String(cString: ZSTD_getErrorName(code)))", file: name)
        }
        return code
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
