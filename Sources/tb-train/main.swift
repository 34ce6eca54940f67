// tb-train: supervised training, fine-tuning and the TimeBalance student, from tb-mix's batches.

import ArgumentParser
import Foundation
import TBCLI
import TBCore
import TBDistributed
import TBMethods
import TBNN
import TBStream
import TBTensor

struct Train: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tb-train",
            abstract: "Train a network on batches from tb-mix: supervised, fine-tuning, or the TimeBalance student.",
            discussion: "Reads standard input when no stream or '-' is named. See tb-train(1).",
            version: "tb-train " + versionString(extra: [StreamWriter.zstdVersion]))
    }

    @Argument(help: ArgumentHelp("Sample streams from tb-mix ('-' for standard input).", valueName: "stream"))
    var streams: [String] = []

    @Option(help: ArgumentHelp("Architecture, e.g. r3d10:w8, r3d18:w16, r2d10:w8 (see tb(7)).", valueName: "spec"))
    var arch: String?

    @Option(help: ArgumentHelp("Number of classes.", valueName: "n"))
    var classes: Int?

    @Option(help: ArgumentHelp("Class names, one a line (classes.txt); gives the number too.", valueName: "file"))
    var classNames: String?

    @Option(name: .customLong("init"), help: ArgumentHelp("Start from this checkpoint's tensors where names and shapes fit.",
                                                           valueName: "ckpt"))
    var initFrom: String?

    @Option(help: ArgumentHelp("With --init, inflate its 2D network into a 3D one (I3D): 3x1x1 or 3x3x3.",
                               valueName: "style"))
    var inflate: String?

    @Option(help: ArgumentHelp("How --inflate fills the time axis: repeat (W/t on every slice) or centre.",
                               valueName: "mode"))
    var inflateInit = "repeat"

    @Flag(help: "Write the initialised (or inflated) model and stop, without reading batches.")
    var initOnly = false

    @Option(help: ArgumentHelp("Continue the run saved in this checkpoint (and its .optim file).", valueName: "ckpt"))
    var resume: String?

    @Option(help: ArgumentHelp("adam, adamw or sgd.", valueName: "name"))
    var optimizer = "adam"

    @Option(help: ArgumentHelp("Learning rate.", valueName: "rate"))
    var lr: Float = 1e-3

    @Option(help: ArgumentHelp("SGD momentum.", valueName: "m"))
    var momentum: Double = 0.9

    @Option(help: ArgumentHelp("Weight decay.", valueName: "w"))
    var weightDecay: Double = 0

    @Option(help: ArgumentHelp("Linear warm-up steps from 0.", valueName: "n"))
    var warmup = 0

    @Option(help: ArgumentHelp("Cosine decay to 0 over this many steps after warm-up (default: constant rate).",
                               valueName: "n"))
    var cosineSteps: Int?

    @Option(help: ArgumentHelp("Multiply the rate by --gamma at these steps after warm-up, e.g. 300,600.",
                               valueName: "n,n,..."))
    var milestones: String?

    @Option(help: ArgumentHelp("The factor of --milestones.", valueName: "γ"))
    var gamma: Double = 0.1

    @Option(help: ArgumentHelp("Weight of MSE(softmax, soft target) on labeled samples (λ_l).", valueName: "λ"))
    var lambdaLabeled: Float = 50

    @Option(help: ArgumentHelp("Weight of MSE(softmax, soft target) on unlabeled samples (λ_u).", valueName: "λ"))
    var lambdaUnlabeled: Float = 100

    @Option(help: ArgumentHelp("Label smoothing of the cross-entropy.", valueName: "ε"))
    var labelSmoothing: Float = 0

    @Option(help: ArgumentHelp("Clip the gradient norm to this.", valueName: "norm"))
    var clipGrad: Float?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the checkpoint here (atomically), not stdout.",
                                                                       valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Also save the checkpoint (and optimizer state) every n steps; needs -o.",
                               valueName: "n"))
    var checkpointEvery: Int?

    @Option(help: ArgumentHelp("Clip stream to evaluate after every epoch.", valueName: "stream"))
    var val: String?

    @Option(help: ArgumentHelp("Keep the checkpoint with the best --val accuracy here.", valueName: "file"))
    var best: String?

    @Option(help: ArgumentHelp("Centre crop of --val clips, as a fraction of the shorter side.", valueName: "f"))
    var crop: Double = 1

    @Option(help: ArgumentHelp("Split each batch into n slices, run one after another (batch norm per slice).",
                               valueName: "n"))
    var microBatches = 1

    @Flag(help: "Run as a rank of an MPI job even if the environment does not show mpirun.")
    var distributed = false

    @OptionGroup var common: CommonOptions

    func milestoneSteps() throws -> [Int] {
        guard let milestones else { return [] }
        let steps = milestones.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !steps.isEmpty, steps.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw ValidationError("--milestones must be steps of at least 1, separated by commas, not \(milestones)")
        }
        return steps.map { $0! }
    }

    func validate() throws {
        if arch == nil && resume == nil && inflate == nil {
            throw ValidationError("give --arch (or --resume a checkpoint, or --inflate one)")
        }
        if let c = classes, c < 1 { throw ValidationError("--classes must be at least 1") }
        if classes == nil && classNames == nil && resume == nil && inflate == nil {
            throw ValidationError("give --classes or --class-names")
        }
        if let inflate {
            guard ArchitectureSpec.InflationStyle(rawValue: inflate) != nil else {
                throw ValidationError("--inflate must be 3x1x1 or 3x3x3")
            }
            guard initFrom != nil else { throw ValidationError("--inflate needs --init, the 2D checkpoint") }
        }
        guard InflationInit(rawValue: inflateInit) != nil else { throw ValidationError("--inflate-init must be repeat or centre") }
        if initOnly && initFrom == nil { throw ValidationError("--init-only needs --init") }
        if initOnly && (checkpointEvery != nil || val != nil) {
            throw ValidationError("--init-only reads no batches: --checkpoint-every and --val do not apply")
        }
        if !["adam", "adamw", "sgd"].contains(optimizer) { throw ValidationError("--optimizer must be adam, adamw or sgd") }
        if !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be positive") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative") }
        if let c = cosineSteps, c < 1 { throw ValidationError("--cosine-steps must be at least 1") }
        let steps = try milestoneSteps()
        if cosineSteps != nil && !steps.isEmpty { throw ValidationError("--cosine-steps and --milestones contradict each other") }
        if !(gamma > 0 && gamma.isFinite) { throw ValidationError("--gamma must be positive") }
        if lambdaLabeled < 0 || lambdaUnlabeled < 0 { throw ValidationError("the λ weights must not be negative") }
        if !(0...1).contains(labelSmoothing) { throw ValidationError("--label-smoothing must be in [0, 1]") }
        if let c = clipGrad, !(c > 0) { throw ValidationError("--clip-grad must be positive") }
        if let n = checkpointEvery {
            guard n >= 1 else { throw ValidationError("--checkpoint-every must be at least 1") }
            guard output != nil && output != "-" else { throw ValidationError("--checkpoint-every needs -o FILE") }
        }
        if best != nil && val == nil { throw ValidationError("--best needs --val") }
        if !(crop > 0 && crop <= 1) { throw ValidationError("--crop must be in (0, 1]") }
        if initFrom != nil && resume != nil { throw ValidationError("--init and --resume contradict each other") }
        if microBatches < 1 { throw ValidationError("--micro-batches must be at least 1") }
    }

    /// Under mpirun, one rank of a data-parallel job (tb-train(1), DISTRIBUTED TRAINING): an
    /// error on any rank ends every rank, which may be waiting for it.
    func run() throws {
        guard distributed || ProcessGroup.launchedByMPI(environment: ProcessInfo.processInfo.environment) else {
            return try train(group: nil)
        }
        let group = try ProcessGroup()
        do { try train(group: group) } catch {
            group.abort(error, tool: "tb-train", cleanup: removeTemporaryOutputs)
        }
        group.finish()
    }

    func train(group: ProcessGroup?) throws {
        // Rank 0 alone writes: the checkpoints, the log, notes and progress.
        let isMain = (group?.rank ?? 0) == 0
        var common = self.common
        if !isMain { common.quiet = true }
        common.apply()
        let log = isMain ? try common.openLog(tool: "tb-train") : nil
        var names: [String]? = try classNames.map { try ClassList.read(path: $0) }

        // The model: resumed, or built and perhaps initialised from another checkpoint.
        let model: ResNet
        var startStep = 0
        var resumedSize: Int?
        var initMetadata: [String: String] = [:]
        var resumed: [String: String] = [:]
        if let resume {
            model = try ResNet.load(path: resume)
            let meta = try SafeTensorsFile(path: resume).metadata
            resumed = meta
            resumedSize = meta["input_size"].flatMap { Int($0) }
            if let inflation = meta["inflation"] { initMetadata["inflation"] = inflation }  // provenance carries on
            if names == nil, let text = meta["classes"], let list = try? JSON.parse(text).arrayValue {
                names = list.compactMap(\.stringValue)
            }
        } else if let inflate, let initFrom,
                  let style = ArchitectureSpec.InflationStyle(rawValue: inflate), let mode = InflationInit(rawValue: inflateInit) {
            let (m, meta, count) = try TBMethods.inflate(from: try SafeTensorsFile(path: initFrom), style: style, init: mode,
                                                         arch: arch, classes: classes ?? names?.count)
            model = m
            initMetadata = meta
            common.note("tb-train", "inflated \(initFrom) into \(m.spec) (\(mode.rawValue)): \(count) kernels gained a time axis, "
                        + "\(m.namedTensors.count - count) tensors copied")
            try log?.write("init", JSONObject([("file", .string(initFrom)), ("inflated", JSON(count)),
                                               ("copied", JSON(m.namedTensors.count - count))]))
        } else {
            let spec = try ArchitectureSpec(parsing: arch ?? "")
            let count = classes ?? names?.count ?? 0
            if let names, names.count != count {
                throw Failure(.usage, "--classes \(count) but \(classNames ?? "") names \(names.count) classes")
            }
            model = ResNet(spec: spec, classes: count, seed: common.seed)
            if let initFrom {
                let report = try initialize(model, from: try SafeTensorsFile(path: initFrom))
                common.note("tb-train", "loaded \(report.loaded.count) of \(report.loaded.count + report.kept.count) tensors "
                            + "from \(initFrom)" + (report.kept.isEmpty ? "" : "; kept as initialised: "
                            + report.kept.prefix(4).joined(separator: ", ") + (report.kept.count > 4 ? ", ..." : ""))
                            + (report.ignored.isEmpty ? "" : "; not used: \(report.ignored.count) tensors"))
                try log?.write("init", JSONObject([("file", .string(initFrom)), ("loaded", JSON(report.loaded.count)),
                                                   ("kept", .array(report.kept.map { .string($0) })),
                                                   ("ignored", JSON(report.ignored.count))]))
            }
        }
        let classCount = model.classes
        if let names, names.count != classCount {
            throw Failure(.usage, "the model has \(classCount) classes, the class names \(names.count)")
        }

        let opt = try makeOptimizer(optimizer, parameters: model.parameters, learningRate: lr, momentum: momentum,
                                    weightDecay: weightDecay)
        if let resume {
            try TrainingState.restore(opt, checkpoint: resume, steps: resumed["steps"].flatMap { Int($0) },
                                      parameters: model.parameters)
            startStep = opt.stepCount
        }
        let schedule = try makeSchedule(rate: lr, warmup: warmup, cosineSteps: cosineSteps, milestones: try milestoneSteps(),
                                        gamma: gamma)
        let trainer = Trainer(model: model, optimizer: opt, schedule: schedule,
                              weights: LossWeights(labeledSoft: lambdaLabeled, unlabeledSoft: lambdaUnlabeled,
                                                   labelSmoothing: labelSmoothing),
                              maxGradientNorm: clipGrad)
        if group != nil || microBatches > 1 {
            trainer.parallel = DataParallel(collective: group, microBatches: microBatches)
            try trainer.synchronizeModel()
        }

        let reader = StreamReader(paths: streams.isEmpty ? ["-"] : streams)
        // SIGTERM and SIGINT stop the run after the current step, saved (see Interruption).
        if let output, output != "-" { Interruption.deferSignals() }
        // A resumed run skips the batches its checkpoint has seen: rerunning the same tb-mix
        // command with the same seed then feeds it exactly the batches that come next.
        try Interruption.skip(startStep, of: reader)
        let progress = common.makeProgress("tb-train", unit: "batches")
        var lastEpoch: Int?
        var bestAccuracy = -1.0
        var trainSize: Int?
        var seen = 0
        let started = Date()
        func metadata(_ extra: [String: String] = [:]) -> [String: String] {
            var m = initMetadata.merging(extra) { _, new in new }
            m["program"] = "tb-train"
            // A resumed run keeps the first one's, so it ends byte for byte as an uninterrupted one.
            m["arguments"] = resumed["arguments"] ?? CommandLine.arguments.dropFirst().joined(separator: " ")
            m["steps"] = String(opt.stepCount)
            // tb-score sizes its inputs as training saw them.
            if let size = trainSize ?? resumedSize ?? initMetadata["input_size"].flatMap({ Int($0) }) {
                m["input_size"] = String(size)
            }
            if let group { m["mpi_ranks"] = String(group.size) }
            return m
        }
        if initOnly {
            let out = try Output(path: output)
            try model.save(classNames: names, metadata: metadata(), to: out.file)
            try out.commit()
            return
        }
        func save(_ path: String, extra: [String: String] = [:], optimizerState: Bool) throws {
            try checkFinite(model.parameters, step: opt.stepCount)
            try TrainingState.save(path, optimizer: optimizerState ? opt : nil, parameters: model.parameters) {
                try model.save(classNames: names, metadata: metadata(extra), to: $0)
            }
        }
        func evaluate(epoch: Int) throws {
            guard isMain, let val, let size = trainSize else { return }
            let accuracy = try validationAccuracy(model, path: val, size: size, crop: crop, classes: classCount)
            common.note("tb-train", "epoch \(epoch): validation top-1 " + formatFixed(accuracy * 100, 1) + "%")
            try log?.write("val", JSONObject([("epoch", JSON(epoch)), ("step", JSON(opt.stepCount)), ("top1", .double(accuracy))]))
            if let best, accuracy > bestAccuracy {
                bestAccuracy = accuracy
                try save(best, extra: ["val_top1": String(accuracy), "epoch": String(epoch)], optimizerState: false)
            }
        }

        while let record = try Interruption.nextRecord(from: reader) {
            let batch = try TrainingBatch(record: record, classes: classCount,
                                          place: (reader.currentName, reader.currentRecord))
            if trainSize == nil {
                let (h, w) = (batch.input.shape[3], batch.input.shape[4])
                do { try checkInputSize(height: h, width: w, for: model.spec) } catch let f as Failure {
                    throw f.at(file: reader.currentName, record: reader.currentRecord)
                }
                if let resumed = resumedSize, resumed != h {
                    throw Failure(.dataError, "samples of \(h) px, but the checkpoint trained on \(resumed) px",
                                  file: reader.currentName, record: reader.currentRecord)
                }
                trainSize = h
            }
            if let last = lastEpoch, batch.epoch != last { try evaluate(epoch: last) }
            lastEpoch = batch.epoch
            let rate = schedule.rate(at: opt.stepCount)
            let parts: LossParts
            do { parts = try trainer.step(batch) } catch let f as Failure {
                throw f.at(file: reader.currentName, record: reader.currentRecord)
            }
            seen += batch.input.shape[0]
            var fields = JSONObject([("step", JSON(opt.stepCount)), ("epoch", JSON(batch.epoch)), ("loss", .double(parts.total)),
                                     ("lr", .double(Double(rate)))])
            if let v = parts.crossEntropy { fields["ce"] = .double(v) }
            if let v = parts.crossEntropyAux { fields["ce_aux"] = .double(v) }
            if let v = parts.mseLabeled { fields["mse_labeled"] = .double(v) }
            if let v = parts.mseUnlabeled { fields["mse_unlabeled"] = .double(v) }
            fields["clips_per_s"] = .double((Double(seen) / max(Date().timeIntervalSince(started), 1e-9) * 10).rounded() / 10)
            try log?.write("step", fields)
            progress.advance()
            if isMain, let n = checkpointEvery, let output, opt.stepCount % n == 0 {
                try save(output, optimizerState: true)
            }
        }
        progress.finish()
        if let signal = Interruption.requested, let output {
            if isMain { try save(output, optimizerState: true) }
            Interruption.end(tool: "tb-train", signal: signal, step: opt.stepCount, saved: output)
        }
        try trainer.endOfInput()
        // A resumed run whose checkpoint had already seen the whole input (stopped after its
        // last step, or requeued after it ended) has nothing left to do: it ends as that run did.
        guard opt.stepCount > startStep || startStep > 0 else {
            throw Failure(.dataError, "no batches in the input", file: reader.currentName)
        }
        if opt.stepCount == startStep { common.note("tb-train", "the checkpoint has trained on the whole input already") }
        if let last = lastEpoch { try evaluate(epoch: last) }
        guard isMain else { return }
        try save(output ?? "-", optimizerState: checkpointEvery != nil)
    }
}

/// Top-1 accuracy of `model` on a clip stream with labels (softmax averaged over each record's clips).
func validationAccuracy(_ model: ResNet, path: String, size: Int, crop: Double, classes: Int) throws -> Double {
    let reader = StreamReader(paths: [path])
    var right = 0, total = 0
    while let record = try reader.next() {
        guard let label = record.label else {
            throw Failure(.dataError, "validation clips need labels", file: reader.currentName, record: reader.currentRecord)
        }
        guard (0..<classes).contains(label) else {
            throw Failure(.dataError, "label \(label) is not a class of 0..<\(classes)", file: reader.currentName,
                          record: reader.currentRecord)
        }
        let input = try clipInput(record, size: size, crop: crop, place: (reader.currentName, reader.currentRecord))
        let p = videoProbabilities(model, clips: input)
        if p.indices.max(by: { p[$0] < p[$1] }) == label { right += 1 }
        total += 1
    }
    guard total > 0 else { throw Failure(.dataError, "no validation clips", file: path) }
    return Double(right) / Double(total)
}

runTool(Train.self, name: "tb-train")
