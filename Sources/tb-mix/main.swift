// tb-mix: the sampler. Labeled and unlabeled videos in, batches of augmented clips out.

import ArgumentParser
import TBCLI
import TBCore
import TBMethods
import TBStream
import TBVideo

struct Mix: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tb-mix",
            abstract: "Draw batches of augmented clips from labeled and unlabeled videos.",
            discussion: "Streams are sampled at random; standard input ('-') is copied to a temporary file first. See tb-mix(1).",
            version: "tb-mix " + versionString(extra: [StreamWriter.zstdVersion]))
    }

    @Argument(help: ArgumentHelp("Labeled frame or clip streams (as --labeled).", valueName: "stream"))
    var streams: [String] = []

    @Option(name: .customLong("labeled"), help: ArgumentHelp("A labeled stream; may be repeated.", valueName: "stream"))
    var labeledStreams: [String] = []

    @Option(name: .customLong("unlabeled"), help: ArgumentHelp("An unlabeled stream; may be repeated.", valueName: "stream"))
    var unlabeledStreams: [String] = []

    @Option(name: .customLong("aux"), help: ArgumentHelp("An auxiliary labeled stream (web images or videos, "
                                                          + "labeled by searched class); may be repeated.", valueName: "stream"))
    var auxStreams: [String] = []

    @Option(help: ArgumentHelp("Target to auxiliary samples per batch, e.g. 2:1 (default 1:1 with --aux).",
                               valueName: "t:a"))
    var ratio: String?

    @Option(help: ArgumentHelp("Draw auxiliary class c with probability ∝ N_c^p (1: as the videos come, 0: balanced).",
                               valueName: "p"))
    var resamplePower: Double?

    @Option(help: ArgumentHelp("Count at most n videos of an auxiliary class when resampling.", valueName: "n"))
    var resampleCap: Int?

    @Option(help: ArgumentHelp("Mixup with λ ~ Beta(α, α) for every labeled and auxiliary sample.", valueName: "α"))
    var mixup: Double?

    @Option(help: ArgumentHelp("Mixup partners: within (the same source) or cross (target with auxiliary).",
                               valueName: "pairs"))
    var mixupPairs = "within"

    @Option(help: ArgumentHelp("Labels and soft targets by id, as JSON lines (tb-score's output).", valueName: "file"))
    var labels: String?

    @Option(help: ArgumentHelp("Samples per batch: B, or L:U labeled and unlabeled.", valueName: "B|L:U"))
    var batch = "16"

    @Option(help: ArgumentHelp("Passes over the labeled videos (over the unlabeled when there are none).",
                               valueName: "n"))
    var epochs: Int?

    @Option(help: ArgumentHelp("Batches in all, instead of epochs.", valueName: "n"))
    var steps: Int?

    @Option(help: ArgumentHelp("Frames per clip.", valueName: "T"))
    var len = 8

    @Option(help: ArgumentHelp("Take every k-th frame within a clip.", valueName: "k"))
    var stride = 1

    @Option(help: ArgumentHelp("TimeBalance pretraining samples: a long and S short clips, each augmented twice.",
                               valueName: "S"))
    var pretrain: Int?

    @Option(help: ArgumentHelp("Output frames are n×n pixels (default: the videos' shorter side).", valueName: "n"))
    var size: Int?

    @Option(help: ArgumentHelp("Augmentation: none, basic (crop and flip) or strong (+ colour jitter and grey).",
                               valueName: "preset"))
    var augment: String?

    @Option(help: ArgumentHelp("Crop area range as a fraction of the frame, e.g. 0.5:1.", valueName: "a:b"))
    var scale: String?

    @Flag(help: "No horizontal flips (for classes that a mirror changes, such as left and right).")
    var noFlip = false

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write to this file (atomically), not stdout.",
                                                                       valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("zstd compression level of the output stream (1-19).", valueName: "n"))
    var level: Int32 = 1

    @OptionGroup var common: CommonOptions

    var labeledPaths: [String] { streams + labeledStreams }

    func batchSizes() throws -> (Int, Int) {
        let parts = batch.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let a = Int(parts[0]), a >= 0 else {
            throw ValidationError("--batch must be B or L:U, not \(batch)")
        }
        if parts.count == 1 {
            // One number: all labeled, or all unlabeled when only unlabeled streams are given.
            return labeledPaths.isEmpty ? (0, a) : (a, 0)
        }
        guard let b = Int(parts[1]), b >= 0 else { throw ValidationError("--batch must be B or L:U, not \(batch)") }
        return (a, b)
    }

    /// Auxiliary samples per batch: the target samples (labeled and unlabeled) × a / t.
    func auxPerBatch() throws -> Int {
        guard !auxStreams.isEmpty else { return 0 }
        let p = (ratio ?? "1:1").split(separator: ":", omittingEmptySubsequences: false).map { Int($0) }
        guard p.count == 2, let t = p[0], let a = p[1], t >= 1, a >= 0 else {
            throw ValidationError("--ratio must be t:a with t >= 1 and a >= 0, not \(ratio ?? "")")
        }
        let (l, u) = try batchSizes()
        let n = ((l + u) * a + t / 2) / t
        if a > 0 && n == 0 { throw ValidationError("--ratio \(t):\(a) of a batch of \(l + u) draws no auxiliary sample") }
        return n
    }

    func scaleRange() throws -> ClosedRange<Double>? {
        guard let scale else { return nil }
        let p = scale.split(separator: ":").map { Double($0) }
        guard p.count == 2, let a = p[0], let b = p[1], a > 0, a <= b, b <= 1 else {
            throw ValidationError("--scale must be a:b with 0 < a <= b <= 1")
        }
        return a...b
    }

    func validate() throws {
        let (l, u) = try batchSizes()
        guard l + u >= 1 else { throw ValidationError("--batch must draw at least one sample") }
        if labeledPaths.isEmpty && unlabeledStreams.isEmpty && !auxStreams.isEmpty {
            throw ValidationError("--aux streams join target streams: give labeled (or unlabeled) streams too")
        }
        if labeledPaths.isEmpty && unlabeledStreams.isEmpty { throw ValidationError("give labeled or unlabeled streams") }
        if epochs != nil && steps != nil { throw ValidationError("give --epochs or --steps, not both") }
        if let e = epochs, e < 1 { throw ValidationError("--epochs must be at least 1") }
        if let s = steps, s < 1 { throw ValidationError("--steps must be at least 1") }
        guard len >= 1, stride >= 1 else { throw ValidationError("--len and --stride must be at least 1") }
        if let s = pretrain, s < 1 { throw ValidationError("--pretrain must be at least 1") }
        if pretrain != nil && stride != 1 { throw ValidationError("--stride does not apply to --pretrain") }
        if let s = size, !(1...4096).contains(s) { throw ValidationError("--size must be 1 to 4096") }
        if let a = augment, !["none", "basic", "strong"].contains(a) {
            throw ValidationError("--augment must be none, basic or strong")
        }
        _ = try scaleRange()
        if auxStreams.isEmpty && (ratio != nil || resamplePower != nil || resampleCap != nil) {
            throw ValidationError("--ratio, --resample-power and --resample-cap need --aux streams")
        }
        _ = try auxPerBatch()
        if let p = resamplePower, !(p >= 0 && p.isFinite) { throw ValidationError("--resample-power must be 0 or more") }
        if let c = resampleCap, c < 1 { throw ValidationError("--resample-cap must be at least 1") }
        if let a = mixup, !(a > 0 && a.isFinite) { throw ValidationError("--mixup must be a positive α") }
        if !["within", "cross"].contains(mixupPairs) { throw ValidationError("--mixup-pairs must be within or cross") }
        if mixupPairs == "cross" && (mixup == nil || auxStreams.isEmpty) {
            throw ValidationError("--mixup-pairs cross needs --mixup and --aux")
        }
        if mixup != nil && pretrain != nil { throw ValidationError("--mixup does not apply to --pretrain samples") }
        if (labeledPaths + unlabeledStreams + auxStreams).filter({ $0 == "-" }).count > 1 {
            throw ValidationError("standard input can be named once")
        }
        if !(1...19).contains(level) { throw ValidationError("--level must be 1 to 19") }
    }

    func run() throws {
        common.apply()
        let (l, u) = try batchSizes()
        // Batches sample at random, epoch after epoch: standard input is copied once to a
        // temporary file and read from there like any other stream.
        let spool = (labeledPaths + unlabeledStreams + auxStreams).contains("-") ? try SpooledInput() : nil
        let labeledPaths = self.labeledPaths.map { $0 == "-" ? spool!.path : $0 }
        let unlabeledStreams = self.unlabeledStreams.map { $0 == "-" ? spool!.path : $0 }
        let auxStreams = self.auxStreams.map { $0 == "-" ? spool!.path : $0 }
        let targets = try labels.map { try Targets.load(path: $0) } ?? Targets()
        if mixup != nil, let id = targets.soft.keys.min() {
            throw Failure(.usage, "--mixup mixes hard labels, and \(labels ?? "") gives soft targets (\"\(id)\", ...): "
                          + "mixup is for supervised and joint training")
        }
        let resampling = (resamplePower != nil || resampleCap != nil)
            ? Resampling(power: resamplePower ?? 1, cap: resampleCap) : nil
        let structure: SampleStructure = pretrain.map { .pretraining(shorts: $0, length: len) }
            ?? .clip(ClipShape(length: len, stride: stride))
        // The frame size is known once the streams are indexed: the sampler starts with a
        // placeholder augmentation, set before the first batch.
        let sampler = try Sampler(labeled: labeledPaths, unlabeled: unlabeledStreams, aux: auxStreams, targets: targets,
                                  options: .init(labeledPerBatch: l, unlabeledPerBatch: u, structure: structure,
                                                 augment: AugmentOptions(size: 1), seed: common.seed,
                                                 auxPerBatch: try auxPerBatch(), resampling: resampling,
                                                 mixup: mixup.map { MixupOptions(alpha: $0, across: mixupPairs == "cross") }))
        let (droppedVideos, droppedRecords) = sampler.dropped
        if droppedVideos + droppedRecords > 0 {
            common.note("tb-mix", "left out what \(labels ?? "") does not keep: \(droppedVideos) videos"
                        + (droppedRecords > 0 ? " and \(droppedRecords) clip records of others" : ""))
        }
        let side = try size ?? sampler.shorterSide()
        let preset = augment ?? (pretrain != nil ? "strong" : "basic")
        var aug: AugmentOptions
        switch preset {
        case "none": aug = .centre(size: side)
        case "strong": aug = AugmentOptions(size: side)
        default: aug = AugmentOptions(size: side, jitter: 0, grayscale: 0)
        }
        if let r = try scaleRange() { aug.scale = r }
        if noFlip { aug.flip = 0 }
        sampler.options.augment = aug
        let perEpoch = sampler.stepsPerEpoch
        let total = steps ?? perEpoch * (epochs ?? 1)
        let out = try Output(path: output)
        let writer = try StreamWriter(sink: out.file, level: level, workers: common.threadCount)
        let progress = common.makeProgress("tb-mix", total: total, unit: "batches")
        let log = try common.openLog(tool: "tb-mix")
        for step in 0..<total {
            try writer.write(try sampler.next(epoch: step / perEpoch))
            progress.advance()
        }
        progress.finish()
        try writer.flush()
        try log?.write("done", JSONObject([("batches", JSON(total)), ("steps_per_epoch", JSON(perEpoch))]))
        try out.commit()
        withExtendedLifetime(spool) {}
    }
}

runTool(Mix.self, name: "tb-mix", computes: false)
