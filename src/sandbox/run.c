/* SPDX-License-Identifier: MIT */
/* One run: prepare the plan, clone the jail, then watch it — copy its output under the
 * caps, enforce CPU and wall time, collect the accounting — and decide the verdict. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/time-util.h"
#include "sandbox/box-internal.h"

#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

#define SAFE_PATH "/usr/local/bin:/usr/bin:/bin"
#define DEFAULT_OPEN_FILES 1024
#define CPU_CHECK_MIN_USEC 1000
#define CPU_CHECK_MAX_USEC 100000
#define DEST_STALL_MSEC 5000

typedef struct Stream {
        int fd; /* read end, -1 once at EOF */
        int dest; /* where it is copied, -1 = discarded */
        bool dest_is_file; /* a regular file or memfd: a write never waits for a reader */
        bool dest_is_socket;
        uint64_t bytes; /* copied so far */
        uint64_t cap; /* 0 = none */
        bool overflow;
} Stream;

typedef struct Run {
        BoxContext *c;
        const BoxSpec *spec;
        BoxResult *res;
        BoxCgroup cg;
        bool have_cg;
        bool oom_seen; /* v1: cg.oom_fd fired, the tree was killed */
        int pidfd;
        Stream out, err;
        int error_r, status_r;
        JailError jerr;
        size_t jerr_got;
        JailStatus jst;
        size_t jst_got;
        bool init_done;
        BoxLimit killed_for;
        int control; /* spec->control_fd while it is open (the caller's) */
        int killed_on_request; /* the reason a control byte gave, 0 = none */
        uint64_t start, end;
        uint64_t cpu_usec;
        bool cpu_known;
        int workdir_fd;
        int root_fd; /* the mount namespace prepared for this run, or -1 */
        uid_t workdir_uid;
        gid_t workdir_gid;
        mode_t workdir_mode;
        bool workdir_chowned;
} Run;

static void set_message(BoxResult *r, const char *fmt, ...) _printf_(2, 3);
static void set_message(BoxResult *r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->message, sizeof r->message, fmt, ap);
        va_end(ap);
}

static int validate(const BoxSpec *spec, BoxResult *res) {
        size_t n = 0;
        if (!spec->argv || !spec->argv[0] || !spec->argv[0][0]) {
                set_message(res, "no program to run");
                return -EINVAL;
        }
        for (char *const *a = spec->argv; *a; a++)
                if (++n > BOX_MAX_ARGS || strlen(*a) >= BOX_MAX_STRING * 64) {
                        set_message(res, "too many or too long arguments");
                        return -E2BIG;
                }
        n = 0;
        for (char *const *e = spec->env; e && *e; e++)
                if (++n > BOX_MAX_ENV || !strchr(*e, '=') || **e == '=') {
                        set_message(res, "environment entries must be VAR=VALUE (at most %d)", BOX_MAX_ENV);
                        return -EINVAL;
                }
        if (spec->n_binds > BOX_MAX_BINDS) {
                set_message(res, "at most %d binds", BOX_MAX_BINDS);
                return -E2BIG;
        }
        return 0;
}

/* The environment: the caller's entries, plus a safe PATH when it has none. */
static char **build_env(const BoxSpec *spec, char **storage, size_t max) {
        size_t n = 0;
        bool has_path = false;
        for (char *const *e = spec->env; e && *e && n + 2 < max; e++) {
                if (strncmp(*e, "PATH=", 5) == 0)
                        has_path = true;
                storage[n++] = *e;
        }
        if (!has_path)
                storage[n++] = (char *) "PATH=" SAFE_PATH;
        storage[n] = NULL;
        return storage;
}

static void push_rlimit(JailPlan *p, int res, unsigned long long v) {
        if (p->n_rlimits < ELEMENTSOF(p->rlimits))
                p->rlimits[p->n_rlimits++] = (typeof(p->rlimits[0])){res, v};
}

static void kill_box(Run *run, BoxLimit why) {
        if (run->killed_for == BOX_LIMIT_NONE)
                run->killed_for = why;
        if (run->pidfd >= 0)
                (void) syscall(SYS_pidfd_send_signal, run->pidfd, SIGKILL, NULL, 0);
        if (run->have_cg)
                box_cgroup_kill(&run->c->cg, &run->cg);
}

