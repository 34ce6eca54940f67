import Foundation
import XCTest
import TBCore
import TBNN
import TBStream
import TBTensor

final class OptimizerStateTests: XCTestCase {
    /// A small model named as torchvision names ResNets: a conv weight, a bias that does not
    /// decay, and a batch-norm weight frozen until step 5 (so it has no state when saved at 3).
    private func model(convShape: [Int] = [2, 1, 3], convName: String = "layer1.0.conv1.weight") -> [Parameter] {
        let count = convShape.reduce(1, *)
        let conv = Parameter(name: convName, value: Tensor(shape: convShape, data: (0..<count).map { Float($0) / 3 - 0.7 }))
        let bias = Parameter(name: "layer1.0.conv1.bias", value: Tensor(shape: [2], data: [0.25, -0.5]))
        bias.decays = false
        let bn = Parameter(name: "layer1.0.bn1.weight", value: Tensor(shape: [2], data: [1, 1]))
        return [conv, bias, bn]
    }

    /// Fresh parameters with the same values, as a resumed process loads them from the checkpoint.
    private func copy(_ ps: [Parameter]) -> [Parameter] {
        ps.map { p in
            let q = Parameter(name: p.name, value: p.value)
            q.decays = p.decays
            return q
        }
    }

    /// Steps with gradients that depend on the values, as a real loss's do, and a warmup-cosine rate.
    private func train(_ optimizer: Optimizer, _ ps: [Parameter], steps: Range<Int>) throws {
        let schedule = try WarmupSchedule(steps: 2, then: CosineSchedule(base: 0.05, minimum: 0.001, steps: 6))
        for step in steps {
            XCTAssertEqual(optimizer.stepCount, step)
            ps[2].requiresGrad = step >= 5
            optimizer.learningRate = schedule.rate(at: optimizer.stepCount)
            optimizer.zeroGrad()
            for p in ps where p.requiresGrad {
                p.grad.data = p.value.data.map { $0 - 0.3 + 0.1 * sinf(3 * $0 + Float(step)) }
            }
            clipGradientNorm(ps, maxNorm: 1)
            optimizer.step()
        }
    }

    private func bits(_ ps: [Parameter]) -> [[UInt32]] { ps.map { $0.value.data.map(\.bitPattern) } }

