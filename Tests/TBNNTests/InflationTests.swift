import XCTest
import Foundation
import TBCore
import TBStream
import TBTensor
@testable import TBNN

final class ArchitectureSpecTests: XCTestCase {
    func testNamesRoundTrip() throws {
        for text in ["r2d10:w64", "r2d18:w8", "r3d18:w16", "r3d10:w16:dilated", "i3d18:w32:3x3x3", "i3d10:w64:3x1x1"] {
            XCTAssertEqual(try ArchitectureSpec(parsing: text).description, text)
        }
        XCTAssertEqual(try ArchitectureSpec(parsing: "r3ds"), ArchitectureSpec(family: .r3d, depth: 10, width: 16))
        XCTAssertEqual(try ArchitectureSpec(parsing: "r2d18").width, 64)
        XCTAssertEqual(try ArchitectureSpec(parsing: "r3d18").blocksPerStage, [2, 2, 2, 2])
    }

    func testBadNamesAreUsageErrors() {
        for text in ["", "r3d34", "resnet18", "r3d18:w0", "r3d18:x", "r2d18:dilated", "r3d18:3x3x3"] {
            XCTAssertThrowsError(try ArchitectureSpec(parsing: text), text) { e in
                XCTAssertEqual((e as? Failure)?.status, .usage, text)
            }
        }
    }
}

final class InflationTests: XCTestCase {
    func testRepeatAndCentreKernels() {
        let w = Tensor(shape: [1, 2, 1, 2], data: [1, 2, 3, 4])  // [O, I, kh, kw]
        let r = Inflation.inflateKernel(w, time: 3, init: .repeat)
        XCTAssertEqual(r.shape, [1, 2, 3, 1, 2])
        XCTAssertEqual(r.data, [1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4].map { Float($0) / 3 })
        let c = Inflation.inflateKernel(w, time: 3, init: .centre)
        XCTAssertEqual(c.data, [0, 0, 1, 2, 0, 0, 0, 0, 3, 4, 0, 0])
        // Summed over time, both give back the 2D kernel.
        for k in [r, c] {
            var sum = [Float](repeating: 0, count: 4)
            for i in 0..<2 { for t in 0..<3 { for j in 0..<2 { sum[i * 2 + j] += k.data[(i * 3 + t) * 2 + j] } } }
            XCTAssertEqual(sum.map { ($0 * 1e5).rounded() / 1e5 }, [1, 2, 3, 4])
        }
    }

    func testStateMappingRefusesWhatDoesNotFit() throws {
        let state: [String: Tensor] = ["conv1.weight": Tensor(zeros: [4, 3, 7, 7]), "bn1.weight": Tensor(zeros: [4]),
                                       "fc.weight": Tensor(zeros: [5, 4])]
        let target: [(name: String, shape: [Int])] = [("conv1.weight", [4, 3, 3, 7, 7]), ("bn1.weight", [4]),
                                                      ("fc.weight", [5, 4])]
        let (tensors, steps) = try Inflation.inflate(state, into: target, init: .centre)
        XCTAssertEqual(tensors["conv1.weight"]?.shape, [4, 3, 3, 7, 7])
        XCTAssertEqual(steps.filter(\.inflated).map(\.name), ["conv1.weight"])
        var bad = target
        bad[2] = ("fc.weight", [6, 4])
        XCTAssertThrowsError(try Inflation.inflate(state, into: bad, init: .repeat)) { e in
            XCTAssertEqual((e as? Failure)?.tensor, "fc.weight")
            XCTAssertEqual((e as? Failure)?.status, .dataError)
        }
        XCTAssertThrowsError(try Inflation.inflate(state, into: Array(target.prefix(2)), init: .repeat)) { e in
            XCTAssertEqual((e as? Failure)?.tensor, "fc.weight", "an unused 2D tensor is refused")
        }
    }
}

/// The boring-video fixed point (ALGORITHMS.md §3): one frame repeated through the inflated
/// network gives the 2D network's answer on that frame.
final class BoringVideoTests: XCTestCase {
    func trained2D() -> ResNet {
        // Random weights and non-trivial running statistics stand in for a trained net.
        let net = ResNet(spec: ArchitectureSpec(family: .r2d, depth: 10, width: 4), classes: 5, seed: 3)
        var g = SeededGenerator(seed: 9)
        for bn in net.batchNorms {
            let c = bn.weight.shape[0]
            bn.weight.value = Tensor(randomUniform: [c], bound: 0.5, generator: &g)
            bn.weight.value.data = bn.weight.value.data.map { $0 + 1 }
            bn.bias.value = Tensor(randomUniform: [c], bound: 0.2, generator: &g)
            bn.runningMean.value = Tensor(randomUniform: [c], bound: 0.1, generator: &g)
            bn.runningVar.value.data = bn.runningVar.value.data.map { $0 + 0.1 }
        }
        return net
    }

    /// A clip [N, 3, T, H, W] that repeats `image` [N, 3, H, W] T times.
    func boring(_ image: Tensor, frames t: Int) -> Tensor {
        let (n, c, h, w) = (image.shape[0], image.shape[1], image.shape[2], image.shape[3])
        var clip = Tensor(zeros: [n, c, t, h, w])
        for nc in 0..<(n * c) { for f in 0..<t { for i in 0..<(h * w) {
            clip.data[(nc * t + f) * h * w + i] = image.data[nc * h * w + i]
        } } }
        return clip
    }

