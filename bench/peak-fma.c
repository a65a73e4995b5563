/*
 * The CPU's fp32 fused-multiply-add peak on one core (bench/peak.mjs compiles and runs it when a C
 * compiler is present): 12 independent accumulator chains of the widest vector FMA the compiler
 * targets (-march=native), so the loop is bound by FMA throughput, not latency.
 */
#include <immintrin.h>
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define SET1 _mm512_set1_ps
#define FMA _mm512_fmadd_ps
#define STORE _mm512_storeu_ps
#elif defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define SET1 _mm256_set1_ps
#define FMA _mm256_fmadd_ps
#define STORE _mm256_storeu_ps
#else
#error "needs FMA (x86-64 with AVX2/FMA or AVX-512)"
#endif

int main(void) {
  vec acc[12];
  const vec b = SET1(1.0000001f), c = SET1(1e-7f);
  for (int i = 0; i < 12; i++) acc[i] = SET1((float)i);
  const long n = 100000000L;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long k = 0; k < n; k++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = FMA(acc[i], b, c);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  const double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  float out[LANES], sum = 0;
  for (int i = 0; i < 12; i++) {
    STORE(out, acc[i]);
    sum += out[0];
  }
  /* the sum is printed so the loop cannot be removed */
  printf("%.2f %d %g\n", (double)n * 12 * LANES * 2 / s / 1e9, LANES * 32, sum);
  return 0;
}
