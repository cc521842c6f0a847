#include "CLMDBBaseline.h"
#include <lmdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void put_be64(unsigned char *p, uint64_t v) {
    for (int b = 0; b < 8; b++) p[b] = (unsigned char)(v >> (56 - 8 * b));
}

struct object_entry {
    char key[48];
    int length;
    unsigned char revision[8];
};

static int compare_entries(const void *a, const void *b) {
    const struct object_entry *x = a, *y = b;
    int n = x->length < y->length ? x->length : y->length;
    int c = memcmp(x->key, y->key, (size_t)n);
    if (c) return c;
    if (x->length != y->length) return x->length - y->length;
    return memcmp(x->revision, y->revision, 8);
}

static double run(const char *dir, long total, int batch, int value_size, long map_size, int nosync, int objects) {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi events, by_object = 0, by_time = 0;
    int rc = mdb_env_create(&env);
    if (rc) return rc;
    mdb_env_set_mapsize(env, (size_t)map_size);
    mdb_env_set_maxdbs(env, 4);
    rc = mdb_env_open(env, dir, MDB_NOTLS | (nosync ? MDB_NOSYNC : 0), 0644);
    if (rc) { mdb_env_close(env); return rc; }
    rc = mdb_txn_begin(env, NULL, 0, &txn);
    if (!rc) rc = mdb_dbi_open(txn, "events", MDB_CREATE, &events);
    if (!rc && objects) rc = mdb_dbi_open(txn, "by_object", MDB_CREATE | MDB_DUPSORT | MDB_DUPFIXED, &by_object);
    if (!rc && objects) rc = mdb_dbi_open(txn, "by_time", MDB_CREATE, &by_time);
    if (!rc) rc = mdb_txn_commit(txn);
    if (rc) { mdb_env_close(env); return rc; }

    unsigned char *value = malloc((size_t)value_size);
    struct object_entry *entries = malloc(sizeof(struct object_entry) * (size_t)batch);
    for (int i = 0; i < value_size; i++) value[i] = (unsigned char)(i * 31 + 7);
    double start = now_seconds();
    long done = 0;
    while (done < total && !rc) {
        rc = mdb_txn_begin(env, NULL, 0, &txn);
        if (rc) break;
        int n = 0;
        for (; n < batch && done < total && !rc; n++) {
            uint64_t rev = (uint64_t)++done;
            unsigned char key[8];
            put_be64(key, rev);
            memcpy(value, &rev, sizeof rev);  // vary the value a little, as real events do
            MDB_val k = { sizeof key, key }, v = { (size_t)value_size, value };
            rc = mdb_put(txn, events, &k, &v, MDB_APPEND);
            if (!objects || rc) continue;
            unsigned char time_key[16];
            put_be64(time_key, (1700000000000000ULL + rev * 1000) ^ (1ULL << 63));
            put_be64(time_key + 8, rev);
            MDB_val tk = { sizeof time_key, time_key }, tv = { 0, NULL };
            rc = mdb_put(txn, by_time, &tk, &tv, MDB_APPEND);
            entries[n].length = snprintf(entries[n].key, sizeof entries[n].key, "Pod%cbench%cpod-%ld", 0, 0, (long)(rev % (uint64_t)objects));
            put_be64(entries[n].revision, rev);
        }
        if (objects && !rc) {
            qsort(entries, (size_t)n, sizeof entries[0], compare_entries);
            MDB_cursor *cursor;
            rc = mdb_cursor_open(txn, by_object, &cursor);
            for (int i = 0; i < n && !rc; i++) {
                MDB_val ok = { (size_t)entries[i].length, entries[i].key }, ov = { 8, entries[i].revision };
                rc = mdb_cursor_put(cursor, &ok, &ov, 0);
            }
            if (!rc) mdb_cursor_close(cursor);
        }
        if (rc) { mdb_txn_abort(txn); break; }
        rc = mdb_txn_commit(txn);
    }
    double elapsed = now_seconds() - start;
    free(entries);
    free(value);
    mdb_env_close(env);
    if (rc) return rc;
    return (double)total / elapsed;
}

double kjb_raw_append(const char *dir, long total, int batch, int value_size, long map_size, int nosync) {
    return run(dir, total, batch, value_size, map_size, nosync, 0);
}

double kjb_raw_indexed_append(const char *dir, long total, int batch, int value_size, long map_size, int nosync, int objects) {
    return run(dir, total, batch, value_size, map_size, nosync, objects);
}
