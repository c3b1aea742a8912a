// The machine's ceiling for two threads: a loop of independent 8-wide FMAs (12 chains,
// enough to keep both FMA pipes busy) on one thread, then on two at once. Nothing is read
// from memory, so whatever keeps two threads below 2x here is the VM, not the code.
//
//   cc -O2 -mavx2 -mfma -pthread Benchmarks/fma_scaling.c -o /tmp/fma_scaling && /tmp/fma_scaling
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

enum { CHAINS = 12, STEPS = 16000000 };

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *fma_loop(void *result) {
    __m256 acc[CHAINS];
    const __m256 m = _mm256_set1_ps(0.9999f), q = _mm256_set1_ps(0.0001f);
    for (int j = 0; j < CHAINS; j++) acc[j] = _mm256_set1_ps((float)j);
    for (long i = 0; i < STEPS; i++) {
#pragma GCC unroll 12
        for (int j = 0; j < CHAINS; j++) acc[j] = _mm256_fmadd_ps(acc[j], m, q);
    }
    float sum = 0;
    for (int j = 0; j < CHAINS; j++) sum += acc[j][0];
    *(float *)result = sum;  // keeps the loop alive
    return NULL;
}

int main(void) {
    const double flops = 2.0 * 8 * CHAINS * (double)STEPS;
    for (int round = 0; round < 6; round++) {
        float results[2];
        double start = seconds();
        fma_loop(&results[0]);
        double one = flops / (seconds() - start) / 1e9;

        pthread_t other;
        start = seconds();
        pthread_create(&other, NULL, fma_loop, &results[1]);
        fma_loop(&results[0]);
        pthread_join(other, NULL);
        double two = 2 * flops / (seconds() - start) / 1e9;
        printf("1 thread %6.1f GFLOP/s   2 threads %6.1f GFLOP/s   speedup %.2fx\n", one, two, two / one);
    }
    return 0;
}
