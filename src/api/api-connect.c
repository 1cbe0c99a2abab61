/* SPDX-License-Identifier: MIT */
/* GET /api/v2/connect: Piston's WebSocket protocol, an interactive run. The client sends
 * {"type":"init", ...the execute body...}; the submission is stored and queued with a live
 * channel (model/live.h) that the worker that claims it takes (in this process tree, or
 * through Redis on another node of a cluster: live/live-redis.h): the program reads
 * the client's {"type":"data","stream":"stdin"} as it comes, and its output goes back as
 * {"type":"data"} frames as it is produced, between {"type":"stage"} and {"type":"exit"}
 * for each stage; {"type":"signal"} ends the run. Piston's close codes: 4000 already
 * initialised, 4001 no init within a second, 4002 an error was notified, 4003 not yet
 * initialised, 4004 only stdin is writable, 4005 an invalid signal, 4999 the job completed.
 *
 * One thread per session (each holds a sandbox run anyway), at most
 * API_MAX_LIVE_SESSIONS; the socket is the session's once libmicrohttpd upgraded it. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "api/api-internal.h"
#include "base/fd-util.h"
#include "base/log.h"
#include "base/macro.h"
#include "base/time-util.h"
#include "http/websocket.h"
#include "json/piston.h"

/* The largest message a client may send (an init carries the files). */
#define WS_MAX_MESSAGE (4u * 1024 * 1024)
#define WS_INIT_TIMEOUT_USEC (1 * USEC_PER_SEC) /* Piston's */
#define WS_SEND_TIMEOUT_SEC 10 /* a client that does not read its frames this long is dropped */
#define WS_TICK_MSEC 200 /* how often a session looks at the shutdown */
#define WS_CLOSE_WAIT_MSEC 1000 /* for the client's close frame after ours */
#define WS_READ_CHUNK 65536
/* The extra time past the run's limits a session waits for its result. */
#define WS_RESULT_GRACE_USEC (30 * USEC_PER_SEC)

typedef struct LiveSession {
        Api *a;
        int fd;
        HttpUpgraded *u;
        uint8_t *in; /* received, not yet parsed */
        size_t in_len;
        bool initialized, done;
        bool finished; /* the worker said LIVE_DONE: nothing of the run is left */
        LiveChannel ch; /* the API's ends */
        char token[SUBMISSION_TOKEN_LEN + 1];
        uint64_t deadline_usec; /* CLOCK_MONOTONIC: init, then the result */
        char pending[2][4]; /* stdout, stderr: the start of a UTF-8 sequence cut by a read */
        size_t n_pending[2];
        char *languages; /* the handshake's PISTON_LANGUAGES_HEADER, NULL = any */
} LiveSession;

/* ---- frames out ---- */

/* Header and payload in one segment (with TCP_NODELAY set: no wait for an ACK). */
static int send_frame(LiveSession *s, WsOpcode op, const void *payload, size_t len) {
        uint8_t hdr[WS_MAX_HEADER];
        size_t h = ws_frame_header(hdr, op, len);
        struct iovec iov[2] = {{hdr, h}, {(void *) payload, len}};
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = len > 0 ? 2 : 1};
        ssize_t n = RETRY_EINTR(sendmsg(s->fd, &msg, MSG_NOSIGNAL));
        if (n < 0)
                return -errno;
        /* What a partial send left. */
        if ((size_t) n < h) {
                int r = send_all(s->fd, hdr + n, h - (size_t) n);
                if (r < 0)
                        return r;
                n = (ssize_t) h;
        }
        size_t done = (size_t) n - h;
        return done < len ? send_all(s->fd, (const uint8_t *) payload + done, len - done) : 0;
}

/* A message json/ encoded (r: the encoder's answer; json taken over). Called as
 * `r = encode(..., &json); send_json(s, r, json)`: in that order. */
static int send_json(LiveSession *s, int r, char *json) {
        _cleanup_free_ char *j = json;
        if (r < 0 || !j)
                return r < 0 ? r : -ENOMEM;
        return send_frame(s, WS_TEXT, j, strlen(j));
}

/* Close with code and reason (at most 123 bytes, as the protocol allows), then wait a
 * little for the client's close frame, and end the session. */
