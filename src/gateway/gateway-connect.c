/* SPDX-License-Identifier: MIT */
/* GET /api/v2/connect through the gateway: Piston's WebSocket (an interactive run)
 * relayed to an API node. The client's side is upgraded here; the gateway reads the
 * client's messages until its init (Piston's execute body), applies to it exactly the
 * checks POST /api/v2/execute has (gw_piston_check(): languages, ceilings, quotas; the
 * scope and the rate were checked at the handshake), and refuses it as Piston refuses,
 * an error message then close code 4002. An accepted init opens a WebSocket of the
 * gateway's own to an API node of the pool (as its client: its frames are masked), sends
 * the init, and from then on every frame goes through both ways, close codes included,
 * until either side closes; the other is then closed too.
 *
 * One thread per session (its run holds a sandbox on the node anyway), counted with the
 * event streams against max_streams and the owner's concurrency quota. Only http:// API
 * nodes: the gateway speaks no TLS of its own (libcurl's WebSockets are not built). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/base64.h"
#include "base/fd-util.h"
#include "base/log.h"
#include "base/macro.h"
#include "base/time-util.h"
#include "gateway/gateway-internal.h"
#include "http/websocket.h"
#include "json/piston.h"
#include "secure/secure.h"

/* The largest message either side may send (an init carries the files: the API node's
 * own bound). */
#define CONNECT_MAX_MESSAGE (4u * 1024 * 1024)
#define CONNECT_INIT_TIMEOUT_USEC USEC_PER_SEC /* Piston's, from the upgrade */
#define CONNECT_TICK_MSEC 200 /* how often a session looks at the gateway stopping */
#define CONNECT_CLOSE_WAIT_USEC USEC_PER_SEC /* for the other side's close frame */
#define CONNECT_SEND_TIMEOUT_SEC 10 /* a peer that does not read its frames this long is dropped */
#define CONNECT_CONNECT_TIMEOUT_MSEC 1000 /* to an API node, as the pool's requests */
#define CONNECT_HANDSHAKE_TIMEOUT_USEC (10 * USEC_PER_SEC) /* the node's 101 */
#define CONNECT_HANDSHAKE_MAX 16384 /* bytes of the node's answer head */
#define CONNECT_REFUSAL_MAX 4096 /* bytes of the body of a node's refusal read for its reason */
#define CONNECT_READ_CHUNK 65536
#define WS_CLOSE_INTERNAL_ERROR 1011

typedef struct Peer {
        int fd;
        bool to_server; /* frames sent to it are masked (the API node: we are its client) */
        uint8_t *in; /* received, not yet parsed: at most CONNECT_MAX_MESSAGE + WS_MAX_HEADER */
        size_t in_len;
        bool close_sent, close_seen;
        bool draining; /* refused: what it still sends is read and dropped until the end */
} Peer;

typedef struct Session {
        Gateway *g;
        Principal p;
        char *head; /* the handshake's header lines for the node (credential, request id...) */
        HttpUpgraded *u;
        Peer client, node;
        bool node_acquired; /* upstream_acquire()d node_index */
        size_t node_index;
        bool initialized; /* an init was accepted and sent */
        uint64_t deadline_usec; /* CLOCK_MONOTONIC: the init, then the closing handshake; 0 = none */
} Session;

/* ---- frames ---- */

/* One final frame to a peer (masked toward the node; payload is left as it was). */
static int peer_send(Peer *to, WsOpcode op, const uint8_t *payload, size_t len) {
        uint8_t hdr[WS_MAX_HEADER];
        if (!to->to_server) {
                size_t h = ws_frame_header(hdr, op, len);
                int r = send_all(to->fd, hdr, h);
                return r < 0 || len == 0 ? r : send_all(to->fd, payload, len);
        }
        uint8_t mask[4];
        secure_random(mask, sizeof mask);
        size_t h = ws_client_frame_header(hdr, op, len, mask);
        _cleanup_free_ uint8_t *masked = malloc(MAX(len, 1));
        if (!masked)
                return -ENOMEM;
        memcpy(masked, payload, len);
        ws_mask(masked, len, mask);
        int r = send_all(to->fd, hdr, h);
        return r < 0 || len == 0 ? r : send_all(to->fd, masked, len);
}

