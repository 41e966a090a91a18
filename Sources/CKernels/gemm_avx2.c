// AVX2/FMA SGEMM: C (+)= A·B with B packed into 16-column panels (see tml_gemm.h). The
// portable fast path for x86-64 CPUs without AVX-512; the same contract and blocking as
// gemm_avx512.c, compiled with a target attribute so the package still builds for generic
// x86-64 (tml_gemm_avx2_available() says whether it may run).
//
// Blocking: k is cut into blocks of KC; for each block and each 16-column panel, the
// KC×16 slice of B is packed (or read from a pre-packed matrix), then an MR×16 tile of C
// is updated per MR rows of A by the micro-kernel: 12 ymm accumulators, per k two vector
// loads of B and MR broadcasts of A, 2·MR fused multiply-adds.
#include "tml_gemm.h"

int tml_gemm_avx2_available(void) { return tml_avx2_available(); }

size_t tml_gemm_avx2_packed_count(int k, int n) {
  return ((size_t)n + TML_GEMM_AVX2_NR - 1) / TML_GEMM_AVX2_NR * (size_t)k * TML_GEMM_AVX2_NR;
}

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>
#define TML_TARGET __attribute__((target("avx2,fma")))
#define KC 512
#define MR 6
#define NR TML_GEMM_AVX2_NR

static inline int imin(int a, int b) { return a < b ? a : b; }

