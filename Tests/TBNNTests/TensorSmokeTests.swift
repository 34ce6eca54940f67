import XCTest
import TBCore
import TBTensor

final class TensorSmokeTests: XCTestCase {
    func testGeometryMatchesPyTorchFormula() {
        XCTAssertEqual(ConvGeometry.outputSize(56, kernel: 7, stride: 2, padding: 3, dilation: 1), 28)
        XCTAssertEqual(ConvGeometry.outputSize(8, kernel: 3, stride: 1, padding: 2, dilation: 2), 8)
        XCTAssertEqual(ConvGeometry.outputSize(1, kernel: 3, stride: 2, padding: 0, dilation: 1), 0)
        var g = SeededGenerator(seed: 1)
        let t = Tensor(randomNormal: [1000], generator: &g)
        let mean = t.data.reduce(0, +) / 1000
        XCTAssertLessThan(abs(mean), 0.1)
    }
}
