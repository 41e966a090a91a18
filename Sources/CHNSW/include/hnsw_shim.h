// A plain C interface to hnswlib (Debian's header-only libhnswlib-dev): Hierarchical Navigable
// Small World graphs (Malkov & Yashunin, 2018) for approximate maximum-inner-product search.
// Every function catches C++ exceptions and reports them through `error` (a caller-owned
// buffer of `error_size` bytes) instead of unwinding into Swift.
#ifndef TML_HNSW_SHIM_H
#define TML_HNSW_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include "pq_fast_scan.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tml_hnsw tml_hnsw;

/// The distance the graph is built for: inner product (distance 1 − ⟨a, b⟩) or squared L2.
enum { TML_HNSW_INNER_PRODUCT = 0, TML_HNSW_L2 = 1 };

/// An empty index for `capacity` vectors of `dimension` floats; NULL with `error` set on failure.
tml_hnsw *tml_hnsw_create(int metric, size_t dimension, size_t capacity, size_t m, size_t ef_construction,
                          uint64_t seed, char *error, size_t error_size);
/// Reads an index written by `tml_hnsw_save`; NULL with `error` set on failure.
tml_hnsw *tml_hnsw_load(const char *path, int metric, size_t dimension, char *error, size_t error_size);
void tml_hnsw_free(tml_hnsw *index);

/// Adds rows `first … first + count − 1` of a row-major matrix (`vectors` points at row `first`),
/// labelled by their row numbers, with `threads` threads (1: deterministic for a given seed).
int tml_hnsw_add(tml_hnsw *index, const float *vectors, size_t first, size_t count, size_t threads,
                 char *error, size_t error_size);
/// The search breadth (candidate list on layer 0; max(ef, k) is used). Not to be changed
/// while searches run.
void tml_hnsw_set_ef(tml_hnsw *index, size_t ef);
/// The k nearest of each of `queries` (row-major, count × dimension): labels[q·k + i] and
/// distances[q·k + i], nearest first, −1 / +inf past the end. Searches may run concurrently.
int tml_hnsw_search(tml_hnsw *index, const float *queries, size_t count, size_t k, size_t threads,
                    int64_t *labels, float *distances, char *error, size_t error_size);
int tml_hnsw_save(tml_hnsw *index, const char *path, char *error, size_t error_size);
size_t tml_hnsw_count(const tml_hnsw *index);
/// scores[i] = ⟨vectors[i], query⟩ for the `count` rows of a row-major matrix, with the same
/// kernel the graph uses (the exact scan the index is measured against).
void tml_inner_products(const float *vectors, size_t count, size_t dimension, const float *query, float *scores);
/// scores[i] = ⟨vectors[rows[i]], query⟩ (the same kernel; the next rows are prefetched).
void tml_inner_products_of_rows(const float *vectors, size_t dimension, const uint32_t *rows, size_t count,
                                const float *query, float *scores);
/// The name of the distance kernel chosen for this CPU ("avx512", "avx2+fma" or "scalar").
const char *tml_hnsw_kernel(void);

#ifdef __cplusplus
}
#endif
#endif
