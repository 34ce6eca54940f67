import Foundation
import XCTest
import TBCore
@testable import TBStream

/// A source that hands out a few bytes at a time, so lines straddle every read boundary.
private final class TrickleSource: ByteSource {
    let name: String
    private let bytes: [UInt8]
    private var position = 0
    private var step = 0
    init(_ text: String, name: String = "trickle.jsonl") {
        bytes = Array(text.utf8)
        self.name = name
    }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        step = step % 7 + 1
        let n = min(step, buffer.count, bytes.count - position)
        for i in 0..<n { buffer[i] = bytes[position + i] }
        position += n
        return n
    }
}

/// A fresh directory whose name has a space in it, removed after the test.
private func scratchDirectory(_ test: XCTestCase) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("tb labels \(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
    return url.path
}

private func put(_ text: String, _ path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
}

private func lines(_ text: String, name: String = "list.txt") -> LineReader {
    LineReader(source: TrickleSource(text, name: name))
}

/// Asserts a `.dataError` at a line whose message contains `text`.
private func assertDataError<T>(_ body: @autoclosure () throws -> T, line expected: Int?, _ text: String,
                             file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertThrowsError(try body(), file: file, line: line) { error in
        guard let f = error as? Failure else { return XCTFail("not a Failure: \(error)", file: file, line: line) }
        XCTAssertEqual(f.status, .dataError, f.description, file: file, line: line)
        XCTAssertEqual(f.line, expected, f.description, file: file, line: line)
        XCTAssertTrue(f.message.contains(text), "\"\(f.message)\" lacks \"\(text)\"", file: file, line: line)
    }
}

final class LabelTests: XCTestCase {
    // MARK: JSON lines

    func testJSONLinesEdgeCases() throws {
        let text = "\u{FEFF}{\"id\":\"a b.mp4\",\"label\":1}\r\n\r\n   \n{\"id\":\"c\"}\n\t\n{\"id\":\"d\",\"x\":[1,2]}"
        let reader = JSONLinesReader(lines: LineReader(source: TrickleSource(text)))
        let all = try reader.readAll()
        XCTAssertEqual(all.map(\.line), [1, 4, 6])
        XCTAssertEqual(all.map { $0.object["id"] }, ["a b.mp4", "c", "d"])
        XCTAssertEqual(all[2].object.keys, ["id", "x"])
        XCTAssertNil(try reader.next())
    }

    func testJSONLinesErrorsNameTheLine() {
        let notObject = "{\"id\":\"a\"}\n\n[1,2]\n"
        assertDataError(try JSONLinesReader(lines: lines(notObject)).readAll(), line: 3,
                        "expected a JSON object, found array")
        assertDataError(try JSONLinesReader(lines: lines("{\"id\":\"a\"}\n\"s\"")).readAll(), line: 2, "found string")
        assertDataError(try JSONLinesReader(lines: lines("{\"id\":\"a\"}\n{\"id\":\"b\",}\n")).readAll(), line: 2,
                        "invalid JSON")
        assertDataError(try JSONLinesReader(lines: lines("{\"id\":\"a\"}\n{\"id\":")).readAll(), line: 2, "JSON")
        XCTAssertThrowsError(try JSONLinesReader(lines: lines("{}\n{]\n")).readAll()) { e in
            XCTAssertEqual((e as? Failure)?.description.hasPrefix("list.txt: line 2: "), true, "\(e)")
        }
    }

    func testVeryLongLine() throws {
        let long = String(repeating: "x y/", count: 300_000)  // 1.2 MB, many read chunks
        let text = "{\"id\":\"short\"}\n{\"id\":\"\(long)\",\"label\":7}\n{\"id\":\"after\"}\n"
        let bytes = Array(text.utf8)
        let all = try bytes.withUnsafeBytes { raw in
            try JSONLinesReader(lines: LineReader(source: MemorySource(raw, name: "long.jsonl"))).readAll()
        }
        XCTAssertEqual(all.map(\.line), [1, 2, 3])
        XCTAssertEqual(all[1].object["id"]?.stringValue?.count, long.count)
        XCTAssertEqual(all[2].object["id"], "after")
    }

