// TimeBalance's teachers (ALGORITHMS.md §1.1–1.3): a backbone that keeps S time steps at its
// last stage, a projection head, and three contrastive terms over tb-mix's pretraining
// samples (views long·a, long·b, short1·a, short1·b, ..., shortS·a, shortS·b):
//   instance      NT-Xent of the long clip against its second augmentation, plus NT-Xent
//                 for every pair of distinct short views (clip, augmentation), divided by 4;
//   local-local   within a video, short clip s under one augmentation against itself under
//                 the other, the video's other short clips as negatives;
//   global-local  the long clip's time step s against short clip s, and back, for each of
//                 the 2×2 augmentation combinations, summed.

import TBCore
import TBNN
import TBStream
import TBTensor

/// Weights of the instance, local-local and global-local terms.
public struct ContrastiveWeights: Equatable, Sendable {
    public var instance: Float, localLocal: Float, globalLocal: Float

    public init(instance: Float, localLocal: Float, globalLocal: Float) {
        self.instance = instance
        self.localLocal = localLocal
        self.globalLocal = globalLocal
    }

    /// The named objectives: invariant (1, 0, 0), distinctive (0, 1, 1), tclr (1, 1, 1).
    public init?(objective: String) {
        switch objective {
        case "invariant": self.init(instance: 1, localLocal: 0, globalLocal: 0)
        case "distinctive": self.init(instance: 0, localLocal: 1, globalLocal: 1)
        case "tclr": self.init(instance: 1, localLocal: 1, globalLocal: 1)
        default: return nil
        }
    }
}

/// A pretraining batch: [B, 2(1+S), T, H, W, 3] as the long views [2B, 3, T, H, W] (all
/// a-views, then all b-views) and the short views [2SB, 3, T, H, W] ordered (s, aug, video).
public struct PretrainingBatch {
    public var long: Tensor
    public var short: Tensor
    public var videos: Int
    public var shorts: Int

    public init(record: Record, place: (file: String, record: Int)) throws {
        func fail(_ m: String) -> Failure { Failure(.dataError, m, file: place.file, record: place.record) }
        guard record.kind == "sample", record.dtype == .u8, record.shape.count == 6, record.shape[5] == 3,
              record.shape.allSatisfy({ $0 > 0 }) else {
            throw fail("expected tb-mix --pretrain samples u8 [B, V, T, H, W, 3], not \(record.kind ?? "a record") "
                       + "\(record.dtype.rawValue) \(record.shape)")
        }
        let (b, v, t, h, w) = (record.shape[0], record.shape[1], record.shape[2], record.shape[3], record.shape[4])
        guard v >= 6, v % 2 == 0 else { throw fail("\(v) views: pretraining samples have 2(1 + S) views, S >= 2") }
        let s = v / 2 - 1
        let clip = t * h * w * 3
        func gather(_ order: [(video: Int, view: Int)]) -> Tensor {
            var bytes = [UInt8]()
            bytes.reserveCapacity(order.count * clip)
            for (i, k) in order {
                let o = (i * v + k) * clip
                bytes.append(contentsOf: record.payload[o..<o + clip])
            }
            return PixelNormalization.clips(bytes, n: order.count, t: t, h: h, w: w)
        }
        long = gather((0..<2).flatMap { a in (0..<b).map { ($0, a) } })
        short = gather((0..<s).flatMap { c in (0..<2).flatMap { a in (0..<b).map { ($0, 2 + 2 * c + a) } } })
        videos = b
        shorts = s
    }
}

/// The loss terms of one step, unweighted.
public struct ContrastiveParts: Sendable {
    public var instance: Double?
    public var localLocal: Double?
    public var globalLocal: Double?
    public var total: Double
}

public final class ContrastiveTrainer {
    public let model: ResNet
    public let head: ProjectionHead
    public let optimizer: any Optimizer
    public let schedule: any LearningRateSchedule
    public let weights: ContrastiveWeights
    public let temperature: Float

    public init(model: ResNet, head: ProjectionHead, optimizer: any Optimizer, schedule: any LearningRateSchedule,
                weights: ContrastiveWeights, temperature: Float = 0.1) {
        self.model = model
        self.head = head
        self.optimizer = optimizer
        self.schedule = schedule
        self.weights = weights
        self.temperature = temperature
    }

    /// The parameters trained: backbone (without its classifier) and head.
    public static func parameters(_ model: ResNet, _ head: ProjectionHead) -> [Parameter] {
        model.parameters.filter { !$0.name.hasPrefix("fc.") } + head.parameters
    }

