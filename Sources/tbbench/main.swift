// tbbench: the benchmarks behind bin/bench. Each runs tb beside a peer on the same data
// in the same run and prints both, because this machine is shared and noisy.

import ArgumentParser
import TBCLI

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tbbench",
        abstract: "Benchmarks of tb beside its peers (run through bin/bench).",
        version: "tbbench " + versionString(),
        subcommands: [StreamBench.self, TrainBench.self, LayerBench.self, DecodeBench.self])
}

runTool(Bench.self, name: "tbbench")
