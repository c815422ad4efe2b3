#include "CLoupeQuantize.h"
#include "parallel.h"
#include "rows.h"
#include <math.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Layer normalisation straight to int8 codes: y = (x - mean) / sqrt(var + eps) * gamma + beta, computed
// twice per row (once for max|y|, once to quantise) instead of being stored, since recomputing y is one
// multiply-add a value and the row is still in the first-level cache. Mean and variance take two passes
// (the variance of x - mean), so large offsets do not cancel.
#pragma STDC FP_CONTRACT OFF

static void moments(const float *x, int64_t cols, float eps, float *mean_out, float *rstd_out) {
    float sum = 0;
    for (int64_t i = 0; i < cols; i++) sum += x[i];
    const float mean = sum / (float)cols;
    float squares = 0;
    for (int64_t i = 0; i < cols; i++) { const float d = x[i] - mean; squares += d * d; }
    *mean_out = mean;
    *rstd_out = 1.0f / sqrtf(squares / (float)cols + eps);
}

static void layer_norm_quantize_row_c(const float *x, int64_t cols, const float *gamma, const float *beta, float eps,
                                      int8_t *q, float *scale) {
    float mean, rstd;
    moments(x, cols, eps, &mean, &rstd);
    float m = 0;
    for (int64_t i = 0; i < cols; i++) {
        const float a = fabsf((x[i] - mean) * rstd * gamma[i] + beta[i]);
        if (a > m) m = a;
    }
    if (!(m > 0)) {
        for (int64_t i = 0; i < cols; i++) q[i] = 0;
        *scale = 0;
        return;
    }
    const float inv = 127.0f / m;
    for (int64_t i = 0; i < cols; i++) {
        const float v = nearbyintf(((x[i] - mean) * rstd * gamma[i] + beta[i]) * inv);
        q[i] = (int8_t)(v > 127 ? 127 : (v < -127 ? -127 : v));
    }
    *scale = m / 127.0f;
}

#if defined(__x86_64__)
// y for the (masked) 16 columns from c; masked-off lanes are 0, since gamma and beta load as 0 there.
__attribute__((target("avx512f"))) static inline __m512 normalised_avx512(const float *x, const float *gamma,
                                                                        const float *beta, int64_t c, __mmask16 k,
                                                                        __m512 mean, __m512 rstd) {
    return _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, x + c), mean), rstd),
                                       _mm512_maskz_loadu_ps(k, gamma + c)),
                         _mm512_maskz_loadu_ps(k, beta + c));
}

__attribute__((target("avx512f"))) static void layer_norm_quantize_row_avx512(const float *x, int64_t cols,
                                                                              const float *gamma, const float *beta,
                                                                              float eps, int8_t *q, float *scale) {
    __m512 sum = _mm512_setzero_ps();
    for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 k = cols - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cols - c)) - 1);
        sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(k, x + c));
    }
    const __m512 mean = _mm512_set1_ps(_mm512_reduce_add_ps(sum) / (float)cols);
    __m512 squares = _mm512_setzero_ps();
    for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 k = cols - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cols - c)) - 1);
        const __m512 d = _mm512_maskz_sub_ps(k, _mm512_maskz_loadu_ps(k, x + c), mean);
        squares = _mm512_fmadd_ps(d, d, squares);
    }
    const __m512 rstd = _mm512_set1_ps(1.0f / sqrtf(_mm512_reduce_add_ps(squares) / (float)cols + eps));
    __m512 vm = _mm512_setzero_ps();
    for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 k = cols - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cols - c)) - 1);
        const __m512 y = normalised_avx512(x, gamma, beta, c, k, mean, rstd);
        vm = _mm512_max_ps(vm, _mm512_abs_ps(y));
    }
    const float m = _mm512_reduce_max_ps(vm);
    if (!(m > 0)) {
        for (int64_t i = 0; i < cols; i++) q[i] = 0;
        *scale = 0;
        return;
    }
    const __m512 inv = _mm512_set1_ps(127.0f / m);
    const __m512 hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
    for (int64_t c = 0; c < cols; c += 16) {
        const __mmask16 k = cols - c >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (cols - c)) - 1);
        // The same function as for the maximum, so the largest code is exactly +-127.
        const __m512 y = normalised_avx512(x, gamma, beta, c, k, mean, rstd);
        const __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(y, inv), lo), hi);
        _mm512_mask_cvtsepi32_storeu_epi8(q + c, k, _mm512_cvtps_epi32(v));
    }
    *scale = m / 127.0f;
}

