// tb-train and tb-score as a pipeline on the toy set: the network learns (validation
// accuracy well above chance), a resumed run ends where an uninterrupted one does, and
// bad inputs are refused with their status.

import Foundation
import XCTest
import TBCore
import TBStream

final class TrainScoreTests: XCTestCase {
    var dir: Scratch!

    override func setUpWithError() throws {
        dir = try Scratch()
        let r = try dir.sh("""
            tb-toyset toy --classes red_disc,green_square,blue_triangle,yellow_cross --labeled 6 --unlabeled 2 \\
                --val 4 --images 0 --untrimmed 0 --size 32x32 --frames 16 --seed 3 -q
            tb-decode -l toy/train_labeled.txt -o lab.tbs
            tb-decode -l toy/train_unlabeled.txt -o unl.tbs
            tb-decode -l toy/val.txt | tb-clip --clips 2 --len 8 -o val.tbs
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func accuracy(_ jsonl: String) throws -> Double {
        let lines = try String(contentsOfFile: dir.file(jsonl), encoding: .utf8).split(separator: "\n")
        var right = 0
        for line in lines {
            guard case .object(let o) = try JSON.parse(String(line)) else { continue }
            if o["label"]?.intValue == o["pred"]?.intValue { right += 1 }
        }
        return Double(right) / Double(max(lines.count, 1))
    }

    func testTheNetworkLearnsAndTheStudentTrainsOnSoftTargets() throws {
        let r = try dir.sh("""
            tb-mix lab.tbs --batch 8 --len 8 --epochs 15 --seed 1 \\
              | tb-train --arch r3d10:w8 --class-names toy/classes.txt --lr 0.003 --val val.tbs --best best.safetensors \\
                  --log train.jsonl -o teacher.safetensors
            tb-score teacher.safetensors val.tbs -o pred.jsonl
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        let top1 = try accuracy("pred.jsonl")
        XCTAssertGreaterThanOrEqual(top1, 0.6, "4 classes: chance is 0.25")
        let log = try String(contentsOfFile: dir.file("train.jsonl"), encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "\"event\":\"step\"").count - 1, 45)
        XCTAssertEqual(log.components(separatedBy: "\"event\":\"val\"").count - 1, 15)
        XCTAssertTrue(dir.exists("best.safetensors"))

        // Two teachers' soft targets for the unlabeled videos, then the student on both.
        let s = try dir.sh("""
            tb-mix lab.tbs --batch 8 --len 8 --epochs 5 --seed 2 \\
              | tb-train --arch r3d10:w8 --classes 4 --init teacher.safetensors -o second.safetensors
            tb-clip --clips 3 --len 8 unl.tbs | tb-score teacher.safetensors second.safetensors --tstr > soft.jsonl
            tb-mix lab.tbs --unlabeled unl.tbs --labels soft.jsonl --batch 4:4 --len 8 --steps 6 \\
              | tb-train --arch r3d10:w8 --classes 4 --log student.jsonl -o student.safetensors
            """)
        XCTAssertEqual(s.status, 0, s.stderr)
        XCTAssertTrue(s.stderr.contains("tb-train: loaded 62 of 62 tensors from teacher.safetensors"), s.stderr)
        let soft = try String(contentsOfFile: dir.file("soft.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(soft.count, 8)
        for line in soft {
            guard case .object(let o) = try JSON.parse(String(line)), let p = o["soft"]?.arrayValue,
                  let w = o["s"]?.doubleValue else { return XCTFail(String(line)) }
            XCTAssertEqual(p.compactMap(\.doubleValue).reduce(0, +), 1, accuracy: 1e-4)
            XCTAssertTrue((0...1).contains(w))
        }
        let student = try String(contentsOfFile: dir.file("student.jsonl"), encoding: .utf8)
        XCTAssertEqual(student.components(separatedBy: "\"mse_unlabeled\"").count - 1, 6, "every step distils unlabeled videos")
    }

    func testResumeEndsWhereAnUninterruptedRunEnds() throws {
        let train = "tb-train --arch r3d10:w4 --classes 4 --threads 1 --checkpoint-every 3"
        let r = try dir.sh("""
            tb-mix lab.tbs --batch 4 --len 4 --steps 8 --seed 7 | \(train) -o whole.safetensors
            tb-mix lab.tbs --batch 4 --len 4 --steps 3 --seed 7 | \(train) -o part.safetensors
            tb-mix lab.tbs --batch 4 --len 4 --steps 8 --seed 7 | \(train) --resume part.safetensors -o part.safetensors
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        let a = try SafeTensorsFile(path: dir.file("whole.safetensors")), b = try SafeTensorsFile(path: dir.file("part.safetensors"))
        XCTAssertEqual(a.names, b.names)
        for name in a.names where !name.hasSuffix("num_batches_tracked") {
            XCTAssertEqual(try a.floats(name), try b.floats(name), name)
        }
        XCTAssertEqual(b.metadata["steps"], "8")
    }

    func testRefusals() throws {
        let badLabel = try dir.sh("tb-mix lab.tbs --batch 2 --len 4 --steps 1 | tb-train --arch r3d10:w4 --classes 2 -o m.safetensors")
        XCTAssertEqual(badLabel.status, 65)
        XCTAssertTrue(badLabel.stderr.hasPrefix("tb-train: <stdin>: record 0: sample "), badLabel.stderr)
        XCTAssertTrue(badLabel.stderr.contains("is not a class of 0..<2"), badLabel.stderr)
        XCTAssertFalse(dir.exists("m.safetensors"))
        let frames = try dir.sh("tb-train --arch r3d10:w4 --classes 4 lab.tbs")
        XCTAssertEqual(frames.status, 65)
        XCTAssertEqual(frames.stderr, "tb-train: lab.tbs: record 0: a frames, not a sample: tb-train reads tb-mix's output\n")
        try dir.write("junk.safetensors", bytes: [8, 0, 0, 0, 0, 0, 0, 0] + Array("{\"a\":1}".utf8))
        let noFit = try dir.sh("tb-mix lab.tbs --batch 2 --len 4 --steps 1 | tb-train --arch r3d10:w4 --classes 4 --init junk.safetensors")
        XCTAssertEqual(noFit.status, 65, noFit.stderr)
        XCTAssertEqual(try dir.sh("tb-train --classes 4 < /dev/null").status, 64)
        let oneClip = try dir.sh("tb-clip --clips 1 --len 4 lab.tbs | tb-score --tstr x.safetensors y.safetensors")
        XCTAssertEqual(oneClip.status, 66, oneClip.stderr)
    }
}
