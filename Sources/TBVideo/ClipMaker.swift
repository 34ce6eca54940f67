// tb-clip's engine: `frames` records in (the chunks of each video, in order), `clip`
// records out. Modes that place clips from the start of a video (dense, pretraining,
// windows, frames at a rate) stream: a clip is written as soon as its frames have arrived,
// and frames no later clip needs are dropped, so memory is bounded by a clip plus a chunk.
// Modes that need the video's length (evenly spread clips, TSN segments) hold one video.

import TBCore
import TBStream

/// How clips are placed.
public enum ClipMode: Equatable, Sendable {
    /// Clips of `shape` every `step` frames.
    case dense(ClipShape, step: Int)
    /// `count` clips of `shape` spread evenly over the video.
    case evenly(ClipShape, count: Int)
    /// TSN: `count` segments, `length` frames from the middle of each, in one record.
    case segments(count: Int, length: Int)
    /// Windows of `seconds` every `hop` seconds; all their frames, or `length` spread evenly.
    case windows(seconds: Double, hop: Double, length: Int?)
    /// One frame every `seconds`.
    case every(seconds: Double)
    /// TimeBalance pretraining: a long clip and `shorts` short clips of `length` frames over
    /// the same span, one record per span, spans every `step` frames.
    case pretraining(shorts: Int, length: Int, step: Int)

    var needsWholeVideo: Bool {
        switch self {
        case .evenly, .segments: return true
        default: return false
        }
    }
}

/// Counts of a tb-clip run.
public struct ClipCounts: Equatable, Sendable {
    public var videos = 0
    public var clips = 0
    /// Videos that gave no clip (too short with `pad` off, or no frames).
    public var videosWithoutClips = 0
}

/// Turns the frames records of a stream into clip records.
public final class ClipMaker {
    public let mode: ClipMode
    /// Pad clips that run past the end with the last frame; off: do not write them.
    public let pad: Bool
    public private(set) var counts = ClipCounts()

    // The current video.
    private var id: String?
    private var header = JSONObject()
    private var frameShape: [Int] = []      // H, W, C
    private var frameBytes = 0
    private var fps: Double?
    private var videoT0 = 0.0
    private var nextChunk = 0
    private var buffer: [UInt8] = []        // frames base ..< base + held
    private var base = 0
    private var held = 0
    private var nextClip = 0                // streaming modes: the next clip number to place
    private var clipsOfVideo = 0

    public init(mode: ClipMode, pad: Bool = true) {
        self.mode = mode
        self.pad = pad
    }

    /// Takes the next frames record; `emit` receives every clip that became complete.
    /// `place` names the record in errors.
    public func add(_ record: Record, place: (file: String, record: Int), emit: (Record) throws -> Void) throws {
        func fail(_ m: String) -> Failure { Failure(.dataError, m, file: place.file, record: place.record) }
        guard record.kind == "frames" else {
            throw fail("a \(record.kind ?? "record without kind"), not frames: tb-clip reads tb-decode's output")
        }
        guard record.dtype == .u8, record.shape.count == 4, record.shape[3] == 3, record.shape.allSatisfy({ $0 > 0 }) else {
            throw fail("frames must be u8 [T, H, W, 3], not \(record.dtype.rawValue) \(record.shape)")
        }
        let rid = record.id ?? ""
        let chunk = record.index ?? 0
        if rid != id || chunk == 0 {
            try finishVideo(emit: emit)
            try startVideo(record, id: rid, fail: fail)
        } else {
            guard Array(record.shape.dropFirst()) == frameShape else {
                throw fail("frames of \(record.shape.dropFirst()) do not match the video's earlier \(frameShape)")
            }
        }
        guard chunk == nextChunk else {
            throw fail("chunk \(chunk) of \"\(rid)\" follows chunk \(nextChunk - 1): chunks are missing or out of order")
        }
        nextChunk += 1
        buffer.append(contentsOf: record.payload)
        held += record.shape[0]
        if !mode.needsWholeVideo { try emitReady(emit: emit) }
    }

    /// Ends the stream: the last video's remaining clips.
    public func finish(emit: (Record) throws -> Void) throws {
        try finishVideo(emit: emit)
    }

    // MARK: videos

    private func startVideo(_ record: Record, id rid: String, fail: (String) -> Failure) throws {
        id = rid
        frameShape = Array(record.shape.dropFirst())
        frameBytes = frameShape.reduce(1, *)
        fps = record.header["fps"]?.doubleValue.flatMap { $0 > 0 ? $0 : nil }
        videoT0 = record.header["t0"]?.doubleValue ?? 0
        header = JSONObject()
        for (k, v) in record.header where !["kind", "layout", "index", "t0"].contains(k) { header[k] = v }
        nextChunk = 0
        buffer.removeAll(keepingCapacity: true)
        base = 0
        held = 0
        nextClip = 0
        clipsOfVideo = 0
        counts.videos += 1
        if case .every = mode, fps == nil { throw fail("--every needs frames with an fps in their header") }
        if case .windows = mode, fps == nil { throw fail("--window needs frames with an fps in their header") }
    }

