// What the training loop asks of an optimizer: set the rate, step, zero the gradients, and
// save or restore everything needed to continue a run as if it had never stopped.
//
// The loop, as with torch.optim and its schedulers:
//   optimizer.learningRate = schedule.rate(at: optimizer.stepCount)
//   optimizer.zeroGrad(); forward; backward; clipGradientNorm(...); optimizer.step()

import TBCore
import TBStream

/// Updates parameters from their gradients, as the torch.optim optimizer of the same name.
public protocol Optimizer: AnyObject {
    /// The parameters updated, in the order given at creation; names are unique.
    var parameters: [Parameter] { get }
    /// The rate the next `step` uses; a schedule sets it before each step.
    var learningRate: Float { get set }
    /// Calls of `step` since the run began, restored on resume.
    var stepCount: Int { get }
    /// Updates every parameter whose `requiresGrad` is true from its gradient.
    func step()
    /// Sets every gradient to zero, as the backward pass accumulates into them.
    func zeroGrad()
    /// Everything a resumed run needs: kind, step, rate, hyperparameters, per-parameter buffers.
    var state: OptimizerState { get }
    /// Takes over a saved state, hyperparameters included (as PyTorch's `load_state_dict`);
    /// refuses one of another kind or for other parameters with `.dataError`, changing nothing.
    func restore(_ state: OptimizerState) throws
}

extension Optimizer {
    /// Sets every gradient to zero.
    public func zeroGrad() {
        for p in parameters { p.grad.zero() }
    }

    /// Writes the state as a safetensors file (see `OptimizerState.write(to:)`).
    public func saveState(to sink: ByteSink) throws {
        try state.write(to: sink)
    }

    /// Restores from a file written by `saveState`; failures name the file.
    public func restoreState(from file: SafeTensorsFile) throws {
        do {
            try restore(OptimizerState(file: file))
        } catch let f as Failure {
            throw f.at(file: file.name)
        }
    }
}

/// Hyperparameters come from the command line, so a bad one is a usage error, as PyTorch's
/// constructors raise ValueError for them.
func requireHyperparameter(_ valid: Bool, _ message: @autoclosure () -> String) throws {
    if !valid { throw Failure(.usage, message()) }
}

/// State is keyed by parameter name, so two parameters with one name would share a buffer.
func requireUniqueNames(_ parameters: [Parameter]) throws {
    var seen = Set<String>()
    for p in parameters where !seen.insert(p.name).inserted {
        throw Failure(.software, "parameter given to the optimizer twice", tensor: p.name)
    }
}
