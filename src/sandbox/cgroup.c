/* SPDX-License-Identifier: MIT */
/* Cgroups of the sandbox: found per controller (v2, v1 or none), always created under
 * the cgroup we run in (or a delegated one we were given), one fresh cgroup per run.
 *
 * v2: the child is born in its cgroup (clone3 CLONE_INTO_CGROUP).
 * v1: there is no CLONE_INTO_CGROUP, and writing a pid into `tasks` waits for an RCU grace
 *     period (5-20 ms). Writing "0" moves only the calling thread and skips that wait, so
 *     the launching thread steps into the run's v1 cgroups, clones, and steps back. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/parse-util.h"
#include "base/time-util.h"
#include "sandbox/sandbox-internal.h"

static const char *const v1_names[_CG_MAX] = {
        [CG_MEMORY] = "memory",
        [CG_PIDS] = "pids",
        [CG_CPU] = "cpuacct",
};

/* Our path in the hierarchy that has `controller` (v1), or in the v2 hierarchy when
 * controller is NULL. */
static int own_cgroup_path(const char *controller, char **ret) {
        _cleanup_free_ char *data = NULL;
        int r = read_file_at(AT_FDCWD, "/proc/self/cgroup", 64 * 1024, &data, NULL);
        if (r < 0)
                return r;
        for (char *line = data, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                char *c1 = strchr(line, ':');
                if (!c1)
                        continue;
                char *c2 = strchr(c1 + 1, ':');
                if (!c2)
                        continue;
                *c2 = '\0';
                const char *ctrls = c1 + 1, *path = c2 + 1;
                bool match = false;
                if (!controller)
                        match = *ctrls == '\0' && strncmp(line, "0:", 2) == 0;
                else {
                        /* a comma-separated list, e.g. "cpu,cpuacct" */
                        size_t n = strlen(controller);
                        for (const char *p = ctrls; *p;) {
                                const char *e = strchrnul(p, ',');
                                if ((size_t) (e - p) == n && strncmp(p, controller, n) == 0)
                                        match = true;
                                p = *e ? e + 1 : e;
                        }
                }
                if (match) {
                        char *s = strdup(path);
                        if (!s)
                                return -ENOMEM;
                        *ret = s;
                        return 0;
                }
        }
        return -ENOENT;
}

/* The mount point of the hierarchy (v1 with `controller`, or v2 when NULL) and the root of
 * that mount inside the hierarchy. */
static int find_mount(const char *controller, char **ret_mnt, char **ret_root) {
        _cleanup_free_ char *data = NULL;
        int r = read_file_at(AT_FDCWD, "/proc/self/mountinfo", 1024 * 1024, &data, NULL);
        if (r < 0)
                return r;
        for (char *line = data, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
                char *f[5];
                char *p = line;
                int i;
                for (i = 0; i < 5; i++) {
                        f[i] = p;
                        p = strchr(p, ' ');
                        if (!p)
                                break;
                        *p++ = '\0';
                }
                if (i < 5)
                        continue;
                char *sep = strstr(p, " - ");
                if (!sep)
                        continue;
                char *fstype = sep + 3;
                char *sp = strchr(fstype, ' ');
                if (!sp)
                        continue;
                *sp = '\0';
                char *src = sp + 1;
                char *superopts = strchr(src, ' ');
                superopts = superopts ? superopts + 1 : (char *) "";
                bool match;
                if (!controller)
                        match = strcmp(fstype, "cgroup2") == 0;
                else {
                        match = false;
                        if (strcmp(fstype, "cgroup") == 0) {
                                size_t n = strlen(controller);
                                for (const char *q = superopts; *q;) {
                                        const char *e = strchrnul(q, ',');
                                        if ((size_t) (e - q) == n && strncmp(q, controller, n) == 0)
                                                match = true;
                                        q = *e ? e + 1 : e;
                                }
                        }
                }
                if (!match)
                        continue;
                char *m = strdup(f[4]), *rt = strdup(f[3]);
                if (!m || !rt) {
                        free(m);
                        free(rt);
                        return -ENOMEM;
                }
                *ret_mnt = m;
                *ret_root = rt;
                return 0;
        }
        return -ENOENT;
}