    private func finishVideo(emit: (Record) throws -> Void) throws {
        guard id != nil else { return }
        let n = base + held
        switch mode {
        case .evenly(let shape, let count):
            if n >= shape.span || pad {
                let rows = ClipPositions.evenly(frames: n, shape: shape, count: count).map { shape.indices(start: $0, frames: n) }
                try write(rows, stride: shape.stride, emit: emit)
            }
        case .segments(let count, let length):
            if n >= count * length || pad {
                try write(ClipPositions.segments(frames: n, count: count, length: length), stride: 1, emit: emit)
            }
        default:
            try emitReady(emit: emit)
            // Clips that run past the end: windows are padded (the tail of an untrimmed video
            // is content too); dense and pretraining clips only when the video is shorter
            // than one clip, so that a short video still gives something.
            while let rows = streamingClip(nextClip), let first = rows.first?.first, first < n {
                let padThis: Bool
                if case .windows = mode { padThis = pad } else { padThis = pad && clipsOfVideo == 0 }
                guard padThis else { break }
                try write(rows.map { $0.map { min($0, n - 1) } }, stride: 1, emit: emit)
                nextClip += 1
                if case .windows = mode { continue }
                break
            }
        }
        if clipsOfVideo == 0 { counts.videosWithoutClips += 1 }
        id = nil
    }

    // MARK: streaming modes

    /// Frame indices of streaming clip `c` (rows × frames), before clamping.
    private func streamingClip(_ c: Int) -> [[Int]]? {
        switch mode {
        case .dense(let shape, let step):
            return [shape.indices(start: c * step)]
        case .pretraining(let shorts, let length, let step):
            return ClipPositions.pretraining(start: c * step, shorts: shorts, length: length)
        case .every(let seconds):
            guard let fps else { return nil }
            return [[Int((Double(c) * seconds * fps + 1e-6).rounded(.down))]]
        case .windows(let seconds, let hop, let length):
            guard let fps else { return nil }
            let start = Int((Double(c) * hop * fps + 1e-6).rounded(.down))
            let count = max(1, Int((seconds * fps).rounded()))
            guard let length else { return [Array(start..<start + count)] }
            return [(0..<length).map { start + Int((Double($0) + 0.5) * Double(count) / Double(length)) }]
        case .evenly, .segments:
            return nil
        }
    }

    /// Writes every streaming clip whose frames have all arrived, then drops frames that no
    /// later clip needs.
    private func emitReady(emit: (Record) throws -> Void) throws {
        while let rows = streamingClip(nextClip), let last = rows.flatMap({ $0 }).max(), last < base + held {
            let stride: Int
            if case .dense(let shape, _) = mode { stride = shape.stride } else { stride = 1 }
            try write(rows, stride: stride, emit: emit)
            nextClip += 1
        }
        guard let rows = streamingClip(nextClip), let keep = rows.flatMap({ $0 }).min(), keep > base else { return }
        let drop = min(keep - base, held)
        buffer.removeFirst(drop * frameBytes)
        base += drop
        held -= drop
    }

    // MARK: records

    /// One clip record of `rows` (each a list of frame indices of this video, all held).
    private func write(_ rows: [[Int]], stride: Int, emit: (Record) throws -> Void) throws {
        guard let length = rows.first?.count, !rows.isEmpty else { return }
        var payload = [UInt8]()
        payload.reserveCapacity(rows.count * length * frameBytes)
        buffer.withUnsafeBufferPointer { b in
            for row in rows {
                for i in row {
                    let o = (i - base) * frameBytes
                    payload.append(contentsOf: b[o..<o + frameBytes])
                }
            }
        }
        var h = JSONObject([("layout", .string("NTHWC"))])
        for (k, v) in header { h[k] = v }
        h["index"] = JSON(clipsOfVideo)
        let first = rows[0][0]
        h["t0"] = .double(((videoT0 + (fps.map { Double(first) / $0 } ?? 0)) * 1e6).rounded() / 1e6)
        h["starts"] = JSON(rows.map { $0[0] })
        if stride > 1 { h["stride"] = JSON(stride) }
        if case .windows(let seconds, let hop, _) = mode {
            // Streaming clips are written before nextClip moves on: this is window nextClip.
            let start = videoT0 + Double(nextClip) * hop
            h["window"] = JSON([(start * 1e6).rounded() / 1e6, ((start + seconds) * 1e6).rounded() / 1e6])
        }
        try emit(Record(kind: "clip", dtype: .u8, shape: [rows.count, length] + frameShape, header: h, payload: payload))
        clipsOfVideo += 1
        counts.clips += 1
    }
}
