// tb-decode and tb-clip run as users run them, on videos made here with libavcodec whose
// frame i shows the number i (FrameCode), so every selection can be checked exactly.

import Foundation
import XCTest
import TBCore
import TBStream
import TBVideo

final class DecodeClipTests: XCTestCase {
    var dir: Scratch!

    override func setUpWithError() throws {
        dir = try Scratch()
        FFmpegLog.set(verbose: false)
    }

    /// A video of `frames` frames at `fps` whose frame i shows FrameCode i.
    @discardableResult
    func video(_ name: String, frames: Int, fps: Int = 30, width: Int = 64, height: Int = 48,
               rotation: Int = 0, codec: VideoCodec = .preferred) throws -> String {
        let path = dir.file(name)
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        let w = try VideoWriter(path: path, width: width, height: height,
                                options: VideoWriterOptions(codec: codec, fps: fps, quality: codec == .mjpeg ? 3 : 18,
                                                            rotation: rotation))
        for i in 0..<frames { try w.append(FrameCode.image(i, width: width, height: height)) }
        try w.finish()
        return path
    }

    func records(_ bytes: [UInt8]) throws -> [Record] {
        try bytes.withUnsafeBytes { raw in
            let r = try RecordReader(source: MemorySource(raw, name: "out"))
            var out: [Record] = []
            while let rec = try r.next() { out.append(rec) }
            return out
        }
    }

    func records(file name: String) throws -> [Record] {
        try records([UInt8](try Data(contentsOf: URL(fileURLWithPath: dir.file(name)))))
    }

    /// FrameCode of every frame of a frames or clip record, in payload order.
    func codes(_ r: Record) -> [Int?] {
        let (h, w) = (r.shape[r.shape.count - 3], r.shape[r.shape.count - 2])
        let frameBytes = h * w * 3
        return r.payload.withUnsafeBufferPointer { p in
            stride(from: 0, to: p.count, by: frameBytes).map {
                FrameCode.read(UnsafeBufferPointer(rebasing: p[$0..<$0 + frameBytes]), width: w, height: h)
            }
        }
    }

    func testFrameRateChunksAndHeaders() throws {
        try video("v.mp4", frames: 60)
        let r = try dir.sh("tb-decode v.mp4 --fps 10 --chunk 4 -o out.tbs")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        let recs = try records(file: "out.tbs")
        XCTAssertEqual(recs.map { $0.shape[0] }, [4, 4, 4, 4, 4])
        XCTAssertEqual(recs.flatMap(codes), stride(from: 0, to: 60, by: 3).map { $0 })
        for (i, rec) in recs.enumerated() {
            XCTAssertEqual(rec.kind, "frames")
            XCTAssertEqual(rec.layout, "THWC")
            XCTAssertEqual(rec.id, "v.mp4")
            XCTAssertEqual(rec.index, i)
            XCTAssertEqual(rec.header["fps"]?.doubleValue, 10)
            XCTAssertEqual(rec.header["t0"]?.doubleValue ?? -1, Double(i) * 0.4, accuracy: 1e-9)
            XCTAssertEqual(rec.header["source_size"], JSON([64, 48]))
            XCTAssertEqual(Array(rec.shape.dropFirst()), [48, 64, 3])
        }
        // Every frame, a resize, a start and a frame limit.
        let all = try records(try dir.sh("tb-decode v.mp4 --short-side 24 --start 1s --max-frames 7").stdoutBytes)
        XCTAssertEqual(all.flatMap(codes), Array(30..<37))
        XCTAssertEqual(Array(all[0].shape.dropFirst()), [24, 32, 3])
        let sized = try records(try dir.sh("tb-decode v.mp4 --size 20x30 --duration 0.1").stdoutBytes)
        XCTAssertEqual(sized.map(\.shape), [[3, 30, 20, 3]])
    }

