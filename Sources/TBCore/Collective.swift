// What data-parallel training asks of a group of processes (MPI's ranks): who am I, how
// many are we, sum these numbers over all of us, give everyone rank 0's numbers. The
// libraries that train see only this protocol; TBDistributed implements it over Open MPI.

/// A fixed group of processes that run the same program in lockstep.
public protocol Collective: AnyObject {
    /// This process's number, 0..<size; rank 0 writes the outputs.
    var rank: Int { get }
    /// The number of processes.
    var size: Int { get }
    /// Replaces `values` on every rank by their element-wise sum over all ranks, the same
    /// bits on every rank, added in an order fixed by the group (not by timing).
    func sum(_ values: inout [Float]) throws
    /// Replaces `values` on every rank by rank 0's.
    func broadcast(_ values: inout [Float]) throws
}
