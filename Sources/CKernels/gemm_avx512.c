// AVX-512 SGEMM: C (+)= A·B with B packed into 32-column panels (see tml_gemm.h).
//
// Blocking: k is cut into blocks of KC; for each block and each 32-column panel, the
// KC×32 slice of B is packed (or read from a pre-packed matrix), then an MR×32 tile of C
// is updated per MR rows of A by the micro-kernel: 16 zmm accumulators, per k two
// vector loads of B and MR broadcasts of A, 2·MR fused multiply-adds.
#include "tml_gemm.h"

int tml_gemm_available(void) { return tml_avx512_available(); }

size_t tml_gemm_packed_count(int k, int n) {
  return ((size_t)n + TML_GEMM_NR - 1) / TML_GEMM_NR * (size_t)k * TML_GEMM_NR;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define TML_TARGET __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma")))
#define KC 512
#define MR 8
#define NR TML_GEMM_NR

static inline int imin(int a, int b) { return a < b ? a : b; }

TML_TARGET static inline __mmask16 lane_mask(int valid) {
  return valid >= 16 ? (__mmask16)0xFFFF : valid <= 0 ? (__mmask16)0 : (__mmask16)((1u << valid) - 1);
}

// 16×16 transpose in registers: r[i][j] → r[j][i].
TML_TARGET static inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i]), _mm512_castps_pd(t[i + 2])));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[i + 1]), _mm512_castps_pd(t[i + 3])));
  }
  for (int h = 0; h < 16; h += 8) {
    for (int i = 0; i < 4; i++) {
      t[h + i] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0x88);
      t[h + i + 4] = _mm512_shuffle_f32x4(r[h + i], r[h + i + 4], 0xDD);
    }
  }
  for (int i = 0; i < 8; i++) {
    r[i] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0x88);
    r[i + 8] = _mm512_shuffle_f32x4(t[i], t[i + 8], 0xDD);
  }
}

