// Inputs that bin/fuzz found to trap or misread (Fuzz/, issue #8), kept as tests: each now
// fails with a clean `.dataError` or reads correctly.

import Foundation
import XCTest
import TBCore
@testable import TBStream

final class FuzzRegressionTests: XCTestCase {
    func fixture(_ name: String) throws -> String {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return dir.appendingPathComponent("fuzz/" + name).path
    }

    /// A zstd frame made from a pipe (no content size), re-headed to claim `size` bytes.
    func frame(claiming size: UInt64, record raw: [UInt8]) throws -> [UInt8] {
        let z = try runTool("/usr/bin/zstd", ["-q", "-c"], stdin: raw)
        XCTAssertEqual(z[4] & 0xE3, 0, "no content size, not single-segment, no dictionary")
        var out = Array(z[0..<4]) + [0xC0 | z[4], z[5]]   // descriptor: 8-byte content size; window descriptor
        withUnsafeBytes(of: size.littleEndian) { out.append(contentsOf: $0) }
        return out + z[6...]
    }

    /// fuzz-stream, first crash: StreamIndex converted the frame header's content size to Int,
    /// which traps for sizes past Int.max; RecordReader did the same through Int64.
    func testFrameClaimingMoreThanIntMaxBytes() throws {
        let path = try fixture("stream-frame-size-past-int-max.tbs")
        XCTAssertThrowsError(try StreamIndex(path: path).record(0)) { XCTAssertEqual(($0 as? Failure)?.status, .dataError) }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        _ = readFailure(bytes)

        // 300 KB span three zstd blocks: the header is read before zstd meets the last block.
        let raw = rawRecord(header: #"{"kind":"frames","dtype":"u8","shape":[100000,1,1,3]}"#,
                            payload: [UInt8](repeating: 9, count: 300_000))
        let claimed = try frame(claiming: (1 << 63) + 96, record: raw)
        let f = readFailure(claimed)
        XCTAssertTrue(f?.message.contains("payload has") ?? false, "\(String(describing: f))")
        let file = try temporaryFile(claimed)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let index = try StreamIndex(path: file)
        XCTAssertNil(index.entries[0].recordSize)
        XCTAssertThrowsError(try index.record(0)) { XCTAssertEqual(($0 as? Failure)?.status, .dataError) }
    }

    /// A frame may claim a terabyte in a few bytes; with a shape to match, the reader used to
    /// allocate it all before decompressing (and trap). Now it allocates as data arrives.
    func testFrameClaimingATerabyteIsNotAllocated() throws {
        let header = #"{"kind":"frames","dtype":"u8","shape":[1099511627776]}"#
        let raw = rawRecord(header: header, payload: [UInt8](repeating: 1, count: 300_000))
        let used = UInt64(raw.count - 300_000)
        let f = readFailure(try frame(claiming: used + (1 << 40), record: raw))
        XCTAssertTrue(f?.message.contains("payload") ?? false, "\(String(describing: f))")
    }

    /// fuzz-labels: json-c waits for more after a number at the very end of the input
    /// ("42" could be "421"), so a bare number without trailing space read as truncated.
    func testNumbersAtTheEndOfTheInputParse() throws {
        let text = try String(contentsOfFile: try fixture("json-bare-number.json"), encoding: .utf8)
        XCTAssertEqual(try JSON.parse(text), .int(42))
        XCTAssertEqual(try JSON.parse("0"), .int(0))
        XCTAssertEqual(try JSON.parse(" -1.5"), .double(-1.5))
        XCTAssertEqual(try JSON.parse("1e3"), .double(1000))
        XCTAssertEqual(try JSON.parse("[1,2]"), [1, 2])
        XCTAssertEqual(try JSON.parse("true"), true)
        for (bad, message) in [("[1", "truncated JSON"), ("\"ab", "truncated JSON"), ("{\"a\":1", "truncated JSON"),
                               ("4 2", "invalid JSON"), ("-", "truncated JSON"), ("", "empty JSON"), ("  ", "empty JSON")] {
            XCTAssertThrowsError(try JSON.parse(bad), bad) { e in
                XCTAssertEqual((e as? Failure)?.status, .dataError, bad)
                XCTAssertTrue((e as? Failure)?.message.contains(message) ?? false, "\(bad): \(e)")
            }
        }
        // What the printer writes, the parser reads back.
        for value: JSON in [7, -3.25, "x", [1, [2.5, "y"]], ["k": 1e-5]] {
            XCTAssertEqual(try JSON.parse(value.text), value)
        }
    }

    /// fuzz-labels: a label of 10^12 made countsPerClass allocate terabytes, and Int.max with a
    /// class name overflowed in impliedClasses (tb-info, tb-eval --truth and tb-decode -l trapped).
    func testHugeLabelsAreRefused() throws {
        for (name, text) in [("list.txt", "a.mp4 0\nb.mp4 888888888888\n"),
                             ("l.jsonl", #"{"id":"a","label":9223372036854775807,"class":"x"}"# + "\n"),
                             ("l.jsonl", #"{"id":"a","label":16777216}"# + "\n")] {
            XCTAssertThrowsError(try LabelSet.load(bytes: Array(text.utf8), name: name), text) { e in
                XCTAssertEqual((e as? Failure)?.status, .dataError, text)
                XCTAssertTrue("\(e)".contains("over the limit"), "\(e)")
            }
        }
        let top = try LabelSet.load(bytes: Array(#"{"id":"a","label":16777215,"class":"x"}"#.utf8), name: "l.jsonl")
        XCTAssertEqual(top.records.first?.label, LabelSet.maxClasses - 1)
    }
}
