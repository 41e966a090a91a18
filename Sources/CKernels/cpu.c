// CPU feature detection for the kernels in this target (see tml_cpu.h).
#include "tml_cpu.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
// Every feature the kernels are compiled for (target attributes in gemm/adam_avx512.c).
// Callers cache the answer (Swift `static let`).
int tml_avx512_available(void) {
  __builtin_cpu_init();  // also checks that the OS saves the AVX-512 state (XCR0)
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
}

int tml_avx2_available(void) {
  __builtin_cpu_init();  // also checks that the OS saves the AVX state (XCR0)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#else
int tml_avx512_available(void) { return 0; }
int tml_avx2_available(void) { return 0; }
#endif