static void peer_close(Peer *to, unsigned code, const char *reason) {
        if (to->fd < 0 || to->close_sent)
                return;
        uint8_t p[WS_MAX_CONTROL_PAYLOAD];
        size_t n = MIN(strlen(reason), sizeof p - 2);
        p[0] = (uint8_t) (code >> 8);
        p[1] = (uint8_t) code;
        memcpy(p + 2, reason, n);
        (void) peer_send(to, WS_CLOSE, p, n + 2);
        to->close_sent = true;
}

/* Close both sides (the node's with 1001: its client is going away) and end the session
 * once the client's close frame came or CONNECT_CLOSE_WAIT_USEC passed. */
static void close_both(Session *s, unsigned code, const char *reason) {
        peer_close(&s->client, code, reason);
        peer_close(&s->node, WS_CLOSE_GOING_AWAY, "");
        s->deadline_usec = now_usec(CLOCK_MONOTONIC) + CONNECT_CLOSE_WAIT_USEC;
}

/* A side broke the protocol: both are closed, and what it still sends is dropped (a
 * socket closed with unread bytes would reset the connection before our close frame is
 * read). */
static void refuse(Session *s, Peer *from, unsigned code, const char *reason) {
        close_both(s, code, reason);
        from->draining = true;
        from->in_len = 0;
}

/* Piston's way to refuse: {"type":"error","message"} then close 4002. */
static void notify_error(Session *s, const char *message) {
        char *json = NULL;
        int r = piston_ws_error_encode(message, &json);
        if (r >= 0)
                (void) peer_send(&s->client, WS_TEXT, (const uint8_t *) json, strlen(json));
        free(json);
        close_both(s, 4002, "Notified Error");
}

/* ---- the API node's side ---- */

/* host and port of an http:// base url ("http://198.18.0.2:2358", "http://[::1]:80",
 * "http://node"). -EPROTONOSUPPORT for https. */
static int url_split(const char *url, char host[static 256], char port[static 8]) {
        if (strncmp(url, "https://", 8) == 0)
                return -EPROTONOSUPPORT;
        if (strncmp(url, "http://", 7) != 0)
                return -EINVAL;
        const char *h = url + 7, *end = h + strcspn(h, "/?#"), *colon;
        if (*h == '[') {
                const char *close = memchr(h, ']', (size_t) (end - h));
                if (!close)
                        return -EINVAL;
                snprintf(host, 256, "%.*s", (int) (close - h - 1), h + 1);
                colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
        } else {
                colon = memchr(h, ':', (size_t) (end - h));
                snprintf(host, 256, "%.*s", (int) ((colon ? colon : end) - h), h);
        }
        if (colon && end - colon - 1 > 0 && end - colon - 1 < 8)
                snprintf(port, 8, "%.*s", (int) (end - colon - 1), colon + 1);
        else if (colon)
                return -EINVAL;
        else
                snprintf(port, 8, "80");
        return *host ? 0 : -EINVAL;
}

/* A TCP connection within CONNECT_CONNECT_TIMEOUT_MSEC: the fd (blocking, CLOEXEC). */
static int tcp_connect(const char *host, const char *port) {
        struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
        if (getaddrinfo(host, port, &hints, &res) != 0)
                return -EHOSTUNREACH;
        int r = -ECONNREFUSED;
        for (struct addrinfo *a = res; a; a = a->ai_next) {
                int fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0) {
                        r = -errno;
                        continue;
                }
                if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
                        r = -errno;
                        close(fd);
                        continue;
                }
                struct pollfd pf = {.fd = fd, .events = POLLOUT};
                int err = 0;
                socklen_t elen = sizeof err;
                int n = RETRY_EINTR(poll(&pf, 1, CONNECT_CONNECT_TIMEOUT_MSEC));
                if (n <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
                        r = n == 0 ? -ETIMEDOUT : err ? -err : -errno;
                        close(fd);
                        continue;
                }
                /* Blocking again: sends are bounded by SO_SNDTIMEO. */
                int flags = fcntl(fd, F_GETFL);
                if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
                        r = -errno;
                        close(fd);
                        continue;
                }
                freeaddrinfo(res);
                return fd;
        }
        freeaddrinfo(res);
        return r;
}

/* The value of a header in an answer's head (lines after the status line), or NULL;
 * NUL-terminated in place of its CR. */
