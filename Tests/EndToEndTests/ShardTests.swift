// --shard I/N on the per-record programs: the N shards' outputs, concatenated, hold exactly
// the unsharded output's records (order aside), each video whole in one shard, in input
// order within it; Slurm's array variables choose the shard when files are named.

import Foundation
import XCTest
import TBCore
import TBStream

final class ShardTests: XCTestCase {
    var dir: Scratch!

    override func setUpWithError() throws {
        dir = try Scratch()
        let r = try dir.sh("""
            set -e
            tb-toyset toy --classes red_disc,green_square,blue_triangle,yellow_cross --labeled 7 --unlabeled 0 \\
                --val 0 --images 0 --untrimmed 0 --size 32x32 --frames 16 --seed 4 -q
            tb-decode -l toy/train_labeled.txt --chunk 6 -o frames.tbs
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// Every record of a stream as text (header, shape, a digest of the payload), in order.
    func records(_ name: String) throws -> [String] { try recordsWithIDs(name).map(\.text) }

    func recordsWithIDs(_ name: String) throws -> [(id: String, text: String)] {
        let reader = StreamReader(paths: [dir.file(name)])
        var out: [(id: String, text: String)] = []
        while let r = try reader.next() {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for b in r.payload { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
            out.append((r.id ?? "", "\(JSON.object(r.header).text) \(r.dtype.rawValue) \(r.shape) \(h)"))
        }
        return out
    }

    /// The videos of a stream in order (runs of records with one id).
    func ids(_ name: String) throws -> [String] {
        var out: [String] = []
        for r in try recordsWithIDs(name) where out.last != r.id { out.append(r.id) }
        return out
    }

    func testClipShardsTogetherAreTheWhole() throws {
        let r = try dir.sh("""
            set -e
            tb-clip --len 4 frames.tbs -o all.tbs
            for i in 0 1 2; do tb-clip --len 4 --shard $i/3 frames.tbs -o clips$i.tbs; done
            cat clips0.tbs clips1.tbs clips2.tbs > cat.tbs
            SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_COUNT=3 tb-clip --len 4 frames.tbs -o env1.tbs
            SLURM_ARRAY_TASK_ID=5 SLURM_ARRAY_TASK_MIN=4 SLURM_ARRAY_TASK_COUNT=3 tb-clip --len 4 < frames.tbs > stdin.tbs
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        let all = try records("all.tbs")
        XCTAssertEqual(try records("cat.tbs").sorted(), all.sorted())
        XCTAssertGreaterThan(all.count, 28, "several clips per video")
        // Video v is in shard v % 3, whole, in input order.
        let videos = try ids("all.tbs")
        XCTAssertEqual(videos.count, 28)
        for i in 0..<3 {
            XCTAssertEqual(try ids("clips\(i).tbs"), videos.enumerated().filter { $0.offset % 3 == i }.map(\.element))
            let mine = Set(try ids("clips\(i).tbs"))
            XCTAssertEqual(try records("clips\(i).tbs"), try recordsWithIDs("all.tbs").filter { mine.contains($0.id) }.map(\.text))
        }
        // Slurm's task 5 of 4...6 is shard 1/3 for named files; a pipe is left whole.
        XCTAssertEqual(try records("env1.tbs"), try records("clips1.tbs"))
        XCTAssertEqual(try records("stdin.tbs"), all)
    }

    func testScoreShardsTogetherAreTheWhole() throws {
        let r = try dir.sh("""
            set -e
            tb-clip --clips 2 --len 4 frames.tbs -o clips.tbs
            tb-mix frames.tbs --batch 4 --len 4 --steps 2 | tb-train --arch r3d10:w4 --classes 4 -q -o m.safetensors
            tb-score m.safetensors clips.tbs -o all.jsonl
            for i in 0 1 2 3; do tb-score m.safetensors clips.tbs --shard $i/4 -o s$i.jsonl; done
            tb-score m.safetensors frames.tbs --clips 2 --len 4 -o frames.jsonl
            tb-score m.safetensors frames.tbs --clips 2 --len 4 --shard 1/4 -o frames1.jsonl
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        func lines(_ name: String) throws -> [String] {
            try String(contentsOfFile: dir.file(name), encoding: .utf8).split(separator: "\n").map(String.init)
        }
        let all = try lines("all.jsonl")
        XCTAssertEqual(all.count, 28)
        let shards = try (0..<4).map { try lines("s\($0).jsonl") }
        XCTAssertEqual(shards.flatMap { $0 }.sorted(), all.sorted())
        XCTAssertEqual(shards[1], all.enumerated().filter { $0.offset % 4 == 1 }.map(\.element), "input order within a shard")
        // From frames, a video's chunks stay together in its shard.
        XCTAssertEqual(try lines("frames1.jsonl"), try lines("frames.jsonl").enumerated().filter { $0.offset % 4 == 1 }.map(\.element))

        // TimeBalance's rescaling is over every video: a shard cannot compute it.
        let tstr = try dir.sh("tb-score m.safetensors m.safetensors --tstr --shard 0/2 clips.tbs")
        XCTAssertEqual(tstr.status, 64, tstr.stderr)
        XCTAssertTrue(tstr.stderr.hasPrefix("tb-score: --tstr rescales the temporal similarity over all videos"), tstr.stderr)
        let raw = try dir.sh("tb-score m.safetensors m.safetensors --tstr --raw-tss --shard 0/2 clips.tbs")
        XCTAssertEqual(raw.status, 0, raw.stderr)
        XCTAssertEqual(raw.stdout.split(separator: "\n").count, 14)
    }
}
