// The tape's bookkeeping: where gradients end up, what it keeps and when it lets go.

import XCTest
import TBTensor
import TBNN

final class TapeTests: XCTestCase {
    func testParameterGradientsAccumulateAcrossTapes() {
        let w = Parameter(name: "w", value: Tensor(shape: [2], data: [1, 2]))
        for _ in 0..<2 {
            let tape = Tape()
            // loss = mean((3w − 0)²) → d/dw = 2·3·(3w)/2 = 9w
            let loss = tape.mse(tape.scale(tape.parameter(w), 3), tape.constant(Tensor(zeros: [2])))
            tape.backward(loss)
        }
        XCTAssertEqual(w.grad.data, [18, 36])
    }

    func testFrozenParametersAndConstantsGetNothingAndRecordNothing() {
        let w = Parameter(name: "w", value: Tensor(shape: [2], data: [1, 2]))
        w.requiresGrad = false
        let tape = Tape()
        let v = tape.parameter(w)
        let loss = tape.mse(tape.scale(v, 3), tape.constant(Tensor(zeros: [2])))
        XCTAssertEqual(tape.recordedCount, 0)
        XCTAssertFalse(loss.requiresGrad)
        tape.backward(loss)
        XCTAssertNil(v.grad)
        XCTAssertEqual(w.grad.data, [0, 0])
    }

    func testNonRecordingTapeKeepsNothing() {
        let w = Parameter(name: "w", value: Tensor(shape: [3, 2], repeating: 0.5))
        let tape = Tape(recording: false)
        XCTAssertFalse(tape.training)
        let y = tape.relu(tape.linear(tape.variable(Tensor(shape: [4, 2], repeating: 1)), weight: tape.parameter(w)))
        XCTAssertEqual(y.value.data, [Float](repeating: 1, count: 12))
        XCTAssertEqual(tape.recordedCount, 0)
        XCTAssertFalse(y.requiresGrad)
    }

    func testGradientsStayOnLeavesAndLossAndTheRestIsFreed() {
        let tape = Tape()
        let x = tape.variable(Tensor(shape: [1, 3], data: [1, -2, 3]))
        weak var hidden: Variable?
        var loss: Variable
        do {
            let h = tape.relu(x)
            hidden = h
            loss = tape.mse(h, tape.constant(Tensor(zeros: [1, 3])))
        }
        XCTAssertEqual(tape.recordedCount, 2)
        XCTAssertNotNil(hidden, "the tape keeps what backward needs")
        tape.backward(loss)
        XCTAssertEqual(tape.recordedCount, 0)
        XCTAssertNil(hidden, "after backward the tape holds no intermediate values")
        XCTAssertEqual(loss.grad?.data, [1])
        // d/dx mean(relu(x)²) = 2·relu(x)/3 where x > 0
        assertClose(x.grad?.data ?? [], [2.0 / 3, 0, 2], accuracy: 1e-6)
    }

    func testIntermediateGradientsAreReleased() {
        let tape = Tape()
        let x = tape.variable(Tensor(shape: [2], data: [1, 2]))
        let h = tape.scale(x, 2)
        let loss = tape.mse(h, tape.constant(Tensor(zeros: [2])))
        tape.backward(loss)
        XCTAssertNil(h.grad)
        XCTAssertNotNil(x.grad)
    }

    func testTrainingFollowsRecordingUnlessSet() {
        XCTAssertTrue(Tape().training)
        XCTAssertFalse(Tape(recording: false).training)
        XCTAssertTrue(Tape(recording: false, training: true).training)
        XCTAssertFalse(Tape(recording: true, training: false).training)
    }
}

private func assertClose(_ a: [Float], _ b: [Float], accuracy: Float, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
