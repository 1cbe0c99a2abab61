/* SPDX-License-Identifier: MIT */
/* The resident supervisor: a privileged process tree that runs sandboxes on request, so
 * that the code that talks to the network never needs privileges.
 *
 * One listening socket, accepted by the parent alone; one process per slot, each with its
 * own BoxContext (its own box uid and cgroups). The parent hands each connection to an
 * idle slot (SCM_RIGHTS over the slot's control socket) and answers "busy" at once when
 * every slot has one, instead of leaving the client in the backlog. A slot serves its
 * connection's runs in order, and gives up on a client that stays silent between
 * requests past the idle time-out or sends a request slower than the read time-out.
 * Nothing is exec'd per run. The parent restarts slots that die and stops everything on
 * SIGTERM. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/log.h"
#include "base/time-util.h"
#include "sandbox/box-internal.h"

#define PROTO_MAGIC_REQUEST 0x31425243u /* "CRB1" */
#define PROTO_MAGIC_RESULT 0x32425243u /* "CRB2" */
#define PROTO_MAGIC_BUSY 0x33425243u /* "CRB3": every slot is taken; then the connection closes */
#define MAX_SLOTS 1024
#define DEFAULT_READ_TIMEOUT_USEC (5 * USEC_PER_SEC)
#define DEFAULT_IDLE_TIMEOUT_USEC (60 * USEC_PER_SEC)
#define LISTENER_CHECK_MSEC 1000

enum {
        FD_STDIN = 1 << 0,
        FD_STDOUT = 1 << 1,
        FD_STDERR = 1 << 2,
        FD_CONTROL = 1 << 3,
};

typedef struct Header {
        uint32_t magic;
        uint32_t len;
        uint32_t fds; /* FD_* bits: which streams ride along, in that order */
        uint32_t flags; /* HEADER_* */
} Header;

/* A request's flag: it is the connection's last, so the slot closes the connection once it
 * has answered and is free for the next client at once, before it prepares its next run
 * (a client that closed by itself is noticed only then, and one that connects meanwhile
 * would be answered busy). */
#define HEADER_LAST 1u

/* Set in a slot by SIGTERM/SIGINT: a wait for a client gives up. */
static volatile sig_atomic_t stop_requested;

/* ---- framing ---- */

static int send_frame(int sock, uint32_t magic, uint32_t flags, const void *payload, size_t len,
        const int *fds, size_t nfds, uint32_t fdbits) {
        Header h = {.magic = magic, .len = (uint32_t) len, .fds = fdbits, .flags = flags};
        struct iovec iov[2] = {{&h, sizeof h}, {(void *) payload, len}};
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(4 * sizeof(int))];
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

/* The fds a message carried: the first `max` into fds[], the rest closed. */
static size_t take_fds(struct msghdr *msg, int *fds, size_t max) {
        size_t n = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c; c = CMSG_NXTHDR(msg, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int *in = (int *) CMSG_DATA(c);
                for (size_t i = 0; i < k; i++) {
                        if (n < max)
                                fds[n++] = in[i];
                        else
                                safe_close(in[i]);
                }
        }
        return n;
}

/* Wait until fd is readable or the deadline (CLOCK_MONOTONIC usec; 0 = none) passes. */
static int wait_readable(int fd, uint64_t deadline) {
        for (;;) {
                int ms = -1;
                if (deadline) {
                        uint64_t now = now_usec(CLOCK_MONOTONIC);
                        if (now >= deadline)
                                return -ETIMEDOUT;
                        ms = (int) ((deadline - now + 999) / 1000);
                }
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int n = poll(&p, 1, ms);
                if (n > 0)
                        return 0;
                if (n == 0)
                        return -ETIMEDOUT;
                if (errno != EINTR || stop_requested)
                        return -errno;
        }
}

