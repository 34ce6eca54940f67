// tb-teach: contrastive pretraining of a TimeBalance teacher from tb-mix --pretrain batches.

import ArgumentParser
import Foundation
import TBCLI
import TBCore
import TBMethods
import TBNN
import TBStream
import TBTensor

struct Teach: ParsableCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(
            commandName: "tb-teach",
            abstract: "Pretrain a temporally-invariant or temporally-distinctive teacher by contrastive learning.",
            discussion: "Reads tb-mix --pretrain batches from standard input when no stream is named. See tb-teach(1).",
            version: "tb-teach " + versionString(extra: [StreamWriter.zstdVersion]))
    }

    @Argument(help: ArgumentHelp("Pretraining sample streams ('-' for standard input).", valueName: "stream"))
    var streams: [String] = []

    @Option(help: ArgumentHelp("Architecture; its last map must keep S time steps (e.g. r3d10:w8:dilated).",
                               valueName: "spec"))
    var arch: String?

    @Option(help: ArgumentHelp("Continue the run saved in this teacher (and its .optim file).", valueName: "ckpt"))
    var resume: String?

    @Option(help: ArgumentHelp("invariant, distinctive or tclr.", valueName: "name"))
    var objective: String?

    @Option(help: ArgumentHelp("Weights of the instance, local-local and global-local terms, e.g. 1,0,0.",
                               valueName: "a,b,c"))
    var weights: String?

    @Option(help: ArgumentHelp("Temperature of every contrastive term.", valueName: "τ"))
    var temperature: Float = 0.1

    @Option(help: ArgumentHelp("Output size of the projection head.", valueName: "n"))
    var headDim = 128

    @Option(help: ArgumentHelp("adam, adamw or sgd.", valueName: "name"))
    var optimizer = "adam"

    @Option(help: ArgumentHelp("Learning rate.", valueName: "rate"))
    var lr: Float = 1e-3

    @Option(help: ArgumentHelp("Weight decay.", valueName: "w"))
    var weightDecay: Double = 0

    @Option(help: ArgumentHelp("Linear warm-up steps from 0.", valueName: "n"))
    var warmup = 0

    @Option(help: ArgumentHelp("Cosine decay to 0 over this many steps after warm-up.", valueName: "n"))
    var cosineSteps: Int?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write the teacher here (atomically), not stdout.",
                                                                       valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Also save the teacher (and optimizer state) every n steps; needs -o.", valueName: "n"))
    var checkpointEvery: Int?

    @OptionGroup var common: CommonOptions

    func lossWeights(resumed: String? = nil) throws -> ContrastiveWeights {
        if let weights = weights ?? (objective == nil ? resumed : nil) {
            let w = weights.split(separator: ",").map { Float($0) }
            guard w.count == 3, let a = w[0], let b = w[1], let c = w[2], a >= 0, b >= 0, c >= 0, a + b + c > 0 else {
                throw ValidationError("--weights must be three non-negative numbers a,b,c, not all 0")
            }
            return ContrastiveWeights(instance: a, localLocal: b, globalLocal: c)
        }
        guard let w = ContrastiveWeights(objective: objective ?? "") else {
            throw ValidationError("--objective must be invariant, distinctive or tclr (or give --weights)")
        }
        return w
    }

    func validate() throws {
        if objective != nil && weights != nil { throw ValidationError("give --objective or --weights, not both") }
        if objective == nil && weights == nil && resume == nil { throw ValidationError("give --objective or --weights") }
        if arch == nil && resume == nil { throw ValidationError("give --arch (or --resume a teacher)") }
        if objective != nil || weights != nil { _ = try lossWeights() }
        if !(temperature > 0) { throw ValidationError("--temperature must be positive") }
        if headDim < 1 { throw ValidationError("--head-dim must be at least 1") }
        if !["adam", "adamw", "sgd"].contains(optimizer) { throw ValidationError("--optimizer must be adam, adamw or sgd") }
        if !(lr > 0 && lr.isFinite) { throw ValidationError("--lr must be positive") }
        if warmup < 0 { throw ValidationError("--warmup must not be negative") }
        if let c = cosineSteps, c < 1 { throw ValidationError("--cosine-steps must be at least 1") }
        if let n = checkpointEvery {
            guard n >= 1 else { throw ValidationError("--checkpoint-every must be at least 1") }
            guard output != nil && output != "-" else { throw ValidationError("--checkpoint-every needs -o FILE") }
        }
    }

    func run() throws {
        common.apply()
        // The only randomness is the initial weights (backbone: seed, head: seed + 1); a
        // resumed run takes them, the batch-norm statistics and counts from the checkpoint.
        let model: ResNet, head: ProjectionHead
        var resumed: [String: String] = [:]
        if let resume {
            let file = try SafeTensorsFile(path: resume)
            (model, head) = try ContrastiveTrainer.loadTeacher(file)
            resumed = file.metadata
            if let t = resumed["temperature"], t != String(temperature) {
                throw Failure(.usage, "\(resume) was trained with --temperature \(t): give the same to continue it")
            }
            if let arch, try ArchitectureSpec(parsing: arch) != model.spec {
                throw Failure(.usage, "--arch \(arch), but \(resume) is a \(model.spec)")
            }
        } else {
            let spec = try ArchitectureSpec(parsing: arch ?? "")
            model = ResNet(spec: spec, classes: 1, seed: common.seed)
            head = ProjectionHead(in: spec.width * 8, out: headDim, seed: common.seed &+ 1)
        }
        let spec = model.spec
        guard spec.is3D else { throw Failure(.usage, "--arch \(spec): the teachers are 3D networks") }
        let w = try lossWeights(resumed: resumed["weights"])
        let params = ContrastiveTrainer.parameters(model, head)
        let opt = try makeOptimizer(optimizer, parameters: params, learningRate: lr, weightDecay: weightDecay)
        if let resume {
            try TrainingState.restore(opt, checkpoint: resume, steps: resumed["steps"].flatMap { Int($0) }, parameters: params)
        }
        let startStep = opt.stepCount
        let trainer = ContrastiveTrainer(model: model, head: head, optimizer: opt,
                                         schedule: try makeSchedule(rate: lr, warmup: warmup, cosineSteps: cosineSteps),
                                         weights: w, temperature: temperature)
        let log = try common.openLog(tool: "tb-teach")
        let progress = common.makeProgress("tb-teach", unit: "batches")
        func metadata() -> [String: String] {
            // A resumed run keeps the first one's arguments and objective, so it ends byte for byte as an uninterrupted one.
            ["program": "tb-teach",
             "arguments": resumed["arguments"] ?? CommandLine.arguments.dropFirst().joined(separator: " "),
             "objective": resumed["objective"] ?? objective ?? "custom", "weights": "\(w.instance),\(w.localLocal),\(w.globalLocal)",
             "temperature": String(temperature), "steps": String(opt.stepCount)]
        }
        func save(_ path: String?, optimizerState: Bool) throws {
            try checkFinite(params, step: opt.stepCount)
            try TrainingState.save(path, optimizer: optimizerState ? opt : nil, parameters: params) {
                try trainer.save(metadata: metadata(), to: $0)
            }
        }
        let reader = StreamReader(paths: streams.isEmpty ? ["-"] : streams)
        if let output, output != "-" { Interruption.deferSignals() }
        try Interruption.skip(startStep, of: reader)
        let started = Date()
        var seen = 0
        while let record = try Interruption.nextRecord(from: reader) {
            let place = (reader.currentName, reader.currentRecord)
            let batch = try PretrainingBatch(record: record, place: place)
            let rate = trainer.schedule.rate(at: opt.stepCount)
            let parts: ContrastiveParts
            do { parts = try trainer.step(batch) } catch let f as Failure { throw f.at(file: place.0, record: place.1) }
            seen += batch.videos
            var fields = JSONObject([("step", JSON(opt.stepCount)), ("loss", .double(parts.total)), ("lr", .double(Double(rate)))])
            if let v = parts.instance { fields["instance"] = .double(v) }
            if let v = parts.localLocal { fields["local_local"] = .double(v) }
            if let v = parts.globalLocal { fields["global_local"] = .double(v) }
            fields["videos_per_s"] = .double((Double(seen) / max(Date().timeIntervalSince(started), 1e-9) * 10).rounded() / 10)
            try log?.write("step", fields)
            progress.advance()
            if let n = checkpointEvery, opt.stepCount % n == 0 { try save(output, optimizerState: true) }
        }
        progress.finish()
        if let signal = Interruption.requested, let output {
            try save(output, optimizerState: true)
            Interruption.end(tool: "tb-teach", signal: signal, step: opt.stepCount, saved: output)
        }
        // A resumed run whose checkpoint had already seen the whole input (stopped after its
        // last step, or requeued after it ended) has nothing left to do: it ends as that run did.
        guard opt.stepCount > startStep || startStep > 0 else {
            throw Failure(.dataError, "no batches in the input", file: reader.currentName)
        }
        if opt.stepCount == startStep { common.note("tb-teach", "the checkpoint has trained on the whole input already") }
        try save(output, optimizerState: checkpointEvery != nil)
    }
}

runTool(Teach.self, name: "tb-teach")