/* Copy output to where the caller wants it. A destination that is not a file (a pipe, a
 * socket, a terminal) is written a pipe buffer's worth at a time once it can take it; one
 * that takes nothing for DEST_STALL_MSEC (a pipe nobody reads) is given up and the rest
 * discarded, so that no reader can stop the watch, and with it the limits it enforces. */
static void copy_out(Stream *s, const char *buf, size_t len) {
        if (s->dest_is_file) {
                (void) write_all(s->dest, buf, len);
                return;
        }
        while (len > 0) {
                struct pollfd p = {.fd = s->dest, .events = POLLOUT};
                int n = poll(&p, 1, DEST_STALL_MSEC);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0 || (p.revents & (POLLERR | POLLHUP | POLLNVAL))) {
                        s->dest = -EBADF;
                        return;
                }
                /* A socket is written without waiting (it may take less than POLLOUT
                 * promised); a pipe takes PIPE_BUF bytes at once once POLLOUT says so. */
                size_t chunk = MIN(len, (size_t) PIPE_BUF);
                ssize_t w = s->dest_is_socket ? send(s->dest, buf, chunk, MSG_DONTWAIT | MSG_NOSIGNAL)
                                              : write(s->dest, buf, chunk);
                if (w < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        s->dest = -EBADF;
                        return;
                }
                buf += w;
                len -= (size_t) w;
        }
}

static void pump(Run *run, Stream *s) {
        char buf[65536];
        ssize_t n = read(s->fd, buf, sizeof buf);
        if (n < 0) {
                if (errno == EINTR || errno == EAGAIN)
                        return;
                n = 0;
        }
        if (n == 0) {
                s->fd = safe_close(s->fd);
                return;
        }
        size_t take = (size_t) n;
        if (s->cap && s->bytes + take > s->cap) {
                take = (size_t) (s->cap - s->bytes);
                s->overflow = true;
        }
        if (take > 0 && s->dest >= 0)
                copy_out(s, buf, take);
        s->bytes += take;
        if (s->overflow)
                kill_box(run, BOX_LIMIT_OUTPUT);
}

static void read_record(int *fd, void *buf, size_t size, size_t *got) {
        ssize_t n = read(*fd, (char *) buf + *got, size - *got);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                *fd = safe_close(*fd);
                return;
        }
        *got += (size_t) n;
        if (*got == size)
                *fd = safe_close(*fd);
}

static int launch(Run *run, JailPlan *plan, uint64_t *ret_flags) {
        BoxContext *c = run->c;
        uint64_t flags =
                CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_PIDFD;
        int pidfd = -1;

        if (c->ipc_ready) {
                /* This process sits in a fresh IPC namespace made for this run; the child
                 * inherits it, and the next run gets another. */
                flags &= ~(uint64_t) CLONE_NEWIPC;
                c->ipc_ready = false;
        }
        if (plan->root_fd >= 0)
                /* The child enters the mount namespace prepared for this run. */
                flags &= ~(uint64_t) CLONE_NEWNS;
        if (c->uts_ready) {
                /* Likewise its UTS namespace, named already. */
                flags &= ~(uint64_t) CLONE_NEWUTS;
                plan->hostname_set = true;
                c->uts_ready = false;
        }
        if (plan->handlers_cleared)
                flags |= CLONE_CLEAR_SIGHAND;
        if (c->rootless)
                /* never the host's network: networked runs are refused when rootless */
                flags |= CLONE_NEWUSER | CLONE_NEWNET;
        struct clone_args args = {
                .flags = flags,
                .pidfd = (uint64_t) (uintptr_t) &pidfd,
                .exit_signal = SIGCHLD,
        };
        if (run->have_cg && run->cg.v2_dir >= 0) {
                args.flags |= CLONE_INTO_CGROUP;
                args.cgroup = (uint64_t) run->cg.v2_dir;
        }
        *ret_flags = args.flags;

        int r = run->have_cg ? box_cgroup_enter_v1(&c->cg, &run->cg, true) : 0;
        if (r < 0) {
                (void) box_cgroup_enter_v1(&c->cg, &run->cg, false);
                return r;
        }
        long pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0)
                jail_main(plan);
        int err = pid < 0 ? -errno : 0;
        if (run->have_cg)
                (void) box_cgroup_enter_v1(&c->cg, &run->cg, false);
        if (err < 0)
                return err;
        run->pidfd = pidfd;
        return 0;
}