/* Read exactly len bytes before the deadline. -EBADMSG on EOF in the middle. */
static int read_exact(int fd, void *buf, size_t len, uint64_t deadline) {
        for (size_t got = 0; got < len;) {
                int r = wait_readable(fd, deadline);
                if (r < 0)
                        return r;
                ssize_t n = read(fd, (uint8_t *) buf + got, len - got);
                if (n < 0) {
                        if (errno == EINTR || errno == EAGAIN)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EBADMSG;
                got += (size_t) n;
        }
        return 0;
}

typedef struct Deadlines {
        uint64_t first_byte_usec; /* how long to wait for a frame to start (0 = forever) */
        uint64_t frame_usec; /* how long the rest of it may take once it started (0 = forever) */
} Deadlines;

static uint64_t deadline_in(uint64_t usec) {
        return usec ? now_usec(CLOCK_MONOTONIC) + usec : 0;
}

/* Receive one frame whose magic is one of magics[0..1] (0 = unused). *ret_payload is
 * malloc'd; fds received are stored in fds[] (up to 3), the rest closed. Returns 0,
 * -ECONNRESET on a clean EOF before a frame, -ETIMEDOUT when a deadline passed, or
 * -errno. */
static int recv_frame(int sock, const uint32_t magics[2], const Deadlines *dl, uint8_t **ret_payload,
        size_t *ret_len, int fds[4], size_t *ret_nfds, uint32_t *ret_fdbits, uint32_t *ret_magic,
        uint32_t *ret_flags) {
        Header h;
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(8 * sizeof(int))];
        } ctl;
        struct iovec iov = {&h, sizeof h};
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof ctl.buf};
        size_t nfds = 0;
        int r;

        r = wait_readable(sock, deadline_in(dl->first_byte_usec));
        if (r < 0)
                return r;
        uint64_t deadline = deadline_in(dl->frame_usec);
        /* The fds ride on the first bytes; the rest of the header may come later. */
        ssize_t n = RETRY_EINTR(recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT));
        if (n == 0)
                return -ECONNRESET;
        if (n < 0)
                return errno == EAGAIN ? -ETIMEDOUT : -errno;
        nfds = take_fds(&msg, fds, fds ? 4 : 0);
        if (msg.msg_flags & MSG_CTRUNC) {
                r = -EBADMSG;
                goto fail;
        }
        if ((size_t) n < sizeof h) {
                r = read_exact(sock, (uint8_t *) &h + n, sizeof h - (size_t) n, deadline);
                if (r < 0)
                        goto fail;
        }
        if ((h.magic != magics[0] && (!magics[1] || h.magic != magics[1])) || h.len > PROTO_MAX_MESSAGE) {
                r = -EBADMSG;
                goto fail;
        }
        uint8_t *payload = malloc(h.len ? h.len : 1);
        if (!payload) {
                r = -ENOMEM;
                goto fail;
        }
        if (h.len > 0) {
                r = read_exact(sock, payload, h.len, deadline);
                if (r < 0) {
                        free(payload);
                        goto fail;
                }
        }
        *ret_payload = payload;
        *ret_len = h.len;
        if (ret_nfds)
                *ret_nfds = nfds;
        if (ret_fdbits)
                *ret_fdbits = h.fds;
        if (ret_magic)
                *ret_magic = h.magic;
        if (ret_flags)
                *ret_flags = h.flags;
        return 0;
fail:
        for (size_t i = 0; i < nfds; i++)
                safe_close(fds[i]);
        return r;
}

/* ---- client ---- */

struct BoxClient {
        int sock;
        char *path;
        bool last; /* box_client_last_request() */
};

