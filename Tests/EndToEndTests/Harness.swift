// Runs the built programs in bash, as users do, in a scratch directory of small inputs.

import Foundation
import XCTest
import TBCore
import TBStream

/// Where the built programs are: beside the test bundle (swift test builds both into
/// .build/<triple>/<config>), or $TB_BIN.
let programDirectory: String = {
    if let dir = ProcessInfo.processInfo.environment["TB_BIN"] { return dir }
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    var url = URL(fileURLWithPath: exe).deletingLastPathComponent()
    // The Linux test runner is .../release/tbPackageTests.xctest itself.
    while !FileManager.default.fileExists(atPath: url.appendingPathComponent("tb-info").path) && url.path != "/" {
        url = url.deletingLastPathComponent()
    }
    return url.path
}()

struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: [UInt8]
}

/// A scratch directory removed at deinit.
final class Scratch {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("tb-e2e-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }

    func write(_ name: String, _ text: String) throws {
        let p = file(name)
        try FileManager.default.createDirectory(atPath: (p as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: p, atomically: false, encoding: .utf8)
    }

    func write(_ name: String, bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
    }

    func writeStream(_ name: String, _ records: [Record], level: Int32 = 1) throws {
        let sink = MemorySink()
        let w = try StreamWriter(sink: sink, level: level)
        for r in records { try w.write(r) }
        try w.flush()
        try write(name, bytes: sink.bytes)
    }

    func exists(_ name: String) -> Bool { FileManager.default.fileExists(atPath: file(name)) }

    func contents(_ name: String) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
    }

    /// Runs a bash script here with the programs on PATH; `set -o pipefail` is NOT set,
    /// so a pipeline's status is its last command's, as in an interactive shell.
    @discardableResult
    func sh(_ script: String, timeout: TimeInterval = 300) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        p.currentDirectoryURL = URL(fileURLWithPath: path)
        var env = ProcessInfo.processInfo.environment
        env["PATH"] = programDirectory + ":" + (env["PATH"] ?? "/usr/bin:/bin")
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Drain both pipes concurrently so a chatty program cannot block on a full pipe.
        final class Box: @unchecked Sendable { var data = Data() }
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        let errData = errBox.data
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errData, as: UTF8.self), stdoutBytes: [UInt8](outData))
    }
}

/// Frames of a small synthetic video: each frame a flat colour that encodes (record, frame).
func colourFrames(id: String, label: Int?, frames t: Int = 4, size: Int = 16, seed: Int = 0) -> Record {
    var pixels = [UInt8](repeating: 0, count: t * size * size * 3)
    for f in 0..<t {
        for i in 0..<(size * size) {
            let o = (f * size * size + i) * 3
            pixels[o] = UInt8((seed * 40) % 256)
            pixels[o + 1] = UInt8((f * 60) % 256)
            pixels[o + 2] = 128
        }
    }
    var h = JSONObject()
    h["layout"] = "THWC"
    h["id"] = .string(id)
    if let label { h["label"] = JSON(label) }
    h["index"] = 0
    h["fps"] = 8.0
    return Record(kind: "frames", dtype: .u8, shape: [t, size, size, 3], header: h, payload: pixels)
}
