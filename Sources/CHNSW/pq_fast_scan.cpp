// PQ 4-bit fast-scan kernels (see include/pq_fast_scan.h); AVX2 chosen at run time.
#include "pq_fast_scan.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

void scanScalar(const uint8_t *codes, size_t blocks, size_t subspaces, const uint8_t *lut, uint16_t *sums) {
  for (size_t b = 0; b < blocks; b++) {
    uint16_t acc[32] = {0};
    for (size_t s = 0; s < subspaces; s++) {
      const uint8_t *c = codes + (b * subspaces + s) * 16, *t = lut + s * 16;
      for (int j = 0; j < 16; j++) {
        acc[j] = (uint16_t)(acc[j] + t[c[j] & 15]);
        acc[j + 16] = (uint16_t)(acc[j + 16] + t[c[j] >> 4]);
      }
    }
    for (int j = 0; j < 32; j++) sums[b * 32 + j] = acc[j];
  }
}

/// Rows start… of `sums` at or above `threshold`, appended after the `found` already kept.
size_t collectScalar(const uint16_t *sums, size_t start, size_t count, uint16_t threshold, uint32_t *ids, uint16_t *values,
                     size_t capacity, size_t found) {
  for (size_t i = start; i < count; i++) {
    if (sums[i] >= threshold) {
      if (found < capacity) {
        ids[found] = (uint32_t)i;
        values[found] = sums[i];
      }
      found++;
    }
  }
  return found;
}

#if defined(__x86_64__)
// Two subspaces per 256-bit shuffle: the block's codes of subspaces s and s+1 are adjacent
// 16-byte rows, and so are their tables. A shuffled byte pair (vectors 2w, 2w+1) is split into
// two 16-bit sums (low byte, high byte) without widening; the lanes of s and s+1 are added
// and the even/odd vectors interleaved once per block.
__attribute__((target("avx2"))) void scanAVX2(const uint8_t *codes, size_t blocks, size_t subspaces, const uint8_t *lut, uint16_t *sums) {
  const __m256i low4 = _mm256_set1_epi8(15), lowByte = _mm256_set1_epi16(0x00FF);
  const size_t pairs = subspaces / 2;
  for (size_t b = 0; b < blocks; b++) {
    __m256i evenLo = _mm256_setzero_si256(), oddLo = _mm256_setzero_si256();
    __m256i evenHi = _mm256_setzero_si256(), oddHi = _mm256_setzero_si256();
    const uint8_t *c = codes + b * subspaces * 16;
    for (size_t p = 0; p < pairs; p++) {
      __m256i packed = _mm256_loadu_si256((const __m256i *)(c + p * 32));
      __m256i table = _mm256_loadu_si256((const __m256i *)(lut + p * 32));
      __m256i lo = _mm256_shuffle_epi8(table, _mm256_and_si256(packed, low4));
      __m256i hi = _mm256_shuffle_epi8(table, _mm256_and_si256(_mm256_srli_epi16(packed, 4), low4));
      evenLo = _mm256_add_epi16(evenLo, _mm256_and_si256(lo, lowByte));
      oddLo = _mm256_add_epi16(oddLo, _mm256_srli_epi16(lo, 8));
      evenHi = _mm256_add_epi16(evenHi, _mm256_and_si256(hi, lowByte));
      oddHi = _mm256_add_epi16(oddHi, _mm256_srli_epi16(hi, 8));
    }
    __m128i e0 = _mm_add_epi16(_mm256_castsi256_si128(evenLo), _mm256_extracti128_si256(evenLo, 1));
    __m128i o0 = _mm_add_epi16(_mm256_castsi256_si128(oddLo), _mm256_extracti128_si256(oddLo, 1));
    __m128i e1 = _mm_add_epi16(_mm256_castsi256_si128(evenHi), _mm256_extracti128_si256(evenHi, 1));
    __m128i o1 = _mm_add_epi16(_mm256_castsi256_si128(oddHi), _mm256_extracti128_si256(oddHi, 1));
    __m128i v0 = _mm_unpacklo_epi16(e0, o0), v1 = _mm_unpackhi_epi16(e0, o0);
    __m128i v2 = _mm_unpacklo_epi16(e1, o1), v3 = _mm_unpackhi_epi16(e1, o1);
    if (subspaces % 2) {  // the last subspace alone, 128 bits at a time
      const __m128i low4x = _mm_set1_epi8(15);
      const size_t s = subspaces - 1;
      __m128i packed = _mm_loadu_si128((const __m128i *)(c + s * 16));
      __m128i table = _mm_loadu_si128((const __m128i *)(lut + s * 16));
      __m128i lo = _mm_shuffle_epi8(table, _mm_and_si128(packed, low4x));
      __m128i hi = _mm_shuffle_epi8(table, _mm_and_si128(_mm_srli_epi16(packed, 4), low4x));
      v0 = _mm_add_epi16(v0, _mm_cvtepu8_epi16(lo));
      v1 = _mm_add_epi16(v1, _mm_cvtepu8_epi16(_mm_srli_si128(lo, 8)));
      v2 = _mm_add_epi16(v2, _mm_cvtepu8_epi16(hi));
      v3 = _mm_add_epi16(v3, _mm_cvtepu8_epi16(_mm_srli_si128(hi, 8)));
    }
    _mm_storeu_si128((__m128i *)(sums + b * 32), v0);
    _mm_storeu_si128((__m128i *)(sums + b * 32 + 8), v1);
    _mm_storeu_si128((__m128i *)(sums + b * 32 + 16), v2);
    _mm_storeu_si128((__m128i *)(sums + b * 32 + 24), v3);
  }
}

