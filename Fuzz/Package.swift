// swift-tools-version:6.0
// libFuzzer harnesses for tb's input parsers, kept out of the main package's build.
// Built and run by bin/fuzz (swift build -c release --sanitize=fuzzer); each target
// defines LLVMFuzzerTestOneInput and links libFuzzer's main.
import PackageDescription

// The main package is the directory above; a path dependency's identity is its directory
// name (wt-fuzz, main, tb, ...), so ask the context for it.
let parent = Context.packageDirectory.split(separator: "/").dropLast().last.map(String.init) ?? "tb"
let harnesses: [(name: String, libraries: [String])] = [
    ("fuzz-stream", ["TBCore", "TBStream"]),
    ("fuzz-safetensors", ["TBCore", "TBStream"]),
    ("fuzz-labels", ["TBCore", "TBStream"]),
    ("fuzz-video", ["TBCore", "TBVideo"]),
]

let package = Package(
    name: "tb-fuzz",
    dependencies: [.package(path: "..")],
    targets: [.target(name: "FuzzSupport")] + harnesses.map { h in
        .executableTarget(name: h.name,
                          dependencies: ["FuzzSupport"] + h.libraries.map { .product(name: $0, package: parent) })
    },
    swiftLanguageModes: [.v5]
)
