// I3D inflation (ALGORITHMS.md §3): a 2D network's weights bootstrap a 3D one.
// A 2D kernel W [O, I, k, k] becomes W' [O, I, t, k, k]:
//   repeat: W'[:, :, τ] = W / t for every τ (a boring video gives the 2D activations
//           wherever the temporal window lies inside the clip);
//   centre: W'[:, :, t/2] = W and 0 elsewhere (exact everywhere).
// Batch-norm statistics and parameters and the classifier are copied.

import TBCore
import TBTensor

public enum InflationInit: String, CaseIterable, Sendable {
    case `repeat`, centre
}

/// What happened to one tensor: copied, or inflated from a 2D shape.
public struct InflationStep: Equatable, Sendable {
    public var name: String
    public var from: [Int]
    public var to: [Int]
    public var inflated: Bool { from != to }
}

public enum Inflation {
    /// [O, I, kh, kw] → [O, I, t, kh, kw]; a 2D kernel stored as [O, I, 1, kh, kw] works too.
    public static func inflateKernel(_ w: Tensor, time t: Int, init mode: InflationInit) -> Tensor {
        let o = w.shape[0], i = w.shape[1], kh = w.shape[w.rank - 2], kw = w.shape[w.rank - 1]
        let plane = kh * kw
        var out = Tensor(zeros: [o, i, t, kh, kw])
        let centre = t / 2
        let scale: Float = mode == .repeat ? 1 / Float(t) : 1
        out.data.withUnsafeMutableBufferPointer { dst in
            w.data.withUnsafeBufferPointer { src in
                for oi in 0..<(o * i) {
                    for tau in 0..<t where mode == .repeat || tau == centre {
                        let d = (oi * t + tau) * plane, s = oi * plane
                        for k in 0..<plane { dst[d + k] = src[s + k] * scale }
                    }
                }
            }
        }
        return out
    }

    /// Maps a 2D state onto the tensors a 3D model expects (`target`: name → shape).
    /// Every target tensor must come from the 2D state: with the same shape (copied) or a
    /// 4-D kernel that gains a time axis (inflated). Anything else is refused, naming
    /// the tensor and both shapes; 2D tensors the 3D model has no use for are refused too.
    public static func inflate(_ state2D: [String: Tensor], into target: [(name: String, shape: [Int])],
                               init mode: InflationInit) throws -> (tensors: [String: Tensor], steps: [InflationStep]) {
        var out: [String: Tensor] = [:]
        var steps: [InflationStep] = []
        for (name, shape) in target {
            guard let w = state2D[name] else {
                throw Failure(.dataError, "the 2D checkpoint has no tensor for the 3D model's \(shape)", tensor: name)
            }
            if w.shape == shape {
                out[name] = w
            } else if shape.count == 5, w.rank == 4 || (w.rank == 5 && w.shape[2] == 1),
                      Array(w.shape.prefix(2)) == Array(shape.prefix(2)),
                      Array(w.shape.suffix(2)) == Array(shape.suffix(2)) {
                out[name] = inflateKernel(w, time: shape[2], init: mode)
            } else if w.count == shape.reduce(1, *) {
                out[name] = w.reshaped(shape)  // e.g. a [O, I, 1, 1] kernel kept at time 1
            } else {
                throw Failure(.dataError, "2D shape \(w.shape) cannot become 3D shape \(shape)", tensor: name)
            }
            steps.append(InflationStep(name: name, from: w.shape, to: shape))
        }
        let unused = Set(state2D.keys).subtracting(target.map(\.name)).filter { !$0.hasSuffix("num_batches_tracked") }
        if let first = unused.sorted().first {
            throw Failure(.dataError, "the 3D model has no place for this 2D tensor (\(unused.count) unused)", tensor: first)
        }
        return (out, steps)
    }
}

extension ResNet {
    /// A 3D network (`spec`, e.g. i3d18:w16:3x1x1) whose weights come from a 2D state by
    /// inflation; `steps` tell which 2D tensor became which 3D tensor (tb-info shows them).
    public static func inflating(_ state2D: [String: Tensor], into spec: ArchitectureSpec, classes: Int,
                                 init mode: InflationInit) throws -> (model: ResNet, steps: [InflationStep]) {
        guard spec.is3D else { throw Failure.usage("inflation needs a 3D architecture, not \(spec)") }
        let model = ResNet(spec: spec, classes: classes)
        let target = model.namedTensors.map { (name: $0.name, shape: $0.tensor.shape) }
        let (tensors, steps) = try Inflation.inflate(state2D, into: target, init: mode)
        for p in model.parameters { if let t = tensors[p.name] { p.value = t } }
        for b in model.buffers { if let t = tensors[b.name] { b.value = t } }
        return (model, steps)
    }
}
