/* SPDX-License-Identifier: MIT */
/* The compile cache: one directory per key, published atomically, evicted LRU. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "judge/judge-internal.h"
#include "secure/secure.h"

#define CACHE_MAX_OUTPUT (1024 * 1024)
#define CACHE_MAX_ENTRY_FILES 10000
#define CACHE_OUTPUT_FILE "compile-output"
#define CACHE_BOX_DIR "box"

struct Cache {
        char *path;
        int dirfd;
        uint64_t max_bytes;
        uint64_t entry_max_bytes; /* one compilation's directory, at most */
        /* What this process believes the cache holds; walking every entry on each store
         * costs milliseconds per thousand entries, so the walk happens only when this
         * passes the bound (or is unknown). Other processes' stores are seen then. */
        int64_t approx_bytes;
};

static int dir_open_or_make(const char *dir) {
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int cache_open(const char *dir, uint64_t max_bytes, uint64_t entry_max_bytes, Cache **ret) {
        int r = secure_init();
        if (r < 0)
                return r;
        _cleanup_close_ int fd = dir_open_or_make(dir);
        if (fd < 0)
                return fd;
        Cache *c = malloc(sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (Cache){.path = strdup(dir),
                .dirfd = TAKE_FD(fd),
                .max_bytes = max_bytes,
                .entry_max_bytes =
                        entry_max_bytes && entry_max_bytes < max_bytes ? entry_max_bytes : max_bytes,
                .approx_bytes = -1};
        if (!c->path)
                return cache_free(c), -ENOMEM;
        *ret = c;
        return 0;
}

Cache *cache_free(Cache *c) {
        if (!c)
                return NULL;
        safe_close(c->dirfd);
        free(c->path);
        free(c);
        return NULL;
}

/* The cache directory was removed under us (a cleaner, an operator): make it again. */
static int cache_reopen(Cache *c) {
        int fd = dir_open_or_make(c->path);
        if (fd < 0)
                return fd;
        safe_close(c->dirfd);
        c->dirfd = fd;
        c->approx_bytes = -1;
        return 0;
}

_Static_assert(CACHE_KEY_SIZE >= SECURE_HASH_MIN && CACHE_KEY_SIZE <= SECURE_HASH_MAX, "cache key size");

static void hash_field(SecureHash *h, const void *p, size_t len) {
        /* length-prefixed, so that fields cannot run into each other */
        uint64_t l = len;
        secure_hash_update(h, &l, sizeof l);
        if (len)
                secure_hash_update(h, p, len);
}

static void hash_str(SecureHash *h, const char *s) {
        hash_field(h, s ? s : "", s ? strlen(s) : 0);
        uint8_t present = s != NULL;
        secure_hash_update(h, &present, 1);
}

void cache_key(const CacheKeyInput *in, uint8_t ret[CACHE_KEY_SIZE]) {
        /* BLAKE2b-256 of the fields: CACHE_KEY_SIZE is in range (asserted above), so
         * neither init nor final can fail */
        SecureHash h;
        (void) secure_hash_init(&h, CACHE_KEY_SIZE);
        static const char domain[] = "coderunner compile cache v1";
        hash_field(&h, domain, sizeof domain - 1);
        int32_t id = in->language_id;
        hash_field(&h, &id, sizeof id);
        hash_str(&h, in->language_version);
        hash_str(&h, in->compile_cmd);
        hash_str(&h, in->compiler_options);
        hash_field(&h, in->source, in->source_len);
        hash_field(&h, in->additional_files, in->additional_files_len);
        (void) secure_hash_final(&h, ret, CACHE_KEY_SIZE);
}

static void key_hex(const uint8_t key[CACHE_KEY_SIZE], char out[CACHE_KEY_SIZE * 2 + 1]) {
        (void) secure_hex(key, CACHE_KEY_SIZE, out, CACHE_KEY_SIZE * 2 + 1);
}

int cache_lookup(
        Cache *c, const uint8_t key[CACHE_KEY_SIZE], int dst_dirfd, char **ret_output, size_t *ret_len) {
        char hex[CACHE_KEY_SIZE * 2 + 1];
        key_hex(key, hex);
        _cleanup_close_ int entry = openat(c->dirfd, hex, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (entry < 0)
                return errno == ENOENT ? 0 : -errno;
        _cleanup_close_ int box =
                openat(entry, CACHE_BOX_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (box < 0)
                return -errno;
        _cleanup_free_ char *output = NULL;
        size_t len = 0;
        int r = read_file_at(entry, CACHE_OUTPUT_FILE, CACHE_MAX_OUTPUT, &output, &len);
        if (r < 0)
                return r;
        r = tree_copy(box, dst_dirfd, 0, CACHE_MAX_ENTRY_FILES);
        if (r < 0)
                return r;
        /* Used now: the least recently used entries go first. */
        (void) futimens(entry, NULL);
        *ret_len = len;
        *ret_output = len ? TAKE_PTR(output) : NULL;
        return 1;
}

typedef struct Entry {
        char name[CACHE_KEY_SIZE * 2 + 1];
        struct timespec used;
        uint64_t bytes;
} Entry;

static int cmp_used(const void *a, const void *b) {
        const Entry *x = a, *y = b;
        if (x->used.tv_sec != y->used.tv_sec)
                return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
        if (x->used.tv_nsec != y->used.tv_nsec)
                return x->used.tv_nsec < y->used.tv_nsec ? -1 : 1;
        return strcmp(x->name, y->name);
}

static bool is_key_name(const char *s) {
        if (strlen(s) != CACHE_KEY_SIZE * 2)
                return false;
        return strspn(s, "0123456789abcdef") == CACHE_KEY_SIZE * 2;
}

/* The entries, with their sizes. *ret is malloc'd. */
static int list_entries(Cache *c, Entry **ret, size_t *ret_n) {
        DIR *d = dir_open_at(c->dirfd);
        if (!d)
                return -errno;
        Entry *v = NULL;
        size_t n = 0, cap = 0;
        int r = 0;
        for (struct dirent *e; (e = readdir(d));) {
                if (!is_key_name(e->d_name))
                        continue;
                struct stat st;
                if (fstatat(c->dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                _cleanup_close_ int entry =
                        openat(c->dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (entry < 0)
                        continue;
                uint64_t bytes = 0;
                if (tree_size(entry, &bytes) < 0)
                        continue;
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        Entry *nv = realloc(v, cap * sizeof *v);
                        if (!nv) {
                                r = -ENOMEM;
                                break;
                        }
                        v = nv;
                }
                memcpy(v[n].name, e->d_name, sizeof v[n].name);
                v[n].used = st.st_mtim;
                v[n].bytes = bytes;
                n++;
        }
        closedir(d);
        if (r < 0) {
                free(v);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

/* Take an entry out of sight with one rename, then delete it at leisure. */
static void drop_entry(Cache *c, const char *name) {
        char tmp[128];
        snprintf(tmp, sizeof tmp, ".drop-%s-%d", name, (int) getpid());
        if (renameat(c->dirfd, name, c->dirfd, tmp) < 0)
                return;
        (void) tree_remove(c->dirfd, tmp);
}

static void evict(Cache *c) {
        Entry *v = NULL;
        size_t n = 0;
        c->approx_bytes = -1;
        if (list_entries(c, &v, &n) < 0)
                return;
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++)
                total += v[i].bytes;
        if (total > c->max_bytes) {
                qsort(v, n, sizeof *v, cmp_used);
                for (size_t i = 0; i < n && total > c->max_bytes; i++) {
                        drop_entry(c, v[i].name);
                        total -= v[i].bytes;
                }
        }
        c->approx_bytes = (int64_t) total;
        free(v);
}

int cache_store(Cache *c, const uint8_t key[CACHE_KEY_SIZE], int src_dirfd, const char *output, size_t len) {
        char hex[CACHE_KEY_SIZE * 2 + 1], tmp[128];
        int r;

        if (len > CACHE_MAX_OUTPUT)
                return -EFBIG;
        key_hex(key, hex);
        /* Build it under a private name, then publish it with one rename. */
        snprintf(tmp, sizeof tmp, ".new-%s-%d", hex, (int) getpid());
        (void) tree_remove(c->dirfd, tmp);
        if (mkdirat(c->dirfd, tmp, 0700) < 0) {
                if (errno != ENOENT)
                        return -errno;
                r = cache_reopen(c);
                if (r < 0)
                        return r;
                if (mkdirat(c->dirfd, tmp, 0700) < 0)
                        return -errno;
        }
        {
                _cleanup_close_ int entry =
                        openat(c->dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (entry < 0) {
                        r = -errno;
                        goto fail;
                }
                if (mkdirat(entry, CACHE_BOX_DIR, 0755) < 0) {
                        r = -errno;
                        goto fail;
                }
                _cleanup_close_ int box =
                        openat(entry, CACHE_BOX_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (box < 0) {
                        r = -errno;
                        goto fail;
                }
                /* A compilation bigger than an entry may be is not kept (-EFBIG). */
                r = tree_copy(src_dirfd, box, c->entry_max_bytes, CACHE_MAX_ENTRY_FILES);
                if (r < 0)
                        goto fail;
                _cleanup_close_ int out =
                        openat(entry, CACHE_OUTPUT_FILE, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (out < 0) {
                        r = -errno;
                        goto fail;
                }
                r = write_all(out, output ? output : "", output ? len : 0);
                if (r < 0)
                        goto fail;
        }
        uint64_t entry_bytes = 0;
        {
                _cleanup_close_ int entry =
                        openat(c->dirfd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (entry >= 0)
                        (void) tree_size(entry, &entry_bytes);
        }
        if (renameat(c->dirfd, tmp, c->dirfd, hex) < 0) {
                /* Someone stored the same key meanwhile: theirs is as good as ours. */
                r = errno == ENOTEMPTY || errno == EEXIST ? 0 : -errno;
                goto fail;
        }
        if (c->approx_bytes >= 0)
                c->approx_bytes += (int64_t) entry_bytes;
        if (c->approx_bytes < 0 || (uint64_t) c->approx_bytes > c->max_bytes)
                evict(c);
        return 0;
fail:
        (void) tree_remove(c->dirfd, tmp);
        return r;
}

int cache_stats(Cache *c, uint64_t *ret_entries, uint64_t *ret_bytes) {
        Entry *v = NULL;
        size_t n = 0;
        int r = list_entries(c, &v, &n);
        if (r < 0)
                return r;
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++)
                total += v[i].bytes;
        free(v);
        *ret_entries = n;
        *ret_bytes = total;
        return 0;
}
