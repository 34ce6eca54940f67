// A contact sheet: one row per record, a text column (number, kind, id, label, shape)
// and a few thumbnails evenly spaced over the record's frames. It is how a person checks
// what a stream holds (tb-info --sheet) without a video player.
//
// Rows are drawn as records arrive, so a caller streaming a large file keeps only the
// small row pictures, never the records.

import TBStream

/// How a contact sheet looks.
public struct ContactSheetOptions: Sendable {
    /// Most thumbnails per record, evenly spaced over all its frames (all clips of a multi-clip record).
    public var framesPerRow = 8
    /// Height of every thumbnail; widths keep the frames' aspect ratio, up to 4× the height.
    public var thumbnailHeight = 64
    /// Characters in the text column; longer ids and shapes are shortened in the middle.
    public var textColumns = 24
    /// Pixels between the text, the thumbnails, the rows and the sheet's edges.
    public var spacing = 4
    /// Colour of the sheet behind everything: dark, so that thumbnails stand out.
    public var background = RGB(gray: 32)
    /// Colour of the text column.
    public var textColor = RGB(gray: 224)
    /// Colour of the "not an image" note.
    public var warningColor = RGB(255, 144, 96)

    /// The defaults: 8 thumbnails 64 pixels high, 24 characters of text.
    public init() {}

    /// Lines of text per row.
    static let textLines = 5

    /// Width in pixels of the text column.
    public var textColumnWidth: Int {
        let columns = min(max(textColumns, 0), 1000)
        return columns == 0 ? 0 : Font.standard.size(of: String(repeating: "M", count: columns)).width
    }

    /// Height in pixels of one row's content (thumbnails or text, whichever is taller).
    public var rowHeight: Int {
        guard textColumnWidth > 0 else { return clampedThumbnailHeight }
        let text = Font.standard.size(of: String(repeating: "\n", count: Self.textLines - 1) + "M").height
        return max(clampedThumbnailHeight, text)
    }

    var clampedThumbnailHeight: Int { min(max(thumbnailHeight, 1), 4096) }
    var clampedSpacing: Int { min(max(spacing, 0), 256) }
}

/// A contact sheet being built, a row at a time.
public struct ContactSheet: Sendable {
    /// How the sheet looks.
    public let options: ContactSheetOptions
    /// Where each row's thumbnails are on the rendered sheet, row by row.
    public private(set) var thumbnailRects: [[Rect]] = []
    private var rows: [RGBImage] = []

    /// An empty sheet.
    public init(options: ContactSheetOptions = ContactSheetOptions()) {
        self.options = options
    }

    /// Rows so far.
    public var count: Int { rows.count }

    /// Adds a row for `record`, labelled with `number` (by default its position on the sheet).
    /// A record that holds no pictures gets a row of text saying so.
    public mutating func append(_ record: Record, number: Int? = nil) {
        let gap = options.clampedSpacing, h = options.clampedThumbnailHeight
        let textWidth = options.textColumnWidth
        var lines = [
            "#\(number ?? rows.count) \(record.kind ?? "record")",
            record.id ?? "no id",
            record.label.map { "label \($0)" } ?? "no label",
            "\(record.dtype.rawValue) \(FrameGeometry.text(of: record.shape))",
        ]

        var thumbnails: [RGBImage] = []
        var note: String? = nil
        if let g = try? FrameGeometry(record: record) {
            let shown = ContactSheet.frameIndices(count: g.count, limit: options.framesPerRow)
            lines.append(g.count == 0 ? "no frames" : "\(shown.count) of \(g.count) frames")
            let aspectWidth: Double = (Double(g.width) * Double(h) / Double(g.height)).rounded()
            let w = Int(min(max(aspectWidth, 1), Double(4 * h)))
            for i in shown {
                // Cannot fail: the geometry and the index were checked above.
                guard let frame = try? RGBImage(record: record, geometry: g, frame: i) else { continue }
                thumbnails.append(frame.resized(width: w, height: h, filter: .bilinear))
            }
        } else {
            note = "not an image"
        }

        let left = textWidth > 0 ? textWidth + gap : 0
        let thumbsWidth = thumbnails.reduce(0) { $0 + $1.width } + gap * max(thumbnails.count - 1, 0)
        var canvas = Canvas(width: left + thumbsWidth, height: options.rowHeight,
                            background: options.background)
        let columns = min(max(options.textColumns, 0), 1000)
        if columns > 0 {
            let text = lines.map { ContactSheet.shorten($0, to: columns) }.joined(separator: "\n")
            canvas.text(text, at: Point(x: 0, y: 0), color: options.textColor)
            if let note {
                let y = Font.standard.lineHeight * lines.count
                canvas.text(ContactSheet.shorten(note, to: columns), at: Point(x: 0, y: y),
                            color: options.warningColor)
            }
        }

        // Rows sit `gap` apart inside a `gap` margin; record where this row's pictures will land.
        let top = gap + rows.count * (options.rowHeight + gap)
        var x = left, rects: [Rect] = []
        for t in thumbnails {
            canvas.draw(t, at: Point(x: x, y: 0))
            rects.append(Rect(x: gap + x, y: top, width: t.width, height: t.height))
            x += t.width + gap
        }
        rows.append(canvas.image)
        thumbnailRects.append(rects)
    }

    /// The sheet: the rows top to bottom on the background, as wide as the widest row.
    public func render() -> RGBImage {
        let gap = options.clampedSpacing
        let width = (rows.map(\.width).max() ?? 0) + 2 * gap
        let height = gap + rows.count * (options.rowHeight + gap)
        var canvas = Canvas(width: width, height: height, background: options.background)
        for (r, row) in rows.enumerated() {
            canvas.draw(row, at: Point(x: gap, y: gap + r * (options.rowHeight + gap)))
        }
        return canvas.image
    }

    /// A sheet of `records`, numbered from 0.
    public static func draw(_ records: [Record], options: ContactSheetOptions = ContactSheetOptions()) -> RGBImage {
        var sheet = ContactSheet(options: options)
        for r in records { sheet.append(r) }
        return sheet.render()
    }

    /// Up to `limit` frame numbers out of `count`, evenly spaced and including the first and the
    /// last; the middle frame when `limit` is 1.
    public static func frameIndices(count: Int, limit: Int) -> [Int] {
        let n = min(max(limit, 0), max(count, 0))
        if n == 0 { return [] }
        if n == 1 { return [(count - 1) / 2] }
        return (0..<n).map { $0 * (count - 1) / (n - 1) }
    }

    /// `text` in at most `limit` characters: the middle replaced by "..." so that both a path's
    /// directory and its file name stay readable.
    static func shorten(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        guard limit > 5 else { return String(text.prefix(max(limit, 0))) }
        // Ids end in the distinctive part (the file name), so keep more of the end.
        let head = (limit - 3) / 3, tail = limit - 3 - head
        return text.prefix(head) + "..." + text.suffix(tail)
    }
}
