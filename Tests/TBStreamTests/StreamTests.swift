import Foundation
import XCTest
import TBCore
@testable import TBStream

/// Writes records to memory and reads them back.
func roundTrip(_ records: [Record], level: Int32 = 1, workers: Int = 0) throws -> (bytes: [UInt8], back: [Record]) {
    let sink = MemorySink()
    let w = try StreamWriter(sink: sink, level: level, workers: workers)
    for r in records { try w.write(r) }
    try w.flush()
    return (sink.bytes, try readAll(sink.bytes))
}

func readAll(_ bytes: [UInt8], name: String = "mem.tbs") throws -> [Record] {
    try bytes.withUnsafeBytes { raw in
        let reader = try RecordReader(source: MemorySource(raw, name: name))
        var out: [Record] = []
        while let r = try reader.next() { out.append(r) }
        return out
    }
}

func frames(_ t: Int, _ h: Int, _ w: Int, seed: UInt64 = 1, id: String = "v/a b.mp4") -> Record {
    var g = SeededGenerator(seed: seed)
    var pixels = [UInt8](repeating: 0, count: t * h * w * 3)
    // Smooth gradients with a little noise: compresses like video, not like zeros.
    for i in pixels.indices { pixels[i] = UInt8(truncatingIfNeeded: (i / 3) % w + Int(g.next() % 8)) }
    var header = JSONObject()
    header["layout"] = "THWC"
    header["id"] = .string(id)
    header["fps"] = 8.0
    return Record(kind: "frames", dtype: .u8, shape: [t, h, w, 3], header: header, payload: pixels)
}