static bool limits_match(const BoxCgroupLimits *l, const BoxSpec *spec) {
        return l->memory_kib == spec->memory_kib && l->processes == spec->processes;
}

static uint64_t cpu_limit_total(const BoxSpec *spec) {
        return spec->cpu_time_usec ? spec->cpu_time_usec + spec->extra_time_usec : 0;
}

/* A request on the control fd: a byte 1..64 ends the tree (as SIGKILL); EOF or an error
 * stops the watching of it. */
static void read_control(Run *run) {
        uint8_t b;
        ssize_t n = read(run->control, &b, 1);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                run->control = -EBADF;
                return;
        }
        if (b >= 1 && b <= 64 && !run->killed_on_request) {
                run->killed_on_request = b;
                kill_box(run, BOX_LIMIT_NONE);
        }
}

/* Watch the run until init is gone and both streams are at EOF. */
static void watch(Run *run) {
        const BoxSpec *spec = run->spec;
        BoxContext *c = run->c;
        uint64_t cpu_total = cpu_limit_total(spec);
        uint64_t next_cpu_check = run->start;

        for (;;) {
                struct pollfd p[7];
                int np = 0, i_out = -1, i_err = -1, i_pid = -1, i_oom = -1, i_ctl = -1;
                if (run->out.fd >= 0)
                        p[i_out = np++] = (struct pollfd){.fd = run->out.fd, .events = POLLIN};
                if (run->err.fd >= 0)
                        p[i_err = np++] = (struct pollfd){.fd = run->err.fd, .events = POLLIN};
                if (!run->init_done)
                        p[i_pid = np++] = (struct pollfd){.fd = run->pidfd, .events = POLLIN};
                if (!run->init_done && run->spec->memory_kib && run->have_cg && run->cg.oom_fd >= 0 &&
                        !run->oom_seen)
                        p[i_oom = np++] = (struct pollfd){.fd = run->cg.oom_fd, .events = POLLIN};
                if (np == 0)
                        break;
                if (run->control >= 0 && !run->init_done)
                        p[i_ctl = np++] = (struct pollfd){.fd = run->control, .events = POLLIN};

                uint64_t now = now_usec(CLOCK_MONOTONIC);
                int64_t timeout = -1;
                if (!run->init_done) {
                        if (spec->wall_time_usec) {
                                uint64_t deadline = run->start + spec->wall_time_usec;
                                if (now >= deadline) {
                                        kill_box(run, BOX_LIMIT_WALL);
                                        timeout = -1;
                                } else
                                        timeout = (int64_t) (deadline - now);
                        }
                        if (cpu_total && !spec->per_process_time && run->have_cg && run->cg.cpu_fd >= 0) {
                                if (now >= next_cpu_check) {
                                        uint64_t used;
                                        if (box_cgroup_cpu_usec(&c->cg, &run->cg, &used) == 0) {
                                                if (used >= cpu_total)
                                                        kill_box(run, BOX_LIMIT_CPU);
                                                else {
                                                        /* The tree cannot burn faster than all
                                                         * CPUs: check again when it could
                                                         * first reach the limit. */
                                                        uint64_t wait = (cpu_total - used) / c->ncpus;
                                                        wait = MAX(wait, CPU_CHECK_MIN_USEC);
                                                        wait = MIN(wait, CPU_CHECK_MAX_USEC);
                                                        next_cpu_check = now + wait;
                                                }
                                        }
                                }
                                int64_t t = next_cpu_check > now ? (int64_t) (next_cpu_check - now) : 0;
                                if (timeout < 0 || t < timeout)
                                        timeout = t;
                        }
                }
                int ms = timeout < 0 ? -1 : (int) ((timeout + 999) / 1000);
                int n = poll(p, (nfds_t) np, ms);
                if (n < 0) {
                        if (errno == EINTR && c->abort_flag && *c->abort_flag && !run->init_done) {
                                kill_box(run, BOX_LIMIT_NONE);
                                set_message(run->res, "the sandbox supervisor stopped during the run");
                        }
                        if (errno == EINTR)
                                continue;
                        kill_box(run, BOX_LIMIT_NONE);
                        set_message(run->res, "poll: %s", strerror(errno));
                        break;
                }
                if (i_out >= 0 && p[i_out].revents)
                        pump(run, &run->out);
                if (i_err >= 0 && p[i_err].revents)
                        pump(run, &run->err);
                if (i_oom >= 0 && p[i_oom].revents) {
                        /* v1 kills one process of the tree at an OOM; v2 (memory.oom.group)
                         * kills them all, and so do we here: the same verdict on both. */
                        kill_box(run, BOX_LIMIT_MEMORY);
                        run->oom_seen = true;
                }
                if (i_ctl >= 0 && p[i_ctl].revents)
                        read_control(run);
                if (i_pid >= 0 && p[i_pid].revents) {
                        run->init_done = true;
                        run->end = now_usec(CLOCK_MONOTONIC);
                }
        }
}

