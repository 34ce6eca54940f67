#include "mpi_loader.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef void *handle;  // MPI_Comm, MPI_Datatype, MPI_Op: pointers in Open MPI's ABI

static int (*init_)(int *, char ***);
static int (*comm_rank_)(handle, int *);
static int (*comm_size_)(handle, int *);
static int (*reduce_)(const void *, void *, int, handle, handle, int, handle);
static int (*bcast_)(void *, int, handle, int, handle);
static int (*barrier_)(handle);
static int (*finalize_)(void);
static int (*abort_)(handle, int);
static int (*library_version_)(char *, int *);
static handle comm_world, mpi_float, op_sum;
static char version[512];

// Open MPI's MPI_IN_PLACE.
#define IN_PLACE ((void *)1)
#define PIECE ((size_t)1 << 28)

int tb_mpi_load(char *error, size_t error_size) {
    // RTLD_GLOBAL: Open MPI's plugins (dlopened by libmpi) look up libmpi's symbols globally.
    void *lib = dlopen("libmpi.so.40", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) lib = dlopen("libmpi.so", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
        snprintf(error, error_size, "cannot load libmpi.so.40 (%s)", dlerror());
        return -1;
    }
#define RESOLVE(var, name)                                                                        \
    if (!(*(void **)&var = dlsym(lib, name))) {                                                   \
        snprintf(error, error_size, "libmpi has no %s: not Open MPI", name);                       \
        return -1;                                                                                \
    }
    RESOLVE(init_, "MPI_Init")
    RESOLVE(comm_rank_, "MPI_Comm_rank")
    RESOLVE(comm_size_, "MPI_Comm_size")
    RESOLVE(reduce_, "MPI_Reduce")
    RESOLVE(bcast_, "MPI_Bcast")
    RESOLVE(barrier_, "MPI_Barrier")
    RESOLVE(finalize_, "MPI_Finalize")
    RESOLVE(abort_, "MPI_Abort")
    RESOLVE(library_version_, "MPI_Get_library_version")
    RESOLVE(comm_world, "ompi_mpi_comm_world")
    RESOLVE(mpi_float, "ompi_mpi_float")
    RESOLVE(op_sum, "ompi_mpi_op_sum")
#undef RESOLVE
    int length = 0;
    library_version_(version, &length);
    char *newline = strchr(version, '\n');
    if (newline) *newline = 0;
    return 0;
}

int tb_mpi_init(int *rank, int *size) {
    int e = init_(NULL, NULL);
    if (e) return e;
    if ((e = comm_rank_(comm_world, rank))) return e;
    return comm_size_(comm_world, size);
}

int tb_mpi_reduce_sum_float(float *values, size_t count, int root) {
    int rank = 0, e = comm_rank_(comm_world, &rank);
    for (size_t done = 0; !e && done < count; done += PIECE) {
        size_t n = count - done < PIECE ? count - done : PIECE;
        // The root receives in place; the others only send.
        e = rank == root ? reduce_(IN_PLACE, values + done, (int)n, mpi_float, op_sum, root, comm_world)
                         : reduce_(values + done, NULL, (int)n, mpi_float, op_sum, root, comm_world);
    }
    return e;
}

int tb_mpi_bcast_float(float *values, size_t count, int root) {
    int e = 0;
    for (size_t done = 0; !e && done < count; done += PIECE) {
        size_t n = count - done < PIECE ? count - done : PIECE;
        e = bcast_(values + done, (int)n, mpi_float, root, comm_world);
    }
    return e;
}

int tb_mpi_barrier(void) { return barrier_(comm_world); }
int tb_mpi_finalize(void) { return finalize_(); }
void tb_mpi_abort(int status) { abort_(comm_world, status); }
const char *tb_mpi_library_version(void) { return version; }
