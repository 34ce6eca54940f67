// Clip positions by hand-worked examples, and ClipMaker's streaming against holding the
// whole video.

import XCTest
import TBCore
import TBStream
@testable import TBVideo

final class ClipPositionTests: XCTestCase {
    func testShapesAndDense() {
        let s = ClipShape(length: 4, stride: 2)
        XCTAssertEqual(s.span, 7)
        XCTAssertEqual(s.indices(start: 3), [3, 5, 7, 9])
        XCTAssertEqual(s.indices(start: 3, frames: 8), [3, 5, 7, 7])
        XCTAssertEqual(ClipPositions.dense(frames: 20, shape: s, step: 7), [0, 7])
        XCTAssertEqual(ClipPositions.dense(frames: 21, shape: s, step: 7), [0, 7, 14])
        XCTAssertEqual(ClipPositions.dense(frames: 5, shape: s, step: 7), [0], "a short video gets one clip to pad")
        XCTAssertEqual(ClipPositions.dense(frames: 0, shape: s, step: 7), [])
    }

    func testEvenlyAndSegments() {
        // 100 frames, 3 clips of span 10: room 91, parts of 30.33, middles 15, 45, 75.
        XCTAssertEqual(ClipPositions.evenly(frames: 100, shape: ClipShape(length: 10), count: 3), [15, 45, 75])
        XCTAssertEqual(ClipPositions.evenly(frames: 10, shape: ClipShape(length: 10), count: 2), [0, 0])
        XCTAssertEqual(ClipPositions.evenly(frames: 4, shape: ClipShape(length: 10), count: 2), [0, 0])
        XCTAssertEqual(ClipPositions.segments(frames: 40, count: 4, length: 1), [[4], [14], [24], [34]])
        XCTAssertEqual(ClipPositions.segments(frames: 40, count: 2, length: 4), [[8, 9, 10, 11], [28, 29, 30, 31]])
        XCTAssertEqual(ClipPositions.segments(frames: 2, count: 3, length: 2), [[0, 1], [0, 1], [0, 1]])
    }

    func testRandomStaysInsideAndCoversTheRoom() {
        var g = SeededGenerator(seed: 3)
        let s = ClipShape(length: 8, stride: 2)
        var seen = Set<Int>()
        for _ in 0..<2000 {
            let start = ClipPositions.random(frames: 40, shape: s, using: &g)
            XCTAssertTrue((0...25).contains(start))
            seen.insert(start)
        }
        XCTAssertEqual(seen.count, 26)
        XCTAssertEqual(ClipPositions.random(frames: 5, shape: s, using: &g), 0)
    }

    func testPretrainingStructure() {
        let rows = ClipPositions.pretraining(start: 10, shorts: 4, length: 4)
        XCTAssertEqual(rows[0], [10, 14, 18, 22])
        XCTAssertEqual(Array(rows.dropFirst()), [[10, 11, 12, 13], [14, 15, 16, 17], [18, 19, 20, 21], [22, 23, 24, 25]])
        // The long clip and the short clips cover the same span.
        XCTAssertEqual(rows[0].first, rows[1].first)
        XCTAssertLessThanOrEqual(rows[0].last!, rows.last!.last!)
    }

    /// Frames records of a video of `n` frames, 1×1 pixels whose red value is the frame number.
    func frames(_ n: Int, chunk: Int, id: String = "v") -> [Record] {
        stride(from: 0, to: n, by: chunk).enumerated().map { (k, start) in
            let t = min(chunk, n - start)
            let payload: [UInt8] = (start..<start + t).flatMap { [UInt8($0), 0, 0] as [UInt8] }
            return Record(kind: "frames", dtype: .u8, shape: [t, 1, 1, 3],
                          header: JSONObject([("id", .string(id)), ("index", JSON(k)), ("fps", 10.0),
                                              ("t0", .double(Double(start) / 10))]), payload: payload)
        }
    }

    func run(_ mode: ClipMode, _ records: [Record], pad: Bool = true) throws -> [[UInt8]] {
        let maker = ClipMaker(mode: mode, pad: pad)
        var out: [[UInt8]] = []
        func red(_ r: Record) -> [UInt8] { stride(from: 0, to: r.payload.count, by: 3).map { r.payload[$0] } }
        for (i, r) in records.enumerated() {
            try maker.add(r, place: ("s", i)) { out.append(red($0)) }
        }
        try maker.finish { out.append(red($0)) }
        return out
    }

    func testStreamingDoesNotDependOnChunks() throws {
        let modes: [ClipMode] = [.dense(ClipShape(length: 3, stride: 2), step: 4), .windows(seconds: 0.7, hop: 0.5, length: nil),
                                 .windows(seconds: 1, hop: 1, length: 3), .every(seconds: 0.3),
                                 .pretraining(shorts: 2, length: 3, step: 5), .evenly(ClipShape(length: 2), count: 3),
                                 .segments(count: 2, length: 2)]
        for mode in modes {
            let whole = try run(mode, frames(23, chunk: 23))
            XCTAssertFalse(whole.isEmpty, "\(mode)")
            for chunk in [1, 2, 5] { XCTAssertEqual(try run(mode, frames(23, chunk: chunk)), whole, "\(mode) chunk \(chunk)") }
        }
        XCTAssertEqual(try run(.windows(seconds: 0.7, hop: 0.5, length: nil), frames(12, chunk: 5)),
                       [[0, 1, 2, 3, 4, 5, 6], [5, 6, 7, 8, 9, 10, 11], [10, 11, 11, 11, 11, 11, 11]])
        XCTAssertEqual(try run(.windows(seconds: 0.7, hop: 0.5, length: nil), frames(12, chunk: 5), pad: false),
                       [[0, 1, 2, 3, 4, 5, 6], [5, 6, 7, 8, 9, 10, 11]])
    }

    func testVideosAreSeparatedAndChecked() throws {
        let two = frames(5, chunk: 2, id: "a") + frames(4, chunk: 3, id: "b")
        XCTAssertEqual(try run(.dense(ClipShape(length: 4), step: 4), two), [[0, 1, 2, 3], [0, 1, 2, 3]])
        var gap = frames(9, chunk: 3)
        gap.remove(at: 1)
        XCTAssertThrowsError(try run(.dense(ClipShape(length: 2), step: 2), gap)) { e in
            XCTAssertEqual((e as? Failure)?.status, .dataError)
            XCTAssertEqual((e as? Failure)?.record, 1)
            XCTAssertTrue("\(e)".contains("chunk 2 of \"v\" follows chunk 0"), "\(e)")
        }
        var odd = frames(4, chunk: 2)
        odd[1].shape = [1, 2, 1, 3]
        XCTAssertThrowsError(try run(.dense(ClipShape(length: 2), step: 2), odd))
    }
}
