/* SPDX-License-Identifier: MIT */
/* The judge pipeline: materialise, compile once (cached), run each test case in a fresh
 * sandbox, decide, compare. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/strv.h"
#include "base/time-util.h"
#include "judge/judge-internal.h"

#define COMPILE_OUTPUT_MAX_KIB 1024
#define DEFAULT_OUTPUT_KIB (64 * 1024)
#define MAX_TESTS 1024
#define MAX_RUNS 20
#define MAX_USER_STRING 512
#define RUN_ENV_MAX (LANG_MAX_ENV + 4)
#define MAX_WORDS 256
#define DEFAULT_WORK_MAX_KIB (UINT64_C(512) * 1024)
#define DEFAULT_WORK_MAX_INODES 32768
#define JUDGE_DIR_PREFIX "judge-"
#define WORK_LOCK_FILE ".lock"

struct Judge {
        JudgeConfig cfg;
        JudgeRunner runner;
        char *work_dir;
        int work_dirfd;
        bool work_mounted; /* work_dir is a tmpfs of its own */
        bool reclaimed; /* the stale directories of dead instances are gone */
        unsigned reclaimed_dirs;
        Cache *cache;
        uint64_t seq;
};

void judge_config_defaults(JudgeConfig *cfg) {
        *cfg = (JudgeConfig){
                .cache_max_bytes = UINT64_C(512) * 1024 * 1024,
                .cache_entry_max_bytes = UINT64_C(64) * 1024 * 1024,
                /* Judge0 compiles under its MAX_* limits; ours are the same or roomier
                 * where real compilers need it (the catalogue can raise them further). */
                .compile_limits =
                        {
                                .cpu_time_usec = 20 * USEC_PER_SEC,
                                .wall_time_usec = 40 * USEC_PER_SEC,
                                .memory_kib = 1024 * 1024,
                                .stack_kib = 64 * 1024,
                                .fsize_kib = 256 * 1024,
                                .processes = 128,
                        },
                .max_extract_bytes = UINT64_C(64) * 1024 * 1024,
                .max_extract_files = 4096,
                .default_output_kib = DEFAULT_OUTPUT_KIB,
        };
}

int judge_runner_box_context(void *ctx, const BoxSpec *spec, BoxResult *ret) {
        return box_run(ctx, spec, ret);
}

int judge_runner_box_client(void *client, const BoxSpec *spec, BoxResult *ret) {
        return box_client_run(client, spec, ret);
}

/* Where the service's work base goes when none is configured: $TMPDIR when set; else
 * /dev/shm when it is a roomy tmpfs (no disk I/O, and what a program writes in /box is
 * charged to its memory cgroup); else /tmp. */
static const char *default_work_parent(void) {
        const char *t = getenv("TMPDIR");
        if (t && *t)
                return t;
        struct statfs sf;
        if (statfs("/dev/shm", &sf) == 0 && sf.f_type == TMPFS_MAGIC &&
                (uint64_t) sf.f_bavail * (uint64_t) sf.f_bsize >= UINT64_C(512) * 1024 * 1024 &&
                access("/dev/shm", W_OK) == 0)
                return "/dev/shm";
        return "/tmp";
}

/* The work base: cfg->work_dir, else <parent>/coderunner-<euid>. It is the service's own:
 * made 0700 when missing, refused when someone else owns it (another local user may
 * have planted it in a shared /tmp), its mode put back to 0700 when it drifted. */
