// Data-parallel training: each global batch is cut into contiguous slices ("shards") of
// rows, one or more per process; each shard is run forward and backward on its own, with
// each loss term weighted by the shard's share of that term's rows, so that the shards'
// losses and gradients add up to the whole batch's. The processes then sum gradients (and
// the loss, for the log) through a `Collective`, and every process takes the same step.
//
// Batch norm sees one shard at a time: its batch statistics are the shard's (as PyTorch's
// DistributedDataParallel without SyncBatchNorm). The running statistics each shard would
// leave are averaged over the shards, so every process keeps the same ones.
//
// `mpirun -np P` gives P shards; `--micro-batches M` gives M per process (P·M in all), and
// a single process with M micro-batches computes what P = M processes compute.

import TBCore
import TBNN
import TBTensor

/// How each batch is split: among the ranks of `collective` (nil: this process alone), and
/// within each rank into `microBatches` run one after the other.
public struct DataParallel {
    public var collective: (any Collective)?
    public var microBatches: Int

    public init(collective: (any Collective)?, microBatches: Int = 1) {
        precondition(microBatches >= 1, "DataParallel: \(microBatches) micro-batches")
        self.collective = collective
        self.microBatches = microBatches
    }

    /// Shards per batch, over all processes.
    public var shards: Int { (collective?.size ?? 1) * microBatches }

    /// This process's shards: rank r runs shards r·M ..< (r + 1)·M.
    public var localShards: Range<Int> {
        let rank = collective?.rank ?? 0
        return rank * microBatches..<(rank + 1) * microBatches
    }

    /// Rows of shard `shard` of `shards` in a batch of `batchSize`: contiguous, in order,
    /// sizes ⌊n/S⌋ or ⌈n/S⌉ (shard s starts at ⌊s·n/S⌋).
    public static func rows(shard: Int, of shards: Int, batchSize n: Int) -> Range<Int> {
        (shard * n / shards)..<((shard + 1) * n / shards)
    }
}

/// The fraction of the whole batch's rows of each loss term that a shard holds.
public struct LossShares: Sendable {
    public var crossEntropy: Float
    public var labeledSoft: Float
    public var unlabeledSoft: Float
    /// Of the auxiliary (web) cross-entropy.
    public var auxiliary: Float = 1

    public static let whole = LossShares(crossEntropy: 1, labeledSoft: 1, unlabeledSoft: 1)

    /// `part`'s shares of `whole`'s terms (a term `whole` lacks gets share 0).
    public init(_ part: TrainingBatch, of whole: TrainingBatch) {
        func ratio(_ a: Int, _ b: Int) -> Float { b == 0 ? 0 : Float(a) / Float(b) }
        crossEntropy = ratio(part.labeled, whole.labeled)
        labeledSoft = ratio(part.labeledSoft, whole.labeledSoft)
        unlabeledSoft = ratio(part.unlabeledSoft, whole.unlabeledSoft)
        auxiliary = ratio(part.auxiliary, whole.auxiliary)
    }

    public init(crossEntropy: Float, labeledSoft: Float, unlabeledSoft: Float) {
        self.crossEntropy = crossEntropy
        self.labeledSoft = labeledSoft
        self.unlabeledSoft = unlabeledSoft
    }
}

extension TrainingBatch {
    /// Rows `range` of the batch, still in loss order (a contiguous slice keeps it).
    public func rows(_ range: Range<Int>) -> TrainingBatch {
        precondition(range.lowerBound >= 0 && range.upperBound <= input.shape[0], "rows \(range) of \(input.shape[0])")
        func overlap(_ r: Range<Int>) -> Range<Int> { r.clamped(to: range) }
        let perRow = input.count / max(input.shape[0], 1)
        var part = self
        part.input = Tensor(shape: [range.count] + input.shape.dropFirst(),
                            data: Array(input.data[range.lowerBound * perRow..<range.upperBound * perRow]))
        let labeledRows = overlap(0..<labeled), labeledSoftRows = overlap(0..<labeledSoft)
        let unlabeledSoftRows = overlap(labeled..<labeled + unlabeledSoft)
        part.labels = labeledRows.isEmpty ? [] : Array(labels[labeledRows])
        part.labeled = labeledRows.count
        part.labeledSoft = labeledSoftRows.count
        part.unlabeledSoft = unlabeledSoftRows.count
        // Mixed label targets follow their rows; auxiliary rows are the last ones.
        func rowsOf(_ t: Tensor?, _ r: Range<Int>, from first: Int) -> Tensor? {
            guard let t, !r.isEmpty else { return nil }
            let k = t.shape[1]
            return Tensor(shape: [r.count, k], data: Array(t.data[(r.lowerBound - first) * k..<(r.upperBound - first) * k]))
        }
        part.labelTargets = rowsOf(labelTargets, labeledRows, from: 0)
        let auxFirst = input.shape[0] - auxiliary, auxRows = overlap(auxFirst..<input.shape[0])
        part.auxiliary = auxRows.count
        part.auxLabels = auxRows.isEmpty ? [] : Array(auxLabels[(auxRows.lowerBound - auxFirst)..<(auxRows.upperBound - auxFirst)])
        part.auxTargets = rowsOf(auxTargets, auxRows, from: auxFirst)
        if let soft {
            // Soft rows: the labeled ones first, then the unlabeled ones (from row `labeled`).
            let k = soft.shape[1]
            let softRows = Array(labeledSoftRows) + unlabeledSoftRows.map { labeledSoft + $0 - labeled }
            part.soft = softRows.isEmpty ? nil
                : Tensor(shape: [softRows.count, k], data: softRows.flatMap { soft.data[$0 * k..<($0 + 1) * k] })
        }
        return part
    }
}

