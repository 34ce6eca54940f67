// Which records a shard keeps, and when Slurm's array variables choose the shard.

import XCTest
import TBStream
@testable import TBCLI

final class ShardingTests: XCTestCase {
    let slurm = ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "4"]

    func testTheArrayChoosesOnlyForNamedFiles() {
        XCTAssertEqual(Shard.chosen(nil, streams: ["a.tbs"], environment: slurm), Shard(index: 2, count: 4))
        XCTAssertNil(Shard.chosen(nil, streams: [], environment: slurm), "standard input: the writer chose")
        XCTAssertNil(Shard.chosen(nil, streams: ["a.tbs", "-"], environment: slurm))
        XCTAssertNil(Shard.chosen(nil, streams: ["a.tbs"], environment: [:]))
        XCTAssertEqual(Shard.chosen(Shard(index: 1, count: 2), streams: [], environment: slurm), Shard(index: 1, count: 2))
        XCTAssertNil(Shard.chosen(Shard(index: 0, count: 1), streams: ["a.tbs"], environment: slurm), "0/1 turns it off")
    }

    func testVideosAreRunsOfOneIDAndStayWhole() {
        func record(_ id: String?) -> Record {
            var h = JSONObject()
            if let id { h["id"] = .string(id) }
            return Record(kind: "frames", dtype: .u8, shape: [1], header: h, payload: [0])
        }
        let ids: [String?] = ["a", "a", "b", nil, nil, "c", "c", "c", "a"]  // videos 0 0 1 2 3 4 4 4 5
        var kept: [[Int]] = []
        for i in 0..<2 {
            var filter = VideoShardFilter(Shard(index: i, count: 2))
            kept.append(ids.indices.filter { filter.keeps(record(ids[$0])) })
        }
        XCTAssertEqual(kept[0], [0, 1, 3, 5, 6, 7])
        XCTAssertEqual(kept[1], [2, 4, 8])
        var all = VideoShardFilter(nil)
        XCTAssertTrue(ids.allSatisfy { all.keeps(record($0)) })
    }
}
