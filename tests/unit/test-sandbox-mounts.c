/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/sandbox-internal.h"
#include "tests.h"

#define TEST_UID 61234
#define TEST_GID 61299
#define STRBUF_SIZE (256 * 1024)

static RuntimeBinds *rt;
static JailPlan *plan;
static char *strbuf;
static char errbuf[512];
static char tmpdir[4096], datadir[4200], datafile[4200];

static bool rootless;

static void plan_reset(void) {
        memset(plan, 0, sizeof *plan);
        plan->rootless = rootless;
        plan->uid = TEST_UID;
        plan->gid = TEST_GID;
        plan->n_mounts = 12345; /* must be reset by the builder */
        memset(errbuf, 0, sizeof errbuf);
}

static int build(const BoxSpec *spec) {
        plan_reset();
        return mount_plan_build(rt, spec, plan, strbuf, STRBUF_SIZE, errbuf, sizeof errbuf);
}

static int find_from(size_t start, JailMountKind kind, const char *target) {
        for (size_t i = start; i < plan->n_mounts; i++)
                if (plan->mounts[i].kind == kind && strcmp(plan->mounts[i].target, target) == 0)
                        return (int) i;
        return -1;
}

static int find(JailMountKind kind, const char *target) {
        return find_from(0, kind, target);
}

static int find_target(const char *target) {
        for (size_t i = 0; i < plan->n_mounts; i++)
                if (strcmp(plan->mounts[i].target, target) == 0)
                        return (int) i;
        return -1;
}

