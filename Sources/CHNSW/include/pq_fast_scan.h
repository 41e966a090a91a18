// Product-quantisation "fast scan" kernels: every vector is S 4-bit codes (one of 16
// centroids per subspace); a query's look-up table holds its inner product with each
// centroid, quantised to uint8, and a vector's estimated score is the sum of its S entries,
// summed 32 vectors at a time with byte shuffles (André et al., "Cache locality is not
// enough: high-performance nearest neighbor search with product quantization fast scan", 2015).
#ifndef TML_PQ_FAST_SCAN_H
#define TML_PQ_FAST_SCAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// codes: `blocks` blocks of 32 vectors; block b, subspace s is 16 bytes at
/// codes[(b·S + s)·16], byte j = code(32b + j) | code(32b + 16 + j) << 4.
/// lut: S × 16 uint8. sums[32b + j] = Σ_s lut[s·16 + code_s(32b + j)] (S ≤ 257).
void tml_pq4_scan(const uint8_t *codes, size_t blocks, size_t subspaces, const uint8_t *lut, uint16_t *sums);

/// Writes to `ids` the indices i < count with sums[i] ≥ threshold, and their sums to `values`,
/// at most `capacity` of them; returns how many there are in all (may exceed capacity).
size_t tml_pq4_collect(const uint16_t *sums, size_t count, uint16_t threshold, uint32_t *ids, uint16_t *values, size_t capacity);

/// scores[i] = scales[r]·⟨rows8[r], query⟩ for r = rows[i]: inner products with rows stored as
/// int8 (x ≈ scale·x8), the next rows prefetched.
void tml_int8_inner_products_of_rows(const int8_t *rows8, const float *scales, size_t dimension, const uint32_t *rows,
                                     size_t count, const float *query, float *scores);

/// The kernel chosen for this CPU ("avx2" or "scalar").
const char *tml_pq4_kernel(void);

#ifdef __cplusplus
}
#endif
#endif
