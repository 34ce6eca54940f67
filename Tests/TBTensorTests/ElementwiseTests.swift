import XCTest
import TBTensor

final class ElementwiseTests: XCTestCase {
    func testReluAndBackward() {
        let x = Tensor(shape: [5], data: [-2, 0, 3, .nan, -0.5])
        let y = Elementwise.relu(x)
        XCTAssertEqual(Array(y.data[0..<3]), [0, 0, 3])
        XCTAssertTrue(y.data[3].isNaN, "NaN passes through, as PyTorch")
        XCTAssertEqual(y.data[4], 0)
        let dx = Elementwise.reluBackward(gradOutput: Tensor(shape: [5], data: [1, 2, 3, 4, 5]), output: y)
        XCTAssertEqual(dx.data, [0, 0, 3, 0, 0])
    }

    func testAxpyScaleAndChannelBias() {
        var y = Tensor(shape: [4], data: [1, 2, 3, 4])
        Elementwise.axpy(2, Tensor(shape: [4], data: [1, 1, 0, -1]), &y)
        XCTAssertEqual(y.data, [3, 4, 3, 2])
        Elementwise.scale(&y, by: 0.5)
        XCTAssertEqual(y.data, [1.5, 2, 1.5, 1])
        XCTAssertEqual(Elementwise.sum(y, y).data, [3, 4, 3, 2])
        // [N 2, C 2, V 2]
        var x = Tensor(zeros: [2, 2, 2])
        Elementwise.addChannelBias(&x, Tensor(shape: [2], data: [1, -1]))
        XCTAssertEqual(x.data, [1, 1, -1, -1, 1, 1, -1, -1])
        XCTAssertEqual(Elementwise.channelSums(x).data, [4, -4])
    }
}
