// tb-warp as users run it: `tb-decode videos | tb-warp fit` recovers the camera motion the
// videos were made with; warps of still images; bad inputs end cleanly.

import Foundation
import XCTest
import TBCore
import TBStream
import TBVideo
import TBWarp

/// A video (libavcodec, H.264 when available) of a plane-wave texture seen by a camera whose
/// motion between consecutive frames is `steps[i]` (normalised coordinates): frame t shows the
/// texture moved by steps[t-1] ⋯ steps[0], rendered exactly, so consecutive frames are related
/// by exactly those homographies up to the codec's error.
func cameraVideo(_ path: String, texture seed: UInt64, steps: [Homography], size: Int = 96, fps: Int = 10) throws {
    try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
    let texture = SyntheticTexture(seed: seed)
    let w = try VideoWriter(path: path, width: size, height: size, options: VideoWriterOptions(fps: fps, quality: 12))
    var motion = Homography.identity
    try w.append(texture.render(width: size, height: size, motion: motion))
    for step in steps {
        motion = (step * motion)!
        try w.append(texture.render(width: size, height: size, motion: motion))
    }
    try w.finish()
}

final class WarpEndToEndTests: XCTestCase {
    var dir: Scratch!

    override func setUpWithError() throws {
        dir = try Scratch()
        FFmpegLog.set(verbose: false)
    }

    func model(_ name: String) throws -> JSONObject {
        try XCTUnwrap(try JSON.parse(String(contentsOfFile: dir.file(name), encoding: .utf8)).objectValue)
    }

    func numbers(_ j: JSON?) -> [Double] { j?.arrayValue?.compactMap(\.doubleValue) ?? [] }

