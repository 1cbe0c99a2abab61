/* SPDX-License-Identifier: MIT */
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
#include "tests.h"

static char base[64];
static int basefd;

static int fresh_dir(const char *name) {
        (void) tree_remove(basefd, name);
        ASSERT_EQ(mkdirat(basefd, name, 0755), 0);
        int fd = openat(basefd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        return fd;
}

static void put(int dirfd, const char *name, size_t size) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        ASSERT_TRUE(fd >= 0);
        char *buf = calloc(1, size ? size : 1);
        ASSERT_EQ(write_all(fd, buf, size), 0);
        free(buf);
        close(fd);
}

static void key_for(const char *source, const char *opts, uint8_t key[CACHE_KEY_SIZE]) {
        cache_key(&(CacheKeyInput){.language_id = 50,
                          .language_version = "12.2.0",
                          .compile_cmd = "gcc main.c",
                          .compiler_options = opts,
                          .source = source,
                          .source_len = strlen(source)},
                key);
}

/* Make an entry look last used `seconds_ago`. */
static void age(const char *dir, const uint8_t key[CACHE_KEY_SIZE], int seconds_ago) {
        char hex[CACHE_KEY_SIZE * 2 + 1], path[512];
        ASSERT_EQ(secure_hex(key, CACHE_KEY_SIZE, hex, sizeof hex), 0);
        snprintf(path, sizeof path, "%s/%s", dir, hex);
        struct timespec t[2];
        clock_gettime(CLOCK_REALTIME, &t[0]);
        t[0].tv_sec -= seconds_ago;
        t[1] = t[0];
        ASSERT_EQ(utimensat(AT_FDCWD, path, t, 0), 0);
}

int main(void) {
        snprintf(base, sizeof base, "/tmp/test-judge-cache-XXXXXX");
        ASSERT_TRUE(mkdtemp(base) != NULL);
        basefd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char dir[128];
        snprintf(dir, sizeof dir, "%s/cache", base);

        /* keys: every input matters, and fields cannot run into each other */
        uint8_t k1[CACHE_KEY_SIZE], k2[CACHE_KEY_SIZE], k3[CACHE_KEY_SIZE], k4[CACHE_KEY_SIZE];
        key_for("int main(){}", NULL, k1);
        key_for("int main(){}", "-O2", k2);
        key_for("int main(){} ", NULL, k3);
        key_for("int main(){}", NULL, k4);
        ASSERT_TRUE(memcmp(k1, k2, sizeof k1) != 0);
        ASSERT_TRUE(memcmp(k1, k3, sizeof k1) != 0);
        ASSERT_TRUE(memcmp(k1, k4, sizeof k1) == 0);
        /* the key is BLAKE2b-256 of the length-prefixed fields, byte for byte what earlier
         * versions wrote: a cache on disk stays valid across upgrades (computed
         * independently with Python's hashlib.blake2b) */
        char hex1[CACHE_KEY_SIZE * 2 + 1];
        ASSERT_EQ(secure_hex(k1, sizeof k1, hex1, sizeof hex1), 0);
        ASSERT_TRUE(strcmp(hex1, "32a3957e74eba7372a400e5ce5a31d76893724fc3983eb8fad67e78f9908a563") == 0);
        uint8_t ka[CACHE_KEY_SIZE], kb[CACHE_KEY_SIZE];
        cache_key(&(CacheKeyInput){.language_id = 1, .compile_cmd = "ab", .compiler_options = "c"}, ka);
        cache_key(&(CacheKeyInput){.language_id = 1, .compile_cmd = "a", .compiler_options = "bc"}, kb);
        ASSERT_TRUE(memcmp(ka, kb, sizeof ka) != 0);

        Cache *c;
        ASSERT_EQ(cache_open(dir, 350000, 150000, &c), 0); /* room for three entries */

        /* miss, store, hit */
        int out = fresh_dir("out");
        char *o = NULL;
        size_t ol = 0;
        ASSERT_EQ(cache_lookup(c, k1, out, &o, &ol), 0);
        int build = fresh_dir("build");
        put(build, "a.out", 100000);
        ASSERT_EQ(cache_store(c, k1, build, "warning: x\n", 11), 0);
        ASSERT_EQ(cache_lookup(c, k1, out, &o, &ol), 1);
        ASSERT_TRUE(ol == 11 && memcmp(o, "warning: x\n", 11) == 0);
        free(o);
        struct stat st;
        ASSERT_EQ(fstatat(out, "a.out", &st, 0), 0);
        ASSERT_EQ(st.st_size, 100000);
        /* storing the same key again is harmless */
        ASSERT_EQ(cache_store(c, k1, build, "warning: x\n", 11), 0);
        uint64_t entries, bytes;
        ASSERT_EQ(cache_stats(c, &entries, &bytes), 0);
        ASSERT_EQ(entries, 1u);

        /* a run that writes into its copy does not touch the cache */
        put(out, "a.out", 5);
        int out2 = fresh_dir("out2");
        ASSERT_EQ(cache_lookup(c, k1, out2, &o, &ol), 1);
        free(o);
        ASSERT_EQ(fstatat(out2, "a.out", &st, 0), 0);
        ASSERT_EQ(st.st_size, 100000);

        /* LRU eviction: fill past the bound; the entry used last survives */
        ASSERT_EQ(cache_store(c, k2, build, NULL, 0), 0);
        ASSERT_EQ(cache_store(c, k3, build, NULL, 0), 0);
        /* File times are coarse (a clock tick): give the entries distinct ages. */
        age(dir, k1, 100);
        age(dir, k2, 300);
        age(dir, k3, 200);
        int out3 = fresh_dir("out3");
        ASSERT_EQ(cache_lookup(c, k1, out3, &o, &ol), 1); /* k1 is now the most recent */
        free(o);
        uint8_t k5[CACHE_KEY_SIZE];
        key_for("other", NULL, k5);
        ASSERT_EQ(cache_store(c, k5, build, NULL, 0), 0);
        ASSERT_EQ(cache_stats(c, &entries, &bytes), 0);
        ASSERT_TRUE(bytes <= 350000);
        ASSERT_EQ(entries, 3u);
        int out4 = fresh_dir("out4");
        ASSERT_EQ(cache_lookup(c, k1, out4, &o, &ol), 1);
        free(o);
        int out5 = fresh_dir("out5");
        ASSERT_EQ(cache_lookup(c, k2, out5, &o, &ol), 0); /* the oldest went */

        /* an entry bigger than an entry may be is not stored */
        int huge = fresh_dir("huge");
        put(huge, "a.out", 160000);
        uint8_t k6[CACHE_KEY_SIZE];
        key_for("huge", NULL, k6);
        ASSERT_EQ(cache_store(c, k6, huge, NULL, 0), -EFBIG);
        int out6 = fresh_dir("out6");
        ASSERT_EQ(cache_lookup(c, k6, out6, &o, &ol), 0);

        /* the cache directory removed under us is made again by the next store */
        int cdir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_EQ(tree_clear(cdir), 0);
        close(cdir);
        ASSERT_EQ(rmdir(dir), 0);
        ASSERT_EQ(cache_lookup(c, k1, out6, &o, &ol), 0);
        ASSERT_EQ(cache_store(c, k1, build, NULL, 0), 0);
        int out7 = fresh_dir("out7");
        ASSERT_EQ(cache_lookup(c, k1, out7, &o, &ol), 1);
        free(o);

        cache_free(c);
        ASSERT_EQ(tree_clear(basefd), 0);
        ASSERT_EQ(rmdir(base), 0);
        return 0;
}
