#ifndef KJ_LMDB_BASELINE_H
#define KJ_LMDB_BASELINE_H

/// The raw-liblmdb baselines for `kj bench journal`.
///
/// Both append `total` values of `value_size` bytes under 8-byte big-endian keys 1...total with
/// MDB_APPEND, `batch` puts per write transaction, into a new environment in the existing empty
/// directory `dir` (map size `map_size`), syncing each commit unless `nosync`, and return appends
/// per second (or a negative LMDB error code).

/// The events database alone.
double kjb_raw_append(const char *dir, long total, int batch, int value_size, long map_size, int nosync);

/// The same, plus the journal's two index entries per event, with the journal's key layouts:
/// `by_object` (DUPSORT|DUPFIXED; key "Pod\0bench\0pod-N" with N = revision mod `objects`,
/// value the revision; inserted sorted at the end of each transaction) and `by_time` (key time
/// and revision, MDB_APPEND). It measures what the index design costs in C, without Swift.
double kjb_raw_indexed_append(const char *dir, long total, int batch, int value_size, long map_size, int nosync, int objects);

#endif
