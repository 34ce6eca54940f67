// Telling what a file holds from its first bytes, so tb-info (and any program that
// accepts "a stream or a checkpoint or labels") needs no extension or flag.

import TBCore

public enum FileKind: Equatable {
    /// A tensor stream: a zstd frame (or a skippable frame) at byte 0.
    case stream
    /// safetensors: a little-endian u64 header size, then a JSON object.
    case safetensors
    /// Text: JSON lines or a list format of tb-labels(5).
    case text
    /// Nothing at all.
    case empty
    /// Anything else, e.g. a video file given by mistake.
    case unknown

    /// Bytes to peek at for `detect`.
    public static let peekSize = 16

    public static func detect(_ prefix: [UInt8]) -> FileKind {
        if prefix.isEmpty { return .empty }
        if prefix.count >= 4 {
            let magic = UInt32(prefix[0]) | UInt32(prefix[1]) << 8 | UInt32(prefix[2]) << 16 | UInt32(prefix[3]) << 24
            if magic == 0xFD2F_B528 || magic & 0xFFFF_FFF0 == 0x184D_2A50 { return .stream }
        }
        if prefix.count >= 9 {
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(prefix[i]) << (8 * UInt64(i)) }
            if n > 1 && n < (1 << 40) && prefix[8] == UInt8(ascii: "{") { return .safetensors }
        }
        // Text: UTF-8 without NUL or most control bytes in what we have seen.
        let controls = prefix.filter { $0 < 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }
        return controls.isEmpty ? .text : .unknown
    }
}
