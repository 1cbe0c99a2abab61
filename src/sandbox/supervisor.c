/* SPDX-License-Identifier: MIT */
/* The resident supervisor: a privileged process tree that runs sandboxes on request, so
 * that the code that talks to the network never needs privileges.
 *
 * One listening socket; one process per slot, each with its own BoxContext (its own box
 * uid and cgroups), each accepting one connection at a time and serving its runs in
 * order. Nothing is exec'd per run. The parent only restarts slots that die and stops
 * everything on SIGTERM. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/log.h"
#include "sandbox/box-internal.h"

#define PROTO_MAGIC_REQUEST 0x31425243u /* "CRB1" */
#define PROTO_MAGIC_RESULT 0x32425243u /* "CRB2" */
#define MAX_SLOTS 1024

enum {
        FD_STDIN = 1 << 0,
        FD_STDOUT = 1 << 1,
        FD_STDERR = 1 << 2,
};

typedef struct Header {
        uint32_t magic;
        uint32_t len;
        uint32_t fds; /* FD_* bits: which streams ride along, in that order */
        uint32_t reserved;
} Header;

/* ---- framing ---- */

static int send_frame(int sock, uint32_t magic, const void *payload, size_t len, const int *fds, size_t nfds,
        uint32_t fdbits) {
        Header h = {.magic = magic, .len = (uint32_t) len, .fds = fdbits};
        struct iovec iov[2] = {{&h, sizeof h}, {(void *) payload, len}};
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(3 * sizeof(int))];
        } ctl = {};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = 2};
        if (nfds > 0) {
                msg.msg_control = ctl.buf;
                msg.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
                memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
        }
        ssize_t n = RETRY_EINTR(sendmsg(sock, &msg, MSG_NOSIGNAL));
        if (n < 0)
                return -errno;
        size_t sent = (size_t) n, total = sizeof h + len;
        /* The rest, without fds. */
        while (sent < total) {
                const uint8_t *p;
                size_t off;
                if (sent < sizeof h) {
                        p = (const uint8_t *) &h;
                        off = sent;
                        n = RETRY_EINTR(send(sock, p + off, sizeof h - off, MSG_NOSIGNAL));
                } else {
                        p = payload;
                        off = sent - sizeof h;
                        n = RETRY_EINTR(send(sock, p + off, len - off, MSG_NOSIGNAL));
                }
                if (n <= 0)
                        return n < 0 ? -errno : -EPIPE;
                sent += (size_t) n;
        }
        return 0;
}

/* Receive one frame. *ret_payload is malloc'd; fds received are stored in fds[] (up to 3),
 * the rest closed. Returns 0, -ECONNRESET on a clean EOF before a frame, or -errno. */
static int recv_frame(int sock, uint32_t magic, uint8_t **ret_payload, size_t *ret_len, int fds[3],
        size_t *ret_nfds, uint32_t *ret_fdbits) {
        Header h;
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(8 * sizeof(int))];
        } ctl;
        struct iovec iov = {&h, sizeof h};
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
        size_t nfds = 0;

        ssize_t n = RETRY_EINTR(recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_WAITALL));
        if (n == 0)
                return -ECONNRESET;
        if (n < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int *in = (int *) CMSG_DATA(c);
                for (size_t i = 0; i < k; i++) {
                        if (fds && nfds < 3)
                                fds[nfds++] = in[i];
                        else
                                safe_close(in[i]);
                }
        }
        int r;
        if ((size_t) n != sizeof h || h.magic != magic || h.len > PROTO_MAX_MESSAGE ||
                (msg.msg_flags & MSG_CTRUNC)) {
                r = -EBADMSG;
                goto fail;
        }
        uint8_t *payload = malloc(h.len ? h.len : 1);
        if (!payload) {
                r = -ENOMEM;
                goto fail;
        }
        if (h.len > 0) {
                ssize_t got = read_full(sock, payload, h.len);
                if (got != (ssize_t) h.len) {
                        free(payload);
                        r = got < 0 ? (int) got : -EBADMSG;
                        goto fail;
                }
        }
        *ret_payload = payload;
        *ret_len = h.len;
        if (ret_nfds)
                *ret_nfds = nfds;
        if (ret_fdbits)
                *ret_fdbits = h.fds;
        return 0;
