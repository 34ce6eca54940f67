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
        var n = size
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
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

/// A safetensors file, checked whole when opened; tensor bytes stay in the file's memory
/// map (or the given array) until asked for. Problems are `.dataError`s naming the tensor.
public final class SafeTensorsFile {
    /// The largest header the Python package reads (its MAX_HEADER_SIZE).
    public static let maxHeaderSize = 100_000_000

    /// What the header says about one tensor.
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let dtype: SafeTensorsDType
        public let shape: [Int]
        /// `data_offsets`: the tensor's bytes within the data buffer.
        public let offsets: Range<Int>
    }

    /// The file's name, for messages.
    public let name: String
    /// The `__metadata__` map (empty when absent).
    public let metadata: [String: String]
    /// The tensors in the order of their bytes in the file.
    public let entries: [Entry]
    /// Where the data buffer starts in the file: 8 + header size.
    public let dataStart: Int
    private let mapped: MappedFile?
    private let array: [UInt8]
    private let index: [String: Int]

    /// Maps a file into memory and checks its header and layout.
    public convenience init(path: String) throws {
        let map = try MappedFile(path: path)
        try self.init(mapped: map, array: [], name: map.name)
    }

    /// Reads a file already in memory.
    public convenience init(bytes: [UInt8], name: String = "<memory>") throws {
        try self.init(mapped: nil, array: bytes, name: name)
    }

    private init(mapped: MappedFile?, array: [UInt8], name: String) throws {
        self.mapped = mapped
        self.array = array
        self.name = name
        let parsed = try (mapped?.bytes).map { try Self.parse($0, name: name) }
            ?? array.withUnsafeBytes { try Self.parse($0, name: name) }
        (metadata, entries, dataStart) = parsed
        var index: [String: Int] = [:]
        for (i, e) in entries.enumerated() { index[e.name] = i }
        self.index = index
    }

    /// Tensor names in file order.
    public var names: [String] { entries.map(\.name) }

    /// The entry of a tensor.
    public subscript(name: String) -> Entry? { index[name].map { entries[$0] } }

    /// Calls `body` with a tensor's bytes, without copying them; the pointer must not escape.
    public func withBytes<R>(of entry: Entry, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let range = (dataStart + entry.offsets.lowerBound)..<(dataStart + entry.offsets.upperBound)
        if let mapped { return try body(UnsafeRawBufferPointer(rebasing: mapped.bytes[range])) }
        return try array.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[range])) }
    }

    /// A copy of one tensor.
    public func tensor(_ name: String) throws -> SafeTensor {
        guard let e = self[name] else { throw Failure(.dataError, "no such tensor", file: self.name, tensor: name) }
        return SafeTensor(name: e.name, dtype: e.dtype, shape: e.shape, data: withBytes(of: e) { Array($0) })
    }

    /// Copies of every tensor, in file order.
    public func tensors() -> [SafeTensor] {
        entries.map { e in SafeTensor(name: e.name, dtype: e.dtype, shape: e.shape, data: withBytes(of: e) { Array($0) }) }
    }

    /// One tensor's elements as floats (F32, F16, BF16 or F64), read straight from the map.
    public func floats(_ name: String) throws -> [Float] {
        guard let e = self[name] else { throw Failure(.dataError, "no such tensor", file: self.name, tensor: name) }
        guard let f = withBytes(of: e, { e.dtype.floats($0) }) else {
            throw Failure(.dataError, "\(e.dtype.rawValue) is not a float dtype", file: self.name, tensor: name)
        }
        return f
    }

    /// Checks the whole layout, as the Python package does, before anything is read.
    private static func parse(_ raw: UnsafeRawBufferPointer, name: String) throws
        -> (metadata: [String: String], entries: [Entry], dataStart: Int)
    {
        func fail(_ m: String, _ tensor: String? = nil) -> Failure { Failure(.dataError, m, file: name, tensor: tensor) }
        guard raw.count >= 8 else { throw fail("\(raw.count) bytes is too short for a safetensors file") }
        let size = UInt64(littleEndian: raw.loadUnaligned(as: UInt64.self))
        guard size <= UInt64(maxHeaderSize) else { throw fail("header size \(size) is over the limit of \(maxHeaderSize) bytes") }
        guard size <= UInt64(raw.count - 8) else { throw fail("header size \(size) goes past the end of the file (\(raw.count) bytes)") }
        let dataStart = 8 + Int(size)
        let bufferSize = raw.count - dataStart
        let json: JSON
        do { json = try JSON.parse(UnsafeRawBufferPointer(rebasing: raw[8..<dataStart])) } catch let f as Failure {
            throw fail("header: " + f.message)
        }
        guard case .object(let header) = json else { throw fail("header is a JSON \(json.typeName), not an object") }
        var metadata: [String: String] = [:]
        var entries: [Entry] = []
        for (key, value) in header {
            if key == "__metadata__" {
                guard case .object(let m) = value else { throw fail("__metadata__ must map names to strings, found \(value.typeName)") }
                for (k, v) in m {
                    guard let s = v.stringValue else { throw fail("__metadata__ \"\(k)\" must be a string, found \(v.typeName)") }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let info) = value else { throw fail("entry must be an object, found \(value.typeName)", key) }
            guard let d = info["dtype"], let s = info["shape"], let o = info["data_offsets"] else {
                throw fail("entry needs \"dtype\", \"shape\" and \"data_offsets\"", key)
            }
            guard let dtypeName = d.stringValue else { throw fail("dtype \(d.text) is not a string", key) }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else { throw fail("unknown dtype \"\(dtypeName)\"", key) }
            guard let shape = exactInts(s) else { throw fail("shape \(s.text) is not an array of integers", key) }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("shape \(s.text) has a negative dimension", key) }
            guard let bytes = dtype.byteCount(shape: shape) else { throw fail("shape \(s.text) overflows the element count", key) }
            guard let offsets = exactInts(o), offsets.count == 2, offsets[0] >= 0 else {
                throw fail("data_offsets \(o.text) is not two integers >= 0", key)
            }
            guard offsets[0] <= offsets[1] else { throw fail("data_offsets \(o.text) end before they begin", key) }
            guard offsets[1] <= bufferSize else {
                throw fail("data_offsets \(o.text) go past the end of the data (\(bufferSize) bytes)", key)
            }
            guard offsets[1] - offsets[0] == bytes else {
                throw fail("data_offsets \(o.text) hold \(offsets[1] - offsets[0]) bytes, but \(dtypeName) \(s.text) "
                    + "needs \(bytes)", key)
            }
            entries.append(Entry(name: key, dtype: dtype, shape: shape, offsets: offsets[0]..<offsets[1]))
        }
        // Tensors must tile the buffer exactly: no overlaps (one write would change two tensors)
        // and no holes (the Python package refuses them, and they could hide data).
        entries.sort { ($0.offsets.lowerBound, $0.offsets.upperBound, $0.name) < ($1.offsets.lowerBound, $1.offsets.upperBound, $1.name) }
        var end = 0
        for (i, e) in entries.enumerated() {
            if e.offsets.lowerBound < end { throw fail("its bytes overlap tensor '\(entries[i - 1].name)'", e.name) }
            if e.offsets.lowerBound > end { throw fail("bytes \(end)..<\(e.offsets.lowerBound) before it belong to no tensor", e.name) }
            end = e.offsets.upperBound
        }
        guard end == bufferSize else { throw fail("the last \(bufferSize - end) bytes of the data belong to no tensor") }
        return (metadata, entries, dataStart)
    }

    /// An array of integers, each written as a JSON integer.
    private static func exactInts(_ v: JSON) -> [Int]? {
        guard let a = v.arrayValue else { return nil }
        var out: [Int] = []
        for x in a {
            guard case .int(let i) = x, let n = Int(exactly: i) else { return nil }
            out.append(n)
        }
        return out
    }
}
