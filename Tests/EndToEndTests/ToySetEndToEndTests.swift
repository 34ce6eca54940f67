// tb-toyset as users run it: the layout it makes, its refusals, and tb-info on its lists.

import Foundation
import XCTest

final class ToySetEndToEndTests: XCTestCase {
    let tiny = "--size 32x32 --frames 8 --fps 8 --labeled 1 --unlabeled 2 --val 1 --images 3 --untrimmed 1 --untrimmed-seconds 3"

    func testMakesTheLayoutAndTBInfoReadsItsLists() throws {
        let dir = try Scratch()
        let r = try dir.sh("tb-toyset \(tiny) --seed 3 toy")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout + r.stderr, "")
        for name in ["classes.txt", "train_labeled.txt", "train_unlabeled.txt", "val.txt", "images.txt", "images.jsonl",
                     "untrimmed.jsonl", "toyset.json", "videos/ring_left/ring_left_003.mp4",
                     "images/yellow_cross/yellow_cross_002.png", "untrimmed/untrimmed_000.mp4"] {
            XCTAssertTrue(dir.exists("toy/" + name), name)
        }
        let folders = try dir.sh("cd toy && find . -mindepth 1 -type d | sort | tr '\\n' ' '; find . -type f | wc -l")
        let classes = ["blue_triangle", "green_square", "red_disc", "ring_clockwise", "ring_counterclockwise", "ring_left",
                       "ring_right", "yellow_cross"]
        let expected = ["./images"] + classes.map { "./images/" + $0 } + ["./untrimmed", "./videos"] + classes.map { "./videos/" + $0 }
        // 8 lists, 4 videos and 3 images per class, 1 untrimmed video.
        XCTAssertEqual(folders.stdout, expected.joined(separator: " ") + " 65\n")

        let labeled = try dir.sh("tb-info toy/train_labeled.txt")
        XCTAssertEqual(labeled.status, 0, labeled.stderr)
        XCTAssertEqual(labeled.stdout.split(separator: "\n").count, 8)
        let unlabeled = try dir.sh("tb-info --summary --json toy/train_unlabeled.txt | jq -c '[.entries, .classes]'")
        XCTAssertEqual(unlabeled.stdout, "[16,8]\n", unlabeled.stderr)
        let images = try dir.sh("tb-info --summary --json toy/images.jsonl | jq .entries; jq -s 'map(select(.relevant)) | length' toy/images.jsonl")
        XCTAssertEqual(images.stdout, "24\n16\n", images.stderr)
        let untrimmed = try dir.sh("tb-info --json toy/untrimmed.jsonl | jq -c '[.label, .entries]'")
        XCTAssertEqual(untrimmed.status, 0, untrimmed.stderr)
        XCTAssertEqual(untrimmed.stdout.split(separator: "\n").count, 1)
    }

    func testSameSeedSameFilesWhateverTheThreads() throws {
        let dir = try Scratch()
        let r = try dir.sh("""
            tb-toyset \(tiny) --seed 9 --threads 1 a && tb-toyset \(tiny) --seed 9 --threads 2 b \
              && tb-toyset \(tiny) --seed 10 c && diff -r a b && echo same; diff -q a/videos/red_disc c/videos/red_disc | wc -l
            """)
        XCTAssertEqual(r.stdout, "same\n4\n", r.stderr)
    }

    func testBadUsageAndNonEmptyDirectory() throws {
        let dir = try Scratch()
        for args in ["--size 33x32 toy", "--size big toy", "--classes squares toy", "--codec vp9 toy", "--frames 1 toy", ""] {
            let r = try dir.sh("tb-toyset \(args)")
            XCTAssertEqual(r.status, 64, args)
            XCTAssertTrue(r.stderr.hasPrefix("tb-toyset: "), r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(dir.exists("toy"), args)
        }
        try dir.write("toy/notes.txt", "mine\n")
        let refused = try dir.sh("tb-toyset \(tiny) toy")
        XCTAssertEqual(refused.status, 64)
        XCTAssertEqual(refused.stderr, "tb-toyset: toy: is not empty (--force writes into it anyway)\n")
        XCTAssertFalse(dir.exists("toy/classes.txt"))
        let forced = try dir.sh("tb-toyset \(tiny) --force toy && cat toy/notes.txt")
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(forced.stdout, "mine\n")
        XCTAssertTrue(dir.exists("toy/toyset.json"))
        try dir.write("file", "x\n")
        let notDirectory = try dir.sh("tb-toyset \(tiny) file")
        XCTAssertEqual(notDirectory.status, 64, notDirectory.stderr)
    }
}
