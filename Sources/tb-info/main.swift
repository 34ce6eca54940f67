// tb-info: what a file holds. The model for every tb program's main: parse, open, loop, close.

import ArgumentParser
import TBCLI
import TBCore
import TBStream
import TBVideo

struct Info: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tb-info",
            abstract: "Show what a tensor stream, checkpoint or label file holds.",
            discussion: "Reads standard input when no file or '-' is named. See tb-info(1).",
            version: "tb-info " + versionString(extra: [FFmpegVersion.summary, StreamWriter.zstdVersion]))
    }

    @Argument(help: ArgumentHelp("Streams (.tbs), checkpoints (.safetensors) or label files.", valueName: "file"))
    var files: [String] = []

    @Flag(name: [.short, .long], help: "Totals instead of a line per record, tensor or class.")
    var summary = false

    @Flag(name: [.short, .long], help: "JSON lines instead of text.")
    var json = false

    @Option(name: [.customShort("n"), .customLong("records")],
            help: ArgumentHelp("Look at the first n records only.", valueName: "n"))
    var limit: Int?

    @Option(name: .long, help: ArgumentHelp("Draw a contact sheet of the first records to this PNG file.",
                                            valueName: "file.png"))
    var sheet: String?

    @Option(name: .long, help: ArgumentHelp("Frames per record on the contact sheet.", valueName: "n"))
    var sheetFrames = 8

    @Option(name: .long, help: ArgumentHelp("Thumbnail height on the contact sheet, in pixels.", valueName: "px"))
    var sheetHeight = 64

    @Option(name: .long, help: ArgumentHelp("Directory relative paths in list files resolve against.",
                                            valueName: "dir"))
    var root: String?

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--records must not be negative") }
        if !(1...64).contains(sheetFrames) { throw ValidationError("--sheet-frames must be 1 to 64") }
        if !(8...512).contains(sheetHeight) { throw ValidationError("--sheet-height must be 8 to 512") }
        if sheet != nil && files.count > 1 { throw ValidationError("--sheet takes one input") }
    }

    func run() throws {
        common.apply()
        let out = OutputFile.standardOutput()
        let log = try common.openLog(tool: "tb-info")
        let inputs = files.isEmpty ? ["-"] : files
        var options = InspectOptions()
        options.summary = summary
        options.json = json
        options.limit = limit ?? (sheet != nil ? 8 : nil)
        options.root = root
        options.sheet = sheet.map { SheetOptions(path: $0, framesPerRecord: sheetFrames, thumbnailHeight: sheetHeight) }
        for (i, path) in inputs.enumerated() {
            if inputs.count > 1 && !json {
                try out.write((i > 0 ? "\n" : "") + "==> \(path) <==\n")
            }
            var counts = try inspect(path: path, options: options, to: out, common: common)
            counts["file"] = .string(path)
            try log?.write("file", counts)
        }
        try out.flush()
    }
}

runTool(Info.self, name: "tb-info", computes: false)
