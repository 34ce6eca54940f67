// tb-mix in a pipeline on real decoded videos: batches as asked, the same bytes for the
// same seed, and clear refusals.

import Foundation
import XCTest
import TBCore
import TBStream
import TBVideo

final class MixTests: XCTestCase {
    var dir: Scratch!

    override func setUpWithError() throws {
        dir = try Scratch()
        FFmpegLog.set(verbose: false)
        for (name, n) in [("a.mp4", 20), ("b.mp4", 14), ("c.mp4", 9)] {
            let w = try VideoWriter(path: dir.file(name), width: 32, height: 32, options: VideoWriterOptions(fps: 10, quality: 20))
            for i in 0..<n { try w.append(FrameCode.image(i, width: 32, height: 32)) }
            try w.finish()
        }
        try dir.write("train.txt", "a.mp4 0\nb.mp4 1\n")
        try dir.write("soft.jsonl", #"{"id": "c.mp4", "soft": [0.25, 0.75]}"# + "\n")
        let r = try dir.sh("tb-decode -l train.txt --chunk 4 -o lab.tbs && tb-decode c.mp4 --chunk 4 -o unl.tbs")
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func records(_ bytes: [UInt8]) throws -> [Record] {
        try bytes.withUnsafeBytes { raw in
            let reader = try RecordReader(source: MemorySource(raw, name: "out"))
            var out: [Record] = []
            while let r = try reader.next() { out.append(r) }
            return out
        }
    }

    func testBatchesFromLabeledAndUnlabeledStreams() throws {
        let r = try dir.sh("tb-mix lab.tbs --unlabeled unl.tbs --labels soft.jsonl --batch 2:1 --epochs 3 --len 4 "
                           + "--stride 2 --augment none --seed 5")
        XCTAssertEqual(r.status, 0, r.stderr)
        let batches = try records(r.stdoutBytes)
        XCTAssertEqual(batches.count, 3, "two labeled videos, two per batch: one batch an epoch")
        for (e, b) in batches.enumerated() {
            XCTAssertEqual(b.shape, [3, 4, 32, 32, 3])
            XCTAssertEqual(b.header["epoch"], JSON(e))
            let ids = b.header["ids"]?.arrayValue?.compactMap(\.stringValue) ?? []
            XCTAssertEqual(Set(ids.prefix(2)), ["a.mp4", "b.mp4"])
            XCTAssertEqual(ids.last, "c.mp4")
            XCTAssertEqual(b.header["soft"]?.arrayValue?.last, JSON([0.25, 0.75]))
            // Square frames and no augmentation: each frame still shows its number, and a
            // clip is four frames two apart inside its video.
            let frame = 32 * 32 * 3
            for s in 0..<3 {
                let codes: [Int?] = (0..<4).map { f in
                    b.payload.withUnsafeBufferPointer { p in
                        let o = (s * 4 + f) * frame
                        return FrameCode.read(UnsafeBufferPointer(rebasing: p[o..<o + frame]), width: 32, height: 32)
                    }
                }
                guard let first = codes[0] else { XCTFail("no frame code in sample \(s)"); continue }
                XCTAssertEqual(codes, [first, first + 2, first + 4, first + 6], "sample \(s)")
                XCTAssertLessThan(first + 6, ["a.mp4": 20, "b.mp4": 14, "c.mp4": 9][ids[s]]!, "\(ids[s])")
            }
        }
        let again = try dir.sh("tb-mix lab.tbs --unlabeled unl.tbs --labels soft.jsonl --batch 2:1 --epochs 3 --len 4 "
                               + "--stride 2 --augment none --seed 5")
        XCTAssertEqual(again.stdoutBytes, r.stdoutBytes, "same seed, same bytes")
        let other = try dir.sh("tb-mix lab.tbs --batch 2 --epochs 3 --seed 6 --size 16")
        XCTAssertEqual(try records(other.stdoutBytes).map(\.shape), Array(repeating: [2, 8, 16, 16, 3], count: 3))
    }

    func testRefusals() throws {
        // Standard input is spooled to a temporary file: the same batches as from the file.
        let fromFile = try dir.sh("tb-mix lab.tbs --batch 2 --epochs 2 --seed 4")
        let fromPipe = try dir.sh("cat lab.tbs | tb-mix - --batch 2 --epochs 2 --seed 4")
        XCTAssertEqual(fromPipe.status, 0, fromPipe.stderr)
        XCTAssertEqual(fromPipe.stdoutBytes, fromFile.stdoutBytes)
        XCTAssertEqual(try dir.sh("tb-mix - --unlabeled - --batch 1:1 < lab.tbs").status, 64)
        let unlabeled = try dir.sh("tb-mix unl.tbs --batch 1 -o out.tbs")
        XCTAssertEqual(unlabeled.status, 65)
        XCTAssertEqual(unlabeled.stderr, "tb-mix: unl.tbs: record 0: labeled video \"c.mp4\" has no label (give --labels)\n")
        XCTAssertFalse(dir.exists("out.tbs"))
        XCTAssertEqual(try dir.sh("tb-mix missing.tbs").status, 66)
        XCTAssertEqual(try dir.sh("tb-mix lab.tbs --batch 2:x").status, 64)
    }
}
