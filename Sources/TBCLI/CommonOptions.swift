// The options every tb program takes (DESIGN.md §1), parsed once and applied once.

import ArgumentParser
import Foundation
import TBCore
import TBTensor

public struct CommonOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "Worker threads, OpenBLAS's included (default: OPENBLAS_NUM_THREADS, else all cores).",
        valueName: "n"))
    public var threads: Int?

    @Option(name: .long, help: ArgumentHelp("Seed for every random choice.", valueName: "n"))
    public var seed: UInt64 = 0

    @Option(name: .long, help: ArgumentHelp("Append metrics as JSON lines to this file.", valueName: "file"))
    public var log: String?

    @Flag(name: .long, help: "Show progress on stderr even when it is not a terminal.")
    public var progress = false

    @Flag(name: [.short, .long], help: "No progress and no notes on stderr; errors only.")
    public var quiet = false

    public init() {}

    public mutating func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, not \(threads)") }
        if progress && quiet { throw ValidationError("--progress and --quiet contradict each other") }
    }

    /// The thread count in force: --threads, else OPENBLAS_NUM_THREADS, else every core.
    public var threadCount: Int {
        if let threads { return threads }
        if let env = ProcessInfo.processInfo.environment["OPENBLAS_NUM_THREADS"], let n = Int(env), n > 0 { return n }
        return CPU.cores
    }

    /// Sets the threads of tb's kernels and GEMMs (OpenBLAS itself runs on one); call once at the start of `run()`.
    public func apply() {
        BLAS.useComputeThreads(threadCount)
    }

    /// Whether to draw progress: a terminal on stderr, or --progress; never with --quiet.
    public var showProgress: Bool {
        !quiet && (progress || isatty(2) != 0)
    }

    /// A progress line for `total` units (nil when unknown), or one that draws nothing.
    public func makeProgress(_ label: String, total: Int? = nil, unit: String = "records") -> Progress {
        Progress(label: label, total: total, unit: unit, enabled: showProgress)
    }

    /// The --log file, opened for appending, or nil.
    public func openLog(tool: String) throws -> MetricsLog? {
        guard let log else { return nil }
        return try MetricsLog(path: log, tool: tool)
    }

    /// A note on stderr, unless --quiet.
    public func note(_ tool: String, _ text: String) {
        if !quiet { writeStandardError("\(tool): \(text)\n") }
    }
}

/// The version line of every program: tb's version and the libraries it runs on.
public func versionString(extra: [String] = []) -> String {
    let parts = ["\(BLAS.configString), kernels \(BLAS.coreName)"] + extra
    return "\(tbVersion) (" + parts.joined(separator: "; ") + ")"
}

public let tbVersion = "0.1.0"
