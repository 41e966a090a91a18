// CPU feature detection for the kernels in this target (see tml_cpu.h).
#include "tml_cpu.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
int tml_avx512_available(void) {
  static int cached = -1;
  if (cached < 0) {
    __builtin_cpu_init();  // also checks that the OS saves the AVX-512 state (XCR0)
    cached = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") ? 1 : 0;
  }
  return cached;
}
#else
int tml_avx512_available(void) { return 0; }
#endif
