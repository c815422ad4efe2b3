#ifndef CLOUPEQUANTIZE_ROWS_H
#define CLOUPEQUANTIZE_ROWS_H
// The one-row quantiser the rest of the target shares, picked at load for the processor.
#include <stdint.h>

/// Quantises `cols` fp32 values to symmetric int8 codes and stores the row's scale (`max|x| / 127`).
typedef void (*loupe_quantize_row_fn)(const float *row, int64_t cols, int8_t *codes, float *scale);
extern loupe_quantize_row_fn loupe_quantize_row;

/// Whether the AVX-512 kernels were picked (the processor has AVX-512F).
extern int loupe_have_avx512;

#endif