static int work_base_open(const JudgeConfig *cfg, char **ret_path, int *ret_fd) {
        _cleanup_free_ char *path = NULL;
        if (cfg->work_dir)
                path = strdup(cfg->work_dir);
        else if (asprintf(&path, "%s/coderunner-%u", default_work_parent(), (unsigned) geteuid()) < 0)
                path = NULL;
        if (!path)
                return -ENOMEM;
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return -errno;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        uid_t owner = cfg->owner_uid ? cfg->owner_uid : geteuid();
        if (st.st_uid != owner)
                return -EPERM;
        if ((st.st_mode & 07777) != 0700 && fchmod(fd, 0700) < 0)
                return -errno;
        *ret_path = TAKE_PTR(path);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Judge directories are made and reclaimed under the base's lock file: shared while one
 * is made (until it is locked itself), exclusive while the stale ones are reclaimed. The
 * file belongs to the service's user, who takes it once root is gone. */
static int work_base_lock(const JudgeConfig *cfg, int base_fd, int how) {
        int fd = openat(base_fd, WORK_LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        if (cfg->owner_uid && geteuid() == 0 && fchown(fd, cfg->owner_uid, cfg->owner_gid) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        if (RETRY_EINTR(flock(fd, how)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

static bool is_mount_point(int parent_fd, int fd) {
        struct stat a, b;
        return fstat(parent_fd, &a) == 0 && fstat(fd, &b) == 0 && a.st_dev != b.st_dev;
}

/* Remove the judge directories that no live Judge holds (each Judge keeps its own
 * locked for its lifetime): what a crashed or killed instance left. Returns how many. */
static int work_base_reclaim(const JudgeConfig *cfg, int base_fd, const char *base_path) {
        _cleanup_close_ int lock = work_base_lock(cfg, base_fd, LOCK_EX);
        if (lock < 0)
                return lock;
        int dfd = openat(base_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        DIR *d = fdopendir(dfd);
        if (!d) {
                close(dfd);
                return -errno;
        }
        int n = 0;
        for (struct dirent *e; (e = readdir(d));) {
                if (strncmp(e->d_name, JUDGE_DIR_PREFIX, strlen(JUDGE_DIR_PREFIX)) != 0)
                        continue;
                int fd = openat(base_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue;
                if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                        close(fd); /* alive */
                        continue;
                }
                bool mounted = is_mount_point(base_fd, fd);
                close(fd);
                if (mounted) {
                        /* its own tmpfs: detaching it frees everything in it */
                        _cleanup_free_ char *p = NULL;
                        if (asprintf(&p, "%s/%s", base_path, e->d_name) < 0)
                                continue;
                        if (umount2(p, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
                                continue;
                }
                if (tree_remove(base_fd, e->d_name) == 0)
                        n++;
        }
        closedir(d);
        return n;
}

/* The Judge's own directory in the base: on a tmpfs of its own when we may mount one
 * (root), size- and inode-limited, nosuid, nodev, 0700, so that nothing a submission
 * writes can fill the host or be run by anyone else with its setuid bits; else a 0700
 * directory. It stays locked (flock) while the Judge lives. judge_work_bounded() says
 * which. */
static int judge_dir_make(Judge *j) {
        _cleanup_free_ char *base = NULL, *path = NULL;
        _cleanup_close_ int base_fd = -EBADF, fd = -EBADF;
        int r = work_base_open(&j->cfg, &base, &base_fd);
        if (r < 0)
                return r;
        if (!j->reclaimed) {
                r = work_base_reclaim(&j->cfg, base_fd, base);
                if (r > 0)
                        j->reclaimed_dirs += (unsigned) r;
                j->reclaimed = true;
        }
        _cleanup_close_ int lock = work_base_lock(&j->cfg, base_fd, LOCK_SH);
        if (lock < 0)
                return lock;
        if (asprintf(&path, "%s/" JUDGE_DIR_PREFIX "XXXXXX", base) < 0) {
                path = NULL;
                return -ENOMEM;
        }
        if (!mkdtemp(path))
                return -errno;
        bool mounted = false;
        if (geteuid() == 0) {
                /* Root without the right to mount (a container without CAP_SYS_ADMIN)
                 * keeps the plain 0700 directory mkdtemp made. */
                char opts[128];
                uid_t uid = j->cfg.owner_uid ? j->cfg.owner_uid : 0;
                gid_t gid = j->cfg.owner_uid ? j->cfg.owner_gid : 0;
                snprintf(opts, sizeof opts,
                        "size=%" PRIu64 "k,nr_inodes=%" PRIu32 ",mode=0700,uid=%u,gid=%u",
                        j->cfg.work_max_kib, j->cfg.work_max_inodes, (unsigned) uid, (unsigned) gid);
                mounted = mount("coderunner-work", path, "tmpfs", MS_NOSUID | MS_NODEV, opts) == 0;
                if (!mounted && j->cfg.owner_uid && chown(path, j->cfg.owner_uid, j->cfg.owner_gid) < 0) {
                        r = -errno;
                        (void) rmdir(path);
                        return r;
                }
        }
        fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                if (mounted)
                        (void) umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
                (void) rmdir(path);
                return r;
        }
        free(j->work_dir);
        safe_close(j->work_dirfd);
        j->work_dir = TAKE_PTR(path);
        j->work_dirfd = TAKE_FD(fd);
        j->work_mounted = mounted;
        return 0;
}

/* Empty and remove the Judge's directory (and its tmpfs). */
static void judge_dir_drop(Judge *j) {
        bool unmounted =
                j->work_mounted && j->work_dir && umount2(j->work_dir, MNT_DETACH | UMOUNT_NOFOLLOW) == 0;
        if (j->work_dirfd >= 0) {
                /* A tmpfs that stays (the service gave up root since it mounted it) is at
                 * least emptied; the next start, as root, reclaims the mount. */
                if (!unmounted)
                        (void) tree_clear(j->work_dirfd);
                j->work_dirfd = safe_close(j->work_dirfd);
        }
        if (j->work_dir)
                (void) rmdir(j->work_dir);
        free(j->work_dir);
        j->work_dir = NULL;
        j->work_mounted = false;
}

int judge_new(const JudgeConfig *cfg, JudgeRunner runner, Judge **ret) {
        Judge *j = calloc(1, sizeof *j);
        int r;
        if (!j)
                return -ENOMEM;
        j->cfg = *cfg;
        if (!j->cfg.work_max_kib)
                j->cfg.work_max_kib = DEFAULT_WORK_MAX_KIB;
        if (!j->cfg.work_max_inodes)
                j->cfg.work_max_inodes = DEFAULT_WORK_MAX_INODES;
        j->runner = runner;
        j->work_dirfd = -EBADF;
        r = judge_dir_make(j);
        if (r < 0)
                goto fail;
        if (cfg->cache_dir) {
                r = cache_open(cfg->cache_dir, cfg->cache_max_bytes, cfg->cache_entry_max_bytes, &j->cache);
                if (r < 0)
                        goto fail;
        }
        *ret = j;
        return 0;
fail:
        judge_free(j);
        return r;
}

Judge *judge_free(Judge *j) {
        if (!j)
                return NULL;
        judge_dir_drop(j);
        cache_free(j->cache);
        free(j);
        return NULL;
}

const char *judge_work_dir(const Judge *j) {
        return j->work_dir;
}

bool judge_work_bounded(const Judge *j) {
        return j->work_mounted;
}

unsigned judge_reclaimed_dirs(const Judge *j) {
        return j->reclaimed_dirs;
}

void judge_result_done(JudgeResult *r) {
        if (!r)
                return;
        free(r->compile_output);
        for (size_t i = 0; i < r->n_tests; i++) {
                free(r->tests[i].stdout_data);
                free(r->tests[i].stderr_data);
                free(r->tests[i].message);
        }
        free(r->tests);
        *r = (JudgeResult){};
}

/* Judge0 removes these from compiler options and arguments before they reach the shell;
 * inside our sandbox they could do no harm, but clients expect the same words to mean the
 * same thing. */
static char *sanitize(const char *s) {
        if (!s)
                return strdup("");
        size_t n = strlen(s);
        char *out = malloc(n + 1), *p = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!strchr("$&;<>|`", s[i]))
                        *p++ = s[i];
        *p = '\0';
        /* strip */
        while (p > out && (p[-1] == ' ' || p[-1] == '\t' || p[-1] == '\n' || p[-1] == '\r'))
                *--p = '\0';
        char *start = out;
        while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
                start++;
        if (start != out)
                memmove(out, start, strlen(start) + 1);
        return out;
}

/* The catalogue's compile command with its limit placeholders replaced (memory_kib: the
 * compile stage's limit), then "%s" by the options (the user's text, never expanded). */
static char *expand_compile(const char *template, uint64_t memory_kib, const char *opts) {
        _cleanup_free_ char *cmd = language_expand_limits(template, memory_kib);
        if (!cmd)
                return NULL;
        const char *at = strstr(cmd, "%s");
        char *out;
        if (!at)
                return TAKE_PTR(cmd);
        if (asprintf(&out, "%.*s%s%s", (int) (at - cmd), cmd, opts, at + 2) < 0)
                return NULL;
        return out;
}

/* The catalogue's run command for a run under memory_kib, then the arguments (the user's
 * text, never expanded) after a space. */
static char *expand_run(const char *template, uint64_t memory_kib, const char *args) {
        _cleanup_free_ char *cmd = language_expand_limits(template, memory_kib);
        char *out;
        if (!cmd || asprintf(&out, "%s%s%s", cmd, *args ? " " : "", args) < 0)
                return NULL;
        return out;
}

static int memfd_with(const char *name, const char *data, size_t len) {
        int fd = memfd_create(name, MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (len > 0) {
                int r = write_all(fd, data, len);
                if (r < 0) {
                        close(fd);
                        return r;
                }
        }
        if (lseek(fd, 0, SEEK_SET) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Everything written to fd, as a malloc'd NUL-terminated string (NULL when empty). */
static int slurp(int fd, char **ret, size_t *ret_len) {
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        size_t n = (size_t) st.st_size;
        if (n == 0) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        char *buf = malloc(n + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t got = pread(fd, buf, n, 0);
        if (got < 0) {
                free(buf);
                return -errno;
        }
        buf[got] = '\0';
        *ret = buf;
        *ret_len = (size_t) got;
        return 0;
}

typedef struct Workdir {
        char name[64];
        char path[4096];
        int fd;
} Workdir;

static int workdir_make_once(Judge *j, const char *what, Workdir *ret) {
        Workdir w = {.fd = -EBADF};
        snprintf(w.name, sizeof w.name, "%s-%" PRIu64, what, ++j->seq);
        if (mkdirat(j->work_dirfd, w.name, 0755) < 0)
                return -errno;
        snprintf(w.path, sizeof w.path, "%s/%s", j->work_dir, w.name);
        w.fd = openat(j->work_dirfd, w.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (w.fd < 0) {
                int r = -errno;
                (void) unlinkat(j->work_dirfd, w.name, AT_REMOVEDIR);
                return r;
        }
        /* The sandbox finds the directory by its path: it must still lead here (the base
         * may have been removed, or its tmpfs detached, under us). */
        struct stat a, b;
        if (stat(w.path, &a) < 0 || fstat(w.fd, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
                w.fd = safe_close(w.fd);
                (void) unlinkat(j->work_dirfd, w.name, AT_REMOVEDIR);
                return -ENOENT;
        }
        *ret = w;
        return 0;
}

/* A fresh directory for one compile or run. When the Judge's directory is gone (a tmp
 * cleaner or an operator removed the work base), it is made again, once. */
static int workdir_make(Judge *j, const char *what, Workdir *ret) {
        int r = workdir_make_once(j, what, ret);
        if (r != -ENOENT)
                return r;
        judge_dir_drop(j);
        r = judge_dir_make(j);
        if (r < 0)
                return r;
        return workdir_make_once(j, what, ret);
}

static void workdir_drop(Judge *j, Workdir *w) {
        if (w->fd < 0)
                return;
        w->fd = safe_close(w->fd);
        (void) tree_remove(j->work_dirfd, w->name);
}

typedef struct RunOutput {
        BoxResult box;
        char *out;
        size_t out_len;
        char *err;
        size_t err_len;
} RunOutput;

static void run_output_done(RunOutput *o) {
        free(o->out);
        free(o->err);
        *o = (RunOutput){};
}

/* One sandbox run of a shell command line in workdir. */
/* Only characters that mean the same to a shell and to a split on spaces. */
static bool plain_words(const char *s) {
        for (const char *p = s; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                            strchr(" ._-/+=,:@%", *p)))
                        return false;
        return true;
}

/* Where a run's standard streams go, and what it may do. */
typedef struct RunStreams {
        int in_fd, out_fd, err_fd; /* the caller's; err_fd < 0 with merge_stderr */
        bool merge_stderr;
        bool network;
        uint64_t output_kib;
        const JudgeLive *live; /* an interactive run: its control fd goes to the sandbox */
} RunStreams;

/* One sandbox run of a command line in workdir, in the runner's slot `userdata`. */
static int sandbox_exec(const Judge *j, void *userdata, const Language *lang, const char *cmdline,
        bool is_run, const Workdir *w, const Limits *lim, const RunStreams *io, BoxResult *ret) {
        /* A command line of plain words is exec'd as is; anything a shell would interpret
         * (quotes, globs, operators, variables) goes through /bin/sh -c. The shell costs
         * about 0.5 ms per run. */
        /* A run through the shell execs the program, so that it is still the sandbox's
         * top process — unless the command is a list (a && b): then the shell stays, as in
         * Judge0, and a signal reads as exit status 128+N. */
        _cleanup_free_ char *shell_cmd = NULL;
        bool list = strstr(cmdline, "&&") || strstr(cmdline, "||") || strchr(cmdline, ';') ||
                    strchr(cmdline, '|') || strchr(cmdline, '\n');
        if (asprintf(&shell_cmd, "%s%s", is_run && !list ? "exec " : "", cmdline) < 0)
                return -ENOMEM;
        char *argv_sh[] = {(char *) "/bin/sh", (char *) "-c", shell_cmd, NULL};
        char *argv_words[MAX_WORDS + 1];
        _cleanup_free_ char *words = NULL;
        char **argv = argv_sh;
        if (plain_words(cmdline)) {
                words = strdup(cmdline);
                if (!words)
                        return -ENOMEM;
                size_t n = 0;
                for (char *p = words; *p && n < MAX_WORDS;) {
                        while (*p == ' ')
                                *p++ = '\0';
                        if (!*p)
                                break;
                        argv_words[n++] = p;
                        while (*p && *p != ' ')
                                p++;
                }
                argv_words[n] = NULL;
                if (n > 0 && n < MAX_WORDS)
                        argv = argv_words;
        }
        char *env[RUN_ENV_MAX + 1];
        BoxBind binds[LANG_MAX_BINDS];
        size_t ne = 0;
        BoxSpec spec;

        _cleanup_strv_free_ char **own_env = NULL; /* the values with their limits */
        env[ne++] = (char *) "LANG=C.UTF-8";
        env[ne++] = (char *) "HOME=/tmp";
        for (size_t i = 0; i < lang->n_env && ne < RUN_ENV_MAX; i++) {
                env[ne] = lang->env[i];
                if (strstr(lang->env[i], LIMIT_PLACEHOLDER_PREFIX)) {
                        _cleanup_free_ char *v = language_expand_limits(lang->env[i], lim->memory_kib);
                        if (!v || strv_extend(&own_env, v) < 0)
                                return -ENOMEM;
                        env[ne] = own_env[strv_length(own_env) - 1];
                }
                ne++;
        }
        env[ne] = NULL;
        for (size_t i = 0; i < lang->n_binds; i++)
                binds[i] = (BoxBind){.host = lang->binds[i], .inside = lang->binds[i]};

        box_spec_init(&spec);
        spec.argv = argv;
        spec.env = env;
        spec.binds = binds;
        spec.n_binds = lang->n_binds;
        spec.workdir = w->path;
        spec.cpu_time_usec = lim->cpu_time_usec;
        spec.extra_time_usec = lim->extra_time_usec;
        spec.wall_time_usec = lim->wall_time_usec;
        spec.memory_kib = lim->memory_kib;
        spec.stack_kib = lim->stack_kib;
        spec.fsize_kib = lim->fsize_kib;
        spec.processes = lim->processes;
        spec.per_process_time = lim->per_process_time;
        spec.per_process_memory = lim->per_process_memory;
        spec.output_kib = io->output_kib;
        spec.share_net = io->network;
        spec.stderr_to_stdout = io->merge_stderr;
        spec.stdin_fd = io->in_fd;
        spec.stdout_fd = io->out_fd;
        spec.stderr_fd = io->err_fd;
        if (io->live)
                spec.control_fd = io->live->control_fd;
        return j->runner.run(userdata, &spec, ret);
}

/* One sandbox run with stdin from memory, stdout and stderr captured. */
static int sandbox_sh(Judge *j, const Language *lang, const char *cmdline, bool is_run, const Workdir *w,
        const Limits *lim, const char *in, size_t in_len, bool merge_stderr, bool network,
        uint64_t output_kib, RunOutput *ret) {
        _cleanup_close_ int in_fd = -EBADF, out_fd = -EBADF, err_fd = -EBADF;
        int r;

        in_fd = memfd_with("stdin", in, in_len);
        if (in_fd < 0)
                return in_fd;
        out_fd = memfd_create("stdout", MFD_CLOEXEC);
        if (out_fd < 0)
                return -errno;
        if (!merge_stderr) {
                err_fd = memfd_create("stderr", MFD_CLOEXEC);
                if (err_fd < 0)
                        return -errno;
        }
        RunOutput o = {};
        r = sandbox_exec(j, j->runner.userdata, lang, cmdline, is_run, w, lim,
                &(RunStreams){.in_fd = in_fd,
                        .out_fd = out_fd,
                        .err_fd = err_fd,
                        .merge_stderr = merge_stderr,
                        .network = network,
                        .output_kib = output_kib},
                &o.box);
        if (r < 0)
                return r;
        if (out_fd >= 0)
                r = slurp(out_fd, &o.out, &o.out_len);
        if (r >= 0 && err_fd >= 0)
                r = slurp(err_fd, &o.err, &o.err_len);
        if (r < 0) {
                run_output_done(&o);
                return r;
        }
        *ret = o;
        return 0;
}

/* An interactive run: the program's streams are the caller's sockets (read and written
 * while it runs); nothing is captured. */
static int sandbox_live(Judge *j, const Language *lang, const char *cmdline, const Workdir *w,
        const Limits *lim, const JudgeSubmission *s, uint64_t output_kib, RunOutput *ret) {
        const JudgeLive *live = s->live;
        RunOutput o = {};
        live->stage(live->userdata, true);
        int r = sandbox_exec(j, j->runner.userdata, lang, cmdline, true, w, lim,
                &(RunStreams){.in_fd = live->stdin_fd,
                        .out_fd = live->stdout_fd,
                        .err_fd = s->redirect_stderr_to_stdout ? -EBADF : live->stderr_fd,
                        .merge_stderr = s->redirect_stderr_to_stdout,
                        .network = s->enable_network,
                        .output_kib = output_kib,
                        .live = live},
                &o.box);
        if (r < 0)
                return r;
        live->exited(live->userdata, true, &o.box, NULL, 0);
        *ret = o;
        return 0;
}

static Limits with_minimums(Limits l, uint32_t min_processes, uint64_t min_memory_kib) {
        if (min_processes && l.processes < min_processes)
                l.processes = min_processes;
        if (min_memory_kib && l.memory_kib < min_memory_kib)
                l.memory_kib = min_memory_kib;
        return l;
}

static Limits compile_limits(const Judge *j, const Language *lang) {
        return with_minimums(j->cfg.compile_limits, lang->compile_processes, lang->compile_memory_kib);
}

static bool file_exists_at(int dirfd, const char *name) {
        struct stat st;
        return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

static int set_message(char **field, const char *fmt, ...) _printf_(2, 3);
static int set_message(char **field, const char *fmt, ...) {
        va_list ap;
        char *s;
        va_start(ap, fmt);
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        free(*field);
        *field = s;
        return 0;
}

/* Fill one outcome from a run. */
static int decide(const JudgeSubmission *s, const JudgeTest *t, RunOutput *o, JudgeOutcome *out) {
        out->ran = true;
        out->exit_code = o->box.exit_code;
        out->exit_signal = o->box.signal;
        out->time_usec = o->box.cpu_time_usec;
        out->wall_time_usec = o->box.wall_time_usec;
        out->memory_kib = o->box.memory_kib;
        out->memory_limit_exceeded = o->box.status == BOX_STATUS_ML;
        free(out->stdout_data);
        free(out->stderr_data);
        out->stdout_data = TAKE_PTR(o->out);
        out->stdout_len = o->out_len;
        out->stderr_data = TAKE_PTR(o->err);
        out->stderr_len = o->err_len;
        free(out->message);
        out->message = o->box.message[0] ? strdup(o->box.message) : NULL;
        if (o->box.message[0] && !out->message)
                return -ENOMEM;

        int st = judge_status_of_run(&o->box);
        /* Judge0 writes stdout to a file capped by max_file_size, so too much output
         * ends in SIGXFSZ there; our cap (the same size by default) reads the same way. */
        if (o->box.status == BOX_STATUS_OL) {
                st = STATUS_SIGXFSZ;
                out->exit_signal = SIGXFSZ; /* what Judge0 reports with status 8 */
        }
        if (st == 0 && !s->checker && !s->interactor) { /* else decided by them (check_test()) */
                const char *exp = t ? t->expected : s->expected;
                size_t exp_len = t ? t->expected_len : s->expected_len;
                bool has = t ? t->has_expected : s->has_expected;
                if (!has)
                        st = STATUS_ACCEPTED;
                else if (s->compare == JUDGE_COMPARE_DEFAULT && out->stdout_len == 0)
                        /* Judge0 stores an empty stdout as null, which equals no expected
                         * output, not even "" (isolate_job.rb's determine_status). */
                        st = STATUS_WRONG_ANSWER;
                else
                        st = judge_compare(s->compare, s->tolerance,
                                     out->stdout_data ? out->stdout_data : "", out->stdout_len,
                                     exp ? exp : "", exp_len)
                                     ? STATUS_ACCEPTED
                                     : STATUS_WRONG_ANSWER;
        }
        out->status_id = st;
        out->points = st == STATUS_ACCEPTED ? 1 : 0;
        return 0;
}

/* The compile command of a language in build, under the compile limits. The output
 * (stderr merged) goes to *ret_output; a compilation stopped by its time limit reads
 * like Judge0's. */
static int compile_step(Judge *j, const Language *lang, const char *cmd, const Workdir *build,
        const JudgeLive *live, char **ret_output, size_t *ret_len, BoxResult *ret_box) {
        Limits cl = compile_limits(j, lang);
        RunOutput o = {};
        if (live)
                live->stage(live->userdata, false);
        int r = sandbox_sh(
                j, lang, cmd, false, build, &cl, NULL, 0, true, false, COMPILE_OUTPUT_MAX_KIB, &o);
        if (r < 0)
                return r;
        if (o.box.status == BOX_STATUS_TO) {
                free(o.out);
                o.out = strdup("Compilation time limit exceeded.");
                o.out_len = o.out ? strlen(o.out) : 0;
        } else if (o.box.status == BOX_STATUS_ML) {
                /* The whole compiler is stopped at its memory limit (the driver too, so it
                 * says nothing of it): what it printed before, then why it stopped. */
                static const char ml[] = "Compilation memory limit exceeded.";
                char *n = realloc(o.out, o.out_len + sizeof ml + 1);
                if (n) {
                        if (o.out_len > 0 && n[o.out_len - 1] != '\n')
                                n[o.out_len++] = '\n';
                        memcpy(n + o.out_len, ml, sizeof ml);
                        o.out = n;
                        o.out_len += sizeof ml - 1;
                }
        }
        free(*ret_output);
        *ret_output = TAKE_PTR(o.out);
        *ret_len = o.out_len;
        *ret_box = o.box;
        run_output_done(&o);
        if (live)
                live->exited(live->userdata, false, ret_box, *ret_output, *ret_len);
        return 0;
}

/* A checker or an interactor, ready to run: its compiled directory and its command. */
typedef struct Helper {
        const JudgeProgram *p;
        const char *who; /* "Checker", "Interactor": the start of its failure messages */
        Limits limits; /* its own, raised to what its language's runtime needs */
        Workdir build;
        char *run_cmd;
} Helper;

static void helper_done(Judge *j, Helper *h) {
        workdir_drop(j, &h->build);
        free(h->run_cmd);
        h->run_cmd = NULL;
}

/* The files a helper reads, in testlib's order: input, the program's output, the answer. */
#define HELPER_ARGS "input.txt output.txt answer.txt"
#define HELPER_COMPILE_MESSAGE_MAX 1024
/* A helper's captured stdout and stderr: its message is one line, more is its fault. */
#define HELPER_OUTPUT_KIB 64

/* Compile a helper once (through the cache, like a submission). Returns 0 when ready, 1
 * with *ret_msg when it cannot be used (it does not compile: the submission's Internal
 * Error), -errno otherwise. */
static int helper_prepare(Judge *j, const JudgeProgram *p, const char *who, Helper *ret, char **ret_msg) {
        const Language *lang = p->language;
        _cleanup_free_ char *compile_cmd = NULL, *output = NULL;
        size_t output_len = 0;
        uint8_t key[CACHE_KEY_SIZE];
        bool hit = false;
        int r;

        ret->p = p;
        ret->who = who;
        ret->limits = p->limits;
        if (lang) {
                ret->limits = with_minimums(p->limits, lang->run_processes_min, lang->run_memory_kib_min);
                if (lang->run_fsize_kib_min && ret->limits.fsize_kib < lang->run_fsize_kib_min)
                        ret->limits.fsize_kib = lang->run_fsize_kib_min;
        }
        if (!lang || lang->is_project || !p->source)
                return set_message(
                               ret_msg, "%s failed: it must be the source of a single-file program", who) < 0
                               ? -ENOMEM
                               : 1;
        if (lang->compile_cmd &&
                !(compile_cmd = expand_compile(lang->compile_cmd, compile_limits(j, lang).memory_kib, "")))
                return -ENOMEM;
        ret->run_cmd = expand_run(lang->run_cmd, ret->limits.memory_kib, HELPER_ARGS);
        if (!ret->run_cmd)
                return -ENOMEM;
        r = workdir_make(j, "helper", &ret->build);
        if (r < 0)
                return r;
        if (compile_cmd && j->cache) {
                cache_key(&(CacheKeyInput){.language_id = lang->id,
                                  .language_version = lang->version,
                                  .compile_cmd = compile_cmd,
                                  .compiler_options = "",
                                  .source = p->source,
                                  .source_len = p->source_len},
                        key);
                hit = cache_lookup(j->cache, key, ret->build.fd, &output, &output_len) == 1;
        }
        if (hit)
                return 0;
        _cleanup_close_ int fd = openat(ret->build.fd, lang->source_file,
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        r = write_all(fd, p->source, p->source_len);
        if (r < 0)
                return r;
        if (!compile_cmd)
                return 0;
        BoxResult box;
        r = compile_step(j, lang, compile_cmd, &ret->build, NULL, &output, &output_len, &box);
        if (r < 0)
                return r;
        if (box.status != BOX_STATUS_OK)
                return set_message(ret_msg, "%s failed: it does not compile: %.*s", who,
                               (int) MIN(output_len, (size_t) HELPER_COMPILE_MESSAGE_MAX),
                               output ? output : box.message) < 0
                               ? -ENOMEM
                               : 1;
        if (j->cache)
                (void) cache_store(j->cache, key, ret->build.fd, output, output_len);
        return 0;
}

/* A fresh copy of a helper's directory for one test, with its input files; output.txt
 * only with_output (an interactor writes its own: testlib's tout). Returns 1 with *ret_msg
 * when the files cannot be made there (a name the helper's own files take). */
static int helper_workdir(Judge *j, const Helper *h, const char *in, size_t in_len, bool with_output,
        const char *out, size_t out_len, const char *answer, size_t answer_len, Workdir *ret,
        char **ret_msg) {
        const struct {
                const char *name, *data;
                size_t len;
                bool make;
        } files[] = {
                {"input.txt", in, in_len, true},
                {"output.txt", out, out_len, with_output},
                {"answer.txt", answer, answer_len, true},
        };
        Workdir w = {.fd = -EBADF};
        int r = workdir_make(j, "check", &w);
        if (r < 0)
                return r;
        r = tree_copy(h->build.fd, w.fd, 0, 0);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(files); i++) {
                if (!files[i].make)
                        continue;
                _cleanup_close_ int fd = openat(
                        w.fd, files[i].name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                if (fd < 0) {
                        r = set_message(ret_msg, "%s failed: cannot make its %s: %s", h->who, files[i].name,
                                strerror(errno));
                        workdir_drop(j, &w);
                        return r < 0 ? r : 1;
                }
                if (files[i].len > 0)
                        r = write_all(fd, files[i].data, files[i].len);
        }
        if (r < 0) {
                workdir_drop(j, &w);
                return r;
        }
        *ret = w;
        return 0;
}

/* Apply a checker's (or interactor's) decision to the test's outcome. */
static int apply_check(JudgeOutcome *out, JudgeCheck *c) {
        out->status_id = c->status_id;
        out->points = c->points;
        free(out->message);
        out->message = TAKE_PTR(c->message);
        return 0;
}

/* Run the checker on a test the program ran cleanly (output: its stdout, or what the
 * interactor wrote). */
static int check_test(Judge *j, const Helper *h, const char *in, size_t in_len, const char *output,
        size_t output_len, const char *answer, size_t answer_len, JudgeOutcome *out) {
        _cleanup_free_ char *msg = NULL;
        Workdir w = {.fd = -EBADF};
        int r = helper_workdir(j, h, in, in_len, true, output, output_len, answer, answer_len, &w, &msg);
        if (r < 0)
                return r;
        if (r > 0) {
                JudgeCheck c = {.status_id = STATUS_INTERNAL_ERROR, .message = TAKE_PTR(msg)};
                return apply_check(out, &c);
        }
        RunOutput o = {};
        r = sandbox_sh(j, h->p->language, h->run_cmd, true, &w, &h->limits, NULL, 0, false, false,
                HELPER_OUTPUT_KIB, &o);
        workdir_drop(j, &w);
        if (r < 0)
                return r;
        JudgeCheck c;
        r = judge_check_decide(h->who, &o.box, o.err, o.err_len, o.out, o.out_len, &c);
        run_output_done(&o);
        if (r < 0)
                return r;
        return apply_check(out, &c);
}

/* A regular file a sandboxed program left in its directory, read as hostile: never
 * through a symlink, never a FIFO or a device, at most max bytes (-EFBIG past it). */
static int read_box_file(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len) {
        _cleanup_close_ int fd =
                openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EBADFD;
        if ((uint64_t) st.st_size > max)
                return -EFBIG;
        size_t n = (size_t) st.st_size, got = 0;
        _cleanup_free_ char *buf = malloc(n + 1);
        if (!buf)
                return -ENOMEM;
        while (got < n) {
                ssize_t k = pread(fd, buf + got, n - got, (off_t) got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break; /* it shrank */
                got += (size_t) k;
        }
        buf[got] = '\0';
        *ret = TAKE_PTR(buf);
        *ret_len = got;
        return 0;
}

/* The interactor's side of an interactive run, on a thread of its own. */
typedef struct PeerRun {
        const Judge *j;
        const Helper *h;
        const Workdir *w;
        int in_fd, out_fd, err_fd; /* in_fd and out_fd: closed once the run is over */
        uint64_t output_kib;
        BoxResult box;
        int r;
        atomic_bool done; /* the run is over */
} PeerRun;

static void *peer_run(void *arg) {
        PeerRun *p = arg;
        p->r = sandbox_exec(p->j, p->j->runner.peer_userdata, p->h->p->language, p->h->run_cmd, true, p->w,
                &p->h->limits,
                &(RunStreams){.in_fd = p->in_fd,
                        .out_fd = p->out_fd,
                        .err_fd = p->err_fd,
                        .output_kib = p->output_kib},
                &p->box);
        /* The program sees the end of its input once the interactor is gone. */
        p->in_fd = safe_close(p->in_fd);
        p->out_fd = safe_close(p->out_fd);
        atomic_store(&p->done, true);
        return NULL;
}

/* Run the program and the interactor at once, each in its own sandbox and slot: the
 * interactor's stdout is the program's stdin and the program's stdout the interactor's
 * stdin (two pipes). The program's stdout is not captured; its stderr is. Then decide:
 * the program stopped by the wall clock first (with the interactor still running too: a
 * deadlock most likely, said so); the interactor's failure next (the submission's Internal
 * Error); the program's own time, memory or output limit, crash or non-zero exit next,
 * unless the interactor said wrong answer and the program ended with an error exit or
 * SIGPIPE (what writing to an interactor gone does); then the interactor's verdict. */
static int interact_test(Judge *j, const JudgeSubmission *s, const JudgeTest *t, const Helper *h,
        const Helper *checker, const char *run_cmd, const Workdir *w, const Limits *rl, uint64_t output_kib,
        JudgeOutcome *out) {
        const char *in = t ? t->stdin_data : s->stdin_data;
        size_t in_len = t ? t->stdin_len : s->stdin_len;
        const char *exp = t ? t->expected : s->expected;
        size_t exp_len = t ? t->expected_len : s->expected_len;
        _cleanup_free_ char *msg = NULL, *peer_errs = NULL, *tout = NULL;
        size_t tout_len = 0;
        _cleanup_close_ int to_prog_r = -EBADF, to_prog_w = -EBADF, from_prog_r = -EBADF,
                            from_prog_w = -EBADF, err_fd = -EBADF, peer_err = -EBADF;
        Workdir hw = {.fd = -EBADF};
        RunOutput o = {};
        JudgeCheck c = {};
        PeerRun peer;
        pthread_t thread;
        size_t peer_err_len = 0;
        int fds[2], r;
        /* What the two say to each other is not stored: each side may write the judge's
         * output cap (64 MiB by default), not the submission's file size. */
        uint64_t channel_kib =
                MAX(output_kib, j->cfg.default_output_kib ? j->cfg.default_output_kib : DEFAULT_OUTPUT_KIB);

        if (!j->runner.peer_userdata) {
                c.status_id = STATUS_INTERNAL_ERROR;
                if (set_message(&c.message, "Interactor failed: this judge has no second sandbox slot") < 0)
                        return -ENOMEM;
                return apply_check(out, &c);
        }
        r = helper_workdir(j, h, in, in_len, false, NULL, 0, exp, exp_len, &hw, &msg);
        if (r < 0)
                return r;
        if (r > 0) {
                c = (JudgeCheck){.status_id = STATUS_INTERNAL_ERROR, .message = TAKE_PTR(msg)};
                return apply_check(out, &c);
        }
        if (pipe2(fds, O_CLOEXEC) < 0) {
                r = -errno;
                goto finish;
        }
        to_prog_r = fds[0];
        to_prog_w = fds[1];
        if (pipe2(fds, O_CLOEXEC) < 0) {
                r = -errno;
                goto finish;
        }
        from_prog_r = fds[0];
        from_prog_w = fds[1];
        err_fd = memfd_create("stderr", MFD_CLOEXEC);
        peer_err = memfd_create("interactor-stderr", MFD_CLOEXEC);
        if (err_fd < 0 || peer_err < 0) {
                r = -errno;
                goto finish;
        }

        peer = (PeerRun){.j = j,
                .h = h,
                .w = &hw,
                .in_fd = TAKE_FD(from_prog_r),
                .out_fd = TAKE_FD(to_prog_w),
                .err_fd = peer_err,
                .output_kib = channel_kib};
        r = -pthread_create(&thread, NULL, peer_run, &peer);
        if (r < 0) {
                safe_close(peer.in_fd);
                safe_close(peer.out_fd);
                goto finish;
        }
        r = sandbox_exec(j, j->runner.userdata, s->language, run_cmd, true, w, rl,
                &(RunStreams){.in_fd = to_prog_r,
                        .out_fd = from_prog_w,
                        .err_fd = s->redirect_stderr_to_stdout ? -EBADF : err_fd,
                        .merge_stderr = s->redirect_stderr_to_stdout,
                        .network = s->enable_network,
                        .output_kib = channel_kib},
                &o.box);
        /* Whether the interactor was still running when the program ended. */
        bool peer_running = !atomic_load(&peer.done);
        /* The interactor sees the end of the program's output once the program is gone. */
        to_prog_r = safe_close(to_prog_r);
        from_prog_w = safe_close(from_prog_w);
        (void) pthread_join(thread, NULL);
        if (r >= 0)
                r = peer.r;
        if (r >= 0)
                r = slurp(err_fd, &o.err, &o.err_len);
        if (r >= 0)
                r = decide(s, t, &o, out);
        if (r >= 0)
                r = slurp(peer_err, &peer_errs, &peer_err_len);
        if (r >= 0)
                r = judge_check_decide(h->who, &peer.box, peer_errs, peer_err_len, NULL, 0, &c);
        if (r < 0)
                goto finish;
        bool waited = o.box.status == BOX_STATUS_TO && o.box.limit == BOX_LIMIT_WALL;
        /* A program that writes to an interactor gone gets EPIPE (an error exit) or SIGPIPE. */
        bool broken_pipe = c.status_id == STATUS_WRONG_ANSWER &&
                           (o.box.status == BOX_STATUS_RE ||
                                   (o.box.status == BOX_STATUS_SG && o.box.signal == SIGPIPE));
        if (waited) {
                /* Whatever the interactor said after the program was stopped (the end of its
                 * input, most likely) is not its failure. */
                out->points = 0;
                r = set_message(&out->message, "%s",
                        peer_running ? "Time limit exceeded (wall clock): the program and the interactor "
                                       "were both still running at the wall time limit (a deadlock: "
                                       "each waiting for the other to write?)"
                                     : "Time limit exceeded (wall clock): the program was still running "
                                       "after the interactor had finished");
        } else if (c.status_id == STATUS_INTERNAL_ERROR || out->status_id == 0 || broken_pipe)
                r = apply_check(out, &c);
        else
                out->points = 0; /* the program's own failure stands */
        if (r < 0 || !checker || out->status_id != STATUS_ACCEPTED)
                goto finish;
        /* With a checker too, the interactor's accept hands over: the checker decides from
         * what the interactor wrote to its output.txt (testlib's tout). */
        r = read_box_file(hw.fd, "output.txt", channel_kib * 1024, &tout, &tout_len);
        if (r == -ENOENT)
                r = 0; /* it wrote nothing */
        else if (r < 0 && r != -ENOMEM) {
                out->status_id = STATUS_INTERNAL_ERROR;
                out->points = 0;
                r = set_message(&out->message, "%s failed: its output.txt cannot be read: %s", h->who,
                        r == -ELOOP || r == -EBADFD ? "not a regular file" : strerror(-r));
                goto finish;
        }
        if (r >= 0)
                r = check_test(j, checker, in, in_len, tout ? tout : "", tout_len, exp, exp_len, out);
finish:
        judge_check_done(&c);
        run_output_done(&o);
        workdir_drop(j, &hw);
        return r;
}

static int validate(const JudgeSubmission *s, char **msg) {
        const Language *l = s->language;
        if (!l)
                return set_message(msg, "no language"), -EINVAL;
        if (l->is_project) {
                if (s->source && s->source_len)
                        return set_message(msg, "source_code must be blank for a multi-file program"),
                               -EINVAL;
                if (!s->additional_files || !s->additional_files_len)
                        return set_message(msg, "additional_files can't be blank for a multi-file program"),
                               -EINVAL;
        } else if (!s->source)
                return set_message(msg, "source_code can't be blank"), -EINVAL;
        if (s->n_tests > MAX_TESTS)
                return set_message(msg, "at most %d test cases", MAX_TESTS), -E2BIG;
        if (s->number_of_runs > MAX_RUNS)
                return set_message(msg, "number_of_runs must be at most %d", MAX_RUNS), -ERANGE;
        if (s->live && (s->n_tests > 0 || s->number_of_runs > 1 || s->checker || s->interactor))
                return set_message(msg,
                               "an interactive run has one test, one run, no checker and no interactor"),
                       -EINVAL;
        if ((s->compiler_options && strlen(s->compiler_options) > MAX_USER_STRING) ||
                (s->command_line_arguments && strlen(s->command_line_arguments) > MAX_USER_STRING))
                return set_message(msg, "is too long (maximum is %d characters)", MAX_USER_STRING), -E2BIG;
        return 0;
}

/* The whole submission failed before any test ran: every test gets the status. */
static int fail_all(JudgeResult *res, size_t n, int status, const char *message) {
        res->status_id = status;
        for (size_t i = 0; i < n; i++) {
                res->tests[i].status_id = status;
                res->tests[i].exit_code = -1;
                if (message && !(res->tests[i].message = strdup(message)))
                        return -ENOMEM;
        }
        return 0;
}

int judge_submission(Judge *j, const JudgeSubmission *s, JudgeResult *ret) {
        JudgeResult res = {};
        Workdir build = {.fd = -EBADF};
        _cleanup_free_ char *opts = NULL, *args = NULL, *compile_cmd = NULL, *run_cmd = NULL, *msg = NULL;
        const Language *lang = s->language;
        Helper helpers_ready[2] = {{.build = {.fd = -EBADF}}, {.build = {.fd = -EBADF}}};
        int r;

        size_t n = s->n_tests ? s->n_tests : 1;
        res.tests = calloc(n, sizeof *res.tests);
        if (!res.tests)
                return -ENOMEM;
        res.n_tests = n;
        for (size_t i = 0; i < n; i++)
                res.tests[i].exit_code = -1;

        r = validate(s, &msg);
        if (r < 0) {
                r = fail_all(&res, n, STATUS_INTERNAL_ERROR, msg);
                goto done;
        }
        opts = sanitize(s->compiler_options);
        args = sanitize(s->command_line_arguments);
        if (!opts || !args) {
                r = -ENOMEM;
                goto fail;
        }

        /* 1. What to compile. A single-file language's command depends only on the
         * catalogue and the submission (its run command on each test's limits: below); a
         * multi-file program's on its files (below). */
        if (!lang->is_project && lang->compile_cmd &&
                !(compile_cmd = expand_compile(
                          lang->compile_cmd, compile_limits(j, lang).memory_kib, opts))) {
                r = -ENOMEM;
                goto fail;
        }

        /* 2. A compilation in the cache makes the whole directory: look before writing
         * anything. The key covers everything that decides the artifacts. */
        uint8_t key[CACHE_KEY_SIZE];
        bool cacheable = j->cache != NULL && (compile_cmd || lang->is_project);
        if (cacheable) {
                cache_key(&(CacheKeyInput){.language_id = lang->id,
                                  .language_version = lang->version,
                                  .compile_cmd = lang->is_project ? "multi-file program" : compile_cmd,
                                  .compiler_options = opts,
                                  .source = s->source,
                                  .source_len = s->source_len,
                                  .additional_files = s->additional_files,
                                  .additional_files_len = s->additional_files_len},
                        key);
                _cleanup_free_ char *out = NULL;
                size_t out_len = 0;
                Workdir cached = {.fd = -EBADF};
                if (workdir_make(j, "cached", &cached) == 0) {
                        if (cache_lookup(j->cache, key, cached.fd, &out, &out_len) == 1) {
                                build = cached;
                                res.cache_hit = true;
                                res.compiled = true;
                                res.compile_output = TAKE_PTR(out);
                                res.compile_output_len = out_len;
                        } else
                                build = cached; /* a miss: build there */
                }
        }
        if (build.fd < 0) {
                r = workdir_make(j, "build", &build);
                if (r < 0)
                        goto fail;
        }

        /* 3. The source and the additional files. */
        if (!res.cache_hit) {
                if (!lang->is_project) {
                        _cleanup_close_ int fd = openat(build.fd, lang->source_file,
                                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                        if (fd < 0 || write_all(fd, s->source, s->source_len) < 0) {
                                r = fail_all(&res, n, STATUS_INTERNAL_ERROR, "cannot write the source file");
                                goto done;
                        }
                }
                if (s->additional_files && s->additional_files_len) {
                        char err[256] = "";
                        r = judge_extract_zip(build.fd, s->additional_files, s->additional_files_len,
                                j->cfg.max_extract_bytes, j->cfg.max_extract_files, err, sizeof err);
                        if (r < 0) {
                                r = set_message(&msg, "additional_files: %s", err[0] ? err : strerror(-r));
                                if (r == 0)
                                        r = fail_all(&res, n, STATUS_INTERNAL_ERROR, msg);
                                goto done;
                        }
                }
        }

        /* Multi-file programs bring their own scripts. */
        if (lang->is_project) {
                const char *compile = file_exists_at(build.fd, "compile")      ? "compile"
                                      : file_exists_at(build.fd, "compile.sh") ? "compile.sh"
                                                                               : NULL;
                const char *run = file_exists_at(build.fd, "run")      ? "run"
                                  : file_exists_at(build.fd, "run.sh") ? "run.sh"
                                                                       : NULL;
                if (!run) {
                        r = fail_all(&res, n, STATUS_INTERNAL_ERROR,
                                "additional_files: a multi-file program needs a run script");
                        goto done;
                }
                if (compile && asprintf(&compile_cmd, "/bin/bash %s", compile) < 0)
                        compile_cmd = NULL;
                if (asprintf(&run_cmd, "/bin/bash %s%s%s", run, *args ? " " : "", args) < 0)
                        run_cmd = NULL;
                if ((compile && !compile_cmd) || !run_cmd) {
                        r = -ENOMEM;
                        goto fail;
                }
        }

        /* An interactive run hears of its compile stage from the cache too. */
        if (compile_cmd && res.cache_hit && s->live) {
                s->live->stage(s->live->userdata, false);
                s->live->exited(s->live->userdata, false, &(BoxResult){.status = BOX_STATUS_OK},
                        res.compile_output, res.compile_output_len);
        }

        /* 4. Compile once, unless the cache had it. */
        if (compile_cmd && !res.cache_hit) {
                BoxResult box;
                r = compile_step(j, lang, compile_cmd, &build, s->live, &res.compile_output,
                        &res.compile_output_len, &box);
                if (r < 0)
                        goto fail;
                if (box.status == BOX_STATUS_XX) {
                        r = fail_all(&res, n, STATUS_INTERNAL_ERROR, box.message);
                        goto done;
                }
                if (box.status != BOX_STATUS_OK) {
                        r = fail_all(&res, n, STATUS_COMPILATION_ERROR, NULL);
                        goto done;
                }
                res.compiled = true;
                if (cacheable)
                        (void) cache_store(
                                j->cache, key, build.fd, res.compile_output, res.compile_output_len);
        }

        /* The checker and the interactor, compiled once each (and cached). A checker that
         * cannot be used is the submission's Internal Error, never the contestant's fault. */
        const JudgeProgram *helpers[] = {s->checker, s->interactor};
        const char *helper_names[] = {"Checker", "Interactor"};
        for (size_t k = 0; k < ELEMENTSOF(helpers); k++) {
                if (!helpers[k])
                        continue;
                r = helper_prepare(j, helpers[k], helper_names[k], &helpers_ready[k], &msg);
                if (r < 0)
                        goto fail;
                if (r > 0) {
                        r = fail_all(&res, n, STATUS_INTERNAL_ERROR, msg);
                        goto done;
                }
        }

        /* 5. Each test in a fresh sandbox and, unless it is the only run, a fresh copy of
         * the compiled directory: nothing a run writes reaches another run or the cache. */
        uint32_t runs = s->number_of_runs ? s->number_of_runs : 1;
        bool single = n == 1 && runs == 1;
        size_t first_failure = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
                const JudgeTest *t = s->n_tests ? &s->tests[i] : NULL;
                const Limits *lim = t && t->limits ? t->limits : &s->limits;
                Limits rl = with_minimums(*lim, lang->run_processes_min, lang->run_memory_kib_min);
                if (lang->run_fsize_kib_min && rl.fsize_kib && rl.fsize_kib < lang->run_fsize_kib_min) {
                        /* The output cap stays at the submission's size (below). */
                        if (!rl.output_kib)
                                rl.output_kib = rl.fsize_kib;
                        rl.fsize_kib = lang->run_fsize_kib_min;
                }
                uint64_t output_kib = rl.output_kib  ? rl.output_kib
                                      : rl.fsize_kib ? rl.fsize_kib
                                                     : (j->cfg.default_output_kib ? j->cfg.default_output_kib
                                                                                  : DEFAULT_OUTPUT_KIB);
                const char *in = t ? t->stdin_data : s->stdin_data;
                size_t in_len = t ? t->stdin_len : s->stdin_len;
                JudgeOutcome *out = &res.tests[i];
                /* The program itself is the sandbox's top process (exec'd directly, or by the
                 * shell's exec), so its signals are reported as such (Judge0's bash wrapper
                 * turns them into NZEC). */
                _cleanup_free_ char *test_cmd = NULL;
                if (!lang->is_project && !(test_cmd = expand_run(lang->run_cmd, rl.memory_kib, args))) {
                        r = -ENOMEM;
                        goto fail;
                }
                const char *cmd = test_cmd ? test_cmd : run_cmd;
                uint64_t time_sum = 0, mem_sum = 0;
                uint32_t done_runs = 0;

                if (first_failure != SIZE_MAX && s->stop_on_failure)
                        break;
                for (uint32_t k = 0; k < runs; k++) {
                        Workdir w = {.fd = -EBADF};
                        if (single)
                                w = build;
                        else {
                                r = workdir_make(j, "run", &w);
                                if (r < 0)
                                        goto fail;
                                r = tree_copy(build.fd, w.fd, 0, 0);
                                if (r < 0) {
                                        /* What the compile step made cannot be copied within
                                         * the bounds (too deep, too many, no room left):
                                         * the submission's doing, answered as such. */
                                        workdir_drop(j, &w);
                                        r = set_message(&msg, "cannot copy the compiled files for a run: %s",
                                                r == -ELOOP ? "they nest too deep" : strerror(-r));
                                        if (r == 0)
                                                r = fail_all(&res, n, STATUS_INTERNAL_ERROR, msg);
                                        goto done;
                                }
                        }
                        if (s->interactor) {
                                r = interact_test(j, s, t, &helpers_ready[1],
                                        s->checker ? &helpers_ready[0] : NULL, cmd, &w, &rl, output_kib,
                                        out);
                                if (!single)
                                        workdir_drop(j, &w);
                                if (r < 0)
                                        goto fail;
                        } else {
                                RunOutput o = {};
                                r = s->live ? sandbox_live(j, lang, cmd, &w, &rl, s, output_kib, &o)
                                            : sandbox_sh(j, lang, cmd, true, &w, &rl, in, in_len,
                                                      s->redirect_stderr_to_stdout, s->enable_network,
                                                      output_kib, &o);
                                if (!single)
                                        workdir_drop(j, &w);
                                if (r < 0)
                                        goto fail;
                                r = decide(s, t, &o, out);
                                run_output_done(&o);
                                if (r >= 0 && s->checker && out->status_id == 0)
                                        r = check_test(j, &helpers_ready[0], in, in_len, out->stdout_data,
                                                out->stdout_len, t ? t->expected : s->expected,
                                                t ? t->expected_len : s->expected_len, out);
                                if (r < 0)
                                        goto fail;
                        }
                        time_sum += out->time_usec;
                        mem_sum += out->memory_kib;
                        done_runs++;
                        /* Judge0 stops repeating at the first run that is not accepted. */
                        if (out->status_id != STATUS_ACCEPTED)
                                break;
                }
                out->time_usec = time_sum / done_runs;
                out->memory_kib = mem_sum / done_runs;
                if (s->on_test)
                        s->on_test(s->on_test_userdata, i, out);
                if (out->status_id != STATUS_ACCEPTED && first_failure == SIZE_MAX)
                        first_failure = i;
        }
        for (size_t i = 0; i < n; i++)
                res.score += res.tests[i].points;
        res.overall_index = first_failure != SIZE_MAX ? first_failure : n - 1;
        res.status_id = first_failure != SIZE_MAX ? res.tests[first_failure].status_id : STATUS_ACCEPTED;
        r = 0;
done:
        workdir_drop(j, &build);
        helper_done(j, &helpers_ready[0]);
        helper_done(j, &helpers_ready[1]);
        if (r < 0)
                goto fail_nodrop;
        *ret = res;
        return 0;
fail:
        workdir_drop(j, &build);
        helper_done(j, &helpers_ready[0]);
        helper_done(j, &helpers_ready[1]);
fail_nodrop:
        judge_result_done(&res);
        return r;
}
