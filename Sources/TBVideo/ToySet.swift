// The toy data set on disk (layout in tb-toyset(1)): encoded videos, PNG web images,
// untrimmed videos and the label lists that name them. Every file gets its own seed from
// the data set's seed and the file's place (class, number), so a file's content does not
// depend on the other counts or on the order in which the worker threads make them.

import Foundation
import TBCore
import TBStream

/// One file of a toy data set and what goes into it.
public struct ToyItem: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case labeled, unlabeled, validation, image, untrimmed
    }

    public var kind: Kind
    /// Relative to the data set's directory, as the lists give it.
    public var path: String
    public var toyClass: ToyClass
    /// The class's line in classes.txt, from 0: the label in the lists.
    public var label: Int
    /// For images: whether it shows the searched class's object. Always true for videos.
    public var relevant: Bool
    public var seed: UInt64

    /// The scene the file is rendered from.
    public func scene(_ options: ToySetOptions) -> ToyScene {
        switch kind {
        case .labeled, .unlabeled, .validation: return ToyScene(clipOf: toyClass, options: options, seed: seed)
        case .image: return ToyScene(imageOf: toyClass, relevant: relevant, options: options, seed: seed)
        case .untrimmed: return ToyScene(untrimmedOf: toyClass, options: options, seed: seed)
        }
    }
}

public enum ToySet {
    /// Every file the options call for, in list order.
    public static func plan(_ options: ToySetOptions) -> [ToyItem] {
        var items: [ToyItem] = []
        let perClass = options.labeled + options.unlabeled + options.validation
        for (label, cls) in options.classes.enumerated() {
            let id = UInt64(ToyClass.allCases.firstIndex(of: cls) ?? 0)
            for n in 0..<perClass {
                let kind: ToyItem.Kind = n < options.labeled ? .labeled
                    : n < options.labeled + options.unlabeled ? .unlabeled : .validation
                items.append(ToyItem(kind: kind, path: "videos/\(cls.rawValue)/\(name(cls.rawValue, n, perClass)).mp4",
                                     toyClass: cls, label: label, relevant: true, seed: itemSeed(options.seed, [1, id, UInt64(n)])))
            }
            // Exactly round(2/3) of a class's images are relevant, at shuffled places.
            var g = SeededGenerator(seed: itemSeed(options.seed, [2, id]))
            var relevant = (0..<options.images).map { $0 < (2 * options.images + 1) / 3 }
            relevant.shuffle(using: &g)
            for n in 0..<options.images {
                items.append(ToyItem(kind: .image, path: "images/\(cls.rawValue)/\(name(cls.rawValue, n, options.images)).png",
                                     toyClass: cls, label: label, relevant: relevant[n],
                                     seed: itemSeed(options.seed, [3, id, UInt64(n)])))
            }
        }
        // Untrimmed videos take the classes in turn, from a random first one.
        var g = SeededGenerator(seed: itemSeed(options.seed, [4]))
        let first = g.below(options.classes.count)
        for n in 0..<options.untrimmed {
            let label = (first + n) % options.classes.count
            items.append(ToyItem(kind: .untrimmed, path: "untrimmed/\(name("untrimmed", n, options.untrimmed)).mp4",
                                 toyClass: options.classes[label], label: label, relevant: true,
                                 seed: itemSeed(options.seed, [5, UInt64(n)])))
        }
        return items
    }

    /// Makes the data set in `directory` (created if missing). Refuses a directory that holds
    /// anything unless `force`; then files of the same names are replaced and others left alone.
    /// `progress` is called, one call at a time, with (files done, files in all).
    public static func generate(into directory: String, options: ToySetOptions, force: Bool = false,
                                progress: ((Int, Int) -> Void)? = nil) throws {
        try options.validate()
        try prepare(directory, force: force)
        let items = plan(options)
        let folders = Set(items.map { ($0.path as NSString).deletingLastPathComponent })
        for folder in folders.sorted() { try makeDirectory(directory + "/" + folder) }

        // Longest first, so that the threads finish together.
        let order = items.indices.sorted { cost(items[$0], options) > cost(items[$1], options) }
        try forEachInParallel(order.count, threads: options.threads, progress: progress) { k in
            try make(items[order[k]], in: directory, options: options)
        }
        for (name, text) in lists(items, options: options) {
            try writeAtomically(Array(text.utf8), to: directory + "/" + name)
        }
    }

