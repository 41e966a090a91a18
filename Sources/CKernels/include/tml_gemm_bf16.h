// bf16 GEMM for inference (gemm_bf16.c): fp32 C, fp32 A rounded to bf16 on the fly, B packed
// once in bf16 for AVX-512 BF16's VDPBF16PS, fp32 accumulation.
//
//   C[i, j] = (accumulate ? C[i, j] : 0) + Σ_k bf16(A(i, k)) · bf16(B(k, j))
//
// bf16(x) rounds to nearest, ties to even (NaN stays NaN). Products of two bf16 values are
// exact in fp32; the sum is accumulated in fp32 in a fixed k order (pairs of adjacent k per
// instruction), so results do not depend on how callers split rows and panels across threads.
// The instruction treats bf16 subnormals as zero (inputs below ~1.2e-38 in magnitude).
//
// Packed B: 32-column panels like tml_gemm.h, each [k/2 rounded up][32 columns][2 adjacent k]
// of uint16 (zero past n and past k), 64-byte aligned. Call tml_gemm_bf16_slice_packed only
// when tml_gemm_bf16_available() is 1 (an illegal instruction otherwise on x86-64; an empty
// stub elsewhere); packing and rounding are portable C.
#ifndef SWIFTTML_GEMM_BF16_H
#define SWIFTTML_GEMM_BF16_H
#include <stddef.h>
#include <stdint.h>

#define TML_GEMM_BF16_NR 32

/// 1 when this CPU (and OS) runs AVX-512 F/BW/VL with BF16 (VDPBF16PS), else 0.
int tml_gemm_bf16_available(void);

/// The bf16 bit pattern nearest to x (ties to even; NaN stays a quiet NaN).
uint16_t tml_float_to_bf16(float x);

/// dst[i] = float(bf16(src[i])) for i < n: what the kernel multiplies (dst may equal src).
void tml_round_to_bf16(const float *src, float *dst, long n);

/// uint16 elements needed by tml_gemm_bf16_pack for a k×n B.
size_t tml_gemm_bf16_packed_count(int k, int n);

/// Packs panels [panel0, panel1) of B (k×n, B(k, j) = b[k·b_rs + j·b_cs]) into dst as bf16.
void tml_gemm_bf16_pack(int k, int n, const float *b, long b_rs, long b_cs, uint16_t *dst, int panel0, int panel1);

/// C rows [row0, row1) × panels [panel0, panel1) with B packed by tml_gemm_bf16_pack.
void tml_gemm_bf16_slice_packed(int m, int n, int k, const float *a, long a_rs, long a_cs, const uint16_t *packed,
                                int accumulate, float *c, long ldc, int row0, int row1, int panel0, int panel1);
#endif
