// --shard I/N for the programs that read tensor streams record by record (tb-clip, tb-score,
// and any other per-record program): a shard is every N-th video of the input, starting at
// the I-th, counting videos in input order. A video is a run of consecutive records with one
// "id" (tb-decode's chunks of one file, or one clip record); a record without an id counts
// as a video of its own. So the N shards' outputs hold, together, exactly the records of the
// unsharded run, each video whole in one shard.

import Foundation
import TBStream

extension Shard {
    /// The shard a stream-reading program takes: `--shard` when given; else, in a Slurm array
    /// job, the array task's, but only when the input is named files: a program reading a pipe
    /// (`tb-decode | tb-clip`) gets what the program before it already chose. nil: everything.
    public static func chosen(_ given: Shard?, streams: [String],
                              environment: [String: String] = ProcessInfo.processInfo.environment) -> Shard? {
        if let given { return given.count == 1 ? nil : given }
        guard !streams.isEmpty, !streams.contains("-") else { return nil }
        return fromEnvironment(environment).flatMap { $0.count == 1 ? nil : $0 }
    }
}

/// Which records belong to a shard's videos; give it every record in input order.
public struct VideoShardFilter {
    public let shard: Shard?
    private var video = -1
    private var lastID: JSON?

    public init(_ shard: Shard?) { self.shard = shard }

    /// Whether `record` belongs to the shard (always, without one).
    public mutating func keeps(_ record: Record) -> Bool {
        let id = record.header["id"]
        if video < 0 || id == nil || id != lastID { video += 1 }
        lastID = id
        return shard?.contains(video) ?? true
    }
}
