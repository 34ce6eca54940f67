import XCTest
import TBCore
import TBStream
@testable import TBVideo

/// Seeded noise: a picture no encoder can cheat on.
func noiseImage(width: Int, height: Int, seed: UInt64) -> RGBImage {
    var g = SeededGenerator(seed: seed)
    var image = RGBImage(width: width, height: height)
    for i in image.pixels.indices { image.pixels[i] = UInt8(truncatingIfNeeded: g.next()) }
    return image
}

/// Asserts that `body` throws a Failure with `status`, and returns its message.
@discardableResult
func assertFailure<T>(_ status: ExitStatus, file: StaticString = #filePath, line: UInt = #line,
                      _ body: () throws -> T) -> String {
    do {
        _ = try body()
        XCTFail("did not throw", file: file, line: line)
    } catch let f as Failure {
        XCTAssertEqual(f.status, status, "\(f)", file: file, line: line)
        return f.message
    } catch {
        XCTFail("threw \(error), not a Failure", file: file, line: line)
    }
    return ""
}

final class PNGTests: XCTestCase {
    func testRoundTripIsLossless() throws {
        for (w, h) in [(1, 1), (3, 5), (333, 17), (64, 48)] {
            let image = noiseImage(width: w, height: h, seed: UInt64(w * 1000 + h))
            let bytes = try PNG.encode(image)
            XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
            XCTAssertEqual(try PNG.decode(bytes), image, "\(w)x\(h)")
        }
    }

    func testEncodeEmptyImageThrows() {
        assertFailure(.dataError) { try PNG.encode(RGBImage(width: 0, height: 4)) }
    }

    func testGarbageIsDataError() {
        var g = SeededGenerator(seed: 7)
        let noise = (0..<500).map { _ in UInt8(truncatingIfNeeded: g.next()) }
        assertFailure(.dataError) { try PNG.decode([]) }
        assertFailure(.dataError) { try PNG.decode(noise) }
        assertFailure(.dataError) { try PNG.decode(PNG.signature) }
        assertFailure(.dataError) { try PNG.decode(PNG.signature + noise) }
    }

    func testTruncatedIsDataError() throws {
        let bytes = try PNG.encode(noiseImage(width: 40, height: 30, seed: 3))
        for keep in [9, 20, 33, bytes.count / 2, bytes.count - 40] {
            assertFailure(.dataError) { try PNG.decode(Array(bytes.prefix(keep))) }
        }
    }

    func testDecodesOtherColourTypesToRGB() throws {
        // Grey 8-bit.
        let grey = handmadePNG(width: 2, height: 2, colorType: 0, rows: [[0, 128], [255, 7]])
        XCTAssertEqual(try PNG.decode(grey).pixels, [0, 0, 0, 128, 128, 128, 255, 255, 255, 7, 7, 7])
        // RGB straight through the helper, to trust it for the others.
        let rgb = handmadePNG(width: 1, height: 2, colorType: 2, rows: [[1, 2, 3], [250, 251, 252]])
        XCTAssertEqual(try PNG.decode(rgb).pixels, [1, 2, 3, 250, 251, 252])
        // RGBA: alpha is dropped, colour kept.
        let rgba = handmadePNG(width: 2, height: 1, colorType: 6, rows: [[10, 20, 30, 0, 40, 50, 60, 255]])
        XCTAssertEqual(try PNG.decode(rgba).pixels, [10, 20, 30, 40, 50, 60])
        // Palette.
        let pal = handmadePNG(width: 3, height: 1, colorType: 3, palette: [9, 8, 7, 200, 100, 50],
                              rows: [[1, 0, 1]])
        XCTAssertEqual(try PNG.decode(pal).pixels, [200, 100, 50, 9, 8, 7, 200, 100, 50])
        // 16-bit grey: the extremes map exactly.
        let deep = handmadePNG(width: 2, height: 1, colorType: 0, bitDepth: 16, rows: [[0, 0, 255, 255]])
        XCTAssertEqual(try PNG.decode(deep).pixels, [0, 0, 0, 255, 255, 255])
    }
}

