// zstd, for Parquet ZSTD pages (found by pkg-config `libzstd`).
#ifndef SWIFTTML_CZSTD_SHIM_H
#define SWIFTTML_CZSTD_SHIM_H
#include <zstd.h>
#endif