static int client_socket(const char *socket_path) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(socket_path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (RETRY_EINTR(connect(fd, (struct sockaddr *) &sa, sizeof sa)) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int box_client_connect(const char *socket_path, BoxClient **ret) {
        _cleanup_close_ int fd = client_socket(socket_path);
        if (fd < 0)
                return fd;
        BoxClient *c = malloc(sizeof *c);
        if (!c)
                return -ENOMEM;
        *c = (BoxClient){.sock = TAKE_FD(fd), .path = strdup(socket_path)};
        if (!c->path)
                return box_client_free(c), -ENOMEM;
        *ret = c;
        return 0;
}

BoxClient *box_client_free(BoxClient *c) {
        if (!c)
                return NULL;
        safe_close(c->sock);
        free(c->path);
        free(c);
        return NULL;
}

static int client_reconnect(BoxClient *c) {
        int fd = client_socket(c->path);
        if (fd < 0)
                return fd;
        safe_close(c->sock);
        c->sock = fd;
        return 0;
}

/* Before a request: the supervisor may have closed the connection while it was idle, or
 * answered "busy" right after accepting it. Either is waiting to be read; then connect
 * again (for this request, or for the next one after a busy answer). */
static int client_check(BoxClient *c) {
        struct pollfd p = {.fd = c->sock, .events = POLLIN | POLLRDHUP};
        if (RETRY_EINTR(poll(&p, 1, 0)) <= 0)
                return 0;
        _cleanup_free_ uint8_t *payload = NULL;
        size_t len;
        uint32_t magic = 0;
        bool busy = recv_frame(c->sock, (const uint32_t[2]){PROTO_MAGIC_BUSY, 0},
                            &(Deadlines){.frame_usec = DEFAULT_READ_TIMEOUT_USEC}, &payload, &len, NULL,
                            NULL, NULL, &magic, NULL) == 0;
        int r = client_reconnect(c);
        if (r < 0)
                return r;
        return busy ? -EBUSY : 0;
}

void box_client_last_request(BoxClient *c) {
        c->last = true;
}

int box_client_run(BoxClient *c, const BoxSpec *spec, BoxResult *ret) {
        _cleanup_free_ uint8_t *buf = NULL, *reply = NULL;
        size_t len, rlen;
        int fds[4];
        size_t nfds = 0;
        uint32_t bits = 0, magic = 0;

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
        if (spec->control_fd >= 0) {
                fds[nfds++] = spec->control_fd;
                bits |= FD_CONTROL;
        }
        /* A send that finds the connection closed (between the check and the send, or a
         * busy answer to a fresh connection) was read by nobody: look at what is
         * waiting, connect again, send again. */
        for (unsigned attempt = 0;; attempt++) {
                r = client_check(c);
                if (r < 0)
                        return r;
                r = send_frame(
                        c->sock, PROTO_MAGIC_REQUEST, c->last ? HEADER_LAST : 0, buf, len, fds, nfds, bits);
                if ((r != -EPIPE && r != -ECONNRESET) || attempt == 2)
                        break;
        }
        if (r < 0)
                return r;
        c->last = false; /* a later request finds the connection closed and makes another */
        r = recv_frame(c->sock, (const uint32_t[2]){PROTO_MAGIC_RESULT, PROTO_MAGIC_BUSY}, &(Deadlines){},
                &reply, &rlen, NULL, NULL, NULL, &magic, NULL);
        if (r < 0)
                return r == -ECONNRESET ? -EPIPE : r;
        if (magic == PROTO_MAGIC_BUSY) {
                (void) client_reconnect(c); /* the next request tries again */
                return -EBUSY;
        }
        return proto_decode_result(reply, rlen, ret);
}

/* ---- slot ---- */

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

static uint64_t read_timeout(const BoxSupervisorConfig *cfg) {
        return cfg->read_timeout_usec ? cfg->read_timeout_usec : DEFAULT_READ_TIMEOUT_USEC;
}

static uint64_t idle_timeout(const BoxSupervisorConfig *cfg) {
        return cfg->idle_timeout_usec ? cfg->idle_timeout_usec : DEFAULT_IDLE_TIMEOUT_USEC;
}

/* The slot tells the parent it is free again: before the client can see the end of its
 * connection (the answer to its last request, or the close), so that a client that
 * connects again at once is never answered busy. */
static void report_idle(int ctl) {
        (void) RETRY_EINTR(send(ctl, "f", 1, MSG_NOSIGNAL));
}

/* Serve one connection's requests in order. Returns true when the slot was reported idle
 * already (before the answer to a request flagged HEADER_LAST). */
static bool serve_connection(BoxContext *ctx, int sock, int ctl, const BoxSupervisorConfig *cfg) {
        struct ucred cr;
        if (!peer_allowed(sock, cfg, &cr))
                return false;
        /* A client that does not read its answer cannot hold the slot either. */
        uint64_t rt = read_timeout(cfg);
        struct timeval tv = {
                .tv_sec = (time_t) (rt / USEC_PER_SEC), .tv_usec = (suseconds_t) (rt % USEC_PER_SEC)};
        (void) setsockopt(sock, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        const Deadlines dl = {.first_byte_usec = idle_timeout(cfg), .frame_usec = rt};
        for (;;) {
                _cleanup_free_ uint8_t *buf = NULL;
                _cleanup_free_ void *arena = NULL;
                size_t len, nfds = 0;
                int fds[4] = {-1, -1, -1, -1};
                uint32_t bits = 0, hflags = 0;
                BoxSpec spec;
                BoxResult res = {.exit_code = -1};

                int r = recv_frame(sock, (const uint32_t[2]){PROTO_MAGIC_REQUEST, 0}, &dl, &buf, &len, fds,
                        &nfds, &bits, NULL, &hflags);
                if (r < 0)
                        return false; /* EOF, silence past a time-out, or garbage: the slot is free again */
                r = proto_decode_spec(buf, len, &spec, &arena);
                if (r == 0) {
                        size_t k = 0;
                        if (bits & FD_STDIN)
                                spec.stdin_fd = k < nfds ? fds[k++] : -1;
                        if (bits & FD_STDOUT)
                                spec.stdout_fd = k < nfds ? fds[k++] : -1;
                        if (bits & FD_STDERR)
                                spec.stderr_fd = k < nfds ? fds[k++] : -1;
                        if (bits & FD_CONTROL)
                                spec.control_fd = k < nfds ? fds[k++] : -1;
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
                if (hflags & HEADER_LAST) {
                        /* the caller closes the connection and cleans up */
                        report_idle(ctl);
                        (void) send_frame(sock, PROTO_MAGIC_RESULT, 0, out, olen, NULL, 0, 0);
                        return true;
                }
                r = send_frame(sock, PROTO_MAGIC_RESULT, 0, out, olen, NULL, 0, 0);
                if (r < 0)
                        return false;
                /* The answer is out: now the last run's mounts and cgroups can go, and the
                 * next run's be made. */
                box_context_cleanup(ctx);
                if (stop_requested)
                        return false;
        }
}

/* The parent and a slot talk over a SOCK_SEQPACKET pair: the parent sends a connection
 * (one byte and the fd), the slot answers one byte when it is idle again. */
static int send_conn(int ctl, int fd) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } cbuf = {};
        struct iovec iov = {(void *) "c", 1};
        struct msghdr msg = {.msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = cbuf.buf,
                .msg_controllen = sizeof cbuf.buf};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof fd);
        return RETRY_EINTR(sendmsg(ctl, &msg, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 ? -errno : 0;
}

/* The next connection from the parent: its fd, -ECONNRESET when the parent is gone, or
 * -EINTR on a signal. */
static int recv_conn(int ctl) {
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(4 * sizeof(int))];
        } cbuf;
        char b;
        struct iovec iov = {&b, 1};
        struct msghdr msg = {.msg_iov = &iov,
                .msg_iovlen = 1,
                .msg_control = cbuf.buf,
                .msg_controllen = sizeof cbuf.buf};
        ssize_t n = recvmsg(ctl, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0)
                return -errno;
        if (n == 0)
                return -ECONNRESET;
        int fd;
        return take_fds(&msg, &fd, 1) == 1 ? fd : -EBADMSG;
}

_Noreturn static void slot_main(unsigned slot, int ctl, int ready_fd, const BoxSupervisorConfig *cfg) {
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
        ctx->abort_flag = &stop_requested; /* the supervisor died: its runs die too */
        if (ready_fd >= 0) {
                (void) !write(ready_fd, "x", 1);
                close(ready_fd);
        }
        while (!stop_requested) {
                int sock = recv_conn(ctl);
                if (sock == -EINTR)
                        continue;
                if (sock < 0) {
                        if (sock != -ECONNRESET)
                                log_error(sock, "slot %u: %s", slot, strerror(-sock));
                        break;
                }
                /* A connection the parent hands us once we said we are idle waits in ctl
                 * until the cleanup is done. */
                if (!serve_connection(ctx, sock, ctl, cfg))
                        report_idle(ctl);
                close(sock);
                box_context_cleanup(ctx);
        }
        box_context_free(ctx);
        _exit(0);
}

/* Listen on path, making its directory when missing. The directory must be one nobody
 * else can replace the socket in: ours or root's, and writable by others only when
 * sticky (/tmp). *ret_id identifies the socket file, to notice when it goes. */
/* The socket is made listening under a temporary name, then renamed into place: a client
 * never finds it there before it listens (connect would be refused). */
static int make_listener(const char *path, struct stat *ret_id) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s.%d.new", path, (int) getpid());
        if (n < 0 || (size_t) n >= sizeof sa.sun_path)
                return -ENAMETOOLONG;

        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                        return -errno;
                struct stat st;
                if (lstat(dir, &st) < 0)
                        return -errno;
                if (!S_ISDIR(st.st_mode) || (st.st_uid != geteuid() && st.st_uid != 0) ||
                        ((st.st_mode & 0022) && !(st.st_mode & S_ISVTX)))
                        return -EPERM;
        }
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        (void) unlink(sa.sun_path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -errno;
        if (chmod(sa.sun_path, 0666) < 0 || listen(fd, 128) < 0 || rename(sa.sun_path, path) < 0 ||
                stat(path, ret_id) < 0) {
                int r = -errno;
                (void) unlink(sa.sun_path);
                return r;
        }
        return TAKE_FD(fd);
}

