// Argument values several programs share: times, sizes, shards.

import ArgumentParser
import Foundation

/// A time in seconds as users write it: `2.5`, `10s`, `500ms`, `2m`, `1h`, or ffmpeg's
/// `[[hh:]mm:]ss[.frac]` (`1:02.5`).
public struct TimeValue: ExpressibleByArgument, Equatable, Sendable {
    public var seconds: Double

    public init(seconds: Double) { self.seconds = seconds }

    public init?(argument: String) {
        let s = argument.trimmingCharacters(in: .whitespaces)
        if s.contains(":") {
            let parts = s.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 3, let last = Double(parts.last!), last >= 0, last < 60 || parts.count == 1 else { return nil }
            var total = last
            var scale = 60.0
            for p in parts.dropLast().reversed() {
                guard let v = Int(p), v >= 0 else { return nil }
                total += Double(v) * scale
                scale *= 60
            }
            seconds = total
            return
        }
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (suffix, scale) in units where s.hasSuffix(suffix) {
            guard let v = Double(s.dropLast(suffix.count)), v.isFinite, v >= 0 else { return nil }
            seconds = v * scale
            return
        }
        guard let v = Double(s), v.isFinite, v >= 0 else { return nil }
        seconds = v
    }

    public static var defaultCompletionKind: CompletionKind { .default }
}

/// `WxH`, e.g. `160x120`.
public struct SizeValue: ExpressibleByArgument, Equatable, Sendable {
    public var width: Int
    public var height: Int

    public init?(argument: String) {
        let parts = argument.lowercased().split(separator: "x")
        guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
        width = w
        height = h
    }
}

/// Which part of the inputs a batch-job array task takes: every N-th, starting at I (0-based).
public struct Shard: ExpressibleByArgument, Equatable, Sendable {
    public var index: Int
    public var count: Int

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// `I/N` with 0 <= I < N.
    public init?(argument: String) {
        let parts = argument.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else {
            return nil
        }
        self.init(index: i, count: n)
    }

    /// Whether the input at `position` (counting from 0 in input order) is this shard's.
    public func contains(_ position: Int) -> Bool { position % count == index }

    /// The shard a Slurm array task is, from SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT and
    /// SLURM_ARRAY_TASK_MIN (so arrays numbered from 1, or from any first id, work); nil
    /// outside an array job or when the variables do not make sense.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) -> Shard? {
        guard let id = env["SLURM_ARRAY_TASK_ID"].flatMap({ Int($0) }),
              let count = env["SLURM_ARRAY_TASK_COUNT"].flatMap({ Int($0) }), count >= 1 else { return nil }
        let first = env["SLURM_ARRAY_TASK_MIN"].flatMap { Int($0) } ?? 0
        let index = id - first
        guard (0..<count).contains(index) else { return nil }
        return Shard(index: index, count: count)
    }
}
