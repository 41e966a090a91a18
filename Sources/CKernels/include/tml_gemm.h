// SwiftTML's own single-precision GEMMs for x86-64: AVX-512 (gemm_avx512.c, 32-column
// panels) and AVX2/FMA (gemm_avx2.c, 16-column panels, tml_gemm_avx2_*). Both follow the
// contract below; a matrix packed by one must only be used by the same one.
//
//   C[i, j] = (accumulate ? C[i, j] : 0) + Σ_k A(i, k) · B(k, j)
//
// A is read in place through two strides, A(i, k) = a[i·a_rs + k·a_cs], so row-major A and
// Aᵀ cost the same. B is packed into column panels of TML_GEMM_NR floats, [panel][k][NR]
// (zero-padded past n), either block by block inside the call (from B(k, j) =
// b[k·b_rs + j·b_cs]) or once ahead of time with tml_gemm_pack (a layer's weights at
// inference). Every C element is written by exactly one call, accumulating over k in a
// fixed order, so results do not depend on how the caller splits rows and panels across
// threads. Callers must check tml_gemm_available() (tml_gemm_avx2_available()) first: on
// x86-64 without the instructions the kernels would fault (illegal instruction); on other
// architectures they are empty stubs. dst / packed must be 64-byte aligned.
#ifndef SWIFTTML_GEMM_H
#define SWIFTTML_GEMM_H
#include <stddef.h>
#include "tml_cpu.h"

#define TML_GEMM_NR 32
#define TML_GEMM_AVX2_NR 16

/// 1 when the AVX-512 kernels can run on this CPU, else 0.
int tml_gemm_available(void);

/// Floats needed by tml_gemm_pack for a k×n B.
size_t tml_gemm_packed_count(int k, int n);

/// Packs panels [panel0, panel1) of B (k×n) into dst, laid out [panel][k][NR].
void tml_gemm_pack(int k, int n, const float *b, long b_rs, long b_cs, float *dst, int panel0, int panel1);

/// C rows [row0, row1) × panels [panel0, panel1), packing B block by block.
void tml_gemm_slice(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *b, long b_rs,
                    long b_cs, int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1);

/// The same with B already packed by tml_gemm_pack (all its panels, for all k).
void tml_gemm_slice_packed(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *packed,
                           int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1);

/// 1 when the AVX2/FMA kernels can run on this CPU, else 0.
int tml_gemm_avx2_available(void);
/// Floats needed by tml_gemm_avx2_pack for a k×n B ([panel][k][16]).
size_t tml_gemm_avx2_packed_count(int k, int n);
/// AVX2 counterparts of tml_gemm_pack, tml_gemm_slice and tml_gemm_slice_packed.
void tml_gemm_avx2_pack(int k, int n, const float *b, long b_rs, long b_cs, float *dst, int panel0, int panel1);
void tml_gemm_avx2_slice(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *b, long b_rs,
                         long b_cs, int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1);
void tml_gemm_avx2_slice_packed(int m, int n, int k, const float *a, long a_rs, long a_cs, const float *packed,
                                int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1);
#endif
