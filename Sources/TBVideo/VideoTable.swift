// The videos of a frames or clip stream file, found from record headers alone: which
// records hold each video's chunks and how many frames each has. With it a sampler reads
// any clip of any video by decompressing only the chunks that clip touches, so memory is
// bounded by the batch, never by the data set.

import TBCore
import TBStream

public final class VideoTable {
    public struct Video: Equatable, Sendable {
        public var id: String
        public var label: Int?
        /// "frames" (chunks of consecutive frames) or "clip" (records of N clips each).
        public var kind: String
        /// The first record's header (the keys a sample carries on: label, class, fps, ...).
        public var header: JSONObject
        /// Record numbers of the video's chunks (frames) or clip records, in order.
        public var records: [Int]
        /// Frames in each of those records (frames) or clips in each (clip).
        public var counts: [Int]
        /// [H, W, 3] for frames; [T, H, W, 3] for clips.
        public var itemShape: [Int]

        /// All frames (frames) or all clips (clip) of the video.
        public var total: Int { counts.reduce(0, +) }
    }

    public let index: StreamIndex
    public let videos: [Video]
    private var cachedRecord: (number: Int, record: Record)?

    /// Indexes `path`: a record continues the previous video when it has the same id and the
    /// next chunk index (frames) or the same id (clips).
    public init(path: String) throws {
        let index = try StreamIndex(path: path)
        self.index = index
        var videos: [Video] = []
        for i in 0..<index.count {
            let h = try index.header(i)
            func fail(_ m: String) -> Failure { Failure(.dataError, m, file: index.name, record: i, offset: index.entries[i].offset) }
            let kind = h.header["kind"]?.stringValue ?? ""
            let id = h.header["id"]?.stringValue ?? ""
            let chunk = h.header["index"]?.intValue ?? 0
            switch kind {
            case "frames":
                guard h.dtype == .u8, h.shape.count == 4, h.shape[3] == 3, h.shape.allSatisfy({ $0 > 0 }) else {
                    throw fail("frames must be u8 [T, H, W, 3], not \(h.dtype.rawValue) \(h.shape)")
                }
            case "clip":
                guard h.dtype == .u8, h.shape.count == 5, h.shape[4] == 3, h.shape.allSatisfy({ $0 > 0 }) else {
                    throw fail("clips must be u8 [N, T, H, W, 3], not \(h.dtype.rawValue) \(h.shape)")
                }
            default:
                throw fail("a \(kind.isEmpty ? "record without kind" : kind) record, not frames or clip")
            }
            let item = Array(h.shape.dropFirst())
            if var last = videos.last, last.id == id, last.kind == kind,
               kind == "clip" || chunk == last.records.count {
                guard last.itemShape == item else {
                    throw fail("\(kind) of \(item) do not match the video's earlier \(last.itemShape)")
                }
                last.records.append(i)
                last.counts.append(h.shape[0])
                videos[videos.count - 1] = last
                continue
            }
            if kind == "frames" && chunk != 0 {
                throw fail("chunk \(chunk) of \"\(id)\" without the chunks before it")
            }
            var header = JSONObject()
            for (k, v) in h.header where !["kind", "layout", "index", "t0", "starts", "window"].contains(k) { header[k] = v }
            videos.append(Video(id: id, label: h.header["label"]?.intValue, kind: kind, header: header, records: [i],
                                counts: [h.shape[0]], itemShape: item))
        }
        self.videos = videos
    }

    /// Frames `indices` of frames-video `v` (each clamped to the video), as consecutive
    /// [H, W, 3] frames. Reads each chunk it needs once per call, keeping the last one.
    public func frames(of v: Int, indices: [Int]) throws -> [UInt8] {
        let video = videos[v]
        precondition(video.kind == "frames", "VideoTable.frames: video \(v) holds clips")
        let frameBytes = video.itemShape.reduce(1, *)
        var out = [UInt8]()
        out.reserveCapacity(indices.count * frameBytes)
        let total = video.total
        for raw in indices {
            var i = min(max(raw, 0), total - 1)
            var chunk = 0
            while i >= video.counts[chunk] {
                i -= video.counts[chunk]
                chunk += 1
            }
            let record = try load(video.records[chunk])
            out.append(contentsOf: record.payload[(i * frameBytes)..<((i + 1) * frameBytes)])
        }
        return out
    }

    /// Clip `k` (counting over all of the video's clip records) of clip-video `v`, [T, H, W, 3].
    public func clip(of v: Int, number k: Int) throws -> [UInt8] {
        let video = videos[v]
        precondition(video.kind == "clip", "VideoTable.clip: video \(v) holds frames")
        let clipBytes = video.itemShape.reduce(1, *)
        var i = min(max(k, 0), video.total - 1)
        var r = 0
        while i >= video.counts[r] {
            i -= video.counts[r]
            r += 1
        }
        let record = try load(video.records[r])
        return Array(record.payload[(i * clipBytes)..<((i + 1) * clipBytes)])
    }

    private func load(_ number: Int) throws -> Record {
        if let c = cachedRecord, c.number == number { return c.record }
        let r = try index.record(number)
        cachedRecord = (number, r)
        return r
    }
}
