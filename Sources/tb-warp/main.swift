// tb-warp: images into pseudo-videos (copy, translate, random perspective warps), and
// `tb-warp fit`, the camera-motion distribution those warps draw from, fitted on real video.

import ArgumentParser
import TBCLI
import TBCore
import TBStream
import TBWarp

struct Tool: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tb-warp",
            abstract: "Images into pseudo-videos by random camera motion; 'tb-warp fit' learns the motion from videos.",
            discussion: "See tb-warp(1).",
            version: "tb-warp " + versionString(extra: [StreamWriter.zstdVersion]),
            subcommands: [Warp.self, Fit.self],
            defaultSubcommand: Warp.self)
    }
}

struct Warp: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "warp",
            abstract: "Turn image records into clip records by copying, translating or warping them.",
            discussion: "Reads standard input when no stream or '-' is named. See tb-warp(1).")
    }

    @Argument(help: ArgumentHelp("Frame streams of images from tb-decode ('-' for standard input).", valueName: "stream"))
    var streams: [String] = []

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write to this file (atomically), not stdout.",
                                                                       valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("copy, translate or perspective.", valueName: "mode"))
    var mode: String = "perspective"

    @Option(help: ArgumentHelp("Motion model from 'tb-warp fit' (perspective mode).", valueName: "file"))
    var model: String?

    @Option(help: ArgumentHelp("Frames per clip (T).", valueName: "T"))
    var len = 8

    @Option(help: ArgumentHelp("Translate mode: the window's size as a fraction of the image.", valueName: "f"))
    var crop = 0.8

    @Option(help: ArgumentHelp("Take every N-th record from the I-th (default: the Slurm array task).",
                               valueName: "I/N"))
    var shard: Shard?

    @Option(help: ArgumentHelp("zstd compression level of the output stream (1-19).", valueName: "n"))
    var level: Int32 = StreamWriter.defaultLevel

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard let m = WarpMode(rawValue: mode) else { throw ValidationError("--mode must be copy, translate or perspective") }
        guard len >= 1 else { throw ValidationError("--len must be at least 1") }
        guard crop > 0 && crop <= 1 else { throw ValidationError("--crop must be in (0, 1]") }
        if m == .perspective && model == nil { throw ValidationError("--mode perspective needs --model (from tb-warp fit)") }
        if m != .perspective && model != nil { throw ValidationError("--model applies to --mode perspective only") }
        if !(1...19).contains(level) { throw ValidationError("--level must be 1 to 19") }
    }

    func run() throws {
        common.apply()
        let motion = try model.map { try MotionModel.load(path: $0) }
        let maker = PseudoVideo(mode: WarpMode(rawValue: mode)!, length: len, cropFraction: crop, model: motion)
        let part = shard ?? Shard.fromEnvironment() ?? Shard(index: 0, count: 1)
        let reader = StreamReader(paths: streams.isEmpty ? ["-"] : streams)
        let out = try Output(path: output)
        let writer = try StreamWriter(sink: out.file, level: level, workers: common.threadCount)
        let progress = common.makeProgress("tb-warp", unit: "images")
        var position = 0, written = 0
        while let record = try reader.next() {
            defer { position += 1 }
            guard part.contains(position) else { continue }
            try writer.write(try maker.clip(of: record, position: position, seed: common.seed,
                                            place: (reader.currentName, reader.currentRecord)))
            written += 1
            progress.advance()
        }
        progress.finish()
        try writer.flush()
        try common.openLog(tool: "tb-warp")?.write("done", JSONObject([("images", JSON(written)), ("mode", .string(mode))]))
        try out.commit()
    }
}

struct Fit: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "fit",
            abstract: "Fit the camera-motion distribution (mu, Sigma of homographies) of real videos.",
            discussion: "Reads frame streams from tb-decode; writes the model as JSON. See tb-warp(1).")
    }

    @Argument(help: ArgumentHelp("Frame streams of videos from tb-decode ('-' for standard input).", valueName: "stream"))
    var streams: [String] = []

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the model to this file (atomically), not stdout.",
                                                                       valueName: "file"))
    var output: String?

    @Flag(name: .customLong("per-class"), help: "Fit a Gaussian per label as well.")
    var perClass = false

    @Option(name: .customLong("min-pairs"), help: ArgumentHelp("Classes with fewer pairs use the class-agnostic fit.",
                                                               valueName: "n"))
    var minPairs = 10

    @Option(name: .customLong("min-gradient"), help: ArgumentHelp(
        "Skip frames whose RMS gradient is below this (grey levels per pixel).", valueName: "g"))
    var minGradient = 1.0

    @Option(name: .customLong("max-residual"), help: ArgumentHelp(
        "Skip pairs whose RMS difference after alignment exceeds this (grey levels).", valueName: "r"))
    var maxResidual = 20.0

    @OptionGroup var common: CommonOptions

    func validate() throws {
        guard minPairs >= 2 else { throw ValidationError("--min-pairs must be at least 2") }
        guard minGradient >= 0, maxResidual > 0 else { throw ValidationError("--min-gradient must be >= 0 and --max-residual > 0") }
    }

    func run() throws {
        common.apply()
        var settings = AlignmentSettings()
        settings.minimumGradient = minGradient
        settings.maximumResidual = maxResidual
        let fit = MotionFit(settings: settings, minimumPairs: minPairs, threads: common.threadCount)
        let reader = StreamReader(paths: streams.isEmpty ? ["-"] : streams)
        let out = try Output(path: output)
        let progress = common.makeProgress("tb-warp fit", unit: "records")
        while let record = try reader.next() {
            try fit.add(record, place: (reader.currentName, reader.currentRecord))
            progress.advance()
        }
        progress.finish()
        let model: MotionModel
        do { model = try fit.model(perClass: perClass) } catch let f as Failure {
            // Nothing to fit is the input's fault: name it.
            throw f.at(file: streams.isEmpty || streams == ["-"] ? "<stdin>" : streams.joined(separator: ", "))
        }
        try out.file.write(model.json.text + "\n")
        let c = fit.counts
        if c.totalSkipped > 0 {
            let reasons = SkipReason.allCases.compactMap { r in c.skipped[r].map { "\($0) \(r.rawValue)" } }
            common.note("tb-warp", "skipped \(c.totalSkipped) of \(c.used + c.totalSkipped) frame pairs ("
                        + reasons.joined(separator: ", ") + ")")
        }
        if perClass, !fit.classesTooSmall().isEmpty {
            common.note("tb-warp", "classes with fewer than \(minPairs) pairs use the class-agnostic fit: "
                        + fit.classesTooSmall().map(String.init).joined(separator: ", "))
        }
        try common.openLog(tool: "tb-warp")?.write("done", JSONObject([("videos", JSON(fit.videos)),
            ("pairs", JSON(c.used)), ("skipped", JSON(c.totalSkipped))]))
        try out.commit()
    }
}

runTool(Tool.self, name: "tb-warp", computes: false)