// ---- AVX2 (with FMA): 8 lanes, and the portable loops for a row's last cols % 8 values.
__attribute__((target("avx2,fma"))) static inline float sum_avx2(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

__attribute__((target("avx2,fma"))) static inline float max_avx2(__m256 v) {
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    return _mm_cvtss_f32(h);
}

__attribute__((target("avx2,fma"))) static inline __m256 normalised_avx2(const float *x, const float *gamma,
                                                                       const float *beta, int64_t c, __m256 mean,
                                                                       __m256 rstd) {
    return _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + c), mean), rstd),
                                       _mm256_loadu_ps(gamma + c)),
                         _mm256_loadu_ps(beta + c));
}

__attribute__((target("avx2,fma"))) static void layer_norm_quantize_row_avx2(const float *x, int64_t cols,
                                                                           const float *gamma, const float *beta,
                                                                           float eps, int8_t *q, float *scale) {
    const int64_t full = cols / 8 * 8;
    __m256 sum = _mm256_setzero_ps();
    for (int64_t c = 0; c < full; c += 8) sum = _mm256_add_ps(sum, _mm256_loadu_ps(x + c));
    float total = sum_avx2(sum);
    for (int64_t c = full; c < cols; c++) total += x[c];
    const float mean_value = total / (float)cols;
    const __m256 mean = _mm256_set1_ps(mean_value);
    __m256 squares = _mm256_setzero_ps();
    for (int64_t c = 0; c < full; c += 8) {
        const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + c), mean);
        squares = _mm256_fmadd_ps(d, d, squares);
    }
    float square_total = sum_avx2(squares);
    for (int64_t c = full; c < cols; c++) { const float d = x[c] - mean_value; square_total += d * d; }
    const float rstd_value = 1.0f / sqrtf(square_total / (float)cols + eps);
    const __m256 rstd = _mm256_set1_ps(rstd_value);

    const __m256 sign = _mm256_set1_ps(-0.0f);
    __m256 vm = _mm256_setzero_ps();
    for (int64_t c = 0; c < full; c += 8) {
        vm = _mm256_max_ps(vm, _mm256_andnot_ps(sign, normalised_avx2(x, gamma, beta, c, mean, rstd)));
    }
    float m = max_avx2(vm);
    for (int64_t c = full; c < cols; c++) {
        const float a = fabsf((x[c] - mean_value) * rstd_value * gamma[c] + beta[c]);
        if (a > m) m = a;
    }
    if (!(m > 0)) {
        for (int64_t i = 0; i < cols; i++) q[i] = 0;
        *scale = 0;
        return;
    }
    const float inverse = 127.0f / m;
    const __m256 inv = _mm256_set1_ps(inverse);
    const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    for (int64_t c = 0; c < full; c += 8) {
        const __m256 v = _mm256_min_ps(_mm256_max_ps(_mm256_mul_ps(normalised_avx2(x, gamma, beta, c, mean, rstd), inv), lo), hi);
        const __m256i w = _mm256_cvtps_epi32(v);  // round to nearest even
        const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
        _mm_storel_epi64((__m128i *)(q + c), _mm_packs_epi16(p16, p16));
    }
    for (int64_t c = full; c < cols; c++) {
        const float v = nearbyintf(((x[c] - mean_value) * rstd_value * gamma[c] + beta[c]) * inverse);
        q[c] = (int8_t)(v > 127 ? 127 : (v < -127 ? -127 : v));
    }
    *scale = m / 127.0f;
}
#endif

struct layer_norm_job {
    int level;
    const float *x;
    int64_t cols;
    const float *gamma, *beta;
    float eps;
    int8_t *q;
    float *scale;
};

static void layer_norm_range(void *context, int64_t begin, int64_t end) {
    const struct layer_norm_job *job = context;
    for (int64_t r = begin; r < end; r++) {
        const float *x = job->x + r * job->cols;
        int8_t *q = job->q + r * job->cols;
        switch (job->level) {
#if defined(__x86_64__)
        case LOUPE_LEVEL_AVX512:
            layer_norm_quantize_row_avx512(x, job->cols, job->gamma, job->beta, job->eps, q, job->scale + r);
            break;
        case LOUPE_LEVEL_AVX2:
            layer_norm_quantize_row_avx2(x, job->cols, job->gamma, job->beta, job->eps, q, job->scale + r);
            break;
#endif
        default: layer_norm_quantize_row_c(x, job->cols, job->gamma, job->beta, job->eps, q, job->scale + r);
        }
    }
}

void loupe_layer_norm_quantize_rows(const float *x, int64_t rows, int64_t cols, const float *gamma, const float *beta,
                                    float eps, int8_t *q, float *scale) {
    struct layer_norm_job job = {loupe_level(), x, cols, gamma, beta, eps, q, scale};
    loupe_parallel_rows(rows, cols, layer_norm_range, &job);
}
