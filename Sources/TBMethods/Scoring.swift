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
    let features = clipFeatures(model, clips, tape)
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

    /// Each score's rank among `scores` as a fraction in [0, 1] (ties share their mean rank;
    /// one score, or all equal: 0.5). Unlike min-max, one outlying video cannot push every
    /// other one to an end of the range.
    public static func rankRescale(_ scores: [Double]) -> [Double] {
        guard scores.count > 1 else { return scores.map { _ in 0.5 } }
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var out = [Double](repeating: 0, count: scores.count)
        var i = 0
        while i < order.count {
            var j = i
            while j + 1 < order.count && scores[order[j + 1]] == scores[order[i]] { j += 1 }
            let rank = Double(i + j) / 2 / Double(scores.count - 1)
            for k in i...j { out[order[k]] = rank }
            i = j + 1
        }
        return out
    }

    /// ỹ = s · p_inv + (1 − s) · p_dis.
    public static func mix(invariant: [Float], distinctive: [Float], s: Double) -> [Float] {
        zip(invariant, distinctive).map { Float(s * Double($0) + (1 - s) * Double($1)) }
    }
}
