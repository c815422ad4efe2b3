#ifndef CLOUPEQUANTIZE_PARALLEL_H
#define CLOUPEQUANTIZE_PARALLEL_H
// Row-parallel loops on the OpenMP thread pool oneDNN itself runs on.
//
// Debian's oneDNN is built with GNU OpenMP (libgomp). Work handed to a second pool (GCD, pthreads) runs
// while libgomp's workers spin-wait for oneDNN's next product, so on two cores it gains nothing (measured).
// Clang's own OpenMP lowering targets LLVM's runtime, a second pool again, so the loop is started with
// libgomp's entry point directly: `GOMP_parallel` is the ABI GCC compiles `#pragma omp parallel` to.
#include <stdint.h>

/// Calls body(context, begin, end) on consecutive row ranges covering [0, rows), one per OpenMP thread,
/// or once on the calling thread when the work (rows x cols values) is too small to share.
typedef void (*loupe_rows_body)(void *context, int64_t begin, int64_t end);
void loupe_parallel_rows(int64_t rows, int64_t cols, loupe_rows_body body, void *context);

#endif