    func testListsWithSpacesLabelsAndShards() throws {
        try video("clips/walk fast/a b.mp4", frames: 8)
        try video("clips/run/c.mkv", frames: 5)
        try video("clips/run/d e.mp4", frames: 3)
        try dir.write("lists/train list.txt", "walk fast/a b.mp4 1\nrun/c.mkv 0\nrun/d e.mp4 0\n")
        let r = try dir.sh("tb-decode -l 'lists/train list.txt' --root clips > all.tbs && tb-info all.tbs")
        XCTAssertEqual(r.status, 0, r.stderr)
        let recs = try records(file: "all.tbs")
        XCTAssertEqual(recs.map(\.id), ["walk fast/a b.mp4", "run/c.mkv", "run/d e.mp4"])
        XCTAssertEqual(recs.map(\.label), [1, 0, 0])
        XCTAssertEqual(recs.map { $0.shape[0] }, [8, 5, 3])
        // Shards take every other input; together they are the whole.
        try dir.sh("tb-decode -l 'lists/train list.txt' --root clips --shard 0/2 > s0.tbs")
        let s1 = try dir.sh("SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_COUNT=2 "
                            + "tb-decode -l 'lists/train list.txt' --root clips > s1.tbs")
        XCTAssertEqual(s1.status, 0, s1.stderr)
        XCTAssertEqual(try records(file: "s0.tbs").map(\.id), ["walk fast/a b.mp4", "run/d e.mp4"])
        XCTAssertEqual(try records(file: "s1.tbs").map(\.id), ["run/c.mkv"])
        let bad = try dir.sh("tb-decode --shard 2/2 x.mp4")
        XCTAssertEqual(bad.status, 64)
    }

