// The proof that the engine computes what PyTorch computes: the committed fixture
// (Fixtures/make_torch_fixture.py) holds a small r3d and r2d with PyTorch's logits,
// loss, parameter gradients and updated running statistics on one batch.

import Foundation
import XCTest
import TBCore
import TBStream
import TBTensor
@testable import TBNN

final class TorchInteropTests: XCTestCase {
    func fixture() throws -> SafeTensorsFile {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        return try SafeTensorsFile(path: dir.appendingPathComponent("torch_resnets.safetensors").path)
    }

    func tensor(_ file: SafeTensorsFile, _ name: String) throws -> Tensor {
        let entry = try XCTUnwrap(file.entries.first { $0.name == name }, name)
        return Tensor(shape: entry.shape, data: try file.floats(name))
    }

    /// Largest |a − b| relative to the largest |b| of the tensor (PyTorch's allclose style
    /// with a per-tensor scale, so that near-zero entries do not dominate).
    func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
        let scale = max(b.data.map(abs).max() ?? 0, 1e-12)
        return zip(a.data, b.data).map { abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    func check(net: String, arch: String) throws {
        let file = try fixture()
        let model = ResNet(spec: try ArchitectureSpec(parsing: arch), classes: 5)
        // Load the weights from the "<net>." tensors.
        for p in model.parameters { p.value = try tensor(file, "\(net).\(p.name)") }
        for b in model.buffers { b.value = try tensor(file, "\(net).\(b.name)") }
        let input = try tensor(file, "\(net).input")
        let labels = try file.tensor("\(net).labels").integers().map { Int($0) }

        let tape = Tape()
        let logits = model(tape.constant(input), tape)
        let loss = tape.crossEntropy(logits, labels: labels)
        XCTAssertLessThan(relativeError(logits.value, try tensor(file, "\(net).logits")), 1e-4, "\(net) logits")
        XCTAssertLessThan(relativeError(loss.value, try tensor(file, "\(net).loss")), 1e-4, "\(net) loss")
        tape.backward(loss)
        for p in model.parameters {
            let err = relativeError(p.grad, try tensor(file, "\(net).grad.\(p.name)"))
            XCTAssertLessThan(err, 1e-4, "\(net) grad \(p.name)")
        }
        for b in model.buffers {
            XCTAssertLessThan(relativeError(b.value, try tensor(file, "\(net).after.\(b.name)")), 1e-4, "\(net) \(b.name)")
        }
    }

    func testR3DMatchesPyTorch() throws { try check(net: "r3d", arch: "r3d10:w4") }
    func testR2DMatchesPyTorch() throws { try check(net: "r2d", arch: "r2d10:w4") }
}
