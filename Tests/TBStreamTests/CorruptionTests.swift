import Foundation
import XCTest
import TBCore
@testable import TBStream

/// The raw bytes of a record, as they are before compression (tb-stream(5)).
func rawRecord(header: String, payload: [UInt8], magic: String = "TBR1", headerLength: UInt32? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    var raw = Array(magic.utf8)
    withUnsafeBytes(of: (headerLength ?? UInt32(h.count)).littleEndian) { raw.append(contentsOf: $0) }
    raw += h
    raw += [UInt8](repeating: 0, count: RecordLayout.padding(headerLength: h.count))
    return raw + payload
}

/// Reads everything and returns the failure, which must be a clean `.dataError`.
func readFailure(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> Failure? {
    do {
        _ = try readAll(bytes)
        XCTFail("read succeeded", file: file, line: line)
        return nil
    } catch let f as Failure {
        XCTAssertEqual(f.status, .dataError, "\(f)", file: file, line: line)
        XCTAssertEqual(f.file, "mem.tbs", file: file, line: line)
        XCTAssertNotNil(f.record, "\(f)", file: file, line: line)
        return f
    } catch {
        XCTFail("not a Failure: \(error)", file: file, line: line)
        return nil
    }
}

final class CorruptionTests: XCTestCase {
    let good = [frames(2, 6, 5, seed: 1, id: "a"), frames(3, 4, 4, seed: 2, id: "b")]

    func testTruncationAtEveryOffset() throws {
        let bytes = try roundTrip(good).bytes
        let firstEnd = try roundTrip([good[0]]).bytes.count
        for cut in 1..<bytes.count {
            let prefix = Array(bytes[0..<cut])
            if cut == firstEnd {
                XCTAssertEqual(try readAll(prefix), [good[0]])  // a clean record boundary
                continue
            }
            guard let f = readFailure(prefix) else { continue }
            XCTAssertEqual(f.record, cut < firstEnd ? 0 : 1, "cut at \(cut): \(f)")
            XCTAssertEqual(f.offset, cut < firstEnd ? 0 : firstEnd, "cut at \(cut): \(f)")
        }
    }

    func testEveryFlippedByteIsCaughtOrHarmless() throws {
        let bytes = try roundTrip(good).bytes
        for i in bytes.indices {
            var bad = bytes
            bad[i] ^= 0x5A
            do {
                // The checksum catches changed content; a flip can only be harmless if it
                // leaves the decoded records exactly as they were.
                let back = try readAll(bad)
                XCTAssertEqual(back, good, "flip at \(i)")
            } catch let f as Failure {
                XCTAssertEqual(f.status, .dataError, "flip at \(i): \(f)")
            }
        }
    }

    func testBadMagicAndGarbage() throws {
        let raw = rawRecord(header: #"{"dtype":"u8","shape":[2]}"#, payload: [1, 2], magic: "TBR2")
        let f = readFailure(try StreamWriter.frame(raw: raw))
        XCTAssertTrue(f?.message.contains("bad record magic \"TBR2\"") ?? false, "\(String(describing: f))")
        let g = readFailure(Array("hello, this is not a stream\n".utf8))
        XCTAssertTrue(g?.message.contains("not a tb stream") ?? false, "\(String(describing: g))")
        XCTAssertNotNil(readFailure([0x28, 0xB5]))  // two stray bytes
    }

    func testHugeHeaderLength() throws {
        let raw = rawRecord(header: #"{"dtype":"u8","shape":[2]}"#, payload: [1, 2], headerLength: 0xFFFF_FFF0)
        for declare in [true, false] {
            let f = readFailure(try StreamWriter.frame(raw: raw, declareSize: declare))
            XCTAssertTrue(f?.message.contains("exceeds the 1 MiB limit") ?? false, "\(String(describing: f))")
        }
        // Within the limit but past the end of the record.
        let past = rawRecord(header: #"{"dtype":"u8","shape":[2]}"#, payload: [1, 2], headerLength: 5000)
        XCTAssertNotNil(readFailure(try StreamWriter.frame(raw: past, declareSize: true)))
        XCTAssertNotNil(readFailure(try StreamWriter.frame(raw: past, declareSize: false)))
    }

    func testBadHeaders() throws {
        let cases: [(String, String)] = [
            (#"{"dtype":"u8","shape":[2]"#, "JSON"),
            (#"["dtype","u8"]"#, "not an object"),
            (#"{"shape":[2]}"#, "no \"dtype\""),
            (#"{"dtype":"u16","shape":[2]}"#, "not one of"),
            (#"{"dtype":"u8"}"#, "no \"shape\""),
            (#"{"dtype":"u8","shape":[-2]}"#, "non-negative"),
            (#"{"dtype":"u8","shape":[2.5]}"#, "non-negative"),
            (#"{"dtype":"u8","shape":"2"}"#, "array"),
            (#"{"dtype":"f32","shape":[4294967296,4294967296]}"#, "overflows"),
            (#"{"dtype":"u8","shape":[2],"kind":7}"#, "kind"),
        ]
        for (header, expected) in cases {
            let raw = rawRecord(header: header, payload: [1, 2])
            let f = readFailure(try StreamWriter.frame(raw: raw))
            XCTAssertTrue(f?.message.contains(expected) ?? false, "\(header): \(String(describing: f))")
        }
    }

    func testShapePayloadMismatch() throws {
        let short = rawRecord(header: #"{"dtype":"f32","shape":[4]}"#, payload: [UInt8](repeating: 0, count: 12))
        let long = rawRecord(header: #"{"dtype":"u8","shape":[4]}"#, payload: [UInt8](repeating: 0, count: 5))
        for declare in [true, false] {
            for (raw, word) in [(short, "shorter"), (long, "longer")] {
                let f = readFailure(try StreamWriter.frame(raw: raw, declareSize: declare))
                let message = f?.message ?? ""
                XCTAssertTrue(message.contains("16 bytes") || message.contains("4 bytes"), message)
                if !declare { XCTAssertTrue(message.contains(word), message) }
            }
        }
    }

    func testMessageNamesFileRecordAndOffset() throws {
        let first = try roundTrip([good[0]]).bytes
        let bad = try StreamWriter.frame(raw: rawRecord(header: #"{"dtype":"u8","shape":[-1]}"#, payload: []))
        let f = readFailure(first + bad)
        XCTAssertEqual(f?.description.hasPrefix("mem.tbs: record 1 (byte \(first.count)): shape [-1]"), true,
                       "\(String(describing: f))")
    }

    func testHeaderOnlyReadingSkipsPayloadsButStillChecksThem() throws {
        var bytes = try roundTrip(good).bytes
        bytes[bytes.count - 6] ^= 0xFF  // inside the last frame's compressed payload or checksum
        try bytes.withUnsafeBytes { raw in
            let reader = try RecordReader(source: MemorySource(raw, name: "mem.tbs"))
            XCTAssertEqual(try reader.nextHeader()?.shape, [2, 6, 5, 3])
            XCTAssertThrowsError(try { while try reader.nextHeader() != nil {} }()) { e in
                XCTAssertEqual((e as? Failure)?.status, .dataError)
            }
        }
    }
}