    /// The issue's "done means": 10 videos of 21 frames (200 pairs) whose steps are drawn from a
    /// known N(μ_c, Σ), classes 0 and 1 differing in the mean pan; a third class has one pair.
    /// Tolerances: a fitted mean is the true one within 4 standard errors σ_k/√n (the sampling
    /// error of n draws; 4 rather than 2 leaves room for the estimation error of each pair,
    /// which adds variance but no bias), each variance within 30% (its sampling error alone is
    /// √(2/n) = 10% at n = 200, 14% at n = 100).
    func testFitRecoversTheGeneratingDistribution() throws {
        let sd: [Double] = [0.006, 0.006, 0.02, 0.006, 0.006, 0.02, 0.001, 0.001]
        var sigma = [Double](repeating: 0, count: 64)
        for k in 0..<8 { sigma[9 * k] = sd[k] * sd[k] }
        sigma[1 * 8 + 3] = -0.5 * sd[1] * sd[3]     // rotation: h12 and h21 move oppositely
        sigma[3 * 8 + 1] = sigma[1 * 8 + 3]
        let pan = 0.015
        func mean(_ label: Int) -> [Double] { [0.002, 0.001, label == 0 ? -pan : pan, -0.001, 0.003, 0.005, 0.0004, -0.0003] }
        var g = SeededGenerator(seed: 2026)
        var list: [String] = []
        var drawn: [[Double]] = []
        for v in 0..<10 {
            let label = v % 2
            let sampler = try XCTUnwrap(MotionGaussian(mean: mean(label), covariance: sigma).sampler())
            let steps = (0..<20).map { _ in sampler.draw(&g) }
            drawn += steps.map(\.parameters)
            try cameraVideo(dir.file("v\(v).mp4"), texture: UInt64(v), steps: steps)
            list.append(#"{"id": "v\#(v).mp4", "label": \#(label), "class": "\#(label == 0 ? "pan-left" : "pan-right")"}"#)
        }
        try cameraVideo(dir.file("short.mp4"), texture: 99, steps: [.identity])
        list.append(#"{"id": "short.mp4", "label": 2, "class": "still"}"#)
        try dir.write("list.jsonl", list.joined(separator: "\n") + "\n")

        let start = Date()
        let r = try dir.sh("set -o pipefail; tb-decode -l list.jsonl | tb-warp fit --per-class -o fit.json")
        let seconds = Date().timeIntervalSince(start)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("tb-warp: classes with fewer than 10 pairs use the class-agnostic fit: 2\n"), r.stderr)
        let fit = try model("fit.json")
        XCTAssertEqual(fit["pairs"], JSON(201))
        XCTAssertEqual(fit["parameters"], .array(Homography.parameterNames.map { .string($0) }))

        // Class-agnostic: an equal mixture of the two classes, whose ML Gaussian has the average
        // mean and Σ plus the spread of the class means (pan² on h13). The short video's
        // identity step is 1 pair in 201, inside the tolerances.
        var agnosticSigma = sigma
        agnosticSigma[2 * 9] += pan * pan
        let agnosticMean = zip(mean(0), mean(1)).map { ($0 + $1) / 2 }
        let mu = numbers(fit["mu"])
        let fittedSigma = (fit["sigma"]?.arrayValue ?? []).flatMap(numbers)
        XCTAssertEqual(mu.count, 8)
        XCTAssertEqual(fittedSigma.count, 64)
        let realised = MotionGaussian.fit(drawn)
        var report = "tb-warp fit, \(Int(seconds * 1000)) ms, 200 pairs (+1), class-agnostic:\n"
        for k in 0..<8 {
            let v = agnosticSigma[9 * k]
            report += "  \(Homography.parameterNames[k]): mu true \(agnosticMean[k]) drawn \(realised.mean[k]) fitted \(mu[k]);"
                + " var true \(v) drawn \(realised.covariance[9 * k]) fitted \(fittedSigma[9 * k])\n"
            XCTAssertEqual(mu[k], agnosticMean[k], accuracy: 4 * v.squareRoot() / 200.0.squareRoot(), "mu \(k)")
            XCTAssertEqual(fittedSigma[9 * k], v, accuracy: 0.3 * v, "sigma \(k),\(k)")
        }

        // Per class: 100 pairs each, their own means; class 2 falls back and says so.
        let classes = fit["classes"]?.arrayValue?.compactMap(\.objectValue) ?? []
        XCTAssertEqual(classes.map { $0["label"]?.intValue }, [0, 1, 2])
        XCTAssertEqual(classes.map { $0["class"]?.stringValue }, ["pan-left", "pan-right", "still"])
        for c in classes.prefix(2) {
            let label = c["label"]!.intValue!
            XCTAssertEqual(c["pairs"], JSON(100))
            let m = numbers(c["mu"]), s = (c["sigma"]?.arrayValue ?? []).flatMap(numbers)
            report += "  class \(label): mu h13 true \(mean(label)[2]) fitted \(m[2]); var h13 true \(sigma[18]) fitted \(s[18])\n"
            for k in 0..<8 {
                XCTAssertEqual(m[k], mean(label)[k], accuracy: 4 * sd[k] / 10, "class \(label) mu \(k)")
                XCTAssertEqual(s[9 * k], sigma[9 * k], accuracy: 0.4 * sigma[9 * k], "class \(label) sigma \(k),\(k)")
            }
        }
        XCTAssertEqual(classes[2]["fallback"], "class-agnostic")
        XCTAssertNil(classes[2]["mu"])
        print(report)
        XCTAssertLessThan(seconds, 30)
    }

    func stillImage() throws {
        try dir.write("still.png", bytes: try PNG.encode(SyntheticTexture(seed: 5).render(width: 48, height: 36)))
    }

    func testIdentityModelMakesPerspectiveByteEqualCopy() throws {
        try stillImage()
        let zeros = "[0,0,0,0,0,0,0,0]"
        try dir.write("still.json", #"{"mu": \#(zeros), "sigma": [\#(Array(repeating: zeros, count: 8).joined(separator: ","))]}"#)
        let r = try dir.sh("""
            set -e
            tb-decode still.png still.png > stills.tbs
            tb-warp --mode copy --len 6 stills.tbs -o copy.tbs
            tb-warp --mode perspective --model still.json --len 6 stills.tbs -o warp.tbs
            cmp copy.tbs warp.tbs
            tb-info copy.tbs
            """)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("clip u8 [1,6,36,48,3]"), r.stdout)
        // A real model moves the picture; the same seed gives the same clips, shards the same records.
        try dir.write("pan.json", #"{"mu": [0,0,0.05,0,0,0,0,0], "sigma": [\#(Array(repeating: zeros, count: 8).joined(separator: ","))]}"#)
        let moved = try dir.sh("""
            set -e
            tb-warp --model pan.json stills.tbs -o a.tbs --seed 3
            tb-warp --model pan.json stills.tbs -o b.tbs --seed 3
            cmp a.tbs b.tbs
            ! cmp -s a.tbs copy.tbs
            tb-warp --mode translate --shard 1/2 stills.tbs -o t1.tbs
            SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 tb-warp --mode translate stills.tbs -o t2.tbs
            cmp t1.tbs t2.tbs
            tb-info t1.tbs | wc -l
            """)
        XCTAssertEqual(moved.status, 0, moved.stderr)
        XCTAssertEqual(moved.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "1")
    }

    /// Every bad input: one line naming the file (and record), the sysexits status, no output file.
    func testBadInputsFailCleanly() throws {
        try stillImage()
        let row = "[0,0,0,0,0,0,0,0]"
        let rows = Array(repeating: row, count: 8).joined(separator: ",")
        try dir.write("truncated.json", #"{"mu": [0,0,"#)
        try dir.write("nosigma.json", #"{"mu": \#(row)}"#)
        try dir.write("dims.json", #"{"mu": [0,0,0,0,0,0], "sigma": [\#(rows)]}"#)
        try dir.write("rows.json", #"{"mu": \#(row), "sigma": [\#(row),\#(row)]}"#)
        try dir.writeStream("clips.tbs", [Record(kind: "clip", dtype: .u8, shape: [1, 1, 2, 2, 3],
                                                 header: JSONObject([("id", "c")]), payload: [UInt8](repeating: 1, count: 12))])
        _ = try dir.sh("tb-decode still.png > stills.tbs && cat stills.tbs clips.tbs > mixed.tbs")
        let cases: [(String, Int32, String)] = [
            ("tb-warp --mode copy nope.tbs", 66, "tb-warp: nope.tbs: No such file or directory"),
            ("tb-warp --model nope.json stills.tbs", 66, "tb-warp: nope.json: No such file or directory"),
            ("tb-warp --model truncated.json stills.tbs", 65, "tb-warp: truncated.json: "),
            ("tb-warp --model nosigma.json stills.tbs", 65, #"tb-warp: nosigma.json: no "sigma""#),
            ("tb-warp --model dims.json stills.tbs", 65, #"tb-warp: dims.json: "mu" has 6 numbers, not 8"#),
            ("tb-warp --model rows.json stills.tbs", 65, #"tb-warp: rows.json: "sigma" has 2 rows, not 8"#),
            ("tb-warp --mode copy mixed.tbs", 65, "tb-warp: mixed.tbs: record 1: a clip, not frames"),
            ("tb-warp fit clips.tbs", 65, "tb-warp: clips.tbs: record 0: a clip, not frames"),
            ("tb-warp fit nope.tbs", 66, "tb-warp: nope.tbs: No such file or directory"),
            ("tb-warp fit stills.tbs", 65, "tb-warp: stills.tbs: no pairs of consecutive frames to fit"),
            ("tb-warp --mode perspective stills.tbs", 64, "tb-warp: --mode perspective needs --model"),
        ]
        for (command, status, message) in cases {
            let r = try dir.sh(command + " -o out.tbs")
            XCTAssertEqual(r.status, status, command + "\n" + r.stderr)
            XCTAssertTrue(r.stderr.hasPrefix(message), command + "\n" + r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertFalse(dir.contents("").contains { $0.contains("out.tbs") }, command)
        }
    }
}
