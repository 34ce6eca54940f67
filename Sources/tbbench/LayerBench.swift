// bin/bench layers: R3D-S's convolutions one pass at a time, at each thread count side by side,
// with the speed-up of the last count over the first: which layers split across cores and which do not.

import ArgumentParser
import TBCLI
import TBCore
import TBTensor

struct LayerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers",
        abstract: "R3D-S's convolutions per layer and pass, at several thread counts side by side.")

    @Option(help: "Comma-separated thread counts.") var threads = "1,2"
    @Option(help: "Only layers whose name contains this (e.g. 'stem', '16>16').") var layer: String?
    @Option(help: "Only these passes (comma-separated: forward, backwardInput, backwardWeight).") var pass: String?
    @Option(help: "Seconds per pass and thread count (best of the repetitions).") var seconds = 0.3

    func run() throws {
        let threadList = threads.split(separator: ",").compactMap { Int($0) }.filter { $0 > 0 }
        guard !threadList.isEmpty else { throw ValidationError("--threads: no thread count in '\(threads)'") }
        let layers = KernelBench.r3dSmall.filter { layer == nil || $0.name.contains(layer ?? "") }
        guard !layers.isEmpty else { throw ValidationError("--layer: no layer of R3D-S matches '\(layer ?? "")'") }
        let passes = pass.map { Set($0.split(separator: ",").map(String.init)) }
        var tables: [[KernelBench.Row]] = []
        for t in threadList {
            BLAS.useComputeThreads(t)
            tables.append(KernelBench.run(layers: layers, passes: passes, seconds: seconds))
        }
        func right(_ s: String, _ width: Int) -> String { KernelBench.pad(s, width, right: true) }
        print("OpenBLAS \(BLAS.coreName); per thread count: conv GFLOP/s, sgemm GFLOP/s on the same GEMMs, ms a call")
        var header = KernelBench.pad("layer", 24) + KernelBench.pad("pass", 16)
        for t in threadList { header += right("\(t)t conv", 10) + right("sgemm", 8) + right("ms", 8) }
        if threadList.count > 1 { header += right("speed-up", 10) }
        print(header)
        for (i, row) in tables[0].enumerated() {
            var line = KernelBench.pad(row.layer, 24) + KernelBench.pad(row.pass, 16)
            for table in tables {
                let r = table[i]
                line += right(formatFixed(r.gflops, 1), 10) + right(formatFixed(r.sgemmGflops, 1), 8)
                    + right(formatFixed(r.milliseconds, 2), 8)
            }
            if let last = tables.last, tables.count > 1 {
                line += right(formatFixed(row.milliseconds / last[i].milliseconds, 2) + "×", 10)
            }
            print(line)
        }
        for (t, table) in zip(threadList, tables) {
            let total = table.reduce(0) { $0 + $1.milliseconds }
            print("\(t) threads: these passes take " + formatFixed(total, 1) + " ms in all")
        }
    }
}
