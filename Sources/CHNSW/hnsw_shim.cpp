// hnswlib behind a C interface (see include/hnsw_shim.h). The distance kernels are ours,
// chosen at run time (AVX-512, AVX2+FMA or scalar), so the library is built for the
// baseline x86-64 / arm64 target and still runs wide vectors where the CPU has them.
#define NO_MANUAL_VECTORIZATION
#include "hnsw_shim.h"

#include <hnswlib/hnswlib.h>

#include <sys/stat.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace {

using Dot = float (*)(const float *, const float *, size_t);

float dot_scalar(const float *a, const float *b, size_t n) {
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1]; s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

float l2_scalar(const float *a, const float *b, size_t n) {
  float s = 0;
  for (size_t i = 0; i < n; i++) { float d = a[i] - b[i]; s += d * d; }
  return s;
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

__attribute__((target("avx2,fma"))) float dot_avx2(const float *a, const float *b, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
  float s = hsum256(_mm256_add_ps(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

__attribute__((target("avx2,fma"))) float l2_avx2(const float *a, const float *b, size_t n) {
  __m256 s0 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 d = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
    s0 = _mm256_fmadd_ps(d, d, s0);
  }
  float s = hsum256(s0);
  for (; i < n; i++) { float d = a[i] - b[i]; s += d * d; }
  return s;
}

__attribute__((target("avx512f"))) float dot_avx512(const float *a, const float *b, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
  }
  for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
  if (i < n) {
    __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
    s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f"))) float l2_avx512(const float *a, const float *b, size_t n) {
  __m512 s0 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512 d = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
    s0 = _mm512_fmadd_ps(d, d, s0);
  }
  if (i < n) {
    __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
    __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
    s0 = _mm512_fmadd_ps(d, d, s0);
  }
  return _mm512_reduce_add_ps(s0);
}
#endif

struct Kernels { Dot dot; Dot l2; const char *name; };

Kernels chooseKernels() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return {dot_avx512, l2_avx512, "avx512"};
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {dot_avx2, l2_avx2, "avx2+fma"};
#endif
  return {dot_scalar, l2_scalar, "scalar"};
}

const Kernels &kernels() {
  static const Kernels k = chooseKernels();
  return k;
}

float innerProductDistance(const void *a, const void *b, const void *dim) {
  return 1.0f - kernels().dot(static_cast<const float *>(a), static_cast<const float *>(b), *static_cast<const size_t *>(dim));
}

float l2Distance(const void *a, const void *b, const void *dim) {
  return kernels().l2(static_cast<const float *>(a), static_cast<const float *>(b), *static_cast<const size_t *>(dim));
}

/// hnswlib's distance interface with our run-time-chosen kernels.
class RuntimeSpace : public hnswlib::SpaceInterface<float> {
 public:
  RuntimeSpace(int metric, size_t dimension) : dimension_(dimension), metric_(metric) {}
  size_t get_data_size() override { return dimension_ * sizeof(float); }
  hnswlib::DISTFUNC<float> get_dist_func() override { return metric_ == TML_HNSW_L2 ? l2Distance : innerProductDistance; }
  void *get_dist_func_param() override { return &dimension_; }

 private:
  size_t dimension_;
  int metric_;
};

void setError(char *error, size_t size, const std::string &message) {
  if (error == nullptr || size == 0) return;
  std::snprintf(error, size, "%s", message.c_str());
}

/// Runs body(i) for i in [0, count) on `threads` threads; the first exception is rethrown.
template <typename Body>
void parallelFor(size_t count, size_t threads, Body body) {
  threads = std::max<size_t>(1, std::min(threads, count));
  if (threads == 1) {
    for (size_t i = 0; i < count; i++) body(i);
    return;
  }
  std::atomic<size_t> next(0);
  std::exception_ptr failure;
  std::mutex failureLock;
  std::vector<std::thread> pool;
  for (size_t t = 0; t < threads; t++) {
    pool.emplace_back([&] {
      for (;;) {
        size_t i = next.fetch_add(1);
        if (i >= count) return;
        try {
          body(i);
        } catch (...) {
          std::lock_guard<std::mutex> lock(failureLock);
          if (!failure) failure = std::current_exception();
          next.store(count);
          return;
        }
      }
    });
  }
  for (auto &t : pool) t.join();
  if (failure) std::rethrow_exception(failure);
}

}  // namespace

struct tml_hnsw {
  RuntimeSpace space;
  hnswlib::HierarchicalNSW<float> *graph = nullptr;
  tml_hnsw(int metric, size_t dimension) : space(metric, dimension) {}
  ~tml_hnsw() { delete graph; }
};

