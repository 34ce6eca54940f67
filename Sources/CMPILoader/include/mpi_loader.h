// Open MPI, loaded at run time: tb builds and runs without MPI, and only a program started
// by mpirun (or given --distributed) asks for libmpi. No mpi.h: the few functions tb calls
// are resolved with dlsym, and the predefined handles are Open MPI's global objects, whose
// addresses are the handles (MPI_COMM_WORLD is &ompi_mpi_comm_world, and so on).
#ifndef TB_MPI_LOADER_H
#define TB_MPI_LOADER_H

#include <stddef.h>

/// Loads libmpi (libmpi.so.40, Debian's soname, else libmpi.so) and resolves what tb uses.
/// Returns 0, or -1 with a one-line reason in `error`.
int tb_mpi_load(char *error, size_t error_size);
/// MPI_Init, then the rank and size in MPI_COMM_WORLD. Returns an MPI error code (0: success).
int tb_mpi_init(int *rank, int *size);
/// In-place sum over all ranks into rank `root` (MPI_Reduce), in pieces of at most 2^28 floats.
int tb_mpi_reduce_sum_float(float *values, size_t count, int root);
/// MPI_Bcast of floats from `root`, in pieces.
int tb_mpi_bcast_float(float *values, size_t count, int root);
int tb_mpi_barrier(void);
int tb_mpi_finalize(void);
/// MPI_Abort on MPI_COMM_WORLD: ends every rank with `status`.
void tb_mpi_abort(int status);
/// Open MPI's version string (MPI_Get_library_version), or "" before loading.
const char *tb_mpi_library_version(void);

#endif
