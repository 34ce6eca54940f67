// --log FILE: metrics as JSON lines, appended, one object per event.

import Foundation
import TBCore
import TBStream
#if canImport(Glibc)
import Glibc
#endif

public final class MetricsLog {
    private let file: OutputFile
    private let tool: String
    private let start = Date()

    /// Opens `path` for appending (created if missing), so several runs can share one log.
    public init(path: String, tool: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o666)
        guard fd >= 0 else { throw Failure(.ioError, "cannot open log: \(errnoString(errno))", file: path) }
        file = OutputFile(fd: fd, name: path, owned: true)
        self.tool = tool
    }

    /// Appends `{"tool": ..., "time": seconds since start, ...fields}` and flushes, so a
    /// crashed run keeps every line written before it.
    public func write(_ event: String, _ fields: JSONObject = JSONObject()) throws {
        var o = JSONObject([("tool", .string(tool)), ("event", .string(event)),
                            ("time", .double((Date().timeIntervalSince(start) * 1000).rounded() / 1000))])
        for (k, v) in fields { o[k] = v }
        try file.write(JSON.object(o).text + "\n")
        try file.flush()
    }
}
