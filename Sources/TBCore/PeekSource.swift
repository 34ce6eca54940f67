// Looking at the first bytes of an input (to tell a stream from a checkpoint from a
// label file) without losing them, which matters for stdin where nothing can be re-read.

/// A source that serves `prefix` first, then the rest of `base`; counts bytes served.
public final class PeekSource: ByteSource {
    public let base: ByteSource
    public var name: String { base.name }
    /// The first bytes of the input (up to the amount asked for; fewer at a short input).
    public let prefix: [UInt8]
    private var prefixUsed = 0
    /// Bytes handed out so far.
    public private(set) var bytesRead = 0

    /// Reads up to `count` bytes from `base` to peek at.
    public init(_ base: ByteSource, peek count: Int) throws {
        self.base = base
        var buffer = [UInt8](repeating: 0, count: count)
        var have = 0
        while have < count {
            let n = try buffer.withUnsafeMutableBytes {
                try base.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[have...]))
            }
            if n == 0 { break }
            have += n
        }
        prefix = Array(buffer[0..<have])
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if prefixUsed < prefix.count {
            let n = min(buffer.count, prefix.count - prefixUsed)
            prefix.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + prefixUsed, byteCount: n) }
            prefixUsed += n
            bytesRead += n
            return n
        }
        let n = try base.read(into: buffer)
        bytesRead += n
        return n
    }
}
