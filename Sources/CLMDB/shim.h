#ifndef KJ_CLMDB_SHIM_H
#define KJ_CLMDB_SHIM_H
#include <lmdb.h>
#endif
