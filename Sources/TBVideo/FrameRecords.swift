// A decoded video as `frames` records (tb-stream(5)): chunks of at most N frames, so no
// program downstream holds a whole long video, each header saying which video, which
// chunk and when its first frame is.

import TBCore
import TBStream

/// Cuts a VideoReader's frames into `frames` records.
public enum FrameRecords {
    /// Default chunk: four seconds of frames (one frame for a still image), but never more
    /// than `maxBytes` of pixels.
    public static func defaultChunk(fps: Double?, width: Int, height: Int, maxBytes: Int = 24 << 20) -> Int {
        let byBytes = max(1, maxBytes / max(1, width * height * 3))
        let bySeconds = fps.map { max(1, Int((4 * $0).rounded())) } ?? 1
        return min(byBytes, bySeconds)
    }

    /// What one input gave.
    public struct Summary: Equatable, Sendable {
        public var frames = 0
        public var chunks = 0
    }

    /// Decodes `reader` to the end, handing each chunk of up to `chunk` frames to `emit`.
    /// `header` holds the keys every chunk carries after kind/layout (id, label, ...).
    public static func decode(_ reader: VideoReader, chunk: Int, header: JSONObject,
                              emit: (Record) throws -> Void) throws -> Summary {
        precondition(chunk >= 1, "FrameRecords: chunk must be at least 1")
        let frameBytes = reader.width * reader.height * 3
        var pixels: [UInt8] = []
        pixels.reserveCapacity(frameBytes * chunk)
        var t0 = 0.0, inChunk = 0
        var summary = Summary()
        let upright = reader.info.rotation % 180 == 0 ? [reader.info.width, reader.info.height]
                                                      : [reader.info.height, reader.info.width]
        func flush() throws {
            guard inChunk > 0 else { return }
            var h = JSONObject([("layout", .string("THWC"))])
            for (k, v) in header { h[k] = v }
            if let fps = reader.outputFrameRate { h["fps"] = .double(rounded(fps, 6)) }
            h["t0"] = .double(rounded(t0, 6))
            h["index"] = JSON(summary.chunks)
            h["source_size"] = JSON(upright)
            let record = Record(kind: "frames", dtype: .u8, shape: [inChunk, reader.height, reader.width, 3],
                                header: h, payload: pixels)
            try emit(record)
            summary.chunks += 1
            pixels.removeAll(keepingCapacity: true)
            inChunk = 0
        }
        while let frame = try reader.next() {
            if inChunk == 0 { t0 = frame.time }
            pixels.append(contentsOf: frame.pixels)
            inChunk += 1
            summary.frames += 1
            if inChunk == chunk { try flush() }
        }
        try flush()
        return summary
    }

    private static func rounded(_ x: Double, _ digits: Int) -> Double {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (x * scale).rounded() / scale
    }
}
