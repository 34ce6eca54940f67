// Label files of every format in tb-labels(5) (JSON lines, mmaction2 video and rawframe
// lists, UCF101 split and class index files, HMDB51 split files, Kinetics CSV), class lists,
// and the JSON parser itself. The first byte picks the file name (and so the detected
// format) or names the format; the rest is the file.

import TBCore
import TBStream

private let names = ["labels.jsonl", "list.txt", "trainlist01.txt", "classInd.txt", "brush_hair_test_split1.txt",
                     "train.csv", "labels"]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLabels(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let selector = Int(data[0])
    let body = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let content = Array(body)
    let name = names[selector % names.count]
    // Formats named or detected; class names given or taken from the list.
    let formats: [LabelFormat?] = [nil] + LabelFormat.allCases
    let format = formats[(selector / names.count) % formats.count]
    let classes = selector & 0x80 != 0 ? ["a", "b", "c"] : []
    if let set = try? LabelSet.load(bytes: content, name: name, options: LabelOptions(format: format, classes: classes)) {
        for r in set.records {
            precondition(set[r.id] != nil, "a record's id does not find it")
            if let l = r.label { precondition(l >= 0, "negative label") }
            _ = set.className(of: r)
        }
        _ = set.countsPerClass()
        let sink = MemorySink()
        try? set.write(to: sink)
    }
    _ = try? ClassList.read(LineReader(source: MemorySource(body, name: "classes.txt")))
    // The JSON parser on the same bytes, and what it prints parses to the same value.
    if let value = try? JSON.parse(body) {
        let again = try? JSON.parse(value.text)
        if !containsNonFinite(value) { precondition(again != nil, "printed JSON does not parse: \(value.text)") }
    }
    let lines = JSONLinesReader(source: MemorySource(body, name: "lines"))
    var n = 0
    while n < 256, let object = try? lines.next() { _ = try? LabelRecord(json: object); n += 1 }
    return 0
}

private func containsNonFinite(_ v: JSON) -> Bool {
    switch v {
    case .double(let d): return !d.isFinite
    case .array(let a): return a.contains(where: containsNonFinite)
    case .object(let o): return o.contains { containsNonFinite($0.value) }
    default: return false
    }
}