/* Whether path still leads to the socket we listen on (a tmp cleaner or an operator may
 * have removed it, or its directory). */
static bool listener_in_place(const char *path, const struct stat *id) {
        struct stat st;
        return stat(path, &st) == 0 && st.st_dev == id->st_dev && st.st_ino == id->st_ino;
}

typedef struct Slot {
        pid_t pid; /* 0 when not running */
        int ctl; /* our end of its control pair; -1 when not running */
        bool idle;
} Slot;

/* Fork slot i. Its first connection may be sent at once: it waits in the control pair
 * until the slot is ready. */
static int slot_start(
        Slot *slots, unsigned n, unsigned i, int listen_fd, int ready_fd, const BoxSupervisorConfig *cfg) {
        int pair[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(pair[0]);
                close(pair[1]);
                return r;
        }
        if (pid == 0) {
                /* A slot starts with no signal blocked, whatever the caller had, and holds
                 * nothing of the parent's: not the listening socket, not another slot's pair. */
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                close(listen_fd);
                close(pair[0]);
                for (unsigned k = 0; k < n; k++)
                        if (slots[k].ctl >= 0)
                                close(slots[k].ctl);
                slot_main(i, pair[1], ready_fd, cfg);
        }
        close(pair[1]);
        slots[i] = (Slot){.pid = pid, .ctl = pair[0], .idle = true};
        return 0;
}

