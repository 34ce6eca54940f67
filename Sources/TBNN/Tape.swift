// A small reverse-mode tape over coarse ops (DESIGN.md §4), in the style of micrograd and
// llm.c: every op computes its forward value at once and, when the tape records, appends
// one closure that maps the output's gradient to its inputs' gradients. `backward` runs
// those closures newest first. Ops live in the Ops*.swift and Loss*.swift files, each op's
// forward next to its backward.
//
// Memory: the tape keeps what backward needs (the closures and the tensors they capture)
// until `backward` runs, then drops it all. A non-recording tape keeps nothing, so
// inference holds only the activations in flight. Gradients of intermediate values are
// released as soon as they have been passed on (as PyTorch does for non-leaf tensors):
// after backward, `grad` is set on leaves (`variable`, `parameter`) and on the loss.

import TBTensor

/// A value on a tape, with the gradient that `Tape.backward` leaves on leaves and the loss.
public final class Variable {
    /// The forward value; ops never change it.
    public let value: Tensor
    /// d(loss)/d(value) after `backward` (nil when no path leads from this value to the loss).
    public internal(set) var grad: Tensor?
    /// False for constants, frozen parameters and values computed only from those:
    /// ops skip the gradients nobody asked for (e.g. a clip's dX at the first conv).
    public let requiresGrad: Bool
    /// Made by `constant`, `variable` or `parameter` rather than by an op.
    let isLeaf: Bool

    init(_ value: Tensor, requiresGrad: Bool, isLeaf: Bool) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.isLeaf = isLeaf
    }

    public var shape: [Int] { value.shape }

    /// grad += g; the first contribution is moved in without a copy.
    func accumulate(_ g: Tensor) {
        precondition(g.count == value.count, "gradient \(g.shape) for value \(value.shape)")
        if grad == nil { grad = g.shape == value.shape ? g : g.reshaped(value.shape) } else { grad?.add(g) }
    }

    /// Runs `body` on this variable's gradient buffer (zeros if there was none), for ops
    /// whose backward adds into the gradient directly (GEMMs with beta 1, scatter loops).
    func accumulate(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
        if grad == nil { grad = Tensor(zeros: value.shape) }
        grad?.data.withUnsafeMutableBufferPointer { body($0) }
    }
}

/// Records ops for one forward pass and runs their backward rules in reverse.
public final class Tape {
    /// One recorded op: the value it made and how that value's gradient reaches its inputs.
    private struct Node {
        let output: Variable
        let backward: (_ gradOutput: Tensor) -> Void
    }

    /// Whether ops append backward closures (false for inference).
    public let recording: Bool
    /// Mode for batch norm (batch statistics, running-stat updates) and dropout (active);
    /// each of those ops also takes a per-call override.
    public var training: Bool
    private var nodes: [Node] = []
    private var parameters: [(variable: Variable, parameter: Parameter)] = []

    /// A tape; `training` defaults to `recording` (train while recording, evaluate otherwise).
    public init(recording: Bool = true, training: Bool? = nil) {
        self.recording = recording
        self.training = training ?? recording
    }

    /// A value that gets no gradient (inputs, targets, masks).
    public func constant(_ t: Tensor) -> Variable {
        Variable(t, requiresGrad: false, isLeaf: true)
    }

    /// A leaf whose gradient `backward` leaves in its `grad` (gradient checks, input saliency).
    public func variable(_ t: Tensor) -> Variable {
        Variable(t, requiresGrad: recording, isLeaf: true)
    }

    /// The parameter's current value; `backward` adds this tape's gradient into `p.grad`
    /// (accumulating across tapes, as PyTorch), unless `p.requiresGrad` is false.
    public func parameter(_ p: Parameter) -> Variable {
        let v = Variable(p.value, requiresGrad: recording && p.requiresGrad, isLeaf: true)
        if v.requiresGrad { parameters.append((v, p)) }
        return v
    }

    /// Number of recorded ops waiting for backward (0 on a non-recording tape).
    public var recordedCount: Int { nodes.count }

    /// Backpropagates from a one-element loss seeded with 1, then frees what was recorded.
    public func backward(_ loss: Variable) {
        precondition(loss.value.count == 1, "backward: loss of shape \(loss.shape) is not a scalar")
        backward(loss, seed: Tensor(shape: loss.shape, repeating: 1))
    }

    /// Backpropagates `seed` = d(objective)/d(output) from a value of any shape, i.e. computes
    /// the gradient of Σ seed ⊙ output (gradient checks use random seeds).
    public func backward(_ output: Variable, seed: Tensor) {
        precondition(seed.count == output.value.count, "backward: seed \(seed.shape) for \(output.shape)")
        if output.requiresGrad { output.accumulate(seed) }
        for node in nodes.reversed() {
            guard let g = node.output.grad else { continue }
            node.backward(g)
            if node.output !== output && !node.output.isLeaf { node.output.grad = nil }
        }
        nodes.removeAll()
        for (v, p) in parameters {
            if let g = v.grad { p.grad.add(g) }
        }
        parameters.removeAll()
    }

    /// The output of an op: `backward` is kept only when the tape records and some input
    /// wants a gradient. It gets dY (shape of `value`) and accumulates into the inputs.
    func result(_ value: Tensor, inputs: [Variable],
                backward: @escaping (_ gradOutput: Tensor) -> Void) -> Variable {
        let needsGrad = recording && inputs.contains { $0.requiresGrad }
        let out = Variable(value, requiresGrad: needsGrad, isLeaf: false)
        if needsGrad { nodes.append(Node(output: out, backward: backward)) }
        return out
    }
}