fail:
        for (size_t i = 0; i < nfds; i++)
                safe_close(fds[i]);
        return r;
}

/* ---- client ---- */

struct BoxClient {
        int sock;
};

int box_client_connect(const char *socket_path, BoxClient **ret) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(socket_path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (RETRY_EINTR(connect(fd, (struct sockaddr *) &sa, sizeof sa)) < 0)
                return -errno;
        BoxClient *c = malloc(sizeof *c);
        if (!c)
                return -ENOMEM;
        c->sock = TAKE_FD(fd);
        *ret = c;
        return 0;
}

BoxClient *box_client_free(BoxClient *c) {
        if (!c)
                return NULL;
        safe_close(c->sock);
        free(c);
        return NULL;
}

int box_client_run(BoxClient *c, const BoxSpec *spec, BoxResult *ret) {
        _cleanup_free_ uint8_t *buf = NULL, *reply = NULL;
        size_t len, rlen;
        int fds[3];
        size_t nfds = 0;
        uint32_t bits = 0;

        int r = proto_encode_spec(spec, &buf, &len);
        if (r < 0)
                return r;
        if (spec->stdin_fd >= 0) {
                fds[nfds++] = spec->stdin_fd;
                bits |= FD_STDIN;
        }
        if (spec->stdout_fd >= 0) {
                fds[nfds++] = spec->stdout_fd;
                bits |= FD_STDOUT;
        }
        if (spec->stderr_fd >= 0) {
                fds[nfds++] = spec->stderr_fd;
                bits |= FD_STDERR;
        }
        r = send_frame(c->sock, PROTO_MAGIC_REQUEST, buf, len, fds, nfds, bits);
        if (r < 0)
                return r;
        r = recv_frame(c->sock, PROTO_MAGIC_RESULT, &reply, &rlen, NULL, NULL, NULL);
        if (r < 0)
                return r == -ECONNRESET ? -EPIPE : r;
        return proto_decode_result(reply, rlen, ret);
}

/* ---- slot ---- */

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
        (void) sig;
        stop_requested = 1;
}

static bool peer_allowed(int sock, const BoxSupervisorConfig *cfg, struct ucred *ret) {
        struct ucred cr;
        socklen_t l = sizeof cr;
        if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cr, &l) < 0)
                return false;
        *ret = cr;
        return cr.uid == 0 || cr.uid == geteuid() ||
               (cfg->client_uid != (uid_t) -1 && cr.uid == cfg->client_uid);
}

static void serve_connection(BoxContext *ctx, int sock, const BoxSupervisorConfig *cfg) {
        struct ucred cr;
        if (!peer_allowed(sock, cfg, &cr))
                return;
        for (;;) {
                _cleanup_free_ uint8_t *buf = NULL;
                _cleanup_free_ void *arena = NULL;
                size_t len, nfds = 0;
                int fds[3] = {-1, -1, -1};
                uint32_t bits = 0;
                BoxSpec spec;
                BoxResult res = {.exit_code = -1};

                int r = recv_frame(sock, PROTO_MAGIC_REQUEST, &buf, &len, fds, &nfds, &bits);
                if (r < 0)
                        return;
                r = proto_decode_spec(buf, len, &spec, &arena);
                if (r == 0) {
                        size_t k = 0;
                        if (bits & FD_STDIN)
                                spec.stdin_fd = k < nfds ? fds[k++] : -1;
                        if (bits & FD_STDOUT)
                                spec.stdout_fd = k < nfds ? fds[k++] : -1;
                        if (bits & FD_STDERR)
                                spec.stderr_fd = k < nfds ? fds[k++] : -1;
                        /* The client's paths are opened with the client's identity. */
                        r = box_run_as(ctx, &spec, cr.uid, cr.gid, &res);
                        if (r < 0) {
                                res.status = BOX_STATUS_XX;
                                snprintf(res.message, sizeof res.message, "the sandbox failed: %s",
                                        strerror(-r));
                        }
                } else {
                        res.status = BOX_STATUS_XX;
                        snprintf(res.message, sizeof res.message, "malformed request: %s", strerror(-r));
                }
                for (size_t i = 0; i < nfds; i++)
                        safe_close(fds[i]);
                uint8_t out[sizeof(BoxResult) + 16];
                size_t olen;
                proto_encode_result(&res, out, &olen);
                r = send_frame(sock, PROTO_MAGIC_RESULT, out, olen, NULL, 0, 0);
                /* The answer is out: now the empty cgroups of the run can go. */
                box_context_cleanup(ctx);
                if (r < 0)
                        return;
                if (stop_requested)
                        return;
        }
}

