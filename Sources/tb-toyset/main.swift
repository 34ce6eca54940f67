// tb-toyset: makes the toy data set (tb-toyset(1)): real encoded videos whose classes depend on
// appearance or on motion, web images, untrimmed videos and their label lists.

import ArgumentParser
import TBCLI
import TBCore
import TBStream
import TBVideo

struct ToySetCommand: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tb-toyset",
            abstract: "Make a small real data set of videos, images and label lists.",
            discussion: "Writes into DIR, which must be empty or new. See tb-toyset(1).",
            version: "tb-toyset " + versionString(extra: [FFmpegVersion.summary]))
    }

    @Argument(help: ArgumentHelp("Directory to make the data set in.", valueName: "dir"))
    var directory: String

    @Option(name: .long, help: ArgumentHelp("Frame and image size (even numbers).", valueName: "WxH"))
    var size = "64x64"

    @Option(name: .long, help: ArgumentHelp("Frames of a trimmed video.", valueName: "n"))
    var frames = 32

    @Option(name: .long, help: ArgumentHelp("Frame rate of every video.", valueName: "n"))
    var fps = 16

    @Option(name: .long, help: ArgumentHelp("Classes: groups (appearance, motion), all, or class names, comma-separated.",
                                            valueName: "list"))
    var classes = "all"

    @Option(name: .long, help: ArgumentHelp("Labeled training videos per class.", valueName: "n"))
    var labeled = 4

    @Option(name: .long, help: ArgumentHelp("Unlabeled training videos per class.", valueName: "n"))
    var unlabeled = 12

    @Option(name: .long, help: ArgumentHelp("Validation videos per class.", valueName: "n"))
    var val = 6

    @Option(name: .long, help: ArgumentHelp("Web images per class.", valueName: "n"))
    var images = 6

    @Option(name: .long, help: ArgumentHelp("Untrimmed videos.", valueName: "n"))
    var untrimmed = 3

    @Option(name: .long, help: ArgumentHelp("Length of each untrimmed video.", valueName: "seconds"))
    var untrimmedSeconds = 20.0

    @Option(name: .long, help: ArgumentHelp("Clutter blobs in every video and image.", valueName: "n"))
    var distractors = 1

    @Option(name: .long, help: ArgumentHelp("Ground textures shared by all videos (0: one of its own each).", valueName: "n"))
    var backgrounds = 8

    @Option(name: .long, help: ArgumentHelp("Scale of the camera's shift, zoom and turn (0: still).", valueName: "x"))
    var cameraMotion = 1.0

    @Option(name: .long, help: ArgumentHelp("Video codec: h264 or mpeg4 (default: h264 when libavcodec has it).",
                                            valueName: "codec"))
    var codec: String?

    @Flag(name: .long, help: "Every video frame shows its number as a frame code instead of the scene.")
    var frameCodes = false

    @Flag(name: .long, help: "Write into a directory that is not empty.")
    var force = false

    @OptionGroup var common: CommonOptions

    func options() throws -> ToySetOptions {
        var o = ToySetOptions()
        let sides = size.split(separator: "x", omittingEmptySubsequences: false)
        guard sides.count == 2, let w = Int(sides[0]), let h = Int(sides[1]) else {
            throw ValidationError("--size must be WxH, e.g. 64x64, not '\(size)'")
        }
        (o.width, o.height) = (w, h)
        if let codec {
            guard let c = VideoCodec(rawValue: codec), c == .h264 || c == .mpeg4 else {
                throw ValidationError("--codec must be h264 or mpeg4, not '\(codec)'")
            }
            o.codec = c
        }
        o.classes = try ToyClass.parse(classes)
        (o.frames, o.fps, o.labeled, o.unlabeled, o.validation) = (frames, fps, labeled, unlabeled, val)
        (o.images, o.untrimmed, o.untrimmedSeconds) = (images, untrimmed, untrimmedSeconds)
        (o.distractors, o.cameraMotion, o.frameCodes) = (distractors, cameraMotion, frameCodes)
        o.backgrounds = backgrounds
        o.seed = common.seed
        o.threads = common.threadCount
        try o.validate()
        return o
    }

    func validate() throws { _ = try options() }

    func run() throws {
        common.apply()
        FFmpegLog.set(verbose: false)
        let o = try options()
        let log = try common.openLog(tool: "tb-toyset")
        let progress = common.makeProgress("tb-toyset", total: ToySet.plan(o).count, unit: "files")
        try ToySet.generate(into: directory, options: o, force: force) { done, _ in
            progress.advance(done - progress.done)
        }
        progress.finish()
        try log?.write("done", JSONObject([("directory", .string(directory)), ("files", JSON(progress.done))]))
    }
}

runTool(ToySetCommand.self, name: "tb-toyset", computes: false)
