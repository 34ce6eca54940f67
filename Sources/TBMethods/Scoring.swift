// Inference for tb-score: per video, each model's class probabilities (softmax averaged over
// the video's clips) and clip features; TimeBalance's temporal similarity score and teacher
// reweighting (ALGORITHMS.md §1.4).

import TBCore
import TBNN
import TBTensor

/// One model's view of one video.
public struct ModelScore: Sendable {
    /// Mean over clips of softmax(logits), [classes].
    public var probabilities: [Float]
    /// Pooled backbone features of each clip, [K][D].
    public var features: [[Float]]
}

/// Probabilities and features of `clips` [K, 3, T, H, W] under `model` (eval mode).
public func score(_ model: ResNet, clips: Tensor) -> ModelScore {
    let tape = Tape(recording: false, training: false)
    let k = clips.shape[0]
    let features: Variable
    if model.spec.is3D {
        features = model.features(tape.constant(clips), tape)
    } else {
        // A 2D network's clip feature is the mean of its frames' features.
        let s = clips.shape
        let (t, h, w) = (s[2], s[3], s[4])
        var frames = [Float](repeating: 0, count: clips.count)
        let plane = h * w
        clips.data.withUnsafeBufferPointer { x in
            for i in 0..<k { for c in 0..<3 { for f in 0..<t {
                let from = ((i * 3 + c) * t + f) * plane, to = ((i * t + f) * 3 + c) * plane
                for p in 0..<plane { frames[to + p] = x[from + p] }
            } } }
        }
        let perFrame = model.features(tape.constant(Tensor(shape: [k * t, 3, h, w], data: frames)), tape)
        var average = [Float](repeating: 0, count: k * k * t)
        for i in 0..<k { for f in 0..<t { average[i * k * t + i * t + f] = 1 / Float(t) } }
        features = tape.matmul(tape.constant(Tensor(shape: [k, k * t], data: average)), perFrame)
    }
    let probs = tape.softmax(model.fc(features, tape)).value
    let c = probs.shape[1], d = features.shape[1]
    let mean = (0..<c).map { j in (0..<k).reduce(Float(0)) { $0 + probs.data[$1 * c + j] } / Float(k) }
    let rows = (0..<k).map { Array(features.value.data[$0 * d..<($0 + 1) * d]) }
    return ModelScore(probabilities: mean, features: rows)
}

public enum TimeBalance {
    /// Temporal similarity score: the mean off-diagonal cosine similarity of the clips'
    /// features (K ≥ 2). Features after ReLU are non-negative, so it lies in [0, 1].
    public static func temporalSimilarity(_ features: [[Float]]) -> Double {
        precondition(features.count >= 2, "temporalSimilarity: needs at least two clips")
        let unit = features.map { f -> [Double] in
            let n = f.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            return f.map { n > 0 ? Double($0) / n : 0 }
        }
        var sum = 0.0
        for i in unit.indices { for j in unit.indices where i != j {
            sum += zip(unit[i], unit[j]).reduce(0.0) { $0 + $1.0 * $1.1 }
        } }
        return sum / Double(unit.count * (unit.count - 1))
    }

    /// Min-max rescaling of scores to [0, 1] over a set; all equal scores become 0.5.
    public static func rescale(_ scores: [Double]) -> [Double] {
        guard let lo = scores.min(), let hi = scores.max(), hi > lo else { return scores.map { _ in 0.5 } }
        return scores.map { ($0 - lo) / (hi - lo) }
    }

    /// ỹ = s · p_inv + (1 − s) · p_dis.
    public static func mix(invariant: [Float], distinctive: [Float], s: Double) -> [Float] {
        zip(invariant, distinctive).map { Float(s * Double($0) + (1 - s) * Double($1)) }
    }
}
