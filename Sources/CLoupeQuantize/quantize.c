#include "CLoupeQuantize.h"
#include "parallel.h"
#include "rows.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Every variant computes the same thing: the row's largest magnitude m, the multiplier 127 / m (one
// division, in fp32), then each value times that multiplier rounded to nearest even. Rounding matches
// the portable path's nearbyintf under the default rounding mode, so all variants give equal codes.

// ---- portable C ----
static void quantize_row_c(const float *row, int64_t cols, int8_t *out, float *scale) {
    float m = 0;
    for (int64_t i = 0; i < cols; i++) { float a = fabsf(row[i]); if (a > m) m = a; }
    if (!(m > 0)) {
        for (int64_t i = 0; i < cols; i++) out[i] = 0;
        *scale = 0;
        return;
    }
    float inv = 127.0f / m;
    for (int64_t i = 0; i < cols; i++) {
        float v = nearbyintf(row[i] * inv);
        out[i] = (int8_t)(v > 127 ? 127 : (v < -127 ? -127 : v));
    }
    *scale = m / 127.0f;
}

#if defined(__x86_64__)
// ---- AVX2 ----
__attribute__((target("avx2"))) static void quantize_row_avx2(const float *row, int64_t cols, int8_t *out,
                                                              float *scale) {
    const __m256 sign = _mm256_set1_ps(-0.0f);
    const __m256 hi = _mm256_set1_ps(127.0f), lo = _mm256_set1_ps(-127.0f);
    __m256 vm = _mm256_setzero_ps();
    int64_t i = 0;
    for (; i + 8 <= cols; i += 8) vm = _mm256_max_ps(vm, _mm256_andnot_ps(sign, _mm256_loadu_ps(row + i)));
    __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(vm), _mm256_extractf128_ps(vm, 1));
    m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
    m4 = _mm_max_ss(m4, _mm_shuffle_ps(m4, m4, 1));
    float m = _mm_cvtss_f32(m4);
    for (; i < cols; i++) { float a = fabsf(row[i]); if (a > m) m = a; }
    if (!(m > 0)) {
        for (int64_t j = 0; j < cols; j++) out[j] = 0;
        *scale = 0;
        return;
    }
    float inv = 127.0f / m;
    __m256 vinv = _mm256_set1_ps(inv);
    i = 0;
    for (; i + 8 <= cols; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(row + i), vinv);
        v = _mm256_min_ps(_mm256_max_ps(v, lo), hi);
        __m256i w = _mm256_cvtps_epi32(v);  // round to nearest even
        __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(w), _mm256_extracti128_si256(w, 1));
        __m128i p8 = _mm_packs_epi16(p16, p16);
        _mm_storel_epi64((__m128i *)(out + i), p8);
    }
    for (; i < cols; i++) {
        float v = nearbyintf(row[i] * inv);
        out[i] = (int8_t)(v > 127 ? 127 : (v < -127 ? -127 : v));
    }
    *scale = m / 127.0f;
}

// ---- AVX-512 ----
__attribute__((target("avx512f"))) static void quantize_row_avx512(const float *row, int64_t cols, int8_t *out,
                                                                   float *scale) {
    const __m512 hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
    __m512 vm = _mm512_setzero_ps();
    int64_t i = 0;
    for (; i + 16 <= cols; i += 16) vm = _mm512_max_ps(vm, _mm512_abs_ps(_mm512_loadu_ps(row + i)));
    if (i < cols) {
        __mmask16 k = (__mmask16)((1u << (cols - i)) - 1);
        vm = _mm512_max_ps(vm, _mm512_abs_ps(_mm512_maskz_loadu_ps(k, row + i)));
    }
    float m = _mm512_reduce_max_ps(vm);
    if (!(m > 0)) {
        for (int64_t j = 0; j < cols; j++) out[j] = 0;
        *scale = 0;
        return;
    }
    __m512 vinv = _mm512_set1_ps(127.0f / m);
    for (i = 0; i + 16 <= cols; i += 16) {
        __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_loadu_ps(row + i), vinv), lo), hi);
        _mm_storeu_si128((__m128i *)(out + i), _mm512_cvtsepi32_epi8(_mm512_cvtps_epi32(v)));
    }
    if (i < cols) {
        __mmask16 k = (__mmask16)((1u << (cols - i)) - 1);
        __m512 v = _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(k, row + i), vinv), lo), hi);
        _mm512_mask_cvtsepi32_storeu_epi8(out + i, k, _mm512_cvtps_epi32(v));
    }
    *scale = m / 127.0f;
}
#endif

static int best_level = LOUPE_LEVEL_PORTABLE;
static _Thread_local int thread_level = -1;
static const char *const level_names[] = {"portable", "avx2", "avx512"};

static int level_named(const char *name) {
    for (int level = LOUPE_LEVEL_PORTABLE; level <= LOUPE_LEVEL_AVX512; level++) {
        if (strcmp(name, level_names[level]) == 0) return level;
    }
    return -1;
}

__attribute__((constructor)) static void loupe_quantize_select(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) {
        best_level = LOUPE_LEVEL_AVX512;
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        best_level = LOUPE_LEVEL_AVX2;
    }
#endif
    // Like oneDNN's ONEDNN_MAX_CPU_ISA: lets a benchmark measure the kernels a lesser processor would run.
    const char *cap = getenv("LOUPE_MAX_ISA");
    const int capped = cap ? level_named(cap) : -1;
    if (capped >= 0 && capped < best_level) best_level = capped;
}

int loupe_level(void) { return thread_level >= 0 ? thread_level : best_level; }

int loupe_quantize_use_level(const char *name) {
    if (!name) {
        thread_level = -1;
        return 0;
    }
    const int level = level_named(name);
    if (level < 0 || level > best_level) return -1;
    thread_level = level;
    return 0;
}

const char *loupe_quantize_level(void) { return level_names[loupe_level()]; }

void loupe_quantize_row(int level, const float *row, int64_t cols, int8_t *codes, float *scale) {
    switch (level) {
#if defined(__x86_64__)
    case LOUPE_LEVEL_AVX512: quantize_row_avx512(row, cols, codes, scale); return;
    case LOUPE_LEVEL_AVX2: quantize_row_avx2(row, cols, codes, scale); return;
#endif
    default: quantize_row_c(row, cols, codes, scale); return;
    }
}

struct quantize_job {
    int level;
    const float *x;
    int64_t cols;
    int8_t *q;
    float *scale;
};

static void quantize_range(void *context, int64_t begin, int64_t end) {
    const struct quantize_job *job = context;
    for (int64_t r = begin; r < end; r++) {
        loupe_quantize_row(job->level, job->x + r * job->cols, job->cols, job->q + r * job->cols, job->scale + r);
    }
}

void loupe_quantize_rows_s8(const float *x, int64_t rows, int64_t cols, int8_t *q, float *scale) {
    struct quantize_job job = {loupe_level(), x, cols, q, scale};
    loupe_parallel_rows(rows, cols, quantize_range, &job);
}
