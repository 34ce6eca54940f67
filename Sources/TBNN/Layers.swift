// The layers ResNets are made of: each owns its parameters and buffers under
// torchvision's names and runs its forward pass on a tape.

import TBCore
import TBTensor

/// Anything with named tensors that a checkpoint holds.
public protocol HasState: AnyObject {
    /// Parameters, in torchvision's state_dict order.
    var parameters: [Parameter] { get }
    /// Buffers (running statistics), in the same order as torchvision lists them.
    var buffers: [Buffer] { get }
}

/// A convolution without bias (ResNets follow every conv with batch norm).
/// 2D convolutions keep torchvision's [O, I, kh, kw] weight and run as T = 1 3D ones.
public final class Conv: HasState {
    public let weight: Parameter
    public let geometry: ConvGeometry
    public let is3D: Bool

    public init(name: String, in cin: Int, out cout: Int, geometry: ConvGeometry, is3D: Bool,
                generator: inout SeededGenerator) {
        let k = geometry.kernel
        let shape = is3D ? [cout, cin, k.t, k.h, k.w] : [cout, cin, k.h, k.w]
        // torchvision's ResNet init: kaiming_normal_(mode="fan_out", nonlinearity="relu").
        let fanOut = cout * geometry.kernelVolume
        weight = Parameter(name: name + ".weight",
                           value: Tensor(randomNormal: shape, std: (2 / Float(fanOut)).squareRoot(), generator: &generator))
        self.geometry = geometry
        self.is3D = is3D
    }

    public var parameters: [Parameter] { [weight] }
    public var buffers: [Buffer] { [] }

    /// [N, Cin, T, H, W] → [N, Cout, T', H', W'].
    public func callAsFunction(_ x: Variable, _ tape: Tape) -> Variable {
        var w = tape.parameter(weight)
        if !is3D {
            let s = weight.shape
            w = tape.reshape(w, [s[0], s[1], 1, s[2], s[3]])
        }
        return tape.conv3d(x, weight: w, geometry: geometry)
    }
}

/// Batch normalisation over every axis but the channel (BatchNorm2d/3d alike).
public final class BatchNorm: HasState {
    public let weight: Parameter, bias: Parameter
    public let runningMean: Buffer, runningVar: Buffer
    /// torchvision's `num_batches_tracked`, counted for checkpoints PyTorch can load strictly.
    public var batchesTracked: Int64 = 0

    public init(name: String, channels: Int) {
        weight = Parameter(name: name + ".weight", value: Tensor(shape: [channels], repeating: 1))
        bias = Parameter(name: name + ".bias", value: Tensor(zeros: [channels]))
        runningMean = Buffer(name: name + ".running_mean", value: Tensor(zeros: [channels]))
        runningVar = Buffer(name: name + ".running_var", value: Tensor(shape: [channels], repeating: 1))
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Buffer] { [runningMean, runningVar] }

    /// Batch norm of x, followed by ReLU in the same op when `relu`.
    public func callAsFunction(_ x: Variable, _ tape: Tape, relu: Bool = false) -> Variable {
        if tape.training { batchesTracked += 1 }
        return tape.batchNorm(x, gamma: tape.parameter(weight), beta: tape.parameter(bias),
                              runningMean: runningMean, runningVar: runningVar, relu: relu)
    }
}

/// y = x Wᵀ + b, as torch.nn.Linear (and its default initialisation).
public final class Linear: HasState {
    public let weight: Parameter, bias: Parameter

    public init(name: String, in cin: Int, out cout: Int, generator: inout SeededGenerator) {
        let bound = 1 / Float(cin).squareRoot()
        weight = Parameter(name: name + ".weight", value: Tensor(randomUniform: [cout, cin], bound: bound, generator: &generator))
        bias = Parameter(name: name + ".bias", value: Tensor(randomUniform: [cout], bound: bound, generator: &generator))
    }

    public var parameters: [Parameter] { [weight, bias] }
    public var buffers: [Buffer] { [] }

    /// [N, in] → [N, out].
    public func callAsFunction(_ x: Variable, _ tape: Tape) -> Variable {
        tape.linear(x, weight: tape.parameter(weight), bias: tape.parameter(bias))
    }
}