static void close_with(LiveSession *s, unsigned code, const char *reason) {
        uint8_t p[WS_MAX_CONTROL_PAYLOAD];
        size_t n = MIN(strlen(reason), sizeof p - 2);
        p[0] = (uint8_t) (code >> 8);
        p[1] = (uint8_t) code;
        memcpy(p + 2, reason, n);
        if (send_frame(s, WS_CLOSE, p, n + 2) >= 0) {
                /* What the client still sends is read and dropped, within one bound of time
                 * for all of it (a client that never stops cannot hold the session). */
                (void) shutdown(s->fd, SHUT_WR);
                uint64_t until = now_usec(CLOCK_MONOTONIC) + WS_CLOSE_WAIT_MSEC * USEC_PER_MSEC;
                uint8_t sink[4096];
                for (uint64_t now; (now = now_usec(CLOCK_MONOTONIC)) < until;) {
                        struct pollfd pf = {.fd = s->fd, .events = POLLIN};
                        if (poll(&pf, 1, (int) ((until - now + 999) / 1000)) <= 0 ||
                                recv(s->fd, sink, sizeof sink, 0) <= 0)
                                break;
                }
        }
        s->done = true;
}

static void notify_error(LiveSession *s, const char *message) {
        char *json = NULL;
        int r = piston_ws_error_encode(message, &json);
        (void) send_json(s, r, json);
        close_with(s, 4002, "Notified Error");
}

/* ---- the program's output ---- */

/* How many bytes at the end of buf[0..len) start a UTF-8 sequence that is not complete. */
static size_t utf8_cut(const uint8_t *buf, size_t len) {
        for (size_t back = 1; back <= 3 && back <= len; back++) {
                uint8_t c = buf[len - back];
                if ((c & 0xC0) == 0x80)
                        continue; /* a continuation byte: look further back */
                size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
                return need > back ? back : 0;
        }
        return 0;
}

/* Read what the program wrote on one stream and send it as a data message. false when the
 * stream is at its end (or the session failed). */
static bool forward_output(LiveSession *s, int which) {
        int *fd = which == 0 ? &s->ch.stdout_fd : &s->ch.stderr_fd;
        uint8_t buf[WS_READ_CHUNK + 4];
        size_t have = s->n_pending[which];
        memcpy(buf, s->pending[which], have);
        ssize_t n = RETRY_EINTR(recv(*fd, buf + have, WS_READ_CHUNK, MSG_DONTWAIT));
        if (n < 0 && errno == EAGAIN)
                return true;
        if (n <= 0) {
                *fd = safe_close(*fd);
                n = 0;
        }
        size_t len = have + (size_t) n;
        size_t cut = n > 0 ? utf8_cut(buf, len) : 0; /* at the end, what is left goes out */
        s->n_pending[which] = cut;
        memcpy(s->pending[which], buf + len - cut, cut);
        len -= cut;
        if (len > 0) {
                char *json = NULL;
                int r = piston_ws_data_encode(
                        which == 0 ? "stdout" : "stderr", (const char *) buf, len, &json);
                if (send_json(s, r, json) < 0) {
                        s->done = true;
                        return false;
                }
        }
        return *fd >= 0;
}

/* Everything the program wrote before the event that is being handled. */
static void drain_output(LiveSession *s) {
        for (int w = 0; w < 2 && !s->done; w++) {
                int *fd = w == 0 ? &s->ch.stdout_fd : &s->ch.stderr_fd;
                while (*fd >= 0 && !s->done) {
                        struct pollfd pf = {.fd = *fd, .events = POLLIN};
                        if (poll(&pf, 1, 0) <= 0)
                                break;
                        if (!forward_output(s, w))
                                break;
                }
        }
}

/* A stage event from the worker. */
static void forward_event(LiveSession *s) {
        LiveEvent e;
        int r = live_event_recv(s->ch.events_fd, &e);
        if (r == -EAGAIN)
                return;
        if (r < 0) {
                notify_error(s, "the run ended without a result (its worker stopped)");
                return;
        }
        drain_output(s);
        if (s->done)
                return;
        const char *stage = e.run ? "run" : "compile";
        char *json = NULL;
        char sig[16];
        switch ((LiveEventKind) e.kind) {
        case LIVE_STAGE:
                r = piston_ws_stage_encode(stage, &json);
                r = send_json(s, r, json);
                break;
        case LIVE_EXIT:
                r = piston_ws_exit_encode(stage, e.exit_code, api_signal_name(e.signal, sig),
                        e.status[0] ? e.status : NULL, e.message[0] ? e.message : NULL, &json);
                r = send_json(s, r, json);
                break;
        default:
                s->finished = true;
                close_with(s, 4999, "Job Completed");
                return;
        }
        if (r < 0)
                s->done = true;
}