    func state(_ net: ResNet) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: net.namedTensors.map { ($0.name, $0.tensor) })
    }

    func testCentreIsExactEverywhere() throws {
        let net2D = trained2D()
        var g = SeededGenerator(seed: 4)
        let image = Tensor(randomNormal: [2, 3, 32, 32], generator: &g)
        let logits2D = net2D(Tape(recording: false).constant(image), Tape(recording: false))
        for style in ["3x1x1", "3x3x3"] {
            let (net3D, steps) = try ResNet.inflating(state(net2D), into: try ArchitectureSpec(parsing: "i3d10:w4:" + style),
                                                      classes: 5, init: .centre)
            XCTAssertTrue(steps.contains { $0.name == "conv1.weight" && $0.to == [4, 3, 3, 7, 7] })
            let tape = Tape(recording: false)
            let logits3D = net3D(tape.constant(boring(image, frames: 5)), tape)
            XCTAssertLessThan(logits3D.value.maxRelativeDifference(logits2D.value, floor: 1e-3), 1e-4, style)
        }
    }

    func testRepeatIsExactOnInteriorFrames() throws {
        let net2D = trained2D()
        var g = SeededGenerator(seed: 5)
        let image = Tensor(randomNormal: [1, 3, 32, 32], generator: &g)
        let tape2D = Tape(recording: false)
        let maps2D = net2D.featureMaps(tape2D.constant(image), tape2D)  // [1, 32, 1, 1, 1]
        let (net3D, _) = try ResNet.inflating(state(net2D), into: try ArchitectureSpec(parsing: "i3d10:w4:3x3x3"),
                                              classes: 5, init: .repeat)
        // 9 temporal convs each let zero padding reach one frame further in: with 21 frames,
        // frame 10 never sees it, while the edge frames do.
        let tape = Tape(recording: false)
        let maps3D = net3D.featureMaps(tape.constant(boring(image, frames: 21)), tape)  // [1, 32, 21, 1, 1]
        let channels = maps3D.shape[1], frames = maps3D.shape[2]
        XCTAssertEqual(frames, 21)
        func frame(_ f: Int) -> Tensor {
            Tensor(shape: [channels], data: (0..<channels).map { maps3D.value.data[$0 * frames + f] })
        }
        let expected = Tensor(shape: [channels], data: maps2D.value.data)
        XCTAssertLessThan(frame(10).maxRelativeDifference(expected, floor: 1e-3), 1e-4)
        XCTAssertGreaterThan(frame(0).maxRelativeDifference(expected, floor: 1e-3), 1e-3, "the edge differs")
    }
}

final class ResNetShapeTests: XCTestCase {
    func shapeOut(_ arch: String, _ input: [Int]) throws -> [Int] {
        let net = ResNet(spec: try ArchitectureSpec(parsing: arch), classes: 7)
        let tape = Tape(recording: false)
        return net.featureMaps(tape.constant(Tensor(zeros: input)), tape).shape
    }

    func testDilatedStagesKeepTime() throws {
        XCTAssertEqual(try shapeOut("r3d10:w4", [1, 3, 8, 32, 32]), [1, 32, 1, 2, 2])
        XCTAssertEqual(try shapeOut("r3d10:w4:dilated", [1, 3, 8, 32, 32]), [1, 32, 2, 2, 2])
        XCTAssertEqual(try shapeOut("r3d10:w4:dilated2", [1, 3, 8, 32, 32]), [1, 32, 4, 2, 2])
        XCTAssertEqual(try shapeOut("r3d18:w4:dilated3", [1, 3, 8, 32, 32]), [1, 32, 8, 2, 2])
        XCTAssertEqual(try shapeOut("i3d10:w4:3x1x1", [1, 3, 8, 32, 32]), [1, 32, 8, 1, 1])
        XCTAssertEqual(try shapeOut("r2d18:w4", [2, 3, 32, 32]), [2, 32, 1, 1, 1])
    }

    func testTorchvisionNamesAndHead() throws {
        let net = ResNet(spec: try ArchitectureSpec(parsing: "r2d18:w8"), classes: 3)
        let names = net.namedTensors.map(\.name)
        for n in ["conv1.weight", "bn1.running_mean", "layer1.0.bn1.running_var", "layer2.0.downsample.0.weight",
                  "layer4.1.conv2.weight", "fc.weight", "fc.bias"] {
            XCTAssertTrue(names.contains(n), n)
        }
        XCTAssertFalse(names.contains("layer1.0.downsample.0.weight"))
        let head = ProjectionHead(in: 64)
        let tape = Tape()
        let z = head(tape.constant(Tensor(zeros: [4, 64])), tape)
        XCTAssertEqual(z.shape, [4, 128])
    }

    func testCheckpointRoundTripAndMisfit() throws {
        let net = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w4"), classes: 5, seed: 11)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tb-ckpt-\(UUID().uuidString).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = MemorySink()
        try net.save(classNames: ["a", "b c", "d", "e", "f"], metadata: ["program": "test"], to: sink)
        try Data(sink.bytes).write(to: URL(fileURLWithPath: path))
        let back = try ResNet.load(path: path)
        XCTAssertEqual(back.spec, net.spec)
        XCTAssertTrue(zip(back.namedTensors, net.namedTensors).allSatisfy { $0.0.name == $0.1.name && $0.0.tensor == $0.1.tensor })
        let other = ResNet(spec: try ArchitectureSpec(parsing: "r3d10:w8"), classes: 5)
        XCTAssertThrowsError(try other.load(try SafeTensorsFile(path: path), strict: true)) { e in
            let f = e as? Failure
            XCTAssertEqual(f?.status, .dataError)
            XCTAssertEqual(f?.tensor, "conv1.weight")
            XCTAssertTrue(f?.message.contains("[4, 3, 3, 7, 7]") ?? false, "\(String(describing: f))")
        }
    }
}