/* Give the workdir back as it was lent (owner and mode: the box owned it and may have
 * changed its mode), with no setuid or setgid file of the box uid left in it. The tree
 * is dead by now: nothing of it can race the walk. On a nosuid mount (the judge's own
 * tmpfs) those bits are inert, and the walk (about 3 us an entry) is skipped. */
static void restore_workdir(Run *run) {
        if (run->workdir_fd < 0)
                return;
        struct statvfs sv;
        if (fstatvfs(run->workdir_fd, &sv) < 0 || !(sv.f_flag & ST_NOSUID))
                (void) workdir_strip_setid(run->workdir_fd, run->c->uid, NULL);
        if (run->workdir_chowned) {
                (void) fchownat(run->workdir_fd, "", run->workdir_uid, run->workdir_gid, AT_EMPTY_PATH);
                char proc[64];
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", run->workdir_fd);
                (void) chmod(proc, run->workdir_mode);
        }
        run->workdir_fd = safe_close(run->workdir_fd);
}

static void decide(Run *run, int init_status) {
        BoxContext *c = run->c;
        const BoxSpec *spec = run->spec;
        BoxResult *res = run->res;
        uint64_t v;

        res->wall_time_usec = (run->end ? run->end : now_usec(CLOCK_MONOTONIC)) - run->start;
        res->stdout_bytes = run->out.bytes;
        res->stderr_bytes = run->err.bytes;

        bool have_status = run->jst_got == sizeof run->jst;
        if (run->have_cg && box_cgroup_cpu_usec(&c->cg, &run->cg, &v) == 0)
                res->cpu_time_usec = v;
        else if (have_status)
                res->cpu_time_usec = (uint64_t) run->jst.ru.ru_utime.tv_sec * USEC_PER_SEC +
                                     (uint64_t) run->jst.ru.ru_utime.tv_usec +
                                     (uint64_t) run->jst.ru.ru_stime.tv_sec * USEC_PER_SEC +
                                     (uint64_t) run->jst.ru.ru_stime.tv_usec;
        if (run->have_cg && box_cgroup_memory_peak_kib(&c->cg, &run->cg, &v) == 0)
                res->memory_kib = v;
        else if (have_status)
                res->memory_kib = (uint64_t) run->jst.ru.ru_maxrss;
        if (run->have_cg && box_cgroup_oom_kills(&c->cg, &run->cg, &v) == 0 && v > run->cg.oom_kills_before)
                res->oom_killed = true;
        if (run->killed_for == BOX_LIMIT_MEMORY)
                res->oom_killed = true; /* we may have been quicker than the kernel's counter */

        if (spec->memory_kib && c->cg.where[CG_MEMORY] == CG_NONE)
                res->unenforced |= BOX_UNENFORCED_MEMORY;
        if (spec->cpu_time_usec && c->cg.where[CG_CPU] == CG_NONE)
                res->unenforced |= BOX_UNENFORCED_CPU_TREE;

        if (have_status) {
                int st = run->jst.status;
                if (WIFEXITED(st))
                        res->exit_code = WEXITSTATUS(st);
                else if (WIFSIGNALED(st))
                        res->signal = WTERMSIG(st);
        }

        /* Verdict, in isolate's order: the sandbox, then what we killed it for, then the
         * kernel's OOM killer, then how the program ended. */
        if (run->jerr_got == sizeof run->jerr) {
                res->status = BOX_STATUS_XX;
                res->exit_code = -1;
                res->signal = 0;
                run->jerr.detail[sizeof run->jerr.detail - 1] = '\0';
                if (run->jerr.stage == STAGE_EXEC)
                        set_message(
                                res, "cannot execute %s: %s", run->jerr.detail, strerror(run->jerr.error));
                else
                        set_message(res, "sandbox setup failed while %s%s%s: %s",
                                jail_stage_to_string(run->jerr.stage), run->jerr.detail[0] ? " " : "",
                                run->jerr.detail, strerror(run->jerr.error));
                return;
        }
        if (run->killed_for != BOX_LIMIT_NONE && !have_status) {
                /* We killed the tree before the program ended: it died of our SIGKILL. */
                res->exit_code = -1;
                res->signal = SIGKILL;
        }
        if (run->killed_on_request && !have_status) {
                res->status = BOX_STATUS_SG;
                res->exit_code = -1;
                res->signal = SIGKILL;
                set_message(res, "killed on request (signal %d)", run->killed_on_request);
                return;
        }
        if (run->killed_for == BOX_LIMIT_OUTPUT) {
                res->status = BOX_STATUS_OL;
                res->limit = BOX_LIMIT_OUTPUT;
                set_message(res, "Output limit exceeded (%s)", run->out.overflow ? "stdout" : "stderr");
                return;
        }
        /* Per-process time: the program's own CPU time (and its waited children's), as
         * rusage reports it; otherwise the whole tree's, from the cgroup. */
        uint64_t cpu_checked = res->cpu_time_usec;
        if (spec->per_process_time && have_status)
                cpu_checked = (uint64_t) run->jst.ru.ru_utime.tv_sec * USEC_PER_SEC +
                              (uint64_t) run->jst.ru.ru_utime.tv_usec +
                              (uint64_t) run->jst.ru.ru_stime.tv_sec * USEC_PER_SEC +
                              (uint64_t) run->jst.ru.ru_stime.tv_usec;
        if (run->killed_for == BOX_LIMIT_CPU || (spec->cpu_time_usec && cpu_checked > spec->cpu_time_usec)) {
                res->status = BOX_STATUS_TO;
                res->limit = BOX_LIMIT_CPU;
                set_message(res, "Time limit exceeded");
                return;
        }
        if (run->killed_for == BOX_LIMIT_WALL) {
                res->status = BOX_STATUS_TO;
                res->limit = BOX_LIMIT_WALL;
                set_message(res, "Time limit exceeded (wall clock)");
                return;
        }
        if (!have_status && res->oom_killed) {
                res->status = BOX_STATUS_ML;
                res->limit = BOX_LIMIT_MEMORY;
                res->signal = SIGKILL;
                set_message(res, "Memory limit exceeded");
                return;
        }
        if (!have_status) {
                /* init ended without reporting: killed from outside, or it failed. */
                res->status = BOX_STATUS_XX;
                res->exit_code = -1;
                set_message(res, "the sandbox's init ended without a result (status 0x%x)",
                        (unsigned) init_status);
                return;
        }
        if (res->oom_killed && res->exit_code != 0) {
                res->status = BOX_STATUS_ML;
                res->limit = BOX_LIMIT_MEMORY;
                set_message(res, "Memory limit exceeded");
                return;
        }
        if (res->signal) {
                res->status = BOX_STATUS_SG;
                set_message(res, "Caught fatal signal %d", res->signal);
                return;
        }
        if (res->exit_code != 0) {
                res->status = BOX_STATUS_RE;
                set_message(res, "Exited with error status %d", res->exit_code);
                return;
        }
        res->status = BOX_STATUS_OK;
}