final class StreamTests: XCTestCase {
    func testRoundTripEveryDType() throws {
        var records: [Record] = []
        for dtype in DType.allCases {
            let shape = [2, 3, 5]
            let n = Record.byteCount(dtype: dtype, shape: shape)!
            let payload = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 37) }
            var h = JSONObject()
            h["future_key"] = ["nested": [1, 2.5, "x"]]  // unknown keys pass through
            h["label"] = 3
            records.append(Record(kind: "features", dtype: dtype, shape: shape, header: h, payload: payload))
        }
        records.append(Record(kind: "clip", dtype: .f32, shape: [0, 4], payload: []))
        records.append(Record(dtype: .i32, shape: [], payload: [1, 0, 0, 0]))  // a scalar
        let (_, back) = try roundTrip(records)
        XCTAssertEqual(back, records)
        XCTAssertEqual(back[0].header["future_key"], ["nested": [1, 2.5, "x"]])
        XCTAssertEqual(back[4].elementCount, 0)
    }

    func testFloatConversions() {
        let r = Record(shape: [3], floats: [1.5, -2, 0.25])
        XCTAssertEqual(r.floats(), [1.5, -2, 0.25])
        let half = [Float16(0.5), Float16(-3)].withUnsafeBytes { [UInt8]($0) }
        XCTAssertEqual(Record(dtype: .f16, shape: [2], payload: half).floats(), [0.5, -3])
    }

    func testFiftyMegabyteRecordMultithreaded() throws {
        let big = frames(64, 288, 320)  // 17.7 MB
        let bigger = frames(180, 288, 320, seed: 2)  // 49.8 MB
        let (bytes, back) = try roundTrip([big, bigger], workers: 2)
        // Compare as a Bool: a failing XCTAssertEqual would print 50 MB.
        XCTAssertTrue(back == [big, bigger])
        XCTAssertEqual(try StreamIndex(path: try temporaryFile(bytes)).count, 2)
    }

    func testBackgroundWorkersWriteTheSameBytesInOrder() throws {
        let records = (0..<9).map { frames(1 + $0 % 3, 24, 40, seed: UInt64($0), id: "v\($0)") }
        let serial = try roundTrip(records, workers: 0).bytes
        for workers in [1, 2, 3] {
            let (bytes, back) = try roundTrip(records, workers: workers)
            XCTAssertTrue(bytes == serial, "workers \(workers)")
            XCTAssertEqual(back.map(\.id), records.map(\.id))
        }
    }

    func testHeaderLayoutOnTheWire() throws {
        let r = frames(1, 2, 2)
        let sink = MemorySink()
        try StreamWriter(sink: sink).write(r)
        let raw = try zstdDecompress(sink.bytes)
        XCTAssertEqual(Array(raw[0..<4]), Array("TBR1".utf8))
        let hlen = Int(raw[4]) | Int(raw[5]) << 8 | Int(raw[6]) << 16 | Int(raw[7]) << 24
        let header = try JSON.parse(Array(raw[8..<(8 + hlen)]))
        XCTAssertEqual(header.objectValue?.keys, ["kind", "dtype", "shape", "layout", "id", "fps"])
        let payloadStart = raw.count - r.payload.count
        XCTAssertEqual(payloadStart % 64, 0)
        XCTAssertTrue(raw[(8 + hlen)..<payloadStart].allSatisfy { $0 == 0 })
        XCTAssertEqual(Array(raw[payloadStart...]), r.payload)
    }

    func testConcatenationIsAStream() throws {
        let a = try roundTrip([frames(2, 4, 4, seed: 1), frames(1, 4, 4, seed: 2)]).bytes
        let b = try roundTrip([frames(3, 4, 4, seed: 3)]).bytes
        let all = try readAll(a + b)
        XCTAssertEqual(all.count, 3)
        XCTAssertEqual(all[2], frames(3, 4, 4, seed: 3))
    }

    func testSkippableFramesAreIgnored() throws {
        let a = try roundTrip([frames(1, 4, 4)]).bytes
        let skippable: [UInt8] = [0x50, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 9, 9, 9]
        XCTAssertEqual(try readAll(skippable + a + skippable + a).count, 2)
    }

    func testIndexFindsRecordsWithoutDecompressing() throws {
        let records = (0..<5).map { frames(1 + $0, 8, 8, seed: UInt64($0), id: "v\($0)") }
        let bytes = try roundTrip(records).bytes
        let path = try temporaryFile(bytes)
        let index = try StreamIndex(path: path)
        XCTAssertEqual(index.count, 5)
        XCTAssertEqual(index.entries.first?.offset, 0)
        XCTAssertEqual(index.entries.last.map { $0.offset + $0.compressedSize }, bytes.count)
        XCTAssertEqual(try index.record(3), records[3])
        XCTAssertEqual(try index.header(4).header["id"], "v4")
        XCTAssertEqual(try index.header(4).shape, [5, 8, 8, 3])
        XCTAssertEqual(index.entries[2].recordSize.map { $0 > records[2].payload.count }, true)
    }

    func testStreamReaderReadsFilesInOrder() throws {
        let p1 = try temporaryFile(try roundTrip([frames(1, 2, 2, id: "a")]).bytes)
        let p2 = try temporaryFile(try roundTrip([frames(1, 2, 2, id: "b"), frames(1, 2, 2, id: "c")]).bytes)
        let reader = StreamReader(paths: [p1, p2])
        var ids: [String] = []
        while let r = try reader.next() { ids.append(r.id ?? "?") }
        XCTAssertEqual(ids, ["a", "b", "c"])
        XCTAssertThrowsError(try StreamReader(paths: ["/nonexistent/x.tbs"]).next()) { e in
            XCTAssertEqual((e as? Failure)?.status, .noInput)
        }
    }

    func testLevelsAndBadLevel() throws {
        let r = frames(8, 32, 32)
        for level: Int32 in [-5, 1, 3, 9] { XCTAssertEqual(try roundTrip([r], level: level).back, [r]) }
        XCTAssertThrowsError(try StreamWriter(sink: MemorySink(), level: 99)) { e in
            XCTAssertEqual((e as? Failure)?.status, .usage)
        }
    }
}

func temporaryFile(_ bytes: [UInt8], suffix: String = ".tbs") throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tb-\(UUID().uuidString)\(suffix)")
    try Data(bytes).write(to: url)
    return url.path
}

/// Decompresses with the zstd library's one-shot API (independent of RecordReader).
func zstdDecompress(_ bytes: [UInt8]) throws -> [UInt8] {
    let path = try temporaryFile(bytes, suffix: ".zst")
    let out = try runTool("/usr/bin/zstd", ["-d", "-c", path])
    return out
}

func runTool(_ tool: String, _ args: [String], stdin: [UInt8]? = nil) throws -> [UInt8] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = args
    let out = Pipe()
    p.standardOutput = out
    if let stdin {
        let inPath = try temporaryFile(stdin, suffix: ".in")
        p.standardInput = FileHandle(forReadingAtPath: inPath)
    }
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return [UInt8](data)
}
