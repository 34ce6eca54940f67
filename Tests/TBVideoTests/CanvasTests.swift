import XCTest
import TBCore
import TBStream
@testable import TBVideo

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
