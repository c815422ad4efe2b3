#include "CLoupeSIMD.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// ---- portable C (the compiler vectorizes these at -O3) ----
static float dot_f32_c(const float *a, const float *b, int64_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0; int64_t i = 0;
    for (; i + 4 <= n; i += 4) { s0 += a[i] * b[i]; s1 += a[i+1] * b[i+1]; s2 += a[i+2] * b[i+2]; s3 += a[i+3] * b[i+3]; }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}
static float l2sq_f32_c(const float *a, const float *b, int64_t n) {
    float s = 0; for (int64_t i = 0; i < n; i++) { float d = a[i] - b[i]; s += d * d; } return s;
}
static inline float bf16_to_f32(uint16_t h) { uint32_t u = (uint32_t)h << 16; float f; memcpy(&f, &u, 4); return f; }
static float dot_bf16_c(const float *q, const uint16_t *b, int64_t n) {
    float s = 0; for (int64_t i = 0; i < n; i++) s += q[i] * bf16_to_f32(b[i]); return s;
}
static float dot_i8_c(const float *q, const int8_t *b, int64_t n) {
    float s = 0; for (int64_t i = 0; i < n; i++) s += q[i] * (float)b[i]; return s;
}

#if defined(__x86_64__)
// ---- AVX2 + FMA ----
__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi); lo = _mm_hadd_ps(lo, lo); lo = _mm_hadd_ps(lo, lo); return _mm_cvtss_f32(lo);
}
__attribute__((target("avx2,fma"))) static float dot_f32_avx2(const float *a, const float *b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(); int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    float s = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}
__attribute__((target("avx2,fma"))) static float l2sq_f32_avx2(const float *a, const float *b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(); int64_t i = 0;
    for (; i + 8 <= n; i += 8) { __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)); s0 = _mm256_fmadd_ps(d, d, s0); }
    float s = hsum256(s0);
    for (; i < n; i++) { float d = a[i] - b[i]; s += d * d; }
    return s;
}
__attribute__((target("avx2,fma"))) static float dot_bf16_avx2(const float *q, const uint16_t *b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(); int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i w = _mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(b + i))), 16);
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_castsi256_ps(w), s0);
    }
    float s = hsum256(s0);
    for (; i < n; i++) s += q[i] * bf16_to_f32(b[i]);
    return s;
}
__attribute__((target("avx2,fma"))) static float dot_i8_avx2(const float *q, const int8_t *b, int64_t n) {
    __m256 s0 = _mm256_setzero_ps(); int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 w = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + i))));
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), w, s0);
    }
    float s = hsum256(s0);
    for (; i < n; i++) s += q[i] * (float)b[i];
    return s;
}
// ---- AVX-512 ----
__attribute__((target("avx512f"))) static float dot_f32_avx512(const float *a, const float *b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(); int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    if (i + 16 <= n) { s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0); i += 16; }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}
__attribute__((target("avx512f"))) static float l2sq_f32_avx512(const float *a, const float *b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(); int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        s0 = _mm512_fmadd_ps(d0, d0, s0); s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    for (; i < n; i += 16) {
        int64_t left = n - i; __mmask16 m = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        s0 = _mm512_fmadd_ps(d, d, s0);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}
__attribute__((target("avx512f,avx512bw"))) static float dot_bf16_avx512(const float *q, const uint16_t *b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(); int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512i w0 = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(b + i))), 16);
        __m512i w1 = _mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)(b + i + 16))), 16);
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), _mm512_castsi512_ps(w0), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), _mm512_castsi512_ps(w1), s1);
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    for (; i < n; i++) s += q[i] * bf16_to_f32(b[i]);
    return s;
}
__attribute__((target("avx512f,avx512bw"))) static float dot_i8_avx512(const float *q, const int8_t *b, int64_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(); int64_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 w0 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + i))));
        __m512 w1 = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(b + i + 16))));
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), w0, s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), w1, s1);
    }
    float s = _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
    for (; i < n; i++) s += q[i] * (float)b[i];
    return s;
}
#endif

typedef float (*f32_fn)(const float *, const float *, int64_t);
typedef float (*bf16_fn)(const float *, const uint16_t *, int64_t);
typedef float (*i8_fn)(const float *, const int8_t *, int64_t);
static f32_fn dot_f32_impl = dot_f32_c, l2sq_f32_impl = l2sq_f32_c;
static bf16_fn dot_bf16_impl = dot_bf16_c;
static i8_fn dot_i8_impl = dot_i8_c;
static const char *level = "portable";

__attribute__((constructor)) static void loupe_simd_select(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
        dot_f32_impl = dot_f32_avx512; l2sq_f32_impl = l2sq_f32_avx512;
        dot_bf16_impl = dot_bf16_avx512; dot_i8_impl = dot_i8_avx512; level = "avx512";
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        dot_f32_impl = dot_f32_avx2; l2sq_f32_impl = l2sq_f32_avx2;
        dot_bf16_impl = dot_bf16_avx2; dot_i8_impl = dot_i8_avx2; level = "avx2";
    }
#endif
}

float loupe_dot_f32(const float *a, const float *b, int64_t n) { return dot_f32_impl(a, b, n); }
float loupe_l2sq_f32(const float *a, const float *b, int64_t n) { return l2sq_f32_impl(a, b, n); }
float loupe_dot_bf16(const float *q, const uint16_t *b, int64_t n) { return dot_bf16_impl(q, b, n); }
float loupe_dot_i8(const float *q, const int8_t *b, int64_t n) { return dot_i8_impl(q, b, n); }
const char *loupe_simd_level(void) { return level; }
