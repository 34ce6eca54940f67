// Compares the tape's gradients with central finite differences (the check that keeps every
// op's backward honest, as in micrograd and llm.c). Non-scalar outputs are reduced to the
// objective Σ r ⊙ output with fixed random weights r, summed in Double, so that one check
// covers every output element and the objective adds no float32 rounding of its own; the
// remaining noise is the op's float32 forward, ~1e-7·|objective|/h per numeric derivative.
// A scalar loss is already rounded to float32, which is why steps below ~1e-3 do not pay.

import TBCore
import TBTensor

/// Finite-difference checks of the tape's gradients.
public enum GradientCheck {
    /// How one input's gradient compares: the worst element by relative error.
    public struct Result: CustomStringConvertible {
        /// Largest |analytic − numeric| / max(|analytic|, |numeric|, floor) over the checked elements.
        public var worstError: Float
        /// Flat index of that element, with both derivatives there.
        public var worstIndex: Int
        public var analytic: Float
        public var numeric: Float

        public var description: String {
            "worst error \(worstError) at \(worstIndex): analytic \(analytic), numeric \(numeric)"
        }
    }

    /// Checks d(objective)/d(input) for each of `inputs`, where `function` builds the output on
    /// a tape from the inputs as variables. Each checked element is moved ±`step` in float32
    /// and the objective re-evaluated on a non-recording tape in mode `training`.
    /// Errors are relative to max(|analytic|, |numeric|, floor), the floor being the larger of
    /// `absoluteFloor` and 10% of the input's largest numeric derivative (so that entries near
    /// zero are judged on the tensor's scale). At most `elementsPerInput` evenly spaced
    /// elements of each input are checked. `function` must be deterministic (seed its dropout).
    /// With kinks (ReLU, max pool), choose inputs whose activations lie farther from a kink
    /// than ±`step` moves them, or the differences across a kink will not match.
    public static func run(inputs: [Tensor], step: Float = 1e-2, absoluteFloor: Float = 1e-6,
                           elementsPerInput: Int = 200, training: Bool = true, seed: UInt64 = 1,
                           _ function: (Tape, [Variable]) -> Variable) -> [Result] {
        let tape = Tape(recording: true, training: training)
        let variables = inputs.map { tape.variable($0) }
        let output = function(tape, variables)
        // r: fixed random weights of the objective Σ r ⊙ output; 1 for a scalar loss.
        var generator = SeededGenerator(seed: seed)
        let weights = output.value.count == 1
            ? Tensor(shape: output.shape, repeating: 1)
            : Tensor(randomNormal: output.shape, generator: &generator)
        tape.backward(output, seed: weights)

        func objective(_ perturbed: [Tensor]) -> Double {
            let t = Tape(recording: false, training: training)
            let out = function(t, perturbed.map { t.constant($0) })
            var sum: Double = 0
            for i in 0..<out.value.count { sum += Double(out.value.data[i]) * Double(weights.data[i]) }
            return sum
        }

        var results: [Result] = []
        for (k, input) in inputs.enumerated() {
            let analytic = variables[k].grad ?? Tensor(zeros: input.shape)
            let checked = input.count <= elementsPerInput
                ? Array(0..<input.count)
                : (0..<elementsPerInput).map { $0 * input.count / elementsPerInput }
            let numeric = checked.map { e -> Float in
                var moved = inputs
                let x = input.data[e], up = x + step, down = x - step
                moved[k].data[e] = up
                let plus = objective(moved)
                moved[k].data[e] = down
                let minus = objective(moved)
                // Divide by the float32 step actually taken, not the nominal one.
                return Float((plus - minus) / Double(up - down))
            }
            let floor = max(absoluteFloor, 0.1 * (numeric.map { abs($0) }.max() ?? 0))
            var result = Result(worstError: 0, worstIndex: -1, analytic: 0, numeric: 0)
            for (c, e) in checked.enumerated() {
                let a = analytic.data[e], n = numeric[c]
                let error = abs(a - n) / max(abs(a), abs(n), floor)
                if error >= result.worstError {
                    result = Result(worstError: error, worstIndex: e, analytic: a, numeric: n)
                }
            }
            results.append(result)
        }
        return results
    }
}
