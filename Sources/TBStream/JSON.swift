// A JSON value with ordered object keys, parsed and printed by json-c.
// Key order is kept so that headers pass through programs unchanged.

import CJSONC
import TBCore

public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public var intValue: Int? {
        switch self {
        case .int(let i): return Int(exactly: i)
        case .double(let d): return d == d.rounded() && abs(d) < 9e15 ? Int(d) : nil
        default: return nil
        }
    }
    public var doubleValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var arrayValue: [JSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o } else { return nil } }

    /// A short name of the value's type, for messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

/// A JSON object that remembers the order its keys were first set in.
public struct JSONObject: Equatable, Sendable, Sequence {
    public private(set) var keys: [String] = []
    private var values: [String: JSON] = [:]

    public init() {}
    public init(_ pairs: [(String, JSON)]) {
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> JSON? {
        get { values[key] }
        set {
            if let v = newValue {
                if values.updateValue(v, forKey: key) == nil { keys.append(key) }
            } else if values.removeValue(forKey: key) != nil {
                keys.removeAll { $0 == key }
            }
        }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public func makeIterator() -> AnyIterator<(key: String, value: JSON)> {
        var i = 0
        return AnyIterator {
            guard i < keys.count else { return nil }
            defer { i += 1 }
            return (keys[i], values[keys[i]]!)
        }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.keys == b.keys && a.values == b.values
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral v: String) { self = .string(v) }
    public init(integerLiteral v: Int64) { self = .int(v) }
    public init(floatLiteral v: Double) { self = .double(v) }
    public init(booleanLiteral v: Bool) { self = .bool(v) }
    public init(arrayLiteral v: JSON...) { self = .array(v) }
    public init(dictionaryLiteral v: (String, JSON)...) { self = .object(JSONObject(v)) }
    public init(nilLiteral: ()) { self = .null }
}

extension JSON {
    public init(_ i: Int) { self = .int(Int64(i)) }
    public init(_ a: [Int]) { self = .array(a.map { .int(Int64($0)) }) }
    public init(_ a: [Double]) { self = .array(a.map { .double($0) }) }
    public init(_ a: [Float]) { self = .array(a.map { .double(Double($0)) }) }
}

// MARK: - Parsing

extension JSON {
    /// Parses exactly one JSON value from UTF-8 bytes; anything but whitespace after it is an error.
    /// The thrown Failure has status `.dataError` and a message from json-c.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int32 = 64) throws -> JSON {
        guard let tok = json_tokener_new_ex(maxDepth) else {
            throw Failure.internalError("json-c: out of memory")
        }
        defer { json_tokener_free(tok) }
        // Strict: RFC 8259 only (no single quotes, no trailing commas, no bare words).
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT)
        // json-c's tokener stops at a NUL byte inside the length, which JSON forbids anyway.
        guard bytes.count > 0, let base = bytes.baseAddress else { throw Failure.data("empty JSON") }
        var obj = json_tokener_parse_ex(tok, base.assumingMemoryBound(to: CChar.self), Int32(clamping: bytes.count))
        var err = json_tokener_get_error(tok)
        var endsInput = false
        if err == json_tokener_continue && !bytes.allSatisfy(isSpace) {
            // A number has no end of its own ("42" could go on), so json-c waits for more; its
            // documented way to say "the input ends here" is one more call with the NUL.
            obj = json_tokener_parse_ex(tok, "", 1)
            err = json_tokener_get_error(tok)
            if err != json_tokener_success { err = json_tokener_continue }  // cut inside a string, array, ...
            endsInput = true
        }
        if err == json_tokener_continue || (err == json_tokener_success && obj == nil && !isNullLiteral(bytes)) {
            throw Failure.data(bytes.allSatisfy(isSpace) ? "empty JSON" : "truncated JSON")
        }
        if err != json_tokener_success {
            let what = String(cString: json_tokener_error_desc(err))
            let at = json_tokener_get_parse_end(tok)
            throw Failure.data("invalid JSON at character \(at + 1): \(what)")
        }
        defer { json_object_put(obj) }
        if let at = singleQuoteOutsideStrings(bytes) {
            throw Failure.data("invalid JSON at character \(at + 1): single-quoted string")
        }
        let end = endsInput ? bytes.count : Int(json_tokener_get_parse_end(tok))
        if end < bytes.count, !bytes[end...].allSatisfy(isSpace) {
            throw Failure.data("invalid JSON: unexpected text after the value at character \(end + 1)")
        }
        return try JSON(jsonc: obj)
    }

