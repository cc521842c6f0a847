#ifndef KJ_CZLIB_SHIM_H
#define KJ_CZLIB_SHIM_H
#include <zlib.h>
#endif
