// Checkpoints as safetensors files, to the format of github.com/huggingface/safetensors:
// an 8-byte little-endian header size N, N bytes of JSON header
// {"__metadata__": {str: str}, "name": {"dtype", "shape", "data_offsets": [begin, end]}, ...},
// then the byte buffer, offsets counted from its start. The reader refuses what the Python
// package refuses (including holes between tensors), so files we accept load there too.

import TBCore

/// Element types of safetensors files, named as in the header.
public enum SafeTensorsDType: String, CaseIterable, Sendable {
    case BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .BOOL, .U8, .I8: return 1
        case .I16, .U16, .F16, .BF16: return 2
        case .I32, .U32, .F32: return 4
        case .F64, .I64, .U64: return 8
        }
    }

    /// Position in the safetensors crate's `Dtype` enum; it lays out higher positions first,
    /// which keeps every tensor aligned to its element size.
    var layoutRank: Int {
        let order: [SafeTensorsDType] = [.BOOL, .U8, .I8, .I16, .U16, .F16, .BF16, .I32, .U32, .F32, .F64, .I64, .U64]
        return order.firstIndex(of: self) ?? 0
    }

    /// Elements times size for a shape; nil for a negative dimension or an overflow.
    public func byteCount(shape: [Int]) -> Int? {
        checkedByteCount(elementSize: size, shape: shape)
    }

    /// Elements as floats from little-endian bytes; nil for an integer dtype.
    public func floats(_ raw: UnsafeRawBufferPointer) -> [Float]? {
        let n = raw.count / size
        func u16(_ i: Int) -> UInt16 { UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
        switch self {
        case .F32:
            return (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
        case .F64:
            return (0..<n).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
        case .F16: return (0..<n).map { Float(Float16(bitPattern: u16($0))) }
        case .BF16: return (0..<n).map { Float(bitPattern: UInt32(u16($0)) << 16) }  // the top half of an f32
        default: return nil
        }
    }

    /// Elements as integers from little-endian bytes (BOOL as 0 or 1); nil for a float dtype.
    public func integers(_ raw: UnsafeRawBufferPointer) -> [Int64]? {
        let n = raw.count / size
        func load<T: FixedWidthInteger>(_ t: T.Type, _ i: Int) -> T { T(littleEndian: raw.loadUnaligned(fromByteOffset: i * size, as: T.self)) }
        switch self {
        case .BOOL: return (0..<n).map { raw[$0] == 0 ? 0 : 1 }
        case .U8: return (0..<n).map { Int64(raw[$0]) }
        case .I8: return (0..<n).map { Int64(load(Int8.self, $0)) }
        case .I16: return (0..<n).map { Int64(load(Int16.self, $0)) }
        case .U16: return (0..<n).map { Int64(load(UInt16.self, $0)) }
        case .I32: return (0..<n).map { Int64(load(Int32.self, $0)) }
        case .U32: return (0..<n).map { Int64(load(UInt32.self, $0)) }
        case .I64: return (0..<n).map { load(Int64.self, $0) }
        case .U64: return (0..<n).map { Int64(truncatingIfNeeded: load(UInt64.self, $0)) }
        default: return nil
        }
    }
}

/// One named tensor with its raw little-endian bytes, row-major.
public struct SafeTensor: Equatable, Sendable {
    public var name: String
    public var dtype: SafeTensorsDType
    public var shape: [Int]
    /// `dtype.size × elementCount` bytes.
    public var data: [UInt8]

    /// A tensor from raw bytes; the writer checks that their count fits dtype and shape.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], data: [UInt8]) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// An F32 tensor.
    public init(name: String, shape: [Int], floats: [Float]) {
        self.init(name: name, dtype: .F32, shape: shape, data: littleEndianBytes(floats.map(\.bitPattern)))
    }

    /// An F16 tensor, rounding each float to the nearest half.
    public init(name: String, shape: [Int], halves: [Float]) {
        self.init(name: name, dtype: .F16, shape: shape, data: littleEndianBytes(halves.map { Float16($0).bitPattern }))
    }

    /// An I64 tensor.
    public init(name: String, shape: [Int], int64s: [Int64]) {
        self.init(name: name, dtype: .I64, shape: shape, data: littleEndianBytes(int64s))
    }

    /// An I32 tensor.
    public init(name: String, shape: [Int], int32s: [Int32]) {
        self.init(name: name, dtype: .I32, shape: shape, data: littleEndianBytes(int32s))
    }

    /// A U8 tensor.
    public init(name: String, shape: [Int], bytes: [UInt8]) {
        self.init(name: name, dtype: .U8, shape: shape, data: bytes)
    }

    /// The number of elements (1 for a 0-d scalar).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The elements as floats, from F32, F16, BF16 or F64.
    public func floats() throws -> [Float] {
        guard let f = data.withUnsafeBytes({ dtype.floats($0) }) else {
            throw Failure(.dataError, "\(dtype.rawValue) is not a float dtype", tensor: name)
        }
        return f
    }

    /// The elements as integers, from BOOL, U8, I8, I16, U16, I32, U32, I64 or U64.
    public func integers() throws -> [Int64] {
        guard let i = data.withUnsafeBytes({ dtype.integers($0) }) else {
            throw Failure(.dataError, "\(dtype.rawValue) is not an integer dtype", tensor: name)
        }
        return i
    }
}

private func littleEndianBytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(values.count * MemoryLayout<T>.size)
    for v in values { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
    return out
}

/// Writes safetensors files laid out as the Python package lays them out.
public enum SafeTensorsWriter {
    /// The file as bytes.
    public static func encode(_ tensors: [SafeTensor], metadata: [String: String] = [:]) throws -> [UInt8] {
        let sink = MemorySink()
        try write(tensors, metadata: metadata, to: sink)
        return sink.bytes
    }

    /// Writes the file to a sink, tensor data straight from the tensors. A half-written sink
    /// is the caller's to discard: write to a temporary file, then rename it into place.
    public static func write(_ tensors: [SafeTensor], metadata: [String: String] = [:], to sink: ByteSink) throws {
        // Python's order: larger dtypes first, then by name, so each tensor is aligned to its size.
        let ordered = tensors.sorted {
            $0.dtype.layoutRank != $1.dtype.layoutRank ? $0.dtype.layoutRank > $1.dtype.layoutRank
                : $0.name.utf8.lexicographicallyPrecedes($1.name.utf8)
        }
        var header = JSONObject()
        if !metadata.isEmpty {
            let keys = metadata.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            header["__metadata__"] = .object(JSONObject(keys.map { ($0, JSON.string(metadata[$0] ?? "")) }))
        }
        var offset = 0
        for t in ordered {
            guard t.name != "__metadata__", header[t.name] == nil else {
                throw Failure(.software, "tensor name used twice or reserved", tensor: t.name)
            }
            guard let n = t.dtype.byteCount(shape: t.shape), n == t.data.count else {
                throw Failure(.software, "\(t.data.count) bytes do not fit \(t.dtype.rawValue) \(t.shape)", tensor: t.name)
            }
            header[t.name] = .object(JSONObject([("dtype", .string(t.dtype.rawValue)), ("shape", JSON(t.shape)),
                                                 ("data_offsets", JSON([offset, offset + n]))]))
            offset += n
        }
        var text = Array(JSON.object(header).text.utf8)
        text.append(contentsOf: repeatElement(0x20, count: (8 - text.count % 8) % 8))  // as Python pads
        guard text.count <= SafeTensorsFile.maxHeaderSize else {
            throw Failure(.software, "header of \(text.count) bytes is over the safetensors limit", file: sink.name)
        }
        try sink.write(littleEndianBytes([UInt64(text.count)]))
        try sink.write(text)
        for t in ordered { try sink.write(t.data) }
    }
}