/* A new connection: to an idle slot, else answered busy and closed. */
static void dispatch(Slot *slots, unsigned n, int listen_fd, const BoxSupervisorConfig *cfg) {
        for (;;) {
                _cleanup_close_ int conn = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (conn < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue; /* that client gave up: the next one */
                        return; /* EAGAIN: no more; out of descriptors: at the next round */
                }
                struct ucred cr;
                if (!peer_allowed(conn, cfg, &cr))
                        continue;
                bool sent = false;
                for (unsigned i = 0; i < n && !sent; i++) {
                        if (slots[i].ctl < 0 || !slots[i].idle)
                                continue;
                        if (send_conn(slots[i].ctl, conn) == 0) {
                                slots[i].idle = false;
                                sent = true;
                        }
                }
                if (!sent) {
                        /* The client must not wait behind runs it cannot see the end of. */
                        struct timeval tv = {.tv_usec = 100000};
                        (void) setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
                        (void) send_frame(conn, PROTO_MAGIC_BUSY, 0, NULL, 0, NULL, 0, 0);
                }
        }
}

/* The slots' uids, claimed in the host's registry for as long as the supervisor lives
 * (the descriptor is inherited by every slot): the configured range, refused when another
 * service holds any of it, or else the first free range. Rootless, the box user is us and
 * there is nothing to claim. Returns the registry's fd (or -EBADF when rootless). */