// Lanes i < valid set (all clear for valid ≤ 0, all set for valid ≥ 8).
TML_TARGET static inline __m256i lane_mask(int valid) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(valid), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// 8×8 transpose in registers: r[i][j] → r[j][i].
TML_TARGET static inline void transpose8(__m256 r[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int h = 0; h < 8; h += 4) {
    s[h] = _mm256_shuffle_ps(t[h], t[h + 2], _MM_SHUFFLE(1, 0, 1, 0));
    s[h + 1] = _mm256_shuffle_ps(t[h], t[h + 2], _MM_SHUFFLE(3, 2, 3, 2));
    s[h + 2] = _mm256_shuffle_ps(t[h + 1], t[h + 3], _MM_SHUFFLE(1, 0, 1, 0));
    s[h + 3] = _mm256_shuffle_ps(t[h + 1], t[h + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; i++) {
    r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
  }
}

// dst[kk·NR + j] = B(k0 + kk, p·NR + j) for kk < kc, j < NR (0 past column n).
TML_TARGET static void pack_block(int kc, int n, const float *b, long b_rs, long b_cs, int k0, int p, float *dst) {
  const int j0 = p * NR, valid = imin(NR, n - j0);
  if (b_cs == 1) {  // rows of B are contiguous: copy 16 floats per k
    const __m256i m0 = lane_mask(valid), m1 = lane_mask(valid - 8);
    for (int kk = 0; kk < kc; kk++) {
      const float *src = b + (long)(k0 + kk) * b_rs + j0;
      if (valid == NR) {
        _mm256_store_ps(dst + kk * NR, _mm256_loadu_ps(src));
        _mm256_store_ps(dst + kk * NR + 8, _mm256_loadu_ps(src + 8));
      } else {
        _mm256_store_ps(dst + kk * NR, _mm256_maskload_ps(src, m0));
        _mm256_store_ps(dst + kk * NR + 8, _mm256_maskload_ps(src + 8, m1));
      }
    }
  } else if (b_rs == 1) {  // columns of B are contiguous (B = Wᵀ): 8×8 transposes
    for (int half = 0; half < 2; half++) {
      for (int kk0 = 0; kk0 < kc; kk0 += 8) {
        const __m256i km = lane_mask(kc - kk0);
        __m256 r[8];
        for (int j = 0; j < 8; j++) {
          const int col = half * 8 + j;
          r[j] = col < valid ? _mm256_maskload_ps(b + (long)(j0 + col) * b_cs + k0 + kk0, km) : _mm256_setzero_ps();
        }
        transpose8(r);
        const int rows = imin(8, kc - kk0);
        for (int kk = 0; kk < rows; kk++) _mm256_store_ps(dst + (kk0 + kk) * NR + half * 8, r[kk]);
      }
    }
  } else {
    for (int kk = 0; kk < kc; kk++)
      for (int j = 0; j < NR; j++)
        dst[kk * NR + j] = j < valid ? b[(long)(k0 + kk) * b_rs + (long)(j0 + j) * b_cs] : 0.0f;
  }
}

// C[0..<mr, 0..<16] (+)= A(0..<mr, 0..<kc) · w, w packed [kc][16]; lanes past the panel's
// valid columns (masks m0, m1, used when !full) untouched.
TML_TARGET __attribute__((always_inline)) static inline void micro_kernel(
    const int mr, int kc, const float *a, const long rs, const long cs, const float *w, float *c, long ldc,
    int load_c, int full, __m256i m0, __m256i m1) {
  __m256 c0[MR], c1[MR];
  for (int i = 0; i < mr; i++) {
    if (!load_c) {
      c0[i] = _mm256_setzero_ps();
      c1[i] = _mm256_setzero_ps();
    } else if (full) {
      c0[i] = _mm256_loadu_ps(c + i * ldc);
      c1[i] = _mm256_loadu_ps(c + i * ldc + 8);
    } else {
      c0[i] = _mm256_maskload_ps(c + i * ldc, m0);
      c1[i] = _mm256_maskload_ps(c + i * ldc + 8, m1);
    }
  }
  for (int kk = 0; kk < kc; kk++) {
    const __m256 b0 = _mm256_load_ps(w + kk * NR), b1 = _mm256_load_ps(w + kk * NR + 8);
    const float *ak = a + kk * cs;
    for (int i = 0; i < mr; i++) {
      const __m256 ai = _mm256_broadcast_ss(ak + i * rs);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
  }
  for (int i = 0; i < mr; i++) {
    if (full) {
      _mm256_storeu_ps(c + i * ldc, c0[i]);
      _mm256_storeu_ps(c + i * ldc + 8, c1[i]);
    } else {
      _mm256_maskstore_ps(c + i * ldc, m0, c0[i]);
      _mm256_maskstore_ps(c + i * ldc + 8, m1, c1[i]);
    }
  }
}

#define TML_ROWS_CASE(R) \
  case R: micro_kernel(R, kc, a, rs, cs, w, c, ldc, load_c, full, m0, m1); break;

// All rows [row0, row1) of one panel's kc-block, with A's strides fixed at compile time
// where the caller passes constants.
TML_TARGET __attribute__((always_inline)) static inline void panel_rows(
    int kc, const float *a0, const long rs, const long cs, const float *w, float *c0, long ldc, int load_c,
    int full, __m256i m0, __m256i m1, int row0, int row1) {
  int i = row0;
  for (; i + MR <= row1; i += MR)
    micro_kernel(MR, kc, a0 + i * rs, rs, cs, w, c0 + i * ldc, ldc, load_c, full, m0, m1);
  const float *a = a0 + i * rs;
  float *c = c0 + i * ldc;
  switch (row1 - i) {
    TML_ROWS_CASE(1) TML_ROWS_CASE(2) TML_ROWS_CASE(3) TML_ROWS_CASE(4) TML_ROWS_CASE(5)
    default: break;
  }
}

TML_TARGET static void run_slice(int n, int k, const float *a, long a_rs, long a_cs, const float *b, long b_rs,
                                 long b_cs, const float *packed, int accumulate, float *c, long ldc, int row0,
                                 int row1, int panel0, int panel1) {
  float buffer[KC * NR] __attribute__((aligned(32)));  // 32 KB on the caller's stack: one packed block
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
      const int valid = imin(NR, n - p * NR), full = valid == NR;
      const __m256i m0 = lane_mask(valid), m1 = lane_mask(valid - 8);
      const float *ak = a + (long)k0 * a_cs;
      float *cp = c + p * NR;
      if (a_cs == 1)
        panel_rows(kc, ak, a_rs, 1, w, cp, ldc, load_c, full, m0, m1, row0, row1);
      else if (a_rs == 1)
        panel_rows(kc, ak, 1, a_cs, w, cp, ldc, load_c, full, m0, m1, row0, row1);
      else
        panel_rows(kc, ak, a_rs, a_cs, w, cp, ldc, load_c, full, m0, m1, row0, row1);
    }
  }
}

void tml_gemm_avx2_pack(int k, int n, const float *b, long b_rs, long b_cs, float *dst, int panel0, int panel1) {
  for (int p = panel0; p < panel1; p++)
    for (int k0 = 0; k0 < k; k0 += KC)
      pack_block(imin(KC, k - k0), n, b, b_rs, b_cs, k0, p, dst + ((size_t)p * k + k0) * NR);
}

void tml_gemm_avx2_slice(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *b, long b_rs,
                         long b_cs, int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1) {
  (void)m;
  run_slice(n, k, a, a_rs, a_cs, b, b_rs, b_cs, NULL, accumulate, c, ldc, row0, row1, panel0, panel1);
}

void tml_gemm_avx2_slice_packed(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *packed,
                                int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1) {
  (void)m;
  run_slice(n, k, a, a_rs, a_cs, NULL, 0, 0, packed, accumulate, c, ldc, row0, row1, panel0, panel1);
}

#else  // not x86-64: callers use BLAS

void tml_gemm_avx2_pack(int k, int n, const float *b, long b_rs, long b_cs, float *dst, int panel0, int panel1) {
  (void)k; (void)n; (void)b; (void)b_rs; (void)b_cs; (void)dst; (void)panel0; (void)panel1;
}
void tml_gemm_avx2_slice(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *b, long b_rs,
                         long b_cs, int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1) {
  (void)m; (void)n; (void)k; (void)a; (void)a_rs; (void)a_cs; (void)b; (void)b_rs; (void)b_cs;
  (void)accumulate; (void)c; (void)ldc; (void)row0; (void)row1; (void)panel0; (void)panel1;
}
void tml_gemm_avx2_slice_packed(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *packed,
                                int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1) {
  (void)m; (void)n; (void)k; (void)a; (void)a_rs; (void)a_cs; (void)packed;
  (void)accumulate; (void)c; (void)ldc; (void)row0; (void)row1; (void)panel0; (void)panel1;
}
#endif
