// Labels as tb-labels(5) defines them: one JSON object per video, keyed by "id",
// with an integer "label" and/or a "class" name, and any other keys passed through.

import TBCore

/// One line of a label file: `{"id": "v/a.mp4", "label": 3, "class": "jump", ...}`.
public struct LabelRecord: Equatable, Sendable {
    /// The video or image, as written in the list (usually a relative path).
    public var id: String
    /// Class index counted from 0, if known.
    public var label: Int?
    /// Class name, if the file gives one.
    public var className: String?
    /// Every other key, in its original order (tb-score's `probs`, `conf`, ... and unknown keys).
    public var extra: JSONObject

    /// A record from its parts.
    public init(id: String, label: Int? = nil, className: String? = nil, extra: JSONObject = JSONObject()) {
        self.id = id
        self.label = label
        self.className = className
        self.extra = extra
    }

    /// Validates one JSON-lines object; the Failure has no place, the caller adds file and line.
    public init(json: JSONObject) throws {
        guard let idValue = json["id"] else { throw Failure.data("missing \"id\"") }
        guard let id = idValue.stringValue, !id.isEmpty else {
            throw Failure.data("\"id\" must be a non-empty string, found \(idValue.text)")
        }
        var label: Int?
        if let l = json["label"], l != .null {
            guard let i = l.intValue, i >= 0 else {
                throw Failure.data("\"label\" must be an integer >= 0, found \(l.text)")
            }
            label = i
        }
        var className: String?
        if let c = json["class"], c != .null {
            guard let s = c.stringValue else { throw Failure.data("\"class\" must be a string, found \(c.text)") }
            className = s
        }
        var extra = json
        for key in ["id", "label", "class"] { extra[key] = nil }
        self.init(id: id, label: label, className: className, extra: extra)
    }

    /// The JSON object written for this record: id, label, class, then the other keys in order.
    public var json: JSONObject {
        var o = JSONObject()
        o["id"] = .string(id)
        if let label { o["label"] = JSON(label) }
        if let className { o["class"] = .string(className) }
        for (k, v) in extra { o[k] = v }
        return o
    }
}

/// The labels of a data set: records in file order, unique ids, and the class names
/// when known (index = label). Problems are `.dataError`s naming the file and line.
public struct LabelSet: Equatable, Sendable {
    /// The most classes a label set may have (tb-labels(5)); labels are below it.
    public static let maxClasses = 1 << 24

    /// The file the labels came from ("<stdin>" for standard input), for messages and path resolution.
    public var name: String
    /// The records in file order.
    public private(set) var records: [LabelRecord] = []
    /// The line each record came from (0 when made in memory), parallel to `records`.
    public private(set) var lines: [Int] = []
    /// Class names; `classes[label]` names a label. Empty when unknown.
    public private(set) var classes: [String] = []
    private var index: [String: Int] = [:]

    /// An empty set; `classes`, when given, are checked like a classes file.
    public init(name: String = "<labels>", classes: [String] = []) throws {
        self.name = name
        try setClasses(classes)
    }

    /// The number of records.
    public var count: Int { records.count }

    /// The record with this id.
    public subscript(id: String) -> LabelRecord? { index[id].map { records[$0] } }

    /// The line the record with this id came from.
    public func line(of id: String) -> Int? { index[id].map { lines[$0] } }

    /// Adds a record. Duplicate ids are refused with both lines; with classes known the
    /// label must be in range and agree with the class name, and a class name alone gives the label.
    public mutating func append(_ record: LabelRecord, line: Int = 0) throws {
        var r = record
        if let first = index[r.id] {
            throw Failure(.dataError, "duplicate id \"\(r.id)\" (first on line \(lines[first]))", file: name, line: line)
        }
        do { try Self.resolve(&r, classes: classes) } catch let f as Failure { throw f.at(file: name, line: line) }
        index[r.id] = records.count
        records.append(r)
        lines.append(line)
    }

