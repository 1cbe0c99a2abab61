/* SPDX-License-Identifier: MIT */
/* The judge's work directories, with a runner that plays the program: the base is
 * private, stale directories of dead instances are reclaimed, what a run leaves is
 * removed at any depth, and a base removed under a Judge is made again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "judge/judge-internal.h"
#include "tests.h"

static unsigned runs;

/* The "program": a tree 300 deep in its workdir, and an answer. */
static int fake_run(void *userdata, const BoxSpec *spec, BoxResult *ret) {
        (void) userdata;
        runs++;
        int fd = open(spec->workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        for (int i = 0; i < 300; i++) {
                ASSERT_EQ(mkdirat(fd, "d", 0755), 0);
                int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ASSERT_TRUE(sub >= 0);
                close(fd);
                fd = sub;
        }
        close(fd);
        if (spec->stdout_fd >= 0)
                ASSERT_EQ(write(spec->stdout_fd, "ok\n", 3), 3);
        *ret = (BoxResult){.status = BOX_STATUS_OK};
        return 0;
}

static unsigned entries(const char *path) {
        DIR *d = opendir(path);
        ASSERT_TRUE(d != NULL);
        unsigned n = 0;
        for (struct dirent *e; (e = readdir(d));)
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

static void judge_once(Judge *j) {
        Language lang = {
                .id = 1, .source_file = (char *) "main.x", .run_cmd = (char *) "prog", .installed = true};
        JudgeSubmission s = {.language = &lang, .source = "x", .source_len = 1};
        JudgeResult res;
        unsigned before = runs;
        ASSERT_EQ(judge_submission(j, &s, &res), 0);
        ASSERT_EQ(runs, before + 1);
        ASSERT_EQ(res.status_id, STATUS_ACCEPTED);
        judge_result_done(&res);
        /* nothing of it is left, however deep */
        ASSERT_EQ(entries(judge_work_dir(j)), 0u);
}

/* What the placeholder test's runs were given: each run's command line and its env. */
static char seen_cmd[4][512], seen_env[4][512];
static uint64_t seen_mem[4];
static unsigned n_seen;

static int record_run(void *userdata, const BoxSpec *spec, BoxResult *ret) {
        (void) userdata;
        ASSERT_TRUE(n_seen < 4);
        char *c = seen_cmd[n_seen], *e = seen_env[n_seen];
        for (char *const *a = spec->argv; *a; a++)
                snprintf(c + strlen(c), sizeof seen_cmd[0] - strlen(c), "%s%s", a == spec->argv ? "" : " ",
                        *a);
        for (char *const *v = spec->env; *v; v++)
                snprintf(e + strlen(e), sizeof seen_env[0] - strlen(e), "%s%s", v == spec->env ? "" : " ",
                        *v);
        seen_mem[n_seen++] = spec->memory_kib;
        *ret = (BoxResult){.status = BOX_STATUS_OK};
        return 0;
}

/* {memory_kib} and {memory_mib} in the catalogue's compile, run and env take each stage's
 * own limit (the language's minimum included); the user's options and arguments are
 * passed as they are, braces and all. */
static void test_limit_placeholders(const char *base) {
        JudgeConfig cfg;
        judge_config_defaults(&cfg);
        cfg.work_dir = base;
        cfg.compile_limits.memory_kib = 300000;
        Judge *j = NULL;
        ASSERT_EQ(judge_new(&cfg, (JudgeRunner){record_run, NULL, NULL}, &j), 0);
        char *env[] = {(char *) "HEAP={memory_mib}M", (char *) "PLAIN=1"};
        Language lang = {.id = 1,
                .source_file = (char *) "main.x",
                .compile_cmd = (char *) "cc -m{memory_kib} %s",
                .run_cmd = (char *) "prog -Xmx{memory_mib}m",
                .env = {env[0], env[1]},
                .n_env = 2,
                .run_memory_kib_min = 65536,
                .installed = true};
        Limits big = {.memory_kib = 512000, .wall_time_usec = 1000000};
        JudgeTest tests[2] = {{.stdin_data = "", .limits = NULL}, {.stdin_data = "", .limits = &big}};
        JudgeSubmission s = {.language = &lang,
                .source = "x",
                .source_len = 1,
                .compiler_options = "-D{memory_kib}",
                .command_line_arguments = "{memory_mib}",
                .limits = {.memory_kib = 2048, .wall_time_usec = 1000000},
                .tests = tests,
                .n_tests = 2};
        JudgeResult res;
        ASSERT_EQ(judge_submission(j, &s, &res), 0);
        judge_result_done(&res);
        ASSERT_EQ(n_seen, 3u);
        /* the compile stage: its own limit; the options untouched (through the shell: braces) */
        ASSERT_EQ(seen_mem[0], 300000u);
        ASSERT_TRUE(strcmp(seen_cmd[0], "/bin/sh -c cc -m300000 -D{memory_kib}") == 0);
        ASSERT_TRUE(strstr(seen_env[0], "HEAP=292M PLAIN=1") != NULL);
        /* the first test: the submission's 2048 KiB raised to the language's minimum */
        ASSERT_EQ(seen_mem[1], 65536u);
        ASSERT_TRUE(strcmp(seen_cmd[1], "/bin/sh -c exec prog -Xmx64m {memory_mib}") == 0);
        ASSERT_TRUE(strstr(seen_env[1], "HEAP=64M PLAIN=1") != NULL);
        /* the second: its own limit */
        ASSERT_EQ(seen_mem[2], 512000u);
        ASSERT_TRUE(strcmp(seen_cmd[2], "/bin/sh -c exec prog -Xmx500m {memory_mib}") == 0);
        ASSERT_TRUE(strstr(seen_env[2], "HEAP=500M PLAIN=1") != NULL);
        judge_free(j);
}

int main(void) {
        char top[] = "/tmp/test-judge-judge-XXXXXX";
        ASSERT_TRUE(mkdtemp(top) != NULL);
        char base[128], path[256];
        snprintf(base, sizeof base, "%s/base", top);
        ASSERT_EQ(mkdir(base, 0755), 0);

        /* what a killed instance left, and a live instance's directory */
        snprintf(path, sizeof path, "%s/judge-stale1", base);
        ASSERT_EQ(mkdir(path, 0700), 0);
        snprintf(path, sizeof path, "%s/judge-stale1/run-1", base);
        ASSERT_EQ(mkdir(path, 0), 0);
        snprintf(path, sizeof path, "%s/judge-live01", base);
        ASSERT_EQ(mkdir(path, 0700), 0);
        int live = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_EQ(flock(live, LOCK_EX | LOCK_NB), 0);

        JudgeConfig cfg;
        judge_config_defaults(&cfg);
        cfg.work_dir = base;
        Judge *j = NULL;
        ASSERT_EQ(judge_new(&cfg, (JudgeRunner){fake_run, NULL, NULL}, &j), 0);
        ASSERT_EQ(judge_reclaimed_dirs(j), 1u);
        snprintf(path, sizeof path, "%s/judge-stale1", base);
        ASSERT_TRUE(access(path, F_OK) < 0 && errno == ENOENT);
        snprintf(path, sizeof path, "%s/judge-live01", base);
        ASSERT_EQ(access(path, F_OK), 0);

        /* the base is the service's alone; as root each Judge has a tmpfs of its own */
        struct stat st, jst;
        ASSERT_EQ(stat(base, &st), 0);
        ASSERT_EQ(st.st_mode & 07777, 0700u);
        ASSERT_EQ(stat(judge_work_dir(j), &jst), 0);
        ASSERT_EQ(jst.st_mode & 07777, 0700u);
        ASSERT_EQ(judge_work_bounded(j), jst.st_dev != st.st_dev);
        if (geteuid() == 0)
                ASSERT_TRUE(judge_work_bounded(j));

        judge_once(j);

        /* the base removed under the Judge (its tmpfs detached first, as a cleaner that
         * cannot remove a mount point would need) */
        if (judge_work_bounded(j))
                ASSERT_EQ(umount2(judge_work_dir(j), MNT_DETACH), 0);
        int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_EQ(tree_clear(bfd), 0);
        close(bfd);
        ASSERT_EQ(rmdir(base), 0);
        judge_once(j);
        ASSERT_EQ(stat(base, &st), 0);
        ASSERT_EQ(st.st_mode & 07777, 0700u);

        judge_free(j);
        ASSERT_EQ(entries(base), 1u); /* the lock file */
        test_limit_placeholders(base);
        close(live);

        /* a base someone else owns is refused */
        if (geteuid() == 0) {
                ASSERT_EQ(chown(base, 65534, 65534), 0);
                ASSERT_EQ(judge_new(&cfg, (JudgeRunner){fake_run, NULL, NULL}, &j), -EPERM);
                /* ... unless it is the user the service becomes: then everything the Judge
                 * makes is that user's, the lock file included, so that it keeps working
                 * once root is gone */
                cfg.owner_uid = 65534;
                cfg.owner_gid = 65534;
                snprintf(path, sizeof path, "%s/.lock", base);
                ASSERT_EQ(unlink(path), 0);
                ASSERT_EQ(judge_new(&cfg, (JudgeRunner){fake_run, NULL, NULL}, &j), 0);
                ASSERT_EQ(stat(path, &st), 0);
                ASSERT_EQ(st.st_uid, 65534u);
                ASSERT_EQ(stat(judge_work_dir(j), &st), 0);
                ASSERT_EQ(st.st_uid, 65534u);
                judge_free(j);
                ASSERT_EQ(chown(base, 0, 0), 0);
        }

        int tfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_EQ(tree_clear(tfd), 0);
        close(tfd);
        ASSERT_EQ(rmdir(top), 0);
        return 0;
}
