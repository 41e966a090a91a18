// Adam's element update, 16 floats at a time (see tml_adam.h). Memory-bound on 4 input
// and 3 output streams; the scalar SSE loop Swift emits for generic x86-64 is held back
// by its 4-wide square roots and divisions (≈ 3× slower on the 48 M-parameter ranker).
#include "tml_adam.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#include <math.h>
#define TML_TARGET __attribute__((target("avx512f,avx512dq")))

TML_TARGET void tml_adam_update(float *w, const float *g, float *m, float *v, long n, float one_minus_beta1,
                                float beta2, float one_minus_beta2, float step_size, float bc2_sqrt, float eps,
                                int decoupled, float l2, float decay) {
  const __m512 b1c = _mm512_set1_ps(one_minus_beta1), b2 = _mm512_set1_ps(beta2), b2c = _mm512_set1_ps(one_minus_beta2);
  const __m512 ss = _mm512_set1_ps(step_size), bc = _mm512_set1_ps(bc2_sqrt), ep = _mm512_set1_ps(eps);
  const __m512 wd = _mm512_set1_ps(l2), dc = _mm512_set1_ps(decay);
  long i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 wi = _mm512_loadu_ps(w + i), gi = _mm512_loadu_ps(g + i);
    if (decoupled) wi = _mm512_mul_ps(wi, dc);
    else gi = _mm512_add_ps(gi, _mm512_mul_ps(wd, wi));
    __m512 mi = _mm512_loadu_ps(m + i), vi = _mm512_loadu_ps(v + i);
    mi = _mm512_add_ps(mi, _mm512_mul_ps(_mm512_sub_ps(gi, mi), b1c));
    vi = _mm512_add_ps(_mm512_mul_ps(b2, vi), _mm512_mul_ps(_mm512_mul_ps(b2c, gi), gi));
    const __m512 denom = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(vi), bc), ep);
    wi = _mm512_sub_ps(wi, _mm512_div_ps(_mm512_mul_ps(ss, mi), denom));
    _mm512_storeu_ps(m + i, mi);
    _mm512_storeu_ps(v + i, vi);
    _mm512_storeu_ps(w + i, wi);
  }
  tml_adam_tail(w, g, m, v, i, n, one_minus_beta1, beta2, one_minus_beta2, step_size, bc2_sqrt, eps, decoupled, l2,
                decay);
}

#else

void tml_adam_update(float *w, const float *g, float *m, float *v, long n, float one_minus_beta1, float beta2,
                     float one_minus_beta2, float step_size, float bc2_sqrt, float eps, int decoupled, float l2,
                     float decay) {
  (void)w; (void)g; (void)m; (void)v; (void)n; (void)one_minus_beta1; (void)beta2; (void)one_minus_beta2;
  (void)step_size; (void)bc2_sqrt; (void)eps; (void)decoupled; (void)l2; (void)decay;
}
#endif
