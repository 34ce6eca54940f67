// tb-eval: predictions + truth → accuracy, confusion, most confused pairs; training curves.

import ArgumentParser
import Foundation
import TBCLI
import TBCore
import TBMethods
import TBStream
import TBVideo

struct Eval: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tb-eval",
            abstract: "Score predictions against the truth, or draw training curves from logs.",
            discussion: "Reads predictions from standard input when no file is named. See tb-eval(1).",
            version: "tb-eval " + versionString(extra: [FFmpegVersion.summary]))
    }

    @Argument(help: ArgumentHelp("Prediction JSON lines (tb-score's output), or with --curves, tb-train/tb-teach logs.",
                                 valueName: "file"))
    var files: [String] = []

    @Option(help: ArgumentHelp("The truth, in any label format of tb-labels(5) (default: the predictions' labels).",
                               valueName: "file"))
    var truth: String?

    @Option(name: .customLong("class-names"), help: ArgumentHelp("Class names, one a line.", valueName: "file"))
    var classNames: String?

    @Option(help: ArgumentHelp("Also score each value of this field of the truth (or the predictions) apart.",
                               valueName: "field"))
    var by: String?

    @Option(help: ArgumentHelp("Most confused pairs to list.", valueName: "n"))
    var pairs = 5

    @Flag(name: [.short, .long], help: "One JSON object instead of text.")
    var json = false

    @Option(help: ArgumentHelp("Draw the confusion matrix to this PNG file.", valueName: "file.png"))
    var confusion: String?

    @Option(help: ArgumentHelp("Draw the logs' training curves to this PNG file.", valueName: "file.png"))
    var curves: String?

    @OptionGroup var common: CommonOptions

    func validate() throws {
        if pairs < 0 { throw ValidationError("--pairs must not be negative") }
        if curves != nil && (truth != nil || confusion != nil || by != nil) {
            throw ValidationError("--curves draws logs; score predictions in another run")
        }
        if curves != nil && files.isEmpty { throw ValidationError("--curves needs the log files") }
    }

    func run() throws {
        common.apply()
        if let curves { return try drawCurves(to: curves) }
        let names = try classNames.map { try ClassList.read(path: $0) }
        let truthSet = try truth.map { try LabelSet.load(path: $0, options: LabelOptions(classes: names ?? [])) }
        var items: [Scored] = []
        var classes = names?.count ?? 0
        var seen = Set<String>()
        for path in files.isEmpty ? ["-"] : files {
            let reader = JSONLinesReader(lines: try LineReader(path: path))
            while let o = try reader.next() {
                func fail(_ m: String) -> Failure { Failure(.dataError, m, file: reader.name, line: reader.lineNumber) }
                guard let id = o["id"]?.stringValue else { throw fail("no \"id\"") }
                guard let p = o["probs"]?.arrayValue, !p.isEmpty else { throw fail("no \"probs\" for \"\(id)\"") }
                let probs = try p.map { v -> Float in
                    guard let d = v.doubleValue, d.isFinite else { throw fail("\"probs\" of \"\(id)\" holds \(v.text)") }
                    return Float(d)
                }
                let label: Int?
                var group = by.flatMap { o[$0] }.map { $0.stringValue ?? $0.text }
                if let truthSet {
                    guard let r = truthSet[id] else { throw fail("\"\(id)\" is not in the truth \(truthSet.name)") }
                    guard r.label != nil else {
                        // The truth is what lacks the label: name it, not the predictions.
                        throw Failure(.dataError, "\"\(id)\" has no label", file: truthSet.name, line: truthSet.line(of: id))
                    }
                    label = r.label
                    if let by, let v = r.extra[by] { group = v.stringValue ?? v.text }
                } else {
                    label = o["label"]?.intValue
                }
                guard let label else { throw fail("no label for \"\(id)\" (give --truth)") }
                guard label >= 0 else { throw fail("label \(label) of \"\(id)\"") }
                // The report's tables are classes x classes: a label must be one of the classes.
                let known = max(probs.count, names?.count ?? 0)
                guard label < known else {
                    let m = "label \(label) of \"\(id)\" is not one of the \(known) classes of its probabilities"
                    if let truthSet { throw Failure(.dataError, m, file: truthSet.name, line: truthSet.line(of: id)) }
                    throw fail(m)
                }
                if let names, probs.count != names.count {
                    throw fail("\(probs.count) probabilities for \(names.count) classes")
                }
                guard seen.insert(id).inserted else { throw fail("\"\(id)\" is predicted twice") }
                classes = max(classes, probs.count, label + 1)
                items.append(Scored(id: id, truth: label, probs: probs, group: group))
            }
        }
        guard !items.isEmpty else { throw Failure(.dataError, "no predictions", file: files.first ?? "<stdin>") }
        // Labels beyond a prediction's classes would index past its probabilities.
        for i in items.indices where items[i].probs.count < classes {
            items[i].probs += [Float](repeating: -.infinity, count: classes - items[i].probs.count)
        }
        let label = { (c: Int) -> String in names.flatMap { c < $0.count ? $0[c] : nil } ?? String(c) }
        let report = Report(items, classes: classes)
        var groups: [(String, Report)] = []
        if by != nil {
            let values = Set(items.map { $0.group ?? "(none)" }).sorted()
            groups = values.map { v in (v, Report(items.filter { ($0.group ?? "(none)") == v }, classes: classes)) }
        }
        if let missing = truthSet.map({ $0.records.filter { !seen.contains($0.id) }.count }), missing > 0 {
            common.note("tb-eval", "\(missing) videos of the truth have no prediction")
        }
        let out = OutputFile.standardOutput()
        if json {
            var o = JSONObject([("videos", JSON(report.count)), ("classes", JSON(classes)), ("top1", .double(report.top1)),
                                ("top5", .double(report.top5)), ("mean_class_accuracy", .double(report.meanClassAccuracy))])
            o["per_class"] = .array(report.perClass.map { $0.map { .double($0) } ?? .null })
            o["confusion"] = .array(report.confusion.map { JSON($0) })
            o["most_confused"] = .array(report.mostConfused(pairs).map {
                .object(JSONObject([("truth", JSON($0.truth)), ("predicted", JSON($0.predicted)), ("count", JSON($0.count))]))
            })
            if by != nil {
                o["by"] = .object(JSONObject(groups.map { g, r in
                    (g, .object(JSONObject([("videos", JSON(r.count)), ("top1", .double(r.top1)),
                                           ("mean_class_accuracy", .double(r.meanClassAccuracy))])))
                }))
            }
            try out.write(JSON.object(o).text + "\n")
        } else {
            func pct(_ x: Double) -> String { formatFixed(x * 100, 1) + "%" }
            var text = "videos \(report.count), classes \(classes)\n"
            text += "top-1 \(pct(report.top1))  top-5 \(pct(report.top5))  mean class accuracy \(pct(report.meanClassAccuracy))\n"
            text += "per class:\n"
            let width = min(24, (0..<classes).map { label($0).count }.max() ?? 1)
            for c in 0..<classes {
                let n = report.confusion[c].reduce(0, +)
                let acc = report.perClass[c].map(pct) ?? "-"
                text += "  " + pad(String(c), 3) + " " + label(c).padding(toLength: width, withPad: " ", startingAt: 0)
                    + " " + pad(acc, 7) + "  (\(n))\n"
            }
            text += "confusion (rows: truth, columns: predicted):\n     "
            text += (0..<classes).map { pad(String($0), 4) }.joined() + "\n"
            for c in 0..<classes {
                text += "  " + pad(String(c), 3) + report.confusion[c].map { pad(String($0), 4) }.joined() + "\n"
            }
            let confused = report.mostConfused(pairs)
            if !confused.isEmpty {
                text += "most confused:\n"
                for p in confused { text += "  \(label(p.truth)) -> \(label(p.predicted))  \(p.count)\n" }
            }
            if let by {
                text += "by \(by):\n"
                for (g, r) in groups {
                    text += "  \(g)  top-1 \(pct(r.top1))  mean class accuracy \(pct(r.meanClassAccuracy))  (\(r.count))\n"
                }
            }
            try out.write(text)
        }
        try out.flush()
        if let confusion {
            let o = try Output(path: confusion)
            try o.file.write(try PNG.encode(Plot.confusion(report.confusion, names: (0..<classes).map(label))))
            try o.commit()
        }
    }

    /// Every numeric field of the logs' lines (but step, time and epoch) against step, a
    /// panel per field, a line per log.
    func drawCurves(to path: String) throws {
        var panels: [String: [Plot.Series]] = [:]
        var order: [String] = []
        for file in files {
            let reader = JSONLinesReader(lines: try LineReader(path: file))
            var series: [String: [(x: Double, y: Double)]] = [:]
            var lastStep = 0.0
            while let o = try reader.next() {
                let step = o["step"]?.doubleValue ?? lastStep
                lastStep = step
                let event = o["event"]?.stringValue ?? ""
                for (k, v) in o where !["step", "time", "epoch", "tool", "event"].contains(k) {
                    guard let y = v.doubleValue else { continue }
                    let name = event == "val" ? "val " + k : k
                    if series[name] == nil, !order.contains(name) { order.append(name) }
                    series[name, default: []].append((step, y))
                }
            }
            for (name, points) in series { panels[name, default: []].append(Plot.Series(name: file, points: points)) }
        }
        guard !order.isEmpty else { throw Failure(.dataError, "no numeric fields in the logs", file: files[0]) }
        let image = Plot.curves(panels: order.map { ($0, panels[$0] ?? []) }, runs: files)
        let o = try Output(path: path)
        try o.file.write(try PNG.encode(image))
        try o.commit()
    }

    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
}

runTool(Eval.self, name: "tb-eval", computes: false)
