// bf16 GEMM with AVX-512 BF16: C (+)= bf16(A)·B, B pre-packed in bf16 (see tml_gemm_bf16.h).
//
// Blocking as in gemm_avx512.c: k is cut into blocks of KC; per block, the slice's rows of A
// are rounded to bf16 into a buffer of adjacent-k pairs (one 32-bit word per pair); then for
// each 32-column panel an MR×32 tile of C is updated per MR rows: 16 zmm accumulators, per k
// pair two vector loads of B (16 columns × 2 k each), MR broadcasts of an A pair, 2·MR
// VDPBF16PS (each adds a[k]·b[k] + a[k+1]·b[k+1] to an fp32 lane).
#include <stdlib.h>
#include <string.h>
#include "tml_gemm_bf16.h"

#define NR TML_GEMM_BF16_NR

uint16_t tml_float_to_bf16(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof bits);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x40);  // quiet NaN
  return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

void tml_round_to_bf16(const float *src, float *dst, long n) {
  for (long i = 0; i < n; i++) {
    const uint32_t bits = (uint32_t)tml_float_to_bf16(src[i]) << 16;
    memcpy(dst + i, &bits, sizeof bits);
  }
}

size_t tml_gemm_bf16_packed_count(int k, int n) {
  return ((size_t)n + NR - 1) / NR * (((size_t)k + 1) / 2) * NR * 2;
}

void tml_gemm_bf16_pack(int k, int n, const float *b, long b_rs, long b_cs, uint16_t *dst, int panel0, int panel1) {
  const long pairs = (k + 1) / 2;
  for (int p = panel0; p < panel1; p++) {
    uint16_t *panel = dst + (size_t)p * pairs * NR * 2;
    for (long kp = 0; kp < pairs; kp++)
      for (int j = 0; j < NR; j++)
        for (int t = 0; t < 2; t++) {
          const long kk = 2 * kp + t, col = (long)p * NR + j;
          panel[(kp * NR + j) * 2 + t] = kk < k && col < n ? tml_float_to_bf16(b[kk * b_rs + col * b_cs]) : 0;
        }
  }
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define TML_TARGET __attribute__((target("avx512bf16,avx512f,avx512bw,avx512vl")))
#define KC 512
#define KP (KC / 2)
#define MR 8

int tml_gemm_bf16_available(void) {
  __builtin_cpu_init();  // also checks that the OS saves the AVX-512 state (XCR0)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

static inline int imin(int a, int b) { return a < b ? a : b; }

TML_TARGET static inline __mmask16 lane_mask(int valid) {
  return valid >= 16 ? (__mmask16)0xFFFF : valid <= 0 ? (__mmask16)0 : (__mmask16)((1u << valid) - 1);
}

// dst[r·KP + kp] = (bf16(A(r, k0 + 2kp)), bf16(A(r, k0 + 2kp + 1))) for rows r < rows, 0 past kc.
TML_TARGET static void convert_a(int rows, int kc, const float *a, long rs, long cs, uint32_t *dst) {
  const int pairs = (kc + 1) / 2;
  for (int r = 0; r < rows; r++) {
    const float *row = a + r * rs;
    uint32_t *out = dst + (long)r * KP;
    if (cs == 1) {
      for (int kk = 0; kk < kc; kk += 32) {
        const __m512 lo = _mm512_maskz_loadu_ps(lane_mask(kc - kk), row + kk);
        const __m512 hi = _mm512_maskz_loadu_ps(lane_mask(kc - kk - 16), row + kk + 16);
        const __m512i v = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);  // 32 bf16, k order
        _mm512_mask_storeu_epi32(out + kk / 2, lane_mask(pairs - kk / 2), v);
      }
    } else {
      for (int kp = 0; kp < pairs; kp++) {
        const uint32_t lo = tml_float_to_bf16(row[2L * kp * cs]);
        const uint32_t hi = 2 * kp + 1 < kc ? tml_float_to_bf16(row[(2L * kp + 1) * cs]) : 0;
        out[kp] = lo | hi << 16;
      }
    }
  }
}

// C[0..<mr, 0..<32] (+)= A pairs (mr rows, `pairs` each, row stride KP) · w [pairs][32][2].
TML_TARGET __attribute__((always_inline)) static inline void micro_kernel(
    const int mr, int pairs, const uint32_t *a, const uint16_t *w, float *c, long ldc, int load_c,
    __mmask16 m0, __mmask16 m1) {
  __m512 c0[MR], c1[MR];
  for (int i = 0; i < mr; i++) {
    c0[i] = load_c ? _mm512_maskz_loadu_ps(m0, c + i * ldc) : _mm512_setzero_ps();
    c1[i] = load_c ? _mm512_maskz_loadu_ps(m1, c + i * ldc + 16) : _mm512_setzero_ps();
  }
  for (int kp = 0; kp < pairs; kp++) {
    const __m512bh b0 = (__m512bh)_mm512_load_si512(w + kp * NR * 2);
    const __m512bh b1 = (__m512bh)_mm512_load_si512(w + kp * NR * 2 + 32);
    for (int i = 0; i < mr; i++) {
      const __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i * KP + kp]);
      c0[i] = _mm512_dpbf16_ps(c0[i], ai, b0);
      c1[i] = _mm512_dpbf16_ps(c1[i], ai, b1);
    }
  }
  for (int i = 0; i < mr; i++) {
    _mm512_mask_storeu_ps(c + i * ldc, m0, c0[i]);
    _mm512_mask_storeu_ps(c + i * ldc + 16, m1, c1[i]);
  }
}

