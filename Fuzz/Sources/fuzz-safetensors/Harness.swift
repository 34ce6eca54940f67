// safetensors checkpoints: header size, header JSON, dtypes, shapes and data offsets, then
// every tensor read as bytes, floats or integers as the programs read them.

import TBCore
import TBStream

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard let file = try? SafeTensorsFile(bytes: bytes, name: "fuzz") else { return 0 }
    for e in file.entries {
        guard let t = try? file.tensor(e.name) else { preconditionFailure("listed tensor is missing") }
        precondition(t.data.count == e.dtype.byteCount(shape: e.shape), "tensor bytes differ from its shape")
        _ = try? file.floats(e.name)
        _ = try? t.integers()
    }
    _ = file.metadata.count
    // What we read, we write back the same.
    if let again = try? SafeTensorsWriter.encode(file.tensors(), metadata: file.metadata) {
        let reread = try? SafeTensorsFile(bytes: again, name: "again")
        // The writer lays tensors out in its own order (larger dtypes first), so compare by name.
        let byName = { (ts: [SafeTensor]) in ts.sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) } }
        precondition(reread.map { byName($0.tensors()) } == byName(file.tensors()), "tensors differ after writing them back")
        precondition(reread?.metadata == file.metadata, "metadata differs after writing it back")
    }
    return 0
}
