// Parsers from the list files users already have (mmaction2, UCF101, HMDB51,
// Kinetics) into a LabelSet. Each reads lines, so a bad line is reported by number.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import TBCore

/// How HMDB51 split files mark a video: 1 = training, 2 = testing (0 = in neither).
public enum HMDB51Subset: Int, Sendable {
    case train = 1, test = 2
}

extension LabelSet {
    /// JSON lines (tb-labels(5)); a class name alone gives the label once classes are known.
    public static func readJSONLines(_ lines: LineReader, classes: [String] = []) throws -> LabelSet {
        let reader = JSONLinesReader(lines: lines)
        var set = try LabelSet(name: lines.name, classes: classes)
        while let object = try reader.next() {
            let record: LabelRecord
            do { record = try LabelRecord(json: object) } catch let f as Failure {
                throw f.at(file: lines.name, line: lines.lineNumber)
            }
            try set.append(record, line: lines.lineNumber)
        }
        return set
    }

    /// mmaction2 lists: `path label` (video list) or `path total_frames label` (rawframe list).
    /// The label is the last field, so paths may contain spaces; the frame count is kept as
    /// `total_frames`. A number before the label means several labels, which are refused.
    public static func readMMAction(_ lines: LineReader, rawframes: Bool = false,
                                    classes: [String] = []) throws -> LabelSet {
        var set = try LabelSet(name: lines.name, classes: classes)
        let what = rawframes ? "\"path total_frames label\"" : "\"path label\""
        while let text = try lines.nextString() {
            let line = lines.lineNumber
            func fail(_ m: String) -> Failure { Failure(.dataError, m, file: lines.name, line: line) }
            let trimmed = ListSyntax.trimmed(text)
            if trimmed.isEmpty { continue }
            guard let (rest, last) = ListSyntax.splitLast(Substring(trimmed)), let label = Int(last), label >= 0 else {
                throw fail("expected \(what) with a label >= 0 at the end")
            }
            var path = rest
            var extra = JSONObject()
            if rawframes {
                guard let (p, frames) = ListSyntax.splitLast(rest), let n = Int(frames), n >= 0 else {
                    throw fail("expected \(what): no frame count before the label")
                }
                path = p
                extra["total_frames"] = JSON(n)
            }
            if let (_, before) = ListSyntax.splitLast(path), ListSyntax.isDigits(before) {
                throw fail("more than one label (\(before) \(label)): multi-label lists are not supported"
                    + (rawframes ? "" : "; a rawframe list needs the rawframes format"))
            }
            try set.append(LabelRecord(id: String(path), label: label, extra: extra), line: line)
        }
        return set
    }