    /// One step; `.dataError` when the backbone's last map does not have S time steps for
    /// the global-local term.
    @discardableResult
    public func step(_ batch: PretrainingBatch) throws -> ContrastiveParts {
        let (b, s) = (batch.videos, batch.shorts)
        optimizer.learningRate = schedule.rate(at: optimizer.stepCount)
        optimizer.zeroGrad()
        let tape = Tape(recording: true, training: true)
        func project(_ features: Variable) -> Variable { tape.l2Normalize(head(features, tape)) }
        let longMaps = model.featureMaps(tape.constant(batch.long), tape)        // [2B, C, T', H', W']
        let zLong = project(tape.globalAvgPool(longMaps))                      // [2B, D]
        let zShort = project(model.features(tape.constant(batch.short), tape)) // [2SB, D], rows (s, aug, video)
        var terms: [Variable] = []
        var parts = ContrastiveParts(total: 0)

        if weights.instance > 0 {
            let loss = instanceLoss(zLong: zLong, zShort: zShort, videos: b, shorts: s, tape)
            parts.instance = Double(loss.value.scalar)
            terms.append(tape.scale(loss, weights.instance))
        }
        if weights.localLocal > 0 {
            let loss = localLocalLoss(zShort: zShort, videos: b, shorts: s, tape)
            parts.localLocal = Double(loss.value.scalar)
            terms.append(tape.scale(loss, weights.localLocal))
        }
        if weights.globalLocal > 0 {
            let steps = longMaps.shape[2]
            guard steps == s else {
                // r3d halves time in 3 stages, less one per dilated stage.
                let t = batch.long.shape[2]
                let fit = (0...3).first { t >> (3 - $0) == s && t % (1 << (3 - $0)) == 0 }
                let hint = fit.map { "e.g. \(model.spec.family.rawValue)\(model.spec.depth):w\(model.spec.width)"
                    + ($0 == 0 ? "" : $0 == 1 ? ":dilated" : ":dilated\($0)") } ?? "another --len"
                throw Failure(.dataError, "the backbone's last map has \(steps) time steps for \(s) short clips: "
                              + "choose an architecture that keeps \(s) of \(t) (\(hint))")
            }
            // Step s of the long clip, pooled over space: rows (aug, s, video).
            var stepRows: [Variable] = []
            for a in 0..<2 {
                for c in 0..<s {
                    let m = tape.slice(tape.slice(longMaps, axis: 0, a * b..<(a + 1) * b), axis: 2, c..<c + 1)
                    stepRows.append(tape.globalAvgPool(m))
                }
            }
            let zStep = project(tape.concat(stepRows, axis: 0))  // [2SB, D], rows (la, c, v)
            let total = globalLocalLoss(zStep: zStep, zShort: zShort, videos: b, shorts: s, tape)
            parts.globalLocal = Double(total.value.scalar)
            terms.append(tape.scale(total, weights.globalLocal))
        }
        guard var loss = terms.first else { throw Failure(.usage, "every loss weight is 0") }
        for t in terms.dropFirst() { loss = tape.add(loss, t) }
        parts.total = Double(loss.value.scalar)
        guard parts.total.isFinite else {
            throw Failure(.software, "the loss is \(parts.total.isNaN ? "not a number" : "infinite") at step "
                          + "\(optimizer.stepCount + 1): lower the learning rate")
        }
        tape.backward(loss)
        optimizer.step()
        return parts
    }

    /// NT-Xent of the long views, plus a quarter of the NT-Xent of every pair of distinct
    /// short view slots (clip, augmentation). zLong [2B, D]; zShort [2SB, D] rows (s, aug, video).
    func instanceLoss(zLong: Variable, zShort: Variable, videos b: Int, shorts s: Int, _ tape: Tape) -> Variable {
        var loss = ntXent(zLong, videos: b, tape)
        var shortLoss: Variable?
        for p in 0..<(2 * s) {
            for q in (p + 1)..<(2 * s) {
                let pair = tape.concat([tape.slice(zShort, axis: 0, p * b..<(p + 1) * b),
                                        tape.slice(zShort, axis: 0, q * b..<(q + 1) * b)], axis: 0)
                let l = ntXent(pair, videos: b, tape)
                shortLoss = shortLoss.map { tape.add($0, l) } ?? l
            }
        }
        if let shortLoss { loss = tape.add(loss, tape.scale(shortLoss, 0.25)) }
        return loss
    }