__attribute__((target("avx2"))) size_t collectAVX2(const uint16_t *sums, size_t count, uint16_t threshold, uint32_t *ids, uint16_t *values, size_t capacity) {
  size_t found = 0, i = 0;
  // sums are ≤ 255·257 < 2^16; compare as unsigned through max(x, t) == x.
  const __m256i t = _mm256_set1_epi16((short)threshold);
  for (; i + 16 <= count; i += 16) {
    __m256i x = _mm256_loadu_si256((const __m256i *)(sums + i));
    __m256i ge = _mm256_cmpeq_epi16(_mm256_max_epu16(x, t), x);
    unsigned mask = (unsigned)_mm256_movemask_epi8(ge);
    while (mask) {
      unsigned bit = (unsigned)__builtin_ctz(mask);
      if (found < capacity) {
        ids[found] = (uint32_t)(i + bit / 2);
        values[found] = sums[i + bit / 2];
      }
      found++;
      mask &= ~(3u << bit);
    }
  }
  return collectScalar(sums, i, count, threshold, ids, values, capacity, found);
}
#endif

float int8DotScalar(const int8_t *x, const float *q, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; i++) s += q[i] * (float)x[i];
  return s;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) float int8DotAVX2(const int8_t *x, const float *q, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m128i bytes = _mm_loadu_si128((const __m128i *)(x + i));
    __m256 a = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes));
    __m256 b = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(bytes, 8)));
    s0 = _mm256_fmadd_ps(a, _mm256_loadu_ps(q + i), s0);
    s1 = _mm256_fmadd_ps(b, _mm256_loadu_ps(q + i + 8), s1);
  }
  __m256 v = _mm256_add_ps(s0, s1);
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  float s = _mm_cvtss_f32(h);
  for (; i < n; i++) s += q[i] * (float)x[i];
  return s;
}
#endif

bool hasAVX2() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

const bool useAVX2 = hasAVX2();

bool hasFMA() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  return __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

const bool useAVX2FMA = useAVX2 && hasFMA();

}  // namespace

extern "C" {

void tml_pq4_scan(const uint8_t *codes, size_t blocks, size_t subspaces, const uint8_t *lut, uint16_t *sums) {
#if defined(__x86_64__)
  if (useAVX2) return scanAVX2(codes, blocks, subspaces, lut, sums);
#endif
  scanScalar(codes, blocks, subspaces, lut, sums);
}

size_t tml_pq4_collect(const uint16_t *sums, size_t count, uint16_t threshold, uint32_t *ids, uint16_t *values, size_t capacity) {
#if defined(__x86_64__)
  if (useAVX2) return collectAVX2(sums, count, threshold, ids, values, capacity);
#endif
  return collectScalar(sums, 0, count, threshold, ids, values, capacity, 0);
}

const char *tml_pq4_kernel(void) { return useAVX2 ? "avx2" : "scalar"; }

void tml_int8_inner_products_of_rows(const int8_t *rows8, const float *scales, size_t dimension, const uint32_t *rows,
                                     size_t count, const float *query, float *scores) {
  const size_t ahead = 16, lines = (dimension + 63) / 64;
  for (size_t i = 0; i < count; i++) {
    if (i + ahead < count) {
      const char *next = (const char *)(rows8 + (size_t)rows[i + ahead] * dimension);
      for (size_t l = 0; l < lines; l++) __builtin_prefetch(next + 64 * l);
    }
    const int8_t *x = rows8 + (size_t)rows[i] * dimension;
#if defined(__x86_64__)
    float d = useAVX2FMA ? int8DotAVX2(x, query, dimension) : int8DotScalar(x, query, dimension);
#else
    float d = int8DotScalar(x, query, dimension);
#endif
    scores[i] = d * scales[rows[i]];
  }
}

}  // extern "C"
