// Reading safetensors files: every header entry checked before any tensor is used.

import TBCore

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