    func testLineReaderKeepsInnerCRAndUTF8() throws {
        let r = lines("a\rb\r\nc\u{e9}\n\n", name: "x")
        XCTAssertEqual(try r.nextString(), "a\rb")
        XCTAssertEqual(try r.nextString(), "c\u{e9}")
        XCTAssertEqual(try r.nextString(), "")
        XCTAssertNil(try r.nextString())
        let bad: [UInt8] = [0x61, 0x0A, 0xFF, 0xFE, 0x0A]
        try bad.withUnsafeBytes { raw in
            let r = LineReader(source: MemorySource(raw, name: "bad"))
            XCTAssertEqual(try r.nextString(), "a")
            assertDataError(try r.nextString(), line: 2, "UTF-8")
        }
    }

    func testWriterIsCompactOneLinePerObject() throws {
        let sink = MemorySink()
        let w = JSONLinesWriter(sink: sink)
        try w.write(JSONObject([("id", "dir/a b\nc.mp4"), ("probs", [0.25, 0.75]), ("label", 1)]))
        try w.write(JSONObject([("z", 1), ("a", 2)]))
        let text = String(decoding: sink.bytes, as: UTF8.self)
        XCTAssertEqual(text, "{\"id\":\"dir/a b\\nc.mp4\",\"probs\":[0.25,0.75],\"label\":1}\n{\"z\":1,\"a\":2}\n")
        XCTAssertEqual(w.count, 2)
    }

    // MARK: Records and sets

