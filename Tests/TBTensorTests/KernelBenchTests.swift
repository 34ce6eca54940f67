import XCTest
import TBTensor

final class KernelBenchTests: XCTestCase {
    /// The bench runs and reports every pass of a tiny layer; no timing is asserted.
    func testBenchProducesRows() {
        let layer = KernelBench.Layer(name: "tiny", inputShape: [2, 3, 2, 5, 5], outChannels: 4,
                                      geometry: .cube(kernel: 3, stride: 2, padding: 1))
        let rows = KernelBench.run(layers: [layer], seconds: 0)
        XCTAssertEqual(rows.map(\.pass), ["forward", "backwardInput", "backwardWeight"])
        XCTAssertTrue(rows.allSatisfy { $0.gflops > 0 && $0.sgemmGflops > 0 })
        XCTAssertTrue(KernelBench.table(rows).contains("tiny"))
    }

    /// The full R3D-S table, by hand: TB_KERNEL_BENCH=1 OPENBLAS_CORETYPE=SkylakeX swift test ... --filter testPrintTable
    func testPrintTable() throws {
        try XCTSkipIf(ProcessInfo.processInfo.environment["TB_KERNEL_BENCH"] == nil, "set TB_KERNEL_BENCH=1 to run")
        print(KernelBench.table(KernelBench.run()))
    }
}