    /// UCF101's `classInd.txt`: `1 ApplyEyeMakeup` per line, numbered from 1; returns names by label.
    public static func readUCF101ClassIndex(_ lines: LineReader) throws -> [String] {
        var byNumber: [Int: String] = [:]
        while let text = try lines.nextString() {
            let trimmed = ListSyntax.trimmed(text)
            if trimmed.isEmpty { continue }
            // The class name is everything after the number, so names with spaces work.
            let fields = trimmed.split(maxSplits: 1, whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count == 2, let n = Int(fields[0]), n >= 1,
                  !ListSyntax.trimmed(String(fields[1])).isEmpty else {
                throw Failure(.dataError, "expected \"number class\" with numbers from 1", file: lines.name,
                              line: lines.lineNumber)
            }
            if byNumber[n] != nil {
                throw Failure(.dataError, "class number \(n) appears twice", file: lines.name, line: lines.lineNumber)
            }
            byNumber[n] = ListSyntax.trimmed(String(fields[1]))
        }
        let names = (0..<byNumber.count).compactMap { byNumber[$0 + 1] }
        guard names.count == byNumber.count else {
            throw Failure(.dataError, "class numbers are not 1 to \(byNumber.count)", file: lines.name)
        }
        return names
    }

    /// UCF101 `trainlist0k.txt` (`Class/v_Class_g08_c01.avi 1`, labels from 1) or `testlist0k.txt`
    /// (no label: the class is the directory, matched to `classes` ignoring case, since UCF101
    /// spells some directories differently from classInd.txt).
    public static func readUCF101(_ lines: LineReader, classes: [String]) throws -> LabelSet {
        var set = try LabelSet(name: lines.name, classes: classes)
        var lowercased: [String: Int] = [:]
        for (i, c) in classes.enumerated() { lowercased[c.lowercased()] = i }
        while let text = try lines.nextString() {
            let line = lines.lineNumber
            func fail(_ m: String) -> Failure { Failure(.dataError, m, file: lines.name, line: line) }
            let trimmed = ListSyntax.trimmed(text)
            if trimmed.isEmpty { continue }
            var path = Substring(trimmed)
            var number: Int?
            if let (rest, last) = ListSyntax.splitLast(path), let n = Int(last) {
                guard n >= 1 else { throw fail("class number \(n) is not from 1") }
                path = rest
                number = n
            }
            guard let slash = path.lastIndex(of: "/") else { throw fail("expected \"Class/video.avi\", found \"\(path)\"") }
            let directory = String(path[..<slash])
            let fromDirectory = classes.firstIndex(of: directory) ?? lowercased[directory.lowercased()]
            let label: Int
            if let n = number {
                if !classes.isEmpty && n > classes.count { throw fail("class number \(n) is past the \(classes.count) classes") }
                if !classes.isEmpty && fromDirectory != n - 1 {
                    throw fail("class number \(n) is \"\(classes[n - 1])\", but the video is in \"\(directory)\"")
                }
                label = n - 1
            } else {
                guard let l = fromDirectory else {
                    throw fail(classes.isEmpty ? "a test list needs classInd.txt to give labels"
                                               : "directory \"\(directory)\" is not a class in classInd.txt")
                }
                label = l
            }
            let name = classes.isEmpty ? directory : classes[label]
            try set.append(LabelRecord(id: String(path), label: label, className: name), line: line)
        }
        return set
    }

    /// One HMDB51 split file, `<class>_test_split<k>.txt` with lines `video.avi 0|1|2`:
    /// the videos of `subset`, with id `class/video.avi`. The label is set when `classes` is given.
    public static func readHMDB51(_ lines: LineReader, className: String, subset: HMDB51Subset,
                                  classes: [String] = []) throws -> LabelSet {
        var set = try LabelSet(name: lines.name, classes: classes)
        try set.appendHMDB51(lines, className: className, subset: subset)
        return set
    }

    /// Adds the videos of `subset` from one HMDB51 split file.
    mutating func appendHMDB51(_ lines: LineReader, className: String, subset: HMDB51Subset) throws {
        while let text = try lines.nextString() {
            let trimmed = ListSyntax.trimmed(text)
            if trimmed.isEmpty { continue }
            guard let (video, mark) = ListSyntax.splitLast(Substring(trimmed)), let m = Int(mark), (0...2).contains(m) else {
                throw Failure(.dataError, "expected \"video.avi 0|1|2\"", file: lines.name, line: lines.lineNumber)
            }
            guard m == subset.rawValue else { continue }
            do {
                try append(LabelRecord(id: className + "/" + video, className: className), line: lines.lineNumber)
            } catch var f as Failure {
                f.file = lines.name  // a directory's files each report their own name
                throw f
            }
        }
    }

    /// The class an HMDB51 split file is for and its split number, from the file name.
    public static func hmdb51SplitFile(_ fileName: String) -> (className: String, split: Int)? {
        var base = Substring(ListSyntax.baseName(fileName))
        guard base.hasSuffix(".txt") else { return nil }
        base = base.dropLast(4)
        let digits = base.reversed().prefix(while: { $0.isASCII && $0.isNumber }).count
        guard digits > 0, let k = Int(base.suffix(digits)) else { return nil }
        base = base.dropLast(digits)
        let marker = "_test_split"
        guard base.hasSuffix(marker), base.count > marker.count else { return nil }
        return (String(base.dropLast(marker.count)), k)
    }
}

extension LabelSet {
    /// A Kinetics CSV with a header naming `youtube_id`, `time_start`, `time_end` and optionally
    /// `label`, `split`, `is_cc`, ... (any order; fields may be double-quoted). The id is
    /// `kineticsID(...)`; columns other than label, youtube_id and the times go to `extra` as strings.
    /// Without `classes`, the classes are the file's label names sorted by code point.
    public static func readKinetics(_ lines: LineReader, classes: [String] = []) throws -> LabelSet {
        var header: [String]?
        var rows: [(line: Int, record: LabelRecord)] = []
        while let text = try lines.nextString() {
            let line = lines.lineNumber
            func fail(_ m: String) -> Failure { Failure(.dataError, m, file: lines.name, line: line) }
            if ListSyntax.trimmed(text).isEmpty { continue }
            let fields: [String]
            do { fields = try csvFields(text) } catch let f as Failure { throw f.at(file: lines.name, line: line) }
            guard let names = header else {
                for required in ["youtube_id", "time_start", "time_end"] where !fields.contains(required) {
                    throw fail("the header has no \"\(required)\" column")
                }
                header = fields
                continue
            }
            guard fields.count == names.count else {
                throw fail("\(fields.count) fields, but the header has \(names.count)")
            }
            var youtubeID = "", start = 0, end = 0, className: String?
            var extra = JSONObject()
            for (column, value) in zip(names, fields) {
                switch column {
                case "youtube_id": youtubeID = value
                case "label": className = value.isEmpty ? nil : value
                case "time_start", "time_end":
                    guard let t = wholeSeconds(value) else { throw fail("\(column) \"\(value)\" is not whole seconds >= 0") }
                    if column == "time_start" { start = t } else { end = t }
                default: extra[column] = .string(value)
                }
            }
            guard !youtubeID.isEmpty else { throw fail("empty youtube_id") }
            let id = kineticsID(youtubeID: youtubeID, start: start, end: end)
            rows.append((line, LabelRecord(id: id, className: className, extra: extra)))
        }
        var names = classes
        if names.isEmpty {
            names = Array(Set(rows.compactMap(\.record.className)))
            names.sort { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
        var set = try LabelSet(name: lines.name, classes: names)
        for row in rows { try set.append(row.record, line: row.line) }
        return set
    }

    /// The file name stem the Kinetics downloaders give a clip: `{youtube_id}_{start:06d}_{end:06d}`.
    public static func kineticsID(youtubeID: String, start: Int, end: Int) -> String {
        func pad(_ n: Int) -> String {
            let digits = String(n)
            return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        }
        return "\(youtubeID)_\(pad(start))_\(pad(end))"
    }

    /// Seconds written as `10` or `10.0`.
    private static func wholeSeconds(_ s: String) -> Int? {
        if let i = Int(s) { return i >= 0 ? i : nil }
        guard let d = Double(s), d >= 0, d < 1e9, d == d.rounded() else { return nil }
        return Int(d)
    }

    /// The fields of one CSV line (RFC 4180): commas separate; a double-quoted field may hold
    /// commas and `""` for a quote. Fields are not trimmed; quoted fields may not span lines.
    public static func csvFields(_ line: String) throws -> [String] {
        var fields: [String] = []
        var field = ""
        var quoted = false, wasQuoted = false
        var chars = line.unicodeScalars.makeIterator()
        var pending = chars.next()
        while let c = pending {
            pending = chars.next()
            if quoted {
                if c == "\"" {
                    if pending == "\"" { field.unicodeScalars.append(c); pending = chars.next() } else { quoted = false }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "," {
                fields.append(field)
                field = ""
                wasQuoted = false
            } else if c == "\"" {
                guard field.isEmpty, !wasQuoted else { throw Failure.data("a quote inside an unquoted field") }
                quoted = true
                wasQuoted = true
            } else {
                guard !wasQuoted else { throw Failure.data("text after a closing quote") }
                field.unicodeScalars.append(c)
            }
        }
        if quoted { throw Failure.data("a quoted field does not end on its line") }
        fields.append(field)
        return fields
    }
}

/// The small text and path rules every list format shares.
enum ListSyntax {
    /// Drops leading and trailing spaces and tabs (and a CR that escaped the line reader).
    static func trimmed(_ s: String) -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\r" }
        guard let first = s.firstIndex(where: { !isSpace($0) }), let last = s.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(s[first...last])
    }

    /// Splits off the last space- or tab-separated field: ("a b/c.mp4", "3") for "a b/c.mp4 3".
    static func splitLast(_ s: Substring) -> (rest: Substring, last: Substring)? {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let end = s.lastIndex(where: { !isSpace($0) }) else { return nil }
        let s = s[...end]
        guard let gap = s.lastIndex(where: isSpace) else { return nil }
        let rest = s[..<gap]
        guard let restEnd = rest.lastIndex(where: { !isSpace($0) }) else { return nil }
        return (rest[...restEnd], s[s.index(after: gap)...])
    }

    /// Whether a field is a plain unsigned number.
    static func isDigits(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy { $0.isASCII && $0.isNumber } }

    /// The last component of a path.
    static func baseName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The directory part of a path: "." for a bare name, "/" for a name in the root.
    static func directoryName(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Whether a path names a directory.
    static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// The names in a directory, without "." and "..".
    static func directoryEntries(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw Failure(.noInput, errnoString(errno), file: path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