static int claim_uids(const BoxSupervisorConfig *cfg, unsigned n, uid_t *ret_base) {
        *ret_base = cfg->uid_base ? cfg->uid_base : BOX_DEFAULT_UID_BASE;
        if (geteuid() != 0)
                return -EBADF;
        (void) mkdir(BOX_UID_REGISTRY_DIR, 0755);
        _cleanup_close_ int fd = uid_registry_open(BOX_UID_REGISTRY);
        if (fd < 0)
                return log_error(
                        fd, "cannot open the box uid registry %s: %s", BOX_UID_REGISTRY, strerror(-fd));
        int r;
        if (cfg->uid_base) {
                r = uid_range_claim(fd, cfg->uid_base, n);
                if (r == -EBUSY)
                        return log_error(r,
                                "box uids %u-%u: some are used by another coderunner service on this host "
                                "(choose another --uid-base)",
                                (unsigned) cfg->uid_base, (unsigned) cfg->uid_base + n - 1);
        } else
                r = uid_range_claim_free(
                        fd, BOX_DEFAULT_UID_BASE, n, BOX_CLI_UIDS_FIRST, BOX_CLI_UIDS_END, ret_base);
        if (r < 0)
                return log_error(r, "cannot claim %u box uids: %s", n, strerror(-r));
        return TAKE_FD(fd);
}

/* Serve until SIGTERM/SIGINT, or until life_fd (if >= 0: the read end of a pipe whose
 * only writer is the process that started us) hangs up: that process stopped or died. A
 * parent that gave up root cannot signal us (nor does its death signal reach us: the
 * kernel checks the dying process's credentials), but its pipe closes all the same.
 * ready_fd (if >= 0) gets one byte once all slots are up. */
