import Foundation
import XCTest
import TBCore
import TBStream
@testable import TBVideo

/// A u8 record whose frame i is filled with colours[i] (grey records use the red channel).
func solidRecord(kind: String, shape: [Int], layout: String, colours: [RGB], id: String, label: Int?) -> Record {
    let channels = shape[shape.count - 1], frameSize = shape.suffix(3).reduce(1, *)
    var payload: [UInt8] = []
    for c in colours {
        let pixel = channels == 3 ? [c.r, c.g, c.b] : [c.r]
        for _ in 0..<(frameSize / channels) { payload += pixel }
    }
    var header = JSONObject([("layout", .string(layout)), ("id", .string(id))])
    if let label { header["label"] = JSON(label) }
    return Record(kind: kind, dtype: .u8, shape: shape, header: header, payload: payload)
}

/// The colours an image uses.
func colourSet(_ image: RGBImage) -> Set<RGB> {
    Set(stride(from: 0, to: image.pixels.count, by: 3).map {
        RGB(image.pixels[$0], image.pixels[$0 + 1], image.pixels[$0 + 2])
    })
}

final class ContactSheetTests: XCTestCase {
    func colours(_ n: Int, base: Int) -> [RGB] {
        (0..<n).map { RGB(UInt8(base + 20 * $0), UInt8(200 - 20 * $0), UInt8(base / 2 + $0)) }
    }

    func testSheetLayoutAndThumbnailColours() throws {
        let frames = colours(4, base: 10)                 // [T=4, H=8, W=12, C=3]
        let clips = colours(6, base: 60)                  // [K=2, T=3, H=16, W=16, C=3]
        let greys = [RGB(gray: 30), RGB(gray: 90), RGB(gray: 250)]  // [T=3, H=10, W=5, C=1]
        let records = [
            solidRecord(kind: "frames", shape: [4, 8, 12, 3], layout: "THWC", colours: frames, id: "a.mp4", label: 3),
            solidRecord(kind: "clip", shape: [2, 3, 16, 16, 3], layout: "NTHWC", colours: clips,
                        id: "kinetics/train/abseiling/a_very_long_video_name_0001.mp4", label: nil),
            solidRecord(kind: "frames", shape: [3, 10, 5, 1], layout: "THWC", colours: greys, id: "g.png", label: 0),
            Record(kind: "features", shape: [2, 4], floats: Array(repeating: 0.5, count: 8),
                   header: JSONObject([("id", "f")])),
        ]
        var options = ContactSheetOptions()
        options.framesPerRow = 4
        options.thumbnailHeight = 16
        var sheet = ContactSheet(options: options)
        for r in records { sheet.append(r) }
        let image = sheet.render()

        // Thumbnails are 16 high: 24, 16 and 8 wide; up to 4 per row, 4 pixels apart.
        let gap = 4, text = options.textColumnWidth
        XCTAssertEqual(text, 23 * 6 + 5)
        XCTAssertEqual(options.rowHeight, 43)   // five lines of text beat 16-pixel thumbnails
        let widest = text + gap + 4 * 24 + 3 * gap
        XCTAssertEqual(image.width, widest + 2 * gap)
        XCTAssertEqual(image.height, gap + 4 * (43 + gap))

        // Shown frames: all 4; 0, 1, 3, 5 of the clips' 6; all 3 grey ones.
        let expected: [[RGB]] = [frames, [clips[0], clips[1], clips[3], clips[5]], greys, []]
        XCTAssertEqual(sheet.thumbnailRects.map(\.count), expected.map(\.count))
        for (row, rects) in sheet.thumbnailRects.enumerated() {
            for (rect, colour) in zip(rects, expected[row]) {
                XCTAssertEqual(rect.height, 16)
                XCTAssertEqual(rect.y, gap + row * (43 + gap))
                XCTAssertEqual(rect.width, [24, 16, 8][row])
                let crop = image.cropped(to: rect)
                XCTAssertEqual(crop, RGBImage(width: rect.width, height: rect.height, color: colour), "row \(row)")
            }
        }
        XCTAssertEqual(sheet.thumbnailRects[0][0].x, gap + text + gap)

        // The text column has text on every row, and the feature row says it is not an image.
        for row in 0..<4 {
            let column = image.cropped(to: Rect(x: gap, y: gap + row * 47, width: text, height: 43))
            XCTAssertTrue(colourSet(column).contains(options.textColor), "row \(row)")
        }
        let note = image.cropped(to: Rect(x: gap, y: gap + 3 * 47 + 4 * 9, width: text, height: 7))
        XCTAssertEqual(colourSet(note), [options.background, options.warningColor])
        XCTAssertEqual(image.pixel(x: image.width - 1, y: image.height - 1), options.background)
    }

