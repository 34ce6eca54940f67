// Learning-rate schedules as pure functions of the step, so a resumed run needs only its step
// count to be back on the curve. Each is the closed form of the PyTorch scheduler it names,
// PyTorch's `last_epoch` being our completed step count: the rate used by the step after
// `step` completed ones. Factors are Doubles and the arithmetic is in Double, as in Python;
// only the rate handed to the optimizer is a Float.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The learning rate as a function of the number of completed steps.
public protocol LearningRateSchedule: Sendable {
    /// The rate for the step after `step` completed ones; a negative step counts as 0.
    func rate(at step: Int) -> Float
}

/// The same rate throughout.
public struct ConstantSchedule: LearningRateSchedule {
    public let base: Float

    public init(_ base: Float) { self.base = base }

    public func rate(at step: Int) -> Float { base }
}

/// LinearLR: base × (start + (end − start) · min(step, steps) / steps), then end × base.
public struct LinearSchedule: LearningRateSchedule {
    public let base: Float
    public let startFactor: Double
    public let endFactor: Double
    public let steps: Int

    /// Factors in [0, 1] (PyTorch refuses a start of 0, which warmup from 0 needs), steps ≥ 1.
    public init(base: Float, startFactor: Double, endFactor: Double = 1, steps: Int) throws {
        try requireHyperparameter((0...1).contains(startFactor), "linear schedule start factor \(startFactor) is not in [0, 1]")
        try requireHyperparameter((0...1).contains(endFactor), "linear schedule end factor \(endFactor) is not in [0, 1]")
        try requireHyperparameter(steps >= 1, "linear schedule needs at least 1 step, not \(steps)")
        self.base = base
        self.startFactor = startFactor
        self.endFactor = endFactor
        self.steps = steps
    }

    public func rate(at step: Int) -> Float {
        let done = Double(min(max(step, 0), steps))
        return Float(Double(base) * (startFactor + (endFactor - startFactor) * done / Double(steps)))
    }
}

/// CosineAnnealingLR's closed form, minimum + (base − minimum)(1 + cos(π · step / steps)) / 2,
/// held at the minimum after `steps` where PyTorch's formula would climb again.
public struct CosineSchedule: LearningRateSchedule {
    public let base: Float
    public let minimum: Float
    public let steps: Int

    /// Decays from `base` to `minimum` (PyTorch's eta_min) over `steps` ≥ 1 (PyTorch's T_max).
    public init(base: Float, minimum: Float = 0, steps: Int) throws {
        try requireHyperparameter(steps >= 1, "cosine schedule needs at least 1 step, not \(steps)")
        self.base = base
        self.minimum = minimum
        self.steps = steps
    }

    public func rate(at step: Int) -> Float {
        let t = Double(min(max(step, 0), steps))
        let low = Double(minimum)
        return Float(low + (Double(base) - low) * (1 + cos(Double.pi * t / Double(steps))) / 2)
    }
}

/// StepLR (×γ every k steps) or MultiStepLR (×γ at each milestone): base × γ^(decays so far).
public struct StepDecaySchedule: LearningRateSchedule {
    /// When the rate is multiplied by γ.
    public enum When: Equatable, Sendable {
        /// After every k steps: γ^⌊step / k⌋ (StepLR's step_size).
        case every(Int)
        /// At each milestone reached: γ^(milestones ≤ step) (MultiStepLR; repeats count twice).
        case milestones([Int])
    }

    public let base: Float
    public let gamma: Double
    public let when: When

    /// StepLR: multiplies by `gamma` every `steps` ≥ 1 steps.
    public init(base: Float, gamma: Double = 0.1, every steps: Int) throws {
        try requireHyperparameter(steps >= 1, "step decay needs a period of at least 1 step, not \(steps)")
        self.base = base
        self.gamma = gamma
        when = .every(steps)
    }

    /// MultiStepLR: multiplies by `gamma` on reaching each milestone (in any order).
    public init(base: Float, gamma: Double = 0.1, milestones: [Int]) {
        self.base = base
        self.gamma = gamma
        when = .milestones(milestones.sorted())
    }

    public func rate(at step: Int) -> Float {
        let s = max(step, 0)
        let decays: Int
        switch when {
        case .every(let k): decays = s / k
        case .milestones(let m): decays = m.filter { $0 <= s }.count  // Python's bisect_right
        }
        return Float(Double(base) * pow(gamma, Double(decays)))
    }
}

/// Linear warmup, then another schedule from its own step 0, as PyTorch's
/// SequentialLR([LinearLR(start_factor, 1, steps), after], milestones=[steps]):
/// the rate rises from startFactor × `after`'s first rate to that rate over `steps`.
public struct WarmupSchedule: LearningRateSchedule {
    public let steps: Int
    public let startFactor: Double
    public let after: any LearningRateSchedule

    /// Warms up over `steps` ≥ 0 (0: none) from `startFactor` in [0, 1] (0: from zero).
    public init(steps: Int, startFactor: Double = 0, then after: any LearningRateSchedule) throws {
        try requireHyperparameter(steps >= 0, "warmup of \(steps) steps is negative")
        try requireHyperparameter((0...1).contains(startFactor), "warmup start factor \(startFactor) is not in [0, 1]")
        self.steps = steps
        self.startFactor = startFactor
        self.after = after
    }

    public func rate(at step: Int) -> Float {
        let s = max(step, 0)
        guard s < steps else { return after.rate(at: s - steps) }
        let target = Double(after.rate(at: 0))
        return Float(target * (startFactor + (1 - startFactor) * Double(s) / Double(steps)))
    }
}