_Noreturn static void slot_main(unsigned slot, int listen_fd, int ready_fd, const BoxSupervisorConfig *cfg) {
        BoxContext *ctx = NULL;
        (void) prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
        struct sigaction sa = {.sa_handler = on_stop};
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        int r = box_context_new(&(BoxContextConfig){.slot = slot,
                                        .uid_base = cfg->uid_base,
                                        .net_allow = cfg->net_allow,
                                        .net_deny = cfg->net_deny},
                &ctx);
        if (r < 0) {
                log_error(r, "slot %u: cannot prepare the sandbox: %s", slot, strerror(-r));
                _exit(3);
        }
        ctx->defer_cleanup = true;
        if (ready_fd >= 0) {
                (void) !write(ready_fd, "x", 1);
                close(ready_fd);
        }
        while (!stop_requested) {
                int sock = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (sock < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        log_error(errno, "slot %u: accept: %s", slot, strerror(errno));
                        break;
                }
                serve_connection(ctx, sock, cfg);
                close(sock);
        }
        box_context_free(ctx);
        _exit(0);
}

static int make_listener(const char *path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path) + 1);

        /* The directory, when it is ours to make. */
        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0 || chmod(path, 0666) < 0 ||
                listen(fd, 128) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* Serve until SIGTERM/SIGINT. ready_fd (if >= 0) gets one byte once all slots are up. */
static int serve(const BoxSupervisorConfig *cfg, int ready_fd) {
        unsigned slots = cfg->slots;
        if (slots == 0) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                slots = n > 0 ? (unsigned) n : 1;
        }
        if (slots > MAX_SLOTS)
                return log_error(ERANGE, "at most %d slots", MAX_SLOTS);

        sigset_t mask, old;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &old);

        int listen_fd = make_listener(cfg->socket_path);
        if (listen_fd < 0) {
                sigprocmask(SIG_SETMASK, &old, NULL);
                return log_error(
                        listen_fd, "cannot listen on %s: %s", cfg->socket_path, strerror(-listen_fd));
        }
        int ready[2];
        if (pipe2(ready, O_CLOEXEC) < 0) {
                close(listen_fd);
                sigprocmask(SIG_SETMASK, &old, NULL);
                return -errno;
        }
        pid_t *pids = calloc(slots, sizeof(pid_t));
        if (!pids) {
                close(listen_fd);
                close(ready[0]);
                close(ready[1]);
                sigprocmask(SIG_SETMASK, &old, NULL);
                return -ENOMEM;
        }
        int r = 0;
        for (unsigned i = 0; i < slots; i++) {
                pid_t pid = fork();
                if (pid < 0) {
                        r = -errno;
                        break;
                }
                if (pid == 0) {
                        /* A slot starts with no signal blocked, whatever the caller had. */
                        sigset_t none;
                        sigemptyset(&none);
                        sigprocmask(SIG_SETMASK, &none, NULL);
                        close(ready[0]);
                        slot_main(i, listen_fd, ready[1], cfg);
                }
                pids[i] = pid;
        }
        close(ready[1]);
        /* Wait for every slot to be ready (or one to fail). */
        unsigned up = 0;
        while (r == 0 && up < slots) {
                char c;
                ssize_t n = read(ready[0], &c, 1);
                if (n == 1)
                        up++;
                else if (n < 0 && errno == EINTR)
                        continue;
                else
                        r = -ECHILD;
        }
        close(ready[0]);
        if (r == 0) {
                if (ready_fd >= 0) {
                        (void) !write(ready_fd, "x", 1);
                        close(ready_fd);
                }
        }
        /* Restart slots that die; stop on SIGTERM/SIGINT. */
        while (r == 0) {
                siginfo_t si;
                int sig = sigwaitinfo(&mask, &si);
                if (sig < 0)
                        continue;
                if (sig == SIGTERM || sig == SIGINT)
                        break;
                for (;;) {
                        int status;
                        pid_t p = waitpid(-1, &status, WNOHANG);
                        if (p <= 0)
                                break;
                        for (unsigned i = 0; i < slots; i++) {
                                if (pids[i] != p)
                                        continue;
                                log_warning(0, "slot %u exited (status 0x%x), restarting it", i,
                                        (unsigned) status);
                                pid_t np = fork();
                                if (np == 0) {
                                        sigset_t none;
                                        sigemptyset(&none);
                                        sigprocmask(SIG_SETMASK, &none, NULL);
                                        slot_main(i, listen_fd, -1, cfg);
                                }
                                pids[i] = np > 0 ? np : 0;
                        }
                }
        }
        for (unsigned i = 0; i < slots; i++)
                if (pids[i] > 0)
                        kill(pids[i], SIGTERM);
        for (unsigned i = 0; i < slots; i++)
                if (pids[i] > 0)
                        (void) RETRY_EINTR(waitpid(pids[i], NULL, 0));
        free(pids);
        close(listen_fd);
        (void) unlink(cfg->socket_path);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

