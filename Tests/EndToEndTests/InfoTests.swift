// tb-info on every kind of file, checked for what its output means.

import Foundation
import XCTest
import TBCore
import TBStream
import TBVideo

final class InfoTests: XCTestCase {
    var dir: Scratch!

    override func setUpWithError() throws {
        dir = try Scratch()
        try dir.writeStream("train.tbs", (0..<6).map { colourFrames(id: "v/clip \($0).mp4", label: $0 % 3, seed: $0) })
    }

    func testStreamLinesAndJSON() throws {
        let r = try dir.sh("tb-info train.tbs")
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = r.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(String(lines[4]),
                       #"4 frames u8 [4,16,16,3] layout="THWC" id="v/clip 4.mp4" label=1 index=0 fps=8.0"#)
        let json = try dir.sh("tb-info --json -n 2 train.tbs")
        let objects = try json.stdout.split(separator: "\n").map { try JSON.parse(String($0)) }
        XCTAssertEqual(objects.count, 2)
        XCTAssertEqual(objects[1].objectValue?["id"], "v/clip 1.mp4")
        XCTAssertEqual(objects[1].objectValue?["shape"], [4, 16, 16, 3])
        XCTAssertEqual(objects[1].objectValue?["record"], 1)
    }

    func testSummaryCountsLabelsAndCompression() throws {
        let r = try dir.sh("tb-info --summary --json train.tbs")
        let o = try XCTUnwrap(try JSON.parse(r.stdout).objectValue)
        XCTAssertEqual(o["records"], 6)
        XCTAssertEqual(o["payload_bytes"], JSON(6 * 4 * 16 * 16 * 3))
        XCTAssertEqual(o["labels"], ["0": 2, "1": 2, "2": 2])
        XCTAssertEqual(o["ids"], 6)
        let size = try FileManager.default.attributesOfItem(atPath: dir.file("train.tbs"))[.size] as? Int
        XCTAssertEqual(o["compressed_bytes"]?.intValue, size)
        let text = try dir.sh("tb-info -s train.tbs").stdout
        XCTAssertTrue(text.contains("records: 6\n"), text)
        XCTAssertTrue(text.contains("labels: 0:2 1:2 2:2\n"), text)
    }

    func testCheckpoint() throws {
        let tensors = [SafeTensor(name: "conv1.weight", shape: [2, 3, 2, 2], floats: (0..<24).map(Float.init)),
                       SafeTensor(name: "fc.bias", shape: [2], floats: [0.5, -1])]
        let sink = MemorySink()
        try SafeTensorsWriter.write(tensors, metadata: ["arch": "r2d10:w8", "classes": "[\"a\",\"b\"]"], to: sink)
        try dir.write("model.safetensors", bytes: sink.bytes)
        let r = try dir.sh("tb-info model.safetensors")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("conv1.weight F32 [2,3,2,2] 24\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("fc.bias F32 [2] 2\n"), r.stdout)
        XCTAssertTrue(r.stdout.contains("__metadata__ arch=\"r2d10:w8\"\n"), r.stdout)
        let s = try dir.sh("tb-info -s -j < model.safetensors")
        XCTAssertEqual(try JSON.parse(s.stdout).objectValue?["values"], 26)
        // A hostile header: status 65 with the tensor's name.
        var bad = sink.bytes
        let needle = Array("[2,3,2,2]".utf8)
        let at = try XCTUnwrap((0...(bad.count - needle.count)).first { Array(bad[$0..<($0 + needle.count)]) == needle })
        bad.replaceSubrange(at..<(at + needle.count), with: Array("[2,3,2,9]".utf8))
        try dir.write("bad.safetensors", bytes: bad)
        let b = try dir.sh("tb-info bad.safetensors")
        XCTAssertEqual(b.status, 65)
        XCTAssertTrue(b.stderr.contains("conv1.weight"), b.stderr)
    }

    func testLabelFilesCountPerClass() throws {
        try dir.write("ucf101/classInd.txt", "1 ApplyEyeMakeup\r\n2 Apply Lipstick\r\n3 Archery\r\n")
        try dir.write("ucf101/trainlist01.txt", """
            ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1
            ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c02.avi 1
            Apply Lipstick/v_ApplyLipstick_g01_c01.avi 2

            """)
        let r = try dir.sh("tb-info ucf101/trainlist01.txt")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, "0 2 ApplyEyeMakeup\n1 1 Apply Lipstick\n2 0 Archery\n")
        try dir.write("train.jsonl", #"{"id": "a.mp4", "label": 1}"# + "\n" + #"{"id": "b c.mp4"}"# + "\n")
        let j = try dir.sh("tb-info train.jsonl")
        XCTAssertEqual(j.stdout, "1 1 -\n- 1 (no label)\n", j.stderr)
        try dir.write("broken.jsonl", #"{"id": "a.mp4", "label": 1}"# + "\n" + #"{"id": "b.mp4", "label": }"# + "\n")
        let bad = try dir.sh("tb-info broken.jsonl")
        XCTAssertEqual(bad.status, 65)
        XCTAssertTrue(bad.stderr.hasPrefix("tb-info: broken.jsonl: line 2: "), bad.stderr)
    }

    func testContactSheetShowsTheFrames() throws {
        let r = try dir.sh("tb-info --sheet sheet.png -n 3 --sheet-frames 4 --sheet-height 16 train.tbs")
        XCTAssertEqual(r.status, 0, r.stderr)
        let image = try PNG.decode(try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file("sheet.png")))))
        var options = ContactSheetOptions()
        options.framesPerRow = 4
        options.thumbnailHeight = 16
        var sheet = ContactSheet(options: options)
        for i in 0..<3 { sheet.append(colourFrames(id: "v/clip \(i).mp4", label: i % 3, seed: i), number: i) }
        XCTAssertEqual(image.width, sheet.render().width)
        XCTAssertEqual(image.height, sheet.render().height)
        // Record 2, frame 3: red = 2·40, green = 3·60, blue 128, somewhere in row 2.
        let rect = sheet.thumbnailRects[2][3]
        XCTAssertEqual(image.pixel(x: rect.x + rect.width / 2, y: rect.y + rect.height / 2), RGB(80, 180, 128))
    }

    func testFailingRunLeavesNoSheet() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir.file("train.tbs"))))
        try dir.write("cut.tbs", bytes: Array(bytes[0..<(bytes.count - 10)]))
        let r = try dir.sh("tb-info --sheet sheet.png cut.tbs")
        XCTAssertEqual(r.status, 65)
        XCTAssertFalse(dir.exists("sheet.png"))
        XCTAssertEqual(dir.contents("").filter { $0.contains("sheet") }, [], "no temporary left")
    }
}
