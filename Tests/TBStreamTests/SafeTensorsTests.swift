import Foundation
import XCTest
import TBCore
@testable import TBStream

private func fixturePath(_ name: String) throws -> String {
    let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return dir.appendingPathComponent(name).path
}

/// A file from a header text and a data buffer, with the header size written as given.
private func handMade(_ header: String, data: [UInt8] = [], size: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    return withUnsafeBytes(of: (size ?? UInt64(h.count)).littleEndian) { Array($0) } + h + data
}

final class SafeTensorsTests: XCTestCase {
    /// The values make_safetensors_fixture.py writes, recomputed.
    private func expected() -> [SafeTensor] {
        [
            SafeTensor(name: "weight", shape: [3, 4], floats: (0..<12).map { (Float($0) - 5) / 4 }),
            SafeTensor(name: "half", shape: [5], halves: (0..<5).map { Float($0) * 0.5 - 1 }),
            SafeTensor(name: "steps", shape: [4], int64s: (Int64(0)..<4).map { $0 * 1_000_000_007 - 2_000_000_000 }),
            SafeTensor(name: "index32", shape: [3], int32s: (Int32(0)..<3).map { -$0 * 7 }),
            SafeTensor(name: "pixels", shape: [2, 3, 2], bytes: (0..<12).map { UInt8(($0 * 37) % 256) }),
            SafeTensor(name: "scalar", shape: [], floats: [3.25]),
            SafeTensor(name: "empty", shape: [0, 3], floats: []),
        ]
    }
    private let metadata = ["arch": "r3d18:w16", "classes": #"["a b", "c,d"]"#, "step": "1200"]

    func testReadsPythonFixtureExactly() throws {
        let file = try SafeTensorsFile(path: fixturePath("python.safetensors"))
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(file.names, ["steps", "double", "empty", "scalar", "weight", "index32", "half", "small",
                                    "signed8", "pixels", "mask"])
        for t in expected() { XCTAssertEqual(try file.tensor(t.name), t, t.name) }
        XCTAssertEqual(try file.floats("weight"), (0..<12).map { (Float($0) - 5) / 4 })
        XCTAssertEqual(try file.floats("half"), [-1, -0.5, 0, 0.5, 1])
        XCTAssertEqual(try file.floats("scalar"), [3.25])
        XCTAssertEqual(try file.floats("empty"), [])
        XCTAssertEqual(try file.floats("double"), (0..<4).map { Float(Double($0) / 3 - 0.25) })
        XCTAssertEqual(try file.tensor("double").shape, [2, 2])
        XCTAssertEqual(try file.tensor("steps").integers(), (Int64(0)..<4).map { $0 * 1_000_000_007 - 2_000_000_000 })
        XCTAssertEqual(try file.tensor("small").integers(), [-300, 0, 300])
        XCTAssertEqual(try file.tensor("signed8").integers(), [-100, -50, 0, 50])
        XCTAssertEqual(try file.tensor("mask").integers(), [1, 0, 1, 0, 1])
        XCTAssertEqual(file["mask"]?.dtype, .BOOL)
        XCTAssertEqual(file["scalar"]?.shape, [])
        XCTAssertThrowsError(try file.floats("pixels")) { e in XCTAssertEqual((e as? Failure)?.tensor, "pixels") }
        XCTAssertThrowsError(try file.tensor("nope")) { e in
            XCTAssertEqual((e as? Failure)?.status, .dataError)
            XCTAssertEqual((e as? Failure)?.tensor, "nope")
        }
    }

    /// Same tensors and metadata give the very bytes the Python package wrote.
    func testWriterMatchesPythonByteForByte() throws {
        let python = try Array(Data(contentsOf: URL(fileURLWithPath: fixturePath("python.safetensors"))))
        let all = try SafeTensorsFile(bytes: python).tensors()
        XCTAssertEqual(try SafeTensorsWriter.encode(Array(all.reversed()), metadata: metadata), python)
    }

    func testRoundTripEveryWritableDType() throws {
        var tensors = expected()
        tensors.append(SafeTensor(name: "empty half", shape: [2, 0], halves: []))
        tensors.append(SafeTensor(name: "no ints", shape: [0], int64s: []))
        tensors.append(SafeTensor(name: "bf16", dtype: .BF16, shape: [2], data: [0x80, 0x3F, 0x40, 0xC0]))
        let meta = ["note": "ünïcode \"quoted\"\nnewline", "empty": ""]
        let bytes = try SafeTensorsWriter.encode(tensors, metadata: meta)
        let headerSize = bytes.withUnsafeBytes { Int(UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self))) }
        XCTAssertEqual(headerSize % 8, 0)
        XCTAssertEqual(bytes[8 + headerSize - 1], 0x20)
        let back = try SafeTensorsFile(bytes: bytes, name: "mem")
        XCTAssertEqual(back.metadata, meta)
        XCTAssertEqual(back.dataStart, 8 + headerSize)
        for t in tensors { XCTAssertEqual(try back.tensor(t.name), t, t.name) }
        for e in back.entries { XCTAssertEqual(e.offsets.lowerBound % e.dtype.size, 0, e.name) }  // aligned
        XCTAssertEqual(try back.floats("bf16"), [1, -3])
        XCTAssertEqual(try back.tensor("empty half").floats(), [])

