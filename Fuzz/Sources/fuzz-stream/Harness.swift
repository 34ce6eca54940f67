// Tensor streams (tb-stream(5)): zstd frames, record prefixes, header JSON, padding and
// payload sizes, read sequentially (RecordReader, as every program reads stdin) and through
// an index of the mapped file (StreamIndex, as tb-mix samples at random).

import FuzzSupport
import TBCore
import TBStream

private let scratch = ScratchFile("stream")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzStream(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    // Sequentially, headers and payloads; every other record only its header.
    if let reader = try? RecordReader(source: MemorySource(bytes, name: "fuzz")) {
        var n = 0
        do {
            while n < 64, let h = try reader.nextHeader() {
                if n % 2 == 0 {
                    let payload = try reader.readPayload()
                    precondition(payload.count == h.payloadSize, "payload size differs from the header's")
                } else {
                    try reader.skipPayload()
                }
                n += 1
            }
        } catch is Failure {
    } catch {
        preconditionFailure("an error that is not a Failure: \(error)")
    }
    }
    // Through an index of the file, records read out of order.
    guard scratch.write(data, size) else { return 0 }
    defer { scratch.remove() }
    if let index = try? StreamIndex(path: scratch.path) {
        for i in (0..<min(index.count, 16)).reversed() {
            _ = try? index.header(i)
            if let r = try? index.record(i) {
                precondition(Record.byteCount(dtype: r.dtype, shape: r.shape) == r.payload.count, "record size")
                _ = r.headerJSON.text
            }
        }
    }
    return 0
}