/* The directory of our own cgroup in a hierarchy. */
static int own_cgroup_dir(const char *controller, char **ret) {
        _cleanup_free_ char *path = NULL, *mnt = NULL, *root = NULL;
        int r = own_cgroup_path(controller, &path);
        if (r < 0)
                return r;
        r = find_mount(controller, &mnt, &root);
        if (r < 0)
                return r;
        const char *rel = path;
        if (strcmp(root, "/") != 0) {
                size_t n = strlen(root);
                if (strncmp(path, root, n) != 0 || (path[n] != '/' && path[n] != '\0'))
                        return -ENOENT; /* our cgroup is outside the mounted subtree */
                rel = path + n;
        }
        char *dir;
        if (asprintf(&dir, "%s%s", mnt, strcmp(rel, "/") == 0 ? "" : rel) < 0)
                return -ENOMEM;
        *ret = dir;
        return 0;
}

static bool word_in(const char *list, const char *word) {
        size_t n = strlen(word);
        for (const char *p = list; *p;) {
                while (*p == ' ' || *p == '\n')
                        p++;
                const char *e = p;
                while (*e && *e != ' ' && *e != '\n')
                        e++;
                if ((size_t) (e - p) == n && strncmp(p, word, n) == 0)
                        return true;
                p = e;
        }
        return false;
}

#define SUPERVISOR_LEAF "coderunner-supervisor-"

/* v2: move every process of the cgroup dfd into its child `leaf`, until none is left.
 * Processes may fork meanwhile (their children are born where they are): a few rounds. */
static int v2_empty_into(int dfd, const char *leaf) {
        _cleanup_free_ char *dest = NULL;
        if (asprintf(&dest, "%s/cgroup.procs", leaf) < 0)
                return -ENOMEM;
        for (unsigned round = 0; round < 16; round++) {
                _cleanup_free_ char *procs = NULL;
                int r = read_file_at(dfd, "cgroup.procs", 1024 * 1024, &procs, NULL);
                if (r < 0)
                        return r;
                if (!*procs)
                        return 0;
                for (char *line = procs, *next; line && *line; line = next) {
                        next = strchr(line, '\n');
                        if (next)
                                *next++ = '\0';
                        r = write_string_at(dfd, dest, line);
                        if (r < 0 && r != -ESRCH) /* ESRCH: it has exited */
                                return r;
                }
        }
        return -EBUSY;
}

/* v2: make memory and pids available to children of dir. The "no internal processes" rule
 * forbids that while dir holds processes: ours, and on a systemd host the rest of the
 * service (`coderunner serve`, its supervisor and slots) or whoever started the command (a
 * shell, a test runner). As systemd's delegation rules ask, they all go once into a leaf
 * below dir, coderunner-supervisor-PID (a migration inside our own subtree, never out of
 * it), and the runs' cgroups are made beside that leaf. A coderunner started later from
 * inside that leaf finds dir as its parent (cgroup_setup_init). */
static void v2_enable(const char *dir, bool want[_CG_MAX], bool got[_CG_MAX]) {
        _cleanup_free_ char *avail = NULL, *enabled = NULL;
        _cleanup_close_ int dfd = open(dir, O_DIRECTORY | O_CLOEXEC | O_PATH);
        if (dfd < 0)
                return;
        if (read_file_at(dfd, "cgroup.controllers", 4096, &avail, NULL) < 0)
                return;
        const char *names[_CG_MAX] = {[CG_MEMORY] = "memory", [CG_PIDS] = "pids"};
        char add[64] = "";
        for (int c = 0; c < _CG_MAX; c++)
                if (names[c] && want[c] && word_in(avail, names[c])) {
                        size_t l = strlen(add);
                        snprintf(add + l, sizeof add - l, "%s+%s", l ? " " : "", names[c]);
                }
        if (!*add)
                return;
        if (write_string_at(dfd, "cgroup.subtree_control", add) == -EBUSY) {
                char leaf[64];
                snprintf(leaf, sizeof leaf, SUPERVISOR_LEAF "%d", (int) getpid());
                if (mkdirat(dfd, leaf, 0755) < 0 && errno != EEXIST)
                        return;
                if (v2_empty_into(dfd, leaf) < 0)
                        return;
                (void) write_string_at(dfd, "cgroup.subtree_control", add);
        }
        if (read_file_at(dfd, "cgroup.subtree_control", 4096, &enabled, NULL) < 0)
                return;
        for (int c = 0; c < _CG_MAX; c++)
                if (names[c] && word_in(enabled, names[c]))
                        got[c] = true;
}

