// Encoding with VideoWriter and decoding with VideoReader on real files: frame counts,
// frame selection by timestamp, sizes, rotation, still images and bad inputs.

import Foundation
import XCTest
import TBCore
@testable import TBVideo

final class VideoIOTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        FFmpegLog.set(verbose: false)
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tb-video-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    /// A video whose frame i shows FrameCode i, at `times` (ticks of `timeBase`) or 1/fps apart.
    func makeVideo(_ name: String, frames: Int, fps: Int = 30, width: Int = 64, height: Int = 48,
                   options: VideoWriterOptions? = nil, times: [Int]? = nil) throws -> String {
        let path = dir + "/" + name
        var o = options ?? VideoWriterOptions(fps: fps, quality: 18)
        o.fps = fps
        let w = try VideoWriter(path: path, width: width, height: height, options: o)
        for i in 0..<frames { try w.append(FrameCode.image(i, width: width, height: height), time: times?[i]) }
        try w.finish()
        return path
    }

    /// Every output frame's (code, time).
    func decodeAll(_ path: String, _ options: DecodeOptions = DecodeOptions()) throws -> [(Int?, Double)] {
        let r = try VideoReader(path: path, options: options)
        var out: [(Int?, Double)] = []
        while let f = try r.next() { out.append((FrameCode.read(f.pixels, width: r.width, height: r.height), f.time)) }
        return out
    }

    func testEveryFrameComesBackInOrderWithBFrames() throws {
        for codec in VideoCodec.allCases where codec.isAvailable && codec != .webp {
            let ext = codec == .vp9 ? "webm" : codec == .mjpeg ? "avi" : "mp4"
            let opts = VideoWriterOptions(codec: codec, fps: 30, quality: codec == .vp9 ? 20 : codec == .h264 ? 18 : 3,
                                          bFrames: codec == .h264 || codec == .mpeg4 ? 2 : nil)
            let path = try makeVideo("all.\(ext)", frames: 45, options: opts)
            let frames = try decodeAll(path, DecodeOptions(threads: 2))
            XCTAssertEqual(frames.map { $0.0 }, (0..<45).map { $0 }, "\(codec)")
            for (i, f) in frames.enumerated() { XCTAssertEqual(f.1, Double(i) / 30, accuracy: 1e-3, "\(codec) frame \(i)") }
            let r = try VideoReader(path: path)
            XCTAssertEqual(r.info.frameRate ?? 0, 30, accuracy: 0.01, "\(codec)")
            XCTAssertEqual([r.width, r.height], [64, 48])
            XCTAssertFalse(r.info.isStill)
        }
    }

    func testFrameRateSelectsByTimestamp() throws {
        let path = try makeVideo("30.mp4", frames: 60)
        // 10 fps from 30: every third frame, exactly.
        XCTAssertEqual(try decodeAll(path, DecodeOptions(fps: 10)).map { $0.0 }, stride(from: 0, to: 60, by: 3).map { $0 })
        // 12 fps: frame floor(k * 2.5).
        XCTAssertEqual(try decodeAll(path, DecodeOptions(fps: 12)).map { $0.0 }, (0..<24).map { k in k * 5 / 2 })
        // 60 fps: every frame twice.
        XCTAssertEqual(try decodeAll(path, DecodeOptions(fps: 60)).map { $0.0 }, (0..<120).map { $0 / 2 })
        // Start, duration and max frames.
        XCTAssertEqual(try decodeAll(path, DecodeOptions(fps: 10, start: 0.5, duration: 0.6)).map { $0.0 },
                       [15, 18, 21, 24, 27, 30])
        let late = try decodeAll(path, DecodeOptions(fps: 10, start: 1.0, maxFrames: 2))
        XCTAssertEqual(late.map { $0.0 }, [30, 33])
        XCTAssertEqual(late.map { $0.1 }, [1.0, 1.1])
        XCTAssertEqual(try decodeAll(path, DecodeOptions(start: 1.5)).map { $0.0 }, Array(45..<60))
    }

    func testVariableFrameRate() throws {
        // Frames at irregular times (ms): 0, 10, 200, 210, 600, 1000; at 10 fps, the frame on
        // display at each 100 ms step.
        let times = [0, 10, 200, 210, 600, 1000]
        let path = try makeVideo("vfr.mkv", frames: times.count, fps: 10,
                                 options: VideoWriterOptions(fps: 10, timeBase: 1000, quality: 18), times: times)
        let frames = try decodeAll(path, DecodeOptions(fps: 10))
        XCTAssertEqual(frames.map { $0.0 }, [0, 1, 2, 3, 3, 3, 4, 4, 4, 4, 5])
        XCTAssertEqual(try decodeAll(path).map { $0.1 }, times.map { Double($0) / 1000 })
    }

    func testResizeAndRotation() throws {
        let path = try makeVideo("big.mp4", frames: 3, width: 128, height: 96)
        var r = try VideoReader(path: path, options: DecodeOptions(shortSide: 24))
        XCTAssertEqual([r.width, r.height], [32, 24])
        XCTAssertEqual(try decodeAll(path, DecodeOptions(shortSide: 24)).map { $0.0 }, [0, 1, 2])
        r = try VideoReader(path: path, options: DecodeOptions(width: 40, height: 40))
        XCTAssertEqual([r.width, r.height], [40, 40])

        // Display-matrix rotation written as av_display_rotation_set(90): the ffmpeg tool
        // (autorotate) shows it turned a quarter clockwise, 96 wide, 128 high, the red marker
        // top-right; so must tb.
        let rot = try makeVideo("rot.mp4", frames: 2, width: 128, height: 96,
                                options: VideoWriterOptions(fps: 30, quality: 18, rotation: 90))
        r = try VideoReader(path: rot)
        XCTAssertEqual(r.info.rotation, 90)
        XCTAssertEqual([r.width, r.height], [96, 128])
        let f = try XCTUnwrap(try r.next())
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { let i = (y * r.width + x) * 3; return Array(f.pixels[i..<i + 3]) }
        func isRed(_ p: [UInt8]) -> Bool { p[0] > 200 && p[1] < 60 && p[2] < 60 }
        XCTAssertTrue(isRed(pixel(90, 5)), "the marker is top-right")
        XCTAssertFalse(isRed(pixel(5, 5)))
        XCTAssertFalse(isRed(pixel(5, 120)))
    }

    func testStillImages() throws {
        let image = FrameCode.image(1234, width: 40, height: 30)
        try Data(PNG.encode(image)).write(to: URL(fileURLWithPath: dir + "/a.png"))
        let r = try VideoReader(path: dir + "/a.png", options: DecodeOptions(fps: 8))
        XCTAssertTrue(r.info.isStill)
        XCTAssertNil(r.outputFrameRate)
        let f = try XCTUnwrap(try r.next())
        XCTAssertEqual(FrameCode.read(f.pixels, width: 40, height: 30), 1234)
        XCTAssertNil(try r.next())
    }

    func testBadInputs() throws {
        func failure(_ path: String) -> Failure? {
            do { _ = try decodeAll(path); return nil } catch { return error as? Failure }
        }
        XCTAssertEqual(failure(dir + "/missing.mp4")?.status, .noInput)
        XCTAssertEqual(failure(dir)?.status, .noInput)
        FileManager.default.createFile(atPath: dir + "/empty.mp4", contents: Data())
        XCTAssertEqual(failure(dir + "/empty.mp4")?.message, "empty file")
        FileManager.default.createFile(atPath: dir + "/garbage.mp4", contents: Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7919) }))
        let garbage = failure(dir + "/garbage.mp4")
        XCTAssertEqual(garbage?.status, .dataError)
        XCTAssertEqual(garbage?.file, dir + "/garbage.mp4")

        // A truncated MP4 (its index comes last) cannot be opened; a truncated Matroska file
        // gives the frames before the cut.
        let mp4 = try makeVideo("whole.mp4", frames: 30)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: mp4))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: dir + "/cut.mp4"))
        XCTAssertEqual(failure(dir + "/cut.mp4")?.status, .dataError)
        let mkv = try makeVideo("whole.mkv", frames: 60)
        let mkvBytes = try Data(contentsOf: URL(fileURLWithPath: mkv))
        try mkvBytes.prefix(mkvBytes.count * 2 / 3).write(to: URL(fileURLWithPath: dir + "/cut.mkv"))
        let cut = try decodeAll(dir + "/cut.mkv")
        XCTAssertGreaterThan(cut.count, 10)
        XCTAssertLessThan(cut.count, 60)
        // The last packet may be cut short too.
        XCTAssertEqual(cut.dropLast().map { $0.0 }, (0..<cut.count - 1).map { $0 })
    }

    func testDamagedPacketsAreCountedAndDecodingGoesOn() throws {
        // MP4 keeps its index apart from the coded frames: scribbling over the middle of the
        // file hits frame data only.
        let mkv = try makeVideo("ok.mp4", frames: 60, options: VideoWriterOptions(fps: 30, quality: 18, gop: 10))
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: mkv)))
        // Scribble over a few bytes of a frame in the middle (flat frames are small: a
        // longer stretch would span all later ones).
        for i in bytes.count / 2 ..< bytes.count / 2 + 24 { bytes[i] = UInt8(truncatingIfNeeded: i * 131) }
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/damaged.mp4"))
        let r = try VideoReader(path: dir + "/damaged.mp4")
        var codes: [Int?] = []
        while let f = try r.next() { codes.append(FrameCode.read(f.pixels, width: r.width, height: r.height)) }
        XCTAssertGreaterThan(r.damageCount, 0)
        XCTAssertNotNil(r.firstDamage)
        // Decoding went on past the damage to the end.
        XCTAssertGreaterThan(codes.count, 50)
        XCTAssertEqual(codes.last, 59)
    }

    func testDefaultH264KeepsItsLastFrameAndItsBytes() throws {
        guard VideoCodec.h264.isAvailable else { return }
        // x264's default B-frame pyramid delays timestamps by two frames; the MP4 edit list
        // once ended a frame early. And x264's macroblock tree once made small frames' bytes
        // depend on what the heap held before (the garbage below), so it is off.
        let options = VideoWriterOptions(codec: .h264, fps: 8)
        let a = try makeVideo("a.mp4", frames: 8, fps: 8, width: 32, height: 32, options: options)
        XCTAssertEqual(try decodeAll(a).map { $0.0 }, (0..<8).map { $0 })
        let garbage = [UInt8](repeating: 0xA5, count: 1 << 20)
        XCTAssertEqual(garbage.count, 1 << 20)
        let b = try makeVideo("b.mp4", frames: 8, fps: 8, width: 32, height: 32, options: options)
        XCTAssertEqual(FileManager.default.contents(atPath: a), FileManager.default.contents(atPath: b))
    }
}

