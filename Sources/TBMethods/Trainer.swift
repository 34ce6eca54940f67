// The supervised and semi-supervised training step (ALGORITHMS.md §1.5):
//   L = CE(student(x_l), y_l) + λ_l · MSE(softmax(student(x_l)), ỹ_l) + λ_u · MSE(softmax(student(x_u)), ỹ_u)
// and inference by averaging softmax over a video's clips. 2D networks see every frame of
// a clip as an image and average their logits (TSN's consensus).

import TBCore
import TBNN
import TBTensor

/// Weights of the loss terms.
public struct LossWeights: Sendable {
    public var labeledSoft: Float
    public var unlabeledSoft: Float
    public var labelSmoothing: Float

    /// TimeBalance's released values: λ_l = 50, λ_u = 100.
    public init(labeledSoft: Float = 50, unlabeledSoft: Float = 100, labelSmoothing: Float = 0) {
        self.labeledSoft = labeledSoft
        self.unlabeledSoft = unlabeledSoft
        self.labelSmoothing = labelSmoothing
    }
}

/// The parts of one step's loss, unweighted, and the weighted total.
public struct LossParts: Sendable {
    public var crossEntropy: Double?
    /// Cross-entropy of the auxiliary (web) samples, summed into the total with weight 1.
    public var crossEntropyAux: Double?
    public var mseLabeled: Double?
    public var mseUnlabeled: Double?
    public var total: Double
}

/// Pooled features [N, D] of clips [N, 3, T, H, W]: a 3D network's, or for a 2D network the
/// mean of its frames' features (so its logits are the mean of its frames' logits, TSN's
/// consensus, the classifier being linear).
public func clipFeatures(_ model: ResNet, _ input: Tensor, _ tape: Tape) -> Variable {
    guard !model.spec.is3D else { return model.features(tape.constant(input), tape) }
    let s = input.shape
    let (n, t, h, w) = (s[0], s[2], s[3], s[4])
    if t == 1 { return model.features(tape.constant(input.reshaped([n, 3, h, w])), tape) }
    // [N, 3, T, H, W] → [N·T, 3, H, W], then the mean of each clip's T rows.
    var frames = [Float](repeating: 0, count: input.count)
    let plane = h * w
    input.data.withUnsafeBufferPointer { x in
        frames.withUnsafeMutableBufferPointer { y in
            for i in 0..<n { for c in 0..<3 { for f in 0..<t {
                let from = ((i * 3 + c) * t + f) * plane, to = (((i * t + f) * 3) + c) * plane
                for p in 0..<plane { y[to + p] = x[from + p] }
            } } }
        }
    }
    let perFrame = model.features(tape.constant(Tensor(shape: [n * t, 3, h, w], data: frames)), tape)
    var average = [Float](repeating: 0, count: n * n * t)
    for i in 0..<n { for f in 0..<t { average[i * n * t + i * t + f] = 1 / Float(t) } }
    return tape.matmul(tape.constant(Tensor(shape: [n, n * t], data: average)), perFrame)
}

/// Logits [N, classes] of clips [N, 3, T, H, W], for 3D and 2D networks alike.
public func clipLogits(_ model: ResNet, _ input: Tensor, _ tape: Tape) -> Variable {
    model.fc(clipFeatures(model, input, tape), tape)
}

public final class Trainer {
    public let model: ResNet
    public let optimizer: any Optimizer
    public let schedule: any LearningRateSchedule
    public var weights: LossWeights
    /// Clip the gradient norm to this before each update (nil: no clipping).
    public var maxGradientNorm: Float?
    /// Splits each batch among processes and micro-batches (see DataParallel); nil: one piece.
    public var parallel: DataParallel?

    public init(model: ResNet, optimizer: any Optimizer, schedule: any LearningRateSchedule,
                weights: LossWeights = LossWeights(), maxGradientNorm: Float? = nil) {
        self.model = model
        self.optimizer = optimizer
        self.schedule = schedule
        self.weights = weights
        self.maxGradientNorm = maxGradientNorm
    }

    /// One optimisation step on a batch; returns the loss parts. A batch with nothing to
    /// learn from (no label, no soft target) is refused with `.dataError`.
    @discardableResult
    public func step(_ batch: TrainingBatch) throws -> LossParts {
        guard batch.labeled > 0 || batch.unlabeledSoft > 0 || batch.auxiliary > 0 else {
            throw Failure(.dataError, "a batch with neither labels nor soft targets: nothing to learn from")
        }
        optimizer.learningRate = schedule.rate(at: optimizer.stepCount)
        optimizer.zeroGrad()
        if let parallel, parallel.shards > 1 { return try shardedStep(batch, parallel) }
        let tape = Tape(recording: true, training: true)
        let logits = clipLogits(model, batch.input, tape)
        let (terms, parts) = loss(logits, batch, tape)
        guard let loss = terms else { throw Failure(.software, "a batch without loss terms") }
        try requireFinite(parts.total)
        tape.backward(loss)
        if let maxGradientNorm { _ = clipGradientNorm(optimizer.parameters, maxNorm: maxGradientNorm) }
        optimizer.step()
        return parts
    }
}

