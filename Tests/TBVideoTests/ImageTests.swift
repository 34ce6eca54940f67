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