/* Remove the empty cgroups that a coderunner process which no longer exists left behind
 * (killed before it could clean up). Names carry the creator's pid. */
static void remove_stale(const char *parent) {
        _cleanup_close_ int dfd = open(parent, O_DIRECTORY | O_CLOEXEC | O_RDONLY);
        if (dfd < 0)
                return;
        DIR *d = fdopendir(dfd);
        if (!d)
                return;
        dfd = -EBADF; /* owned by d now */
        for (struct dirent *e; (e = readdir(d));) {
                const char *p = e->d_name;
                if (e->d_type != DT_DIR || strncmp(p, "coderunner-", 11) != 0)
                        continue;
                p += 11;
                if (strncmp(p, "supervisor-", 11) == 0)
                        p += 11;
                char digits[16];
                size_t n = strspn(p, "0123456789");
                if (n == 0 || n >= sizeof digits)
                        continue;
                memcpy(digits, p, n);
                digits[n] = '\0';
                uint64_t pid;
                if (parse_u64_max(digits, INT32_MAX, &pid) < 0 || (pid_t) pid == getpid())
                        continue;
                if (kill((pid_t) pid, 0) < 0 && errno == ESRCH)
                        (void) unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR); /* fails while in use */
        }
        closedir(d);
}

int cgroup_setup_init(CgroupSetup *s, const char *delegated, bool rootless) {
        bool want[_CG_MAX] = {true, true, true}, on_v2[_CG_MAX] = {false};
        _cleanup_free_ char *v2dir = NULL;

        *s = (CgroupSetup){};
        for (int c = 0; c < _CG_MAX; c++)
                s->v1_home_tasks[c] = -EBADF;

        if (delegated) {
                v2dir = strdup(delegated);
                if (!v2dir)
                        return -ENOMEM;
        } else if (own_cgroup_dir(NULL, &v2dir) >= 0) {
                /* In a leaf that an earlier coderunner moved us into (with the shell or
                 * the service that started us): the runs go beside it, not below it. */
                char *slash = strrchr(v2dir, '/');
                if (slash && slash != v2dir &&
                        strncmp(slash + 1, SUPERVISOR_LEAF, strlen(SUPERVISOR_LEAF)) == 0)
                        *slash = '\0';
        }

        if (v2dir && access(v2dir, W_OK) == 0) {
                v2_enable(v2dir, want, on_v2);
                /* cpu.stat exists in every v2 cgroup: when we make v2 cgroups for memory or
                 * pids, CPU accounting comes with them. */
                if (on_v2[CG_MEMORY] || on_v2[CG_PIDS])
                        on_v2[CG_CPU] = true;
        }
        for (int c = 0; c < _CG_MAX; c++) {
                if (on_v2[c]) {
                        s->where[c] = CG_V2;
                        continue;
                }
                if (delegated)
                        continue;
                _cleanup_free_ char *dir = NULL;
                if (own_cgroup_dir(v1_names[c], &dir) < 0 || access(dir, W_OK) < 0)
                        continue;
                _cleanup_free_ char *tasks = NULL;
                if (asprintf(&tasks, "%s/tasks", dir) < 0)
                        return -ENOMEM;
                int fd = open(tasks, O_WRONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                s->where[c] = CG_V1;
                s->v1_parent[c] = TAKE_PTR(dir);
                s->v1_home_tasks[c] = fd;
        }
        /* No controller for CPU but a writable v2 cgroup: a plain v2 cgroup still gives
         * cpu.stat, the CPU time of the whole tree. */
        if (s->where[CG_CPU] == CG_NONE && v2dir && access(v2dir, W_OK) == 0)
                s->where[CG_CPU] = CG_V2;
        bool any_v2 = false;
        for (int c = 0; c < _CG_MAX; c++)
                any_v2 |= s->where[c] == CG_V2;
        if (any_v2)
                s->v2_parent = TAKE_PTR(v2dir);
        if (s->v2_parent)
                remove_stale(s->v2_parent);
        for (int c = 0; c < _CG_MAX; c++)
                if (s->where[c] == CG_V1)
                        remove_stale(s->v1_parent[c]);
        if (s->where[CG_MEMORY] == CG_V1) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/memory.memsw.limit_in_bytes", s->v1_parent[CG_MEMORY]) < 0)
                        return -ENOMEM;
                s->v1_memsw = access(p, F_OK) == 0;
        }

        static const char *const vname[] = {[CG_NONE] = "none", [CG_V1] = "v1", [CG_V2] = "v2"};
        snprintf(s->describe, sizeof s->describe, "cgroups: memory %s, pids %s, cpu %s%s",
                vname[s->where[CG_MEMORY]], vname[s->where[CG_PIDS]], vname[s->where[CG_CPU]],
                rootless ? " (rootless)" : "");
        return 0;
}

