// What tb-info says about a tensor stream: a line per record, or totals.

import TBCore
import TBStream

/// One record as tb-info shows it.
public struct RecordSummary {
    public var number: Int
    public var offset: Int
    public var header: RecordHeader

    /// `3 frames u8 [16,64,64,3] id="v/a b.mp4" label=2 ...`: values in JSON, so a
    /// string with spaces stays one field.
    public var line: String {
        var parts = [String(number), header.header["kind"]?.stringValue ?? "-", header.dtype.rawValue,
                     JSON(header.shape).text]
        for (key, value) in header.header where key != "kind" {
            parts.append("\(key)=\(value.compactText(limit: 60))")
        }
        return parts.joined(separator: " ")
    }

    public var json: JSONObject {
        var o = JSONObject([("record", JSON(number)), ("offset", JSON(offset))])
        if let k = header.header["kind"] { o["kind"] = k }
        o["dtype"] = .string(header.dtype.rawValue)
        o["shape"] = JSON(header.shape)
        for (key, value) in header.header where key != "kind" { o[key] = value }
        return o
    }
}

/// Totals over a stream, for `tb-info --summary`.
public struct StreamTotals {
    public var records = 0
    public var payloadBytes = 0
    public var compressedBytes = 0
    public var kinds: [String: Int] = [:]
    public var dtypes: [String: Int] = [:]
    public var shapes: [String: Int] = [:]
    public var ids = Set<String>()
    public var labels: [Int: Int] = [:]
    public var unlabeled = 0

    public init() {}

    public mutating func add(_ h: RecordHeader) {
        records += 1
        payloadBytes += h.payloadSize
        kinds[h.header["kind"]?.stringValue ?? "-", default: 0] += 1
        dtypes[h.dtype.rawValue, default: 0] += 1
        shapes[JSON(h.shape).text, default: 0] += 1
        if let id = h.header["id"]?.stringValue { ids.insert(id) }
        if let label = h.header["label"]?.intValue { labels[label, default: 0] += 1 } else { unlabeled += 1 }
    }

    public var json: JSONObject {
        func counts(_ d: [String: Int]) -> JSON {
            .object(JSONObject(d.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                .map { ($0.key, JSON($0.value)) }))
        }
        return JSONObject([
            ("records", JSON(records)), ("payload_bytes", JSON(payloadBytes)),
            ("compressed_bytes", JSON(compressedBytes)),
            ("kinds", counts(kinds)), ("dtypes", counts(dtypes)), ("shapes", counts(shapes)),
            ("ids", JSON(ids.count)),
            ("labels", .object(JSONObject(labels.sorted { $0.key < $1.key }.map { (String($0.key), JSON($0.value)) }))),
            ("unlabeled", JSON(unlabeled)),
        ])
    }

    public var text: [String] {
        func counts(_ d: [String: Int], limit: Int = 6) -> String {
            let sorted = d.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            var s = sorted.prefix(limit).map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            if sorted.count > limit { s += ", … (\(sorted.count) distinct)" }
            return s.isEmpty ? "-" : s
        }
        let ratio = compressedBytes > 0 ? Double(payloadBytes) / Double(compressedBytes) : 0
        var lines = [
            "records: \(records)",
            "kinds: \(counts(kinds))",
            "dtypes: \(counts(dtypes))",
            "shapes: \(counts(shapes))",
            "payload: \(byteString(payloadBytes)) in \(byteString(compressedBytes)) compressed ("
                + formatFixed(ratio, 2) + "×)",
            "ids: \(ids.count) distinct",
        ]
        let labelText = labels.sorted { $0.key < $1.key }.map { "\($0.key):\($0.value)" }.joined(separator: " ")
        lines.append("labels: " + (labelText.isEmpty ? "none" : labelText)
            + (unlabeled > 0 && !labels.isEmpty ? " (unlabeled \(unlabeled))" : ""))
        return lines
    }
}

/// 1536 → "1.5 KiB"; bytes stay exact below 1 KiB.
public func byteString(_ n: Int) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB"]
    var v = Double(n)
    var u = 0
    while v >= 1024 && u < units.count - 1 { v /= 1024; u += 1 }
    return u == 0 ? "\(n) B" : formatFixed(v, 1) + " " + units[u]
}

/// A number with `digits` decimals, without Foundation's locale-dependent formatting.
public func formatFixed(_ x: Double, _ digits: Int) -> String {
    guard x.isFinite else { return "\(x)" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let r = (abs(x) * scale).rounded()
    let whole = Int(r / scale)
    var frac = String(Int(r - Double(whole) * scale))
    while frac.count < digits { frac = "0" + frac }
    return (x < 0 && r > 0 ? "-" : "") + String(whole) + (digits > 0 ? "." + frac : "")
}

extension JSON {
    /// JSON text cut to about `limit` characters (long soft targets make unreadable lines).
    func compactText(limit: Int) -> String {
        let t = text
        guard t.count > limit else { return t }
        if case .array(let a) = self { return "[\(a.count) values]" }
        return String(t.prefix(limit)) + "…"
    }
}
