// VideoTable: videos found from headers, frames and clips read back by position.

import Foundation
import XCTest
import TBCore
import TBStream
@testable import TBVideo

final class VideoTableTests: XCTestCase {
    func write(_ records: [Record]) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tb-table-\(UUID().uuidString).tbs").path
        let sink = MemorySink()
        let w = try StreamWriter(sink: sink, level: 1)
        for r in records { try w.write(r) }
        try w.flush()
        try Data(sink.bytes).write(to: URL(fileURLWithPath: path))
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// Chunks of a video of n 1×1 frames whose red value is its frame number plus `base`.
    func chunks(_ id: String, frames n: Int, chunk: Int, base: Int = 0, label: Int? = nil) -> [Record] {
        stride(from: 0, to: n, by: chunk).enumerated().map { k, start in
            let t = min(chunk, n - start)
            var h = JSONObject([("id", .string(id)), ("index", JSON(k))])
            if let label { h["label"] = JSON(label) }
            let payload: [UInt8] = (start..<start + t).flatMap { [UInt8(base + $0), 0, 0] as [UInt8] }
            return Record(kind: "frames", dtype: .u8, shape: [t, 1, 1, 3], header: h, payload: payload)
        }
    }

    func testFramesVideosAndClampedReads() throws {
        let path = try write(chunks("a", frames: 7, chunk: 3, label: 2) + chunks("b", frames: 4, chunk: 4, base: 100)
                             + chunks("a", frames: 2, chunk: 2, base: 50))
        let table = try VideoTable(path: path)
        XCTAssertEqual(table.videos.map(\.id), ["a", "b", "a"], "a repeated id after another video is a new video")
        XCTAssertEqual(table.videos.map(\.total), [7, 4, 2])
        XCTAssertEqual(table.videos[0].records, [0, 1, 2])
        XCTAssertEqual(table.videos[0].label, 2)
        XCTAssertEqual(table.videos[0].header["label"], JSON(2))
        func red(_ bytes: [UInt8]) -> [Int] { stride(from: 0, to: bytes.count, by: 3).map { Int(bytes[$0]) } }
        XCTAssertEqual(red(try table.frames(of: 0, indices: [0, 2, 3, 6, 9, -1])), [0, 2, 3, 6, 6, 0])
        XCTAssertEqual(red(try table.frames(of: 1, indices: [3, 1])), [103, 101])
        XCTAssertEqual(red(try table.frames(of: 2, indices: [1])), [51])
    }

    func testClipsAndBadStreams() throws {
        var clips: [Record] = []
        for r in 0..<2 {
            let payload: [UInt8] = [UInt8(10 * r), 0, 0, UInt8(10 * r + 1), 0, 0]
            let header = JSONObject([("id", .string("v")), ("index", JSON(r))])
            clips.append(Record(kind: "clip", dtype: .u8, shape: [2, 1, 1, 1, 3], header: header, payload: payload))
        }
        let table = try VideoTable(path: try write(clips))
        XCTAssertEqual(table.videos.count, 1)
        XCTAssertEqual(table.videos[0].total, 4)
        XCTAssertEqual(try table.clip(of: 0, number: 3), [11, 0, 0])

        var orphan = chunks("x", frames: 4, chunk: 2)
        orphan.removeFirst()
        XCTAssertThrowsError(try VideoTable(path: try write(orphan))) { e in
            XCTAssertEqual((e as? Failure)?.status, .dataError)
            XCTAssertEqual((e as? Failure)?.record, 0)
        }
        let features = Record(kind: "features", shape: [2], floats: [1, 2])
        XCTAssertThrowsError(try VideoTable(path: try write([features])))
    }
}
