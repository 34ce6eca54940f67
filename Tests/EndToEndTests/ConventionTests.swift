// DESIGN.md §1 conventions, checked on the built programs: exit codes, one-line
// messages, a quiet end on a closed pipe, no partial output files.

import XCTest
import TBCore
import TBStream

final class ConventionTests: XCTestCase {
    var dir: Scratch!

    override func setUpWithError() throws {
        dir = try Scratch()
        try dir.writeStream("train.tbs", (0..<6).map { colourFrames(id: "v/clip \($0).mp4", label: $0 % 3, seed: $0) })
    }

    func testUsageErrorsExit64OnOneLine() throws {
        for args in ["--no-such-option", "--records -3 train.tbs", "--threads 0 train.tbs", "--sheet-frames x train.tbs"] {
            let r = try dir.sh("tb-info \(args)")
            XCTAssertEqual(r.status, 64, args)
            XCTAssertTrue(r.stderr.hasPrefix("tb-info: "), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertEqual(r.stdout, "")
        }
    }

    func testHelpAndVersionExit0OnStdout() throws {
        let help = try dir.sh("tb-info --help")
        XCTAssertEqual(help.status, 0)
        XCTAssertTrue(help.stdout.contains("--summary"))
        let version = try dir.sh("tb-info --version")
        XCTAssertEqual(version.status, 0)
        XCTAssertTrue(version.stdout.hasPrefix("tb-info 0."), version.stdout)
        XCTAssertTrue(version.stdout.contains("OpenBLAS"), version.stdout)
        XCTAssertTrue(version.stdout.contains("libavcodec"), version.stdout)
    }

    func testOpenBLASGetsItsFastKernelsOnAVX512() throws {
        // Programs that compute (here the benchmark driver, which trains) re-execute
        // themselves for OpenBLAS's AVX-512 kernels; the data programs need no GEMM.
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let version = try dir.sh("tbbench --version").stdout
        if flags.contains(" avx512f") {
            XCTAssertTrue(version.contains("kernels SkylakeX"), version)
        }
        // A user's own choice wins.
        let chosen = try dir.sh("OPENBLAS_CORETYPE=Haswell tbbench --version").stdout
        XCTAssertTrue(chosen.contains("kernels Haswell"), chosen)
    }

    func testMissingInputExits66() throws {
        let r = try dir.sh("tb-info nope.tbs")
        XCTAssertEqual(r.status, 66)
        XCTAssertEqual(r.stderr, "tb-info: nope.tbs: No such file or directory\n")
    }

    func testCorruptStreamExits65NamingFileRecordAndOffset() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file("train.tbs"))))
        try dir.write("cut.tbs", bytes: Array(bytes[0..<(bytes.count - 10)]))
        let r = try dir.sh("tb-info cut.tbs")
        XCTAssertEqual(r.status, 65)
        XCTAssertTrue(r.stderr.hasPrefix("tb-info: cut.tbs: record 5 (byte "), r.stderr)
        XCTAssertTrue(r.stderr.contains("truncated"), r.stderr)
        XCTAssertEqual(r.stdout.split(separator: "\n").count, 5, "the good records are still listed")
        let garbage = try dir.sh("head -c 3000 /dev/urandom | tr -d '\\000' > junk.bin; tb-info junk.bin")
        XCTAssertEqual(garbage.status, 65, garbage.stderr)
    }

    func testClosedPipeEndsQuietly() throws {
        // Enough output to fill the pipe: the writer must meet EPIPE, not finish first.
        try dir.writeStream("big.tbs", (0..<4000).map { colourFrames(id: "v\($0)", label: 1, frames: 1, size: 2) })
        let r = try dir.sh("set -o pipefail; tb-info big.tbs | head -1; echo \"status ${PIPESTATUS[0]}\" >&2")
        XCTAssertEqual(r.stdout.split(separator: "\n").count, 1)
        XCTAssertEqual(r.stderr, "status 141\n", "no message, killed-by-SIGPIPE status")
    }

    func testStdinAndDashAndSeveralFiles() throws {
        let a = try dir.sh("tb-info < train.tbs")
        let b = try dir.sh("cat train.tbs | tb-info -")
        XCTAssertEqual(a.status, 0)
        XCTAssertEqual(a.stdout, b.stdout)
        let two = try dir.sh("tb-info train.tbs train.tbs")
        XCTAssertTrue(two.stdout.hasPrefix("==> train.tbs <==\n"), two.stdout)
        let cat = try dir.sh("cat train.tbs train.tbs | tb-info --summary --json")
        XCTAssertTrue(cat.stdout.contains("\"records\":12"), cat.stdout)
    }

    func testLogAppendsJSONLines() throws {
        try dir.sh("tb-info --log run.jsonl train.tbs > /dev/null; tb-info --log run.jsonl -s train.tbs > /dev/null")
        let lines = try String(contentsOfFile: dir.file("run.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 2, "appended, not overwritten")
        let o = try XCTUnwrap(try JSON.parse(String(lines[1])).objectValue)
        XCTAssertEqual(o["tool"], "tb-info")
        XCTAssertEqual(o["event"], "file")
        XCTAssertEqual(o["records"], 6)
        XCTAssertEqual(o["file"], "train.tbs")
        XCTAssertNotNil(o["time"]?.doubleValue)
    }

    func testProgressOnlyWhenAskedOrOnATerminal() throws {
        let quiet = try dir.sh("tb-info train.tbs")
        XCTAssertEqual(quiet.stderr, "", "stderr is a pipe here: no progress")
        let forced = try dir.sh("tb-info --progress train.tbs")
        XCTAssertTrue(forced.stderr.contains("6 records"), forced.stderr)
        XCTAssertTrue(forced.stderr.contains("/s"), forced.stderr)
        XCTAssertEqual(try dir.sh("tb-info --progress --quiet train.tbs").status, 64)
    }

    func testStreamsFromTheZstdToolAreRead() throws {
        // Raw records compressed by the zstd CLI from a pipe: no size in the frame header.
        let raw = try [colourFrames(id: "a", label: 0), colourFrames(id: "b", label: 1)]
            .map { try StreamWriter.rawBytes(of: $0) }
        try dir.write("raw.bin", bytes: raw[0] + raw[1])
        let r = try dir.sh("cat raw.bin | zstd -q -c -19 | tb-info -s -j")
        XCTAssertEqual(r.status, 65, "one zstd frame holding two records is refused: \(r.stderr)")
        XCTAssertTrue(r.stderr.contains("longer"), r.stderr)
        try dir.write("a.bin", bytes: raw[0])
        try dir.write("b.bin", bytes: raw[1])
        let ok = try dir.sh("(zstd -q -c < a.bin; zstd -q -c -9 < b.bin) | tb-info")
        XCTAssertEqual(ok.status, 0, ok.stderr)
        XCTAssertEqual(ok.stdout.split(separator: "\n").count, 2)
        // And `zstd -d` shows what tb wrote, byte for byte.
        let d = try dir.sh("zstd -dc train.tbs | head -c 4")
        XCTAssertEqual(d.stdout, "TBR1")
    }
}
