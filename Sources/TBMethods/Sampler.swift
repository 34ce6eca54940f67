// tb-mix's sampler: batches of augmented clips drawn from labeled and unlabeled videos.
// Videos are read through VideoTable (random access by stream index), each pass over a
// pool is a fresh shuffle with fresh clip positions, and every random choice comes from
// one seeded generator in a fixed order, so a seed gives the same batches.

import Foundation
import TBCore
import TBStream
import TBVideo

/// The role of a pool of videos in a batch.
public enum Role: String, Sendable {
    /// Target videos with labels, and without.
    case labeled, unlabeled
    /// Auxiliary labeled data (OmniSource's web images and videos): labels are the searched
    /// classes, drawn with their own class resampling, their loss kept apart.
    case aux
}

/// Mixup (Zhang et al.): a sample's input and target become λ·own + (1 − λ)·partner's,
/// λ ~ Beta(α, α) per sample. The record carries partner and λ; tb-train mixes the
/// float inputs, so the stream itself stays exact.
public struct MixupOptions: Equatable, Sendable {
    public var alpha: Double
    /// Partners from the other source (target ↔ auxiliary) instead of the same one.
    public var across: Bool
    public init(alpha: Double, across: Bool = false) {
        self.alpha = alpha
        self.across = across
    }
}

/// OmniSource's class resampling of auxiliary data: class c is drawn with probability
/// ∝ min(N_c, cap)^power, then one of its videos in a shuffled pass of that class.
public struct Resampling: Equatable, Sendable {
    public var power: Double
    public var cap: Int?
    public init(power: Double = 1, cap: Int? = nil) {
        self.power = power
        self.cap = cap
    }

    /// Each class's share of the draws, from its video count.
    public func weights(counts: [Int]) -> [Double] {
        let w = counts.map { n in n == 0 ? 0 : Foundation.pow(Double(min(n, cap ?? n)), power) }
        let total = w.reduce(0, +)
        return w.map { $0 / total }
    }
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
    /// Ids a teacher did not keep (`"keep": false`, tb-score's filtering): whole videos,
    /// and single clip records of a video by their `index`.
    public var dropped: Set<String> = []
    public var droppedRecords: [String: Set<Int>] = [:]
    public init() {}

    /// Whether the clip record `index` of video `id` is kept.
    public func keeps(_ id: String, index: Int?) -> Bool {
        if dropped.contains(id) { return false }
        if let index, droppedRecords[id]?.contains(index) == true { return false }
        return true
    }

