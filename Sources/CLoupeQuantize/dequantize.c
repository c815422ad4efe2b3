#include "CLoupeQuantize.h"
#include "parallel.h"
#include "rows.h"
#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// One row at a time: v = (a * row_scale) * col_scale, + bias, + the old output when accumulating, then the
// activation. Every level keeps that order (and no multiply-add is fused), so they differ only in the
// activation's last bits: the vector exp and erf below are within a few ulp of libm's.
#pragma STDC FP_CONTRACT OFF

static float activate_c(float x, loupe_activation activation) {
    switch (activation) {
    case LOUPE_ACTIVATION_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case LOUPE_ACTIVATION_GELU_TANH:
        return 0.5f * x * (1.0f + tanhf(0.79788456080286536f * (x + 0.044715f * x * x * x)));
    case LOUPE_ACTIVATION_QUICK_GELU: return x / (1.0f + expf(-1.702f * x));
    case LOUPE_ACTIVATION_RELU: return x > 0 ? x : 0;
    case LOUPE_ACTIVATION_IDENTITY: break;
    }
    return x;
}

static void dequantize_row_c(const int32_t *a, int64_t cols, float s, const float *col_scale, const float *bias,
                             loupe_activation activation, int accumulate, float *o) {
    for (int64_t c = 0; c < cols; c++) {
        float v = (float)a[c] * s * col_scale[c];
        if (bias) v += bias[c];
        if (accumulate) v = o[c] + v;
        o[c] = activate_c(v, activation);
    }
}

// fp32 to bf16, rounding to nearest even; NaN stays a quiet NaN.
static uint16_t to_bf16(float value) {
    union { float f; uint32_t u; } bits = {value};
    if (value != value) return 0x7FC0;
    return (uint16_t)((bits.u + 0x7FFF + ((bits.u >> 16) & 1)) >> 16);
}

static void dequantize_row_bf16_c(const int32_t *a, int64_t cols, float s, const float *col_scale, const float *bias,
                                  loupe_activation activation, uint16_t *o) {
    for (int64_t c = 0; c < cols; c++) {
        float v = (float)a[c] * s * col_scale[c];
        if (bias) v += bias[c];
        o[c] = to_bf16(activate_c(v, activation));
    }
}

#if defined(__x86_64__)
// e^x for x in float range: 2^n * e^r with n = round(x / ln 2), |r| <= ln 2 / 2, and e^r from its Taylor
// series to degree 7 (truncation below 1e-8 relative); inputs are clamped to [-88, 88].
__attribute__((target("avx512f"))) static inline __m512 exp_avx512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-88.0f)), _mm512_set1_ps(88.0f));
    const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                          _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // ln 2 in two parts, so n * ln2_hi is exact.
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

// 1 / d from the 14-bit estimate and one Newton step (relative error near 2^-28, then fp32 rounding):
// a division costs several times as much, and this runs on every value of an MLP's hidden rows.
__attribute__((target("avx512f"))) static inline __m512 reciprocal_avx512(__m512 d) {
    const __m512 r = _mm512_rcp14_ps(d);
    return _mm512_mul_ps(r, _mm512_fnmadd_ps(d, r, _mm512_set1_ps(2.0f)));
}

// x / (1 + e^(-z)): x * sigmoid(z).
__attribute__((target("avx512f"))) static inline __m512 times_sigmoid_avx512(__m512 x, __m512 z) {
    const __m512 one = _mm512_set1_ps(1.0f);
    return _mm512_mul_ps(x, reciprocal_avx512(_mm512_add_ps(one, exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), z)))));
}

// erf by Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7).
__attribute__((target("avx512f"))) static inline __m512 erf_avx512(__m512 x) {
    const __m512 z = _mm512_abs_ps(x);
    const __m512 one = _mm512_set1_ps(1.0f);
    const __m512 t = reciprocal_avx512(_mm512_fmadd_ps(_mm512_set1_ps(0.3275911f), z, one));
    __m512 p = _mm512_set1_ps(1.061405429f);
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.453152027f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.421413741f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.284496736f));
    p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.254829592f));
    p = _mm512_mul_ps(p, t);
    const __m512 e = exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(z, z)));
    const __m512 y = _mm512_fnmadd_ps(p, e, one);
    // Copy x's sign onto y.
    const __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), sign));
}