void cgroup_setup_done(CgroupSetup *s) {
        free(s->v2_parent);
        for (int c = 0; c < _CG_MAX; c++) {
                free(s->v1_parent[c]);
                /* Only descriptors we opened: a zeroed setup holds 0, which is not ours. */
                if (s->where[c] == CG_V1)
                        safe_close(s->v1_home_tasks[c]);
        }
        *s = (CgroupSetup){};
        for (int c = 0; c < _CG_MAX; c++)
                s->v1_home_tasks[c] = -EBADF;
}

static int write_u64_at(int dfd, const char *file, uint64_t v) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRIu64, v);
        return write_string_at(dfd, file, buf);
}

int box_cgroup_make(const CgroupSetup *s, const char *name, BoxCgroup *ret) {
        BoxCgroup cg = {.v2_dir = -EBADF, .cpu_fd = -EBADF};
        int r;

        snprintf(cg.name, sizeof cg.name, "%s", name);
        for (int c = 0; c < _CG_MAX; c++)
                cg.v1_dir[c] = cg.v1_tasks[c] = -EBADF;

        if (s->v2_parent) {
                _cleanup_close_ int pfd = open(s->v2_parent, O_DIRECTORY | O_CLOEXEC | O_PATH);
                if (pfd < 0)
                        return -errno;
                if (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST)
                        return -errno;
                cg.v2_dir = openat(pfd, name, O_DIRECTORY | O_CLOEXEC | O_RDONLY);
                if (cg.v2_dir < 0) {
                        r = -errno;
                        (void) unlinkat(pfd, name, AT_REMOVEDIR);
                        goto fail;
                }
        }
        for (int c = 0; c < _CG_MAX; c++) {
                if (s->where[c] != CG_V1)
                        continue;
                _cleanup_close_ int pfd = open(s->v1_parent[c], O_DIRECTORY | O_CLOEXEC | O_PATH);
                if (pfd < 0) {
                        r = -errno;
                        goto fail;
                }
                if (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST) {
                        r = -errno;
                        goto fail;
                }
                cg.v1_dir[c] = openat(pfd, name, O_DIRECTORY | O_CLOEXEC | O_PATH);
                if (cg.v1_dir[c] < 0) {
                        r = -errno;
                        (void) unlinkat(pfd, name, AT_REMOVEDIR);
                        goto fail;
                }
                cg.v1_tasks[c] = openat(cg.v1_dir[c], "tasks", O_WRONLY | O_CLOEXEC);
                if (cg.v1_tasks[c] < 0) {
                        r = -errno;
                        goto fail;
                }
        }
        if (s->where[CG_CPU] == CG_V2)
                cg.cpu_fd = openat(cg.v2_dir, "cpu.stat", O_RDONLY | O_CLOEXEC);
        else if (s->where[CG_CPU] == CG_V1)
                cg.cpu_fd = openat(cg.v1_dir[CG_CPU], "cpuacct.usage", O_RDONLY | O_CLOEXEC);
        if (s->where[CG_CPU] != CG_NONE && cg.cpu_fd < 0) {
                r = -errno;
                goto fail;
        }
        (void) box_cgroup_oom_kills(s, &cg, &cg.oom_kills_before);
        *ret = cg;
        return 0;
fail:
        box_cgroup_destroy(s, &cg);
        return r;
}

