// `tb-warp fit`'s engine: the frames records of videos in (chunks in order, as tb-decode writes
// them), a homography per pair of consecutive frames, and at the end the Gaussians.

import Dispatch
import TBCore
import TBStream

public final class MotionFit {
    public let settings: AlignmentSettings
    /// Classes with fewer used pairs than this get no Gaussian of their own.
    public let minimumPairs: Int

    /// Every estimated homography's parameters, and each pair's class (nil: no label).
    private var samples: [[Double]] = []
    private var sampleLabels: [Int?] = []
    public private(set) var counts = PairCounts()
    private var classCounts: [Int: PairCounts] = [:]
    private var classNames: [Int: String] = [:]
    public private(set) var videos = 0

    // The video being read: its id, the next chunk expected, and its last frame.
    private var id: String?
    private var nextChunk = 0
    private var previous: AlignmentFrame?

    /// Pairs are estimated on this many threads; the result does not depend on it.
    public let threads: Int

    public init(settings: AlignmentSettings = AlignmentSettings(), minimumPairs: Int = 10, threads: Int = 1) {
        self.settings = settings
        self.minimumPairs = minimumPairs
        self.threads = max(1, threads)
    }

    /// Takes the next frames record. A video continues while the id stays and chunks count up
    /// from 0; the last frame of a chunk pairs with the first of the next. `place` names the record.
    public func add(_ record: Record, place: (file: String, record: Int)) throws {
        func fail(_ m: String) -> Failure { Failure(.dataError, m, file: place.file, record: place.record) }
        guard record.kind == "frames" else {
            throw fail("a \(record.kind ?? "record without kind"), not frames: tb-warp fit reads tb-decode's output")
        }
        guard record.dtype == .u8, record.shape.count == 4, record.shape[3] == 3, record.shape.allSatisfy({ $0 > 0 }) else {
            throw fail("frames must be u8 [T, H, W, 3], not \(record.dtype.rawValue) \(record.shape)")
        }
        let (t, h, w) = (record.shape[0], record.shape[1], record.shape[2])
        let rid = record.id ?? ""
        let chunk = record.index ?? 0
        if rid != id || chunk != nextChunk || previous.map({ $0.levels[0].width != w || $0.levels[0].height != h }) == true {
            if rid == id && chunk != 0 && chunk != nextChunk {
                throw fail("chunk \(chunk) of \"\(rid)\" follows chunk \(nextChunk - 1): chunks are missing or out of order")
            }
            id = rid
            previous = nil
            videos += 1
        }
        nextChunk = chunk + 1
        let label = record.label
        if let label, let name = record.header["class"]?.stringValue { classNames[label] = name }
        // Frames in batches of a few per thread, so memory stays bounded by the batch: each
        // batch's pyramids in parallel, then its pairs in parallel, counted in frame order.
        let batch = 4 * threads
        for first in stride(from: 0, to: t, by: batch) {
            let n = min(batch, t - first)
            let frames = parallelMap(n) {
                AlignmentFrame(GreyImage(rgb: record.payload, width: w, height: h, frame: first + $0), coarsest: settings.coarsest)
            }
            let start = previous
            let results = parallelMap(n) { i -> AlignmentResult? in
                guard let from = i == 0 ? start : frames[i - 1] else { return nil }
                return Alignment.estimate(from: from, to: frames[i], settings: settings)
            }
            for r in results { if let r { count(r, label: label) } }
            previous = frames.last
        }
    }

    /// body(0) ..< body(count) on up to `threads` threads, results in order.
    private func parallelMap<T>(_ count: Int, _ body: (Int) -> T) -> [T] {
        var slots = [T?](repeating: nil, count: count)
        let workers = min(threads, count)
        slots.withUnsafeMutableBufferPointer { out in
            if workers <= 1 {
                for i in 0..<count { out[i] = body(i) }
            } else {
                DispatchQueue.concurrentPerform(iterations: workers) { k in
                    for i in stride(from: k, to: count, by: workers) { out[i] = body(i) }
                }
            }
        }
        return slots.map { $0! }
    }

    private func count(_ result: AlignmentResult, label: Int?) {
        var c = PairCounts()
        switch result {
        case .aligned(let h, _):
            c.used = 1
            samples.append(h.parameters)
            sampleLabels.append(label)
        case .skipped(let reason):
            c.skipped[reason] = 1
        }
        counts.add(c)
        if let label { classCounts[label, default: PairCounts()].add(c) }
    }

    /// The fitted model; per class when `perClass`. Throws `.dataError` when no pair was usable.
    public func model(perClass: Bool) throws -> MotionModel {
        guard !samples.isEmpty else {
            let total = counts.used + counts.totalSkipped
            throw Failure.data(total == 0 ? "no pairs of consecutive frames to fit (videos of one frame?)"
                                          : "none of the \(total) pairs of consecutive frames could be aligned")
        }
        var classes: [ClassMotion] = []
        if perClass {
            for label in classCounts.keys.sorted() {
                let c = classCounts[label]!
                let mine = zip(samples, sampleLabels).filter { $0.1 == label }.map(\.0)
                let g = mine.count >= max(minimumPairs, 1) ? MotionGaussian.fit(mine) : nil
                classes.append(ClassMotion(label: label, name: classNames[label], counts: c, gaussian: g))
            }
        }
        return try MotionModel(gaussian: MotionGaussian.fit(samples), counts: counts, classes: classes)
    }

    /// Labels of the classes that fell back to the class-agnostic Gaussian.
    public func classesTooSmall() -> [Int] {
        classCounts.filter { $0.value.used < max(minimumPairs, 1) }.map(\.key).sorted()
    }
}