__attribute__((target("avx512f"))) static inline __m512 activate_avx512(__m512 x, loupe_activation activation) {
    switch (activation) {
    case LOUPE_ACTIVATION_GELU: {
        const __m512 half_x = _mm512_mul_ps(_mm512_set1_ps(0.5f), x);
        const __m512 e = erf_avx512(_mm512_mul_ps(x, _mm512_set1_ps(0.70710678118654752f)));
        return _mm512_fmadd_ps(half_x, e, half_x);
    }
    case LOUPE_ACTIVATION_GELU_TANH: {
        // 0.5 x (1 + tanh(u)) = x * sigmoid(2u).
        const __m512 x3 = _mm512_mul_ps(_mm512_mul_ps(x, x), x);
        const __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.79788456080286536f),
                                       _mm512_fmadd_ps(_mm512_set1_ps(0.044715f), x3, x));
        return times_sigmoid_avx512(x, _mm512_add_ps(u, u));
    }
    case LOUPE_ACTIVATION_QUICK_GELU: return times_sigmoid_avx512(x, _mm512_mul_ps(_mm512_set1_ps(1.702f), x));
    case LOUPE_ACTIVATION_RELU: return _mm512_max_ps(x, _mm512_setzero_ps());
    case LOUPE_ACTIVATION_IDENTITY: break;
    }
    return x;
}

__attribute__((target("avx512f"))) static void dequantize_row_avx512(const int32_t *a, int64_t cols, float s_value,
                                                                     const float *col_scale, const float *bias,
                                                                     loupe_activation activation, int accumulate,
                                                                     float *o) {
    const __m512 s = _mm512_set1_ps(s_value);
    for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 k = cols - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cols - c)) - 1);
        __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(k, a + c)), s),
                                 _mm512_maskz_loadu_ps(k, col_scale + c));
        if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, bias + c));
        if (accumulate) v = _mm512_add_ps(_mm512_maskz_loadu_ps(k, o + c), v);
        _mm512_mask_storeu_ps(o + c, k, activate_avx512(v, activation));
    }
}

__attribute__((target("avx512f"))) static void dequantize_row_bf16_avx512(const int32_t *a, int64_t cols, float s_value,
                                                                          const float *col_scale, const float *bias,
                                                                          loupe_activation activation, uint16_t *o) {
    const __m512 s = _mm512_set1_ps(s_value);
    const __m512i one = _mm512_set1_epi32(1), half = _mm512_set1_epi32(0x7FFF);
    const __m512i quiet_nan = _mm512_set1_epi32(0x7FC00000);
    for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 k = cols - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cols - c)) - 1);
        __m512 v = _mm512_mul_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_maskz_loadu_epi32(k, a + c)), s),
                                 _mm512_maskz_loadu_ps(k, col_scale + c));
        if (bias) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, bias + c));
        v = activate_avx512(v, activation);
        // Round to nearest even on the upper 16 bits, as to_bf16 does.
        const __m512i bits = _mm512_castps_si512(v);
        __m512i rounded = _mm512_add_epi32(bits, _mm512_add_epi32(half, _mm512_and_si512(_mm512_srli_epi32(bits, 16), one)));
        rounded = _mm512_mask_mov_epi32(rounded, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), quiet_nan);
        _mm512_mask_cvtepi32_storeu_epi16(o + c, k, _mm512_srli_epi32(rounded, 16));
    }
}

// ---- AVX2 (with FMA): the same functions on 8 lanes; a row's last cols % 8 values take the portable path.
#define AVX2 __attribute__((target("avx2,fma")))

AVX2 static inline __m256 exp_avx2(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.0f)), _mm256_set1_ps(88.0f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.0f / 5040);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 720));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.0f));
    // 2^n through the exponent bits: n lies in [-127, 127] after the clamp.
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

// The 12-bit estimate and one Newton step (relative error near 2^-23).
AVX2 static inline __m256 reciprocal_avx2(__m256 d) {
    const __m256 r = _mm256_rcp_ps(d);
    return _mm256_mul_ps(r, _mm256_fnmadd_ps(d, r, _mm256_set1_ps(2.0f)));
}

AVX2 static inline __m256 times_sigmoid_avx2(__m256 x, __m256 z) {
    const __m256 one = _mm256_set1_ps(1.0f);
    return _mm256_mul_ps(x, reciprocal_avx2(_mm256_add_ps(one, exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), z)))));
}