extension Trainer {
    /// Gives every process rank 0's parameters and buffers (after --init or --resume, so
    /// that all start from the same weights whatever each read).
    public func synchronizeModel() throws {
        guard let group = parallel?.collective, group.size > 1 else { return }
        let parameters = model.parameters, buffers = model.buffers
        var values = parameters.flatMap(\.value.data) + buffers.flatMap(\.value.data)
        try group.broadcast(&values)
        var offset = 0
        for p in parameters { p.value.data = Array(values[offset..<offset + p.value.count]); offset += p.value.count }
        for b in buffers { b.value.data = Array(values[offset..<offset + b.value.count]); offset += b.value.count }
    }

    /// Tells the other ranks that this rank's input has ended: the step message they would
    /// sum with it then carries a 0, and a rank whose input goes on fails rather than waits.
    /// Call once after the last step; nothing to do without other ranks.
    public func endOfInput() throws {
        guard let group = parallel?.collective, group.size > 1 else { return }
        let learned = optimizer.parameters.filter(\.requiresGrad)
        let size = learned.reduce(0) { $0 + $1.grad.count } + model.buffers.reduce(0) { $0 + $1.value.count } + 5 + 1
        var message = [Float](repeating: 0, count: size)
        try group.sum(&message)
        guard message[size - 1] == 0 else {
            throw Failure(.dataError, "this rank's input has ended after \(optimizer.stepCount) batches, another "
                          + "rank's goes on: every rank must read the same batches "
                          + "(mpirun gives its standard input to rank 0 alone)")
        }
    }

    /// `step` for a batch split into shards; the gradients are zeroed and the rate set.
    func shardedStep(_ batch: TrainingBatch, _ parallel: DataParallel) throws -> LossParts {
        let n = batch.input.shape[0], shards = parallel.shards
        guard n >= shards else {
            throw Failure(.dataError, "a batch of \(n) samples cannot be split into \(shards) slices "
                          + "(processes × micro-batches): make batches of at least \(shards)")
        }
        let buffers = model.buffers
        let start = buffers.map(\.value)
        var bufferSums = [Float](repeating: 0, count: start.reduce(0) { $0 + $1.count })
        // Share-weighted sums of the loss parts: cross-entropy, MSE labeled, MSE unlabeled, total,
        // auxiliary cross-entropy.
        var partSums = [Float](repeating: 0, count: 5)
        for shard in parallel.localShards {
            if shard != parallel.localShards.lowerBound { for (b, v) in zip(buffers, start) { b.value = v } }
            let part = batch.rows(DataParallel.rows(shard: shard, of: shards, batchSize: n))
            let shares = LossShares(part, of: batch)
            let tape = Tape(recording: true, training: true)
            let logits = clipLogits(model, part.input, tape)
            let (loss, parts) = self.loss(logits, part, tape, shares: shares)
            if let loss { tape.backward(loss) }
            partSums[0] += Float(parts.crossEntropy ?? 0) * shares.crossEntropy
            partSums[1] += Float(parts.mseLabeled ?? 0) * shares.labeledSoft
            partSums[2] += Float(parts.mseUnlabeled ?? 0) * shares.unlabeledSoft
            partSums[3] += Float(parts.total)
            partSums[4] += Float(parts.crossEntropyAux ?? 0) * shares.auxiliary
            var offset = 0
            for b in buffers {
                for (i, v) in b.value.data.enumerated() { bufferSums[offset + i] += v }
                offset += b.value.count
            }
        }
        // One message per step: gradients, running statistics, loss parts, and a 1 that
        // says this rank has a batch (see `endOfInput`).
        let learned = optimizer.parameters.filter(\.requiresGrad)
        var message = learned.flatMap(\.grad.data) + bufferSums + partSums + [1]
        if let group = parallel.collective {
            try group.sum(&message)
            guard message.removeLast() == Float(group.size) else {
                throw Failure(.dataError, "another rank's input has ended, this one's goes on: every rank must read "
                              + "the same batches (mpirun gives its standard input to rank 0 alone)")
            }
        }
        var offset = 0
        for p in learned { p.grad.data = Array(message[offset..<offset + p.grad.count]); offset += p.grad.count }
        for b in buffers {
            b.value.data = message[offset..<offset + b.value.count].map { $0 / Float(shards) }
            offset += b.value.count
        }
        let sums = message[offset...].map(Double.init)
        let parts = LossParts(crossEntropy: batch.labeled > 0 ? sums[0] : nil,
                              crossEntropyAux: batch.auxiliary > 0 ? sums[4] : nil,
                              mseLabeled: batch.labeledSoft > 0 ? sums[1] : nil,
                              mseUnlabeled: batch.unlabeledSoft > 0 ? sums[2] : nil, total: sums[3])
        try requireFinite(parts.total)
        if let maxGradientNorm { _ = clipGradientNorm(optimizer.parameters, maxNorm: maxGradientNorm) }
        optimizer.step()
        return parts
    }
}
