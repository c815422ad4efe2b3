#include "parallel.h"

#if defined(__linux__)
// libgomp's ABI (GCC's lowering of `#pragma omp parallel`) and the standard OpenMP queries.
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
extern int omp_get_max_threads(void);

// Below this many values a row pass takes a few microseconds, less than waking the pool.
#define LOUPE_PARALLEL_MIN_VALUES (64 * 1024)

struct parallel_job {
    int64_t rows;
    loupe_rows_body body;
    void *context;
};

static void run_share(void *data) {
    const struct parallel_job *job = data;
    const int64_t threads = omp_get_num_threads();
    const int64_t thread = omp_get_thread_num();
    const int64_t begin = job->rows * thread / threads;
    const int64_t end = job->rows * (thread + 1) / threads;
    if (begin < end) job->body(job->context, begin, end);
}

void loupe_parallel_rows(int64_t rows, int64_t cols, loupe_rows_body body, void *context) {
    if (rows <= 0) return;
    const int threads = omp_get_max_threads();
    if (threads <= 1 || rows < 2 || rows * cols < LOUPE_PARALLEL_MIN_VALUES) {
        body(context, 0, rows);
        return;
    }
    struct parallel_job job = {rows, body, context};
    GOMP_parallel(run_share, &job, (unsigned)(threads < rows ? threads : rows), 0);
}
#else
// Elsewhere oneDNN is not built on libgomp: the passes run on the calling thread.
void loupe_parallel_rows(int64_t rows, int64_t cols, loupe_rows_body body, void *context) {
    (void)cols;
    if (rows > 0) body(context, 0, rows);
}
#endif