extern "C" {

tml_hnsw *tml_hnsw_create(int metric, size_t dimension, size_t capacity, size_t m, size_t ef_construction,
                          uint64_t seed, char *error, size_t error_size) {
  try {
    auto *index = new tml_hnsw(metric, dimension);
    index->graph = new hnswlib::HierarchicalNSW<float>(&index->space, capacity, m, ef_construction, (size_t)seed);
    return index;
  } catch (const std::exception &e) {
    setError(error, error_size, e.what());
  } catch (...) {
    setError(error, error_size, "unknown C++ exception");
  }
  return nullptr;
}

tml_hnsw *tml_hnsw_load(const char *path, int metric, size_t dimension, char *error, size_t error_size) {
  tml_hnsw *index = nullptr;
  try {
    index = new tml_hnsw(metric, dimension);
    index->graph = new hnswlib::HierarchicalNSW<float>(&index->space, std::string(path));
    // Each element is [level-0 links | vector | label]: the vector's bytes lie between them.
    if (index->graph->label_offset_ - index->graph->offsetData_ != dimension * sizeof(float)) {
      throw std::runtime_error("the index does not hold vectors of dimension " + std::to_string(dimension));
    }
    return index;
  } catch (const std::exception &e) {
    setError(error, error_size, e.what());
  } catch (...) {
    setError(error, error_size, "unknown C++ exception");
  }
  delete index;
  return nullptr;
}

void tml_hnsw_free(tml_hnsw *index) { delete index; }

int tml_hnsw_add(tml_hnsw *index, const float *vectors, size_t first, size_t count, size_t threads,
                 char *error, size_t error_size) {
  try {
    const size_t dimension = index->space.get_data_size() / sizeof(float);
    // The entry point first, alone, so that the parallel inserts all find a graph.
    size_t start = 0;
    if (index->graph->cur_element_count == 0 && count > 0) {
      index->graph->addPoint(vectors, (hnswlib::labeltype)first);
      start = 1;
    }
    parallelFor(count - start, threads, [&](size_t i) {
      size_t row = start + i;
      index->graph->addPoint(vectors + row * dimension, (hnswlib::labeltype)(first + row));
    });
    return 0;
  } catch (const std::exception &e) {
    setError(error, error_size, e.what());
  } catch (...) {
    setError(error, error_size, "unknown C++ exception");
  }
  return -1;
}

void tml_hnsw_set_ef(tml_hnsw *index, size_t ef) { index->graph->setEf(ef); }

int tml_hnsw_search(tml_hnsw *index, const float *queries, size_t count, size_t k, size_t threads,
                    int64_t *labels, float *distances, char *error, size_t error_size) {
  try {
    const size_t dimension = index->space.get_data_size() / sizeof(float);
    parallelFor(count, threads, [&](size_t q) {
      auto found = index->graph->searchKnnCloserFirst(queries + q * dimension, k);
      for (size_t i = 0; i < k; i++) {
        bool have = i < found.size();
        labels[q * k + i] = have ? (int64_t)found[i].second : -1;
        distances[q * k + i] = have ? found[i].first : std::numeric_limits<float>::infinity();
      }
    });
    return 0;
  } catch (const std::exception &e) {
    setError(error, error_size, e.what());
  } catch (...) {
    setError(error, error_size, "unknown C++ exception");
  }
  return -1;
}

int tml_hnsw_save(tml_hnsw *index, const char *path, char *error, size_t error_size) {
  try {
    auto *g = index->graph;
    // hnswlib's saveIndex does not check its writes: compare the file's size with what it
    // must hold (13 header fields, the level-0 block, then each element's upper links).
    size_t expected = sizeof(g->offsetLevel0_) + sizeof(g->max_elements_) + sizeof(g->cur_element_count) +
                      sizeof(g->size_data_per_element_) + sizeof(g->label_offset_) + sizeof(g->offsetData_) +
                      sizeof(g->maxlevel_) + sizeof(g->enterpoint_node_) + sizeof(g->maxM_) + sizeof(g->maxM0_) +
                      sizeof(g->M_) + sizeof(g->mult_) + sizeof(g->ef_construction_) +
                      g->cur_element_count * g->size_data_per_element_;
    for (size_t i = 0; i < g->cur_element_count; i++) {
      expected += sizeof(unsigned int) + (g->element_levels_[i] > 0 ? g->size_links_per_element_ * g->element_levels_[i] : 0);
    }
    g->saveIndex(std::string(path));
    struct stat st;
    if (stat(path, &st) != 0) throw std::runtime_error(std::string("cannot write: ") + std::strerror(errno));
    if ((size_t)st.st_size != expected) {
      throw std::runtime_error("short write (" + std::to_string((size_t)st.st_size) + " of " + std::to_string(expected) +
                               " bytes): is the disk full?");
    }
    return 0;
  } catch (const std::exception &e) {
    setError(error, error_size, e.what());
  } catch (...) {
    setError(error, error_size, "unknown C++ exception");
  }
  return -1;
}

size_t tml_hnsw_count(const tml_hnsw *index) { return index->graph->cur_element_count; }

const char *tml_hnsw_kernel(void) { return kernels().name; }

void tml_inner_products(const float *vectors, size_t count, size_t dimension, const float *query, float *scores) {
  const Dot dot = kernels().dot;
  for (size_t i = 0; i < count; i++) scores[i] = dot(vectors + i * dimension, query, dimension);
}

void tml_inner_products_of_rows(const float *vectors, size_t dimension, const uint32_t *rows, size_t count,
                                const float *query, float *scores) {
  const Dot dot = kernels().dot;
  const size_t ahead = 16, lines = (dimension * sizeof(float) + 63) / 64;
  for (size_t i = 0; i < count; i++) {
    if (i + ahead < count) {
      const char *next = (const char *)(vectors + (size_t)rows[i + ahead] * dimension);
      for (size_t l = 0; l < lines; l++) __builtin_prefetch(next + 64 * l);
    }
    scores[i] = dot(vectors + (size_t)rows[i] * dimension, query, dimension);
  }
}

}  // extern "C"