static char *head_value(char *head, const char *name) {
        size_t n = strlen(name);
        for (char *line = strstr(head, "\r\n"); line && line[2] != '\r'; line = strstr(line + 2, "\r\n")) {
                char *l = line + 2;
                if (strncasecmp(l, name, n) != 0 || l[n] != ':')
                        continue;
                char *v = l + n + 1;
                v += strspn(v, " \t");
                char *end = strstr(v, "\r\n");
                if (end) {
                        while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                                end--;
                        *end = '\0';
                }
                return v;
        }
        return NULL;
}

/* The reason of a node's refusal of the handshake: the "message" or "error" of its JSON body
 * (Content-Length bytes, at most CONNECT_REFUSAL_MAX, the first of them in s->node.in), read
 * until the deadline. 0 with ret, or < 0. */
static int refusal_reason(Session *s, char *head, uint64_t until, char *ret, size_t size) {
        const char *cl = head_value(head, "Content-Length");
        char *end;
        unsigned long n = cl ? strtoul(cl, &end, 10) : 0;
        if (!cl || *end || n == 0 || n > CONNECT_REFUSAL_MAX)
                return -EBADMSG;
        while (s->node.in_len < n) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                struct pollfd pf = {.fd = s->node.fd, .events = POLLIN};
                if (now >= until ||
                        RETRY_EINTR(poll(&pf, 1, (int) ((until - now) / USEC_PER_MSEC + 1))) <= 0)
                        return -ETIMEDOUT;
                ssize_t got =
                        RETRY_EINTR(recv(s->node.fd, s->node.in + s->node.in_len, n - s->node.in_len, 0));
                if (got <= 0)
                        return -ECONNRESET;
                s->node.in_len += (size_t) got;
        }
        return gwjson_error_message((const char *) s->node.in, n, ret, size);
}

/* Open the node's WebSocket: the handshake sent, its 101 read and its accept key checked.
 * 0; -ECONNREFUSED and friends when the connection could not be opened (another node may be
 * tried); -EPROTO with msg when the node answered something else. Bytes the node sent after
 * its head (its first frames) are in s->node.in. */
static int node_open(Session *s, const char *url, char *msg, size_t msglen) {
        char host[256], port[8];
        int r = url_split(url, host, port);
        if (r < 0) {
                snprintf(msg, msglen, "interactive runs need an http:// API node (%s)",
                        r == -EPROTONOSUPPORT ? "the gateway speaks no TLS to API nodes" : "a bad url");
                return -EPROTO;
        }
        int fd = tcp_connect(host, port);
        if (fd < 0)
                return fd;
        s->node.fd = fd;
        struct timeval tv = {.tv_sec = CONNECT_SEND_TIMEOUT_SEC};
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int one = 1;
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

        uint8_t raw[16];
        secure_random(raw, sizeof raw);
        _cleanup_free_ char *key = NULL;
        size_t key_len;
        char accept[WS_ACCEPT_LEN + 1];
        if (base64_encode(raw, sizeof raw, &key, &key_len) < 0)
                return -ENOMEM;
        key[strcspn(key, "\n")] = '\0';
        if (ws_accept_key(key, accept) < 0)
                return -EINVAL;
        _cleanup_free_ char *req = NULL;
        int n = asprintf(&req,
                "GET /api/v2/connect HTTP/1.1\r\nHost: %s%s%s:%s\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s\r\n",
                strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "", port, key, s->head);
        if (n < 0) {
                req = NULL;
                return -ENOMEM;
        }
        r = send_all(fd, req, (size_t) n);
        if (r < 0)
                return r;

        /* The answer's head, up to its blank line. */
        char head[CONNECT_HANDSHAKE_MAX + 1];
        size_t len = 0;
        char *end = NULL;
        uint64_t until = now_usec(CLOCK_MONOTONIC) + CONNECT_HANDSHAKE_TIMEOUT_USEC;
        while (!end) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                struct pollfd pf = {.fd = fd, .events = POLLIN};
                if (len == CONNECT_HANDSHAKE_MAX || now >= until ||
                        RETRY_EINTR(poll(&pf, 1, (int) ((until - now) / USEC_PER_MSEC + 1))) <= 0) {
                        snprintf(msg, msglen, "the API node did not answer the WebSocket handshake");
                        return -EPROTO;
                }
                ssize_t got = RETRY_EINTR(recv(fd, head + len, CONNECT_HANDSHAKE_MAX - len, 0));
                if (got <= 0) {
                        snprintf(msg, msglen, "the API node closed the connection during the handshake");
                        return -EPROTO;
                }
                len += (size_t) got;
                head[len] = '\0';
                end = strstr(head, "\r\n\r\n");
        }
        size_t head_len = (size_t) (end - head) + 4;
        unsigned status = 0; /* "HTTP/1.1 101 ...": three digits, the first 1 to 5 */
        if (strncmp(head, "HTTP/1.1 ", 9) == 0 && head[9] >= '1' && head[9] <= '5' && head[10] >= '0' &&
                head[10] <= '9' && head[11] >= '0' && head[11] <= '9' && head[12] == ' ')
                status = (unsigned) (head[9] - '0') * 100 + (unsigned) (head[10] - '0') * 10 +
                         (unsigned) (head[11] - '0');
        size_t extra = len - head_len;
        memcpy(s->node.in, head + head_len, extra);
        s->node.in_len = extra;
        end[2] = '\0'; /* the head alone: its last line keeps its CRLF */
        const char *got_accept = head_value(head, "Sec-WebSocket-Accept");
        if (status == 101 && got_accept && strcmp(got_accept, accept) == 0)
                return 0;
        if (status == 101)
                snprintf(msg, msglen, "the API node answered the WebSocket handshake with a wrong key");
        else if (status) {
                char why[192];
                if (refusal_reason(s, head, until, why, sizeof why) == 0)
                        snprintf(msg, msglen, "the API node refused the interactive run (HTTP %u): %s",
                                status, why);
                else
                        snprintf(msg, msglen, "the API node refused the interactive run (HTTP %u)", status);
        } else
                snprintf(msg, msglen, "the API node answered something that is not HTTP");
        return -EPROTO;
}