    public static func parse(_ text: String) throws -> JSON {
        var t = text
        return try t.withUTF8 { try parse(UnsafeRawBufferPointer($0)) }
    }

    public static func parse(_ bytes: [UInt8]) throws -> JSON {
        try bytes.withUnsafeBytes { try parse($0) }
    }

    /// json-c's strict mode still takes 'single-quoted' object keys; RFC 8259 does not.
    private static func singleQuoteOutsideStrings(_ bytes: UnsafeRawBufferPointer) -> Int? {
        var inString = false, escaped = false
        for (i, c) in bytes.enumerated() {
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
            } else if c == 0x22 {
                inString = true
            } else if c == 0x27 {
                return i
            }
        }
        return nil
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    private static func isNullLiteral(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let trimmed = bytes.drop(while: isSpace).reversed().drop(while: isSpace).reversed()
        return Array(trimmed) == Array("null".utf8)
    }

    init(jsonc obj: OpaquePointer?) throws {
        guard let obj else { self = .null; return }
        switch json_object_get_type(obj) {
        case json_type_null:
            self = .null
        case json_type_boolean:
            self = .bool(json_object_get_boolean(obj) != 0)
        case json_type_int:
            self = .int(json_object_get_int64(obj))
        case json_type_double:
            self = .double(json_object_get_double(obj))
        case json_type_string:
            let n = Int(json_object_get_string_len(obj))
            let p = json_object_get_string(obj)!
            self = .string(p.withMemoryRebound(to: UInt8.self, capacity: n) {
                String(decoding: UnsafeBufferPointer(start: $0, count: n), as: UTF8.self)
            })
        case json_type_array:
            let n = json_object_array_length(obj)
            var items: [JSON] = []
            items.reserveCapacity(n)
            for i in 0..<n { items.append(try JSON(jsonc: json_object_array_get_idx(obj, i))) }
            self = .array(items)
        case json_type_object:
            var o = JSONObject()
            var it = json_object_iter_begin(obj)
            var end = json_object_iter_end(obj)
            while json_object_iter_equal(&it, &end) == 0 {
                let key = String(cString: json_object_iter_peek_name(&it))
                o[key] = try JSON(jsonc: json_object_iter_peek_value(&it))
                json_object_iter_next(&it)
            }
            self = .object(o)
        default:
            throw Failure.data("unsupported JSON value")
        }
    }
}

// MARK: - Printing

extension JSON {
    /// Compact JSON text (no spaces), keys in their stored order. Non-finite numbers print as null.
    public var text: String {
        guard let obj = makeJSONC() else { return "null" }
        defer { json_object_put(obj) }
        var len = 0
        let flags = JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE
        let p = json_object_to_json_string_length(obj, Int32(flags), &len)!
        return p.withMemoryRebound(to: UInt8.self, capacity: len) {
            String(decoding: UnsafeBufferPointer(start: $0, count: len), as: UTF8.self)
        }
    }

    /// Returns a new json-c object the caller owns (nil for JSON null).
    func makeJSONC() -> OpaquePointer? {
        switch self {
        case .null:
            return nil
        case .bool(let b):
            return json_object_new_boolean(b ? 1 : 0)
        case .int(let i):
            return json_object_new_int64(i)
        case .double(let d):
            guard d.isFinite else { return nil }
            // Swift prints the shortest text that reads back as the same double.
            // ("3.0", "0.1", "1e-05"); json-c keeps the text it is given.
            return "\(d)".withCString { json_object_new_double_s(d, $0) }
        case .string(let s):
            var s = s
            return s.withUTF8 { buf in
                // json_object_new_string_len copies exactly `count` bytes (NULs included).
                buf.withMemoryRebound(to: CChar.self) {
                    json_object_new_string_len($0.baseAddress ?? emptyCString, Int32(buf.count))
                }
            }
        case .array(let items):
            let a = json_object_new_array_ext(Int32(items.count))
            for item in items { json_object_array_add(a, item.makeJSONC()) }
            return a
        case .object(let o):
            let obj = json_object_new_object()
            for (k, v) in o { json_object_object_add(obj, k, v.makeJSONC()) }
            return obj
        }
    }
}

private let emptyCString: UnsafePointer<CChar> = {
    let p = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
    p.pointee = 0
    return UnsafePointer(p)
}()