    /// Hard labels and soft targets from JSON lines (tb-labels(5), tb-score's output).
    public static func load(path: String) throws -> Targets {
        var t = Targets()
        let reader = JSONLinesReader(lines: try LineReader(path: path))
        var softLength: (count: Int, line: Int)?
        var indexed: [String: Set<Int>] = [:]
        while let o = try reader.next() {
            let line = reader.lineNumber
            guard let id = o["id"]?.stringValue else {
                throw Failure(.dataError, "no \"id\"", file: path, line: line)
            }
            // Two lines for one video would make its target depend on which came last; lines
            // for distinct clip records of a video (tb-score on windows: "index") are fine as
            // long as they agree on the label.
            let index = o["index"].flatMap { $0 == .null ? nil : $0.intValue }
            if let first = t.places[id] {
                guard let index, let seen = indexed[id], !seen.contains(index), o["soft"] == nil || o["soft"] == .null,
                      t.soft[id] == nil else {
                    throw Failure(.dataError, "duplicate id \"\(id)\" (first on line \(first.line))", file: path, line: line)
                }
            }
            if let index { indexed[id, default: []].insert(index) }
            if let l = o["label"], l != .null {
                guard let v = l.intValue, v >= 0, v < LabelSet.maxClasses else {
                    throw Failure(.dataError, "label of \"\(id)\" is not a class number", file: path, line: line)
                }
                if let other = t.labels[id], other != v {
                    throw Failure(.dataError, "label \(v) of \"\(id)\", but line \(t.places[id]!.line) gives \(other)",
                                  file: path, line: line)
                }
                t.labels[id] = v
            }
            if t.places[id] == nil { t.places[id] = (path, line) }
            if let k = o["keep"], k != .null {
                guard let keep = k.boolValue else {
                    throw Failure(.dataError, "keep of \"\(id)\" is not true or false", file: path, line: line)
                }
                if !keep {
                    if let i = o["index"], i != .null {
                        guard let index = i.intValue else {
                            throw Failure(.dataError, "index of \"\(id)\" is not a number", file: path, line: line)
                        }
                        t.droppedRecords[id, default: []].insert(index)
                    } else {
                        t.dropped.insert(id)
                    }
                }
            }
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

    /// The clips each clip video may give when a teacher dropped some of its records, by
    /// item; absent: all of them.
    var allowedClips: [Int: [Int]] = [:]
    /// Videos and clip records left out by `keep: false`.
    private(set) var droppedVideos = 0, droppedRecords = 0

    init(role: Role, paths: [String], targets: Targets = Targets()) throws {
        self.role = role
        for p in paths {
            let t = try VideoTable(path: p)
            for (v, video) in t.videos.enumerated() {
                guard targets.keeps(video.id, index: nil) else { droppedVideos += 1; continue }
                if video.kind == "clip", let gone = targets.droppedRecords[video.id], !gone.isEmpty {
                    // Clip numbers of the records whose header index was kept.
                    var allowed: [Int] = [], first = 0
                    for (r, count) in zip(video.records, video.counts) {
                        let index = try t.index.header(r).header["index"]?.intValue
                        if index.map({ !gone.contains($0) }) ?? true {
                            allowed += first..<first + count
                        } else {
                            droppedRecords += 1
                        }
                        first += count
                    }
                    guard !allowed.isEmpty else { droppedVideos += 1; continue }
                    if allowed.count < video.total { allowedClips[items.count] = allowed }
                }
                items.append((tables.count, v))
            }
            tables.append(t)
        }
    }

    /// The item the last draw gave.
    private(set) var lastDrawn = 0

    var count: Int { items.count }

    // Class resampling: each class's items and its own pass over them.
    private var byClass: [[Int]] = []
    private var classOrder: [[Int]] = []
    private var classNext: [Int] = []
    private var classWeights: [Double] = []

    /// Draws by class from now on: `labelOf(item)` gives each item's class.
    func resample(_ r: Resampling, labelOf: (Int) -> Int) {
        let labels = items.indices.map(labelOf)
        let k = (labels.max() ?? -1) + 1
        byClass = Array(repeating: [], count: k)
        for (i, l) in labels.enumerated() { byClass[l].append(i) }
        classOrder = Array(repeating: [], count: k)
        classNext = Array(repeating: 0, count: k)
        classWeights = r.weights(counts: byClass.map(\.count))
    }

    /// The videos of each class, when resampling (for tests and the log).
    var classCounts: [Int] { byClass.map(\.count) }

    /// The next video of the current pass; a new shuffled pass when one ends.
    func draw<G: RandomNumberGenerator>(using g: inout G) -> (table: Int, video: Int) {
        if !byClass.isEmpty {
            var u = g.nextOpenUnit(), c = 0
            while c < classWeights.count - 1 && (u >= classWeights[c] || classWeights[c] == 0) {
                u -= classWeights[c]
                c += 1
            }
            while classWeights[c] == 0 { c -= 1 }  // rounding past the last class with videos
            if classNext[c] >= classOrder[c].count {
                classOrder[c] = byClass[c]
                classOrder[c].shuffle(using: &g)
                classNext[c] = 0
            }
            defer { classNext[c] += 1 }
            lastDrawn = classOrder[c][classNext[c]]
            return items[lastDrawn]
        }
        if next >= order.count {
            order = Array(0..<items.count)
            order.shuffle(using: &g)
            next = 0
        }
        defer { next += 1 }
        lastDrawn = order[next]
        return items[lastDrawn]
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
        /// Auxiliary samples per batch, after the target ones.
        public var auxPerBatch: Int
        /// Class resampling of the auxiliary pool (nil: every video equally likely).
        public var resampling: Resampling?
        public var mixup: MixupOptions?

        public init(labeledPerBatch: Int, unlabeledPerBatch: Int, structure: SampleStructure, augment: AugmentOptions,
                    seed: UInt64, auxPerBatch: Int = 0, resampling: Resampling? = nil, mixup: MixupOptions? = nil) {
            self.labeledPerBatch = labeledPerBatch
            self.unlabeledPerBatch = unlabeledPerBatch
            self.structure = structure
            self.augment = augment
            self.seed = seed
            self.auxPerBatch = auxPerBatch
            self.resampling = resampling
            self.mixup = mixup
        }
    }

    /// Settable between batches (tb-mix sizes the augmentation once the videos are indexed).
    public var options: Options
    private let labeled: Pool
    private let unlabeled: Pool
    private let aux: Pool
    private let targets: Targets
    private var generator: SeededGenerator
    public private(set) var step = 0

    /// Fails with `.dataError` when a pool that a batch draws from is empty, a labeled video
    /// has no label, or the videos' frame sizes differ.
    public init(labeled: [String], unlabeled: [String], aux: [String] = [], targets: Targets = Targets(),
                options: Options) throws {
        self.options = options
        self.labeled = try Pool(role: .labeled, paths: labeled, targets: targets)
        self.unlabeled = try Pool(role: .unlabeled, paths: unlabeled, targets: targets)
        self.aux = try Pool(role: .aux, paths: aux, targets: targets)
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
        if options.auxPerBatch > 0 && self.aux.count == 0 {
            throw Failure(.dataError, "no auxiliary videos to draw \(options.auxPerBatch) per batch from")
        }
        if let m = options.mixup, m.across, options.labeledPerBatch == 0 || options.auxPerBatch == 0 {
            throw Failure(.usage, "mixup across sources needs labeled target and auxiliary samples in every batch")
        }
        // Targets for videos no stream has are a mistake (another split, another list).
        var known = Set<String>()
        for pool in [self.labeled, self.unlabeled, self.aux] {
            for table in pool.tables { for video in table.videos { known.insert(video.id) } }
        }
        if let (id, place) = targets.places.filter({ !known.contains($0.key) }).min(by: { $0.value.line < $1.value.line }) {
            throw Failure(.dataError, "\"\(id)\" is in no stream", file: place.file, line: place.line)
        }
        for pool in [self.labeled, self.aux] {
            for (t, v) in pool.items {
                let video = pool.tables[t].videos[v]
                if targets.labels[video.id] == nil && video.label == nil {
                    throw Failure(.dataError, "\(pool.role == .aux ? "auxiliary" : "labeled") video \"\(video.id)\" has no "
                                  + "label (give --labels)", file: pool.tables[t].index.name, record: video.records[0])
                }
            }
        }
        if let r = options.resampling {
            let pool = self.aux
            pool.resample(r) { i in
                let (t, v) = pool.items[i]
                let video = pool.tables[t].videos[v]
                return targets.labels[video.id] ?? video.label!
            }
        }
    }

    /// Batches in one epoch: a pass over the labeled videos (over the unlabeled ones when
    /// batches hold none), whole batches only, at least one.
    public var stepsPerEpoch: Int {
        options.labeledPerBatch > 0 ? max(1, labeled.count / options.labeledPerBatch)
                                    : max(1, unlabeled.count / max(1, options.unlabeledPerBatch))
    }

    /// Videos and clip records `keep: false` left out, over all pools.
    public var dropped: (videos: Int, records: Int) {
        [labeled, unlabeled, aux].reduce((0, 0)) { ($0.0 + $1.droppedVideos, $0.1 + $1.droppedRecords) }
    }

    /// Videos per class of the auxiliary pool when it is resampled.
    public var auxClassCounts: [Int] { aux.classCounts }

    /// The next batch as a `sample` record: u8 [B, T, S, S, 3] (one clip per sample) or
    /// [B, V, T, S, S, 3] (pretraining views).
    public func next(epoch: Int) throws -> Record {
        var ids: [JSON] = [], roles: [JSON] = [], labels: [JSON] = [], softs: [JSON] = []
        var payload: [UInt8] = []
        var anySoft = false
        var frameShape: [Int]?
        for (pool, count) in [(labeled, options.labeledPerBatch), (unlabeled, options.unlabeledPerBatch),
                              (aux, options.auxPerBatch)] {
            for _ in 0..<count {
                let (t, v) = pool.draw(using: &generator)
                let table = pool.tables[t]
                let video = table.videos[v]
                let shape = video.kind == "frames" ? video.itemShape : Array(video.itemShape.dropFirst())
                // Target videos share one decoding size; web images come as they are.
                if pool.role != .aux, let f = frameShape, f != shape {
                    throw Failure(.dataError, "video \"\(video.id)\" has \(shape[1])x\(shape[0]) frames, others "
                                  + "\(f[1])x\(f[0]): decode every input at one size", file: table.index.name,
                                  record: video.records[0])
                }
                if pool.role != .aux { frameShape = shape }
                try appendSample(table: table, video: v, clips: pool.allowedClips[pool.lastDrawn], into: &payload)
                ids.append(.string(video.id))
                roles.append(.string(pool.role.rawValue))
                let label = pool.role != .unlabeled ? (targets.labels[video.id] ?? video.label) : nil
                labels.append(label.map { JSON($0) } ?? .null)
                if pool.role != .aux, let s = targets.soft[video.id] {
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
        if let m = options.mixup { header["mix"] = .array(mixPartners(m)) }
        header["epoch"] = JSON(epoch)
        header["step"] = JSON(step)
        step += 1
        return Record(kind: "sample", dtype: .u8, shape: shape, header: header, payload: payload)
    }

    /// Each sample's mixup partner and λ, [j, λ], or null for samples that are not mixed
    /// (unlabeled ones). Rows are in batch order: labeled, unlabeled, auxiliary.
    private func mixPartners(_ m: MixupOptions) -> [JSON] {
        let l = options.labeledPerBatch, u = options.unlabeledPerBatch, a = options.auxPerBatch
        let labeledRows = Array(0..<l), auxRows = Array((l + u)..<(l + u + a))
        var out = [JSON](repeating: .null, count: l + u + a)
        for (rows, others) in [(labeledRows, auxRows), (auxRows, labeledRows)] where !rows.isEmpty {
            let partners: [Int]
            if m.across {
                partners = rows.map { _ in others[Int.random(in: 0..<others.count, using: &generator)] }
            } else {
                partners = rows.shuffled(using: &generator)
            }
            for (i, j) in zip(rows, partners) {
                let lambda = generator.nextBeta(m.alpha, m.alpha)
                out[i] = .array([JSON(j), .double((lambda * 1e6).rounded() / 1e6)])
            }
        }
        return out
    }

    /// Appends one sample's clips (all views), augmented, to `payload`.
    /// `allowed`: the clips a clip video may give (nil: all).
    private func appendSample(table: VideoTable, video v: Int, clips allowed: [Int]?,
                              into payload: inout [UInt8]) throws {
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
                let k = allowed.map { $0[Int.random(in: 0..<$0.count, using: &generator)] }
                    ?? Int.random(in: 0..<video.total, using: &generator)
                clips.append(try table.clip(of: v, number: k))
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
        for pool in [labeled, unlabeled, aux] {
            if let (t, v) = pool.items.first {
                let video = pool.tables[t].videos[v]
                let hw = video.kind == "frames" ? video.itemShape.prefix(2) : video.itemShape.dropFirst().prefix(2)
                return hw.min() ?? 1
            }
        }
        throw Failure(.dataError, "no videos in the streams")
    }
}