    /// The text files: class names, mmaction2 lists, JSON lines for images and untrimmed videos,
    /// and toyset.json (written last, so that its presence means the set is complete).
    static func lists(_ items: [ToyItem], options: ToySetOptions) -> [(String, String)] {
        func list(_ kind: ToyItem.Kind) -> String {
            items.filter { $0.kind == kind }.map { "\($0.path) \($0.label)\n" }.joined()
        }
        let images = items.filter { $0.kind == .image }.map { item in
            JSON.object(JSONObject([("id", .string(item.path)), ("label", JSON(item.label)),
                                    ("relevant", .bool(item.relevant))])).text + "\n"
        }.joined()
        var segmentCount = 0
        let untrimmed = items.filter { $0.kind == .untrimmed }.map { item in
            let scene = item.scene(options), fps = Double(options.fps)
            let segments = scene.objectFrames.map { r in
                JSON.object(JSONObject([("start", .double(Double(r.lowerBound) / fps)),
                                        ("end", .double(Double(r.upperBound) / fps)), ("label", JSON(item.label))]))
            }
            segmentCount += segments.count
            return JSON.object(JSONObject([("id", .string(item.path)), ("label", JSON(item.label)),
                                           ("duration", .double(Double(scene.frameCount) / fps)),
                                           ("segments", .array(segments))])).text + "\n"
        }.joined()
        func count(_ kind: ToyItem.Kind) -> JSON { JSON(items.filter { $0.kind == kind }.count) }
        let counts = JSONObject([
            ("train_labeled", count(.labeled)), ("train_unlabeled", count(.unlabeled)), ("val", count(.validation)),
            ("images", count(.image)), ("relevant_images", JSON(items.filter { $0.kind == .image && $0.relevant }.count)),
            ("untrimmed", count(.untrimmed)), ("segments", JSON(segmentCount)),
        ])
        let o = options
        let manifest = JSONObject([
            ("seed", o.seed <= UInt64(Int64.max) ? .int(Int64(o.seed)) : .string(String(o.seed))),
            ("codec", .string(o.codec.rawValue)), ("width", JSON(o.width)), ("height", JSON(o.height)),
            ("frames", JSON(o.frames)), ("fps", JSON(o.fps)), ("classes", .array(o.classes.map { .string($0.rawValue) })),
            ("labeled", JSON(o.labeled)), ("unlabeled", JSON(o.unlabeled)), ("val", JSON(o.validation)),
            ("images", JSON(o.images)), ("untrimmed", JSON(o.untrimmed)), ("untrimmed_seconds", .double(o.untrimmedSeconds)),
            ("distractors", JSON(o.distractors)), ("backgrounds", JSON(o.backgrounds)),
            ("camera_motion", .double(o.cameraMotion)),
            ("frame_codes", .bool(o.frameCodes)), ("counts", .object(counts)),
        ])
        return [("classes.txt", o.classes.map { $0.rawValue + "\n" }.joined()),
                ("train_labeled.txt", list(.labeled)), ("train_unlabeled.txt", list(.unlabeled)),
                ("val.txt", list(.validation)), ("images.txt", list(.image)), ("images.jsonl", images),
                ("untrimmed.jsonl", untrimmed), ("toyset.json", JSON.object(manifest).text + "\n")]
    }

    /// Renders and encodes one file.
    static func make(_ item: ToyItem, in directory: String, options: ToySetOptions) throws {
        let scene = item.scene(options), path = directory + "/" + item.path
        if item.kind == .image {
            try writeAtomically(PNG.encode(scene.frame(0)), to: path)
            return
        }
        // One encoder thread: x264's output then depends on nothing but the frames.
        let quality = options.codec == .h264 ? 20 : 3
        let writer = try VideoWriter(path: path, width: scene.width, height: scene.height,
                                     options: VideoWriterOptions(codec: options.codec, fps: options.fps,
                                                                 quality: quality, gop: options.fps, threads: 1))
        for i in 0..<scene.frameCount { try writer.append(scene.frame(i)) }
        try writer.finish()
    }

    /// Rough work of a file, in pixels rendered.
    private static func cost(_ item: ToyItem, _ options: ToySetOptions) -> Int {
        switch item.kind {
        case .image: return 1
        case .untrimmed: return options.untrimmedFrames
        default: return options.frames
        }
    }

    /// `first`, then each of `parts`, stirred through SplitMix64: a seed per file.
    static func itemSeed(_ first: UInt64, _ parts: [UInt64]) -> UInt64 {
        var g = SeededGenerator(seed: first)
        for p in parts { g = SeededGenerator(seed: g.next() ^ (p &* 0x9E37_79B9_7F4A_7C15)) }
        return g.next()
    }

    /// `prefix_007`, numbered to at least three digits and as many as `count` needs.
    private static func name(_ prefix: String, _ n: Int, _ count: Int) -> String {
        let digits = max(String(max(count - 1, 0)).count, 3)
        let number = String(n)
        return prefix + "_" + String(repeating: "0", count: digits - number.count) + number
    }
}