    /// Row (c, a, v) of the short views against its positive (c, 1 − a, v), with video v's
    /// other short views as negatives; the mean over all rows.
    func localLocalLoss(zShort: Variable, videos b: Int, shorts s: Int, _ tape: Tape) -> Variable {
        let n = 2 * s * b
        var positives = [Bool](repeating: false, count: n * n), excluded = [Bool](repeating: true, count: n * n)
        for c in 0..<s { for a in 0..<2 { for v in 0..<b {
            let row = (c * 2 + a) * b + v
            for c2 in 0..<s { for a2 in 0..<2 {
                let col = (c2 * 2 + a2) * b + v
                excluded[row * n + col] = col == row
                positives[row * n + col] = c2 == c && a2 != a
            } }
        } } }
        let sim = tape.matmul(zShort, zShort, transposeB: true)
        return tape.infoNCE(sim, positives: positives, excluded: excluded, temperature: temperature)
    }

    /// Σ over the 2×2 (long, short) augmentation combinations of the two directions'
    /// cross-entropies, each averaged over its rows: the long clip's step c picks short clip c
    /// among the video's S, and short clip c picks step c. zStep [2SB, D] rows (la, c, v).
    func globalLocalLoss(zStep: Variable, zShort: Variable, videos b: Int, shorts s: Int, _ tape: Tape) -> Variable {
        let n = 2 * s * b
        let forward = tape.matmul(zStep, zShort, transposeB: true)  // rows steps, columns shorts
        let backward = tape.matmul(zShort, zStep, transposeB: true) // rows shorts, columns steps
        var loss: Variable?
        for fixed in 0..<2 {
            // steps → shorts of augmentation `fixed`; shorts → steps of long augmentation `fixed`.
            var pf = [Bool](repeating: false, count: n * n), ef = [Bool](repeating: true, count: n * n)
            var pb = [Bool](repeating: false, count: n * n), eb = [Bool](repeating: true, count: n * n)
            for la in 0..<2 { for c in 0..<s { for v in 0..<b {
                let stepRow = (la * s + c) * b + v
                for c2 in 0..<s {
                    let shortCol = (c2 * 2 + fixed) * b + v
                    ef[stepRow * n + shortCol] = false
                    pf[stepRow * n + shortCol] = c2 == c
                }
            } } }
            for c in 0..<s { for sa in 0..<2 { for v in 0..<b {
                let shortRow = (c * 2 + sa) * b + v
                for c2 in 0..<s {
                    let stepCol = (fixed * s + c2) * b + v
                    eb[shortRow * n + stepCol] = false
                    pb[shortRow * n + stepCol] = c2 == c
                }
            } } }
            // Each call averages over both values of the other augmentation: ×2 sums the 2×2 combinations.
            let l = tape.add(tape.infoNCE(forward, positives: pf, excluded: ef, temperature: temperature),
                             tape.infoNCE(backward, positives: pb, excluded: eb, temperature: temperature))
            loss = loss.map { tape.add($0, l) } ?? l
        }
        return tape.scale(loss!, 2)
    }

    /// NT-Xent over 2B views [2B, D] (rows: a-views, then b-views): each view's partner is
    /// its positive, every other view but itself a negative.
    func ntXent(_ z: Variable, videos b: Int, _ tape: Tape) -> Variable {
        let n = 2 * b
        var positives = [Bool](repeating: false, count: n * n), excluded = [Bool](repeating: false, count: n * n)
        for i in 0..<n {
            excluded[i * n + i] = true
            positives[i * n + (i + b) % n] = true
        }
        return tape.infoNCE(tape.matmul(z, z, transposeB: true), positives: positives, excluded: excluded,
                            temperature: temperature)
    }

    /// The teacher as a checkpoint: the backbone (no classifier) and the head, with the
    /// architecture and the objective in `__metadata__`.
    public func save(metadata extra: [String: String], to sink: ByteSink) throws {
        var tensors: [SafeTensor] = []
        for (name, t) in model.namedTensors + head.namedTensors where !name.hasPrefix("fc.") {
            tensors.append(SafeTensor(name: name, shape: t.shape, floats: t.data))
        }
        tensors += (model.batchNorms + [head.norm]).map(\.batchesTrackedTensor)
        var metadata = extra
        metadata["format"] = "pt"
        metadata["arch"] = model.spec.description
        try SafeTensorsWriter.write(tensors, metadata: metadata, to: sink)
    }
}