/* Connect to a node of the pool (another one when a connection could not be opened, as
 * the pool's requests are retried) and send it the init. false: the client was told. */
static bool node_start(Session *s, const uint8_t *init, size_t len) {
        Gateway *g = s->g;
        uint64_t tried = 0;
        char msg[256] = "no API node is available: try again shortly";
        for (unsigned tries = 0; tries < 2; tries++) {
                _cleanup_free_ char *url = NULL;
                int r = upstream_acquire(g->up, &tried, &url, &s->node_index);
                if (r < 0)
                        break;
                s->node_acquired = true;
                r = node_open(s, url, msg, sizeof msg);
                if (r == 0)
                        return peer_send(&s->node, WS_TEXT, init, len) >= 0 ||
                               (notify_error(s, "the API node went away"), false);
                bool unreached = r != -EPROTO;
                upstream_release(g->up, s->node_index, unreached);
                s->node_acquired = false;
                if (s->node.fd >= 0)
                        close(s->node.fd);
                s->node.fd = -EBADF;
                s->node.in_len = 0;
                if (!unreached)
                        break;
                atomic_fetch_add(&g->m.upstream_errors, 1);
                snprintf(msg, sizeof msg, "no API node could be reached: try again shortly");
        }
        notify_error(s, msg);
        return false;
}

/* ---- the client's side ---- */

/* The client's text message before an init was accepted: an init is checked and, when
 * allowed, opens the node's side; the rest is Piston's protocol before init. */
static void on_first_messages(Session *s, uint8_t *text, size_t len) {
        char err[256];
        PistonWsMessage m;
        int r = piston_ws_message_parse((const char *) text, len, &m, err, sizeof err);
        if (r < 0) {
                notify_error(s, r == -EBADMSG ? err : "internal error");
                return;
        }
        PistonWsType type = m.type;
        piston_ws_message_done(&m);
        if (type == PISTON_WS_DATA || type == PISTON_WS_SIGNAL) {
                close_both(s, 4003, "Not yet initialized");
                return;
        }
        if (type != PISTON_WS_INIT)
                return; /* ignored, as Piston ignores it */
        _cleanup_free_ char *rewritten = NULL;
        GwRefusal refusal;
        r = gw_piston_check(s->g, &s->p, (const char *) text, len, &rewritten, &refusal);
        if (r == -EACCES) {
                notify_error(s, refusal.message);
                return;
        }
        if (r < 0) {
                notify_error(s, "internal error: out of memory");
                return;
        }
        if (rewritten) {
                text = (uint8_t *) rewritten;
                len = strlen(rewritten);
        }
        if (!node_start(s, text, len))
                return;
        s->initialized = true;
        s->deadline_usec = 0;
        gw_count_run(s->g, s->p.owner);
}

