/* SPDX-License-Identifier: MIT */
/* The child side of a run: everything between clone and execve.
 *
 * The cloned child is the init (pid 1) of a new pid namespace. It builds the new root,
 * forks the program, drops its own capabilities and waits: when the program exits, init
 * reports its wait status and exits, and the kernel kills whatever else is left in the
 * namespace. The program is never pid 1, so it keeps ordinary signal semantics.
 *
 * Only system calls and memory prepared by the parent are used here: no allocation, no
 * stdio, no locks. Failures go to the error pipe as a JailError, then _exit(). */

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/sandbox-internal.h"

static const char *const stage_names[_STAGE_MAX] = {
        [STAGE_NETNS] = "joining the network namespace",
        [STAGE_USERNS] = "setting up the user namespace",
        [STAGE_PROPAGATION] = "making mounts private",
        [STAGE_ROOT] = "mounting the new root",
        [STAGE_MOUNT] = "mounting",
        [STAGE_HOSTNAME] = "setting the hostname",
        [STAGE_PIVOT] = "pivot_root",
        [STAGE_FORK] = "forking the program",
        [STAGE_STDIO] = "setting up standard streams",
        [STAGE_RLIMIT] = "setting resource limits",
        [STAGE_CHDIR] = "entering /box",
        [STAGE_CAPS] = "dropping capabilities",
        [STAGE_IDS] = "switching to the box user",
        [STAGE_NNP] = "setting no_new_privs",
        [STAGE_SECCOMP] = "installing the seccomp filter",
        [STAGE_EXEC] = "cannot execute",
};

const char *jail_stage_to_string(int stage) {
        if (stage <= 0 || stage >= _STAGE_MAX)
                return "sandbox setup";
        return stage_names[stage];
}

static size_t str_len(const char *s) {
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

_Noreturn static void fail(const JailPlan *plan, int stage, int error, const char *detail) {
        JailError e = {.stage = stage, .error = error};
        if (detail) {
                size_t n = str_len(detail);
                if (n >= sizeof e.detail)
                        n = sizeof e.detail - 1;
                memcpy(e.detail, detail, n);
        }
        (void) !write(plan->error_fd, &e, sizeof e);
        _exit(127);
}

static int write_file(const char *path, const char *s) {
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, s, str_len(s));
        int r = n < 0 ? -errno : 0;
        close(fd);
        return r;
}

/* "/proc/self/fd/N" without snprintf. */
static void fd_path(int fd, char buf[32]) {
        char digits[12];
        int n = 0;
        do {
                digits[n++] = (char) ('0' + fd % 10);
                fd /= 10;
        } while (fd > 0);
        memcpy(buf, "/proc/self/fd/", 14);
        for (int i = 0; i < n; i++)
                buf[14 + i] = digits[n - 1 - i];
        buf[14 + n] = '\0';
}

/* prepared: the run entered a root prepared ahead (its bind sources are detached copies
 * of the host's mounts, its tmpfs areas have the default size). */