    func testBadInputsAreSkippedNamedAndCounted() throws {
        try video("good.mp4", frames: 4)
        try dir.write("empty.mp4", "")
        try dir.write("garbage.mp4", bytes: (0..<4000).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) })
        try dir.write("audio.wav", bytes: wav(seconds: 0.5))
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try video("whole.mp4", frames: 30))))
        try dir.write("cut.mp4", bytes: Array(whole.prefix(whole.count / 2)))

        // A valid container whose coded frames are all noise: nothing decodes.
        var noise = whole
        for i in 64 ..< noise.count * 9 / 10 { noise[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 13) }
        try dir.write("noise.mp4", bytes: noise)

        let inputs = "missing.mp4 empty.mp4 garbage.mp4 audio.wav cut.mp4 noise.mp4 good.mp4"
        let r = try dir.sh("tb-decode \(inputs) --log log.jsonl -o out.tbs")
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stderr.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 7, r.stderr)
        XCTAssertEqual(lines[0], "tb-decode: skipped missing.mp4: no such file")
        XCTAssertEqual(lines[1], "tb-decode: skipped empty.mp4: empty file")
        XCTAssertTrue(lines[2].hasPrefix("tb-decode: skipped garbage.mp4: not a video or image"), lines[2])
        XCTAssertEqual(lines[3], "tb-decode: skipped audio.wav: no video stream (audio only)")
        XCTAssertTrue(lines[4].hasPrefix("tb-decode: skipped cut.mp4: "), lines[4])
        XCTAssertTrue(lines[5].hasPrefix("tb-decode: skipped noise.mp4: "), lines[5])
        XCTAssertEqual(lines[6], "tb-decode: 6 of 7 inputs skipped")
        XCTAssertEqual(try records(file: "out.tbs").map(\.id), ["good.mp4"])
        let log = try String(contentsOfFile: dir.file("log.jsonl"), encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "\"status\":\"skipped\"").count - 1, 6, log)
        XCTAssertTrue(log.contains("\"skipped\":6"), log)

        // --strict: the first bad input is fatal with its status, and no output is left.
        let missing = try dir.sh("tb-decode --strict good.mp4 missing.mp4 -o strict.tbs")
        XCTAssertEqual(missing.status, 66)
        XCTAssertEqual(missing.stderr, "tb-decode: missing.mp4: no such file\n")
        let garbage = try dir.sh("tb-decode --strict good.mp4 garbage.mp4 -o strict.tbs")
        XCTAssertEqual(garbage.status, 65)
        XCTAssertFalse(dir.contents("").contains { $0.contains("strict") }, "\(dir.contents(""))")
        // Nothing decodable at all is a failure too.
        XCTAssertEqual(try dir.sh("tb-decode garbage.mp4 > /dev/null").status, 65)

        // Damage inside a video: one line with the count, and the frames around it.
        var damaged = whole
        for i in damaged.count / 2 ..< damaged.count / 2 + 24 { damaged[i] = UInt8(truncatingIfNeeded: i &* 131) }
        try dir.write("damaged.mp4", bytes: damaged)
        let d = try dir.sh("tb-decode damaged.mp4 > d.tbs")
        XCTAssertEqual(d.status, 0)
        XCTAssertTrue(d.stderr.hasPrefix("tb-decode: damaged.mp4: "), d.stderr)
        XCTAssertTrue(d.stderr.contains("damaged packets or frames, decoding went on (first: "), d.stderr)
        XCTAssertEqual(d.stderr.split(separator: "\n").count, 1, d.stderr)
        XCTAssertEqual(try records(file: "d.tbs").flatMap(codes).last, 29)
    }

    func testImagesRotationAndStandardInput() throws {
        let image = FrameCode.image(77, width: 40, height: 30)
        try dir.write("a.png", bytes: try PNG.encode(image))
        let jpeg = VideoWriter.self
        for (name, codec) in [("b.jpg", VideoCodec.mjpeg), ("c.webp", .webp)] where codec.isAvailable {
            let w = try jpeg.init(path: dir.file(name), width: 40, height: 30,
                                  options: VideoWriterOptions(codec: codec, fps: 1, quality: 2))
            try w.append(image)
            try w.finish()
        }
        let names = ["a.png", "b.jpg", "c.webp"].filter { dir.exists($0) }
        XCTAssertGreaterThanOrEqual(names.count, 2)
        let r = try dir.sh("tb-decode --fps 8 " + names.joined(separator: " "))
        XCTAssertEqual(r.status, 0, r.stderr)
        let recs = try records(r.stdoutBytes)
        XCTAssertEqual(recs.map(\.shape), Array(repeating: [1, 30, 40, 3], count: names.count))
        XCTAssertEqual(recs.flatMap(codes), Array(repeating: 77, count: names.count))
        XCTAssertTrue(recs.allSatisfy { $0.header["fps"] == nil }, "still images have no frame rate")

        // A rotated phone video comes out upright, as ffmpeg shows it.
        try video("rot.mp4", frames: 2, width: 64, height: 48, rotation: 90)
        let rot = try records(try dir.sh("tb-decode rot.mp4").stdoutBytes)
        XCTAssertEqual(rot[0].shape, [2, 64, 48, 3])
        XCTAssertEqual(rot[0].header["source_size"], JSON([48, 64]))

        // Standard input (a streamable container).
        try video("s.mkv", frames: 6)
        let piped = try dir.sh("cat s.mkv | tb-decode --chunk 4")
        XCTAssertEqual(piped.status, 0, piped.stderr)
        XCTAssertEqual(try records(piped.stdoutBytes).flatMap(codes), Array(0..<6))
    }

    func testClipModesSelectTheRightFrames() throws {
        try video("v.mp4", frames: 40, fps: 10)
        try dir.sh("tb-decode v.mp4 --chunk 3 > f.tbs")
        func clips(_ args: String) throws -> [Record] {
            let r = try dir.sh("tb-clip \(args) f.tbs")
            XCTAssertEqual(r.status, 0, args + ": " + r.stderr)
            return try records(r.stdoutBytes)
        }
        // Dense: T=4, every 2nd frame, a clip every 10 frames.
        let dense = try clips("--len 4 --stride 2 --step 10")
        XCTAssertEqual(dense.map(codes), [[0, 2, 4, 6], [10, 12, 14, 16], [20, 22, 24, 26], [30, 32, 34, 36]])
        XCTAssertEqual(dense.map { $0.header["t0"]?.doubleValue ?? -1 }, [0, 1, 2, 3])
        XCTAssertTrue(dense.allSatisfy { $0.kind == "clip" && $0.layout == "NTHWC" && $0.id == "v.mp4" })
        // K clips evenly: one record [3, 4, H, W, 3].
        let even = try clips("--clips 3 --len 4")
        XCTAssertEqual(even.count, 1)
        XCTAssertEqual(Array(even[0].shape.prefix(2)), [3, 4])
        XCTAssertEqual(codes(even[0]), [6, 7, 8, 9, 18, 19, 20, 21, 30, 31, 32, 33])
        // TSN segments, one frame from the middle of each of 4.
        XCTAssertEqual(try clips("--segments 4").map(codes), [[4, 14, 24, 34]])
        // Pretraining: long clip at stride S=2, S short clips over the same 8 frames.
        let pre = try clips("--pretrain 2 --len 4")
        XCTAssertEqual(pre.count, 5)
        XCTAssertEqual(codes(pre[1]), [8, 10, 12, 14, 8, 9, 10, 11, 12, 13, 14, 15])
        // Windows of 1.5 s every second, 3 frames spread over each; the last one padded.
        let windows = try clips("--window 1.5s --hop 1s --len 3")
        XCTAssertEqual(windows.map(codes).first, [2, 7, 12])
        XCTAssertEqual(windows.count, 4)
        XCTAssertEqual(windows.last.map(codes), [32, 37, 39])
        XCTAssertEqual(windows.last?.header["window"], JSON([3.0, 4.5]))
        // A frame every 1.2 s.
        XCTAssertEqual(try clips("--every 1.2s").map(codes), [[0], [12], [24], [36]])
        // Clips do not depend on how frames were chunked.
        try dir.sh("tb-decode v.mp4 --chunk 40 > g.tbs")
        for args in ["--len 4 --stride 2 --step 10", "--window 1.5s --hop 1s --len 3", "--pretrain 2 --len 4"] {
            let a = try dir.sh("tb-clip \(args) f.tbs | zstd -dc | md5sum").stdout
            let b = try dir.sh("tb-clip \(args) g.tbs | zstd -dc | md5sum").stdout
            XCTAssertEqual(a, b, args)
        }
    }

    func testShortVideosArePaddedOrSkipped() throws {
        try video("short.mp4", frames: 3)
        try dir.sh("tb-decode short.mp4 > s.tbs")
        let padded = try records(try dir.sh("tb-clip --len 5 s.tbs").stdoutBytes)
        XCTAssertEqual(padded.map(codes), [[0, 1, 2, 2, 2]])
        let skipped = try dir.sh("tb-clip --len 5 --short skip s.tbs")
        XCTAssertEqual(skipped.status, 0)
        XCTAssertTrue(skipped.stdoutBytes.isEmpty)
        XCTAssertEqual(skipped.stderr, "tb-clip: 1 of 1 videos gave no clip (shorter than a clip; --short skip)\n")
    }

    func testClipRejectsWhatIsNotFrames() throws {
        try video("v.mp4", frames: 6)
        try dir.sh("tb-decode v.mp4 | tb-clip --len 2 > c.tbs")
        let r = try dir.sh("tb-clip --len 2 c.tbs -o out.tbs")
        XCTAssertEqual(r.status, 65)
        XCTAssertEqual(r.stderr, "tb-clip: c.tbs: record 0: a clip, not frames: tb-clip reads tb-decode's output\n")
        XCTAssertFalse(dir.exists("out.tbs"))
        let modes = try dir.sh("tb-clip --len 2 --clips 2 --every 1s c.tbs")
        XCTAssertEqual(modes.status, 64)
        let truncated = try dir.sh("tb-decode v.mp4 --chunk 2 | head -c 300 | tb-clip --len 2 > /dev/null")
        XCTAssertEqual(truncated.status, 65, truncated.stderr)
        XCTAssertTrue(truncated.stderr.hasPrefix("tb-clip: <stdin>: record 0"), truncated.stderr)
    }

    /// A WAV file of silence: a real audio-only input.
    func wav(seconds: Double) -> [UInt8] {
        let samples = Int(8000 * seconds)
        func le32(_ v: Int) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        func le16(_ v: Int) -> [UInt8] { (0..<2).map { UInt8((v >> (8 * $0)) & 0xFF) } }
        return Array("RIFF".utf8) + le32(36 + samples * 2) + Array("WAVEfmt ".utf8) + le32(16) + le16(1) + le16(1)
            + le32(8000) + le32(16000) + le16(2) + le16(16) + Array("data".utf8) + le32(samples * 2)
            + [UInt8](repeating: 0, count: samples * 2)
    }
}