AVX2 static inline __m256 erf_avx2(__m256 x) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    const __m256 z = _mm256_andnot_ps(sign_bit, x);
    const __m256 one = _mm256_set1_ps(1.0f);
    const __m256 t = reciprocal_avx2(_mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), z, one));
    __m256 p = _mm256_set1_ps(1.061405429f);
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
    p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
    p = _mm256_mul_ps(p, t);
    const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(z, z)));
    const __m256 y = _mm256_fnmadd_ps(p, e, one);
    return _mm256_or_ps(y, _mm256_and_ps(x, sign_bit));
}

AVX2 static inline __m256 activate_avx2(__m256 x, loupe_activation activation) {
    switch (activation) {
    case LOUPE_ACTIVATION_GELU: {
        const __m256 half_x = _mm256_mul_ps(_mm256_set1_ps(0.5f), x);
        const __m256 e = erf_avx2(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)));
        return _mm256_fmadd_ps(half_x, e, half_x);
    }
    case LOUPE_ACTIVATION_GELU_TANH: {
        const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
        const __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.79788456080286536f),
                                       _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
        return times_sigmoid_avx2(x, _mm256_add_ps(u, u));
    }
    case LOUPE_ACTIVATION_QUICK_GELU: return times_sigmoid_avx2(x, _mm256_mul_ps(_mm256_set1_ps(1.702f), x));
    case LOUPE_ACTIVATION_RELU: return _mm256_max_ps(x, _mm256_setzero_ps());
    case LOUPE_ACTIVATION_IDENTITY: break;
    }
    return x;
}

AVX2 static inline __m256 dequantized_avx2(const int32_t *a, __m256 s, const float *col_scale, const float *bias,
                                           int64_t c) {
    __m256 v = _mm256_mul_ps(_mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_loadu_si256((const __m256i *)(a + c))), s),
                             _mm256_loadu_ps(col_scale + c));
    if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + c));
    return v;
}

AVX2 static void dequantize_row_avx2(const int32_t *a, int64_t cols, float s_value, const float *col_scale,
                                     const float *bias, loupe_activation activation, int accumulate, float *o) {
    const __m256 s = _mm256_set1_ps(s_value);
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) {
        __m256 v = dequantized_avx2(a, s, col_scale, bias, c);
        if (accumulate) v = _mm256_add_ps(_mm256_loadu_ps(o + c), v);
        _mm256_storeu_ps(o + c, activate_avx2(v, activation));
    }
    dequantize_row_c(a + c, cols - c, s_value, col_scale + c, bias ? bias + c : NULL, activation, accumulate, o + c);
}

AVX2 static void dequantize_row_bf16_avx2(const int32_t *a, int64_t cols, float s_value, const float *col_scale,
                                          const float *bias, loupe_activation activation, uint16_t *o) {
    const __m256 s = _mm256_set1_ps(s_value);
    const __m256i one = _mm256_set1_epi32(1), half = _mm256_set1_epi32(0x7FFF);
    const __m256i quiet_nan = _mm256_set1_epi32(0x7FC00000);
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) {
        const __m256 v = activate_avx2(dequantized_avx2(a, s, col_scale, bias, c), activation);
        const __m256i bits = _mm256_castps_si256(v);
        __m256i rounded = _mm256_add_epi32(bits, _mm256_add_epi32(half, _mm256_and_si256(_mm256_srli_epi32(bits, 16), one)));
        rounded = _mm256_blendv_epi8(rounded, quiet_nan, _mm256_castps_si256(_mm256_cmp_ps(v, v, _CMP_UNORD_Q)));
        // The upper halves, as unsigned 16-bit values, packed per 128-bit lane and then put in order.
        const __m256i packed = _mm256_packus_epi32(_mm256_srli_epi32(rounded, 16), _mm256_setzero_si256());
        _mm_storeu_si128((__m128i *)(o + c), _mm256_castsi256_si128(_mm256_permute4x64_epi64(packed, 0x08)));
    }
    dequantize_row_bf16_c(a + c, cols - c, s_value, col_scale + c, bias ? bias + c : NULL, activation, o + c);
}
#undef AVX2
#endif