    func testRecordKeepsUnknownKeysInOrder() throws {
        let o = try XCTUnwrap(JSON.parse(#"{"zeta":1,"id":"v/a b.mp4","probs":[0.5,0.5],"label":2,"class":"jump","keep":true}"#).objectValue)
        let r = try LabelRecord(json: o)
        XCTAssertEqual(r.id, "v/a b.mp4")
        XCTAssertEqual(r.label, 2)
        XCTAssertEqual(r.className, "jump")
        XCTAssertEqual(r.extra.keys, ["zeta", "probs", "keep"])
        XCTAssertEqual(JSON.object(r.json).text, #"{"id":"v/a b.mp4","label":2,"class":"jump","zeta":1,"probs":[0.5,0.5],"keep":true}"#)
        XCTAssertEqual(try LabelRecord(json: r.json), r)
    }

    func testRecordValidation() {
        for (text, problem) in [(#"{"label":1}"#, "missing \"id\""), (#"{"id":3}"#, "\"id\" must be"),
                                (#"{"id":""}"#, "\"id\" must be"), (#"{"id":"a","label":-1}"#, "\"label\" must be"),
                                (#"{"id":"a","label":"3"}"#, "\"label\" must be"), (#"{"id":"a","label":1.5}"#, "\"label\""),
                                (#"{"id":"a","class":4}"#, "\"class\" must be")] {
            XCTAssertThrowsError(try LabelRecord(json: JSON.parse(text).objectValue ?? JSONObject()), text) { e in
                XCTAssertEqual((e as? Failure)?.status, .dataError)
                XCTAssertEqual((e as? Failure)?.message.contains(problem), true, "\(e)")
            }
        }
    }

    func testSetRejectsDuplicatesWithBothLines() {
        let text = "{\"id\":\"a\"}\n{\"id\":\"b\"}\n\n{\"id\":\"a\",\"label\":1}\n"
        assertDataError(try LabelSet.readJSONLines(lines(text, name: "t.jsonl")), line: 4, "first on line 1")
        assertDataError(try LabelSet.readJSONLines(lines("{\"id\":\"a\"}\n{\"label\":3}\n")), line: 2, "missing \"id\"")
    }

    func testClassesCheckLabelsAndNameThem() throws {
        let text = "{\"id\":\"a\",\"label\":0}\n{\"id\":\"b\",\"class\":\"run fast\"}\n{\"id\":\"c\"}\n{\"id\":\"d\",\"label\":1}\n"
        var set = try LabelSet.readJSONLines(lines(text), classes: ["jump", "run fast"])
        XCTAssertEqual(set["b"]?.label, 1)
        XCTAssertEqual(set.line(of: "d"), 4)
        XCTAssertEqual(set.countsPerClass(), [1, 2])
        XCTAssertEqual(set.unlabeledCount, 1)
        XCTAssertEqual(set.className(of: set.records[0]), "jump")
        XCTAssertNil(set["zzz"])
        assertDataError(try set.setClasses(["only"]), line: 2, "out of range")
        XCTAssertEqual(set.classes, ["jump", "run fast"])  // unchanged by the refused classes
        assertDataError(try LabelSet.readJSONLines(lines(text), classes: ["jump"]), line: 2, "unknown class \"run fast\"")
        assertDataError(try LabelSet.readJSONLines(lines("{\"id\":\"a\",\"label\":2}"), classes: ["x", "y"]), line: 1,
                        "out of range")
        assertDataError(try LabelSet.readJSONLines(lines("{\"id\":\"a\",\"label\":0,\"class\":\"y\"}"), classes: ["x", "y"]),
                        line: 1, "is class \"x\"")
        XCTAssertThrowsError(try LabelSet(classes: ["a", "a"]))
        var inMemory = try LabelSet()
        XCTAssertThrowsError(try inMemory.append(LabelRecord(id: "x", label: -1)))  // no trap in countsPerClass later
        try inMemory.append(LabelRecord(id: "y", label: 2))
        XCTAssertEqual(inMemory.countsPerClass(), [0, 0, 1])
        let implied = try LabelSet.readJSONLines(lines("{\"id\":\"a\",\"label\":1,\"class\":\"b\"}\n{\"id\":\"c\",\"label\":0,\"class\":\"a\"}"))
        XCTAssertEqual(implied.impliedClasses(), ["a", "b"])
        let sink = MemorySink()
        try implied.write(to: sink)
        XCTAssertEqual(String(decoding: sink.bytes, as: UTF8.self),
                       "{\"id\":\"a\",\"label\":1,\"class\":\"b\"}\n{\"id\":\"c\",\"label\":0,\"class\":\"a\"}\n")
    }

    func testClassListFile() throws {
        XCTAssertEqual(try ClassList.read(lines("playing guitar\r\n  a,b \r\nc\n\n\n")), ["playing guitar", "a,b", "c"])
        assertDataError(try ClassList.read(lines("a\n\nb\n")), line: 2, "blank line")
        assertDataError(try ClassList.read(lines("a\nb\na\n")), line: 3, "also on line 1")
        XCTAssertEqual(ClassList.text(["a b", "c"]), "a b\nc\n")
    }

    // MARK: mmaction2

    func testMMActionVideoList() throws {
        let text = "some dir/video one.mp4 3\r\nb.mp4\t0\r\n\r\n  c d/e.avi   12  \n"
        let set = try LabelSet.readMMAction(lines(text))
        XCTAssertEqual(set.records.map(\.id), ["some dir/video one.mp4", "b.mp4", "c d/e.avi"])
        XCTAssertEqual(set.records.map(\.label), [3, 0, 12])
        XCTAssertEqual(set.lines, [1, 2, 4])
        assertDataError(try LabelSet.readMMAction(lines("a.mp4 1\nb.mp4 x\n")), line: 2, "label >= 0")
        assertDataError(try LabelSet.readMMAction(lines("a.mp4 1\n\nb.mp4\n")), line: 3, "label >= 0")
        assertDataError(try LabelSet.readMMAction(lines("a.mp4 -1\n")), line: 1, "label >= 0")
        assertDataError(try LabelSet.readMMAction(lines("a.mp4 1\nb.mp4 2 5 7\n")), line: 2, "multi-label")
        assertDataError(try LabelSet.readMMAction(lines("a.mp4 4\n"), classes: ["x", "y"]), line: 1, "out of range")
    }

    func testMMActionRawframeList() throws {
        let set = try LabelSet.readMMAction(lines("frames/a b 120 4\nframes/c 0 1\n"), rawframes: true)
        XCTAssertEqual(set.records.map(\.id), ["frames/a b", "frames/c"])
        XCTAssertEqual(set.records.map(\.label), [4, 1])
        XCTAssertEqual(set.records[0].extra["total_frames"], 120)
        assertDataError(try LabelSet.readMMAction(lines("frames/a 120 4\nframes/b 3\n"), rawframes: true), line: 2, "frame count")
        assertDataError(try LabelSet.readMMAction(lines("frames/a 1 120 4\n"), rawframes: true), line: 1, "multi-label")
    }

    // MARK: UCF101

    let classInd = "1 ApplyEyeMakeup\r\n2 ApplyLipstick\r\n3 HandstandPushups\r\n"

    func testUCF101Lists() throws {
        let classes = try LabelSet.readUCF101ClassIndex(lines(classInd, name: "classInd.txt"))
        XCTAssertEqual(classes, ["ApplyEyeMakeup", "ApplyLipstick", "HandstandPushups"])
        let train = "ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1\r\nApplyLipstick/v_ApplyLipstick_g01_c02.avi 2\r\n"
        let set = try LabelSet.readUCF101(lines(train, name: "trainlist01.txt"), classes: classes)
        XCTAssertEqual(set.records.map(\.label), [0, 1])
        XCTAssertEqual(set.records[1], LabelRecord(id: "ApplyLipstick/v_ApplyLipstick_g01_c02.avi", label: 1,
                                                   className: "ApplyLipstick"))
        // The test list has no labels; UCF101 spells this directory with a capital S.
        let test = "ApplyLipstick/v_ApplyLipstick_g01_c01.avi\r\nHandStandPushups/v_HandStandPushups_g01_c01.avi\r\n"
        let testSet = try LabelSet.readUCF101(lines(test, name: "testlist01.txt"), classes: classes)
        XCTAssertEqual(testSet.records.map(\.label), [1, 2])
        XCTAssertEqual(testSet.records.map(\.className), ["ApplyLipstick", "HandstandPushups"])

        assertDataError(try LabelSet.readUCF101(lines("ApplyEyeMakeup/v.avi 1\nApplyEyeMakeup/w.avi 2\n"), classes: classes),
                        line: 2, "is \"ApplyLipstick\", but the video is in \"ApplyEyeMakeup\"")
        assertDataError(try LabelSet.readUCF101(lines("a.avi 1\n"), classes: classes), line: 1, "Class/video.avi")
        assertDataError(try LabelSet.readUCF101(lines("Nope/v.avi\n"), classes: classes), line: 1, "not a class")
        assertDataError(try LabelSet.readUCF101(lines("ApplyEyeMakeup/v.avi 9\n"), classes: classes), line: 1, "past the 3")
        assertDataError(try LabelSet.readUCF101(lines("ApplyEyeMakeup/v.avi\n"), classes: []), line: 1, "needs classInd")
        assertDataError(try LabelSet.readUCF101ClassIndex(lines("1 A\n1 B\n")), line: 2, "twice")
        assertDataError(try LabelSet.readUCF101ClassIndex(lines("1 A\nB\n")), line: 2, "number class")
        XCTAssertThrowsError(try LabelSet.readUCF101ClassIndex(lines("1 A\n3 B\n")))
    }

    func testUCF101LoadFindsClassIndBesideTheList() throws {
        let dir = try scratchDirectory(self)
        try put(classInd, dir + "/classInd.txt")
        try put("ApplyLipstick/v_ApplyLipstick_g01_c01.avi\r\n", dir + "/testlist01.txt")
        let set = try LabelSet.load(path: dir + "/testlist01.txt")
        XCTAssertEqual(set.classes.count, 3)
        XCTAssertEqual(set.records.first?.label, 1)
        XCTAssertEqual(try LabelSet.load(path: dir + "/classInd.txt").classes.last, "HandstandPushups")
        XCTAssertEqual(try set.resolve(id: set.records[0].id, root: "/data/UCF-101"),
                       "/data/UCF-101/ApplyLipstick/v_ApplyLipstick_g01_c01.avi")
    }

    // MARK: HMDB51

    let brushHair = "April_09_brush_hair_u_nm_np1_ba_goo_0.avi 1 \nApril_09_brush_hair_u_nm_np1_ba_goo_1.avi 2 \n"
        + "Aussie_Brunette_Brushing_Hair_II_brush_hair_u_nm_np4_ri_med_3.avi 0 \n"

    func testHMDB51SplitFile() throws {
        XCTAssertEqual(LabelSet.hmdb51SplitFile("splits/brush_hair_test_split1.txt")?.className, "brush_hair")
        XCTAssertEqual(LabelSet.hmdb51SplitFile("sword_exercise_test_split3.txt")?.split, 3)
        XCTAssertNil(LabelSet.hmdb51SplitFile("_test_split1.txt"))
        XCTAssertNil(LabelSet.hmdb51SplitFile("brush_hair_test_split.txt"))
        let train = try LabelSet.readHMDB51(lines(brushHair), className: "brush_hair", subset: .train)
        XCTAssertEqual(train.records.map(\.id), ["brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi"])
        XCTAssertEqual(train.records[0].className, "brush_hair")
        let test = try LabelSet.readHMDB51(lines(brushHair), className: "brush_hair", subset: .test, classes: ["brush_hair"])
        XCTAssertEqual(test.records.map(\.id), ["brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_1.avi"])
        XCTAssertEqual(test.records[0].label, 0)
        assertDataError(try LabelSet.readHMDB51(lines("a.avi 1\nb.avi 3\n"), className: "c", subset: .train), line: 2, "0|1|2")
    }

    func testHMDB51Directory() throws {
        let dir = try scratchDirectory(self)
        try put(brushHair, dir + "/brush_hair_test_split1.txt")
        try put("x.avi 2\ny.avi 1\n", dir + "/brush_hair_test_split2.txt")
        try put("cart wheel 1.avi 1\ncart.avi 2\n", dir + "/cartwheel_test_split1.txt")
        try put("a.avi 1\n", dir + "/catch_test_split1.txt")
        let train = try LabelSet.load(path: dir)
        XCTAssertEqual(train.classes, ["brush_hair", "cartwheel", "catch"])
        XCTAssertEqual(train.records.map(\.id), ["brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi",
                                                  "cartwheel/cart wheel 1.avi", "catch/a.avi"])
        XCTAssertEqual(train.records.map(\.label), [0, 1, 2])
        let test2 = try LabelSet.load(path: dir, options: LabelOptions(subset: .test, split: 2))
        XCTAssertEqual(test2.records.map(\.id), ["brush_hair/x.avi"])
        XCTAssertThrowsError(try LabelSet.load(path: dir, options: LabelOptions(split: 3))) { e in
            XCTAssertEqual((e as? Failure)?.status, .noInput)
        }
        try put("a.avi 1\nb.avi 7\n", dir + "/catch_test_split1.txt")
        XCTAssertThrowsError(try LabelSet.load(path: dir)) { e in
            XCTAssertEqual((e as? Failure)?.line, 2)
            XCTAssertEqual((e as? Failure)?.file?.hasSuffix("catch_test_split1.txt"), true, "\(e)")
        }
    }

    // MARK: Kinetics

    func testKineticsCSV() throws {
        let csv = """
            label,youtube_id,time_start,time_end,split,is_cc\r
            "passing American football (not in game)",--GkrdYZ9Tc,0,10,train,0\r
            abseiling,-3B32lodo2M,59,69,train,1\r
            "tying ""bow"" tie, fancy",0Ob,1234567,1234577.0,train,0\r
            \r
            abseiling,zzz,5,15,val,0\r

            """
        let set = try LabelSet.readKinetics(lines(csv, name: "train.csv"))
        XCTAssertEqual(set.classes, ["abseiling", "passing American football (not in game)", "tying \"bow\" tie, fancy"])
        XCTAssertEqual(set.records.map(\.id), ["--GkrdYZ9Tc_000000_000010", "-3B32lodo2M_000059_000069",
                                               "0Ob_1234567_1234577", "zzz_000005_000015"])
        XCTAssertEqual(set.records.map(\.label), [1, 0, 2, 0])
        XCTAssertEqual(set.records[3].extra, JSONObject([("split", "val"), ("is_cc", "0")]))
        XCTAssertEqual(set.lines, [2, 3, 4, 6])
        XCTAssertEqual(LabelSet.kineticsID(youtubeID: "abc", start: 7, end: 17), "abc_000007_000017")

        let unlabeled = try LabelSet.readKinetics(lines("youtube_id,time_start,time_end,split\nabc,1,11,test\n"))
        XCTAssertNil(unlabeled.records[0].label)
        XCTAssertEqual(try LabelSet.readKinetics(lines(csv), classes: Array(set.classes.reversed())).records[0].label, 1)

        let header = "label,youtube_id,time_start,time_end,split\n"
        assertDataError(try LabelSet.readKinetics(lines("label,youtube_id,time_end\n")), line: 1, "\"time_start\"")
        assertDataError(try LabelSet.readKinetics(lines(header + "a,b,1,2,train\na,c,1,train\n")), line: 3, "4 fields")
        assertDataError(try LabelSet.readKinetics(lines(header + "\"a,b,1,2,train\n")), line: 2, "quoted field")
        assertDataError(try LabelSet.readKinetics(lines(header + "a\"x,b,1,2,train\n")), line: 2, "quote inside")
        assertDataError(try LabelSet.readKinetics(lines(header + "\"a\"x,b,1,2,train\n")), line: 2, "after a closing quote")
        assertDataError(try LabelSet.readKinetics(lines(header + "a,b,1.5,2,train\n")), line: 2, "whole seconds")
        assertDataError(try LabelSet.readKinetics(lines(header + "a,b,1,2,train\na,b,1,2,val\n")), line: 3, "first on line 2")
        assertDataError(try LabelSet.readKinetics(lines(header + "zzz,b,1,2,train\n"), classes: ["a"]), line: 2, "unknown class")
        XCTAssertEqual(try LabelSet.csvFields("a,,\"\",\" x \""), ["a", "", "", " x "])
    }

    // MARK: Detection, loading and paths

    func testDetection() {
        let cases: [(String, String?, LabelFormat?)] = [
            ("val.jsonl", nil, .jsonl), ("x.txt", "{\"id\":\"a\"}", .jsonl),
            ("ucfTrainTestlist/trainlist01.txt", "A/v.avi 1", .ucf101), ("testlist03.txt", "A/v.avi", .ucf101),
            ("classInd.txt", "1 A", .ucf101), ("brush_hair_test_split2.txt", "a.avi 1", .hmdb51),
            ("kinetics400/train.csv", "label,youtube_id", .kinetics), ("list", "label,youtube_id,time_start", .kinetics),
            ("train.txt", "a b/c.mp4 3", .mmaction), ("train.txt", "frames/a b 120 3", .rawframes),
            ("train.txt", "just a path", nil), ("train.txt", nil, nil),
        ]
        for (name, line, expected) in cases {
            XCTAssertEqual(LabelFormat.detect(fileName: name, firstLine: line), expected, "\(name) \(line ?? "-")")
        }
    }

    func testLoadDetectsAndHonoursExplicitFormat() throws {
        let dir = try scratchDirectory(self)
        try put("\u{FEFF}clips/a b.mp4 1\r\nclips/c.mp4 0\r\n", dir + "/train list.txt")
        let set = try LabelSet.load(path: dir + "/train list.txt", options: LabelOptions(classes: ["x", "y"]))
        XCTAssertEqual(set.records.map(\.id), ["clips/a b.mp4", "clips/c.mp4"])
        XCTAssertEqual(set.classes, ["x", "y"])
        XCTAssertEqual(try set.resolve(id: "clips/a b.mp4", root: nil), dir + "/clips/a b.mp4")
        XCTAssertEqual(try set.resolve(id: "clips/a b.mp4", root: "/videos/"), "/videos/clips/a b.mp4")
        XCTAssertEqual(try set.resolve(id: "/abs/x.mp4", root: "/videos"), "/abs/x.mp4")
        // The same lines read as a rawframe list: now "a b.mp4" has too few fields.
        assertDataError(try LabelSet.load(path: dir + "/train list.txt", options: LabelOptions(format: .rawframes)),
                        line: 1, "frame count")
        try put("mystery\n", dir + "/odd.txt")
        assertDataError(try LabelSet.load(path: dir + "/odd.txt"), line: 1, "cannot tell")
        try put("", dir + "/empty.txt")
        XCTAssertEqual(try LabelSet.load(path: dir + "/empty.txt").count, 0)
        try put("{\"id\":\"v.mp4\",\"label\":1,\"class\":\"b\"}\n{\"id\":\"w.mp4\",\"label\":0,\"class\":\"a\"}\n", dir + "/p.jsonl")
        XCTAssertEqual(try LabelSet.load(path: dir + "/p.jsonl").classes, ["a", "b"])
        XCTAssertThrowsError(try LabelSet.load(path: dir + "/missing.txt")) { e in
            XCTAssertEqual((e as? Failure)?.status, .noInput)
        }
        XCTAssertThrowsError(try LabelSet.load(path: dir, options: LabelOptions(format: .mmaction))) { e in
            XCTAssertEqual((e as? Failure)?.status, .usage)
        }
    }

    func testResolveNeverUsesTheCurrentDirectorySilently() throws {
        let fromStdin = try LabelSet(name: "<stdin>")
        XCTAssertThrowsError(try fromStdin.resolve(id: "a.mp4", root: nil)) { e in
            XCTAssertEqual((e as? Failure)?.status, .usage)
        }
        XCTAssertEqual(try fromStdin.resolve(id: "a.mp4", root: "data"), "data/a.mp4")
        XCTAssertEqual(try LabelSet(name: "lists/train.txt").resolve(id: "v/a.mp4", root: nil), "lists/v/a.mp4")
        XCTAssertEqual(try LabelSet(name: "/train.txt").resolve(id: "a.mp4", root: nil), "/a.mp4")
    }
}
