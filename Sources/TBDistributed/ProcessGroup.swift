// The MPI processes of one `mpirun` job as a `Collective`, over Open MPI loaded at run time
// (CMPILoader): tb builds and runs without MPI, and only a run under mpirun needs libmpi.

import CMPILoader
import TBCore
#if canImport(Glibc)
import Glibc
#endif

/// The ranks of MPI_COMM_WORLD. At most one per process: MPI is initialised once.
public final class ProcessGroup: Collective {
    public let rank: Int
    public let size: Int
    /// Open MPI's version line, e.g. "Open MPI v4.1.4, package: Debian OpenMPI, ...".
    public let libraryVersion: String

    /// Whether mpirun (Open MPI's, or a PMIx launcher) started this process.
    public static func launchedByMPI(environment: [String: String]) -> Bool {
        environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil
    }

    /// Loads libmpi and joins the job. A missing or foreign libmpi is `.unavailable` (69).
    public init() throws {
        var error = [CChar](repeating: 0, count: 512)
        guard tb_mpi_load(&error, error.count) == 0 else {
            throw Failure(.unavailable, "a rank of an MPI job needs Open MPI (Debian's openmpi-bin): "
                          + String(cString: error))
        }
        var r: Int32 = 0, s: Int32 = 0
        let e = tb_mpi_init(&r, &s)
        guard e == 0 else { throw Failure(.unavailable, "MPI_Init failed with MPI error \(e)") }
        rank = Int(r)
        size = Int(s)
        libraryVersion = String(cString: tb_mpi_library_version())
    }

    /// A sum to rank 0 and a broadcast back, rather than MPI_Allreduce: every rank then holds
    /// rank 0's bits, so replicated parameters can never drift apart, whatever algorithm
    /// Open MPI picks. For a given number of ranks and message size the order of the
    /// additions is fixed, so a run is repeatable.
    public func sum(_ values: inout [Float]) throws {
        guard size > 1 else { return }
        try check(values.withUnsafeMutableBufferPointer { tb_mpi_reduce_sum_float($0.baseAddress, $0.count, 0) },
                  "MPI_Reduce")
        try broadcast(&values)
    }

    public func broadcast(_ values: inout [Float]) throws {
        guard size > 1 else { return }
        try check(values.withUnsafeMutableBufferPointer { tb_mpi_bcast_float($0.baseAddress, $0.count, 0) },
                  "MPI_Bcast")
    }

    /// Waits for every rank, then leaves MPI (MPI_Finalize). Call once, at the end of a good run.
    public func finish() {
        _ = tb_mpi_barrier()
        _ = tb_mpi_finalize()
    }

    /// Ends the whole job with `status` (MPI_Abort): the other ranks may be waiting in a
    /// collective for this one, and would otherwise hang.
    public func abort(status: ExitStatus) -> Never {
        tb_mpi_abort(status.rawValue)
        exit(status.rawValue)
    }

    private func check(_ code: Int32, _ call: String) throws {
        // Open MPI's default error handler aborts the job before this is reached; kept for
        // handlers that return.
        if code != 0 { throw Failure(.ioError, "\(call) failed with MPI error \(code) on rank \(rank)") }
    }
}

extension ProcessGroup {
    /// Reports `error` as a program's main would (`tool: rank 1 of 2: file: record 3: problem`),
    /// runs `cleanup` (temporary files), and ends the whole job with the error's status.
    public func abort(_ error: Error, tool: String, cleanup: () -> Void) -> Never {
        let failure = error as? Failure ?? Failure.internalError("\(error)")
        cleanup()
        let line = "\(tool): rank \(rank) of \(size): \(failure)\n"
        _ = line.withCString { fputs($0, stderr) }
        fflush(stderr)
        abort(status: failure.status)
    }
}
