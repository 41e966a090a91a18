// Which of SwiftTML's C kernels this CPU can run.
#ifndef SWIFTTML_CPU_H
#define SWIFTTML_CPU_H

/// 1 when this CPU (and OS) runs AVX-512 F/DQ/BW/VL and FMA code on x86-64, else 0.
int tml_avx512_available(void);

/// 1 when this CPU (and OS) runs AVX2 and FMA code on x86-64, else 0.
int tml_avx2_available(void);
#endif