/* ---- the client's messages ---- */

static void on_init(LiveSession *s, const char *text, size_t len) {
        Api *a = s->a;
        char msg[512];
        Submission sub;
        ApiPistonRun info;
        int r = api_piston_prepare(a, text, len, s->languages, &sub, &info, msg, sizeof msg);
        if (r < 0) {
                if (r != -EINVAL && r != -EBADMSG)
                        snprintf(msg, sizeof msg, "internal error: %s", strerror(-r));
                notify_error(s, msg);
                return;
        }
        LiveChannel worker = {-1, -1, -1, -1, -1};
        bool stored = false;
        msg[0] = '\0';
        r = live_channel_new(&s->ch, &worker);
        if (r >= 0)
                r = api_store_new(a, &sub);
        if (r >= 0) {
                stored = true;
                memcpy(s->token, sub.token, sizeof s->token);
                r = live_register(a->live, s->token, &worker); /* takes the worker's ends */
        }
        live_channel_close(&worker);
        if (r >= 0) {
                const char *token = s->token;
                r = queue_push(a->queue, &token, 1, false);
                if (r < 0) {
                        live_forget(a->live, s->token);
                        snprintf(msg, sizeof msg, "%s",
                                r == -EAGAIN      ? "queue is full"
                                : r == -ESHUTDOWN ? "the server is shutting down"
                                                  : "the queue is unavailable: retry later");
                }
        }
        uint64_t wall = sub.wall_time_limit_usec;
        submission_done(&sub);
        if (r < 0) {
                if (stored) { /* never queued: not to be found In Queue forever */
                        api_discard(a, s->token, "the interactive session could not start");
                        s->token[0] = '\0';
                }
                if (!msg[0])
                        snprintf(msg, sizeof msg, "internal error: %s", strerror(-r));
                notify_error(s, msg);
                return;
        }
        atomic_fetch_add(&a->created, 1);
        log_info("piston connect token=%s language=%s", s->token, info.language);
        s->initialized = true;
        /* The run is bounded by its limits; the result comes within them and the queue's
         * wait (wait_timeout), or the session gives up. */
        s->deadline_usec =
                now_usec(CLOCK_MONOTONIC) + a->cfg.wait_timeout_usec + wall + WS_RESULT_GRACE_USEC;
        char *json = NULL;
        r = piston_ws_runtime_encode(info.language, info.version, &json);
        if (send_json(s, r, json) < 0)
                s->done = true;
}

/* Piston's signal names (its globals.SIGNALS): SIGHUP..SIGSYS. */
static int signal_number(const char *name) {
        char buf[16];
        for (int sig = 1; name && sig < 32; sig++) {
                const char *n = api_signal_name(sig, buf);
                if (n && strcmp(n, name) == 0)
                        return sig;
        }
        return -EINVAL;
}

static void on_message(LiveSession *s, const char *text, size_t len) {
        char err[256];
        PistonWsMessage m;
        int r = piston_ws_message_parse(text, len, &m, err, sizeof err);
        if (r < 0) {
                notify_error(s, r == -EBADMSG ? err : "internal error");
                return;
        }
        switch (m.type) {
        case PISTON_WS_INIT:
                if (s->initialized)
                        close_with(s, 4000, "Already Initialized");
                else
                        on_init(s, text, len);
                break;
        case PISTON_WS_DATA:
                if (!s->initialized)
                        close_with(s, 4003, "Not yet initialized");
                else if (!m.stream || strcmp(m.stream, "stdin") != 0)
                        close_with(s, 4004, "Can only write to stdin");
                else if ((m.data.data || m.eof) && s->ch.stdin_fd >= 0) {
                        /* What the program has not read yet stays in the channel's buffer;
                         * past it, the client is told (never a silent loss). */
                        ssize_t n = m.data.data ? RETRY_EINTR(send(s->ch.stdin_fd, m.data.data, m.data.len,
                                                          MSG_NOSIGNAL | MSG_DONTWAIT))
                                                : 0;
                        if ((n >= 0 && (size_t) n < m.data.len) || (n < 0 && errno == EAGAIN))
                                notify_error(s, "stdin: the program has not read what was sent before");
                        else if (n >= 0 && m.eof)
                                /* The end of input (our extension): the program reads EOF
                                 * once it has read what came before. */
                                (void) shutdown(s->ch.stdin_fd, SHUT_WR);
                        /* EPIPE: the program is gone; its exit is on its way */
                }
                break;
        case PISTON_WS_SIGNAL: {
                int sig = signal_number(m.signal);
                if (!s->initialized)
                        close_with(s, 4003, "Not yet initialized");
                else if (sig < 0)
                        close_with(s, 4005, "Invalid signal");
                else {
                        uint8_t b = (uint8_t) sig;
                        (void) RETRY_EINTR(send(s->ch.control_fd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT));
                }
                break;
        }
        default:
                break; /* Piston ignores other types */
        }
        piston_ws_message_done(&m);
}