    /// Sets the class names and checks every record against them.
    public mutating func setClasses(_ names: [String]) throws {
        var seen: [String: Int] = [:]
        for (i, c) in names.enumerated() {
            if c.isEmpty { throw Failure(.dataError, "class \(i) has an empty name", file: name) }
            if let j = seen[c] { throw Failure(.dataError, "class \"\(c)\" is both \(j) and \(i)", file: name) }
            seen[c] = i
        }
        var checked = records
        for i in checked.indices {
            do { try Self.resolve(&checked[i], classes: names) } catch let f as Failure {
                throw f.at(file: name, line: lines[i])
            }
        }
        classes = names
        records = checked
    }

    /// Fills in a missing label from the class name, and checks both against `classes`.
    private static func resolve(_ r: inout LabelRecord, classes: [String]) throws {
        if let label = r.label, label < 0 { throw Failure.data("label \(label) is negative") }
        // A label is a class number; per-class tables (counts, confusion matrices) are sized by
        // the largest, so 10^15 would ask for petabytes (found by fuzzing).
        if let label = r.label, label >= maxClasses {
            throw Failure.data("label \(label) is over the limit of \(maxClasses) classes")
        }
        guard !classes.isEmpty else { return }
        if let label = r.label, label >= classes.count {
            throw Failure.data("label \(label) is out of range: there are \(classes.count) classes")
        }
        guard let c = r.className else { return }
        guard let i = classes.firstIndex(of: c) else { throw Failure.data("unknown class \"\(c)\"") }
        if let label = r.label, label != i {
            throw Failure.data("label \(label) is class \"\(classes[label])\", not \"\(c)\"")
        }
        r.label = i
    }

    /// The class name of a record: its own, or from `classes`.
    public func className(of record: LabelRecord) -> String? {
        if let c = record.className { return c }
        guard let l = record.label, l >= 0, l < classes.count else { return nil }
        return classes[l]
    }

    /// Records per label, indexed by label: `classes.count` long, or up to the largest label.
    public func countsPerClass() -> [Int] {
        let n = max(classes.count, (records.compactMap(\.label).max() ?? -1) + 1)
        var counts = [Int](repeating: 0, count: n)
        for r in records { if let l = r.label { counts[l] += 1 } }
        return counts
    }

    /// Records with neither a label nor a known class.
    public var unlabeledCount: Int { records.count(where: { $0.label == nil }) }

    /// Class names implied by records that carry both label and class, when they agree
    /// and name every label from 0 up; nil otherwise.
    public func impliedClasses() -> [String]? {
        var byLabel: [Int: String] = [:]
        for r in records {
            guard let l = r.label, let c = r.className else { continue }
            if let known = byLabel[l], known != c { return nil }
            byLabel[l] = c
        }
        guard !byLabel.isEmpty, let top = byLabel.keys.max(), top == byLabel.count - 1 else { return nil }
        let names = (0...top).compactMap { byLabel[$0] }
        return Set(names).count == names.count ? names : nil
    }

    /// Writes the records as JSON lines.
    public func write(to sink: ByteSink) throws {
        let w = JSONLinesWriter(sink: sink)
        for r in records { try w.write(r.json) }
    }
}

/// The classes file: one class name per line, line k naming label k-1. Names may contain
/// spaces and commas; surrounding spaces are trimmed; blank lines may only end the file.
public enum ClassList {
    /// Reads a classes file ("-" for standard input).
    public static func read(path: String) throws -> [String] {
        try read(LineReader(path: path))
    }

    /// Reads class names from lines.
    public static func read(_ lines: LineReader) throws -> [String] {
        var names: [String] = []
        var blankLine: Int?
        var seen: [String: Int] = [:]
        while let text = try lines.nextString() {
            let name = ListSyntax.trimmed(text)
            if name.isEmpty { blankLine = blankLine ?? lines.lineNumber; continue }
            if let b = blankLine {
                throw Failure(.dataError, "blank line inside the class list would shift every later label",
                              file: lines.name, line: b)
            }
            if let first = seen[name] {
                throw Failure(.dataError, "class \"\(name)\" is also on line \(first)", file: lines.name,
                              line: lines.lineNumber)
            }
            seen[name] = lines.lineNumber
            names.append(name)
        }
        return names
    }

    /// The file's text for these names.
    public static func text(_ names: [String]) -> String {
        names.map { $0 + "\n" }.joined()
    }
}
