// tb-clip: frame records to clip records: dense clips, K clips per video, TSN segments,
// windows over untrimmed video, frames at a rate, TimeBalance's pretraining structure.

import ArgumentParser
import TBCLI
import TBCore
import TBStream
import TBVideo

struct Clip: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tb-clip",
            abstract: "Cut the frame records of videos into clip records.",
            discussion: "Reads standard input when no stream or '-' is named. See tb-clip(1).",
            version: "tb-clip " + versionString(extra: [StreamWriter.zstdVersion]))
    }

    @Argument(help: ArgumentHelp("Frame streams from tb-decode ('-' for standard input).", valueName: "stream"))
    var streams: [String] = []

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write to this file (atomically), not stdout.",
                                                                       valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Frames per clip (T).", valueName: "T"))
    var len: Int?

    @Option(help: ArgumentHelp("Take every k-th frame within a clip.", valueName: "k"))
    var stride = 1

    @Option(help: ArgumentHelp("Dense clips: frames between clip starts (default: one clip span).", valueName: "s"))
    var step: Int?

    @Option(help: ArgumentHelp("K clips spread evenly over each video, in one record.", valueName: "K"))
    var clips: Int?

    @Option(help: ArgumentHelp("TSN: K equal segments, --len frames (default 1) from the middle of each.",
                               valueName: "K"))
    var segments: Int?

    @Option(help: ArgumentHelp("Windows of this duration over untrimmed video (10s, 1:00).", valueName: "time"))
    var window: TimeValue?

    @Option(help: ArgumentHelp("Time between window starts (default: the window).", valueName: "time"))
    var hop: TimeValue?

    @Option(help: ArgumentHelp("One frame every this long, each its own record.", valueName: "time"))
    var every: TimeValue?

    @Option(help: ArgumentHelp("TimeBalance pretraining: a long clip and S short clips over one span.",
                               valueName: "S"))
    var pretrain: Int?

    @Option(help: ArgumentHelp("Clips running past a video's end: pad (repeat the last frame) or skip.",
                               valueName: "pad|skip"))
    var short = "pad"

    @Option(help: ArgumentHelp("Take every N-th video from the I-th (0-based); default from Slurm's array variables "
                               + "when reading files.", valueName: "I/N"))
    var shard: Shard?

    @Option(help: ArgumentHelp("zstd compression level of the output stream (1-19).", valueName: "n"))
    var level: Int32 = StreamWriter.defaultLevel

    @OptionGroup var common: CommonOptions

    /// The mode the options name; exactly one of them (dense when only --len is given).
    func mode() throws -> ClipMode {
        let chosen = [clips != nil, segments != nil, window != nil, every != nil, pretrain != nil].filter { $0 }.count
        guard chosen <= 1 else {
            throw ValidationError("--clips, --segments, --window, --every and --pretrain are different modes: give one")
        }
        if let l = len, l < 1 { throw ValidationError("--len must be at least 1") }
        guard stride >= 1 else { throw ValidationError("--stride must be at least 1") }
        if let s = step, s < 1 { throw ValidationError("--step must be at least 1") }
        if hop != nil && window == nil { throw ValidationError("--hop needs --window") }
        if step != nil && (clips != nil || segments != nil || window != nil || every != nil) {
            throw ValidationError("--step applies to dense clips and --pretrain only")
        }
        if let k = clips {
            guard k >= 1, let t = len else { throw ValidationError("--clips needs K >= 1 and --len") }
            return .evenly(ClipShape(length: t, stride: stride), count: k)
        }
        if let k = segments {
            guard k >= 1 else { throw ValidationError("--segments must be at least 1") }
            guard stride == 1 else { throw ValidationError("--stride does not apply to --segments") }
            return .segments(count: k, length: len ?? 1)
        }
        if let w = window {
            guard w.seconds > 0, (hop?.seconds ?? w.seconds) > 0 else { throw ValidationError("--window and --hop must be positive") }
            guard stride == 1 else { throw ValidationError("--stride does not apply to --window; use --len") }
            return .windows(seconds: w.seconds, hop: hop?.seconds ?? w.seconds, length: len)
        }
        if let e = every {
            guard e.seconds > 0 else { throw ValidationError("--every must be positive") }
            guard len == nil, stride == 1 else { throw ValidationError("--every takes single frames: no --len or --stride") }
            return .every(seconds: e.seconds)
        }
        if let s = pretrain {
            guard s >= 1, let t = len else { throw ValidationError("--pretrain needs S >= 1 and --len") }
            guard stride == 1 else { throw ValidationError("--stride does not apply to --pretrain (the long clip's is S)") }
            return .pretraining(shorts: s, length: t, step: step ?? s * t)
        }
        guard let t = len else {
            throw ValidationError("say how to cut: --len T (dense), --clips, --segments, --window, --every or --pretrain")
        }
        let shape = ClipShape(length: t, stride: stride)
        return .dense(shape, step: step ?? shape.span)
    }

    func validate() throws {
        _ = try mode()
        guard short == "pad" || short == "skip" else { throw ValidationError("--short must be pad or skip") }
        if !(1...19).contains(level) { throw ValidationError("--level must be 1 to 19") }
    }

    func run() throws {
        common.apply()
        let maker = ClipMaker(mode: try mode(), pad: short == "pad")
        let reader = StreamReader(paths: streams.isEmpty ? ["-"] : streams)
        let out = try Output(path: output)
        let writer = try StreamWriter(sink: out.file, level: level, workers: common.threadCount)
        let log = try common.openLog(tool: "tb-clip")
        let progress = common.makeProgress("tb-clip", unit: "records")
        var videos = VideoShardFilter(Shard.chosen(shard, streams: streams))
        while let record = try reader.next() {
            guard videos.keeps(record) else { continue }
            try maker.add(record, place: (reader.currentName, reader.currentRecord)) { try writer.write($0) }
            progress.advance()
        }
        try maker.finish { try writer.write($0) }
        progress.finish()
        try writer.flush()
        let c = maker.counts
        if c.videosWithoutClips > 0 {
            common.note("tb-clip", "\(c.videosWithoutClips) of \(c.videos) videos gave no clip (shorter than a clip; --short skip)")
        }
        try log?.write("done", JSONObject([("videos", JSON(c.videos)), ("clips", JSON(c.clips)),
                                           ("videos_without_clips", JSON(c.videosWithoutClips))]))
        try out.commit()
    }
}

runTool(Clip.self, name: "tb-clip", computes: false)
