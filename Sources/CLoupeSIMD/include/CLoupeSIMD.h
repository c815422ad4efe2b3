#ifndef CLOUPESIMD_H
#define CLOUPESIMD_H
// Distance kernels for LoupeStore's vector indexes. Each is picked once at load time for the best
// instruction set the processor has (AVX-512, AVX2+FMA, or portable C), so callers never branch.
// No API promise: LoupeStore wraps these.
#include <stdint.h>

#if defined(__x86_64__)
#define LOUPE_PAUSE() __builtin_ia32_pause()
#else
#define LOUPE_PAUSE() ((void)0)
#endif

/// Inner product of two fp32 vectors of length n.
float loupe_dot_f32(const float *a, const float *b, int64_t n);
/// Squared Euclidean distance of two fp32 vectors of length n.
float loupe_l2sq_f32(const float *a, const float *b, int64_t n);
/// Inner product of an fp32 query with a bf16 vector (the upper halves of fp32 values).
float loupe_dot_bf16(const float *q, const uint16_t *b, int64_t n);
/// Inner product of an fp32 query with an int8 vector (to be multiplied by the vector's scale).
float loupe_dot_i8(const float *q, const int8_t *b, int64_t n);
/// Exact inner product of two int8 vectors (AVX-512 VNNI where the processor has it).
int32_t loupe_dot_s8(const int8_t *a, const int8_t *b, int64_t n);
/// How many int8 dot kernels this processor runs (1 portable, 2 +AVX2, 3 +AVX-512BW, 4 +VNNI).
int loupe_s8_kernel_count(void);
/// loupe_dot_s8 with a chosen kernel (0 ..< loupe_s8_kernel_count()), for tests.
int32_t loupe_dot_s8_kernel(int kernel, const int8_t *a, const int8_t *b, int64_t n);
/// Name of the instruction set loupe_dot_s8 uses ("avx512vnni", "avx512", "avx2", "portable").
const char *loupe_s8_level(void);
/// Hints the cache to load the line holding p.
static inline void loupe_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }
/// Takes a one-byte spin lock (per-node locks of the HNSW graph during a parallel build).
static inline void loupe_spin_lock(uint8_t *lock) {
    while (__atomic_exchange_n(lock, 1, __ATOMIC_ACQUIRE)) {
        while (__atomic_load_n(lock, __ATOMIC_RELAXED)) LOUPE_PAUSE();
    }
}
/// Releases a lock taken by loupe_spin_lock.
static inline void loupe_spin_unlock(uint8_t *lock) { __atomic_store_n(lock, 0, __ATOMIC_RELEASE); }
/// Atomically adds to a counter and returns the old value (work distribution in parallel loops).
static inline int64_t loupe_fetch_add(int64_t *counter, int64_t value) {
    return __atomic_fetch_add(counter, value, __ATOMIC_RELAXED);
}
/// Name of the instruction set the kernels use ("avx512", "avx2", "portable").
const char *loupe_simd_level(void);

#endif