/* Parse the frames received so far. */
static void on_frames(LiveSession *s) {
        size_t off = 0;
        while (!s->done) {
                WsFrame f;
                int n = ws_frame_parse(s->in + off, s->in_len - off, WS_MAX_MESSAGE, &f);
                if (n == 0)
                        break;
                if (n == -EMSGSIZE) {
                        close_with(s, WS_CLOSE_TOO_BIG, "message too big");
                        return;
                }
                if (n < 0) {
                        close_with(s, WS_CLOSE_PROTOCOL_ERROR, "protocol error");
                        return;
                }
                off += (size_t) n;
                switch (f.opcode) {
                case WS_PING:
                        if (send_frame(s, WS_PONG, f.payload, f.len) < 0)
                                s->done = true;
                        break;
                case WS_PONG:
                        break;
                case WS_CLOSE:
                        close_with(s, WS_CLOSE_NORMAL, "");
                        return;
                case WS_TEXT:
                        if (!f.fin) {
                                close_with(s, WS_CLOSE_UNSUPPORTED, "fragmented messages are not supported");
                                return;
                        }
                        on_message(s, (const char *) f.payload, f.len);
                        break;
                default: /* binary, or a continuation of nothing */
                        close_with(s, WS_CLOSE_UNSUPPORTED, "text messages only");
                        return;
                }
        }
        memmove(s->in, s->in + off, s->in_len - off);
        s->in_len -= off;
}

static void on_readable(LiveSession *s) {
        size_t room = WS_MAX_MESSAGE + WS_MAX_HEADER - s->in_len;
        ssize_t n = RETRY_EINTR(recv(s->fd, s->in + s->in_len, MIN(room, (size_t) WS_READ_CHUNK), 0));
        if (n <= 0) {
                s->done = true; /* the client is gone */
                return;
        }
        s->in_len += (size_t) n;
        on_frames(s);
}

/* ---- the session ---- */

static void session_free(LiveSession *s) {
        Api *a = s->a;
        if (s->initialized && !s->finished) {
                /* The session ends mid-run (the client left, an error, a shutdown): end
                 * the run, or have it never start. */
                uint8_t b = SIGKILL;
                (void) send(s->ch.control_fd, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        }
        if (s->token[0])
                live_drop(a->live, s->token);
        live_channel_close(&s->ch);
        http_upgraded_close(s->u);
        free(s->in);
        free(s->languages);
        free(s);
        pthread_mutex_lock(&a->live_lock);
        a->n_live--;
        pthread_cond_broadcast(&a->live_cond);
        pthread_mutex_unlock(&a->live_lock);
}

static void *session_thread(void *arg) {
        LiveSession *s = arg;
        struct timeval tv = {.tv_sec = WS_SEND_TIMEOUT_SEC};
        (void) setsockopt(s->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int one = 1; /* each frame goes out at once (not a TCP socket: no matter) */
        (void) setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        on_frames(s);
        while (!s->done) {
                if (atomic_load(&s->a->shutting_down)) {
                        close_with(s, WS_CLOSE_GOING_AWAY, "the server is shutting down");
                        break;
                }
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= s->deadline_usec) {
                        if (!s->initialized)
                                close_with(s, 4001, "Initialization Timeout");
                        else
                                notify_error(s, "the execution did not finish in time (wait_timeout)");
                        break;
                }
                struct pollfd p[4] = {{.fd = s->fd, .events = POLLIN}};
                nfds_t np = 1;
                int i_out = -1, i_err = -1, i_ev = -1;
                if (s->ch.stdout_fd >= 0)
                        p[i_out = (int) np++] = (struct pollfd){.fd = s->ch.stdout_fd, .events = POLLIN};
                if (s->ch.stderr_fd >= 0)
                        p[i_err = (int) np++] = (struct pollfd){.fd = s->ch.stderr_fd, .events = POLLIN};
                if (s->ch.events_fd >= 0)
                        p[i_ev = (int) np++] = (struct pollfd){.fd = s->ch.events_fd, .events = POLLIN};
                int ms = (int) MIN((s->deadline_usec - now + 999) / 1000, (uint64_t) WS_TICK_MSEC);
                if (poll(p, np, ms) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[0].revents)
                        on_readable(s);
                if (!s->done && i_out >= 0 && p[i_out].revents)
                        (void) forward_output(s, 0);
                if (!s->done && i_err >= 0 && p[i_err].revents)
                        (void) forward_output(s, 1);
                if (!s->done && i_ev >= 0 && p[i_ev].revents)
                        forward_event(s);
        }
        session_free(s);
        return NULL;
}

/* On one of libmicrohttpd's threads: hand the socket to a thread of its own. */
static void on_upgraded(void *userdata, int fd, const char *extra, size_t extra_len, HttpUpgraded *u) {
        LiveSession *s = userdata;
        if (fd < 0) { /* the 101 never went out */
                session_free(s);
                return;
        }
        s->fd = fd;
        s->u = u;
        size_t n = MIN(extra_len, (size_t) WS_MAX_MESSAGE);
        memcpy(s->in, extra, n);
        s->in_len = n;
        s->deadline_usec = now_usec(CLOCK_MONOTONIC) + WS_INIT_TIMEOUT_USEC;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int r = pthread_create(&t, &attr, session_thread, s);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                log_error(-r, "piston connect: cannot start a session thread: %s", strerror(r));
                session_free(s);
        }
}

