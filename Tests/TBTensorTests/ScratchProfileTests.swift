import XCTest
import TBCore
@testable import TBTensor

final class ScratchProfileTests: XCTestCase {
    func testProfileBudgets() throws {
        try XCTSkipIf(ProcessInfo.processInfo.environment["TB_PROFILE"] == nil)
        let layers = Array(KernelBench.r3dSmall.prefix(5))
        for kb in [256, 512, 1024, 2048, 4096, 16384] {
            ConvShape.tileBudgetBytes = kb << 10
            let rows = KernelBench.run(layers: layers, seconds: 0.2)
            print("budget \(kb) KB: " + rows.map { String(format: "%.0f/%.0f", $0.gflops, $0.sgemmGflops) }.joined(separator: " "))
        }
    }
}
