// One record of a tensor stream (tb-stream(5)): a JSON header and a row-major payload.

import TBCore

/// Element types a record's payload can hold.
public enum DType: String, CaseIterable, Sendable {
    case u8, f16, f32, i32

    public var size: Int {
        switch self {
        case .u8: return 1
        case .f16: return 2
        case .f32, .i32: return 4
        }
    }
}

/// A record: `dtype` and `shape` describe `payload`; `header` holds every other key
/// (kind, layout, id, index, label, ... and keys tb does not know, passed through untouched).
public struct Record: Sendable, Equatable {
    public var dtype: DType
    public var shape: [Int]
    public var header: JSONObject
    public var payload: [UInt8]

    /// The payload size must match dtype × shape; `Record.byteCount` computes it.
    public init(kind: String? = nil, dtype: DType, shape: [Int], header: JSONObject = JSONObject(),
                payload: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.payload = payload
        // kind leads the header, as on the wire, so a record equals itself read back.
        if let kind {
            var h = JSONObject([("kind", .string(kind))])
            for (key, value) in header where key != "kind" { h[key] = value }
            self.header = h
        } else {
            self.header = header
        }
    }

    /// A float32 record from values in row-major order.
    public init(kind: String? = nil, shape: [Int], floats: [Float], header: JSONObject = JSONObject()) {
        let bytes = floats.withUnsafeBytes { [UInt8]($0) }
        self.init(kind: kind, dtype: .f32, shape: shape, header: header, payload: bytes)
    }

    public var kind: String? {
        get { header["kind"]?.stringValue }
        set { header["kind"] = newValue.map { .string($0) } }
    }
    public var id: String? {
        get { header["id"]?.stringValue }
        set { header["id"] = newValue.map { .string($0) } }
    }
    public var label: Int? {
        get { header["label"]?.intValue }
        set { header["label"] = newValue.map { JSON($0) } }
    }
    public var index: Int? {
        get { header["index"]?.intValue }
        set { header["index"] = newValue.map { JSON($0) } }
    }
    /// Axis names, one letter each, e.g. "THWC".
    public var layout: String? {
        get { header["layout"]?.stringValue }
        set { header["layout"] = newValue.map { .string($0) } }
    }

    public var elementCount: Int { shape.reduce(1, *) }

    /// The payload as floats, converting from any dtype.
    public func floats() -> [Float] {
        payload.withUnsafeBytes { raw in
            switch dtype {
            case .u8: return raw.map { Float($0) }
            case .f32: return Array(raw.bindMemory(to: Float.self))
            case .i32: return raw.bindMemory(to: Int32.self).map { Float($0) }
            case .f16:
                return raw.bindMemory(to: UInt16.self).map { Float(Float16(bitPattern: UInt16(littleEndian: $0))) }
            }
        }
    }

    /// The header object as written: kind, dtype, shape first, then the other keys in order.
    public var headerJSON: JSON {
        var o = JSONObject()
        if let k = header["kind"] { o["kind"] = k }
        o["dtype"] = .string(dtype.rawValue)
        o["shape"] = JSON(shape)
        for (key, value) in header where key != "kind" { o[key] = value }
        return .object(o)
    }

    /// Bytes of a payload of this dtype and shape; nil if a dimension is negative or the size overflows.
    public static func byteCount(dtype: DType, shape: [Int]) -> Int? {
        checkedByteCount(elementSize: dtype.size, shape: shape)
    }
}

/// What a record's header says, before its payload is read.
public struct RecordHeader: Sendable, Equatable {
    public var dtype: DType
    public var shape: [Int]
    /// Every key but dtype and shape, in order.
    public var header: JSONObject
    /// Bytes the payload must have.
    public var payloadSize: Int

    /// Validates a decoded header object (DESIGN.md §2). Throws `.dataError` naming the key.
    public init(json: JSON) throws {
        guard case .object(var o) = json else {
            throw Failure.data("header is a JSON \(json.typeName), not an object")
        }
        guard let d = o["dtype"] else { throw Failure.data("header has no \"dtype\"") }
        guard let name = d.stringValue, let dtype = DType(rawValue: name) else {
            throw Failure.data("dtype \(d.text) is not one of u8, f16, f32, i32")
        }
        guard let s = o["shape"] else { throw Failure.data("header has no \"shape\"") }
        guard let dims = s.arrayValue, dims.count <= 16 else {
            throw Failure.data("shape \(s.text) is not an array of at most 16 integers")
        }
        var shape: [Int] = []
        for dim in dims {
            guard case .int(let v) = dim, v >= 0, let i = Int(exactly: v) else {
                throw Failure.data("shape \(s.text) has a dimension that is not a non-negative integer")
            }
            shape.append(i)
        }
        guard let size = Record.byteCount(dtype: dtype, shape: shape) else {
            throw Failure.data("shape \(s.text) of \(dtype.rawValue) overflows the payload size")
        }
        if let k = o["kind"], k.stringValue == nil {
            throw Failure.data("kind \(k.text) is not a string")
        }
        o["dtype"] = nil
        o["shape"] = nil
        self.dtype = dtype
        self.shape = shape
        self.header = o
        payloadSize = size
    }
}

/// The fixed layout of a record on the wire.
enum RecordLayout {
    static let magic: [UInt8] = Array("TBR1".utf8)
    static let prefixSize = 8
    static let alignment = 64
    static let maxHeaderLength = 1 << 20

    /// Zero bytes after the header so that the payload starts at a multiple of 64.
    static func padding(headerLength: Int) -> Int {
        (alignment - (prefixSize + headerLength) % alignment) % alignment
    }
}