/* One frame at the start of from's bytes: its size, 0 when more bytes are needed, < 0 when
 * the side was refused (what it sent is then dropped). */
static int on_frame(Session *s, Peer *from, uint8_t *buf, size_t len) {
        bool client = from == &s->client;
        Peer *to = client ? &s->node : &s->client;
        WsFrame f;
        int n = client ? ws_frame_parse(buf, len, CONNECT_MAX_MESSAGE, &f)
                       : ws_server_frame_parse(buf, len, CONNECT_MAX_MESSAGE, &f);
        if (n == 0)
                return 0;
        if (n < 0) {
                if (client)
                        refuse(s, from, n == -EMSGSIZE ? WS_CLOSE_TOO_BIG : WS_CLOSE_PROTOCOL_ERROR,
                                n == -EMSGSIZE ? "message too big" : "protocol error");
                else
                        refuse(s, from, WS_CLOSE_INTERNAL_ERROR, "the API node broke the protocol");
                return -EPROTO;
        }
        if (f.opcode == WS_CLOSE) {
                from->close_seen = true;
                if (to->fd >= 0 && !to->close_sent) { /* passed on as it came: code and reason */
                        (void) peer_send(to, WS_CLOSE, f.payload, f.len);
                        to->close_sent = true;
                }
                if (!from->close_sent) { /* the answer to a close frame */
                        (void) peer_send(from, WS_CLOSE, f.payload, MIN(f.len, 2));
                        from->close_sent = true;
                }
                s->deadline_usec = now_usec(CLOCK_MONOTONIC) + CONNECT_CLOSE_WAIT_USEC;
        } else if (!f.fin || f.opcode == WS_CONTINUATION) {
                refuse(s, from, WS_CLOSE_UNSUPPORTED, "fragmented messages are not supported");
                return -EPROTO;
        } else if (client && !s->initialized) {
                if (f.opcode == WS_PING)
                        (void) peer_send(from, WS_PONG, f.payload, f.len);
                else if (f.opcode == WS_BINARY) {
                        refuse(s, from, WS_CLOSE_UNSUPPORTED, "text messages only");
                        return -EPROTO;
                } else if (f.opcode == WS_TEXT && !from->close_sent)
                        on_first_messages(s, f.payload, f.len);
        } else if (to->fd >= 0 && !to->close_sent && peer_send(to, f.opcode, f.payload, f.len) < 0)
                close_both(s, WS_CLOSE_GOING_AWAY, client ? "the API node went away" : "");
        return n;
}

/* The frames at hand of one side; what is left of a frame moves to the start once. */
static void on_frames(Session *s, Peer *from) {
        size_t off = 0;
        for (int n; off < from->in_len; off += (size_t) n) {
                n = on_frame(s, from, from->in + off, from->in_len - off);
                if (n < 0)
                        return; /* refused: from->in was emptied */
                if (n == 0)
                        break;
        }
        memmove(from->in, from->in + off, from->in_len - off);
        from->in_len -= off;
}

/* Read what a side sent: false when it is gone. */
static bool on_readable(Session *s, Peer *from) {
        if (from->draining) {
                uint8_t sink[CONNECT_READ_CHUNK];
                return RETRY_EINTR(recv(from->fd, sink, sizeof sink, 0)) > 0;
        }
        size_t room = CONNECT_MAX_MESSAGE + WS_MAX_HEADER - from->in_len;
        ssize_t n = RETRY_EINTR(recv(from->fd, from->in + from->in_len, MIN(room, CONNECT_READ_CHUNK), 0));
        if (n <= 0)
                return false;
        from->in_len += (size_t) n;
        on_frames(s, from);
        return true;
}

static void session_free(Session *s) {
        if (!s)
                return;
        if (s->node.fd >= 0)
                close(s->node.fd);
        if (s->node_acquired)
                upstream_release(s->g->up, s->node_index, false);
        if (s->u)
                http_upgraded_close(s->u);
        gw_stream_release(s->g, s->p.owner);
        free(s->client.in);
        free(s->node.in);
        free(s->head);
        free(s);
}

