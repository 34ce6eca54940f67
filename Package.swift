// swift-tools-version:6.0
// tb: small Unix programs that train video action recognizers when labels are scarce.
// Layering (downward only): programs -> TBCLI, TBWarp -> TBNN, TBVideo -> TBTensor, TBStream -> TBCore.
// C enters only through the system-library targets, each imported by one Swift library.
import PackageDescription

let programs = ["tb-info", "tb-decode", "tb-clip", "tb-mix", "tb-toyset", "tb-train", "tb-score", "tb-teach", "tb-eval", "tb-warp"]

let package = Package(
    name: "tb",
    // The libraries are products only so that Fuzz/Package.swift (libFuzzer harnesses,
    // kept out of this package's build) can depend on them by path.
    products: programs.map { .executable(name: $0, targets: [$0]) }
        + ["TBCore", "TBStream", "TBVideo"].map { .library(name: $0, targets: [$0]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries from Debian, found through pkg-config.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CJSONC", pkgConfig: "json-c", providers: [.apt(["libjson-c-dev"])]),
        .systemLibrary(name: "CFFmpeg", pkgConfig: "libavformat",
                       providers: [.apt(["libavformat-dev", "libavcodec-dev", "libswscale-dev"])]),
        // FFmpeg's macros (AVERROR, AV_NOPTS_VALUE, ...) as functions Swift can call.
        .target(name: "CFFmpegShim", dependencies: ["CFFmpeg"]),

        // Open MPI's few entry points, loaded with dlopen only under mpirun: no build-time MPI.
        .target(name: "CMPILoader", linkerSettings: [.linkedLibrary("dl")]),

        // Microkernels in C with per-function target attributes, picked at run time.
        .target(name: "CKernels"),

        .target(name: "TBCore"),
        .target(name: "TBStream", dependencies: ["TBCore", "CZstd", "CJSONC"]),
        .target(name: "TBTensor", dependencies: ["TBCore", "CBLAS", "CKernels"]),
        .target(name: "TBNN", dependencies: ["TBCore", "TBTensor", "TBStream"]),
        .target(name: "TBVideo", dependencies: ["TBCore", "TBStream", "CFFmpeg", "CFFmpegShim"]),
        .target(name: "TBWarp", dependencies: ["TBCore", "TBStream", "TBVideo"]),
        .target(name: "TBMethods", dependencies: ["TBCore", "TBStream", "TBVideo", "TBTensor", "TBNN"]),
        .target(name: "TBDistributed", dependencies: ["TBCore", "CMPILoader"]),
        .target(name: "TBCLI", dependencies: [
            "TBCore", "TBStream", "TBTensor", "TBNN", "TBVideo",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "tb-info", dependencies: ["TBCLI", "TBStream", "TBVideo", "TBCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "tb-toyset", dependencies: ["TBCLI", "TBStream", "TBVideo", "TBCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "tb-decode", dependencies: ["TBCLI", "TBStream", "TBVideo", "TBCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "tb-clip", dependencies: ["TBCLI", "TBStream", "TBVideo", "TBCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "tb-mix", dependencies: ["TBCLI", "TBMethods", "TBStream", "TBVideo", "TBCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "tb-train", dependencies: ["TBCLI", "TBMethods", "TBDistributed", "TBNN", "TBTensor", "TBStream", "TBCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "tb-score", dependencies: ["TBCLI", "TBMethods", "TBNN", "TBTensor", "TBStream", "TBVideo",
            "TBCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "tb-teach", dependencies: ["TBCLI", "TBMethods", "TBNN", "TBTensor", "TBStream", "TBCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "tb-eval", dependencies: ["TBCLI", "TBMethods", "TBStream", "TBVideo", "TBCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "tb-warp", dependencies: ["TBCLI", "TBWarp", "TBStream", "TBCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .executableTarget(name: "tbbench", dependencies: ["TBCLI", "TBStream", "TBCore", "TBNN", "TBTensor", "TBVideo",
            .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/tbbench"),

        .testTarget(name: "TBCoreTests", dependencies: ["TBCore"]),
        .testTarget(name: "TBStreamTests", dependencies: ["TBStream", "TBCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TBTensorTests", dependencies: ["TBTensor"]),
        .testTarget(name: "TBNNTests", dependencies: ["TBNN", "TBTensor", "TBStream", "TBCore"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "TBVideoTests", dependencies: ["TBVideo", "TBStream", "TBCore"]),
        .testTarget(name: "TBWarpTests", dependencies: ["TBWarp", "TBVideo", "TBStream", "TBCore"]),
        .testTarget(name: "TBMethodsTests", dependencies: ["TBMethods", "TBNN", "TBTensor", "TBVideo", "TBStream", "TBCore"]),
        .testTarget(name: "TBCLITests", dependencies: ["TBCLI", "TBCore", "TBTensor"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TBStream", "TBVideo", "TBWarp", "TBCore"],
                    resources: [.copy("Corrupt")]),
    ],
    swiftLanguageModes: [.v5]
)
