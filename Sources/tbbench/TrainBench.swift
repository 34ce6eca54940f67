// bin/bench train: R3D-S (../shared/bench/torch_r3ds.py) training and inference clips/s
// for 1 and 2 threads, beside PyTorch in the same run when a PyTorch environment exists;
// conv GFLOP/s beside plain sgemm on the same GEMM shapes; peak RSS.

import ArgumentParser
import Foundation
import TBCLI
import TBCore
import TBNN
import TBStream
import TBTensor

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "R3D-S training and inference throughput, beside PyTorch (torch_r3ds.py).")

    @Option(help: "Comma-separated thread counts.") var threads = "1,2"
    @Option(help: "Timed steps (after 3 warm-up steps).") var steps = 20
    @Option(help: "Clips per batch.") var batch = 8
    @Option(help: "Python with torch for the PyTorch side (default: .venv/bin/python when present).")
    var python: String?
    @Option(help: "Path of torch_r3ds.py.") var torchScript = "../shared/bench/torch_r3ds.py"
    @Option(help: ArgumentHelp("Rounds of tb then PyTorch per thread count; each figure is the median over the rounds.",
                               discussion: "The machine is shared: single runs vary by 10–20%, alternating rounds share the noise."))
    var rounds = 1
    @Flag(help: "Skip the per-layer conv table.") var noLayers = false
    @Flag(inversion: .prefixedNo, help: "Keep freed memory for the next step (retainFreedMemory).")
    var retainMemory = true
    @Flag(help: "One JSON line per engine and thread count, with torch_r3ds.py's keys.") var json = false

    func run() throws {
        let threadList = threads.split(separator: ",").compactMap { Int($0) }
        if retainMemory { retainFreedMemory() }
        let py = python ?? (FileManager.default.isExecutableFile(atPath: ".venv/bin/python") ? ".venv/bin/python" : nil)
        if !json { print("R3D-S, batch \(batch) x [3, 8, 56, 56], \(steps) steps; OpenBLAS kernels \(BLAS.coreName)") }
        var rows: [JSONObject] = []
        var lastTrainClipsPerSecond: Double?  // feeds the profile line below
        for t in threadList {
            var tb: [JSONObject] = [], torch: [JSONObject] = []
            for _ in 0..<max(1, rounds) {
                tb.append(measureTB(threads: t))
                if let py, FileManager.default.fileExists(atPath: torchScript) {
                    if let row = try? measureTorch(python: py, threads: t) { torch.append(row) }
                }
            }
            rows.append(median(tb))
            lastTrainClipsPerSecond = rows.last?["train_clips_per_s"]?.doubleValue
            if !torch.isEmpty { rows.append(median(torch)) }
            report(rows.suffix(2).filter { $0["threads"] == JSON(t) })
        }
        if !json && !noLayers {
            BLAS.useComputeThreads(threadList.last ?? 1)
            print("\nconv layers at \(threadList.last ?? 1) threads: GFLOP/s of tb's conv beside cblas_sgemm on the same GEMM shapes")
            let rows = KernelBench.run()
            print(KernelBench.table(rows))
            // Where a training step's time goes: the conv passes it runs (the stem's dX is skipped).
            var convMs = 0.0
            for row in rows where !(row.layer.hasPrefix("stem") && row.pass == "backwardInput") {
                guard let layer = KernelBench.r3dSmall.first(where: { $0.name == row.layer }) else { continue }
                let s = layer.inputShape
                let o = layer.geometry.outputSize(t: s[2], h: s[3], w: s[4])
                let flops = 2.0 * Double(s[0] * layer.outChannels * o.t * o.h * o.w * s[1] * layer.geometry.kernelVolume)
                // The table lists each shape once; R3D-S's first stage runs its 16>16 conv twice.
                let times = row.layer.hasPrefix("16>16") ? 2.0 : 1.0
                convMs += times * flops / (row.gflops * 1e9) * 1000
            }
            if let last = lastTrainClipsPerSecond {
                let stepMs = Double(batch) / last * 1000
                print("a training step at \(threadList.last ?? 1) threads: " + formatFixed(stepMs, 1) + " ms, of which convolutions "
                      + formatFixed(convMs, 1) + " ms (" + formatFixed(convMs / stepMs * 100, 0)
                      + "%); the rest is batch norm, ReLU, pooling, the tape and the optimizer")
            }
        }
        if !json { print("peak RSS: \(peakRSSMegabytes()) MB") }
    }

    /// The first round's row with each throughput replaced by its median over the rounds (and
    /// the rounds counted when there were several).
    func median(_ runs: [JSONObject]) -> JSONObject {
        var row = runs[0]
        guard runs.count > 1 else { return row }
        for key in ["train_clips_per_s", "infer_clips_per_s"] {
            let values = runs.compactMap { $0[key]?.doubleValue }.sorted()
            guard !values.isEmpty else { continue }
            let n = values.count
            row[key] = .double(n % 2 == 1 ? values[n / 2] : ((values[n / 2 - 1] + values[n / 2]) / 2 * 10).rounded() / 10)
        }
        row["rounds"] = JSON(runs.count)
        return row
    }

    func report(_ pair: [JSONObject]) {
        for r in pair {
            if json { print(JSON.object(r).text); continue }
            print("\(r["engine"]?.stringValue ?? "?") threads \(r["threads"]?.intValue ?? 0): train "
                  + "\(r["train_clips_per_s"]?.doubleValue ?? 0) clips/s, inference \(r["infer_clips_per_s"]?.doubleValue ?? 0) clips/s, "
                  + "final loss \(r["final_loss"]?.doubleValue ?? 0)")
        }
        if !json, pair.count == 2, let a = pair[0]["train_clips_per_s"]?.doubleValue, let b = pair[1]["train_clips_per_s"]?.doubleValue,
           let c = pair[0]["infer_clips_per_s"]?.doubleValue, let d = pair[1]["infer_clips_per_s"]?.doubleValue {
            print("  tb/pytorch: train " + formatFixed(a / b, 2) + "×, inference " + formatFixed(c / d, 2) + "×")
        }
    }

    func measureTB(threads: Int) -> JSONObject {
        BLAS.useComputeThreads(threads)
        let model = ResNet(spec: ArchitectureSpec(family: .r3d, depth: 10, width: 16), classes: 10, seed: 0)
        var g = SeededGenerator(seed: 0)
        let x = Tensor(randomNormal: [batch, 3, 8, 56, 56], generator: &g)
        let labels = (0..<batch).map { _ in Int(g.next() % 10) }
        let optimizer = try? SGD(parameters: model.parameters, learningRate: 0.01, momentum: 0.9)
        var loss: Float = 0
        var t0 = Date()
        for i in 0..<(3 + steps) {
            if i == 3 { t0 = Date() }
            optimizer?.zeroGrad()
            let tape = Tape()
            let l = tape.crossEntropy(model(tape.constant(x), tape), labels: labels)
            tape.backward(l)
            optimizer?.step()
            loss = l.value.scalar
        }
        let train = Double(batch * steps) / Date().timeIntervalSince(t0)
        for i in 0..<(3 + steps) {
            if i == 3 { t0 = Date() }
            let tape = Tape(recording: false, training: false)
            _ = model(tape.constant(x), tape)
        }
        let infer = Double(batch * steps) / Date().timeIntervalSince(t0)
        let params = model.parameters.reduce(0) { $0 + $1.value.count }
        return JSONObject([("engine", .string("tb \(tbVersion)")), ("threads", JSON(threads)), ("params", JSON(params)),
                           ("gflop_forward_per_batch", .double((forwardFlops(model) / 1e6).rounded() / 1e3)),
                           ("train_clips_per_s", .double((train * 10).rounded() / 10)),
                           ("infer_clips_per_s", .double((infer * 10).rounded() / 10)),
                           ("final_loss", .double((Double(loss) * 1e4).rounded() / 1e4))])
    }

    /// 2 · outputs · (Cin·kernel volume) for every conv, plus the classifier, as torch_r3ds.py counts.
    func forwardFlops(_ model: ResNet) -> Double {
        var total = 0.0
        var (t, h, w) = (8, 56, 56)
        func conv(_ c: Conv, _ size: (Int, Int, Int)) -> (Int, Int, Int) {
            let o = c.geometry.outputSize(t: size.0, h: size.1, w: size.2)
            let s = c.weight.shape
            total += 2 * Double(batch * s[0] * o.t * o.h * o.w) * Double(s[1] * c.geometry.kernelVolume)
            return (o.t, o.h, o.w)
        }
        (t, h, w) = conv(model.conv1, (t, h, w))
        for block in model.stages.joined() {
            let mid = conv(block.conv1, (t, h, w))
            if let d = block.downsample { _ = conv(d.conv, (t, h, w)) }
            (t, h, w) = conv(block.conv2, mid)
        }
        total += 2 * Double(batch * model.fc.weight.value.count)
        return total
    }

    func measureTorch(python: String, threads: Int) throws -> JSONObject? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = [torchScript, "--threads", String(threads), "--steps", String(steps), "--batch", String(batch)]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0, let line = String(data: data, encoding: .utf8)?.split(separator: "\n").last else { return nil }
        return try JSON.parse(String(line)).objectValue
    }

    func peakRSSMegabytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss / 1024
    }
}
