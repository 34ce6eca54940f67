import XCTest
import TBCore
import TBNN

/// The values are PyTorch's closed forms (torch.optim.lr_scheduler), written out in Double.
final class ScheduleTests: XCTestCase {
    private func assertRates(_ schedule: LearningRateSchedule, _ expected: [Int: Double],
                             file: StaticString = #filePath, line: UInt = #line) {
        for (step, rate) in expected.sorted(by: { $0.key < $1.key }) {
            XCTAssertEqual(Double(schedule.rate(at: step)), rate, accuracy: 1e-9 + 1e-6 * abs(rate),
                           "step \(step)", file: file, line: line)
        }
    }

    func testConstant() {
        assertRates(ConstantSchedule(0.1), [0: 0.1, 1: 0.1, 1_000_000: 0.1])
    }

    func testLinearIsLinearLR() throws {
        // LinearLR(start_factor=0.25, end_factor=1, total_iters=4): base · (0.25 + 0.75 · min(t, 4) / 4).
        let warm = try LinearSchedule(base: 0.1, startFactor: 0.25, steps: 4)
        assertRates(warm, [0: 0.025, 1: 0.04375, 2: 0.0625, 3: 0.08125, 4: 0.1, 9: 0.1])
        // And as a linear decay, LinearLR(start_factor=1, end_factor=0.1, total_iters=10).
        let decay = try LinearSchedule(base: 0.2, startFactor: 1, endFactor: 0.1, steps: 10)
        assertRates(decay, [0: 0.2, 5: 0.2 * 0.55, 10: 0.02, 20: 0.02])
    }

    func testCosineIsCosineAnnealingLR() throws {
        // η_min + (η_max − η_min)(1 + cos(π t / T)) / 2 with η_max 0.1, η_min 0.001, T 10.
        let cosine = try CosineSchedule(base: 0.1, minimum: 0.001, steps: 10)
        func closedForm(_ t: Double) -> Double { 0.001 + 0.099 * (1 + cos(Double.pi * t / 10)) / 2 }
        assertRates(cosine, [0: 0.1, 3: closedForm(3), 5: 0.0505, 7: closedForm(7), 10: 0.001])
        // Past T it stays at the minimum instead of rising again as the periodic formula would.
        assertRates(cosine, [11: 0.001, 15: 0.001, 100: 0.001])
        assertRates(try CosineSchedule(base: 1, steps: 4), [0: 1, 2: 0.5, 4: 0])
    }

    func testStepDecayIsStepLR() throws {
        // StepLR(step_size=3, gamma=0.5): base · 0.5^⌊t / 3⌋.
        let schedule = try StepDecaySchedule(base: 0.1, gamma: 0.5, every: 3)
        assertRates(schedule, [0: 0.1, 2: 0.1, 3: 0.05, 5: 0.05, 6: 0.025, 30: 0.1 * pow(0.5, 10)])
    }

    func testMilestonesAreMultiStepLR() {
        // MultiStepLR(milestones=[5, 2, 5], gamma=0.1): base · 0.1^bisect_right(sorted, t); a
        // repeated milestone decays twice, as PyTorch's Counter of milestones does.
        let schedule = StepDecaySchedule(base: 1, gamma: 0.1, milestones: [5, 2, 5])
        assertRates(schedule, [0: 1, 1: 1, 2: 0.1, 4: 0.1, 5: 0.001, 50: 0.001])
    }

    func testWarmupFromZeroThenCosine() throws {
        // SequentialLR([LinearLR(0 → 1 over 5), CosineAnnealingLR(T_max=10, eta_min=0.01)], milestones=[5]).
        let schedule = try WarmupSchedule(steps: 5, then: CosineSchedule(base: 0.1, minimum: 0.01, steps: 10))
        assertRates(schedule, [0: 0, 1: 0.02, 4: 0.08, 5: 0.1, 10: 0.055, 15: 0.01, 40: 0.01])
        XCTAssertLessThan(schedule.rate(at: 4), schedule.rate(at: 5))
        XCTAssertGreaterThan(schedule.rate(at: 6), schedule.rate(at: 7))
    }

    func testWarmupFromAStartFactorThenStepDecay() throws {
        let after = try StepDecaySchedule(base: 0.4, gamma: 0.5, every: 10)
        let schedule = try WarmupSchedule(steps: 4, startFactor: 0.25, then: after)
        assertRates(schedule, [0: 0.1, 1: 0.175, 2: 0.25, 3: 0.325, 4: 0.4, 13: 0.4, 14: 0.2, 24: 0.1])
        // No warmup at all is the schedule itself.
        let none = try WarmupSchedule(steps: 0, then: after)
        assertRates(none, [0: 0.4, 10: 0.2])
    }

    func testNegativeStepsCountAsZero() throws {
        XCTAssertEqual(try CosineSchedule(base: 0.1, steps: 10).rate(at: -3), 0.1)
        XCTAssertEqual(try WarmupSchedule(steps: 2, then: ConstantSchedule(1)).rate(at: -1), 0)
    }

    func testRefusesNonsense() {
        func status(_ make: () throws -> LearningRateSchedule) -> ExitStatus? {
            do { _ = try make(); return nil } catch { return (error as? Failure)?.status }
        }
        XCTAssertEqual(status { try CosineSchedule(base: 0.1, steps: 0) }, .usage)
        XCTAssertEqual(status { try LinearSchedule(base: 0.1, startFactor: 1.5, steps: 3) }, .usage)
        XCTAssertEqual(status { try LinearSchedule(base: 0.1, startFactor: 0.5, steps: 0) }, .usage)
        XCTAssertEqual(status { try StepDecaySchedule(base: 0.1, every: 0) }, .usage)
        XCTAssertEqual(status { try WarmupSchedule(steps: -1, then: ConstantSchedule(1)) }, .usage)
        XCTAssertEqual(status { try WarmupSchedule(steps: 3, startFactor: -0.1, then: ConstantSchedule(1)) }, .usage)
    }
}