int box_cgroup_limit(const CgroupSetup *s, const BoxCgroup *cgp, const BoxSpec *spec, uint32_t pids_extra) {
        const BoxCgroup cg = *cgp;
        int r = 0;

        /* Memory: the limit, no swap, and on v2 an OOM kills the whole group. The
         * per-process mode adds RLIMIT_AS to each process inside this ceiling, never
         * instead of it: what the tree writes into its tmpfs belongs to no process. */
        if (spec->memory_kib > 0) {
                uint64_t bytes = spec->memory_kib * 1024;
                if (s->where[CG_MEMORY] == CG_V2) {
                        r = write_u64_at(cg.v2_dir, "memory.max", bytes);
                        if (r < 0)
                                goto fail;
                        (void) write_string_at(cg.v2_dir, "memory.swap.max", "0");
                        (void) write_string_at(cg.v2_dir, "memory.oom.group", "1");
                } else if (s->where[CG_MEMORY] == CG_V1) {
                        r = write_u64_at(cg.v1_dir[CG_MEMORY], "memory.limit_in_bytes", bytes);
                        if (r < 0)
                                goto fail;
                        if (s->v1_memsw) {
                                r = write_u64_at(cg.v1_dir[CG_MEMORY], "memory.memsw.limit_in_bytes", bytes);
                                if (r < 0)
                                        goto fail;
                        }
                        (void) write_string_at(cg.v1_dir[CG_MEMORY], "memory.swappiness", "0");
                }
        }
        if (spec->processes > 0) {
                uint64_t max = (uint64_t) spec->processes + pids_extra;
                if (s->where[CG_PIDS] == CG_V2)
                        r = write_u64_at(cg.v2_dir, "pids.max", max);
                else if (s->where[CG_PIDS] == CG_V1)
                        r = write_u64_at(cg.v1_dir[CG_PIDS], "pids.max", max);
                if (r < 0)
                        return r;
        }
        return 0;
fail:
        return r;
}

int box_cgroup_create(
        const CgroupSetup *s, const char *name, const BoxSpec *spec, uint32_t pids_extra, BoxCgroup *ret) {
        BoxCgroup cg;
        int r = box_cgroup_make(s, name, &cg);
        if (r < 0)
                return r;
        r = box_cgroup_limit(s, &cg, spec, pids_extra);
        if (r < 0) {
                box_cgroup_destroy(s, &cg);
                return r;
        }
        *ret = cg;
        return 0;
}

int box_cgroup_enter_v1(const CgroupSetup *s, const BoxCgroup *cg, bool enter) {
        int r = 0;
        for (int c = 0; c < _CG_MAX; c++) {
                int fd = enter ? cg->v1_tasks[c] : s->v1_home_tasks[c];
                if (s->where[c] != CG_V1 || fd < 0)
                        continue;
                if (RETRY_EINTR(write(fd, "0", 1)) < 0 && r == 0)
                        r = -errno;
        }
        return r;
}

int box_cgroup_cpu_usec(const CgroupSetup *s, const BoxCgroup *cg, uint64_t *ret) {
        char buf[512];
        uint64_t v;
        int r;

        if (cg->cpu_fd < 0)
                return -EOPNOTSUPP;
        ssize_t n = RETRY_EINTR(pread(cg->cpu_fd, buf, sizeof buf - 1, 0));
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        if (s->where[CG_CPU] == CG_V2) {
                /* "usage_usec N\n..." */
                if (strncmp(buf, "usage_usec ", 11) != 0)
                        return -EIO;
                char *e = strchr(buf, '\n');
                if (e)
                        *e = '\0';
                r = parse_u64(buf + 11, &v);
                if (r < 0)
                        return r;
                *ret = v;
                return 0;
        }
        char *e = strchr(buf, '\n');
        if (e)
                *e = '\0';
        r = parse_u64(buf, &v); /* nanoseconds */
        if (r < 0)
                return r;
        *ret = v / 1000;
        return 0;
}

static int read_u64_at(int dfd, const char *file, uint64_t *ret) {
        _cleanup_free_ char *data = NULL;
        int r = read_file_at(dfd, file, 64, &data, NULL);
        if (r < 0)
                return r;
        char *e = strchr(data, '\n');
        if (e)
                *e = '\0';
        return parse_u64(data, ret);
}

/* "key value" lines (memory.events, memory.oom_control) */
static int read_keyed_u64_at(int dfd, const char *file, const char *key, uint64_t *ret) {
        _cleanup_free_ char *data = NULL;
        int r = read_file_at(dfd, file, 4096, &data, NULL);
        if (r < 0)
                return r;
        size_t n = strlen(key);
        for (char *line = data, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (strncmp(line, key, n) == 0 && line[n] == ' ')
                        return parse_u64(line + n + 1, ret);
        }
        return -ENOENT;
}