void api_piston_connect(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, false))
                return;
        if (!a->live) {
                http_reply_json(req, 501,
                        strdup("{\"message\":\"interactive runs (/api/v2/connect) are not set up on this "
                               "node\"}"));
                return;
        }
        if (a->cfg.maintenance_mode || atomic_load(&a->shutting_down)) {
                char *json = NULL;
                if (piston_message_encode(a->cfg.maintenance_mode ? a->cfg.maintenance_message
                                                                  : "the server is shutting down",
                            &json) < 0)
                        api_reply_internal(req, -ENOMEM);
                else
                        http_reply_json(req, 503, json);
                return;
        }
        LiveSession *s = calloc(1, sizeof *s);
        uint8_t *in = malloc(WS_MAX_MESSAGE + WS_MAX_HEADER);
        if (!s || !in) {
                free(s);
                free(in);
                api_reply_internal(req, -ENOMEM);
                return;
        }
        *s = (LiveSession){.a = a, .fd = -EBADF, .in = in, .ch = {-1, -1, -1, -1, -1}};
        const char *languages = http_request_header(req, PISTON_LANGUAGES_HEADER);
        if (languages && !(s->languages = strdup(languages))) {
                free(s);
                free(in);
                api_reply_internal(req, -ENOMEM);
                return;
        }
        pthread_mutex_lock(&a->live_lock);
        bool full = a->n_live >= API_MAX_LIVE_SESSIONS;
        if (!full)
                a->n_live++;
        pthread_mutex_unlock(&a->live_lock);
        int r = full ? -EBUSY : http_reply_websocket(req, on_upgraded, s);
        if (r >= 0)
                return;
        if (!full) {
                pthread_mutex_lock(&a->live_lock);
                a->n_live--;
                pthread_cond_broadcast(&a->live_cond);
                pthread_mutex_unlock(&a->live_lock);
        }
        free(s->languages);
        free(in);
        free(s);
        char msg[128];
        if (full)
                snprintf(msg, sizeof msg,
                        "{\"message\":\"too many interactive sessions (%d): retry later\"}",
                        API_MAX_LIVE_SESSIONS);
        else
                snprintf(msg, sizeof msg,
                        "{\"message\":\"a WebSocket handshake is expected (Upgrade: websocket, "
                        "Sec-WebSocket-Version: 13, Sec-WebSocket-Key)\"}");
        http_reply_json(req, full ? 503 : 400, strdup(msg));
}

void api_live_wait_sessions(Api *a) {
        pthread_mutex_lock(&a->live_lock);
        while (a->n_live > 0)
                pthread_cond_wait(&a->live_cond, &a->live_lock);
        pthread_mutex_unlock(&a->live_lock);
}