    /// Saves after 3 steps, restores into a fresh optimizer over fresh parameters through a real
    /// file, and checks 5 more steps match the uninterrupted run bit for bit.
    private func assertResumeIsExact(_ make: ([Parameter]) throws -> Optimizer,
                                     file: StaticString = #filePath, line: UInt = #line) throws {
        let ps = model()
        let optimizer = try make(ps)
        try train(optimizer, ps, steps: 0..<3)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("optimizer-\(UUID()).safetensors").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let sink = MemorySink()
        try optimizer.saveState(to: sink)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(sink.bytes)), file: file, line: line)

        let resumedParameters = copy(ps)
        let resumed = try make(resumedParameters)
        try resumed.restoreState(from: SafeTensorsFile(path: path))
        XCTAssertEqual(resumed.state, optimizer.state, file: file, line: line)
        XCTAssertEqual(resumed.stepCount, 3, file: file, line: line)

        try train(optimizer, ps, steps: 3..<8)
        try train(resumed, resumedParameters, steps: 3..<8)
        XCTAssertEqual(bits(resumedParameters), bits(ps), file: file, line: line)
        XCTAssertEqual(resumed.state, optimizer.state, file: file, line: line)
    }

    func testSGDResumesExactly() throws {
        try assertResumeIsExact { try SGD(parameters: $0, learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 1e-4) }
    }

    func testAdamResumesExactly() throws {
        try assertResumeIsExact { try Adam(parameters: $0, learningRate: 0.05, weightDecay: 1e-3) }
    }

    func testAdamWResumesExactly() throws {
        try assertResumeIsExact { try Adam.adamW(parameters: $0, learningRate: 0.05, betas: (0.85, 0.99)) }
    }

    func testFileLayout() throws {
        let ps = model()
        let adam = try Adam.adamW(parameters: ps, learningRate: 0.01)
        try train(adam, ps, steps: 0..<3)
        let file = try SafeTensorsFile(bytes: adam.state.encoded())
        XCTAssertEqual(Set(file.names), ["exp_avg.layer1.0.conv1.weight", "exp_avg_sq.layer1.0.conv1.weight",
                                         "step.layer1.0.conv1.weight", "exp_avg.layer1.0.conv1.bias",
                                         "exp_avg_sq.layer1.0.conv1.bias", "step.layer1.0.conv1.bias"])
        XCTAssertEqual(file["exp_avg.layer1.0.conv1.weight"]?.shape, [2, 1, 3])
        XCTAssertEqual(file["step.layer1.0.conv1.bias"]?.dtype, .I64)
        XCTAssertEqual(file.metadata["format"], "tb-optimizer-state")
        XCTAssertEqual(file.metadata["optimizer"], "adamw")
        XCTAssertEqual(file.metadata["step"], "3")
        XCTAssertEqual(file.metadata["lr"].flatMap(Float.init), adam.learningRate)
        XCTAssertEqual(file.metadata["weight_decay"], "0.01")
        XCTAssertEqual(file.metadata["beta2"], "0.999")
        XCTAssertEqual(file.metadata["parameters"],
                       #"["layer1.0.conv1.weight","layer1.0.conv1.bias","layer1.0.bn1.weight"]"#)
    }

    func testRestoreTakesTheSavedHyperparameters() throws {
        let ps = model()
        let saved = try SGD(parameters: ps, learningRate: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 5e-4)
        try train(saved, ps, steps: 0..<2)
        let fresh = try SGD(parameters: copy(ps), learningRate: 0.1)
        try fresh.restore(saved.state)
        XCTAssertEqual(fresh.momentum, 0.9)
        XCTAssertEqual(fresh.dampening, 0.1)
        XCTAssertEqual(fresh.weightDecay, 5e-4)
        XCTAssertFalse(fresh.nesterov)
        XCTAssertEqual(fresh.learningRate, saved.learningRate)
    }

    // MARK: refusals

    /// Restores `state` into `optimizer`, expecting a `.dataError` that names `tensor`, and no change.
    private func assertRefused(_ optimizer: Optimizer, _ bytes: [UInt8], tensor: String?, containing text: String,
                               file: StaticString = #filePath, line: UInt = #line) throws {
        let before = optimizer.state
        do {
            try optimizer.restoreState(from: SafeTensorsFile(bytes: bytes, name: "opt.safetensors"))
            XCTFail("restored", file: file, line: line)
        } catch let f as Failure {
            XCTAssertEqual(f.status, .dataError, file: file, line: line)
            XCTAssertEqual(f.tensor, tensor, "\(f)", file: file, line: line)
            XCTAssertEqual(f.file, "opt.safetensors", file: file, line: line)
            XCTAssertTrue(f.message.contains(text), "\(f)", file: file, line: line)
        }
        XCTAssertEqual(optimizer.state, before, "a refused state changes nothing", file: file, line: line)
    }

    private func adamState(after steps: Int = 3) throws -> [UInt8] {
        let ps = model()
        let adam = try Adam(parameters: ps, learningRate: 0.01)
        try train(adam, ps, steps: 0..<steps)
        return try adam.state.encoded()
    }

    func testRefusesAnotherKind() throws {
        let saved = try adamState()
        try assertRefused(try SGD(parameters: model(), learningRate: 0.1, momentum: 0.9), saved,
                          tensor: nil, containing: "for adam, not sgd")
        try assertRefused(try Adam.adamW(parameters: model()), saved, tensor: nil, containing: "for adam, not adamw")
    }

    func testRefusesOtherParameterNames() throws {
        let saved = try adamState()
        let renamed = model(convName: "layer1.0.conv2.weight")
        try assertRefused(try Adam(parameters: renamed), saved, tensor: "layer1.0.conv1.weight", containing: "model does not")
        let fewer = Array(model().prefix(2))
        try assertRefused(try Adam(parameters: fewer), saved, tensor: "layer1.0.bn1.weight", containing: "model does not")
        let more = model() + [Parameter(name: "fc.weight", value: Tensor(zeros: [3, 2]))]
        try assertRefused(try Adam(parameters: more), saved, tensor: "fc.weight", containing: "missing from the optimizer state")
    }

    func testRefusesOtherShapes() throws {
        let saved = try adamState()
        let wider = model(convShape: [3, 1, 2])  // as many elements, another shape
        try assertRefused(try Adam(parameters: wider), saved, tensor: "exp_avg.layer1.0.conv1.weight",
                          containing: "shape [2, 1, 3] does not match the parameter's [3, 1, 2]")
    }

    func testRefusesUnknownOrIncompleteBuffers() throws {
        let ps = model()
        let adam = try Adam(parameters: ps)
        try train(adam, ps, steps: 0..<2)
        var stray = adam.state
        stray.buffers["max_exp_avg_sq.layer1.0.conv1.bias"] = Tensor(zeros: [2])
        try assertRefused(try Adam(parameters: model()), stray.encoded(), tensor: "max_exp_avg_sq.layer1.0.conv1.bias",
                          containing: "names no adam buffer")
        var incomplete = adam.state
        incomplete.counters["step.layer1.0.conv1.bias"] = nil
        try assertRefused(try Adam(parameters: model()), incomplete.encoded(), tensor: "layer1.0.conv1.bias",
                          containing: "together")
    }

    func testRefusesAFileThatIsNotOptimizerState() throws {
        let checkpoint = try SafeTensorsWriter.encode([SafeTensor(name: "fc.weight", shape: [2], floats: [1, 2])],
                                                      metadata: ["arch": "r3d18"])
        try assertRefused(try SGD(parameters: model(), learningRate: 0.1), checkpoint, tensor: nil,
                          containing: "not an optimizer state")
        var state = try SGD(parameters: model(), learningRate: 0.1).state
        state.hyperparameters["momentum"] = "lots"
        try assertRefused(try SGD(parameters: model(), learningRate: 0.1), state.encoded(), tensor: nil,
                          containing: "\"momentum\" is \"lots\"")
    }
}
