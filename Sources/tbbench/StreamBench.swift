// bin/bench stream: tensor-stream write and read throughput beside the zstd CLI at the
// same level, threads and data (DESIGN.md §2; issue: goal ≥ 0.9× zstd).

import ArgumentParser
import Foundation
import TBCLI
import TBCore
import TBStream

struct StreamBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Write and read video-like u8 frames as a tensor stream, beside the zstd CLI.")

    @Option(help: "Megabytes of frames (1 MB = 10^6 bytes).") var megabytes = 1024
    @Option(help: "Comma-separated zstd levels.") var levels = "1,3"
    @Option(help: "Comma-separated thread counts (0 = compress in the calling thread).") var threads = "1,2"
    @Option(help: "Directory for the temporary files.") var dir = "/tmp"
    @Option(help: "Path of the zstd program.") var zstd = "/usr/bin/zstd"
    @Flag(help: "One JSON line per measurement.") var json = false

    func run() throws {
        let levelList = levels.split(separator: ",").compactMap { Int32($0) }
        let threadList = threads.split(separator: ",").compactMap { Int($0) }
        let records = makeRecords(megabytes: megabytes)
        let rawBytes = records.reduce(0) { $0 + $1.payload.count }
        let base = "\(dir)/tbbench-\(getpid())"
        defer { for ext in ["tbs", "raw", "zst"] { unlink("\(base).\(ext)") } }

        // The zstd CLI compresses the very bytes our writer compresses: the raw records.
        try writeRaw(records, to: "\(base).raw")
        if !json {
            print("stream bench: \(records.count) records, \(rawBytes / 1_000_000) MB of 16-frame 224x224 RGB clips")
            print("tool  level threads  write MB/s   read MB/s  compressed")
        }
        for level in levelList {
            for t in threadList {
                let ours = try measureTB(records, level: level, workers: t, path: "\(base).tbs")
                let theirs = try measureZstd(level: level, threads: t, raw: "\(base).raw", out: "\(base).zst")
                for (tool, m) in [("tb", ours), ("zstd", theirs)] {
                    report(tool: tool, level: level, threads: t, m, rawBytes: rawBytes)
                }
                if !json {
                    print("  tb/zstd           " + pad(formatFixed(ours.writeMBs(rawBytes) / theirs.writeMBs(rawBytes), 2) + "×", 10)
                          + "  " + pad(formatFixed(ours.readMBs(rawBytes) / theirs.readMBs(rawBytes), 2) + "×", 10))
                }
            }
        }
    }

    struct Measurement { var write: Double; var read: Double; var compressed: Int
        func writeMBs(_ n: Int) -> Double { Double(n) / 1e6 / write }
        func readMBs(_ n: Int) -> Double { Double(n) / 1e6 / read }
    }

    func report(tool: String, level: Int32, threads: Int, _ m: Measurement, rawBytes: Int) {
        if json {
            let o = JSONObject([("bench", "stream"), ("tool", .string(tool)), ("level", JSON(Int(level))),
                                ("threads", JSON(threads)),
                                ("write_mb_s", .double((m.writeMBs(rawBytes) * 10).rounded() / 10)),
                                ("read_mb_s", .double((m.readMBs(rawBytes) * 10).rounded() / 10)),
                                ("raw_bytes", JSON(rawBytes)), ("compressed_bytes", JSON(m.compressed))])
            print(JSON.object(o).text)
        } else {
            print(pad(tool, 5) + pad("\(level)", 6) + pad("\(threads)", 8) + pad(formatFixed(m.writeMBs(rawBytes), 1), 12)
                  + pad(formatFixed(m.readMBs(rawBytes), 1), 12) + "  " + formatFixed(Double(m.compressed) / Double(rawBytes) * 100, 1) + "%")
        }
    }

    func measureTB(_ records: [Record], level: Int32, workers: Int, path: String) throws -> Measurement {
        let t0 = Date()
        // A plain file, not Output: Output fsyncs before its rename and the zstd CLI does not sync.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw Failure(.ioError, "cannot create", file: path) }
        let file = OutputFile(fd: fd, name: path, owned: true, bufferSize: 1 << 20)
        let writer = try StreamWriter(sink: file, level: level, workers: workers)
        for r in records { try writer.write(r) }
        try writer.flush()
        let write = Date().timeIntervalSince(t0)
        let t1 = Date()
        let reader = try RecordReader(source: try InputFile(path: path))
        var n = 0
        while let r = try reader.next() { n += r.payload.count }
        let read = Date().timeIntervalSince(t1)
        guard n == records.reduce(0, { $0 + $1.payload.count }) else { throw Failure.internalError("read back \(n) bytes") }
        return Measurement(write: write, read: read, compressed: reader.position)
    }

    func measureZstd(level: Int32, threads: Int, raw: String, out: String) throws -> Measurement {
        let write = try timed(zstd, ["-q", "-f", "-\(level)", "-T\(threads)", raw, "-o", out])
        let read = try timed(zstd, ["-q", "-d", "-c", out], discardOutput: true)
        let size = (try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        return Measurement(write: write, read: read, compressed: size)
    }

    func timed(_ tool: String, _ args: [String], discardOutput: Bool = false) throws -> Double {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        if discardOutput { p.standardOutput = FileHandle(forWritingAtPath: "/dev/null") }
        let t0 = Date()
        try p.run()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw Failure.internalError("\(tool) \(args) failed") }
        return Date().timeIntervalSince(t0)
    }

    func writeRaw(_ records: [Record], to path: String) throws {
        let sink = try Output(path: path)
        for r in records {
            // The same bytes StreamWriter compresses: prefix, header, padding, payload.
            try sink.file.write(try StreamWriter.rawBytes(of: r))
        }
        try sink.commit()
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
}
