// Times LoupeStore's distance kernels (Sources/CLoupeSIMD/kernels.c) on their own, so that the effect of
// compiler flags on them can be measured without rebuilding the package:
//
//     cc -O2 -ISources/CLoupeSIMD/include bench/simd_kernels.c Sources/CLoupeSIMD/kernels.c -o .build/simd-bench
//     .build/simd-bench            # ns per call for each kernel at 64, 512 and 768 dimensions
//
// (-O2 is what `swift build -c release` uses for C targets, -O0 what debug builds use.)
#include "CLoupeSIMD.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
    // 256 rows stay in L2 even at 768-d, so the kernels themselves are timed, not memory.
    enum { rows = 256, passes = 320 };
    const int dims[] = {64, 512, 768};
    unsigned seed = 12345;
    printf("kernels: %s\n", loupe_simd_level());
    for (int d = 0; d < 3; d++) {
        int n = dims[d];
        float *q = malloc(sizeof(float) * n), *m = malloc(sizeof(float) * n * rows);
        uint16_t *h = malloc(sizeof(uint16_t) * n * rows);
        int8_t *c = malloc((size_t)n * rows);
        for (int i = 0; i < n; i++) q[i] = (float)(rand_r(&seed) % 20001) / 20000.0f - 0.5f;
        for (long i = 0; i < (long)n * rows; i++) {
            m[i] = (float)(rand_r(&seed) % 20001) / 20000.0f - 0.5f;
            h[i] = (uint16_t)(rand_r(&seed) & 0x3FFF);
            c[i] = (int8_t)(rand_r(&seed) % 255 - 127);
        }
        const char *names[] = {"dot_f32", "l2sq_f32", "dot_bf16", "dot_i8"};
        for (int k = 0; k < 4; k++) {
            double best = 1e9;
            volatile float sink = 0;
            for (int round = 0; round < 5; round++) {
                double start = now();
                for (int pass = 0; pass < passes; pass++) {
                    for (int r = 0; r < rows; r++) {
                        switch (k) {
                        case 0: sink += loupe_dot_f32(q, m + (long)r * n, n); break;
                        case 1: sink += loupe_l2sq_f32(q, m + (long)r * n, n); break;
                        case 2: sink += loupe_dot_bf16(q, h + (long)r * n, n); break;
                        default: sink += loupe_dot_i8(q, c + (long)r * n, n); break;
                        }
                    }
                }
                double ns = (now() - start) * 1e9 / ((double)passes * rows);
                if (ns < best) best = ns;
            }
            printf("%4d-d %-9s %7.1f ns/call\n", n, names[k], best);
        }
        free(q); free(m); free(h); free(c);
    }
    return 0;
}
