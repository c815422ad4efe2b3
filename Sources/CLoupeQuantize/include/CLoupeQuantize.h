#ifndef CLOUPEQUANTIZE_H
#define CLOUPEQUANTIZE_H
// Dynamic int8 quantisation of activation rows for LoupeTensor's int8 matrix products. The kernel is
// picked once at load time for the best instruction set the processor has (AVX-512, AVX2, or portable
// C). No API promise: LoupeTensor wraps it.
#include <stdint.h>

/// Quantises each of `rows` rows of `cols` fp32 values (row stride `cols`) to symmetric int8.
///
/// Row r gets scale[r] = max|x| / 127 and q = round_half_even(x * (127 / max|x|)), so q lies in
/// [-127, 127] and x ≈ q * scale[r]. An all-zero row gets scale 0 and zeros. Non-finite inputs give
/// unspecified (but in-range) codes.
void loupe_quantize_rows_s8(const float *x, int64_t rows, int64_t cols, int8_t *q, float *scale);

/// Dequantises an int8 product: out = (accumulate ? out : 0) + acc * row_scale[r] * col_scale[c] + bias[c]
/// (bias may be NULL), where `acc` holds the product's int32 sums, row-major `rows x cols`.
void loupe_dequantize_rows(const int32_t *acc, int64_t rows, int64_t cols, const float *row_scale, const float *col_scale,
                           const float *bias, int accumulate, float *out);

/// Name of the instruction set the kernel uses ("avx512", "avx2", "portable").
const char *loupe_quantize_level(void);

#endif
