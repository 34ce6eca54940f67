// tb-mix's sampler: batches of augmented clips drawn from labeled and unlabeled videos.
// Videos are read through VideoTable (random access by stream index), each pass over a
// pool is a fresh shuffle with fresh clip positions, and every random choice comes from
// one seeded generator in a fixed order, so a seed gives the same batches.

import TBCore
import TBStream
import TBVideo

/// The role of a pool of videos in a batch.
public enum Role: String, Sendable {
    case labeled, unlabeled
}

/// What each sample is made of.
public enum SampleStructure: Equatable, Sendable {
    /// One clip of `shape` at a random position.
    case clip(ClipShape)
    /// TimeBalance pretraining: a long clip and `shorts` short clips of `length` frames over
    /// one random span, each augmented twice: views long·a, long·b, short1·a, short1·b, ...
    case pretraining(shorts: Int, length: Int)

    /// Clips per sample.
    public var views: Int {
        switch self {
        case .clip: return 1
        case .pretraining(let s, _): return 2 * (1 + s)
        }
    }

    /// Frames per clip.
    public var length: Int {
        switch self {
        case .clip(let s): return s.length
        case .pretraining(_, let t): return t
        }
    }
}

/// Targets given by a label file, by id.
public struct Targets: Sendable {
    public var labels: [String: Int] = [:]
    public var soft: [String: [Double]] = [:]
    /// Where each id was given (file, line), for messages.
    public var places: [String: (file: String, line: Int)] = [:]
    public init() {}

    /// Hard labels and soft targets from JSON lines (tb-labels(5), tb-score's output).
    public static func load(path: String) throws -> Targets {
        var t = Targets()
        let reader = JSONLinesReader(lines: try LineReader(path: path))
        var softLength: (count: Int, line: Int)?
        while let o = try reader.next() {
            let line = reader.lineNumber
            guard let id = o["id"]?.stringValue else {
                throw Failure(.dataError, "no \"id\"", file: path, line: line)
            }
            // Two lines for one video would make its target depend on which came last.
            if let first = t.places[id] {
                throw Failure(.dataError, "duplicate id \"\(id)\" (first on line \(first.line))", file: path, line: line)
            }
            if let l = o["label"], l != .null {
                guard let v = l.intValue, v >= 0, v < LabelSet.maxClasses else {
                    throw Failure(.dataError, "label of \"\(id)\" is not a class number", file: path, line: line)
                }
                t.labels[id] = v
            }
            t.places[id] = (path, line)
            if let s = o["soft"], s != .null {
                let v = s.arrayValue?.compactMap(\.doubleValue) ?? []
                guard !v.isEmpty, v.count == s.arrayValue?.count, v.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
                    throw Failure(.dataError, "soft of \"\(id)\" is not an array of non-negative numbers", file: path, line: line)
                }
                // Every soft target is a distribution over the same classes.
                if let first = softLength, first.count != v.count {
                    throw Failure(.dataError, "soft of \"\(id)\" has \(v.count) values, but line \(first.line)'s has \(first.count)",
                                  file: path, line: line)
                }
                softLength = softLength ?? (v.count, line)
                t.soft[id] = v
            }
        }
        return t
    }
}

/// One pool: the videos of some stream files with one role.
final class Pool {
    let role: Role
    var tables: [VideoTable] = []
    var items: [(table: Int, video: Int)] = []
    private var order: [Int] = []
    private var next = 0

    init(role: Role, paths: [String]) throws {
        self.role = role
        for p in paths {
            let t = try VideoTable(path: p)
            for v in t.videos.indices { items.append((tables.count, v)) }
            tables.append(t)
        }
    }

    var count: Int { items.count }

    /// The next video of the current pass; a new shuffled pass when one ends.
    func draw<G: RandomNumberGenerator>(using g: inout G) -> (table: Int, video: Int) {
        if next >= order.count {
            order = Array(0..<items.count)
            order.shuffle(using: &g)
            next = 0
        }
        defer { next += 1 }
        return items[order[next]]
    }
}

