// What tb-info says about checkpoints and label files.

import TBCore
import TBStream
#if canImport(Glibc)
import Glibc
#endif

func inspectCheckpoint(_ source: PeekSource, name: String, options: InspectOptions, to out: OutputFile) throws -> JSONObject {
    // A file is mapped, not read; standard input has to be read whole.
    let file = name == "<stdin>" ? try SafeTensorsFile(bytes: try source.readAll(), name: name)
                                 : try SafeTensorsFile(path: name)
    let entries = options.limit.map { Array(file.entries.prefix($0)) } ?? file.entries
    let metadata = file.metadata.sorted { $0.key < $1.key }
    let counts = JSONObject([("format", "safetensors"), ("tensors", JSON(file.entries.count))])
    if options.summary {
        let values = file.entries.reduce(0) { $0 + $1.shape.reduce(1, *) }
        let bytes = file.entries.reduce(0) { $0 + $1.offsets.count }
        if options.json {
            let o = JSONObject([("file", .string(name)), ("format", "safetensors"),
                                ("tensors", JSON(file.entries.count)), ("values", JSON(values)),
                                ("bytes", JSON(bytes)), ("metadata_keys", JSON(metadata.count))])
            try out.write(JSON.object(o).text + "\n")
        } else {
            try out.write("tensors: \(file.entries.count)\nvalues: \(values)\nbytes: \(byteString(bytes))\n"
                + "metadata: " + (metadata.isEmpty ? "none" : metadata.map(\.key).joined(separator: ", ")) + "\n")
        }
        return counts
    }
    // A checkpoint made by `tb-train --inflate` records each kernel's 2D shape.
    let inflatedFrom = file.metadata["inflation"].flatMap { try? JSON.parse($0) }?.objectValue?["tensors"]?.objectValue
    for e in entries {
        let count = e.shape.reduce(1, *)
        let from = inflatedFrom?[e.name]
        if options.json {
            var o = JSONObject([("file", .string(name)), ("tensor", .string(e.name)),
                                ("dtype", .string(e.dtype.rawValue)), ("shape", JSON(e.shape)),
                                ("values", JSON(count)), ("offset", JSON(e.offsets.lowerBound)),
                                ("bytes", JSON(e.offsets.count))])
            if let from { o["inflated_from"] = from }
            try out.write(JSON.object(o).text + "\n")
        } else {
            try out.write("\(e.name) \(e.dtype.rawValue) \(JSON(e.shape).text) \(count)"
                          + (from.map { " inflated from 2D \($0.text)" } ?? "") + "\n")
        }
    }
    if options.json {
        let m = JSONObject(metadata.map { ($0.key, JSON.string($0.value)) })
        try out.write(JSON.object(JSONObject([("file", .string(name)), ("metadata", .object(m))])).text + "\n")
    } else {
        for (k, v) in metadata { try out.write("__metadata__ \(k)=\(JSON.string(v).compactText(limit: 200))\n") }
    }
    return counts
}

func inspectLabels(_ source: PeekSource, name: String, options: InspectOptions, to out: OutputFile) throws -> JSONObject {
    let set = name == "<stdin>" ? try LabelSet.load(bytes: try source.readAll(), name: name)
                                : try LabelSet.load(path: name)
    return try describeLabels(set, name: name, options: options, to: out)
}

/// One line per label: number, entries, class name; then entries without a label.
@discardableResult
func describeLabels(_ set: LabelSet, name: String, options: InspectOptions, to out: OutputFile) throws -> JSONObject {
    var counts: [Int: Int] = [:]
    for r in set.records { if let l = r.label { counts[l, default: 0] += 1 } }
    for l in set.classes.indices where counts[l] == nil { counts[l] = 0 }  // classes nobody has
    let labels = counts.keys.sorted()
    let summary = JSONObject([("format", "labels"), ("entries", JSON(set.count)), ("classes", JSON(labels.count))])
    func className(_ l: Int) -> String? { l < set.classes.count ? set.classes[l] : nil }
    if options.summary {
        if options.json {
            let o = JSONObject([("file", .string(name)), ("format", "labels"), ("entries", JSON(set.count)),
                                ("classes", JSON(labels.count)), ("unlabeled", JSON(set.unlabeledCount))])
            try out.write(JSON.object(o).text + "\n")
        } else {
            try out.write("entries: \(set.count)\nclasses: \(labels.count)\nunlabeled: \(set.unlabeledCount)\n")
        }
        return summary
    }
    for l in labels {
        if options.json {
            var o = JSONObject([("file", .string(name)), ("label", JSON(l))])
            if let c = className(l) { o["class"] = .string(c) }
            o["count"] = JSON(counts[l] ?? 0)
            try out.write(JSON.object(o).text + "\n")
        } else {
            try out.write("\(l) \(counts[l] ?? 0) \(className(l) ?? "-")\n")
        }
    }
    if set.unlabeledCount > 0 {
        try out.write(options.json
            ? JSON.object(JSONObject([("file", .string(name)), ("label", .null), ("count", JSON(set.unlabeledCount))])).text + "\n"
            : "- \(set.unlabeledCount) (no label)\n")
    }
    return summary
}

func isDirectory(_ path: String) -> Bool {
    var st = stat()
    return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}