final class ImageTests: XCTestCase {
    func testPixelAccessClipsOutside() {
        var image = RGBImage(width: 3, height: 2, color: RGB(1, 2, 3))
        XCTAssertEqual(image.pixel(x: 2, y: 1), RGB(1, 2, 3))
        XCTAssertNil(image.pixel(x: 3, y: 0))
        XCTAssertNil(image.pixel(x: -1, y: 0))
        image.setPixel(x: 1, y: 1, .white)
        image.setPixel(x: Int.min, y: Int.max, .white)
        XCTAssertEqual(image.pixels.filter { $0 == 255 }.count, 3)
    }

    func testCropAndPasteClip() {
        let image = noiseImage(width: 5, height: 4, seed: 1)
        let crop = image.cropped(to: Rect(x: 3, y: -2, width: 10, height: 4))
        XCTAssertEqual(crop.width, 2)
        XCTAssertEqual(crop.height, 2)
        XCTAssertEqual(crop.pixel(x: 1, y: 1), image.pixel(x: 4, y: 1))
        XCTAssertTrue(image.cropped(to: Rect(x: Int.max, y: 0, width: Int.max, height: 1)).isEmpty)

        var target = RGBImage(width: 4, height: 4)
        target.paste(image, at: Point(x: 2, y: -1))
        XCTAssertEqual(target.pixel(x: 2, y: 0), image.pixel(x: 0, y: 1))
        XCTAssertEqual(target.pixel(x: 3, y: 2), image.pixel(x: 1, y: 3))
        XCTAssertEqual(target.pixel(x: 1, y: 0), .black)
        target.paste(image, at: Point(x: Int.max - 1, y: Int.min))
    }

    func testResize() throws {
        var image = RGBImage(width: 2, height: 2)
        image.setPixel(x: 1, y: 0, .white)
        let big = image.resized(width: 4, height: 4, filter: .nearest)
        XCTAssertEqual(big.pixel(x: 2, y: 0), .white)
        XCTAssertEqual(big.pixel(x: 3, y: 1), .white)
        XCTAssertEqual(big.pixel(x: 1, y: 1), .black)
        XCTAssertEqual(big.pixel(x: 2, y: 2), .black)

        let solid = RGBImage(width: 37, height: 11, color: RGB(9, 99, 199))
        XCTAssertEqual(solid.resized(width: 5, height: 3), RGBImage(width: 5, height: 3, color: RGB(9, 99, 199)))
        let thumb = solid.resized(toHeight: 22)
        XCTAssertEqual(thumb.width, 74)
        // Bilinear halfway between 0 and 255 along x.
        let ramp = try RGBImage(width: 2, height: 1, pixels: [0, 0, 0, 255, 255, 255])
        // Centres of 4 pixels over 2 sit at 0.25, 0.75 of the source: 0, 1/4, 3/4, 1 of the way.
        XCTAssertEqual(ramp.resized(width: 4, height: 1).pixels, [0, 0, 0, 64, 64, 64, 191, 191, 191, 255, 255, 255])
        XCTAssertTrue(solid.resized(width: 0, height: 3).isEmpty)
    }

    func testFramesOfTHWC() throws {
        let r = Record(kind: "frames", dtype: .u8, shape: [2, 3, 4, 3], header: JSONObject([("layout", "THWC")]),
                       payload: (0..<72).map { UInt8($0) })
        let frames = try RGBImage.frames(of: r)
        XCTAssertEqual(frames.count, 2)
        XCTAssertEqual(frames[1].width, 4)
        XCTAssertEqual(frames[1].height, 3)
        XCTAssertEqual(frames[1].pixel(x: 0, y: 0), RGB(36, 37, 38))
        XCTAssertEqual(frames[1].pixel(x: 3, y: 2), RGB(69, 70, 71))
        assertFailure(.dataError) { try RGBImage(record: r, frame: 2) }
    }