static void *session_thread(void *arg) {
        Session *s = arg;
        struct timeval tv = {.tv_sec = CONNECT_SEND_TIMEOUT_SEC};
        (void) setsockopt(s->client.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int one = 1;
        (void) setsockopt(s->client.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        on_frames(s, &s->client); /* what came with the handshake */
        for (;;) {
                if (s->node.fd >= 0 && s->node.in_len > 0)
                        on_frames(s, &s->node); /* what came with the node's 101 */
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                bool closing = s->client.close_sent || s->node.close_sent;
                if (s->deadline_usec && now >= s->deadline_usec) {
                        if (!closing)
                                close_both(s, 4001, "Initialization Timeout");
                        break; /* the other side's close frame did not come in time */
                }
                if ((s->client.close_sent && s->client.close_seen) &&
                        (s->node.fd < 0 || (s->node.close_sent && s->node.close_seen)))
                        break;
                if (!closing && gw_streams_stopping(s->g)) {
                        close_both(s, WS_CLOSE_GOING_AWAY, "the gateway is shutting down");
                        continue;
                }
                struct pollfd p[2] = {
                        {.fd = s->client.fd, .events = POLLIN}, {.fd = s->node.fd, .events = POLLIN}};
                int n = RETRY_EINTR(poll(p, s->node.fd >= 0 ? 2 : 1, CONNECT_TICK_MSEC));
                if (n < 0)
                        break;
                if (p[0].revents && !on_readable(s, &s->client)) {
                        /* The client is gone: the node's session ends, and its run with it. */
                        peer_close(&s->node, WS_CLOSE_GOING_AWAY, "");
                        break;
                }
                if (s->node.fd >= 0 && p[1].revents && !on_readable(s, &s->node)) {
                        if (!s->client.close_sent) {
                                peer_close(&s->client, WS_CLOSE_INTERNAL_ERROR, "the API node went away");
                                s->deadline_usec = now_usec(CLOCK_MONOTONIC) + CONNECT_CLOSE_WAIT_USEC;
                        }
                        close(s->node.fd);
                        s->node.fd = -EBADF;
                }
        }
        session_free(s);
        return NULL;
}

/* On one of the HTTP server's threads: hand the socket to a thread of its own. */
static void on_upgraded(void *userdata, int fd, const char *extra, size_t extra_len, HttpUpgraded *u) {
        Session *s = userdata;
        if (fd < 0) { /* the 101 never went out */
                session_free(s);
                return;
        }
        s->client.fd = fd;
        s->u = u;
        size_t n = MIN(extra_len, (size_t) CONNECT_MAX_MESSAGE);
        memcpy(s->client.in, extra, n);
        s->client.in_len = n;
        s->deadline_usec = now_usec(CLOCK_MONOTONIC) + CONNECT_INIT_TIMEOUT_USEC;
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int r = pthread_create(&t, &attr, session_thread, s);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                log_error(-r, "gateway connect: cannot start a session thread: %s", strerror(r));
                session_free(s);
        }
}

/* The node's handshake header lines: "Name: value\r\n" each. */
static char *head_lines(Gateway *g, HttpRequest *req, const Principal *p) {
        char rid[32];
        HttpcHeader h[GW_UPSTREAM_HEADERS_MAX];
        size_t n = gw_upstream_headers(g, req, p, "application/json", NULL, rid, h);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s: %s\r\n", h[i].name, h[i].value);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

void gw_connect(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        Principal p;
        if (!gw_admit(g, req, &p, META_SCOPE_SUBMIT) || !gw_stream_admit(g, req, &p))
                return;
        Session *s = calloc(1, sizeof *s);
        if (s) {
                *s = (Session){
                        .g = g, .p = p, .client = {.fd = -EBADF}, .node = {.fd = -EBADF, .to_server = true}};
                s->client.in = malloc(CONNECT_MAX_MESSAGE + WS_MAX_HEADER);
                s->node.in = malloc(CONNECT_MAX_MESSAGE + WS_MAX_HEADER);
                s->head = head_lines(g, req, &p);
        }
        if (!s || !s->client.in || !s->node.in || !s->head) {
                session_free(s);
                if (!s)
                        gw_stream_release(g, p.owner);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        http_request_set_log_note(req, "connect=true");
        int r = http_reply_websocket(req, on_upgraded, s);
        if (r >= 0)
                return;
        session_free(s);
        http_reply_json(req, 400,
                strdup("{\"message\":\"a WebSocket handshake is expected (Upgrade: websocket, "
                       "Sec-WebSocket-Version: 13, Sec-WebSocket-Key)\"}"));
}
