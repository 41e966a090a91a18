// Adam's element update, 8 floats at a time in AVX2 (see tml_adam.h): the same operations
// in the same order as adam_avx512.c and the scalar loop (no fused multiply-adds), for
// CPUs without AVX-512 and for SWIFTTML_GEMM=avx2 on those with it.
#include "tml_adam.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define TML_TARGET __attribute__((target("avx2")))

TML_TARGET void tml_adam_update_avx2(float *w, const float *g, float *m, float *v, long n, float one_minus_beta1,
                                     float beta2, float one_minus_beta2, float step_size, float bc2_sqrt, float eps,
                                     int decoupled, float l2, float decay) {
  const __m256 b1c = _mm256_set1_ps(one_minus_beta1), b2 = _mm256_set1_ps(beta2), b2c = _mm256_set1_ps(one_minus_beta2);
  const __m256 ss = _mm256_set1_ps(step_size), bc = _mm256_set1_ps(bc2_sqrt), ep = _mm256_set1_ps(eps);
  const __m256 wd = _mm256_set1_ps(l2), dc = _mm256_set1_ps(decay);
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 wi = _mm256_loadu_ps(w + i), gi = _mm256_loadu_ps(g + i);
    if (decoupled) wi = _mm256_mul_ps(wi, dc);
    else gi = _mm256_add_ps(gi, _mm256_mul_ps(wd, wi));
    __m256 mi = _mm256_loadu_ps(m + i), vi = _mm256_loadu_ps(v + i);
    mi = _mm256_add_ps(mi, _mm256_mul_ps(_mm256_sub_ps(gi, mi), b1c));
    vi = _mm256_add_ps(_mm256_mul_ps(b2, vi), _mm256_mul_ps(_mm256_mul_ps(b2c, gi), gi));
    const __m256 denom = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc), ep);
    wi = _mm256_sub_ps(wi, _mm256_div_ps(_mm256_mul_ps(ss, mi), denom));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    _mm256_storeu_ps(w + i, wi);
  }
  tml_adam_tail(w, g, m, v, i, n, one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps, decoupled, l2,
                decay);
}

#else

void tml_adam_update_avx2(float *w, const float *g, float *m, float *v, long n, float one_minus_beta1, float beta2,
                          float one_minus_beta2, float step_size, float bc2_sqrt, float eps, int decoupled, float l2,
                          float decay) {
  tml_adam_tail(w, g, m, v, 0, n, one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps, decoupled, l2,
                decay);
}
#endif
