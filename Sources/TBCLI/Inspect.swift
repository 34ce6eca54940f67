// tb-info's work, in a library so tests can call it: detect what a file holds and describe it.

import TBCore
import TBStream
import TBVideo

public struct SheetOptions {
    public var path: String
    public var framesPerRecord: Int
    public var thumbnailHeight: Int
    public init(path: String, framesPerRecord: Int, thumbnailHeight: Int) {
        self.path = path
        self.framesPerRecord = framesPerRecord
        self.thumbnailHeight = thumbnailHeight
    }
}

public struct InspectOptions {
    public var summary = false
    public var json = false
    public var limit: Int?
    public var root: String?
    public var sheet: SheetOptions?
    public init() {}
}

/// Describes one input ("-" for stdin) on `out`; returns counts for the --log line.
@discardableResult
public func inspect(path: String, options: InspectOptions, to out: OutputFile, common: CommonOptions) throws -> JSONObject {
    if path != "-" && isDirectory(path) {
        // A directory of HMDB51 split files is a label set.
        return try describeLabels(try LabelSet.load(path: path), name: path, options: options, to: out)
    }
    let source = try PeekSource(try InputFile(path: path), peek: FileKind.peekSize)
    let name = path == "-" ? "<stdin>" : path
    switch FileKind.detect(source.prefix) {
    case .stream:
        return try inspectStream(source, name: name, options: options, to: out, common: common)
    case .safetensors:
        return try inspectCheckpoint(source, name: name, options: options, to: out)
    case .text:
        return try inspectLabels(source, name: name, options: options, to: out)
    case .empty:
        throw Failure(.dataError, "empty input", file: name)
    case .unknown:
        throw Failure(.dataError, "neither a tensor stream, a safetensors checkpoint nor a text label file "
            + "(a video? decode it with tb-decode)", file: name)
    }
}

func inspectStream(_ source: PeekSource, name: String, options: InspectOptions, to out: OutputFile,
                   common: CommonOptions) throws -> JSONObject {
    let reader = try RecordReader(source: source)
    var totals = StreamTotals()
    var sheet = options.sheet.map { o -> ContactSheet in
        var c = ContactSheetOptions()
        c.framesPerRow = o.framesPerRecord
        c.thumbnailHeight = o.thumbnailHeight
        return ContactSheet(options: c)
    }
    let progress = common.makeProgress("tb-info \(name)")
    while options.limit.map({ reader.recordNumber < $0 }) ?? true {
        let offset = reader.recordOffset
        guard let header = try reader.nextHeader() else { break }
        let summary = RecordSummary(number: reader.recordNumber, offset: offset, header: header)
        if sheet != nil {
            // Drawn as it streams by: the sheet never holds more than one record.
            sheet?.append(Record(dtype: header.dtype, shape: header.shape, header: header.header,
                                 payload: try reader.readPayload()), number: summary.number)
        } else {
            // Decompressed and checksummed, not kept: a corrupt payload is still reported.
            try reader.skipPayload()
        }
        totals.add(header)
        if !options.summary {
            try out.write((options.json ? JSON.object(summary.json).text : summary.line) + "\n")
        }
        progress.advance()
    }
    progress.finish()
    totals.compressedBytes = reader.position
    if options.summary {
        if options.json {
            var o = JSONObject([("file", .string(name)), ("format", "stream")])
            for (k, v) in totals.json { o[k] = v }
            try out.write(JSON.object(o).text + "\n")
        } else {
            for line in totals.text { try out.write(line + "\n") }
        }
    }
    if let sheet, let path = options.sheet?.path {
        guard sheet.count > 0 else { throw Failure(.dataError, "no records to draw a contact sheet of", file: name) }
        let out = try Output(path: path)
        try out.file.write(try PNG.encode(sheet.render()))
        try out.commit()
    }
    return JSONObject([("format", "stream"), ("records", JSON(totals.records)),
                       ("payload_bytes", JSON(totals.payloadBytes)), ("compressed_bytes", JSON(totals.compressedBytes))])
}