/* A networked run needs the context's network namespace, made on the first one. Returns 1
 * when the run can go on, 0 when *res holds an XX result. */
static int prepare_network(BoxContext *c, const BoxSpec *spec, BoxResult *res) {
        char why[256];

        if (!spec->share_net)
                return 1;
        if (c->netbox && netbox_alive(c->netbox))
                return 1;
        c->netbox = netbox_free(c->netbox);
        if (c->rootless) {
                /* Without root there is no namespace of ours for pasta and nftables to
                 * serve, and the host's own network is never lent. */
                res->status = BOX_STATUS_XX;
                set_message(res, "networked runs need the root sandbox (the supervisor)");
                return 0;
        }
        int r = netbox_new(c->net_allow, c->net_deny, &c->netbox, why, sizeof why);
        if (r < 0) {
                res->status = BOX_STATUS_XX;
                if (why[0])
                        set_message(res, "cannot set up the network: %s", why);
                else
                        set_message(res, "cannot set up the network: %s", strerror(-r));
                return 0;
        }
        return 1;
}

int box_run(BoxContext *c, const BoxSpec *spec, BoxResult *ret) {
        return box_run_as(c, spec, 0, 0, ret);
}

int box_run_as(BoxContext *c, const BoxSpec *spec, uid_t peer_uid, gid_t peer_gid, BoxResult *ret) {
        Run run = {
                .c = c,
                .spec = spec,
                .res = ret,
                .pidfd = -EBADF,
                .out = {.fd = -EBADF, .dest = spec->stdout_fd},
                .err = {.fd = -EBADF, .dest = spec->stderr_fd},
                .error_r = -EBADF,
                .status_r = -EBADF,
                .workdir_fd = -EBADF,
                .root_fd = -EBADF,
                .control = spec->control_fd,
        };
        int out[2] = {-1, -1}, err[2] = {-1, -1}, errp[2] = {-1, -1}, stp[2] = {-1, -1};

        box_context_cleanup(c);
        char *envbuf[BOX_MAX_ENV + 2];
        JailPlan *plan = c->plan;
        int r;

        *ret = (BoxResult){.exit_code = -1};
        r = validate(spec, ret);
        if (r < 0) {
                ret->status = BOX_STATUS_XX;
                return 0;
        }

        r = prepare_network(c, spec, ret);
        if (r <= 0)
                return r;

        /* The record pipes never block: a reader that finds nothing after init exited
         * (it failed before writing) must not wait, and a record fits an empty pipe. */
        if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0 ||
                pipe2(stp, O_CLOEXEC | O_NONBLOCK) < 0 ||
                (!spec->stderr_to_stdout && pipe2(err, O_CLOEXEC) < 0)) {
                r = -errno;
                goto out;
        }

        /* The plan: everything the child needs, prepared here. */
        uint64_t seq = ++c->seq;
        *plan = (JailPlan){
                .root_fd = -EBADF,
                .netns_fd = spec->share_net ? netbox_fd(c->netbox) : c->netns_fd,
                .peer_uid = peer_uid,
                .peer_gid = peer_gid,
                .rootless = c->rootless,
                .outer_uid = c->outer_uid,
                .outer_gid = c->outer_gid,
                .uid = c->uid,
                .gid = c->gid,
                .cap_last_cap = c->cap_last_cap,
                .stdin_fd = spec->stdin_fd >= 0 ? spec->stdin_fd : c->devnull_fd,
                .stdout_fd = out[1],
                .stderr_fd = spec->stderr_to_stdout ? out[1] : err[1],
                .error_fd = errp[1],
                .status_fd = stp[1],
                .argv = spec->argv,
                .envp = build_env(spec, envbuf, ELEMENTSOF(envbuf)),
                .path_dirs = SAFE_PATH,
                .seccomp = &c->seccomp,
        };
        for (char *const *e = plan->envp; *e; e++)
                if (strncmp(*e, "PATH=", 5) == 0)
                        plan->path_dirs = *e + 5;
        snprintf(plan->uid_map, sizeof plan->uid_map, "%u %u 1\n", (unsigned) c->uid,
                (unsigned) c->outer_uid);
        snprintf(plan->gid_map, sizeof plan->gid_map, "%u %u 1\n", (unsigned) c->gid,
                (unsigned) c->outer_gid);
        push_rlimit(plan, RLIMIT_CORE, 0);
        push_rlimit(plan, RLIMIT_NOFILE, spec->open_files ? spec->open_files : DEFAULT_OPEN_FILES);
        if (spec->stack_kib)
                push_rlimit(plan, RLIMIT_STACK, spec->stack_kib * 1024);
        if (spec->fsize_kib)
                push_rlimit(plan, RLIMIT_FSIZE, spec->fsize_kib * 1024);
        if (spec->processes && c->cg.where[CG_PIDS] == CG_NONE)
                /* No pids cgroup: RLIMIT_NPROC counts the tasks of the box user (in the
                 * run's own user namespace when rootless, kernel 5.14+), init included. */
                push_rlimit(plan, RLIMIT_NPROC, (unsigned long long) spec->processes + 1);
        if (spec->cpu_time_usec && spec->per_process_time)
                /* Each process on its own, like isolate without cgroup timing: whole
                 * seconds, limit plus extra time rounded up. */
                push_rlimit(plan, RLIMIT_CPU, (cpu_limit_total(spec) + USEC_PER_SEC - 1) / USEC_PER_SEC);
        else if (spec->cpu_time_usec)
                /* A per-process backstop; the tree's total is enforced from the cgroup. */
                push_rlimit(plan, RLIMIT_CPU, (cpu_limit_total(spec) + USEC_PER_SEC - 1) / USEC_PER_SEC + 1);
        if (spec->memory_kib && spec->per_process_memory)
                push_rlimit(plan, RLIMIT_AS, spec->memory_kib * 1024);

        char errbuf[sizeof ret->message];
        errbuf[0] = '\0';
        r = mount_plan_build(c->rt, spec, plan, c->strbuf, BOX_STRBUF_SIZE, errbuf, sizeof errbuf);
        if (r < 0) {
                ret->status = BOX_STATUS_XX;
                if (errbuf[0])
                        set_message(ret, "%s: %s", errbuf, strerror(-r));
                else
                        set_message(ret, "cannot prepare the mounts: %s", strerror(-r));
                r = 0;
                goto out;
        }

        /* /box must be writable by the box user: lend it the workdir for the run. A client
         * may only lend a directory of its own. */
        if (spec->workdir && !c->rootless) {
                struct stat st;
                if (peer_uid != 0) {
                        (void) setfsgid(peer_gid);
                        (void) setfsuid(peer_uid);
                }
                run.workdir_fd = open(spec->workdir, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (peer_uid != 0) {
                        (void) setfsuid(0);
                        (void) setfsgid(0);
                }
                if (run.workdir_fd < 0 || fstat(run.workdir_fd, &st) < 0 ||
                        (peer_uid != 0 && st.st_uid != peer_uid)) {
                        ret->status = BOX_STATUS_XX;
                        set_message(ret, "workdir %s: %s", spec->workdir,
                                run.workdir_fd < 0 ? strerror(errno)
                                                   : "must be a directory owned by the client");
                        r = 0;
                        goto out;
                }
                if (run.workdir_fd >= 0 && fstat(run.workdir_fd, &st) == 0) {
                        run.workdir_uid = st.st_uid;
                        run.workdir_gid = st.st_gid;
                        run.workdir_mode = st.st_mode & 07777;
                        if (fchownat(run.workdir_fd, "", c->uid, c->gid, AT_EMPTY_PATH) == 0)
                                run.workdir_chowned = true;
                }
        }

        char name[96];
        bool fresh = true;
        if (c->have_prepared) {
                /* Made between answers (box_context_cleanup), with the limits of the run
                 * before this one: usable as they are when ours are the same; a fresh
                 * cgroup is made when they differ (a written limit is never relaxed). */
                run.cg = c->prepared;
                c->have_prepared = false;
                snprintf(name, sizeof name, "%s", run.cg.name);
                if (limits_match(&c->prepared_limits, spec)) {
                        fresh = false;
                        r = 0;
                } else if (c->prepared_limits.memory_kib || c->prepared_limits.processes)
                        box_cgroup_destroy(&c->cg, &run.cg);
                else {
                        fresh = false;
                        r = box_cgroup_limit(&c->cg, &run.cg, spec, 1 /* init */);
                        if (r < 0)
                                box_cgroup_destroy(&c->cg, &run.cg);
                }
        }
        if (fresh) {
                snprintf(name, sizeof name, "coderunner-%d-%u-%" PRIu64, (int) getpid(), c->slot, seq);
                r = box_cgroup_create(&c->cg, name, spec, 1 /* init */, &run.cg);
        }
        c->last_limits = (BoxCgroupLimits){.memory_kib = spec->memory_kib, .processes = spec->processes};
        if (r < 0) {
                ret->status = BOX_STATUS_XX;
                set_message(ret, "cannot create the cgroup %s: %s", name, strerror(-r));
                r = 0;
                goto out;
        }
        run.have_cg = true;

        /* The root prepared between answers (box_context_cleanup), for this run alone;
         * this process keeps the namespace open until the answer is out, so that init's
         * exit does not wait for its mounts to be torn down. */
        run.root_fd = TAKE_FD(c->root_fd);
        plan->root_fd = run.root_fd;
        /* A kernel with the mount API a prepared root needs (5.12) has CLONE_CLEAR_SIGHAND
         * (5.5): the child resets only the signals we ignore. */
        plan->handlers_cleared = plan->root_fd >= 0 && c->signals_known;
        plan->ignored_signals = c->ignored_signals;

        run.start = now_usec(CLOCK_MONOTONIC);
        uint64_t flags;
        r = launch(&run, plan, &flags);
        /* The child has its copies; ours go now, so that EOF means the tree is gone. */
        out[1] = safe_close(out[1]);
        err[1] = safe_close(err[1]);
        errp[1] = safe_close(errp[1]);
        stp[1] = safe_close(stp[1]);
        if (r < 0) {
                ret->status = BOX_STATUS_XX;
                set_message(ret, "clone3 (flags 0x%" PRIx64 "): %s", flags, strerror(-r));
                r = 0;
                goto out;
        }

        struct stat dst;
        run.out.dest_is_file = run.out.dest >= 0 && fstat(run.out.dest, &dst) == 0 && S_ISREG(dst.st_mode);
        run.out.dest_is_socket =
                run.out.dest >= 0 && fstat(run.out.dest, &dst) == 0 && S_ISSOCK(dst.st_mode);
        run.err.dest_is_file = run.err.dest >= 0 && fstat(run.err.dest, &dst) == 0 && S_ISREG(dst.st_mode);
        run.err.dest_is_socket =
                run.err.dest >= 0 && fstat(run.err.dest, &dst) == 0 && S_ISSOCK(dst.st_mode);
        run.out.fd = TAKE_FD(out[0]);
        run.out.cap = spec->output_kib * 1024;
        run.err.fd = TAKE_FD(err[0]);
        run.err.cap = spec->output_kib * 1024;
        run.error_r = TAKE_FD(errp[0]);
        run.status_r = TAKE_FD(stp[0]);
        watch(&run);

        siginfo_t si = {};
        (void) RETRY_EINTR(waitid((idtype_t) P_PIDFD, (id_t) run.pidfd, &si, WEXITED));
        /* A setup failure and the program's status were written before init exited: they
         * wait in their pipes (one record each, within PIPE_BUF), read once now rather
         * than waking us during the run. */
        read_record(&run.error_r, &run.jerr, sizeof run.jerr, &run.jerr_got);
        read_record(&run.status_r, &run.jst, sizeof run.jst, &run.jst_got);
        if (!run.end)
                run.end = now_usec(CLOCK_MONOTONIC);
        /* Belt and braces: nothing of the tree may outlive the run (init's exit took its
         * pid namespace with it). A slot does this after answering, before the cgroups go
         * (box_context_cleanup), unless a workdir is to be given back first. */
        if (!c->defer_cleanup || run.workdir_fd >= 0)
                box_cgroup_kill(&c->cg, &run.cg);
        decide(&run, si.si_code == CLD_EXITED ? si.si_status << 8 : si.si_status);
        r = 0;
out:
        if (run.have_cg) {
                /* The tree is gone (init was reaped). Removing its cgroups can wait until
                 * the result is out, when the caller asked for that. */
                if (c->defer_cleanup && !c->have_pending) {
                        c->pending = run.cg;
                        c->have_pending = true;
                } else {
                        if (c->defer_cleanup)
                                box_cgroup_kill(&c->cg, &run.cg); /* not done above */
                        box_cgroup_destroy(&c->cg, &run.cg);
                }
        }
        restore_workdir(&run);
        if (c->defer_cleanup && c->pending_root_fd < 0)
                c->pending_root_fd = TAKE_FD(run.root_fd);
        safe_close(run.root_fd);
        safe_close(run.pidfd);
        safe_close(run.out.fd);
        safe_close(run.err.fd);
        safe_close(run.error_r);
        safe_close(run.status_r);
        for (int i = 0; i < 2; i++) {
                safe_close(out[i]);
                safe_close(err[i]);
                safe_close(errp[i]);
                safe_close(stp[i]);
        }
        return r;
}