    func testFramesOfNTHWCRunClipByClip() throws {
        // [K=2, T=3, H=1, W=1, C=3]: frame k*3+t has value 10k+t.
        let payload = (0..<2).flatMap { k in (0..<3).flatMap { t in [UInt8](repeating: UInt8(10 * k + t), count: 3) } }
        let r = Record(kind: "clip", dtype: .u8, shape: [2, 3, 1, 1, 3], header: JSONObject([("layout", "NTHWC")]), payload: payload)
        let values = try RGBImage.frames(of: r).map { $0.pixels[0] }
        XCTAssertEqual(values, [0, 1, 2, 10, 11, 12])
        // A sample's [B, T, H, W, C] and a single HWC picture work the same way.
        XCTAssertEqual(try FrameGeometry(record: Record(kind: "sample", dtype: .u8, shape: [4, 2, 5, 6, 3],
                                                         payload: [UInt8](repeating: 0, count: 720))).count, 8)
        XCTAssertEqual(try FrameGeometry(record: Record(dtype: .u8, shape: [5, 6, 3],
                                                         payload: [UInt8](repeating: 0, count: 90))).count, 1)
    }

    func testGreyFramesBecomeRGB() throws {
        let r = Record(kind: "frames", dtype: .u8, shape: [2, 1, 2, 1], header: JSONObject([("layout", "THWC")]), payload: [1, 2, 3, 4])
        let frames = try RGBImage.frames(of: r)
        XCTAssertEqual(frames.map(\.pixels), [[1, 1, 1, 2, 2, 2], [3, 3, 3, 4, 4, 4]])
    }

    func testNonImageShapesNameTheShape() {
        func record(_ dtype: DType, _ shape: [Int], layout: String? = nil) -> Record {
            var header = JSONObject()
            if let layout { header["layout"] = .string(layout) }
            return Record(kind: "clip", dtype: dtype, shape: shape, header: header,
                          payload: [UInt8](repeating: 0, count: Record.byteCount(dtype: dtype, shape: shape)!))
        }
        let cases: [(Record, String)] = [
            (record(.u8, [8, 64, 64]), "[8,64,64]"),
            (record(.u8, [2, 4, 4, 4]), "[2,4,4,4]"),
            (record(.f32, [4, 4, 4, 3]), "[4,4,4,3]"),
            (record(.u8, [512]), "[512]"),
            (record(.u8, [2, 0, 4, 3]), "[2,0,4,3]"),
            (record(.u8, [1, 3, 8, 8, 3], layout: "NCTHW"), "NCTHW"),
        ]
        for (r, name) in cases {
            let message = assertFailure(.dataError) { try RGBImage.frames(of: r) }
            XCTAssertTrue(message.contains(name), message)
        }
        var short = record(.u8, [2, 2, 2, 3])
        short.payload.removeLast()
        XCTAssertTrue(assertFailure(.dataError) { try RGBImage.frames(of: short) }.contains("[2,2,2,3]"))
    }
}

final class FontTests: XCTestCase {
    func testEveryPrintableGlyphExists() {
        let font = Font.standard
        XCTAssertEqual(Font.art.count, 95)
        for (i, art) in Font.art.enumerated() {
            let rows = art.split(separator: " ")
            XCTAssertEqual(rows.count, 7, "glyph \(i + 32)")
            XCTAssertTrue(rows.allSatisfy { $0.count == 5 && $0.allSatisfy { $0 == "#" || $0 == "." } }, "glyph \(i + 32)")
        }
        for code in UInt8(32)...UInt8(126) {
            let c = Character(Unicode.Scalar(code))
            XCTAssertTrue(font.hasGlyph(c))
            let ink = font.glyph(c).rows.reduce(0) { $0 + $1.nonzeroBitCount }
            XCTAssertEqual(ink == 0, c == " ", "'\(c)'")
        }
        // Distinct characters look distinct.
        XCTAssertEqual(Set((32...126).map { Font.art[$0 - 32] }).count, 95)
        XCTAssertFalse(font.hasGlyph("é"))
        XCTAssertEqual(font.glyph("é"), font.glyph("\u{1}"))
        XCTAssertNotEqual(font.glyph("é"), font.glyph("?"))
    }

