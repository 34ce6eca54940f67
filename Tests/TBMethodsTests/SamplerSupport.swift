// Stream files for the sampler tests.

import Foundation
import XCTest
import TBCore
import TBStream

/// A stream file of videos; video v has `frames[v]` 4×4 frames whose pixels are 10·v + f
/// (so a pixel says which video and frame it came from, below 26 videos), in chunks of 3.
func framesStream(_ frames: [Int], labels: [Int?]? = nil, size: Int = 4, for test: XCTestCase) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("tb-sampler-\(UUID().uuidString).tbs").path
    let sink = MemorySink()
    let w = try StreamWriter(sink: sink, level: 1)
    for (v, n) in frames.enumerated() {
        for (k, start) in stride(from: 0, to: n, by: 3).enumerated() {
            let t = min(3, n - start)
            var h = JSONObject([("id", .string("v\(v)")), ("index", JSON(k)), ("fps", 10.0)])
            if let l = labels?[v] { h["label"] = JSON(l) }
            var payload: [UInt8] = []
            for f in start..<start + t { payload += [UInt8](repeating: UInt8(truncatingIfNeeded: 10 * v + f), count: size * size * 3) }
            try w.write(Record(kind: "frames", dtype: .u8, shape: [t, size, size, 3], header: h, payload: payload))
        }
    }
    try w.flush()
    try Data(sink.bytes).write(to: URL(fileURLWithPath: path))
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}