    func testRowTextIsShortenedToTheColumn() {
        XCTAssertEqual(ContactSheet.shorten("short", to: 24), "short")
        let id = "kinetics/train/abseiling/a_very_long_video_name_0001.mp4"
        let s = ContactSheet.shorten(id, to: 24)
        XCTAssertEqual(s.count, 24)
        XCTAssertTrue(s.hasPrefix("kinetic"))
        XCTAssertTrue(s.hasSuffix("name_0001.mp4"))
        XCTAssertEqual(ContactSheet.shorten(id, to: 3), "kin")
    }

    func testFrameIndices() {
        XCTAssertEqual(ContactSheet.frameIndices(count: 32, limit: 8), [0, 4, 8, 13, 17, 22, 26, 31])
        XCTAssertEqual(ContactSheet.frameIndices(count: 3, limit: 8), [0, 1, 2])
        XCTAssertEqual(ContactSheet.frameIndices(count: 9, limit: 1), [4])
        XCTAssertEqual(ContactSheet.frameIndices(count: 0, limit: 4), [])
        XCTAssertEqual(ContactSheet.frameIndices(count: 5, limit: 0), [])
    }

    func testEmptySheetAndOddOptions() throws {
        XCTAssertEqual(ContactSheet.draw([]).height, 4)
        var options = ContactSheetOptions()
        options.framesPerRow = -3
        options.textColumns = 0
        options.thumbnailHeight = 0
        options.spacing = -1
        let r = solidRecord(kind: "frames", shape: [2, 4, 4, 3], layout: "THWC", colours: colours(2, base: 0),
                            id: "x", label: nil)
        // No text, no thumbnails, no spacing: two rows of the smallest thumbnail height.
        let image = ContactSheet.draw([r, r], options: options)
        XCTAssertEqual(image.height, 2)
        XCTAssertEqual(image.width, 0)
        options.framesPerRow = 2
        XCTAssertEqual(ContactSheet.draw([r], options: options).width, 2)
        XCTAssertNoThrow(try PNG.encode(ContactSheet.draw([r])))
    }

    /// `TB_SHEET_SAMPLE=/tmp/sheet.png swift test --filter writeSample` writes a sheet to look at.
    func testWriteSampleWhenAsked() throws {
        guard let path = ProcessInfo.processInfo.environment["TB_SHEET_SAMPLE"] else { return }
        var records: [Record] = []
        for (n, (shape, layout, kind)) in [([16, 48, 64, 3], "THWC", "frames"), ([4, 8, 56, 56, 3], "NTHWC", "clip"),
                                           ([12, 60, 40, 1], "THWC", "frames")].enumerated() {
            let t = shape.dropLast(3).reduce(1, *), h = shape[shape.count - 3], w = shape[shape.count - 2]
            let c = shape[shape.count - 1]
            var payload = [UInt8](repeating: 0, count: t * h * w * c)
            for f in 0..<t {
                // A gradient with a square moving left to right across the frames.
                let sx = f * (w - 12) / max(t - 1, 1)
                for y in 0..<h {
                    for x in 0..<w {
                        let inSquare = x >= sx && x < sx + 12 && y >= h / 2 - 6 && y < h / 2 + 6
                        let v = [UInt8(x * 255 / w), UInt8(y * 255 / h), UInt8(80 + 40 * n)]
                        for k in 0..<c { payload[((f * h + y) * w + x) * c + k] = inSquare ? 255 : v[k] }
                    }
                }
            }
            let id = ["toy/moving_square_left_to_right_000\(n).mp4", "toy/b.mp4", "web/c.png"][n]
            var header = JSONObject([("layout", .string(layout)), ("id", .string(id))])
            header["label"] = JSON(n)
            records.append(Record(kind: kind, dtype: .u8, shape: shape, header: header, payload: payload))
        }
        records.append(Record(kind: "features", shape: [1, 512], floats: Array(repeating: 0, count: 512)))
        let bytes = try PNG.encode(ContactSheet.draw(records))
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}