static void do_mount(const JailPlan *plan, const JailMount *m, bool prepared) {
        char src[32];
        int r;

        switch (m->kind) {
        case JM_REMOUNT_RO:
                if (mount(NULL, m->target, NULL,
                            MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NOEXEC |
                                    (m->dev ? 0 : MS_NODEV),
                            NULL) < 0)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                return;
        case JM_DIR:
                if (mkdir(m->target, 0755) < 0 && errno != EEXIST)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                return;
        case JM_SYMLINK:
                if (symlink(m->data, m->target) < 0)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                return;
        case JM_FILE: {
                int fd = open(m->target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
                if (fd < 0)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                size_t n = str_len(m->data);
                if (n > 0 && write(fd, m->data, n) != (ssize_t) n)
                        fail(plan, STAGE_MOUNT, errno ? errno : EIO, m->target);
                close(fd);
                return;
        }
        case JM_DEVNODE:
                if (mknod(m->target, S_IFCHR | 0666, m->rdev) < 0)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                return;
        case JM_TMPFS:
                if (mkdir(m->target, 0755) < 0 && errno != EEXIST)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                if (mount("tmpfs", m->target, "tmpfs",
                            MS_NOSUID | (m->dev ? 0 : MS_NODEV) | (m->rw ? 0 : MS_NOEXEC), m->data) < 0)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                return;
        case JM_RESIZE:
                /* The flags are the tmpfs mount's own (a remount sets them all again). */
                if (prepared &&
                        mount(NULL, m->target, NULL,
                                MS_REMOUNT | MS_NOSUID | (m->dev ? 0 : MS_NODEV) | (m->rw ? 0 : MS_NOEXEC),
                                m->data) < 0)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                return;
        case JM_PROC:
                if (mkdir(m->target, 0555) < 0 && errno != EEXIST)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                if (mount("proc", m->target, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=2") < 0)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                return;
        case JM_BIND:
                if (m->src_is_dir)
                        r = mkdir(m->target, 0755) < 0 && errno != EEXIST ? -1 : 0;
                else {
                        int fd = open(m->target, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
                        r = fd < 0 ? -1 : 0;
                        if (fd >= 0)
                                close(fd);
                }
                if (r < 0)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                if (prepared) {
                        /* A copy of the source made in the host's namespace (open_tree),
                         * not attached anywhere yet: attach it here. */
                        if (move_mount(m->src_fd, "", AT_FDCWD, m->target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                                fail(plan, STAGE_MOUNT, errno, m->target);
                } else {
                        fd_path(m->src_fd, src);
                        /* Not recursive: what is mounted below a bound directory stays hidden. */
                        if (mount(src, m->target, NULL, MS_BIND, NULL) < 0)
                                fail(plan, STAGE_MOUNT, errno, m->target);
                }
                unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID | m->locked_flags;
                if (!m->rw)
                        flags |= MS_RDONLY;
                if (!m->dev)
                        flags |= MS_NODEV;
                if (mount(NULL, m->target, NULL, flags, NULL) < 0)
                        fail(plan, STAGE_MOUNT, errno, m->target);
                return;
        }
}

/* Which mounts of the plan a step makes: all of them (a root built by the run itself),
 * those that are not per_run (a root prepared ahead), or the per_run ones (a run that
 * enters a prepared root). */
typedef enum RootPart {
        ROOT_ALL,
        ROOT_TEMPLATE,
        ROOT_RUN,
} RootPart;

static bool in_part(const JailMount *m, RootPart part) {
        return part == ROOT_ALL || m->per_run == (part == ROOT_RUN);
}

/* Open the bind sources of `part` now, in our mount namespace (a mount of another
 * namespace cannot be bound) and before /tmp is covered by the new root. The caller's own
 * paths are opened with the caller's identity. For a prepared root (ROOT_RUN), each source
 * is a detached private copy of the mount (open_tree), which can be attached in another
 * namespace; propagation private, so that nothing mounted later on the host under it
 * shows in the box. */
static void open_sources(JailPlan *plan, RootPart part) {
        for (size_t i = 0; i < plan->n_mounts; i++) {
                JailMount *m = &plan->mounts[i];
                if (m->kind != JM_BIND || !in_part(m, part))
                        continue;
                bool peer = m->as_peer && plan->peer_uid != 0;
                if (peer) {
                        (void) setfsgid(plan->peer_gid);
                        (void) setfsuid(plan->peer_uid);
                }
                if (part == ROOT_RUN)
                        m->src_fd = open_tree(AT_FDCWD, m->src_path, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
                else
                        m->src_fd = open(m->src_path, O_PATH | O_CLOEXEC);
                int err = errno;
                if (peer) {
                        (void) setfsuid(0);
                        (void) setfsgid(0);
                }
                if (m->src_fd < 0)
                        fail(plan, STAGE_MOUNT, err, m->src_path);
                struct mount_attr private = {.propagation = MS_PRIVATE};
                if (part == ROOT_RUN &&
                        mount_setattr(m->src_fd, "", AT_EMPTY_PATH, &private, sizeof private) < 0)
                        fail(plan, STAGE_PROPAGATION, errno, m->src_path);
        }
}

/* Build the root in our own (new, copied) mount namespace and move into it: every
 * mount of `part`, pivot_root, the old root detached. The root stays writable. */
static void build_root(JailPlan *plan, RootPart part) {
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                fail(plan, STAGE_PROPAGATION, errno, NULL);
        open_sources(plan, part);
        /* The new root is a small tmpfs mounted over /tmp of our private mount namespace;
         * every bind source is an fd opened beforehand, so nothing is looked up through
         * it. It becomes read-only once populated. */
        if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "size=256k,nr_inodes=1024,mode=0755") < 0)
                fail(plan, STAGE_ROOT, errno, NULL);
        if (chdir("/tmp") < 0)
                fail(plan, STAGE_ROOT, errno, NULL);
        for (size_t i = 0; i < plan->n_mounts; i++)
                if (in_part(&plan->mounts[i], part))
                        do_mount(plan, &plan->mounts[i], false);

        /* pivot_root(".", ".") stacks the old root under the new one; detach it. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                fail(plan, STAGE_PIVOT, errno, NULL);
        if (umount2(".", MNT_DETACH) < 0)
                fail(plan, STAGE_PIVOT, errno, "detaching the old root");
        if (chdir("/") < 0)
                fail(plan, STAGE_PIVOT, errno, NULL);
}

/* Enter the root prepared for this run (a mount namespace nobody else has used) and
 * add what belongs to this run alone: /box, /tmp, /proc of our pid namespace, the
 * caller's binds. */
static void enter_root(JailPlan *plan) {
        open_sources(plan, ROOT_RUN);
        if (setns(plan->root_fd, CLONE_NEWNS) < 0)
                fail(plan, STAGE_ROOT, errno, "entering the prepared root");
        if (chdir("/") < 0)
                fail(plan, STAGE_ROOT, errno, NULL);
        for (size_t i = 0; i < plan->n_mounts; i++)
                if (plan->mounts[i].per_run)
                        do_mount(plan, &plan->mounts[i], true);
}

static void setup_root(JailPlan *plan) {
        /* Modes below are exactly the ones asked for. */
        umask(0);
        if (plan->netns_fd >= 0 && setns(plan->netns_fd, CLONE_NEWNET) < 0)
                fail(plan, STAGE_NETNS, errno, NULL);

        if (plan->rootless) {
                /* Map one uid and gid: the box user inside is us outside. */
                if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
                        fail(plan, STAGE_USERNS, errno, "setgroups");
                if (write_file("/proc/self/uid_map", plan->uid_map) < 0)
                        fail(plan, STAGE_USERNS, errno, "uid_map");
                if (write_file("/proc/self/gid_map", plan->gid_map) < 0)
                        fail(plan, STAGE_USERNS, errno, "gid_map");
        }

        if (plan->root_fd >= 0)
                enter_root(plan);
        else
                build_root(plan, ROOT_ALL);

        if (!plan->hostname_set && sethostname("coderunner", 10) < 0)
                fail(plan, STAGE_HOSTNAME, errno, NULL);
        if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0)
                fail(plan, STAGE_PIVOT, errno, "read-only root");
}

static int template_main(void *arg) {
        JailPlan *plan = arg;
        umask(0);
        /* Our namespace, into the descriptor table we share with the caller. */
        plan->root_fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (plan->root_fd < 0)
                _exit(1);
        build_root(plan, ROOT_TEMPLATE);
        _exit(0);
}

int jail_probe_mount_api(void) {
        int fd = open_tree(AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct mount_attr private = {.propagation = MS_PRIVATE};
        int r = mount_setattr(fd, "", AT_EMPTY_PATH, &private, sizeof private) < 0 ? -errno : 0;
        close(fd);
        return r;
}

int jail_prepare_root(JailPlan *plan, int *ret_fd) {
        plan->root_fd = -EBADF;
        plan->error_fd = -EBADF; /* a failure is the exit status */
        plan->peer_uid = 0;
        plan->peer_gid = 0;
        for (size_t i = 0; i < plan->n_mounts; i++)
                plan->mounts[i].src_fd = -EBADF;
        /* The child shares our memory and descriptors and we are suspended until it
         * exits, like the program's clone in jail_main; it makes its own mount namespace. */
        pid_t pid = clone(template_main, plan->program_stack + sizeof plan->program_stack,
                CLONE_VM | CLONE_VFORK | CLONE_FILES | CLONE_NEWNS | SIGCHLD, plan);
        int r = pid < 0 ? -errno : 0, status = 0;
        if (pid > 0) {
                pid_t w;
                do
                        w = waitpid(pid, &status, 0);
                while (w < 0 && errno == EINTR);
                if (w < 0)
                        r = -errno;
                else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        r = -EIO;
        }
        /* Its sources are mounted (or it failed): they are ours to close. */
        for (size_t i = 0; i < plan->n_mounts; i++)
                if (plan->mounts[i].src_fd >= 0) {
                        close(plan->mounts[i].src_fd);
                        plan->mounts[i].src_fd = -EBADF;
                }
        int fd = plan->root_fd;
        plan->root_fd = -EBADF;
        if (r < 0) {
                if (fd >= 0)
                        close(fd);
                return r;
        }
        if (fd < 0)
                return -EIO;
        *ret_fd = fd;
        return 0;
}

static void drop_bounding_set(const JailPlan *plan) {
        for (int cap = 0; cap <= plan->cap_last_cap; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        fail(plan, STAGE_CAPS, errno, "bounding set");
}

static void drop_all_caps(const JailPlan *plan) {
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[2] = {};
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                fail(plan, STAGE_CAPS, errno, "ambient");
        if (syscall(SYS_capset, &h, d) < 0)
                fail(plan, STAGE_CAPS, errno, "capset");
}

static void exec_program(JailPlan *plan) {
        const char *name = plan->argv[0];
        int last = ENOENT;

        for (const char *p = name; *p; p++)
                if (*p == '/') {
                        execve(name, plan->argv, plan->envp);
                        fail(plan, STAGE_EXEC, errno, name);
                }
        size_t nlen = str_len(name);
        for (const char *d = plan->path_dirs; *d;) {
                const char *e = d;
                while (*e && *e != ':')
                        e++;
                size_t dlen = (size_t) (e - d);
                if (dlen > 0 && dlen + 1 + nlen + 1 <= sizeof plan->exec_buf) {
                        memcpy(plan->exec_buf, d, dlen);
                        plan->exec_buf[dlen] = '/';
                        memcpy(plan->exec_buf + dlen + 1, name, nlen + 1);
                        execve(plan->exec_buf, plan->argv, plan->envp);
                        if (errno != ENOENT && errno != ENOTDIR)
                                last = errno;
                }
                d = *e ? e + 1 : e;
        }
        fail(plan, STAGE_EXEC, last, name);
}

_Noreturn static void program_main(JailPlan *plan) {
        if (setsid() < 0)
                fail(plan, STAGE_STDIO, errno, "setsid");
        int fds[3] = {plan->stdin_fd, plan->stdout_fd, plan->stderr_fd};
        /* Move the sources above 2 first (when one is not), so that dup2 cannot clobber one
         * with another. */
        bool low = fds[0] < 3 || fds[1] < 3 || fds[2] < 3;
        for (int i = 0; low && i < 3; i++) {
                int fd = fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        fail(plan, STAGE_STDIO, errno, NULL);
                fds[i] = fd;
        }
        for (int i = 0; i < 3; i++)
                if (dup2(fds[i], i) < 0)
                        fail(plan, STAGE_STDIO, errno, NULL);
        /* Everything else closes at exec (the error pipe too, which tells the parent the
         * exec happened). */
        if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                fail(plan, STAGE_STDIO, errno, "close_range");

        for (size_t i = 0; i < plan->n_rlimits; i++) {
                struct rlimit rl = {plan->rlimits[i].value, plan->rlimits[i].value};
                if (setrlimit(plan->rlimits[i].resource, &rl) < 0)
                        fail(plan, STAGE_RLIMIT, errno, NULL);
        }
        if (chdir("/box") < 0)
                fail(plan, STAGE_CHDIR, errno, NULL);
        umask(022);

        /* The bounding set was emptied by init before the fork. */
        if (!plan->rootless && syscall(SYS_setgroups, 0, NULL) < 0)
                fail(plan, STAGE_IDS, errno, "setgroups");
        if (syscall(SYS_setresgid, plan->gid, plan->gid, plan->gid) < 0)
                fail(plan, STAGE_IDS, errno, "setresgid");
        if (syscall(SYS_setresuid, plan->uid, plan->uid, plan->uid) < 0)
                fail(plan, STAGE_IDS, errno, "setresuid");
        /* A non-zero uid loses the permitted and effective sets; clear them explicitly
         * anyway (in a user namespace, uid changes alone do not). */
        drop_all_caps(plan);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                fail(plan, STAGE_NNP, errno, NULL);
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, plan->seccomp) < 0)
                fail(plan, STAGE_SECCOMP, errno, NULL);
        exec_program(plan);
        _exit(127);
}

/* Close every descriptor but a, b and c (which may repeat). */
static void close_all_but(int a, int b, int c) {
        int keep[3] = {a, b, c};
        for (int i = 0; i < 2; i++) /* sort the three */
                for (int j = 0; j < 2 - i; j++)
                        if (keep[j] > keep[j + 1]) {
                                int t = keep[j];
                                keep[j] = keep[j + 1];
                                keep[j + 1] = t;
                        }
        unsigned from = 0;
        for (int i = 0; i < 3; i++) {
                if (keep[i] < 0 || (unsigned) keep[i] < from)
                        continue;
                if ((unsigned) keep[i] > from)
                        (void) syscall(SYS_close_range, from, (unsigned) keep[i] - 1, 0);
                from = (unsigned) keep[i] + 1;
        }
        (void) syscall(SYS_close_range, from, ~0U, 0);
}

static int program_entry(void *plan) {
        program_main(plan);
}

_Noreturn void jail_main(JailPlan *plan) {
        /* Default signal dispositions for what we exec; the parent may have changed them. */
        struct sigaction sa = {.sa_handler = SIG_DFL};
        for (int sig = 1; sig < _NSIG; sig++)
                if (!plan->handlers_cleared ||
                        (sig <= 64 && (plan->ignored_signals & (UINT64_C(1) << (sig - 1)))))
                        (void) sigaction(sig, &sa, NULL);
        sigset_t none;
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
        /* If the runner dies, so does the box. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);

        setup_root(plan);
        /* Emptied once here, inherited by the program: each drop is a credentials commit. */
        drop_bounding_set(plan);

        /* The program shares our memory until it execs (or fails, and exits), and we
         * are suspended meanwhile: no page tables to copy, nothing to tear down twice. */
        pid_t pid = clone(program_entry, plan->program_stack + sizeof plan->program_stack,
                CLONE_VM | CLONE_VFORK | SIGCHLD, plan);
        if (pid < 0)
                fail(plan, STAGE_FORK, errno, NULL);

        /* init: keep only the status pipe and the program's output pipes, then give up
         * every privilege we still have. Holding the output pipes until we exit, when the
         * kernel ends whatever is left of the tree, readers see their EOF as the tree goes
         * and together with our exit: the runner wakes once at the end, not at the
         * program's exit and again at ours. */
        /* The OOM killer must pick the program, never init: tmpfs pages belong to no
         * process, so a box filling /tmp with small writes would otherwise make init the
         * largest task. Set only now: the program must not inherit a lowered minimum. */
        int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (adj >= 0) {
                (void) !write(adj, "-1000", 5);
                close(adj);
        }
        close_all_but(plan->status_fd, plan->stdout_fd, plan->stderr_fd);
        drop_all_caps(plan);
        (void) prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);

        for (;;) {
                JailStatus st = {};
                pid_t p = wait4(-1, &st.status, 0, &st.ru);
                if (p < 0 && errno == EINTR)
                        continue;
                if (p < 0)
                        _exit(126);
                if (p == pid) {
                        (void) !write(plan->status_fd, &st, sizeof st);
                        _exit(0);
                }
        }
}
