// How kernels make their result tensors: storage left uninitialised and written once through
// a pointer, instead of zero-filled first and then overwritten.

extension Tensor {
    /// A tensor of `shape` whose values `body` writes, all of them, through a pointer.
    static func filled(_ shape: [Int], _ body: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let count = shape.reduce(1, *)
        let data = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { body(base) }
            initialized = count
        }
        return Tensor(shape: shape, data: data)
    }
}
