// Clip augmentation: identities are identities, parameters stay in their ranges, and a
// clip's frames are all treated alike.

import XCTest
import TBCore
@testable import TBVideo

final class AugmentTests: XCTestCase {
    /// `frames` frames of a w×h gradient, frame f offset by f.
    func clip(frames: Int, width w: Int, height h: Int) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: frames * w * h * 3)
        for f in 0..<frames { for y in 0..<h { for x in 0..<w {
            let o = ((f * h + y) * w + x) * 3
            (p[o], p[o + 1], p[o + 2]) = (UInt8((x * 7 + f) % 256), UInt8((y * 5) % 256), UInt8((x + y) % 256))
        } } }
        return p
    }

    func apply(_ a: Augmentation, _ src: [UInt8], frames: Int, width: Int, height: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: frames * a.size * a.size * 3)
        src.withUnsafeBufferPointer { s in
            out.withUnsafeMutableBufferPointer { d in
                a.apply(frames: frames, width: width, height: height, source: s.baseAddress!, destination: d.baseAddress!)
            }
        }
        return out
    }

    func testCentreCropOfTheWholeSquareIsTheIdentity() {
        var g = SeededGenerator(seed: 1)
        let src = clip(frames: 2, width: 16, height: 16)
        let a = AugmentOptions.centre(size: 16).draw(width: 16, height: 16, using: &g)
        XCTAssertEqual(apply(a, src, frames: 2, width: 16, height: 16), src)
        // A flip reverses every row.
        var f = a
        f.flip = true
        let flipped = apply(f, src, frames: 2, width: 16, height: 16)
        for y in 0..<16 { for x in 0..<16 { for c in 0..<3 {
            XCTAssertEqual(flipped[(y * 16 + x) * 3 + c], src[(y * 16 + 15 - x) * 3 + c])
        } } }
        // Centre 0.5 of a 32×16 frame: the middle 8×8 block, upscaled to 8 (no scaling).
        let wide = clip(frames: 1, width: 32, height: 16)
        let c = AugmentOptions.centre(size: 8, fraction: 0.5).draw(width: 32, height: 16, using: &g)
        XCTAssertEqual([c.x, c.y, c.width, c.height], [12, 4, 8, 8])
        let out = apply(c, wide, frames: 1, width: 32, height: 16)
        XCTAssertEqual(Array(out[0..<3]), Array(wide[((4 * 32) + 12) * 3 ..< ((4 * 32) + 12) * 3 + 3]))
    }

    func testRandomCropsStayInsideAndInRange() {
        var g = SeededGenerator(seed: 2)
        let o = AugmentOptions(size: 8, scale: 0.3...0.9)
        var flips = 0, grays = 0, jittered = 0
        for _ in 0..<2000 {
            let a = o.draw(width: 40, height: 30, using: &g)
            XCTAssertGreaterThanOrEqual(a.x, 0)
            XCTAssertGreaterThanOrEqual(a.y, 0)
            XCTAssertLessThanOrEqual(a.x + a.width, 40)
            XCTAssertLessThanOrEqual(a.y + a.height, 30)
            let area = a.width * a.height / 1200
            XCTAssertTrue((0.25...0.95).contains(area), "\(area)")
            XCTAssertTrue((0.6...1.4).contains(a.brightness))
            XCTAssertTrue((-0.1...0.1).contains(a.hue))
            flips += a.flip ? 1 : 0
            grays += a.gray ? 1 : 0
            jittered += a.brightness != 1 ? 1 : 0
        }
        XCTAssertEqual(Double(flips) / 2000, 0.5, accuracy: 0.05)
        XCTAssertEqual(Double(grays) / 2000, 0.2, accuracy: 0.04)
        XCTAssertEqual(Double(jittered) / 2000, 0.8, accuracy: 0.04)
        // The same seed, the same draws.
        var g1 = SeededGenerator(seed: 9), g2 = SeededGenerator(seed: 9)
        XCTAssertEqual(o.draw(width: 40, height: 30, using: &g1), o.draw(width: 40, height: 30, using: &g2))
    }

    func testEveryFrameOfAClipIsTreatedAlike() {
        var g = SeededGenerator(seed: 4)
        let one = clip(frames: 1, width: 24, height: 20)
        let same = one + one + one
        for _ in 0..<20 {
            let a = AugmentOptions(size: 12).draw(width: 24, height: 20, using: &g)
            let out = apply(a, same, frames: 3, width: 24, height: 20)
            let n = 12 * 12 * 3
            XCTAssertEqual(Array(out[0..<n]), Array(out[n..<2 * n]))
            XCTAssertEqual(Array(out[0..<n]), Array(out[2 * n..<3 * n]))
        }
    }

    func testColourOperations() {
        var a = Augmentation(size: 2)
        var p: [Float] = [100, 50, 200, 10, 20, 30, 255, 255, 255, 0, 0, 0]
        a.gray = true
        a.colour(&p)
        for i in 0..<4 { XCTAssertEqual(p[3 * i], p[3 * i + 1]); XCTAssertEqual(p[3 * i], p[3 * i + 2]) }
        XCTAssertEqual(p[0], 0.299 * 100 + 0.587 * 50 + 0.114 * 200, accuracy: 1e-3)
        var b = Augmentation(size: 1)
        b.brightness = 1.5
        var q: [Float] = [100, 200, 10]
        b.colour(&q)
        XCTAssertEqual(q, [150, 255, 15])
        // A full hue turn and saturation 1 change nothing (to rounding).
        var h = Augmentation(size: 1)
        h.hue = 1
        var r: [Float] = [120, 40, 200]
        h.colour(&r)
        for (x, y) in zip(r, [120, 40, 200] as [Float]) { XCTAssertEqual(x, y, accuracy: 1.5) }
        // Zero saturation is grey.
        var s = Augmentation(size: 1)
        s.saturation = 0
        var t: [Float] = [120, 40, 200]
        s.colour(&t)
        XCTAssertEqual(t[0], t[1], accuracy: 1e-3)
    }
}