#define TML_ROWS_CASE(R) \
  case R: micro_kernel(R, pairs, a, w, c, ldc, load_c, m0, m1); break;

TML_TARGET static void panel_rows(int rows, int pairs, const uint32_t *a0, const uint16_t *w, float *c0, long ldc,
                                  int load_c, __mmask16 m0, __mmask16 m1) {
  int i = 0;
  for (; i + MR <= rows; i += MR) micro_kernel(MR, pairs, a0 + (long)i * KP, w, c0 + i * ldc, ldc, load_c, m0, m1);
  const uint32_t *a = a0 + (long)i * KP;
  float *c = c0 + i * ldc;
  switch (rows - i) {
    TML_ROWS_CASE(1) TML_ROWS_CASE(2) TML_ROWS_CASE(3) TML_ROWS_CASE(4)
    TML_ROWS_CASE(5) TML_ROWS_CASE(6) TML_ROWS_CASE(7)
    default: break;
  }
}

TML_TARGET void tml_gemm_bf16_slice_packed(int m, int n, int k, const float *a, long a_rs, long a_cs,
                                           const uint16_t *packed, int accumulate, float *c, long ldc, int row0,
                                           int row1, int panel0, int panel1) {
  (void)m;
  const int rows = row1 - row0;
  if (rows <= 0) return;
  if (k == 0) {
    if (!accumulate)
      for (int i = row0; i < row1; i++)
        for (int j = panel0 * NR; j < imin(n, panel1 * NR); j++) c[i * ldc + j] = 0;
    return;
  }
  uint32_t stack[MR * 2 * KP] __attribute__((aligned(64)));  // 16 rows on the stack, more on the heap
  uint32_t *abuf = rows <= MR * 2 ? stack : malloc(sizeof(uint32_t) * (size_t)rows * KP);
  if (!abuf) {  // out of memory: do the rows in stack-sized pieces
    for (int r = row0; r < row1; r += MR * 2)
      tml_gemm_bf16_slice_packed(m, n, k, a, a_rs, a_cs, packed, accumulate, c, ldc, r, imin(row1, r + MR * 2),
                                 panel0, panel1);
    return;
  }
  const long pairs_all = (k + 1) / 2;
  for (int k0 = 0; k0 < k; k0 += KC) {
    const int kc = imin(KC, k - k0), pairs = (kc + 1) / 2;
    const int load_c = accumulate || k0 > 0;
    convert_a(rows, kc, a + (long)row0 * a_rs + (long)k0 * a_cs, a_rs, a_cs, abuf);
    for (int p = panel0; p < panel1; p++) {
      const uint16_t *w = packed + ((size_t)p * pairs_all + k0 / 2) * NR * 2;
      const int valid = imin(NR, n - p * NR);
      panel_rows(rows, pairs, abuf, w, c + (long)row0 * ldc + p * NR, ldc, load_c, lane_mask(valid),
                 lane_mask(valid - 16));
    }
  }
  if (abuf != stack) free(abuf);
}

#else  // not x86-64: callers use the fp32 fallback

int tml_gemm_bf16_available(void) { return 0; }
void tml_gemm_bf16_slice_packed(int m, int n, int k, const float *a, long a_rs, long a_cs, const uint16_t *packed,
                                int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1) {
  (void)m; (void)n; (void)k; (void)a; (void)a_rs; (void)a_cs; (void)packed;
  (void)accumulate; (void)c; (void)ldc; (void)row0; (void)row1; (void)panel0; (void)panel1;
}
#endif