static bool has_prefix(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* What holds for every plan: relative targets, each parent made before its children,
 * sources absolute, no fd opened yet. */
static void check_invariants(void) {
        ASSERT_TRUE(plan->n_mounts > 0 && plan->n_mounts <= JAIL_MAX_MOUNTS);
        for (size_t i = 0; i < plan->n_mounts; i++) {
                const JailMount *m = &plan->mounts[i];
                ASSERT_TRUE(m->target != NULL && m->target[0] != '\0' && m->target[0] != '/');
                ASSERT_EQ(m->src_fd, -EBADF);
                if (m->kind == JM_BIND)
                        ASSERT_TRUE(m->src_path != NULL && m->src_path[0] == '/');
                if (m->kind == JM_FILE || m->kind == JM_SYMLINK || m->kind == JM_TMPFS)
                        ASSERT_TRUE(m->data != NULL);
                /* Every parent of the target is an earlier entry. */
                for (const char *s = strchr(m->target, '/'); s; s = strchr(s + 1, '/')) {
                        bool found = false;
                        size_t n = (size_t) (s - m->target);
                        for (size_t j = 0; j < i && !found; j++)
                                found = strlen(plan->mounts[j].target) == n &&
                                        strncmp(plan->mounts[j].target, m->target, n) == 0;
                        ASSERT_TRUE(found);
                }
        }
}

static void check_runtime_entry(const char *host) {
        struct stat st;
        int i = find_target(host + 1);

        if (lstat(host, &st) < 0) {
                ASSERT_EQ(i, -1);
                return;
        }
        ASSERT_TRUE(i >= 0);
        const JailMount *m = &plan->mounts[i];
        if (S_ISLNK(st.st_mode)) {
                char link[4096];
                ssize_t n = readlink(host, link, sizeof link - 1);
                ASSERT_TRUE(n > 0);
                link[n] = '\0';
                ASSERT_EQ(m->kind, JM_SYMLINK);
                ASSERT_TRUE(m->data && strcmp(m->data, link) == 0);
        } else {
                ASSERT_EQ(m->kind, JM_BIND);
                ASSERT_TRUE(strcmp(m->src_path, host) == 0);
                ASSERT_EQ(m->src_is_dir, S_ISDIR(st.st_mode));
                ASSERT_TRUE(!m->rw && !m->as_peer && !m->dev);
        }
}

static void test_default_plan(void) {
        BoxSpec spec;
        int i;

        box_spec_init(&spec);
        ASSERT_EQ(build(&spec), 0);
        ASSERT_EQ(errbuf[0], '\0');
        check_invariants();

        ASSERT_EQ(plan->mounts[0].kind, JM_DIR);
        ASSERT_TRUE(strcmp(plan->mounts[0].target, "etc") == 0);

        /* The runtime: /usr is a read-only bind; /bin and /lib* follow the host. */
        i = find(JM_BIND, "usr");
        ASSERT_TRUE(i >= 0);
        ASSERT_TRUE(strcmp(plan->mounts[i].src_path, "/usr") == 0);
        ASSERT_TRUE(plan->mounts[i].src_is_dir);
        ASSERT_TRUE(!plan->mounts[i].rw && !plan->mounts[i].as_peer && !plan->mounts[i].dev);
        check_runtime_entry("/usr");
        check_runtime_entry("/bin");
        check_runtime_entry("/sbin");
        check_runtime_entry("/lib");
        check_runtime_entry("/lib64");
        /* Nothing of the host's /etc beyond the allow-list. */
        ASSERT_EQ(find_target("etc/shadow"), -1);
        ASSERT_EQ(find_target("etc/sudoers"), -1);
        ASSERT_EQ(find_target("root"), -1);
        ASSERT_EQ(find_target("home"), -1);
        ASSERT_EQ(find_target("sys"), -1);
        ASSERT_EQ(find_target("run"), -1);

        /* Synthetic identity files naming the box user. */
        i = find(JM_FILE, "etc/passwd");
        ASSERT_TRUE(i >= 0);
        ASSERT_TRUE(has_prefix(plan->mounts[i].data, "root:x:0:0:"));
        ASSERT_TRUE(strstr(plan->mounts[i].data, "\nbox:x:61234:61299:box:/box:") != NULL);
        i = find(JM_FILE, "etc/group");
        ASSERT_TRUE(i >= 0);
        ASSERT_TRUE(strstr(plan->mounts[i].data, "\nbox:x:61299:\n") != NULL);
        ASSERT_TRUE(find(JM_FILE, "etc/hosts") >= 0);
        i = find(JM_FILE, "etc/hostname");
        ASSERT_TRUE(i >= 0 && strcmp(plan->mounts[i].data, "coderunner\n") == 0);
        /* No network: no resolver configuration. */
        ASSERT_EQ(find_target("etc/resolv.conf"), -1);

        /* No workdir: /box is a private tmpfs owned by the box user. */
        ASSERT_EQ(find(JM_BIND, "box"), -1);
        i = find(JM_TMPFS, "box");
        ASSERT_TRUE(i >= 0 && plan->mounts[i].rw);
        ASSERT_TRUE(strstr(plan->mounts[i].data, "size=65536k") != NULL);
        ASSERT_TRUE(strstr(plan->mounts[i].data, "uid=61234") != NULL);
        ASSERT_TRUE(strstr(plan->mounts[i].data, "gid=61299") != NULL);
        i = find(JM_TMPFS, "tmp");
        ASSERT_TRUE(i >= 0 && plan->mounts[i].rw);
        ASSERT_TRUE(strstr(plan->mounts[i].data, "size=65536k") != NULL);
        ASSERT_TRUE(strstr(plan->mounts[i].data, "mode=1777") != NULL);
        ASSERT_TRUE(find(JM_PROC, "proc") >= 0);

        /* /dev: a tmpfs, the four devices, the symlinks, then read-only, in that order. */
        int dev = find(JM_TMPFS, "dev");
        int ro = find(JM_REMOUNT_RO, "dev");
        ASSERT_TRUE(dev >= 0 && ro > dev);
        static const char *const nodes[] = {"null", "zero", "random", "urandom"};
        for (size_t k = 0; k < ELEMENTSOF(nodes); k++) {
                char target[32], host[32];
                snprintf(target, sizeof target, "dev/%s", nodes[k]);
                snprintf(host, sizeof host, "/dev/%s", nodes[k]);
                /* As root, made with mknod: the host's device number, in a tmpfs that keeps
                 * device access even once read-only. */
                struct stat st;
                ASSERT_EQ(stat(host, &st), 0);
                i = find(JM_DEVNODE, target);
                ASSERT_TRUE(i > dev && i < ro);
                ASSERT_EQ(plan->mounts[i].rdev, st.st_rdev);
                ASSERT_EQ(find(JM_BIND, target), -1);
        }
        ASSERT_TRUE(plan->mounts[dev].dev && plan->mounts[ro].dev);

        /* Rootless (no mknod in a user namespace): the host's nodes are bound instead. */
        rootless = true;
        ASSERT_EQ(build(&spec), 0);
        dev = find(JM_TMPFS, "dev");
        ro = find(JM_REMOUNT_RO, "dev");
        ASSERT_TRUE(!plan->mounts[dev].dev && !plan->mounts[ro].dev);
        for (size_t k = 0; k < ELEMENTSOF(nodes); k++) {
                char target[32], host[32];
                snprintf(target, sizeof target, "dev/%s", nodes[k]);
                snprintf(host, sizeof host, "/dev/%s", nodes[k]);
                ASSERT_EQ(find(JM_DEVNODE, target), -1);
                i = find(JM_BIND, target);
                ASSERT_TRUE(i > dev && i < ro);
                ASSERT_TRUE(strcmp(plan->mounts[i].src_path, host) == 0);
                ASSERT_TRUE(plan->mounts[i].dev && !plan->mounts[i].as_peer);
                ASSERT_EQ(plan->mounts[i].locked_flags & (MS_NODEV | MS_RDONLY), 0u);
        }
        rootless = false;
        ASSERT_EQ(build(&spec), 0);
        dev = find(JM_TMPFS, "dev");
        ro = find(JM_REMOUNT_RO, "dev");
        i = find(JM_SYMLINK, "dev/fd");
        ASSERT_TRUE(i > dev && i < ro && strcmp(plan->mounts[i].data, "/proc/self/fd") == 0);
        i = find(JM_SYMLINK, "dev/shm");
        ASSERT_TRUE(i > dev && i < ro && strcmp(plan->mounts[i].data, "/tmp") == 0);
        /* Nothing else goes into /dev; the remount is the last thing done to it. */
        for (size_t k = 0; k < plan->n_mounts; k++)
                if (has_prefix(plan->mounts[k].target, "dev/"))
                        ASSERT_TRUE((int) k > dev && (int) k < ro);
        ASSERT_EQ(find_from((size_t) ro + 1, JM_TMPFS, "dev"), -1);
        /* Without user binds the plan ends there. */
        ASSERT_EQ((size_t) ro, plan->n_mounts - 1);

        /* The same spec builds the same plan again (n_mounts is reset). */
        size_t n = plan->n_mounts;
        ASSERT_EQ(build(&spec), 0);
        ASSERT_EQ(plan->n_mounts, n);

        /* tmp_kib sizes both tmpfs. */
        spec.tmp_kib = 1024;
        ASSERT_EQ(build(&spec), 0);
        i = find(JM_TMPFS, "box");
        ASSERT_TRUE(i >= 0 && has_prefix(plan->mounts[i].data, "size=1024k,"));
        i = find(JM_TMPFS, "tmp");
        ASSERT_TRUE(i >= 0 && has_prefix(plan->mounts[i].data, "size=1024k,"));
}

static void test_share_net(void) {
        struct stat st;
        bool host_has = stat("/etc/resolv.conf", &st) == 0 && S_ISREG(st.st_mode);
        BoxSpec spec;

        box_spec_init(&spec);
        spec.share_net = true;
        ASSERT_EQ(build(&spec), 0);
        check_invariants();
        int i = find_target("etc/resolv.conf");
        if (host_has) {
                ASSERT_TRUE(i >= 0);
                ASSERT_EQ(plan->mounts[i].kind, JM_BIND);
                ASSERT_TRUE(strcmp(plan->mounts[i].src_path, "/etc/resolv.conf") == 0);
                ASSERT_TRUE(!plan->mounts[i].rw && !plan->mounts[i].as_peer);
        } else
                ASSERT_EQ(i, -1);
}

static void test_workdir(void) {
        BoxSpec spec;
        int i;

        box_spec_init(&spec);
        spec.workdir = tmpdir;
        ASSERT_EQ(build(&spec), 0);
        check_invariants();
        ASSERT_EQ(find(JM_TMPFS, "box"), -1);
        i = find(JM_BIND, "box");
        ASSERT_TRUE(i >= 0);
        ASSERT_TRUE(strcmp(plan->mounts[i].src_path, tmpdir) == 0);
        /* Opened with the caller's identity, read-write. */
        ASSERT_TRUE(plan->mounts[i].as_peer);
        ASSERT_TRUE(plan->mounts[i].rw);
        ASSERT_TRUE(plan->mounts[i].src_is_dir);
        ASSERT_EQ(plan->mounts[i].locked_flags & MS_RDONLY, 0u);
        /* /tmp stays private. */
        ASSERT_TRUE(find(JM_TMPFS, "tmp") >= 0);

        spec.workdir = "relative/dir";
        ASSERT_EQ(build(&spec), -EINVAL);
        ASSERT_TRUE(strstr(errbuf, "workdir") != NULL);
        ASSERT_TRUE(strstr(errbuf, "relative/dir") != NULL);
}

/* Each directory is made once, so that the most binds a caller may ask for fit. */
static void test_no_duplicate_dirs_and_max_binds(void) {
        static BoxBind binds[BOX_MAX_BINDS];
        static char names[BOX_MAX_BINDS][32];
        BoxSpec spec;

        box_spec_init(&spec);
        for (size_t i = 0; i < BOX_MAX_BINDS; i++) {
                snprintf(names[i], sizeof names[i], "/opt/d%zu", i);
                binds[i] = (BoxBind){.host = datadir, .inside = names[i]};
        }
        spec.binds = binds;
        spec.n_binds = BOX_MAX_BINDS;
        ASSERT_EQ(build(&spec), 0);
        for (size_t i = 0; i < plan->n_mounts; i++)
                for (size_t j = i + 1; j < plan->n_mounts; j++)
                        if (plan->mounts[i].kind == JM_DIR && plan->mounts[j].kind == JM_DIR)
                                ASSERT_TRUE(strcmp(plan->mounts[i].target, plan->mounts[j].target) != 0);
}

static void test_rejected_targets(void) {
        static const char *const bad[] = {
                "/",
                "/box",
                "/box/x",
                "/box/",
                "/tmp",
                "/tmp/x",
                "/proc",
                "/proc/self",
                "/dev",
                "/dev/x",
                "relative",
                "",
                "/a/../b",
                "/a/./b",
                "/..",
                "/.",
                "/a/..",
                "/a/.",
                "//box",
                "//tmp/x",
                "//proc",
                "//dev/x",
                "/a//b",
                "/opt/data/",
        };
        BoxBind bind;
        BoxSpec spec;

        box_spec_init(&spec);
        spec.binds = &bind;
        spec.n_binds = 1;
        for (size_t k = 0; k < ELEMENTSOF(bad); k++) {
                bind = (BoxBind){.host = datadir, .inside = (char *) bad[k]};
                int r = build(&spec);
                if (r != -EINVAL)
                        fprintf(stderr, "bind target \"%s\" gave %d\n", bad[k], r);
                ASSERT_EQ(r, -EINVAL);
                ASSERT_TRUE(strstr(errbuf, "bind target") != NULL);
                /* The message names the target. */
                ASSERT_TRUE(strstr(errbuf, bad[k]) != NULL);
        }

        /* Too long a target. */
        char *longp = malloc(BOX_MAX_STRING + 2);
        ASSERT_TRUE(longp != NULL);
        longp[0] = '/';
        memset(longp + 1, 'a', BOX_MAX_STRING);
        longp[BOX_MAX_STRING + 1] = '\0';
        bind = (BoxBind){.host = datadir, .inside = longp};
        ASSERT_EQ(build(&spec), -EINVAL);
        free(longp);

        /* Names that only look like the reserved ones are fine. */
        static const char *const good[] = {"/boxes", "/tmpdir", "/devices", "/processes", "/opt/box"};
        for (size_t k = 0; k < ELEMENTSOF(good); k++) {
                bind = (BoxBind){.host = datadir, .inside = (char *) good[k]};
                ASSERT_EQ(build(&spec), 0);
                ASSERT_TRUE(find(JM_BIND, good[k] + 1) >= 0);
        }
}

static void test_bad_sources(void) {
        BoxBind bind;
        BoxSpec spec;

        box_spec_init(&spec);
        spec.binds = &bind;
        spec.n_binds = 1;

        bind = (BoxBind){
                .host = (char *) "/nonexistent-coderunner-test/src", .inside = (char *) "/opt/data"};
        ASSERT_EQ(build(&spec), -ENOENT);
        ASSERT_TRUE(strstr(errbuf, "/nonexistent-coderunner-test/src") != NULL);

        bind = (BoxBind){.host = (char *) "relative/src", .inside = (char *) "/opt/data"};
        ASSERT_EQ(build(&spec), -EINVAL);
        ASSERT_TRUE(strstr(errbuf, "absolute") != NULL);
        ASSERT_TRUE(strstr(errbuf, "relative/src") != NULL);

        bind = (BoxBind){.host = NULL, .inside = (char *) "/opt/data"};
        ASSERT_EQ(build(&spec), -EINVAL);
        ASSERT_TRUE(strstr(errbuf, "absolute") != NULL);

        /* Devices, fifos and sockets are not bound. */
        bind = (BoxBind){.host = (char *) "/dev/null", .inside = (char *) "/opt/null"};
        ASSERT_EQ(build(&spec), -EINVAL);
        ASSERT_TRUE(strstr(errbuf, "/dev/null") != NULL);

        /* A short errbuf is cut, never overrun. */
        char small[8];
        memset(small, 'X', sizeof small);
        bind = (BoxBind){.host = (char *) "relative/src", .inside = (char *) "/opt/data"};
        plan_reset();
        ASSERT_EQ(mount_plan_build(rt, &spec, plan, strbuf, STRBUF_SIZE, small, 4), -EINVAL);
        ASSERT_EQ(strlen(small), 3u);
        ASSERT_EQ(small[4], 'X');
}

static void test_user_binds(void) {
        BoxBind binds[] = {
                {.host = datadir, .inside = (char *) "/opt/data"},
                {.host = datafile, .inside = (char *) "/srv/in/put.txt", .rw = true},
                {.host = datadir, .inside = (char *) "/etc/extra"},
        };
        BoxSpec spec;
        int i, parent;

        box_spec_init(&spec);
        spec.binds = binds;
        spec.n_binds = ELEMENTSOF(binds);
        ASSERT_EQ(build(&spec), 0);
        ASSERT_EQ(errbuf[0], '\0');
        check_invariants();
        int ro = find(JM_REMOUNT_RO, "dev");
        ASSERT_TRUE(ro >= 0);

        /* /opt/data: the parent "opt" is made, then the read-only bind, after the rest of
         * the plan so that it may cover it. */
        i = find(JM_BIND, "opt/data");
        parent = find(JM_DIR, "opt");
        ASSERT_TRUE(parent > ro && i > parent);
        ASSERT_TRUE(strcmp(plan->mounts[i].src_path, datadir) == 0);
        ASSERT_TRUE(plan->mounts[i].as_peer);
        ASSERT_TRUE(!plan->mounts[i].rw);
        ASSERT_TRUE(plan->mounts[i].src_is_dir);
        ASSERT_TRUE(!plan->mounts[i].dev);

        /* A file, read-write, two levels down. */
        i = find(JM_BIND, "srv/in/put.txt");
        ASSERT_TRUE(i > ro);
        ASSERT_TRUE(find(JM_DIR, "srv") > ro);
        ASSERT_TRUE(find(JM_DIR, "srv") < find(JM_DIR, "srv/in"));
        ASSERT_TRUE(find(JM_DIR, "srv/in") < i);
        ASSERT_TRUE(strcmp(plan->mounts[i].src_path, datafile) == 0);
        ASSERT_TRUE(plan->mounts[i].rw);
        ASSERT_TRUE(plan->mounts[i].as_peer);
        ASSERT_TRUE(!plan->mounts[i].src_is_dir);
        ASSERT_EQ(plan->mounts[i].locked_flags & MS_RDONLY, 0u);

        /* Under /etc, after the synthetic files. */
        i = find(JM_BIND, "etc/extra");
        ASSERT_TRUE(i > find(JM_FILE, "etc/passwd"));
        ASSERT_TRUE(!plan->mounts[i].rw);

        /* User binds are in the order given. */
        ASSERT_TRUE(find(JM_BIND, "opt/data") < find(JM_BIND, "srv/in/put.txt"));
        ASSERT_TRUE(find(JM_BIND, "srv/in/put.txt") < find(JM_BIND, "etc/extra"));

        /* A later bind that fails leaves a message about that one. */
        BoxBind two[] = {
                {.host = datadir, .inside = (char *) "/opt/data"},
                {.host = datadir, .inside = (char *) "/tmp/evil"},
        };
        spec.binds = two;
        spec.n_binds = 2;
        ASSERT_EQ(build(&spec), -EINVAL);
        ASSERT_TRUE(strstr(errbuf, "/tmp/evil") != NULL);
}

/* The string buffer and the mount table are bounded: running out is -ENOBUFS. */
static void test_bounds(void) {
        BoxSpec spec;
        char small[64];

        box_spec_init(&spec);
        plan_reset();
        ASSERT_EQ(mount_plan_build(rt, &spec, plan, small, sizeof small, errbuf, sizeof errbuf), -ENOBUFS);
        ASSERT_TRUE(plan->n_mounts <= JAIL_MAX_MOUNTS);

        /* More binds than the table holds. */
        size_t n = JAIL_MAX_MOUNTS + 1;
        BoxBind *binds = calloc(n, sizeof *binds);
        char(*names)[32] = calloc(n, sizeof *names);
        ASSERT_TRUE(binds && names);
        for (size_t k = 0; k < n; k++) {
                snprintf(names[k], sizeof names[k], "/b%zu", k);
                binds[k] = (BoxBind){.host = datadir, .inside = names[k]};
        }
        spec.binds = binds;
        spec.n_binds = n;
        ASSERT_EQ(build(&spec), -ENOBUFS);
        ASSERT_EQ(plan->n_mounts, (size_t) JAIL_MAX_MOUNTS);
        free(binds);
        free(names);
}

int main(void) {
        const char *base = getenv("TMPDIR");
        int fd;

        snprintf(tmpdir, sizeof tmpdir, "%s/test-mounts-XXXXXX", base && *base ? base : "/tmp");
        ASSERT_TRUE(mkdtemp(tmpdir) != NULL);
        snprintf(datadir, sizeof datadir, "%s/data", tmpdir);
        snprintf(datafile, sizeof datafile, "%s/file.txt", tmpdir);
        ASSERT_EQ(mkdir(datadir, 0755), 0);
        fd = open(datafile, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(close(fd), 0);

        ASSERT_EQ(runtime_binds_new(&rt), 0);
        plan = calloc(1, sizeof *plan);
        strbuf = malloc(STRBUF_SIZE);
        ASSERT_TRUE(plan && strbuf);

        test_default_plan();
        test_share_net();
        test_workdir();
        test_rejected_targets();
        test_no_duplicate_dirs_and_max_binds();
        test_bad_sources();
        test_user_binds();
        test_bounds();

        ASSERT_TRUE(runtime_binds_free(rt) == NULL);
        ASSERT_TRUE(runtime_binds_free(NULL) == NULL);
        free(plan);
        free(strbuf);
        ASSERT_EQ(unlink(datafile), 0);
        ASSERT_EQ(rmdir(datadir), 0);
        ASSERT_EQ(rmdir(tmpdir), 0);
        return 0;
}