/// Makes `sample` records.
public final class Sampler {
    public struct Options: Sendable {
        public var labeledPerBatch: Int
        public var unlabeledPerBatch: Int
        public var structure: SampleStructure
        public var augment: AugmentOptions
        public var seed: UInt64

        public init(labeledPerBatch: Int, unlabeledPerBatch: Int, structure: SampleStructure, augment: AugmentOptions,
                    seed: UInt64) {
            self.labeledPerBatch = labeledPerBatch
            self.unlabeledPerBatch = unlabeledPerBatch
            self.structure = structure
            self.augment = augment
            self.seed = seed
        }
    }

    /// Settable between batches (tb-mix sizes the augmentation once the videos are indexed).
    public var options: Options
    private let labeled: Pool
    private let unlabeled: Pool
    private let targets: Targets
    private var generator: SeededGenerator
    public private(set) var step = 0

    /// Fails with `.dataError` when a pool that a batch draws from is empty, a labeled video
    /// has no label, or the videos' frame sizes differ.
    public init(labeled: [String], unlabeled: [String], targets: Targets = Targets(), options: Options) throws {
        self.options = options
        self.labeled = try Pool(role: .labeled, paths: labeled)
        self.unlabeled = try Pool(role: .unlabeled, paths: unlabeled)
        self.targets = targets
        generator = SeededGenerator(seed: options.seed)
        if options.labeledPerBatch > 0 && self.labeled.count == 0 {
            throw Failure(.dataError, "no labeled videos to draw \(options.labeledPerBatch) per batch from",
                          file: labeled.isEmpty ? nil : labeled.joined(separator: ", "))
        }
        if options.unlabeledPerBatch > 0 && self.unlabeled.count == 0 {
            throw Failure(.dataError, "no unlabeled videos to draw \(options.unlabeledPerBatch) per batch from",
                          file: unlabeled.isEmpty ? nil : unlabeled.joined(separator: ", "))
        }
        // Targets for videos no stream has are a mistake (another split, another list).
        var known = Set<String>()
        for pool in [self.labeled, self.unlabeled] {
            for (t, v) in pool.items { known.insert(pool.tables[t].videos[v].id) }
        }
        if let (id, place) = targets.places.filter({ !known.contains($0.key) }).min(by: { $0.value.line < $1.value.line }) {
            throw Failure(.dataError, "\"\(id)\" is in no stream", file: place.file, line: place.line)
        }
        for pool in [self.labeled, self.unlabeled] where pool.role == .labeled {
            for (t, v) in pool.items {
                let video = pool.tables[t].videos[v]
                if targets.labels[video.id] == nil && video.label == nil {
                    throw Failure(.dataError, "labeled video \"\(video.id)\" has no label (give --labels)",
                                  file: pool.tables[t].index.name, record: video.records[0])
                }
            }
        }
    }

    /// Batches in one epoch: a pass over the labeled videos (over the unlabeled ones when
    /// batches hold none), whole batches only, at least one.
    public var stepsPerEpoch: Int {
        options.labeledPerBatch > 0 ? max(1, labeled.count / options.labeledPerBatch)
                                    : max(1, unlabeled.count / max(1, options.unlabeledPerBatch))
    }

