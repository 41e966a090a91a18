// CBLAS (Linux): OpenBLAS's cblas.h, found by pkg-config `openblas`.
// On macOS TMLTensor imports Accelerate instead and this module is not built.
#ifndef SWIFTTML_CBLAS_SHIM_H
#define SWIFTTML_CBLAS_SHIM_H
#include <cblas.h>
static inline void swifttml_blas_set_num_threads(int n) { openblas_set_num_threads(n); }
static inline int swifttml_blas_get_num_threads(void) { return openblas_get_num_threads(); }
#endif