    func testTextSize() {
        let font = Font.standard
        XCTAssertEqual(font.size(of: "").width, 0)
        XCTAssertEqual(font.size(of: "A").width, 5)
        XCTAssertEqual(font.size(of: "AB").width, 11)
        XCTAssertEqual(font.size(of: "AB", scale: 3).height, 21)
        XCTAssertEqual(font.size(of: "ABC\nD").width, 17)
        XCTAssertEqual(font.size(of: "ABC\nD").height, 16)
    }
}

final class CanvasTests: XCTestCase {
    let extremes = [Int.min, Int.min + 1, -1_000_000_000_000, -1, 0, 5, 9, 10, 1_000_000_000_000, Int.max - 1, Int.max]

    func testOffImageDrawingNeverTraps() {
        var canvas = Canvas(width: 10, height: 8)
        for a in extremes {
            for b in extremes {
                canvas.fill(rect: Rect(x: a, y: b, width: b, height: a), color: .white)
                canvas.outline(rect: Rect(x: a, y: a, width: b, height: b), color: .white)
                canvas.line(from: Point(x: a, y: b), to: Point(x: b, y: a), color: .white)
                canvas.line(from: Point(x: a, y: 3), to: Point(x: b, y: 4), color: .white)
                canvas.text("Hi", at: Point(x: a, y: b), color: .white, scale: b)
                canvas.text("Hi", at: Point(x: b, y: a), color: .white, direction: .upward)
                canvas.draw(RGBImage(width: 3, height: 3), at: Point(x: a, y: b))
            }
        }
        var empty = Canvas(width: 0, height: 0)
        empty.line(from: Point(x: 0, y: 0), to: Point(x: 5, y: 5), color: .white)
        empty.text("x", at: Point(x: 0, y: 0), color: .white)
    }

    func inked(_ canvas: Canvas) -> Set<Point> {
        var set = Set<Point>()
        for y in 0..<canvas.height {
            for x in 0..<canvas.width where canvas.image.pixel(x: x, y: y) != .black { set.insert(Point(x: x, y: y)) }
        }
        return set
    }

    func testDiagonalLine() {
        let diagonal = Set((0..<10).map { Point(x: $0, y: $0) })
        for (a, b) in [((0, 0), (9, 9)), ((9, 9), (0, 0)), ((-5, -5), (20, 20)),
                       ((-1 << 40, -1 << 40), (1 << 40, 1 << 40))] {
            var canvas = Canvas(width: 10, height: 10)
            canvas.line(from: Point(x: a.0, y: a.1), to: Point(x: b.0, y: b.1), color: .white)
            XCTAssertEqual(inked(canvas), diagonal, "\(a) to \(b)")
        }
    }

    func testShallowAndSteepLines() {
        var canvas = Canvas(width: 10, height: 10)
        canvas.line(from: Point(x: 0, y: 0), to: Point(x: 9, y: 3), color: .white)
        let shallow = inked(canvas)
        XCTAssertEqual(shallow.count, 10)
        XCTAssertEqual(Set(shallow.map(\.x)).count, 10)
        XCTAssertTrue(shallow.contains(Point(x: 9, y: 3)))
        // Each step moves the minor axis by at most one: no gaps.
        let ys = shallow.sorted { $0.x < $1.x }.map(\.y)
        XCTAssertTrue(zip(ys, ys.dropFirst()).allSatisfy { $1 - $0 == 0 || $1 - $0 == 1 })

        var steep = Canvas(width: 10, height: 10)
        steep.line(from: Point(x: 2, y: 9), to: Point(x: 4, y: 0), color: .white)
        XCTAssertEqual(Set(inked(steep).map(\.y)).count, 10)
        var dot = Canvas(width: 3, height: 3)
        dot.line(from: Point(x: 1, y: 1), to: Point(x: 1, y: 1), color: .white)
        XCTAssertEqual(inked(dot), [Point(x: 1, y: 1)])
    }

