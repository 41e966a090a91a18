// The Adam / AdamW element update in AVX-512 (adam_avx512.c) and AVX2 (adam_avx2.c).
#ifndef SWIFTTML_ADAM_H
#define SWIFTTML_ADAM_H

#include "tml_cpu.h"

/// One step of PyTorch's Adam on n elements, in this order for each i:
///   decoupled (AdamW):  w ← w·decay,  g' = g
///   otherwise:          g' = g + l2·w
///   m ← m + (g' − m)·one_minus_beta1
///   v ← beta2·v + one_minus_beta2·g'·g'
///   w ← w − step_size·m / (√v / bc2_sqrt + eps)
/// Each operation is rounded to float as written (no fused multiply-adds), so results
/// equal the scalar Swift loop bit for bit. Call only when tml_avx512_available() is 1
/// (an illegal instruction on x86-64 without AVX-512; an empty stub elsewhere).
void tml_adam_update(float *w, const float *g, float *m, float *v, long n, float one_minus_beta1, float beta2,
                     float one_minus_beta2, float step_size, float bc2_sqrt, float eps, int decoupled, float l2,
                     float decay);

/// The same update 8 floats at a time in AVX2 (no FMA), for CPUs without AVX-512 (and
/// `SWIFTTML_GEMM=avx2`). Call only when tml_avx2_available() is 1.
void tml_adam_update_avx2(float *w, const float *g, float *m, float *v, long n, float one_minus_beta1, float beta2,
                          float one_minus_beta2, float step_size, float bc2_sqrt, float eps, int decoupled, float l2,
                          float decay);

/// The scalar update of elements [i, n): the kernels' tails.
static inline void tml_adam_tail(float *w, const float *g, float *m, float *v, long i, long n, float one_minus_beta1,
                                 float beta2, float one_minus_beta2, float step_size, float bc2_sqrt, float eps,
                                 int decoupled, float l2, float decay) {
  for (; i < n; i++) {
    float gi = g[i];
    if (decoupled) w[i] *= decay;
    else gi = g[i] + l2 * w[i];
    m[i] += (gi - m[i]) * one_minus_beta1;
    v[i] = beta2 * v[i] + one_minus_beta2 * gi * gi;
    w[i] -= step_size * m[i] / (__builtin_sqrtf(v[i]) / bc2_sqrt + eps);
  }
}
#endif
