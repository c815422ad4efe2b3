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
static int32_t dot_s8_c(const int8_t *a, const int8_t *b, int64_t n) {
    int32_t s = 0; for (int64_t i = 0; i < n; i++) s += (int32_t)a[i] * (int32_t)b[i]; return s;
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
// Exact int8 dot product: widened to int16, pairs multiplied and summed into int32 (vpmaddwd).
__attribute__((target("avx2"))) static int32_t dot_s8_avx2(const int8_t *a, const int8_t *b, int64_t n) {
    __m256i s0 = _mm256_setzero_si256(); int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256i y = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)));
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(x, y));
    }
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(s0), _mm256_extracti128_si256(s0, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4E)); h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xB1));
    int32_t s = _mm_cvtsi128_si32(h);
    for (; i < n; i++) s += (int32_t)a[i] * (int32_t)b[i];
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
// Exact int8 dot product without VNNI: the AVX2 method on 32 lanes, 64 bytes a step, the tail masked.
__attribute__((target("avx512f,avx512bw"))) static int32_t dot_s8_avx512(const int8_t *a, const int8_t *b, int64_t n) {
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512(); int64_t i = 0;
    for (; i < n; i += 64) {
        int64_t left = n - i; __mmask64 m = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
        __m512i x = _mm512_maskz_loadu_epi8(m, a + i), y = _mm512_maskz_loadu_epi8(m, b + i);
        s0 = _mm512_add_epi32(s0, _mm512_madd_epi16(_mm512_cvtepi8_epi16(_mm512_castsi512_si256(x)),
                                                    _mm512_cvtepi8_epi16(_mm512_castsi512_si256(y))));
        s1 = _mm512_add_epi32(s1, _mm512_madd_epi16(_mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(x, 1)),
                                                    _mm512_cvtepi8_epi16(_mm512_extracti64x4_epi64(y, 1))));
    }
    return _mm512_reduce_add_epi32(_mm512_add_epi32(s0, s1));
}
// Exact int8 dot product with AVX-512 VNNI. vpdpbusd multiplies unsigned by signed bytes, so b is made
// unsigned by flipping its sign bit (b ^ 0x80 = b + 128) and the excess 128 * sum(a) is taken off with a
// second vpdpbusd of a against 128 in every byte. Sums of 4 products never overflow int32 for
// n < 2^31 / (4 * 255 * 128) * 4, far beyond any vector dimension. Zero bytes (the masked tail) add nothing.
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static int32_t dot_s8_vnni(const int8_t *a, const int8_t *b, int64_t n) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i s0 = _mm512_setzero_si512(), s1 = _mm512_setzero_si512(), c0 = _mm512_setzero_si512(); int64_t i = 0;
    for (; i + 128 <= n; i += 128) {
        __m512i x0 = _mm512_loadu_si512(a + i), x1 = _mm512_loadu_si512(a + i + 64);
        s0 = _mm512_dpbusd_epi32(s0, _mm512_xor_si512(_mm512_loadu_si512(b + i), flip), x0);
        s1 = _mm512_dpbusd_epi32(s1, _mm512_xor_si512(_mm512_loadu_si512(b + i + 64), flip), x1);
        c0 = _mm512_dpbusd_epi32(c0, flip, x0);
        c0 = _mm512_dpbusd_epi32(c0, flip, x1);
    }
    for (; i < n; i += 64) {
        int64_t left = n - i; __mmask64 m = left >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << left) - 1);
        __m512i x = _mm512_maskz_loadu_epi8(m, a + i);
        __m512i y = _mm512_maskz_loadu_epi8(m, b + i);
        s0 = _mm512_dpbusd_epi32(s0, _mm512_xor_si512(y, flip), x);
        c0 = _mm512_dpbusd_epi32(c0, flip, x);
    }
    return _mm512_reduce_add_epi32(_mm512_sub_epi32(_mm512_add_epi32(s0, s1), c0));
}
#endif

typedef float (*f32_fn)(const float *, const float *, int64_t);
typedef float (*bf16_fn)(const float *, const uint16_t *, int64_t);
typedef float (*i8_fn)(const float *, const int8_t *, int64_t);
static f32_fn dot_f32_impl = dot_f32_c, l2sq_f32_impl = l2sq_f32_c;
static bf16_fn dot_bf16_impl = dot_bf16_c;
typedef int32_t (*s8_fn)(const int8_t *, const int8_t *, int64_t);
static i8_fn dot_i8_impl = dot_i8_c;
static s8_fn dot_s8_impl = dot_s8_c;
static const char *level = "portable";
static const char *s8_level = "portable";

__attribute__((constructor)) static void loupe_simd_select(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) {
        dot_f32_impl = dot_f32_avx512; l2sq_f32_impl = l2sq_f32_avx512;
        dot_bf16_impl = dot_bf16_avx512; dot_i8_impl = dot_i8_avx512; level = "avx512";
        if (__builtin_cpu_supports("avx512vnni")) { dot_s8_impl = dot_s8_vnni; s8_level = "avx512vnni"; }
        else { dot_s8_impl = dot_s8_avx512; s8_level = "avx512"; }
    } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        dot_f32_impl = dot_f32_avx2; l2sq_f32_impl = l2sq_f32_avx2;
        dot_bf16_impl = dot_bf16_avx2; dot_i8_impl = dot_i8_avx2; level = "avx2";
        dot_s8_impl = dot_s8_avx2; s8_level = "avx2";
    }
#endif
}

float loupe_dot_f32(const float *a, const float *b, int64_t n) { return dot_f32_impl(a, b, n); }
float loupe_l2sq_f32(const float *a, const float *b, int64_t n) { return l2sq_f32_impl(a, b, n); }
float loupe_dot_bf16(const float *q, const uint16_t *b, int64_t n) { return dot_bf16_impl(q, b, n); }
float loupe_dot_i8(const float *q, const int8_t *b, int64_t n) { return dot_i8_impl(q, b, n); }
int32_t loupe_dot_s8(const int8_t *a, const int8_t *b, int64_t n) { return dot_s8_impl(a, b, n); }
const char *loupe_simd_level(void) { return level; }
const char *loupe_s8_level(void) { return s8_level; }

// Every int8 kernel this processor can run, for tests that hold each against the portable one.
int loupe_s8_kernel_count(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    int count = 1;
    if (__builtin_cpu_supports("avx2")) count = 2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) count = 3;
    if (count == 3 && __builtin_cpu_supports("avx512vnni")) count = 4;
    return count;
#else
    return 1;
#endif
}
int32_t loupe_dot_s8_kernel(int kernel, const int8_t *a, const int8_t *b, int64_t n) {
    switch (kernel) {
#if defined(__x86_64__)
    case 1: return dot_s8_avx2(a, b, n);
    case 2: return dot_s8_avx512(a, b, n);
    case 3: return dot_s8_vnni(a, b, n);
#endif
    default: return dot_s8_c(a, b, n);
    }
}
