// The contrastive projection head g of ALGORITHMS.md §1.1: linear → BN → ReLU → linear
// to 128, named as a PyTorch nn.Sequential ("head.0", "head.1", "head.3").

import TBCore
import TBTensor

public final class ProjectionHead: HasState {
    public let first: Linear, norm: BatchNorm, second: Linear

    public init(in features: Int, hidden: Int? = nil, out: Int = 128, seed: UInt64 = 1) {
        var g = SeededGenerator(seed: seed)
        first = Linear(name: "head.0", in: features, out: hidden ?? features, generator: &g)
        norm = BatchNorm(name: "head.1", channels: hidden ?? features)
        second = Linear(name: "head.3", in: hidden ?? features, out: out, generator: &g)
    }

    public var parameters: [Parameter] { first.parameters + norm.parameters + second.parameters }
    public var buffers: [Buffer] { norm.buffers }

    /// Features [N, C] → projections [N, out] (not normalised: the loss normalises).
    public func callAsFunction(_ x: Variable, _ tape: Tape) -> Variable {
        second(tape.relu(norm(first(x, tape), tape)), tape)
    }
}
