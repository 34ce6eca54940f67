// bin/bench decode: tb-decode beside the ffmpeg tool on the same files in the same run:
// decode + resize to a 128-pixel short side + RGB, frames/s and peak RSS.

import ArgumentParser
import Foundation
import TBCLI
import TBCore
import TBStream
import TBVideo
#if canImport(Glibc)
import Glibc
#endif

struct DecodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "tb-decode beside `ffmpeg -vf scale=-2:128 -pix_fmt rgb24` on 720p H.264 and VP9 files.")

    @Option(help: "Comma-separated thread counts.") var threads = "1,2"
    @Option(help: "Seconds of 30 fps 720p video per test file.") var seconds = 10
    @Option(help: "Directory for the generated test files (kept between runs).") var directory = ".build/bench-decode"
    @Option(help: "The ffmpeg tool.") var ffmpeg = "/usr/bin/ffmpeg"
    @Option(help: "Runs per tool, file and thread count; the fastest counts.") var repeats = 2
    @Flag(help: "One JSON line per tool, file and thread count: tool, file, threads, frames, fps, max_rss_mb.")
    var json = false
    @Flag(help: .hidden) var generateOnly = false

    func run() throws {
        FFmpegLog.set(verbose: false)
        let threadList = threads.split(separator: ",").compactMap { Int($0) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var files: [(String, Int)] = []
        for codec in [VideoCodec.h264, .vp9] where codec.isAvailable {
            let path = directory + "/720p-\(codec.rawValue)-\(seconds)s." + (codec == .vp9 ? "webm" : "mp4")
            if generateOnly { _ = try makeFile(path, codec: codec) }
            files.append((path, seconds * 30))
        }
        if generateOnly { return }
        // Made in a child process: a child's peak RSS (wait4) starts from its parent's.
        if files.contains(where: { !FileManager.default.fileExists(atPath: $0.0) }) {
            _ = try measure([programDirectory() + "/tbbench", "decode", "--generate-only", "--seconds", "\(seconds)",
                             "--directory", directory])
        }
        let tbDecode = programDirectory() + "/tb-decode"
        let haveFFmpeg = FileManager.default.isExecutableFile(atPath: ffmpeg)
        if !json {
            print("decode + resize to 128 px short side + RGB24; fastest of \(repeats); frames/s (peak RSS)")
            print(pad("file", 28) + pad("threads", 9) + pad("tb-decode", 20) + pad("ffmpeg", 20) + pad("tb/ffmpeg", 11))
        }
        for (path, frames) in files {
            for t in threadList {
                let tb = try best {
                    try measure([tbDecode, path, "--short-side", "128", "--threads", "\(t)", "--level", "1", "-q"])
                }
                var row = pad((path as NSString).lastPathComponent, 28) + pad("\(t)", 9) + cell(frames, tb)
                emit(tool: "tb-decode", file: path, threads: t, frames: frames, tb)
                if haveFFmpeg {
                    let ff = try best {
                        try measure([ffmpeg, "-v", "error", "-threads", "\(t)", "-filter_threads", "\(t)", "-i", path,
                                     "-vf", "scale=-2:128", "-pix_fmt", "rgb24", "-f", "rawvideo", "-y", "/dev/null"])
                    }
                    row += cell(frames, ff) + pad(formatFixed(ff.seconds / tb.seconds, 2) + "x", 11)
                    emit(tool: "ffmpeg", file: path, threads: t, frames: frames, ff)
                }
                if !json { print(row) }
            }
        }
        if !haveFFmpeg && !json { print("(no \(ffmpeg): install Debian's ffmpeg to compare)") }
    }

    struct Measurement {
        var seconds: Double
        var maxRSSMB: Double
    }

    func best(_ run: () throws -> Measurement) throws -> Measurement {
        var m = try run()
        for _ in 1..<max(repeats, 1) {
            let n = try run()
            if n.seconds < m.seconds { m = n }
        }
        return m
    }

    func cell(_ frames: Int, _ m: Measurement) -> String {
        pad(formatFixed(Double(frames) / m.seconds, 0) + " (" + formatFixed(m.maxRSSMB, 0) + " MB)", 20)
    }

    func emit(tool: String, file: String, threads: Int, frames: Int, _ m: Measurement) {
        guard json else { return }
        let o = JSONObject([("tool", .string(tool)), ("file", .string((file as NSString).lastPathComponent)),
                            ("threads", JSON(threads)), ("frames", JSON(frames)),
                            ("fps", .double((Double(frames) / m.seconds * 10).rounded() / 10)),
                            ("max_rss_mb", .double((m.maxRSSMB * 10).rounded() / 10))])
        print(JSON.object(o).text)
    }

    /// Runs a command with stdout to /dev/null; wall time and the child's peak RSS (wait4).
    func measure(_ argv: [String]) throws -> Measurement {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        var cargs = argv.map { strdup($0) } + [nil]
        defer { for p in cargs { free(p) } }
        var pid = pid_t()
        let start = Date()
        let r = posix_spawn(&pid, argv[0], &actions, nil, &cargs, environ)
        guard r == 0 else { throw Failure.internalError("cannot start \(argv[0]): \(errnoString(r))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        let seconds = Date().timeIntervalSince(start)
        guard status == 0 else { throw Failure.internalError("\(argv.joined(separator: " ")) failed (status \(status))") }
        return Measurement(seconds: seconds, maxRSSMB: Double(usage.ru_maxrss) / 1024)
    }

    /// A 720p test file, made once: a textured scene panning under moving blocks and noise,
    /// so the codec has real work. Returns its frame count.
    func makeFile(_ path: String, codec: VideoCodec) throws -> Int {
        let frames = seconds * 30
        if FileManager.default.fileExists(atPath: path) { return frames }
        let (w, h) = (1280, 720)
        let writer = try VideoWriter(path: path, width: w, height: h,
                                     options: VideoWriterOptions(codec: codec, fps: 30, quality: codec == .vp9 ? 32 : 23,
                                                                 gop: 60, threads: 2))
        var noise = SeededGenerator(seed: 11)
        var image = RGBImage(width: w, height: h)
        for f in 0..<frames {
            image.pixels.withUnsafeMutableBufferPointer { p in
                for y in 0..<h {
                    for x in 0..<w {
                        let sx = x + 3 * f, sy = y + f
                        var v = (sx + sy) / 8 + (((sx >> 4) ^ (sy >> 4)) & 1) * 40
                        let bx = (200 + 7 * f) % w, by = (100 + 3 * f) % h
                        if x >= bx && x < bx + 160 && y >= by && y < by + 120 { v = 220 - ((x - bx) & 15) }
                        let n = Int(noise.next() & 7)
                        let o = (y * w + x) * 3
                        p[o] = UInt8(clamping: v + n)
                        p[o + 1] = UInt8(clamping: (v * 3) / 4 + n + (x >> 3))
                        p[o + 2] = UInt8(clamping: 255 - v + n)
                    }
                }
            }
            try writer.append(image)
        }
        try writer.finish()
        return frames
    }

    func programDirectory() -> String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
}
