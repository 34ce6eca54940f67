// Learnable tensors and the buffers that travel with them in checkpoints.

import TBTensor

/// A learnable tensor with its gradient, named as in torchvision (`layer1.0.conv1.weight`).
/// A reference type: the model, the tape and the optimizer all see the same values.
public final class Parameter {
    public let name: String
    public var value: Tensor
    /// Accumulated by the tape's backward pass; zeroed by the optimizer's `zeroGrad`.
    public var grad: Tensor
    /// Whether weight decay applies (PyTorch applies it to every parameter by default).
    public var decays = true
    /// Frozen parameters get no gradient and are not updated.
    public var requiresGrad = true

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
        grad = Tensor(zeros: value.shape)
    }

    public var shape: [Int] { value.shape }
}

/// A tensor saved with the model but not learned, e.g. batch norm's `running_mean`.
public final class Buffer {
    public let name: String
    public var value: Tensor

    public init(name: String, value: Tensor) {
        self.name = name
        self.value = value
    }
}
