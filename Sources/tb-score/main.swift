// tb-score: class probabilities per video from one or more checkpoints; with two teachers
// and --tstr, TimeBalance's temporal similarity and the mixed soft targets.

import ArgumentParser
import Foundation
import TBCLI
import TBCore
import TBMethods
import TBNN
import TBStream
import TBTensor
import TBVideo

struct Score: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tb-score",
            abstract: "Score videos with checkpoints: probabilities, predictions, TimeBalance soft targets.",
            discussion: "Checkpoints are the .safetensors arguments; streams the others, or standard input. See tb-score(1).",
            version: "tb-score " + versionString(extra: [StreamWriter.zstdVersion]))
    }

    @Argument(help: ArgumentHelp("Checkpoints (.safetensors), then clip or frame streams ('-' or none: stdin).",
                                 valueName: "file"))
    var files: [String] = []

    @Flag(help: "Two checkpoints, the invariant teacher then the distinctive one: temporal similarity and soft targets.")
    var tstr = false

    @Flag(help: "With --tstr, weight by the raw temporal similarity (as --tss-scale raw).")
    var rawTss = false

    @Option(help: ArgumentHelp("With --tstr, s from the similarity's minmax rescaling (default), its rank, or raw.",
                               valueName: "how"))
    var tssScale: String?

    /// How s comes from the temporal similarity.
    var scale: String { tssScale ?? (rawTss ? "raw" : "minmax") }

    @Option(help: ArgumentHelp("Clips per video when the input is frames (evenly spread).", valueName: "K"))
    var clips = 4

    @Option(help: ArgumentHelp("Frames per clip when the input is frames.", valueName: "T"))
    var len = 8

    @Option(help: ArgumentHelp("Network input size (default: the training size the checkpoint records, else the clips' shorter side).",
                               valueName: "n"))
    var size: Int?

    @Option(help: ArgumentHelp("Centre crop as a fraction of the shorter side.", valueName: "f"))
    var crop: Double = 1

    @Option(name: [.customLong("threshold"), .customLong("min-conf")],
            help: ArgumentHelp("Mark keep: true when the confidence is at least this.", valueName: "p"))
    var threshold: Double?

    @Flag(name: .customLong("keep-top1"),
          help: "Mark keep: true only when the prediction equals the video's own (searched) label.")
    var keepTop1Flag = false

    @Option(name: .customLong("keep"), help: ArgumentHelp("top1: as --keep-top1.", valueName: "rule"))
    var keepRule: String?

    var keepTop1: Bool { keepTop1Flag || keepRule == "top1" }

    @Option(help: ArgumentHelp("Write clip features as a stream (f32 [M, K, D] per video).", valueName: "file"))
    var features: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the JSON lines here (atomically), not stdout.",
                                                                       valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Take every N-th video from the I-th (0-based); default from Slurm's array variables "
                               + "when reading files.", valueName: "I/N"))
    var shard: Shard?

    @OptionGroup var common: CommonOptions

    var checkpoints: [String] { files.filter { $0.hasSuffix(".safetensors") } }
    var streams: [String] { files.filter { !$0.hasSuffix(".safetensors") } }

    func validate() throws {
        if checkpoints.isEmpty { throw ValidationError("name at least one checkpoint (.safetensors)") }
        if tstr && checkpoints.count != 2 {
            throw ValidationError("--tstr takes two checkpoints, the invariant teacher then the distinctive one")
        }
        if (rawTss || tssScale != nil) && !tstr { throw ValidationError("--raw-tss and --tss-scale need --tstr") }
        if let t = tssScale, !["minmax", "rank", "raw"].contains(t) {
            throw ValidationError("--tss-scale must be minmax, rank or raw")
        }
        if rawTss && tssScale != nil && tssScale != "raw" { throw ValidationError("--raw-tss contradicts --tss-scale \(tssScale!)") }
        guard clips >= 1, len >= 1 else { throw ValidationError("--clips and --len must be at least 1") }
        if let s = size, !(1...4096).contains(s) { throw ValidationError("--size must be 1 to 4096") }
        if !(crop > 0 && crop <= 1) { throw ValidationError("--crop must be in (0, 1]") }
        if let r = keepRule, r != "top1" { throw ValidationError("--keep takes top1 (confidence is --min-conf)") }
        if let t = threshold, !(0...1).contains(t) { throw ValidationError("--threshold must be in [0, 1]") }
    }

    /// What is kept of a video until the output is written.
    struct Scored {
        var header: JSONObject
        var scores: [ModelScore]
    }

    func run() throws {
        common.apply()
        let models = try checkpoints.map { try ResNet.load(path: $0) }
        let classCount = models[0].classes
        for (m, path) in zip(models, checkpoints) where m.classes != classCount {
            throw Failure(.usage, "has \(m.classes) classes, \(checkpoints[0]) \(classCount)", file: path)
        }
        let metadata = try SafeTensorsFile(path: checkpoints[0]).metadata
        let names = metadata["classes"].flatMap { try? JSON.parse($0).arrayValue?.compactMap(\.stringValue) }
        let trainedSize = metadata["input_size"].flatMap { Int($0) }
        let out = try Output(path: output)
        let featureOut = try features.map { try Output(path: $0) }
        let featureWriter = try featureOut.map { try StreamWriter(sink: $0.file, level: 3) }
        let log = try common.openLog(tool: "tb-score")
        let progress = common.makeProgress("tb-score", unit: "videos")
        var kept = [Int](repeating: 0, count: classCount), offered = [Int](repeating: 0, count: classCount)
        var pending: [Scored] = []

        /// `fromClips`: the record is an input clip record, not one made here from frames.
        func handle(_ record: Record, place: (String, Int), fromClips: Bool = false) throws {
            let s = size ?? trainedSize ?? min(record.shape[2], record.shape[3])
            let input = try clipInput(record, size: s, crop: crop, place: place)
            do { try checkInputSize(height: s, width: s, for: models[0].spec) } catch let f as Failure {
                throw f.at(file: place.0, record: place.1)
            }
            if tstr && input.shape[0] < 2 {
                throw Failure(.dataError, "--tstr needs at least 2 clips per video, this record has 1",
                              file: place.0, record: place.1)
            }
            var header = JSONObject([("id", record.header["id"] ?? .string(""))])
            if let l = record.header["label"] { header["label"] = l }
            // Which of a video's clip records this is (tb-clip --window, --every): with keep
            // false, tb-mix leaves out this record and not the whole video.
            if fromClips, let i = record.header["index"], i.intValue != nil { header["index"] = i }
            if fromClips, let w = record.header["window"] { header["window"] = w }
            let scores = models.map { score($0, clips: input) }
            if let featureWriter {
                let d = scores[0].features[0].count
                var h = header
                h["layout"] = "MKD"
                try featureWriter.write(Record(kind: "features", shape: [scores.count, input.shape[0], d],
                                               floats: scores.flatMap { $0.features.flatMap { $0 } }, header: h))
            }
            let item = Scored(header: header, scores: scores)
            if tstr { pending.append(item) } else { try emit(item, tss: nil) }
            progress.advance()
        }

        func emit(_ item: Scored, tss: (raw: [Double], mean: Double, s: Double)?) throws {
            var o = item.header
            var probs: [Float]
            if let tss {
                let pInv = item.scores[0].probabilities, pDis = item.scores[1].probabilities
                o["teachers"] = .array(zip(item.scores, tss.raw).map { score, raw in
                    .object(JSONObject([("probs", JSON(rounded(score.probabilities))), ("tss", .double(round6(raw)))]))
                })
                o["tss"] = .double(round6(tss.mean))
                o["s"] = .double(round6(tss.s))
                o["weights"] = JSON([round6(tss.s), round6(1 - tss.s)])
                probs = TimeBalance.mix(invariant: pInv, distinctive: pDis, s: tss.s)
                o["soft"] = JSON(rounded(probs))
            } else {
                probs = item.scores[0].probabilities
                if item.scores.count > 1 {
                    probs = probs.indices.map { j in item.scores.reduce(Float(0)) { $0 + $1.probabilities[j] } / Float(item.scores.count) }
                }
            }
            let pred = probs.indices.max { probs[$0] < probs[$1] } ?? 0
            o["probs"] = JSON(rounded(probs))
            o["pred"] = JSON(pred)
            if let names, pred < names.count { o["pred_class"] = .string(names[pred]) }
            o["conf"] = .double(round6(Double(probs[pred])))
            if threshold != nil || keepTop1 {
                var keep = true
                if let threshold { keep = keep && Double(probs[pred]) >= threshold }
                let label = o["label"]?.intValue
                if keepTop1 { keep = keep && label == pred }
                o["keep"] = .bool(keep)
                if let label, (0..<classCount).contains(label) {
                    offered[label] += 1
                    if keep { kept[label] += 1 }
                }
            }
            try out.file.write(JSON.object(o).text + "\n")
        }

        let reader = StreamReader(paths: streams.isEmpty ? ["-"] : streams)
        var videos = VideoShardFilter(Shard.chosen(shard, streams: streams))
        if tstr && scale != "raw", let s = videos.shard {
            // The rescaling is over every video: a shard's would differ from the whole run's.
            throw Failure(.usage, "--tstr rescales the temporal similarity over all videos, so it cannot run as shard "
                          + "\(s.index)/\(s.count)" + (shard == nil ? " (from SLURM_ARRAY_TASK_ID)" : "")
                          + ": add --raw-tss, or score with --shard 0/1")
        }
        let maker = ClipMaker(mode: .evenly(ClipShape(length: len), count: clips))
        while let record = try reader.next() {
            guard videos.keeps(record) else { continue }
            let place = (reader.currentName, reader.currentRecord)
            if record.kind == "frames" {
                try maker.add(record, place: place) { try handle($0, place: place) }
            } else {
                try maker.finish { try handle($0, place: place) }
                try handle(record, place: place, fromClips: true)
            }
        }
        try maker.finish { try handle($0, place: (reader.currentName, reader.currentRecord)) }
        if tstr {
            // The second pass is over features already computed, never over the videos.
            let raw = pending.map { item in item.scores.map { TimeBalance.temporalSimilarity($0.features) } }
            let means = raw.map { ($0[0] + $0[1]) / 2 }
            let s: [Double]
            switch scale {
            case "raw": s = means.map { min(max($0, 0), 1) }
            case "rank": s = TimeBalance.rankRescale(means)
            default: s = TimeBalance.rescale(means)
            }
            for (i, item) in pending.enumerated() { try emit(item, tss: (raw[i], means[i], s[i])) }
        }
        progress.finish()
        try featureWriter?.flush()
        try featureOut?.commit()
        try out.commit()
        if threshold != nil || keepTop1, offered.reduce(0, +) > 0 {
            let parts = offered.indices.filter { offered[$0] > 0 }.map { c in
                "\(names.flatMap { c < $0.count ? $0[c] : nil } ?? String(c)) \(kept[c])/\(offered[c])"
            }
            common.note("tb-score", "kept " + parts.joined(separator: ", "))
            try log?.write("kept", JSONObject([("kept", JSON(kept)), ("offered", JSON(offered))]))
        }
    }
}

private func round6(_ x: Double) -> Double { (x * 1e6).rounded() / 1e6 }
private func rounded(_ p: [Float]) -> [Double] { p.map { round6(Double($0)) } }

runTool(Score.self, name: "tb-score")