int box_cgroup_memory_peak_kib(const CgroupSetup *s, const BoxCgroup *cg, uint64_t *ret) {
        uint64_t v;
        int r;
        if (s->where[CG_MEMORY] == CG_V2)
                r = read_u64_at(cg->v2_dir, "memory.peak", &v);
        else if (s->where[CG_MEMORY] == CG_V1)
                r = read_u64_at(cg->v1_dir[CG_MEMORY], "memory.max_usage_in_bytes", &v);
        else
                r = -EOPNOTSUPP;
        if (r < 0)
                return r;
        *ret = v / 1024;
        return 0;
}

int box_cgroup_oom_kills(const CgroupSetup *s, const BoxCgroup *cg, uint64_t *ret) {
        if (s->where[CG_MEMORY] == CG_V2)
                return read_keyed_u64_at(cg->v2_dir, "memory.events", "oom_kill", ret);
        if (s->where[CG_MEMORY] == CG_V1)
                return read_keyed_u64_at(cg->v1_dir[CG_MEMORY], "memory.oom_control", "oom_kill", ret);
        return -EOPNOTSUPP;
}

int box_cgroup_oom_watch(const CgroupSetup *s, const BoxCgroup *cg) {
        if (s->where[CG_MEMORY] != CG_V1 || cg->v1_dir[CG_MEMORY] < 0)
                return -EOPNOTSUPP;
        _cleanup_close_ int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (efd < 0)
                return -errno;
        _cleanup_close_ int ofd = openat(cg->v1_dir[CG_MEMORY], "memory.oom_control", O_RDONLY | O_CLOEXEC);
        if (ofd < 0)
                return -errno;
        /* "<eventfd> <memory.oom_control fd>" registers the notification; the kernel holds
         * its own references, so only the eventfd stays open here. */
        char reg[32];
        snprintf(reg, sizeof reg, "%d %d", efd, ofd);
        int r = write_string_at(cg->v1_dir[CG_MEMORY], "cgroup.event_control", reg);
        if (r < 0)
                return r;
        return TAKE_FD(efd);
}

static void kill_listed(int dfd, const char *file) {
        _cleanup_free_ char *data = NULL;
        if (read_file_at(dfd, file, 1024 * 1024, &data, NULL) < 0)
                return;
        for (char *line = data, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                uint64_t pid;
                if (parse_u64(line, &pid) == 0 && pid > 1 && pid < INT32_MAX)
                        (void) kill((pid_t) pid, SIGKILL);
        }
}

void box_cgroup_kill(const CgroupSetup *s, const BoxCgroup *cg) {
        if (cg->v2_dir >= 0 && write_string_at(cg->v2_dir, "cgroup.kill", "1") == 0)
                return;
        if (cg->v2_dir >= 0)
                kill_listed(cg->v2_dir, "cgroup.procs");
        for (int c = 0; c < _CG_MAX; c++)
                if (cg->v1_dir[c] >= 0)
                        kill_listed(cg->v1_dir[c], "cgroup.procs");
}

static void rmdir_until_empty(const char *parent, const char *name) {
        _cleanup_close_ int pfd = open(parent, O_DIRECTORY | O_CLOEXEC | O_PATH);
        if (pfd < 0)
                return;
        /* The tasks are reaped by now; the kernel may still be releasing them. */
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + 2 * USEC_PER_SEC;
        for (unsigned i = 0;; i++) {
                if (unlinkat(pfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                        return;
                if (errno != EBUSY || now_usec(CLOCK_MONOTONIC) > deadline)
                        return;
                struct timespec ts = {0, i < 10 ? 100000 : 2000000};
                (void) nanosleep(&ts, NULL);
        }
}

void box_cgroup_destroy(const CgroupSetup *s, BoxCgroup *cg) {
        cg->cpu_fd = safe_close(cg->cpu_fd);
        if (cg->v2_dir >= 0) {
                cg->v2_dir = safe_close(cg->v2_dir);
                rmdir_until_empty(s->v2_parent, cg->name);
        }
        for (int c = 0; c < _CG_MAX; c++) {
                cg->v1_tasks[c] = safe_close(cg->v1_tasks[c]);
                if (cg->v1_dir[c] >= 0) {
                        cg->v1_dir[c] = safe_close(cg->v1_dir[c]);
                        rmdir_until_empty(s->v1_parent[c], cg->name);
                }
        }
}
