import Foundation
import XCTest
import TBCore
import TBTensor
@testable import TBCLI

final class ThreadOptionTests: XCTestCase {
    /// --threads sets tb's kernels' threads and keeps OpenBLAS at one (BLAS.useComputeThreads).
    func testThreadsSetTheComputeThreads() throws {
        defer { BLAS.useComputeThreads(0) }
        for n in [1, 2, 3] {
            let options = try CommonOptions.parse(["--threads", "\(n)"])
            options.apply()
            XCTAssertEqual(computeThreads, n)
            XCTAssertEqual(BLAS.threads, 1)
        }
    }
}

final class OutputTests: XCTestCase {
    var dir: String!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("tb-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: dir) }

    func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir).sorted() }

    func testFileAppearsOnlyWhenCommitted() throws {
        let path = dir + "/out.tbs"
        let out = try Output(path: path)
        try out.file.write(Array(repeating: 7, count: 3 << 20))
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
        XCTAssertEqual(try listing().count, 1)
        XCTAssertTrue(try listing()[0].hasPrefix(".out.tbs.tmp."))
        try out.commit()
        XCTAssertEqual(try listing(), ["out.tbs"])
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)).count, 3 << 20)
    }

    func testAbandonedOutputLeavesNothing() throws {
        let path = dir + "/out.png"
        try "old".write(toFile: path, atomically: false, encoding: .utf8)
        func failingRun() throws {
            let out = try Output(path: path)
            try out.file.write("half")
            throw Failure.data("bad record")
        }
        XCTAssertThrowsError(try failingRun())
        XCTAssertEqual(try listing(), ["out.png"], "the temporary is gone")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old", "the old file is untouched")
    }

    func testUnwritableDirectoryIsAnIOError() {
        XCTAssertThrowsError(try Output(path: "/nonexistent-dir/out.tbs")) { e in
            XCTAssertEqual((e as? Failure)?.status, .ioError)
            XCTAssertEqual((e as? Failure)?.file, "/nonexistent-dir/out.tbs")
        }
    }

    func testFileModeFollowsUmask() throws {
        let path = dir + "/m.tbs"
        let out = try Output(path: path)
        try out.commit()
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
        let mask = umask(0); umask(mask)
        XCTAssertEqual(mode, 0o666 & ~Int(mask))
    }
}

final class FormattingTests: XCTestCase {
    func testNumbersAndClock() {
        XCTAssertEqual(formatFixed(3.14159, 2), "3.14")
        XCTAssertEqual(formatFixed(-0.004, 2), "0.00")
        XCTAssertEqual(formatFixed(-2.5, 1), "-2.5")
        XCTAssertEqual(formatFixed(9.999, 2), "10.00")
        XCTAssertEqual(byteString(1000), "1000 B")
        XCTAssertEqual(byteString(1536), "1.5 KiB")
        XCTAssertEqual(byteString(3 << 30), "3.0 GiB")
        XCTAssertEqual(Progress.clock(75), "1:15")
        XCTAssertEqual(Progress.clock(3725), "1:02:05")
    }

    func testFileKindFromFirstBytes() {
        XCTAssertEqual(FileKind.detect([0x28, 0xB5, 0x2F, 0xFD, 0]), .stream)
        XCTAssertEqual(FileKind.detect([0x50, 0x2A, 0x4D, 0x18]), .stream)
        XCTAssertEqual(FileKind.detect([16, 0, 0, 0, 0, 0, 0, 0] + Array("{\"".utf8)), .safetensors)
        XCTAssertEqual(FileKind.detect(Array("{\"id\": 1}\n".utf8)), .text)
        XCTAssertEqual(FileKind.detect(Array("a b.avi 3\r\n".utf8)), .text)
        XCTAssertEqual(FileKind.detect([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70]), .unknown)  // an MP4
        XCTAssertEqual(FileKind.detect([]), .empty)
    }
}