// dst[kk·NR + j] = B(k0 + kk, p·NR + j) for kk < kc, j < NR (0 past column n).
TML_TARGET static void pack_block(int kc, int n, const float *b, long b_rs, long b_cs, int k0, int p, float *dst) {
  const int j0 = p * NR, valid = imin(NR, n - j0);
  if (b_cs == 1) {  // rows of B are contiguous: copy 32 floats per k
    const __mmask16 m0 = lane_mask(valid), m1 = lane_mask(valid - 16);
    for (int kk = 0; kk < kc; kk++) {
      const float *src = b + (long)(k0 + kk) * b_rs + j0;
      _mm512_store_ps(dst + kk * NR, _mm512_maskz_loadu_ps(m0, src));
      _mm512_store_ps(dst + kk * NR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
    }
  } else if (b_rs == 1) {  // columns of B are contiguous (B = Wᵀ): 16×16 transposes
    for (int half = 0; half < 2; half++) {
      for (int kk0 = 0; kk0 < kc; kk0 += 16) {
        const __mmask16 km = lane_mask(kc - kk0);
        __m512 r[16];
        for (int j = 0; j < 16; j++) {
          const int col = half * 16 + j;
          r[j] = col < valid ? _mm512_maskz_loadu_ps(km, b + (long)(j0 + col) * b_cs + k0 + kk0) : _mm512_setzero_ps();
        }
        transpose16(r);
        const int rows = imin(16, kc - kk0);
        for (int kk = 0; kk < rows; kk++) _mm512_store_ps(dst + (kk0 + kk) * NR + half * 16, r[kk]);
      }
    }
  } else {
    for (int kk = 0; kk < kc; kk++)
      for (int j = 0; j < NR; j++)
        dst[kk * NR + j] = j < valid ? b[(long)(k0 + kk) * b_rs + (long)(j0 + j) * b_cs] : 0.0f;
  }
}

// C[0..<mr, 0..<32] (+)= A(0..<mr, 0..<kc) · w, w packed [kc][32]; lanes past `valid` untouched.
TML_TARGET __attribute__((always_inline)) static inline void micro_kernel(
    const int mr, int kc, const float *a, const long rs, const long cs, const float *w, float *c, long ldc,
    int load_c, __mmask16 m0, __mmask16 m1) {
  __m512 c0[MR], c1[MR];
  for (int i = 0; i < mr; i++) {
    c0[i] = load_c ? _mm512_maskz_loadu_ps(m0, c + i * ldc) : _mm512_setzero_ps();
    c1[i] = load_c ? _mm512_maskz_loadu_ps(m1, c + i * ldc + 16) : _mm512_setzero_ps();
  }
  for (int kk = 0; kk < kc; kk++) {
    const __m512 b0 = _mm512_load_ps(w + kk * NR), b1 = _mm512_load_ps(w + kk * NR + 16);
    const float *ak = a + kk * cs;
    for (int i = 0; i < mr; i++) {
      const __m512 ai = _mm512_set1_ps(ak[i * rs]);
      c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
    }
  }
  for (int i = 0; i < mr; i++) {
    _mm512_mask_storeu_ps(c + i * ldc, m0, c0[i]);
    _mm512_mask_storeu_ps(c + i * ldc + 16, m1, c1[i]);
  }
}

#define TML_ROWS_CASE(R) \
  case R: micro_kernel(R, kc, a, rs, cs, w, c, ldc, load_c, m0, m1); break;

// All rows [row0, row1) of one panel's kc-block, with A's strides fixed at compile time
// where the caller passes constants.
TML_TARGET __attribute__((always_inline)) static inline void panel_rows(
    int kc, const float *a0, const long rs, const long cs, const float *w, float *c0, long ldc, int load_c,
    __mmask16 m0, __mmask16 m1, int row0, int row1) {
  int i = row0;
  for (; i + MR <= row1; i += MR)
    micro_kernel(MR, kc, a0 + i * rs, rs, cs, w, c0 + i * ldc, ldc, load_c, m0, m1);
  const float *a = a0 + i * rs;
  float *c = c0 + i * ldc;
  switch (row1 - i) {
    TML_ROWS_CASE(1) TML_ROWS_CASE(2) TML_ROWS_CASE(3) TML_ROWS_CASE(4)
    TML_ROWS_CASE(5) TML_ROWS_CASE(6) TML_ROWS_CASE(7)
    default: break;
  }
}

TML_TARGET static void run_slice(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *b,
                                 long b_rs, long b_cs, const float *packed, int accumulate, float *c, long ldc,
                                 int row0, int row1, int panel0, int panel1) {
  (void)m;
  float buffer[KC * NR] __attribute__((aligned(64)));  // 64 KB on the caller's stack: one packed block
  if (k == 0) {
    if (!accumulate)
      for (int i = row0; i < row1; i++)
        for (int j = panel0 * NR; j < imin(n, panel1 * NR); j++) c[i * ldc + j] = 0;
    return;
  }
  for (int k0 = 0; k0 < k; k0 += KC) {
    const int kc = imin(KC, k - k0);
    const int load_c = accumulate || k0 > 0;
    for (int p = panel0; p < panel1; p++) {
      const float *w;
      if (packed) {
        w = packed + ((size_t)p * k + k0) * NR;
      } else {
        pack_block(kc, n, b, b_rs, b_cs, k0, p, buffer);
        w = buffer;
      }
      const int valid = imin(NR, n - p * NR);
      const __mmask16 m0 = lane_mask(valid), m1 = lane_mask(valid - 16);
      const float *ak = a + (long)k0 * a_cs;
      float *cp = c + p * NR;
      if (a_cs == 1)
        panel_rows(kc, ak, a_rs, 1, w, cp, ldc, load_c, m0, m1, row0, row1);
      else if (a_rs == 1)
        panel_rows(kc, ak, 1, a_cs, w, cp, ldc, load_c, m0, m1, row0, row1);
      else
        panel_rows(kc, ak, a_rs, a_cs, w, cp, ldc, load_c, m0, m1, row0, row1);
    }
  }
}

void tml_gemm_pack(int k, int n, const float *b, long b_rs, long b_cs, float *dst, int panel0, int panel1) {
  for (int p = panel0; p < panel1; p++)
    for (int k0 = 0; k0 < k; k0 += KC) pack_block(imin(KC, k - k0), n, b, b_rs, b_cs, k0, p, dst + ((size_t)p * k + k0) * NR);
}

void tml_gemm_slice(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *b, long b_rs,
                    long b_cs, int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1) {
  run_slice(m, n, k, a, a_rs, a_cs, b, b_rs, b_cs, NULL, accumulate, c, ldc, row0, row1, panel0, panel1);
}

void tml_gemm_slice_packed(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *packed,
                           int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1) {
  run_slice(m, n, k, a, a_rs, a_cs, NULL, 0, 0, packed, accumulate, c, ldc, row0, row1, panel0, panel1);
}

#else  // not x86-64: callers use BLAS

void tml_gemm_pack(int k, int n, const float *b, long b_rs, long b_cs, float *dst, int panel0, int panel1) {
  (void)k; (void)n; (void)b; (void)b_rs; (void)b_cs; (void)dst; (void)panel0; (void)panel1;
}
void tml_gemm_slice(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *b, long b_rs,
                    long b_cs, int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1) {
  (void)m; (void)n; (void)k; (void)a; (void)a_rs; (void)a_cs; (void)b; (void)b_rs; (void)b_cs;
  (void)accumulate; (void)c; (void)ldc; (void)row0; (void)row1; (void)panel0; (void)panel1;
}
void tml_gemm_slice_packed(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *packed,
                           int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1) {
  (void)m; (void)n; (void)k; (void)a; (void)a_rs; (void)a_cs; (void)packed;
  (void)accumulate; (void)c; (void)ldc; (void)row0; (void)row1; (void)panel0; (void)panel1;
}
#endif
