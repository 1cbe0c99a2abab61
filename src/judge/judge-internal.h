/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "judge/judge.h"

/* ---- directory trees (tree.c) ----
 * Everything a sandboxed program wrote is hostile: these never follow a symlink, copy
 * only regular files and directories, and are bounded. */

/* Copy the contents of src into dst (an existing empty directory). Symlinks and special
 * files are skipped. -EFBIG past max_bytes, -E2BIG past max_files. */
int tree_copy(int src_dirfd, int dst_dirfd, uint64_t max_bytes, uint32_t max_files);
/* Remove everything below dirfd (not dirfd itself). */
int tree_clear(int dirfd);
/* Remove the directory `name` in parent and everything below it. */
int tree_remove(int parent_dirfd, const char *name);
/* Space the regular files below dirfd take (allocated blocks: the holes of sparse files
 * cost nothing, and are kept by tree_copy()). */
int tree_size(int dirfd, uint64_t *ret);

/* ---- compile cache (cache.c) ----
 * Content-addressed: the key hashes everything that decides the artifacts. An entry is a
 * directory <hex key>/ holding the compiled /box and the compiler's output; entries are
 * published with rename() (atomic), touched on use, evicted least recently used first
 * once the total passes the bound. Safe for concurrent processes sharing the directory. */

#define CACHE_KEY_SIZE 32

typedef struct Cache Cache;

/* Open (or make, 0700) the cache in dir: at most max_bytes in all, and a compilation of
 * more than entry_max_bytes (0 = max_bytes) is not stored. *ret is the caller's. */
int cache_open(const char *dir, uint64_t max_bytes, uint64_t entry_max_bytes, Cache **ret);
Cache *cache_free(Cache *c);

typedef struct CacheKeyInput {
        int language_id;
        const char *language_version;
        const char *compile_cmd;
        const char *compiler_options;
        const char *source;
        size_t source_len;
        const uint8_t *additional_files;
        size_t additional_files_len;
} CacheKeyInput;
void cache_key(const CacheKeyInput *in, uint8_t ret[CACHE_KEY_SIZE]);

/* On a hit, copy the entry's files into dst_dirfd and return 1 with the compiler output
 * (malloc'd, may be NULL); 0 on a miss; -errno on failure (treated as a miss). */
int cache_lookup(
        Cache *c, const uint8_t key[CACHE_KEY_SIZE], int dst_dirfd, char **ret_output, size_t *ret_len);
/* Store the compiled directory and its compiler output (-EFBIG when it is bigger than an
 * entry may be). A cache directory removed meanwhile is made again. */
int cache_store(Cache *c, const uint8_t key[CACHE_KEY_SIZE], int src_dirfd, const char *output, size_t len);
/* Number of entries and bytes (for tests and metrics). */
int cache_stats(Cache *c, uint64_t *ret_entries, uint64_t *ret_bytes);