int box_supervisor_serve(const BoxSupervisorConfig *cfg) {
        return serve(cfg, -1);
}

struct BoxSupervisor {
        pid_t pid;
        char *socket_path;
        char *tmpdir;
};

BoxSupervisor *box_supervisor_free(BoxSupervisor *s) {
        if (!s)
                return NULL;
        if (s->pid > 0) {
                /* SIGTERM lets running boxes finish their answer; past a bound, SIGKILL (the
                 * slots and their boxes die with it through PDEATHSIG). */
                kill(s->pid, SIGTERM);
                int pfd = (int) syscall(SYS_pidfd_open, s->pid, 0);
                if (pfd >= 0) {
                        struct pollfd p = {.fd = pfd, .events = POLLIN};
                        if (RETRY_EINTR(poll(&p, 1, 10000)) == 0)
                                kill(s->pid, SIGKILL);
                        close(pfd);
                }
                (void) RETRY_EINTR(waitpid(s->pid, NULL, 0));
        }
        if (s->tmpdir) {
                (void) unlink(s->socket_path);
                (void) rmdir(s->tmpdir);
        }
        free(s->socket_path);
        free(s->tmpdir);
        free(s);
        return NULL;
}

const char *box_supervisor_socket(BoxSupervisor *s) {
        return s->socket_path;
}

int box_supervisor_start(const BoxSupervisorConfig *cfg, BoxSupervisor **ret) {
        BoxSupervisor *s = calloc(1, sizeof *s);
        BoxSupervisorConfig c = *cfg;
        int ready[2];
        int r;

        if (!s)
                return -ENOMEM;
        if (cfg->socket_path)
                s->socket_path = strdup(cfg->socket_path);
        else {
                char tmpl[] = "/tmp/coderunner-box-XXXXXX";
                if (!mkdtemp(tmpl)) {
                        r = -errno;
                        goto fail;
                }
                s->tmpdir = strdup(tmpl);
                if (s->tmpdir && asprintf(&s->socket_path, "%s/box.sock", tmpl) < 0)
                        s->socket_path = NULL;
        }
        if (!s->socket_path) {
                r = -ENOMEM;
                goto fail;
        }
        c.socket_path = s->socket_path;
        if (pipe2(ready, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        s->pid = fork();
        if (s->pid < 0) {
                r = -errno;
                close(ready[0]);
                close(ready[1]);
                goto fail;
        }
        if (s->pid == 0) {
                close(ready[0]);
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
                /* The caller may have blocked SIGTERM (a server that waits for signals in
                 * a thread): the supervisor must still see it. */
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                _exit(serve(&c, ready[1]) < 0 ? 2 : 0);
        }
        close(ready[1]);
        char x;
        ssize_t n = RETRY_EINTR(read(ready[0], &x, 1));
        close(ready[0]);
        if (n != 1) {
                r = -ECHILD;
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        box_supervisor_free(s);
        return r;
}
