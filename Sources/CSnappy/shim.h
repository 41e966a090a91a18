// snappy (C API), for Parquet SNAPPY pages. Debian's libsnappy-dev ships no
// pkg-config file, so the module map links `snappy` directly.
#ifndef SWIFTTML_CSNAPPY_SHIM_H
#define SWIFTTML_CSNAPPY_SHIM_H
#include <snappy-c.h>
#endif