extension Trainer {
    /// The loss of `batch` from its `logits`, each term weighted by its share (the fraction
    /// of the whole batch's rows of that term that `batch` holds, 1 for a whole batch), so
    /// that the losses of a batch's slices add up to the whole batch's loss. Nil when the
    /// batch has no row with a target. The parts are the batch's own, unweighted.
    func loss(_ logits: Variable, _ batch: TrainingBatch, _ tape: Tape, shares: LossShares = .whole)
        -> (Variable?, LossParts) {
        func weighted(_ v: Variable, _ w: Float) -> Variable { w == 1 ? v : tape.scale(v, w) }
        var terms: [Variable] = []
        var parts = LossParts(total: 0)
        func crossEntropy(_ rows: Range<Int>, labels: [Int], mixed: Tensor?) -> Variable {
            let x = tape.slice(logits, axis: 0, rows)
            guard var t = mixed else { return tape.crossEntropy(x, labels: labels, labelSmoothing: weights.labelSmoothing) }
            if weights.labelSmoothing > 0 {  // the same smoothing as the hard-label loss
                let e = weights.labelSmoothing, k = Float(t.shape[1])
                t = Tensor(shape: t.shape, data: t.data.map { (1 - e) * $0 + e / k })
            }
            return tape.softCrossEntropy(x, targets: t)
        }
        if batch.labeled > 0 {
            let ce = crossEntropy(0..<batch.labeled, labels: batch.labels, mixed: batch.labelTargets)
            parts.crossEntropy = Double(ce.value.scalar)
            terms.append(weighted(ce, shares.crossEntropy))
        }
        if batch.auxiliary > 0 {
            let first = batch.input.shape[0] - batch.auxiliary
            let ce = crossEntropy(first..<batch.input.shape[0], labels: batch.auxLabels, mixed: batch.auxTargets)
            parts.crossEntropyAux = Double(ce.value.scalar)
            terms.append(weighted(ce, shares.auxiliary))
        }
        if let soft = batch.soft {
            let k = soft.shape[1]
            if batch.labeledSoft > 0 {
                let t = Tensor(shape: [batch.labeledSoft, k], data: Array(soft.data[0..<batch.labeledSoft * k]))
                let m = tape.mseSoftmax(tape.slice(logits, axis: 0, 0..<batch.labeledSoft), targets: t)
                parts.mseLabeled = Double(m.value.scalar)
                terms.append(tape.scale(m, weights.labeledSoft * shares.labeledSoft))
            }
            if batch.unlabeledSoft > 0 {
                let t = Tensor(shape: [batch.unlabeledSoft, k], data: Array(soft.data[(batch.labeledSoft * k)..<soft.data.count]))
                let rows = batch.labeled..<batch.labeled + batch.unlabeledSoft
                let m = tape.mseSoftmax(tape.slice(logits, axis: 0, rows), targets: t)
                parts.mseUnlabeled = Double(m.value.scalar)
                terms.append(tape.scale(m, weights.unlabeledSoft * shares.unlabeledSoft))
            }
        }
        guard var loss = terms.first else { return (nil, parts) }
        for t in terms.dropFirst() { loss = tape.add(loss, t) }
        parts.total = Double(loss.value.scalar)
        return (loss, parts)
    }

    func requireFinite(_ total: Double) throws {
        guard total.isFinite else {
            throw Failure(.software, "the loss is \(total.isNaN ? "not a number" : "infinite") at step "
                          + "\(optimizer.stepCount + 1): lower the learning rate")
        }
    }
}

/// Class probabilities of a video: the mean of softmax over its clips [K, 3, T, H, W].
public func videoProbabilities(_ model: ResNet, clips: Tensor) -> [Float] {
    score(model, clips: clips).probabilities
}

/// The optimizer a program's `--optimizer adam|adamw|sgd` names.
public func makeOptimizer(_ name: String, parameters: [Parameter], learningRate: Float, momentum: Double = 0.9,
                          weightDecay: Double) throws -> any Optimizer {
    switch name {
    case "sgd": return try SGD(parameters: parameters, learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
    case "adamw": return try Adam.adamW(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
    case "adam": return try Adam(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
    default: throw Failure(.usage, "--optimizer must be adam, adamw or sgd, not \(name)")
    }
}

/// Linear warm-up from 0 over `warmup` steps, then the rate held, decayed to 0 along a
/// cosine over `cosineSteps`, or multiplied by `gamma` at each of `milestones` (steps after
/// the warm-up; PyTorch's MultiStepLR).
public func makeSchedule(rate: Float, warmup: Int, cosineSteps: Int?, milestones: [Int] = [],
                         gamma: Double = 0.1) throws -> any LearningRateSchedule {
    if cosineSteps != nil && !milestones.isEmpty {
        throw Failure(.usage, "a cosine schedule and step milestones contradict each other")
    }
    let after: any LearningRateSchedule
    if let cosineSteps {
        after = try CosineSchedule(base: rate, steps: cosineSteps)
    } else if !milestones.isEmpty {
        after = StepDecaySchedule(base: rate, gamma: gamma, milestones: milestones)
    } else {
        after = ConstantSchedule(rate)
    }
    return try WarmupSchedule(steps: warmup, then: after)
}

/// Refuses to save weights that are no longer numbers (a learning rate that blew up):
/// the checkpoint on disk stays the last good one.
public func checkFinite(_ parameters: [Parameter], step: Int) throws {
    for p in parameters where !p.value.data.allSatisfy(\.isFinite) {
        throw Failure(.software, "weight \(p.name) is no longer a number after step \(step): lower the learning rate "
                      + "(the last good checkpoint is kept)")
    }
}
