#ifndef CLOUPEQUANTIZE_H
#define CLOUPEQUANTIZE_H
// Dynamic int8 quantisation of activation rows, and the dequantisation of int8 products, for LoupeTensor.
// Kernels are picked once at load time for the best instruction set the processor has (AVX-512, AVX2, or
// portable C), and row passes run on the OpenMP threads oneDNN uses. No API promise: LoupeTensor wraps it.
#include <stdint.h>

/// Quantises each of `rows` rows of `cols` fp32 values (row stride `cols`) to symmetric int8.
///
/// Row r gets scale[r] = max|x| / 127 and q = round_half_even(x * (127 / max|x|)), so q lies in
/// [-127, 127] and x ≈ q * scale[r]. An all-zero row gets scale 0 and zeros. Non-finite inputs give
/// unspecified (but in-range) codes.
void loupe_quantize_rows_s8(const float *x, int64_t rows, int64_t cols, int8_t *q, float *scale);

/// The activation applied after dequantisation (LoupeTensor's `Activation`).
typedef enum {
    LOUPE_ACTIVATION_IDENTITY = 0,
    /// x * Φ(x), with erf.
    LOUPE_ACTIVATION_GELU = 1,
    /// 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³))).
    LOUPE_ACTIVATION_GELU_TANH = 2,
    /// x * sigmoid(1.702 x).
    LOUPE_ACTIVATION_QUICK_GELU = 3,
    LOUPE_ACTIVATION_RELU = 4,
} loupe_activation;

/// Dequantises an int8 product: out = act((accumulate ? out : 0) + acc * row_scale[r] * col_scale[c] + bias[c])
/// (bias may be NULL), where `acc` holds the product's int32 sums, row-major `rows x cols`.
void loupe_dequantize_rows(const int32_t *acc, int64_t rows, int64_t cols, const float *row_scale, const float *col_scale,
                           const float *bias, loupe_activation activation, int accumulate, float *out);

/// Dequantises an int8 product as `loupe_dequantize_rows` does without accumulating, and writes bf16 (the
/// upper half of each fp32 value, rounded to nearest even).
void loupe_dequantize_rows_bf16(const int32_t *acc, int64_t rows, int64_t cols, const float *row_scale,
                                const float *col_scale, const float *bias, loupe_activation activation, uint16_t *out);

/// Dequantises an int8 product as `loupe_dequantize_rows` does without accumulating, then quantises each
/// resulting row as `loupe_quantize_rows_s8` does, without writing the fp32 rows: the codes and scales equal
/// those of the two calls in turn. `acc` is scratch: its rows are overwritten.
void loupe_requantize_rows(int32_t *acc, int64_t rows, int64_t cols, const float *row_scale, const float *col_scale,
                           const float *bias, loupe_activation activation, int8_t *q, float *scale);

/// Layer-normalises each row (y = (x - mean) / sqrt(var + eps) * gamma[c] + beta[c]) and quantises y as
/// `loupe_quantize_rows_s8` does, without writing the fp32 rows.
void loupe_layer_norm_quantize_rows(const float *x, int64_t rows, int64_t cols, const float *gamma, const float *beta,
                                    float eps, int8_t *q, float *scale);

/// Name of the instruction set the kernels use for row passes started on this thread ("avx512", "avx2",
/// "portable"): the processor's best, capped by the environment's LOUPE_MAX_ISA.
const char *loupe_quantize_level(void);

/// Makes row passes started on the calling thread use the kernels of `level` ("avx512", "avx2" or
/// "portable"); NULL restores the default. Returns -1, changing nothing, for an unknown name or a level
/// the processor lacks (or LOUPE_MAX_ISA excludes). For tests, which check every level the machine has.
int loupe_quantize_use_level(const char *level);

#endif