final class VideoLeakTests: XCTestCase {
    /// Resident memory in kB, from /proc.
    func residentKB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// Ten thousand opens and decodes of small files, good and bad, must not grow memory.
    func testNoLeakAcrossManySmallFiles() throws {
        FFmpegLog.set(verbose: false)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tb-leak-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let good = dir + "/good.mp4"
        let w = try VideoWriter(path: good, width: 32, height: 32, options: VideoWriterOptions(fps: 10, quality: 30))
        for i in 0..<4 { try w.append(FrameCode.image(i, width: 32, height: 32)) }
        try w.finish()
        FileManager.default.createFile(atPath: dir + "/bad.mp4", contents: Data(repeating: 7, count: 3000))
        func round(_ n: Int) throws {
            for i in 0..<n {
                if i % 4 == 3 {
                    XCTAssertThrowsError(try VideoReader(path: dir + "/bad.mp4"))
                    continue
                }
                let r = try VideoReader(path: good, options: DecodeOptions(shortSide: 16, fps: i % 2 == 0 ? 5 : nil))
                while try r.next() != nil {}
            }
        }
        try round(500)  // warm up allocator caches
        let before = residentKB()
        try round(10_000)
        let grown = residentKB() - before
        XCTAssertLessThan(grown, 8 * 1024, "resident memory grew \(grown) kB over 10,000 inputs")
    }
}