static void dequantize_row(int level, const int32_t *a, int64_t cols, float s, const float *col_scale,
                           const float *bias, loupe_activation activation, int accumulate, float *o) {
    switch (level) {
#if defined(__x86_64__)
    case LOUPE_LEVEL_AVX512: dequantize_row_avx512(a, cols, s, col_scale, bias, activation, accumulate, o); return;
    case LOUPE_LEVEL_AVX2: dequantize_row_avx2(a, cols, s, col_scale, bias, activation, accumulate, o); return;
#endif
    default: dequantize_row_c(a, cols, s, col_scale, bias, activation, accumulate, o); return;
    }
}

static void dequantize_row_bf16(int level, const int32_t *a, int64_t cols, float s, const float *col_scale,
                                const float *bias, loupe_activation activation, uint16_t *o) {
    switch (level) {
#if defined(__x86_64__)
    case LOUPE_LEVEL_AVX512: dequantize_row_bf16_avx512(a, cols, s, col_scale, bias, activation, o); return;
    case LOUPE_LEVEL_AVX2: dequantize_row_bf16_avx2(a, cols, s, col_scale, bias, activation, o); return;
#endif
    default: dequantize_row_bf16_c(a, cols, s, col_scale, bias, activation, o); return;
    }
}

struct dequantize_job {
    int level;
    const int32_t *acc;
    int64_t cols;
    const float *row_scale, *col_scale, *bias;
    loupe_activation activation;
    int accumulate;
    float *out;
    uint16_t *out_bf16;
    int8_t *q;
    float *scale;
};

static void dequantize_range(void *context, int64_t begin, int64_t end) {
    const struct dequantize_job *job = context;
    for (int64_t r = begin; r < end; r++) {
        dequantize_row(job->level, job->acc + r * job->cols, job->cols, job->row_scale[r], job->col_scale, job->bias,
                       job->activation, job->accumulate, job->out + r * job->cols);
    }
}

void loupe_dequantize_rows(const int32_t *acc, int64_t rows, int64_t cols, const float *row_scale, const float *col_scale,
                           const float *bias, loupe_activation activation, int accumulate, float *out) {
    struct dequantize_job job = {loupe_level(), acc, cols, row_scale, col_scale, bias, activation, accumulate, out, NULL, NULL, NULL};
    loupe_parallel_rows(rows, cols, dequantize_range, &job);
}

static void dequantize_bf16_range(void *context, int64_t begin, int64_t end) {
    const struct dequantize_job *job = context;
    for (int64_t r = begin; r < end; r++) {
        dequantize_row_bf16(job->level, job->acc + r * job->cols, job->cols, job->row_scale[r], job->col_scale,
                            job->bias, job->activation, job->out_bf16 + r * job->cols);
    }
}

void loupe_dequantize_rows_bf16(const int32_t *acc, int64_t rows, int64_t cols, const float *row_scale,
                                const float *col_scale, const float *bias, loupe_activation activation, uint16_t *out) {
    struct dequantize_job job = {loupe_level(), acc, cols, row_scale, col_scale, bias, activation, 0, NULL, out, NULL, NULL};
    loupe_parallel_rows(rows, cols, dequantize_bf16_range, &job);
}

// Each row's fp32 values are written over its own int32 sums (the same four bytes a value, each read
// before it is written), still in the first-level cache, and quantised from there: the fp32 rows never
// reach memory, and the next layer reads one byte a value instead of four.
static void requantize_range(void *context, int64_t begin, int64_t end) {
    const struct dequantize_job *job = context;
    for (int64_t r = begin; r < end; r++) {
        float *row = (float *)(job->acc + r * job->cols);
        dequantize_row(job->level, job->acc + r * job->cols, job->cols, job->row_scale[r], job->col_scale, job->bias,
                       job->activation, 0, row);
        loupe_quantize_row(job->level, row, job->cols, job->q + r * job->cols, job->scale + r);
    }
}

void loupe_requantize_rows(int32_t *acc, int64_t rows, int64_t cols, const float *row_scale, const float *col_scale,
                           const float *bias, loupe_activation activation, int8_t *q, float *scale) {
    struct dequantize_job job = {loupe_level(), acc, cols, row_scale, col_scale, bias, activation, 0, NULL, NULL, q, scale};
    loupe_parallel_rows(rows, cols, requantize_range, &job);
}
