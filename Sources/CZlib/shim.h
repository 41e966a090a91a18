// zlib, for gzip-compressed TFRecord files and Parquet GZIP pages.
#ifndef SWIFTTML_CZLIB_SHIM_H
#define SWIFTTML_CZLIB_SHIM_H
#include <zlib.h>
// Swift cannot call the inflateInit2/deflateInit2 macros; these wrap them.
static inline int swifttml_inflate_init2(z_stream *s, int windowBits) {
  return inflateInit2_(s, windowBits, ZLIB_VERSION, (int)sizeof(z_stream));
}
static inline int swifttml_deflate_init2(z_stream *s, int level, int windowBits) {
  return deflateInit2_(s, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, (int)sizeof(z_stream));
}
#endif
