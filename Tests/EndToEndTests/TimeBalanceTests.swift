// The TimeBalance recipe in miniature, through the real programs: teachers pretrain (their
// loss falls), fine-tune, score the unlabeled videos with temporal-similarity reweighting
// (appearance classes look more alike over time than motion classes), and a student
// trained on their soft targets beats chance. Also: same seed, same bytes.

import Foundation
import XCTest
import TBCore
import TBStream

final class TimeBalanceTests: XCTestCase {
    var dir: Scratch!

    override func setUpWithError() throws {
        dir = try Scratch()
        let r = try dir.sh("""
            set -e
            tb-toyset toy --classes red_disc,green_square,ring_left,ring_clockwise --labeled 4 --unlabeled 4 --val 6 \\
                --images 0 --untrimmed 0 --size 32x32 --frames 32 --seed 5 -q
            tb-decode -q -l toy/train_labeled.txt --fps 8 -o lab.tbs
            tb-decode -q -l toy/train_unlabeled.txt --fps 8 -o unl.tbs
            tb-decode -q -l toy/val.txt --fps 8 | tb-clip --clips 2 --len 8 -o val.tbs
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func lines(_ name: String) throws -> [JSONObject] {
        try String(contentsOfFile: dir.file(name), encoding: .utf8).split(separator: "\n").map {
            guard case .object(let o) = try JSON.parse(String($0)) else { throw Failure.data("not an object") }
            return o
        }
    }

    func testTheRecipeInMiniature() throws {
        let aug = "--augment basic --no-flip"
        let r = try dir.sh("""
            set -e
            cat lab.tbs unl.tbs > all.tbs
            for o in invariant distinctive; do
              tb-mix --unlabeled all.tbs --pretrain 2 --len 4 --size 32 \(aug) --batch 8 --steps 30 --seed 1 \\
                | tb-teach --arch r3d10:w8:dilated2 --objective $o --lr 0.003 --log teach-$o.jsonl -q -o $o.safetensors
              tb-mix lab.tbs --batch 8 --len 4 --size 32 \(aug) --epochs 30 --seed 1 \\
                | tb-train --arch r3d10:w8:dilated2 --class-names toy/classes.txt --init $o.safetensors -q -o $o-ft.safetensors
            done
            tb-clip --clips 3 --len 8 unl.tbs | tb-score invariant-ft.safetensors distinctive-ft.safetensors --tstr -o soft.jsonl
            tb-mix lab.tbs --unlabeled unl.tbs --labels soft.jsonl --batch 8:8 --len 4 --size 32 \(aug) --steps 80 --seed 1 \\
              | tb-train --arch r3d10:w8 --class-names toy/classes.txt --log student.jsonl -q -o student.safetensors
            tb-score student.safetensors val.tbs | tb-eval --json > eval.json
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        for o in ["invariant", "distinctive"] {
            let losses = try lines("teach-\(o).jsonl").compactMap { $0["loss"]?.doubleValue }
            XCTAssertEqual(losses.count, 30)
            let first = losses.prefix(3).reduce(0, +) / 3, last = losses.suffix(3).reduce(0, +) / 3
            XCTAssertLessThan(last, first, "\(o) teacher's pretraining loss falls: \(losses)")
        }
        // Appearance classes (0, 1) against motion classes (2, 3), over the unlabeled videos, with
        // clips of 8 frames (1 s): shorter clips overlap too much to tell.
        let soft = try lines("soft.jsonl")
        XCTAssertEqual(soft.count, 16)
        func meanTSS(_ classes: Range<Int>) -> Double {
            let v = soft.filter { classes.contains($0["label"]?.intValue ?? -1) }.compactMap { $0["tss"]?.doubleValue }
            return v.reduce(0, +) / Double(max(v.count, 1))
        }
        XCTAssertGreaterThan(meanTSS(0..<2), meanTSS(2..<4), "appearance videos look more alike over time")
        let student = try lines("student.jsonl")
        XCTAssertTrue(student.allSatisfy { $0["event"]?.stringValue != "step" || $0["mse_unlabeled"] != nil })
        guard case .object(let eval) = try JSON.parse(try String(contentsOfFile: dir.file("eval.json"), encoding: .utf8)),
              let top1 = eval["top1"]?.doubleValue else { return XCTFail("no eval.json") }
        XCTAssertGreaterThanOrEqual(top1, 0.375, "4 classes, 24 videos: chance is 0.25")
    }

    /// bin/timebalance runs the two teachers' lanes side by side: when one fails, the other is
    /// stopped (not left to pretrain for hours) and the run fails without printing a table.
    func testAFailedLaneStopsTheRecipe() throws {
        let r = try dir.sh("""
            mkdir shim
            real=$(command -v tb-teach)
            printf '#!/bin/bash\\nfor a; do [[ $a != invariant ]] || { echo "tb-teach: refused by the test" >&2; exit 70; }; done\\nexec %s "$@"\\n' \\
                "$real" > shim/tb-teach
            chmod +x shim/tb-teach
            PATH=$PWD/shim:$PATH TB_PRETRAIN_STEPS=100000 timeout -k 5 300 '\(repositoryRoot)/bin/timebalance' \\
                "$PWD/toy" work 1 > table.txt 2> err.txt
            echo "status $?"
            """)
        XCTAssertTrue(r.stdout.hasPrefix("status "), r.stderr)
        let status = Int(r.stdout.dropFirst(7).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        let stderr = (try? String(contentsOfFile: dir.file("err.txt"), encoding: .utf8)) ?? ""
        XCTAssertNotEqual(status, 0, stderr)
        XCTAssertNotEqual(status, 124, "the distinctive lane was not stopped: \(stderr)")
        XCTAssertTrue(stderr.contains("tb-teach: refused by the test"), stderr)
        XCTAssertTrue(stderr.contains("pretrain with the distinctive objective"), stderr)
        XCTAssertFalse(stderr.contains("fine-tune the distinctive teacher"), stderr)
        XCTAssertEqual((try? String(contentsOfFile: dir.file("table.txt"), encoding: .utf8)) ?? "x", "")
    }

    func testSameSeedSameCheckpointBytes() throws {
        let train = "tb-mix lab.tbs --batch 4 --len 4 --steps 4 --seed 3 | tb-train --arch r3d10:w4 --classes 8 --seed 2"
        let teach = "tb-mix --unlabeled unl.tbs --pretrain 2 --len 4 --batch 4 --steps 3 --seed 3 "
            + "| tb-teach --arch r3d10:w4:dilated2 --objective tclr --seed 2"
        let r = try dir.sh("""
            set -e
            \(train) > a.safetensors; \(train) > b.safetensors
            \(teach) > c.safetensors; \(teach) > d.safetensors
            cmp a.safetensors b.safetensors && cmp c.safetensors d.safetensors
            """)
        XCTAssertEqual(r.status, 0, r.stdout + r.stderr)
    }

    func testBadInputsAreRefused() throws {
        // Soft targets for ids no stream has.
        try dir.write("stray.jsonl", #"{"id": "videos/nowhere.mp4", "soft": [1, 0, 0, 0, 0, 0, 0, 0]}"# + "\n")
        let stray = try dir.sh("tb-mix lab.tbs --unlabeled unl.tbs --labels stray.jsonl --batch 2:2 --steps 1")
        XCTAssertEqual(stray.status, 65, stray.stderr)
        XCTAssertEqual(stray.stderr, "tb-mix: stray.jsonl: line 1: \"videos/nowhere.mp4\" is in no stream\n")
        // A checkpoint of another architecture for --resume, a teacher for tb-score.
        let r = try dir.sh("""
            tb-mix --unlabeled unl.tbs --pretrain 2 --len 4 --batch 2 --steps 1 \\
              | tb-teach --arch r3d10:w4:dilated2 --objective invariant -q -o t.safetensors
            tb-score t.safetensors val.tbs
            """)
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("t.safetensors"), r.stderr)
        // Clips too small for the network.
        let tiny = try dir.sh("tb-mix lab.tbs --batch 2 --len 4 --size 2 --steps 1 | tb-train --arch r3d10:w4 --classes 8")
        XCTAssertEqual(tiny.status, 65, tiny.stderr)
        XCTAssertTrue(tiny.stderr.contains("too small"), tiny.stderr)
        // Weights that stop being numbers: a clear message, the last good checkpoint kept.
        let good = try dir.sh("""
            tb-mix lab.tbs --batch 4 --len 4 --steps 3 --seed 1 \\
              | tb-train --arch r3d10:w4 --classes 8 --checkpoint-every 1 -o m.safetensors
            """)
        XCTAssertEqual(good.status, 0, good.stderr)
        let nan = try dir.sh("""
            tb-mix lab.tbs --batch 4 --len 4 --steps 6 --seed 1 \\
              | tb-train --resume m.safetensors --lr 1e38 --checkpoint-every 1 -o m.safetensors
            """)
        XCTAssertEqual(nan.status, 70, nan.stderr)
        XCTAssertTrue(nan.stderr.contains("lower the learning rate"), nan.stderr)
        let kept = try SafeTensorsFile(path: dir.file("m.safetensors"))
        // The last checkpoint whose weights are all numbers stays: the run stopped before 6.
        XCTAssertLessThan(Int(kept.metadata["steps"] ?? "") ?? 99, 6)
        XCTAssertTrue(try kept.floats("conv1.weight").allSatisfy(\.isFinite))
    }
}