static int serve(const BoxSupervisorConfig *config, int ready_fd, int life_fd) {
        unsigned n = config->slots;
        if (n == 0) {
                long k = sysconf(_SC_NPROCESSORS_ONLN);
                n = k > 0 ? (unsigned) k : 1;
        }
        if (n > MAX_SLOTS)
                return log_error(ERANGE, "at most %d slots", MAX_SLOTS);
        BoxSupervisorConfig claimed = *config;
        const BoxSupervisorConfig *cfg = &claimed;
        _cleanup_close_ int uids_fd = claim_uids(config, n, &claimed.uid_base);
        if (uids_fd < 0 && uids_fd != -EBADF)
                return uids_fd;
        log_info("sandbox slots: %u, box uids %u-%u", n, (unsigned) claimed.uid_base,
                (unsigned) claimed.uid_base + n - 1);

        sigset_t mask, old;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGCHLD);
        sigprocmask(SIG_BLOCK, &mask, &old);

        int r = 0;
        int ready[2] = {-1, -1};
        _cleanup_close_ int sfd = -EBADF;
        _cleanup_free_ Slot *slots = NULL;
        _cleanup_free_ struct pollfd *pfd = NULL;
        struct stat listen_id;
        int listen_fd = make_listener(cfg->socket_path, &listen_id);
        if (listen_fd < 0) {
                sigprocmask(SIG_SETMASK, &old, NULL);
                return log_error(
                        listen_fd, "cannot listen on %s: %s", cfg->socket_path, strerror(-listen_fd));
        }
        slots = calloc(n, sizeof *slots);
        pfd = calloc(n + 3, sizeof *pfd);
        if (!slots || !pfd) {
                r = -ENOMEM;
                goto out;
        }
        for (unsigned i = 0; i < n; i++)
                slots[i] = (Slot){.ctl = -1};
        sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0 || pipe2(ready, O_CLOEXEC) < 0) {
                r = -errno;
                goto out;
        }
        for (unsigned i = 0; i < n && r == 0; i++)
                r = slot_start(slots, n, i, listen_fd, ready[1], cfg);
        ready[1] = safe_close(ready[1]);
        /* Wait for every slot to be ready (or one to fail). */
        for (unsigned up = 0; r == 0 && up < n;) {
                char c;
                ssize_t k = read(ready[0], &c, 1);
                if (k == 1)
                        up++;
                else if (k < 0 && errno == EINTR)
                        continue;
                else
                        r = -ECHILD;
        }
        ready[0] = safe_close(ready[0]);
        if (r == 0 && ready_fd >= 0) {
                (void) !write(ready_fd, "x", 1);
                close(ready_fd);
        }
        /* Hand out connections, note idle slots, restart slots that die, keep the socket
         * in place; stop on SIGTERM/SIGINT. */
        uint64_t next_check = 0;
        int listen_error = 0;
        while (r == 0) {
                pfd[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
                pfd[1] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
                for (unsigned i = 0; i < n; i++)
                        pfd[2 + i] = (struct pollfd){.fd = slots[i].ctl, .events = POLLIN};
                pfd[2 + n] = (struct pollfd){.fd = life_fd, .events = POLLIN};
                if (poll(pfd, n + 3, LISTENER_CHECK_MSEC) < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= next_check) {
                        next_check = now + LISTENER_CHECK_MSEC * USEC_PER_MSEC;
                        if (!listener_in_place(cfg->socket_path, &listen_id)) {
                                /* Removed under us: clients connect by path, so listen there
                                 * again (connections already made are not affected). */
                                int fd = make_listener(cfg->socket_path, &listen_id);
                                if (fd >= 0) {
                                        log_warning(0, "%s was removed: listening on it again",
                                                cfg->socket_path);
                                        safe_close(listen_fd);
                                        listen_fd = fd;
                                        pfd[1].revents = 0;
                                } else if (fd != listen_error) {
                                        log_error(fd, "%s was removed and cannot be made again: %s",
                                                cfg->socket_path, strerror(-fd));
                                }
                                listen_error = fd < 0 ? fd : 0;
                        }
                }
                bool stop = life_fd >= 0 && pfd[2 + n].revents;
                struct signalfd_siginfo si;
                while (read(sfd, &si, sizeof si) == (ssize_t) sizeof si)
                        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
                                stop = true;
                if (stop)
                        break;
                for (unsigned i = 0; i < n; i++) {
                        if (slots[i].ctl < 0 || !pfd[2 + i].revents)
                                continue;
                        char b[16];
                        ssize_t k = recv(slots[i].ctl, b, sizeof b, MSG_DONTWAIT);
                        if (k > 0)
                                slots[i].idle = true;
                        else if (k == 0 || (errno != EAGAIN && errno != EINTR))
                                slots[i].ctl = safe_close(slots[i].ctl); /* it died: restarted below */
                }
                for (;;) {
                        int status;
                        pid_t p = waitpid(-1, &status, WNOHANG);
                        if (p <= 0)
                                break;
                        for (unsigned i = 0; i < n; i++) {
                                if (slots[i].pid != p)
                                        continue;
                                log_warning(0, "slot %u exited (status 0x%x), restarting it", i,
                                        (unsigned) status);
                                slots[i].ctl = safe_close(slots[i].ctl);
                                slots[i].pid = 0;
                                int k = slot_start(slots, n, i, listen_fd, -1, cfg);
                                if (k < 0)
                                        log_error(k, "slot %u: cannot restart it: %s", i, strerror(-k));
                        }
                }
                if (pfd[1].revents)
                        dispatch(slots, n, listen_fd, cfg);
        }
out:
        for (unsigned i = 0; slots && i < n; i++) {
                slots[i].ctl = safe_close(slots[i].ctl);
                if (slots[i].pid > 0)
                        kill(slots[i].pid, SIGTERM);
        }
        for (unsigned i = 0; slots && i < n; i++)
                if (slots[i].pid > 0)
                        (void) RETRY_EINTR(waitpid(slots[i].pid, NULL, 0));
        safe_close(ready[0]);
        safe_close(ready[1]);
        close(listen_fd);
        (void) unlink(cfg->socket_path);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

int box_supervisor_serve(const BoxSupervisorConfig *cfg) {
        return serve(cfg, -1, -1);
}

struct BoxSupervisor {
        pid_t pid;
        int life_fd; /* the write end of the supervisor's life pipe: closing it stops it */
        char *socket_path;
        char *tmpdir;
};

BoxSupervisor *box_supervisor_free(BoxSupervisor *s) {
        if (!s)
                return NULL;
        if (s->pid > 0) {
                /* The life pipe's hang-up (or SIGTERM) lets running boxes finish their answer;
                 * past a bound, SIGKILL (the slots and their boxes die with it through
                 * PDEATHSIG). Signals fail once we gave up root; the pipe works always. */
                s->life_fd = safe_close(s->life_fd);
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
        safe_close(s->life_fd);
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
        s->life_fd = -EBADF;
        if (cfg->socket_path)
                s->socket_path = strdup(cfg->socket_path);
        else {
                char tmpl[] = "/tmp/coderunner-box-XXXXXX";
                if (!mkdtemp(tmpl)) {
                        r = -errno;
                        goto fail;
                }
                /* mkdtemp's 0700 lets only us reach the socket: a client of another uid
                 * (a service that dropped root after connecting) could not connect again
                 * once its connection was closed (idle, busy). It may pass, not list; the
                 * supervisor still checks who connects. */
                if (cfg->client_uid != (uid_t) -1 && cfg->client_uid != geteuid() && chmod(tmpl, 0711) < 0) {
                        r = -errno;
                        (void) rmdir(tmpl);
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
        int life[2];
        if (pipe2(ready, O_CLOEXEC) < 0) {
                r = -errno;
                goto fail;
        }
        if (pipe2(life, O_CLOEXEC) < 0) {
                r = -errno;
                close(ready[0]);
                close(ready[1]);
                goto fail;
        }
        s->pid = fork();
        if (s->pid < 0) {
                r = -errno;
                close(ready[0]);
                close(ready[1]);
                close(life[0]);
                close(life[1]);
                goto fail;
        }
        if (s->pid == 0) {
                close(ready[0]);
                close(life[1]);
                (void) prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
                /* The caller may have blocked SIGTERM (a server that waits for signals in
                 * a thread): the supervisor must still see it. */
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                _exit(serve(&c, ready[1], life[0]) < 0 ? 2 : 0);
        }
        close(ready[1]);
        close(life[0]);
        s->life_fd = life[1];
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
