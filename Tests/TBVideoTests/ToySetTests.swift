// The toy data set: the same bytes for the same seed, the counts and lists the options ask
// for, and content that means what the labels say, checked on the decoded files.

import Foundation
import XCTest
import TBCore
import TBStream
@testable import TBVideo

final class ToySetTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        FFmpegLog.set(verbose: false)
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tb-toyset-\(UUID().uuidString)").path
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// A few small files of every kind.
    func tiny(seed: UInt64 = 7) -> ToySetOptions {
        var o = ToySetOptions()
        (o.width, o.height, o.frames, o.fps) = (32, 32, 8, 8)
        (o.labeled, o.unlabeled, o.validation, o.images, o.untrimmed, o.untrimmedSeconds) = (1, 1, 1, 3, 1, 4)
        o.seed = seed
        return o
    }

    func files(_ root: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for case let path as String in FileManager.default.enumerator(atPath: root)! {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory), !isDirectory.boolValue {
                out[path] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + path))
            }
        }
        return out
    }

    func decode(_ path: String) throws -> [RGBImage] {
        let reader = try VideoReader(path: path)
        var frames: [RGBImage] = []
        while let f = try reader.next() { frames.append(try RGBImage(width: reader.width, height: reader.height, pixels: Array(f.pixels))) }
        return frames
    }

    func lines(_ name: String) throws -> [String] {
        try String(contentsOfFile: dir + "/" + name, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func testSameSeedSameBytesWhateverTheThreads() throws {
        var o = tiny()
        o.threads = 1
        try ToySet.generate(into: dir + "/a", options: o)
        o.threads = 3
        try ToySet.generate(into: dir + "/b", options: o)
        o.seed = 8
        try ToySet.generate(into: dir + "/c", options: o)
        let a = try files(dir + "/a"), b = try files(dir + "/b"), c = try files(dir + "/c")
        XCTAssertEqual(a.count, 8 * (3 + 3) + 1 + 8)
        XCTAssertEqual(a.keys.filter { a[$0] != b[$0] }.sorted(), [])
        XCTAssertFalse(a.keys.contains { $0.contains(".part") })
        let media = a.keys.filter { $0.hasSuffix(".mp4") || $0.hasSuffix(".png") }
        XCTAssertEqual(media.filter { a[$0] == c[$0] }, [], "a different seed changes every file")
    }

    func testCountsListsAndImages() throws {
        var o = tiny()
        o.images = 6
        o.classes = try ToyClass.parse("motion,red_disc")
        try ToySet.generate(into: dir, options: o)
        XCTAssertEqual(try lines("classes.txt"), ["red_disc", "ring_left", "ring_right", "ring_clockwise", "ring_counterclockwise"])
        for list in ["train_labeled.txt", "train_unlabeled.txt", "val.txt"] {
            let set = try LabelSet.load(path: dir + "/" + list)
            XCTAssertEqual(set.records.map { $0.label }, [0, 1, 2, 3, 4], list)
            for r in set.records { XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/" + r.id), r.id) }
        }
        XCTAssertEqual(try lines("train_labeled.txt").first, "videos/red_disc/red_disc_000.mp4 0")
        XCTAssertEqual(try lines("val.txt").last, "videos/ring_counterclockwise/ring_counterclockwise_002.mp4 4")

        // Images: 4 of 6 per class relevant; the PNG is exactly the rendered scene, whose
        // objects are the searched class's exactly when it is relevant.
        let images = try LabelSet.load(path: dir + "/images.jsonl").records
        XCTAssertEqual(images.count, 30)
        XCTAssertEqual(images.filter { $0.extra["relevant"] == .bool(true) }.count, 20)
        let items = ToySet.plan(o).filter { $0.kind == .image }
        XCTAssertEqual(items.map(\.path), images.map(\.id))
        for item in items {
            let scene = item.scene(o)
            let png = try PNG.decode(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/" + item.path))))
            XCTAssertEqual(png, scene.frame(0), item.path)
            let looks = scene.tracks.map(\.look.shape)
            XCTAssertEqual(looks.contains(item.toyClass.look.shape), item.relevant, item.path)
        }

        let manifest = try JSON.parse(Array(try Data(contentsOf: URL(fileURLWithPath: dir + "/toyset.json"))))
        let counts = manifest.objectValue?["counts"]?.objectValue
        XCTAssertEqual(counts?["train_labeled"]?.intValue, 5)
        XCTAssertEqual(counts?["relevant_images"]?.intValue, 20)
        XCTAssertEqual(manifest.objectValue?["codec"]?.stringValue, VideoCodec.preferred.rawValue)
    }

    func testUntrimmedActionsAreSeparatedSegments() throws {
        var o = tiny()
        (o.untrimmed, o.untrimmedSeconds) = (6, 6)
        try ToySet.generate(into: dir, options: o)
        let videos = try LabelSet.load(path: dir + "/untrimmed.jsonl").records
        XCTAssertEqual(videos.count, 6)
        for v in videos {
            XCTAssertEqual(v.extra["duration"]?.doubleValue, 6)
            let segments = v.extra["segments"]?.arrayValue?.compactMap(\.objectValue) ?? []
            XCTAssertTrue((1...3).contains(segments.count), v.id)
            var last = 0.0
            for s in segments {
                let start = s["start"]?.doubleValue ?? -1, end = s["end"]?.doubleValue ?? -1
                XCTAssertGreaterThanOrEqual(start - last, 0.5, "at least half a second of background before")
                XCTAssertGreaterThanOrEqual(end - start, 1, "at least one trimmed clip long")
                XCTAssertEqual(s["label"]?.intValue, v.label)
                last = end
            }
            XCTAssertGreaterThanOrEqual(6 - last, 0.5)
        }
    }

    /// Light grey ring pixels: centroid; dark spoke pixels near it: direction from the centre.
    func ring(in image: RGBImage) -> (x: Double, y: Double, angle: Double)? {
        var n = 0.0, sx = 0.0, sy = 0.0
        for y in 0..<image.height {
            for x in 0..<image.width {
                guard let p = image.pixel(x: x, y: y) else { continue }
                let lo = min(p.r, p.g, p.b), hi = max(p.r, p.g, p.b)
                if lo > 180 && hi - lo < 30 { n += 1; sx += Double(x); sy += Double(y) }
            }
        }
        guard n > 10 else { return nil }
        let cx = sx / n + 0.5, cy = sy / n + 0.5
        var m = 0.0, dx = 0.0, dy = 0.0
        for y in 0..<image.height {
            for x in 0..<image.width {
                let ox = Double(x) + 0.5 - cx, oy = Double(y) + 0.5 - cy
                guard ox * ox + oy * oy < 64, let p = image.pixel(x: x, y: y), max(p.r, p.g, p.b) < 70 else { continue }
                m += 1; dx += ox; dy += oy
            }
        }
        return (cx, cy, m > 0 ? atan2(dy, dx) : .nan)
    }

    func testMotionClassesMoveAndTurnTheirWayInTheDecodedVideo() throws {
        var o = ToySetOptions()
        (o.frames, o.labeled, o.unlabeled, o.validation, o.images, o.untrimmed) = (16, 2, 0, 0, 0, 0)
        o.classes = try ToyClass.parse("motion")
        try ToySet.generate(into: dir, options: o)
        for item in ToySet.plan(o) {
            let frames = try decode(dir + "/" + item.path), scene = item.scene(o)
            XCTAssertEqual(frames.count, 16)
            let seen = frames.compactMap { ring(in: $0) }
            XCTAssertEqual(seen.count, 16, item.path)
            guard let first = seen.first, let last = seen.last else { continue }
            // Where the decoded ring is, is where the scene put it.
            for (i, s) in seen.enumerated() {
                let truth = scene.poses(at: i)[0]
                XCTAssertEqual(s.x, truth.x, accuracy: 1.5, "\(item.path) frame \(i)")
                XCTAssertEqual(s.y, truth.y, accuracy: 1.5, "\(item.path) frame \(i)")
                XCTAssertLessThan(abs(remainder(s.angle - truth.angle, 2 * .pi)), 0.4, "\(item.path) frame \(i)")
            }
            // Turning over the clip: the least-squares slope of the unwrapped spoke angle.
            var unwrapped = [first.angle]
            for (a, b) in zip(seen, seen.dropFirst()) {
                unwrapped.append(unwrapped[unwrapped.count - 1] + remainder(b.angle - a.angle, 2 * .pi))
            }
            let n = Double(unwrapped.count), meanT = (n - 1) / 2, meanA = unwrapped.reduce(0, +) / n
            var covariance = 0.0, variance = 0.0
            for (i, a) in unwrapped.enumerated() {
                let dt = Double(i) - meanT
                covariance += dt * (a - meanA)
                variance += dt * dt
            }
            let turned = covariance / variance * (n - 1)
            let moved = last.x - first.x, side = Double(o.width)
            switch item.toyClass {
            case .ringLeft: XCTAssertLessThan(moved, -0.25 * side, item.path)
            case .ringRight: XCTAssertGreaterThan(moved, 0.25 * side, item.path)
            case .ringClockwise: XCTAssertGreaterThan(turned, 0.5 * .pi, item.path)
            case .ringCounterclockwise: XCTAssertLessThan(turned, -0.5 * .pi, item.path)
            default: XCTFail("not a motion class: \(item.path)")
            }
            if item.toyClass == .ringLeft || item.toyClass == .ringRight {
                XCTAssertLessThan(abs(turned), 0.3, "\(item.path) turns")
            } else {
                XCTAssertLessThan(abs(moved), 0.1 * side, "\(item.path) moves")
            }
        }
    }

    /// Mean colour of the strongly coloured pixels of a frame and how many there are.
    func saturatedColour(_ image: RGBImage) -> (mean: [Double], count: Int) {
        var sum = [0.0, 0.0, 0.0], n = 0
        for i in stride(from: 0, to: image.pixels.count, by: 3) {
            let p = image.pixels[i..<i + 3].map(Double.init)
            guard let hi = p.max(), let lo = p.min(), hi > 90, (hi - lo) / hi > 0.55 else { continue }
            for k in 0..<3 { sum[k] += p[k] }
            n += 1
        }
        return (sum.map { $0 / Double(max(n, 1)) }, n)
    }

    func testAppearanceClassesDifferInColourMotionClassesDoNot() throws {
        var o = ToySetOptions()
        (o.frames, o.labeled, o.unlabeled, o.validation, o.images, o.untrimmed) = (8, 2, 0, 0, 0, 0)
        try ToySet.generate(into: dir, options: o)
        let nominal: [ToyClass: [Double]] = [.redDisc: [220, 30, 30], .greenSquare: [30, 190, 56],
                                            .blueTriangle: [46, 77, 235], .yellowCross: [237, 209, 36]]
        for item in ToySet.plan(o) {
            let (mean, count) = saturatedColour(try decode(dir + "/" + item.path)[4])
            if item.toyClass.group == .motion {
                XCTAssertLessThan(count, 5, "\(item.path): the ring is grey")
                continue
            }
            XCTAssertGreaterThan(count, 60, item.path)
            let nearest = nominal.min { a, b in
                zip(a.value, mean).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                    < zip(b.value, mean).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            }
            XCTAssertEqual(nearest?.key, item.toyClass, "\(item.path): mean colour \(mean)")
        }
    }

    func testUntrimmedVideosShowTheObjectOnlyDuringActions() throws {
        var o = ToySetOptions()
        (o.width, o.height, o.frames, o.fps) = (48, 48, 8, 8)
        (o.labeled, o.unlabeled, o.validation, o.images, o.untrimmed, o.untrimmedSeconds) = (0, 0, 0, 0, 2, 8)
        o.classes = [.redDisc, .ringClockwise]
        try ToySet.generate(into: dir, options: o)
        for item in ToySet.plan(o) {
            let frames = try decode(dir + "/" + item.path), scene = item.scene(o)
            XCTAssertEqual(frames.count, 64)
            let actions = scene.objectFrames
            XCTAssertFalse(actions.isEmpty)
            for (i, frame) in frames.enumerated() {
                let object = item.toyClass == .redDisc ? saturatedColour(frame).count > 30 : ring(in: frame) != nil
                XCTAssertEqual(object, actions.contains { $0.contains(i) }, "\(item.path) frame \(i)")
            }
        }
    }

    func testFrameCodesNumberEveryFrame() throws {
        var o = tiny()
        (o.classes, o.frameCodes, o.images, o.untrimmed) = ([.ringLeft], true, 0, 0)
        try ToySet.generate(into: dir, options: o)
        let frames = try decode(dir + "/videos/ring_left/ring_left_000.mp4")
        XCTAssertEqual(frames.map { FrameCode.read($0) }, (0..<8).map { $0 })
    }

    func testClassesAndOptionsAreChecked() throws {
        XCTAssertEqual(try ToyClass.parse("appearance,motion"), ToyClass.allCases)
        XCTAssertEqual(try ToyClass.parse("ring_right, appearance,ring_left"),
                       [.redDisc, .greenSquare, .blueTriangle, .yellowCross, .ringLeft, .ringRight])
        XCTAssertEqual(ToyClass.ringClockwise.reversed, .ringCounterclockwise)
        XCTAssertThrowsError(try ToyClass.parse("motion,squares")) { XCTAssertEqual(($0 as? Failure)?.status, .usage) }
        var o = tiny()
        o.width = 33
        XCTAssertThrowsError(try ToySet.generate(into: dir, options: o)) { XCTAssertEqual(($0 as? Failure)?.status, .usage) }
        o = tiny()
        o.untrimmedSeconds = 1
        XCTAssertThrowsError(try o.validate()) { XCTAssertEqual(($0 as? Failure)?.status, .usage) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir), "nothing made for bad options")

        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir + "/notes.txt"))
        XCTAssertThrowsError(try ToySet.generate(into: dir, options: tiny())) {
            XCTAssertEqual(($0 as? Failure)?.status, .usage)
        }
        try ToySet.generate(into: dir, options: tiny(), force: true)
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/notes.txt"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/toyset.json"))
    }
}
