// Loading labels in any accepted format, and resolving ids to files.

import TBCore

// MARK: - Loading any accepted list, and resolving ids to files

/// The label list formats tb reads (tb-labels(5)).
public enum LabelFormat: String, CaseIterable, Sendable {
    case jsonl, mmaction, rawframes, ucf101, hmdb51, kinetics

    /// Guesses from the file name, then from its first non-blank line; nil when neither tells.
    /// Last two fields integers means a rawframe list, only the last an mmaction2 video list.
    public static func detect(fileName: String, firstLine: String?) -> LabelFormat? {
        let base = ListSyntax.baseName(fileName).lowercased()
        if base.hasSuffix(".jsonl") || base.hasSuffix(".ndjson") { return .jsonl }
        if LabelSet.hmdb51SplitFile(fileName) != nil { return .hmdb51 }
        if base.hasSuffix(".txt") && ["classind", "trainlist", "testlist"].contains(where: base.hasPrefix) {
            return .ucf101
        }
        if base.hasSuffix(".csv") { return .kinetics }
        guard let line = firstLine.map(ListSyntax.trimmed), !line.isEmpty else { return nil }
        if line.hasPrefix("{") { return .jsonl }
        if line.contains("youtube_id") { return .kinetics }
        guard let (rest, last) = ListSyntax.splitLast(Substring(line)), Int(last) != nil else { return nil }
        if let (_, before) = ListSyntax.splitLast(rest), Int(before) != nil { return .rawframes }
        return .mmaction
    }
}

/// What `LabelSet.load` needs besides the file.
public struct LabelOptions: Sendable {
    /// The list's format; nil to detect it.
    public var format: LabelFormat?
    /// Class names (from a classes file); empty to take them from the list where it has them.
    public var classes: [String]
    /// UCF101's classInd.txt; nil for the one beside the list.
    public var classIndex: String?
    /// Which HMDB51 videos to take.
    public var subset: HMDB51Subset
    /// Which HMDB51 split (1, 2 or 3) a directory of split files is read for.
    public var split: Int

    /// Options with the defaults of tb-labels(5).
    public init(format: LabelFormat? = nil, classes: [String] = [], classIndex: String? = nil,
                subset: HMDB51Subset = .train, split: Int = 1) {
        self.format = format
        self.classes = classes
        self.classIndex = classIndex
        self.subset = subset
        self.split = split
    }
}

extension LabelSet {
    /// Reads labels in any accepted format from a file, "-" for standard input, or a
    /// directory of HMDB51 split files.
    public static func load(path: String, options: LabelOptions = LabelOptions()) throws -> LabelSet {
        if ListSyntax.isDirectory(path) {
            guard options.format == nil || options.format == .hmdb51 else {
                throw Failure(.usage, "is a directory; only HMDB51 split files are read from one", file: path)
            }
            return try loadHMDB51(directory: path, options: options)
        }
        if path == "-" {
            return try load(bytes: try InputFile(path: "-").readAll(), name: "<stdin>", options: options)
        }
        return try load(open: { try LineReader(path: path) }, path: path, options: options)
    }

    /// Reads labels already in memory (e.g. standard input that was peeked at); `name`
    /// is used in messages and for format detection.
    public static func load(bytes: [UInt8], name: String, options: LabelOptions = LabelOptions()) throws -> LabelSet {
        try bytes.withUnsafeBytes { raw in
            try load(open: { LineReader(source: MemorySource(raw, name: name)) }, path: name == "<stdin>" ? "-" : name,
                     options: options)
        }
    }

    private static func load(open: () throws -> LineReader, path: String, options: LabelOptions) throws -> LabelSet {
        var format = options.format
        if format == nil {
            let peek = try open()
            var first: String?
            while first == nil, let line = try peek.nextString() { if !ListSyntax.trimmed(line).isEmpty { first = line } }
            if first == nil && LabelFormat.detect(fileName: path, firstLine: nil) == nil {
                return try LabelSet(name: peek.name, classes: options.classes)  // an empty list
            }
            guard let f = LabelFormat.detect(fileName: path, firstLine: first) else {
                throw Failure(.dataError, "cannot tell the label format; name one (jsonl, mmaction, rawframes, "
                    + "ucf101, hmdb51, kinetics)", file: peek.name, line: peek.lineNumber)
            }
            format = f
        }
        let lines = try open()
        switch format ?? .jsonl {
        case .jsonl:
            var set = try readJSONLines(lines, classes: options.classes)
            if options.classes.isEmpty, let implied = set.impliedClasses() { try set.setClasses(implied) }
            return set
        case .mmaction, .rawframes:
            return try readMMAction(lines, rawframes: format == .rawframes, classes: options.classes)
        case .kinetics:
            return try readKinetics(lines, classes: options.classes)
        case .ucf101:
            if ListSyntax.baseName(path).lowercased().hasPrefix("classind") {
                return try LabelSet(name: lines.name, classes: readUCF101ClassIndex(lines))
            }
            var classes = options.classes
            let beside = ListSyntax.directoryName(path) + "/classInd.txt"
            if classes.isEmpty, let index = options.classIndex ?? (path != "-" && fileExists(beside) ? beside : nil) {
                classes = try readUCF101ClassIndex(LineReader(path: index))
            }
            return try readUCF101(lines, classes: classes)
        case .hmdb51:
            guard let (className, _) = hmdb51SplitFile(path) else {
                throw Failure(.usage, "an HMDB51 split file is named <class>_test_split<k>.txt", file: lines.name)
            }
            return try readHMDB51(lines, className: className, subset: options.subset, classes: options.classes)
        }
    }

    /// Every `<class>_test_split<k>.txt` for `options.split` in a directory; classes sorted by name.
    private static func loadHMDB51(directory: String, options: LabelOptions) throws -> LabelSet {
        var files: [(className: String, file: String)] = []
        for entry in try ListSyntax.directoryEntries(directory) {
            if let (c, k) = hmdb51SplitFile(entry), k == options.split { files.append((c, entry)) }
        }
        guard !files.isEmpty else {
            throw Failure(.noInput, "no HMDB51 files *_test_split\(options.split).txt", file: directory)
        }
        files.sort { $0.className.utf8.lexicographicallyPrecedes($1.className.utf8) }
        var set = try LabelSet(name: directory, classes: options.classes.isEmpty ? files.map(\.className) : options.classes)
        for (c, f) in files {
            try set.appendHMDB51(LineReader(path: directory + "/" + f), className: c, subset: options.subset)
        }
        return set
    }

    /// The file an id names: an absolute id as it is; a relative one under `root` when given,
    /// else beside the list file (never silently under the current directory).
    public func resolve(id: String, root: String?) throws -> String {
        if id.hasPrefix("/") { return id }
        if let root { return root.isEmpty ? id : root.hasSuffix("/") ? root + id : root + "/" + id }
        guard name != "-", !name.hasPrefix("<") else {
            throw Failure(.usage, "id \"\(id)\" is relative and the list has no directory; give --root", file: name)
        }
        let directory = ListSyntax.directoryName(name)
        return directory == "." ? id : directory.hasSuffix("/") ? directory + id : directory + "/" + id
    }
}
