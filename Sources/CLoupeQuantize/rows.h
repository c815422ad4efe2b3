#ifndef CLOUPEQUANTIZE_ROWS_H
#define CLOUPEQUANTIZE_ROWS_H
// What the target's files share: the kernel levels and the one-row quantiser.
#include <stdint.h>

/// Kernel levels, best last. Row passes take the level once, on the thread that starts them, and hand it
/// to the OpenMP threads that run them.
enum { LOUPE_LEVEL_PORTABLE = 0, LOUPE_LEVEL_AVX2 = 1, LOUPE_LEVEL_AVX512 = 2 };

/// The level for row passes started on this thread: the processor's best (AVX2 needs FMA too), capped by
/// the environment's LOUPE_MAX_ISA ("avx512", "avx2" or "portable"), unless this thread chose another.
int loupe_level(void);

/// Quantises `cols` fp32 values to symmetric int8 codes and stores the row's scale (`max|x| / 127`).
void loupe_quantize_row(int level, const float *row, int64_t cols, int8_t *codes, float *scale);

#endif
