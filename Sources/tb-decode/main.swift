// tb-decode: video and image files to a stream of `frames` records.

import ArgumentParser
import Foundation
import TBCLI
import TBCore
import TBStream
import TBVideo

struct Decode: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tb-decode",
            abstract: "Decode videos and images into a stream of frame records.",
            discussion: "Reads standard input when no file, list or '-' is named. See tb-decode(1).",
            version: "tb-decode " + versionString(extra: [FFmpegVersion.summary, StreamWriter.zstdVersion]))
    }

    @Argument(help: ArgumentHelp("Video or image files ('-' for standard input).", valueName: "file"))
    var files: [String] = []

    @Option(name: [.short, .customLong("list")], help: ArgumentHelp(
        "A list of inputs with labels, in any format of tb-labels(5).", valueName: "list"))
    var list: String?

    @Option(help: ArgumentHelp("Directory the list's relative paths resolve against (default: the list's).",
                               valueName: "dir"))
    var root: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write to this file (atomically), not stdout.",
                                                                       valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Resize so the shorter side is n pixels, keeping the aspect ratio.", valueName: "n"))
    var shortSide: Int?

    @Option(help: ArgumentHelp("Resize to exactly WxH pixels.", valueName: "WxH"))
    var size: SizeValue?

    @Option(help: ArgumentHelp("Output frame rate: frames chosen by timestamp.", valueName: "rate"))
    var fps: Double?

    @Option(help: ArgumentHelp("Skip to this time (seconds, 10s, 1:30).", valueName: "time"))
    var start: TimeValue?

    @Option(help: ArgumentHelp("Decode this much from the start time.", valueName: "time"))
    var duration: TimeValue?

    @Option(help: ArgumentHelp("At most n frames per input.", valueName: "n"))
    var maxFrames: Int?

    @Option(help: ArgumentHelp("Frames per record (default: 4 seconds' worth, at most 24 MiB).", valueName: "n"))
    var chunk: Int?

    @Option(help: ArgumentHelp("Resampling filter: bilinear, bicubic, area, lanczos, point.", valueName: "name"))
    var filter: String = "bicubic"

    @Option(help: ArgumentHelp("Take every N-th input from the I-th (0-based); default from Slurm's array variables.",
                               valueName: "I/N"))
    var shard: Shard?

    @Option(help: ArgumentHelp("zstd compression level of the output stream (1-19).", valueName: "n"))
    var level: Int32 = StreamWriter.defaultLevel

    @Flag(help: "Stop at the first input that cannot be decoded.")
    var strict = false

    @Flag(name: .shortAndLong, help: "Show FFmpeg's own warnings.")
    var verbose = false

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if let s = shortSide, !(1...16384).contains(s) { throw ValidationError("--short-side must be 1 to 16384") }
        if shortSide != nil && size != nil { throw ValidationError("--short-side and --size contradict each other") }
        if let s = size, s.width > 16384 || s.height > 16384 { throw ValidationError("--size must be at most 16384x16384") }
        if let f = fps, !(f > 0 && f <= 1000) { throw ValidationError("--fps must be above 0 and at most 1000") }
        if let d = duration, d.seconds <= 0 { throw ValidationError("--duration must be positive") }
        if let m = maxFrames, m < 1 { throw ValidationError("--max-frames must be at least 1") }
        if let c = chunk, c < 1 { throw ValidationError("--chunk must be at least 1") }
        if ScaleFilter(rawValue: filter) == nil {
            throw ValidationError("--filter must be one of " + ScaleFilter.allCases.map(\.rawValue).joined(separator: ", "))
        }
        if !(1...19).contains(level) { throw ValidationError("--level must be 1 to 19") }
        if list != nil && !files.isEmpty { throw ValidationError("give files or --list, not both") }
        if root != nil && list == nil { throw ValidationError("--root needs --list") }
    }

    /// One input: where to read it, its id in the output, and what the list says of it.
    struct Input {
        var path: String
        var id: String
        var header: JSONObject
    }

    func inputs() throws -> [Input] {
        guard let list else {
            return (files.isEmpty ? ["-"] : files).map { Input(path: $0, id: $0, header: JSONObject([("id", .string($0))])) }
        }
        let labels = try LabelSet.load(path: list)
        return try labels.records.map { r in
            var h = JSONObject([("id", .string(r.id))])
            if let l = r.label { h["label"] = JSON(l) }
            if let c = labels.className(of: r) { h["class"] = .string(c) }
            return Input(path: try labels.resolve(id: r.id, root: root), id: r.id, header: h)
        }
    }

    func run() throws {
        common.apply()
        FFmpegLog.set(verbose: verbose)
        let all = try inputs()
        let shard = self.shard ?? Shard.fromEnvironment() ?? Shard(index: 0, count: 1)
        let mine = all.enumerated().filter { shard.contains($0.offset) }.map(\.element)
        let out = try Output(path: output)
        let writer = try StreamWriter(sink: out.file, level: level, workers: common.threadCount)
        let log = try common.openLog(tool: "tb-decode")
        let progress = common.makeProgress("tb-decode", total: mine.count, unit: "inputs")
        let options = DecodeOptions(shortSide: shortSide, width: size?.width, height: size?.height, fps: fps,
                                    start: start?.seconds ?? 0, duration: duration?.seconds, maxFrames: maxFrames,
                                    threads: common.threadCount, filter: ScaleFilter(rawValue: filter) ?? .bicubic)
        var skipped = 0, frames = 0
        var firstFailure: Failure?
        for input in mine {
            do {
                let reader = try VideoReader(path: input.path, options: options)
                let n = chunk ?? FrameRecords.defaultChunk(fps: reader.outputFrameRate, width: reader.width,
                                                           height: reader.height)
                let summary = try FrameRecords.decode(reader, chunk: n, header: input.header) { try writer.write($0) }
                frames += summary.frames
                if reader.damageCount > 0 {
                    writeStandardError("tb-decode: \(input.path): \(reader.damageCount) damaged packets or frames, "
                                       + "decoding went on (first: \(reader.firstDamage ?? "?"))\n")
                }
                var fields = JSONObject([("id", .string(input.id)), ("status", "ok"), ("frames", JSON(summary.frames)),
                                         ("chunks", JSON(summary.chunks))])
                if reader.damageCount > 0 { fields["damaged"] = JSON(reader.damageCount) }
                try log?.write("input", fields)
            } catch let f as Failure where f.status == .dataError || f.status == .noInput {
                let failure = f.at(file: input.path)
                if strict { throw failure }
                skipped += 1
                firstFailure = firstFailure ?? failure
                writeStandardError("tb-decode: skipped \(failure)\n")
                try log?.write("input", JSONObject([("id", .string(input.id)), ("status", "skipped"),
                                                    ("reason", .string(failure.message))]))
            }
            progress.advance()
        }
        progress.finish()
        try writer.flush()
        try log?.write("done", JSONObject([("inputs", JSON(mine.count)), ("skipped", JSON(skipped)), ("frames", JSON(frames))]))
        if skipped > 0 {
            writeStandardError("tb-decode: \(skipped) of \(mine.count) inputs skipped\n")
        }
        // Some output is a success; nothing from something is the first input's failure.
        if skipped == mine.count, let firstFailure {
            // Name the list, and the first problem with its file: the skip lines may be long gone.
            throw Failure(firstFailure.status, "no input could be decoded (first: \(firstFailure))", file: list)
        }
        try out.commit()
    }
}

runTool(Decode.self, name: "tb-decode", computes: false)
