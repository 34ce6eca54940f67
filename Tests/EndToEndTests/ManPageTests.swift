// Man pages are part of the product: each is lint-clean, each program has one, and
// every EXAMPLES block whose programs exist runs on small files.

import Foundation
import XCTest
import TBCore
import TBStream
import TBVideo
import TBWarp

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

func manPages() throws -> [String] {
    var pages: [String] = []
    for section in ["man1", "man5", "man7"] {
        let dir = repositoryRoot + "/man/" + section
        for f in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] { pages.append(dir + "/" + f) }
    }
    return pages.sorted()
}

/// The literal blocks of a page's EXAMPLES section, with roff escapes undone.
func exampleBlocks(_ page: String) throws -> [String] {
    var blocks: [String] = []
    var inExamples = false, current: [String]?
    for line in try String(contentsOfFile: page, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
        if line.hasPrefix(".Sh ") { inExamples = line == ".Sh EXAMPLES" }
        guard inExamples else { continue }
        if line.hasPrefix(".Bd -literal") { current = []; continue }
        if line.hasPrefix(".Ed"), let c = current { blocks.append(c.joined(separator: "\n")); current = nil; continue }
        if current != nil {
            current!.append(String(line).replacingOccurrences(of: "\\e", with: "\\")
                .replacingOccurrences(of: "\\-", with: "-").replacingOccurrences(of: "\\(aq", with: "'")
                .replacingOccurrences(of: "\\&", with: ""))
        }
    }
    return blocks
}

final class ManPageTests: XCTestCase {
    func testEveryPageIsLintClean() throws {
        let pages = try manPages()
        XCTAssertGreaterThanOrEqual(pages.count, 4)
        for page in pages {
            let r = try Scratch().sh("mandoc -Tlint -Wwarning '\(page)'")
            XCTAssertEqual(r.status, 0, page)
            XCTAssertEqual(r.stdout + r.stderr, "", page)
        }
    }

    func testEveryProgramHasAPage() throws {
        let programs = try FileManager.default.contentsOfDirectory(atPath: repositoryRoot + "/Sources")
            .filter { $0.hasPrefix("tb-") }
        XCTAssertFalse(programs.isEmpty)
        for p in programs {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(repositoryRoot)/man/man1/\(p).1"), p)
        }
    }

    func testExamplesRun() throws {
        let dir = try Scratch()
        try makeExampleFiles(dir)
        var ran = 0, skipped: [String] = []
        for page in try manPages() {
            for block in try exampleBlocks(page) {
                // Blocks that use programs not built yet wait for them (tb(7) shows the whole recipe).
                let programs = Set(block.split(whereSeparator: { !$0.isLetter && $0 != "-" })
                    .filter { $0.hasPrefix("tb-") }.map(String.init))
                let missing = programs.filter { !FileManager.default.fileExists(atPath: programDirectory + "/" + $0) }
                if !missing.isEmpty {
                    skipped.append("\((page as NSString).lastPathComponent): \(missing.sorted())")
                    continue
                }
                // `set -e` without pipefail: `tb-info x | head` may end tb-info by SIGPIPE, as in a shell.
                let r = try dir.sh("set -e\n" + block)
                XCTAssertEqual(r.status, 0, "\(page):\n\(block)\n\(r.stderr)")
                // Only the programs' own one-line notes (validation scores, what --init loaded).
                for line in r.stderr.split(separator: "\n") {
                    XCTAssertTrue(line.hasPrefix("tb-"), "\(page):\n\(block)\n\(r.stderr)")
                }
                XCTAssertFalse(r.stdout.isEmpty && !block.contains("--sheet"), "\(page):\n\(block)")
                ran += 1
            }
        }
        XCTAssertGreaterThanOrEqual(ran, 8)
        print("man page examples: \(ran) ran, skipped until their programs exist: \(skipped)")
    }

    /// The files the EXAMPLES sections name.
    func makeExampleFiles(_ dir: Scratch) throws {
        try dir.writeStream("train.tbs", (0..<6).map { colourFrames(id: "v/clip \($0).mp4", label: $0 % 3, seed: $0) })
        try dir.writeStream("clips.tbs", (0..<2).map { colourFrames(id: "w/\($0).mp4", label: nil, frames: 8, seed: $0) })
        let sink = MemorySink()
        try SafeTensorsWriter.write([SafeTensor(name: "fc.weight", shape: [3, 4], floats: (0..<12).map(Float.init))],
                                    metadata: ["arch": "r2d10:w8"], to: sink)
        try dir.write("model.safetensors", bytes: sink.bytes)
        try dir.write("train.jsonl", (0..<6).map { #"{"id": "v/clip \#($0).mp4", "label": \#($0 % 3)}"# }
            .joined(separator: "\n") + "\n")
        // Real encoded videos for tb-decode's and tb-clip's pages.
        FFmpegLog.set(verbose: false)
        func video(_ name: String, frames: Int, fps: Int = 10) throws {
            let path = dir.file(name)
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            let w = try VideoWriter(path: path, width: 64, height: 48, options: VideoWriterOptions(fps: fps, quality: 23))
            for i in 0..<frames { try w.append(FrameCode.image(i, width: 64, height: 48)) }
            try w.finish()
        }
        try video("walk/a b.mp4", frames: 30)
        try video("walk/c.mp4", frames: 20)
        try video("run/d.mp4", frames: 25)
        try video("long.mp4", frames: 50)
        try dir.write("train.txt", "walk/a b.mp4 0\nwalk/c.mp4 0\nrun/d.mp4 1\n")
        try dir.write("still.png", bytes: try PNG.encode(FrameCode.image(5, width: 40, height: 30)))
        // Camera motion for tb-warp fit: a textured plane panned, and zoomed into, with some shake.
        var shake = SeededGenerator(seed: 1)
        func steps(_ base: [Double]) -> [Homography] {
            (0..<15).map { _ in Homography(parameters: base.map { $0 + 0.004 * (Double(shake.nextUnitFloat()) - 0.5) }) }
        }
        try cameraVideo(dir.file("camera/pan.mp4"), texture: 1, steps: steps([0, 0, 0.02, 0, 0, 0.005, 0, 0]), size: 64)
        try cameraVideo(dir.file("camera/zoom.mp4"), texture: 2, steps: steps([0.01, 0, 0, 0, 0.01, 0, 0, 0]), size: 64)
        try dir.write("camera.txt", "camera/pan.mp4 0\ncamera/zoom.mp4 1\n")
        try dir.write("images.txt", "still.png 1\n")
        try dir.write("ucf101/classInd.txt", "1 ApplyEyeMakeup\n2 ApplyLipstick\n")
        try dir.write("ucf101/trainlist01.txt",
                      "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\nApplyLipstick/v_ApplyLipstick_g01_c01.avi 2\n")
    }
}