    func testFillAndOutline() {
        var canvas = Canvas(width: 6, height: 5)
        canvas.outline(rect: Rect(x: 1, y: 1, width: 4, height: 3), color: .white)
        XCTAssertEqual(inked(canvas).count, 10)
        XCTAssertEqual(canvas.image.pixel(x: 2, y: 2), .black)
        canvas.fill(rect: Rect(x: -3, y: 3, width: 5, height: 9), color: RGB(1, 2, 3))
        XCTAssertEqual(canvas.image.pixel(x: 1, y: 4), RGB(1, 2, 3))
        XCTAssertEqual(canvas.image.pixel(x: 2, y: 4), .black)
    }

    func testTextStaysInItsBox() {
        for (direction, scale) in [(TextDirection.horizontal, 1), (.horizontal, 3), (.upward, 1), (.upward, 2)] {
            var canvas = Canvas(width: 120, height: 120)
            let text = "Tb 0-9\n{x}"
            canvas.text(text, at: Point(x: 7, y: 11), color: .white, scale: scale, direction: direction)
            let size = canvas.font.size(of: text, scale: scale)
            let (w, h) = direction == .horizontal ? (size.width, size.height) : (size.height, size.width)
            let ink = inked(canvas)
            XCTAssertGreaterThan(ink.count, 20)
            XCTAssertTrue(ink.allSatisfy { $0.x >= 7 && $0.x < 7 + w && $0.y >= 11 && $0.y < 11 + h })
            // The box is tight: ink touches every edge.
            XCTAssertEqual(ink.map(\.x).min(), 7)
            XCTAssertEqual(ink.map(\.x).max(), 7 + w - 1)
            XCTAssertEqual(ink.map(\.y).min(), 11)
            XCTAssertEqual(ink.map(\.y).max(), 11 + h - 1)
        }
    }

    func testUpwardTextReadsBottomToTop() {
        var canvas = Canvas(width: 7, height: 11)
        canvas.text("L-", at: Point(x: 0, y: 0), color: .white, direction: .upward)
        // "L" is first, at the bottom; its vertical stroke, turned, lies along the bottom row's left.
        XCTAssertEqual(canvas.image.pixel(x: 0, y: 10), .white)
        XCTAssertEqual(canvas.image.pixel(x: 6, y: 10), .white)
        // "-" is a short vertical stroke above it, in the middle column.
        XCTAssertEqual(canvas.image.pixel(x: 3, y: 0), .white)
        XCTAssertEqual(canvas.image.pixel(x: 0, y: 0), .black)
    }
}

// MARK: - A PNG writer independent of libavcodec, for colour types tb never writes

/// A PNG with stored (uncompressed) deflate blocks; `rows` are unfiltered scanlines.
func handmadePNG(width: Int, height: Int, colorType: UInt8, bitDepth: UInt8 = 8,
                 palette: [UInt8]? = nil, rows: [[UInt8]]) -> [UInt8] {
    func be32(_ v: Int) -> [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: v >> $0) } }
    func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = c & 1 == 1 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        }
        return ~c
    }
    func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(data.count) + body + be32(Int(crc32(body)))
    }
    var raw: [UInt8] = []
    for row in rows { raw += [0] + row }
    var a: UInt32 = 1, b: UInt32 = 0
    for x in raw {
        a = (a + UInt32(x)) % 65521
        b = (b + a) % 65521
    }
    // zlib header, one final stored block (length and its complement, little-endian), Adler-32.
    let length = UInt16(raw.count)
    var zlib: [UInt8] = [0x78, 0x01, 1]
    zlib += [UInt8(length & 0xFF), UInt8(length >> 8), UInt8(~length & 0xFF), UInt8(~length >> 8)]
    zlib += raw
    zlib += be32(Int(b << 16 | a))
    var png = PNG.signature
    png += chunk("IHDR", be32(width) + be32(height) + [bitDepth, colorType, 0, 0, 0])
    if let palette { png += chunk("PLTE", palette) }
    png += chunk("IDAT", zlib)
    png += chunk("IEND", [])
    return png
}