        // Through a file: the reader maps it instead of reading it.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tb st \(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(bytes).write(to: url)
        let mapped = try SafeTensorsFile(path: url.path)
        XCTAssertEqual(mapped.tensors(), back.tensors())
        XCTAssertEqual(try SafeTensorsWriter.encode([], metadata: [:]), handMade("{}      "))
        XCTAssertEqual(try SafeTensorsFile(bytes: handMade("{}")).entries, [])
    }

    func testWriterRefusesInconsistentTensors() {
        let bad: [[SafeTensor]] = [
            [SafeTensor(name: "a", shape: [2], floats: [1])],
            [SafeTensor(name: "a", shape: [1], floats: [1]), SafeTensor(name: "a", shape: [1], floats: [2])],
            [SafeTensor(name: "__metadata__", shape: [1], floats: [1])],
            [SafeTensor(name: "a", dtype: .U8, shape: [-1], data: [])],
        ]
        for tensors in bad {
            XCTAssertThrowsError(try SafeTensorsWriter.encode(tensors)) { e in
                XCTAssertEqual((e as? Failure)?.tensor, tensors.last?.name)
            }
        }
    }

    /// Every refusal the format calls for: status 65 and, where one is to blame, the tensor's name.
    func testHostileHeaders() {
        let ok = #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#
        let eight = [UInt8](repeating: 1, count: 8)
        let cases: [(String, [UInt8], String?, String)] = [
            ("[1,2]", [], nil, "not an object"),
            ("{\"a\":", [], nil, "header: "),
            ("{'a':1}", [], nil, "header: "),
            ("", [], nil, "header: "),
            ("{\(ok)} x", eight, nil, "header: "),
            (#"{"a":3}"#, [], "a", "must be an object, found number"),
            (#"{"a":{"shape":[2],"data_offsets":[0,8]}}"#, eight, "a", "needs \"dtype\""),
            (#"{"a":{"dtype":"F32","data_offsets":[0,8]}}"#, eight, "a", "needs"),
            (#"{"a":{"dtype":"F32","shape":[2]}}"#, eight, "a", "needs"),
            (#"{"a":{"dtype":4,"shape":[2],"data_offsets":[0,8]}}"#, eight, "a", "not a string"),
            (#"{"a":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}}"#, [1, 2], "a", "unknown dtype"),
            (#"{"a":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}"#, eight, "a", "not an array of integers"),
            (#"{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}"#, eight, "a", "not an array of integers"),
            (#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, eight, "a", "negative dimension"),
            (#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}"#, eight, "a", "overflows"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}}"#, eight, "a", "two integers"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":["0","8"]}}"#, eight, "a", "two integers"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[-8,0]}}"#, eight, "a", "two integers"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}"#, eight, "a", "end before"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,16]}}"#, eight, "a", "past the end of the data"),
            (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, [1, 2, 3, 4], "a", "needs 8"),
            (#"{"a":{"dtype":"U8","shape":[8],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#,
             eight, "b", "overlap tensor 'a'"),
            (#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}"#,
             eight, "b", "belong to no tensor"),
            (#"{"a":{"dtype":"U8","shape":[4],"data_offsets":[4,8]}}"#, eight, "a", "belong to no tensor"),
            ("{\(ok)}", eight + [0], nil, "last 1 bytes"),
            (#"{"__metadata__":[1]}"#, [], nil, "__metadata__ must map names to strings, found array"),
            (#"{"__metadata__":{"k":1}}"#, [], nil, "__metadata__ \"k\" must be a string, found number"),
        ]
        for (header, data, tensor, problem) in cases {
            XCTAssertThrowsError(try SafeTensorsFile(bytes: handMade(header, data: data), name: "bad.safetensors"), header) { e in
                guard let f = e as? Failure else { return XCTFail("\(e)") }
                XCTAssertEqual(f.status.rawValue, 65, header)
                XCTAssertEqual(f.tensor, tensor, header)
                XCTAssertEqual(f.file, "bad.safetensors", header)
                XCTAssertTrue(f.message.contains(problem), "\(header): \(f.message)")
                if let tensor { XCTAssertTrue(f.description.contains("tensor '\(tensor)'"), f.description) }
            }
        }
        // The header size itself.
        for (bytes, problem) in [(handMade("{}", size: 100_000_001), "over the limit"), (handMade("{}", size: 3), "past the end"),
                                 ([1, 2, 3], "too short"), ([], "too short")] {
            XCTAssertThrowsError(try SafeTensorsFile(bytes: bytes)) { e in
                XCTAssertEqual((e as? Failure)?.status, .dataError)
                XCTAssertEqual((e as? Failure)?.message.contains(problem), true, "\(e)")
            }
        }
        XCTAssertNoThrow(try SafeTensorsFile(bytes: handMade("  {\(ok)}  ", data: eight)))  // spaces, as Python pads
    }

    /// Every truncation and many corruptions of a valid file are refused or read, never a trap.
    func testDamagedFilesNeverTrap() throws {
        let good = try SafeTensorsWriter.encode(expected(), metadata: metadata)
        for n in 0..<good.count {
            XCTAssertThrowsError(try SafeTensorsFile(bytes: Array(good[..<n])), "prefix \(n)")
        }
        var g = SeededGenerator(seed: 7)
        for _ in 0..<2000 {
            var bad = good
            let at = Int(g.next() % UInt64(min(good.count, 400)))
            bad[at] = UInt8(truncatingIfNeeded: g.next())
            if let file = try? SafeTensorsFile(bytes: bad) {
                for e in file.entries { _ = file.withBytes(of: e) { $0.count } }
                _ = file.tensors()
            }
        }
    }
}