    /// The next batch as a `sample` record: u8 [B, T, S, S, 3] (one clip per sample) or
    /// [B, V, T, S, S, 3] (pretraining views).
    public func next(epoch: Int) throws -> Record {
        var ids: [JSON] = [], roles: [JSON] = [], labels: [JSON] = [], softs: [JSON] = []
        var payload: [UInt8] = []
        var anySoft = false
        var frameShape: [Int]?
        for (pool, count) in [(labeled, options.labeledPerBatch), (unlabeled, options.unlabeledPerBatch)] {
            for _ in 0..<count {
                let (t, v) = pool.draw(using: &generator)
                let table = pool.tables[t]
                let video = table.videos[v]
                let shape = video.kind == "frames" ? video.itemShape : Array(video.itemShape.dropFirst())
                if let f = frameShape, f != shape {
                    throw Failure(.dataError, "video \"\(video.id)\" has \(shape[1])x\(shape[0]) frames, others "
                                  + "\(f[1])x\(f[0]): decode every input at one size", file: table.index.name,
                                  record: video.records[0])
                }
                frameShape = shape
                try appendSample(table: table, video: v, into: &payload)
                ids.append(.string(video.id))
                roles.append(.string(pool.role.rawValue))
                let label = pool.role == .labeled ? (targets.labels[video.id] ?? video.label) : nil
                labels.append(label.map { JSON($0) } ?? .null)
                if let s = targets.soft[video.id] {
                    softs.append(JSON(s))
                    anySoft = true
                } else {
                    softs.append(.null)
                }
            }
        }
        let b = ids.count, s = options.augment.size, t = options.structure.length
        var header = JSONObject()
        var shape: [Int]
        switch options.structure {
        case .clip:
            header["layout"] = "NTHWC"
            shape = [b, t, s, s, 3]
        case .pretraining:
            header["layout"] = "NVTHWC"
            shape = [b, options.structure.views, t, s, s, 3]
        }
        header["ids"] = .array(ids)
        header["roles"] = .array(roles)
        header["labels"] = .array(labels)
        if anySoft { header["soft"] = .array(softs) }
        header["epoch"] = JSON(epoch)
        header["step"] = JSON(step)
        step += 1
        return Record(kind: "sample", dtype: .u8, shape: shape, header: header, payload: payload)
    }

    /// Appends one sample's clips (all views), augmented, to `payload`.
    private func appendSample(table: VideoTable, video v: Int, into payload: inout [UInt8]) throws {
        let video = table.videos[v]
        var clips: [[UInt8]] = []
        let (h, w) = video.kind == "frames" ? (video.itemShape[0], video.itemShape[1]) : (video.itemShape[1], video.itemShape[2])
        switch options.structure {
        case .clip(let shape):
            if video.kind == "frames" {
                let start = ClipPositions.random(frames: video.total, shape: shape, using: &generator)
                clips.append(try table.frames(of: v, indices: shape.indices(start: start)))
            } else {
                guard video.itemShape[0] == shape.length else {
                    throw Failure(.dataError, "clips of \"\(video.id)\" have \(video.itemShape[0]) frames, not --len "
                                  + "\(shape.length)", file: table.index.name, record: video.records[0])
                }
                clips.append(try table.clip(of: v, number: Int.random(in: 0..<video.total, using: &generator)))
            }
        case .pretraining(let shorts, let length):
            guard video.kind == "frames" else {
                throw Failure(.dataError, "pretraining samples are drawn from frames, and \"\(video.id)\" holds clips",
                              file: table.index.name, record: video.records[0])
            }
            let span = ClipShape(length: shorts * length)
            let start = ClipPositions.random(frames: video.total, shape: span, using: &generator)
            for row in ClipPositions.pretraining(start: start, shorts: shorts, length: length) {
                let frames = try table.frames(of: v, indices: row)
                clips.append(frames)
                clips.append(frames)  // the second augmentation of the same clip
            }
        }
        let t = options.structure.length, s = options.augment.size
        for clip in clips {
            let a = options.augment.draw(width: w, height: h, using: &generator)
            let start = payload.count
            payload.append(contentsOf: repeatElement(0, count: t * s * s * 3))
            clip.withUnsafeBufferPointer { src in
                payload.withUnsafeMutableBufferPointer { dst in
                    a.apply(frames: t, width: w, height: h, source: src.baseAddress!, destination: dst.baseAddress! + start)
                }
            }
        }
    }
}

extension Sampler {
    /// The shorter side of the first video's frames: the output size when none is given.
    public func shorterSide() throws -> Int {
        for pool in [labeled, unlabeled] {
            if let (t, v) = pool.items.first {
                let video = pool.tables[t].videos[v]
                let hw = video.kind == "frames" ? video.itemShape.prefix(2) : video.itemShape.dropFirst().prefix(2)
                return hw.min() ?? 1
            }
        }
        throw Failure(.dataError, "no videos in the streams")
    }
}
