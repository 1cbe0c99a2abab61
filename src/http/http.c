/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/json-writer.h"
#include "base/log.h"
#include "base/macro.h"
#include "base/time-util.h"
#include "http/http.h"
#include "http/websocket.h"

#define HTTP_MAX_SEGMENTS 16

/* The connections open from one address (count 0: a free slot). */
typedef struct IpSlot {
        uint8_t addr[16]; /* IPv6, or IPv4 mapped (::ffff:a.b.c.d) */
        unsigned count;
} IpSlot;

/* Why a connection was refused, or that it was admitted: its MHD socket context. */
static const char admitted_tag, refused_total_tag, refused_ip_tag;
/* The request context of a refused connection's request (answered at once, never read). */
static char refused_request_tag;

typedef struct StaticFile {
        char *path; /* relative: "index.html", "_next/static/x.js" */
        char *body;
        size_t len;
        /* The precompressed sibling "path.gz" when the tree has one (borrowed: that file's
         * own entry owns it), served to clients that accept gzip. */
        const char *gz;
        size_t gz_len;
} StaticFile;

struct HttpServer {
        struct MHD_Daemon *daemon;
        HttpServerConfig cfg;
        atomic_uint_fast64_t next_id;
        atomic_uint_fast64_t requests;
        atomic_uint_fast64_t by_class[6];
        atomic_uint_fast64_t suspended;
        atomic_uint_fast64_t refused;
        /* cfg.static_dir, read whole at start (a server that gives up root afterwards
         * may not be able to open it again), sorted by path */
        StaticFile *files;
        size_t n_files;
        atomic_uint_fast64_t in_flight; /* requests read and not yet completed */
        int quiesced_fd; /* the listener after http_server_quiesce(), closed by free; else -EBADF */

        /* max_connections and max_connections_per_ip are counted here, not by MHD (which
         * closes a connection past its limits without a word): a connection past them is
         * still read up to its request line and headers, then answered 503. */
        pthread_mutex_t conn_lock;
        unsigned open; /* admitted connections */
        IpSlot *ips; /* open addressing, ip_cap a power of two above max_connections */
        size_t ip_cap;
        struct MHD_Response *refused_total, *refused_ip; /* built once, shared */
        char allow[64]; /* http_allow_methods() of the routes */
};

typedef enum RequestState {
        REQUEST_READING,
        REQUEST_HANDLED, /* the handler ran; a reply is there or will come */
        REQUEST_QUEUED, /* the reply was given to MHD */
} RequestState;

struct HttpRequest {
        HttpServer *server;
        struct MHD_Connection *connection;
        uint64_t id;
        uint64_t start_usec;
        char method[16];
        char path[HTTP_MAX_PATH];
        char client_ip[INET6_ADDRSTRLEN];
        char *body;
        size_t body_len;
        bool too_large;
        RequestState state;
        char *note;

        pthread_mutex_t lock; /* guards the fields below (a reply may come from any thread) */
        bool suspend_requested;
        bool suspended;
        bool has_reply;
        unsigned status;
        char *content_type;
        char *reply_body;
        size_t reply_len;
        char *headers[2 * HTTP_MAX_REPLY_HEADERS]; /* http_reply_header(): name, value, ... */
        size_t n_headers;
        HttpStream *stream; /* http_reply_stream(): the server's reference, until queued */
        HttpUpgradeFn upgrade_fn; /* http_reply_websocket() */
        bool upgraded; /* upgrade_fn was called with the socket */
        void *upgrade_userdata;
        char accept[WS_ACCEPT_LEN + 1];
};

struct HttpStream {
        pthread_mutex_t lock;
        struct MHD_Connection *connection;
        unsigned refs;
        char *buf; /* pending: buf[off..len) */
        size_t len, off;
        bool ended; /* nothing more comes after what is pending */
        bool gone; /* MHD let go of it: the connection closed */
        bool sleeping; /* the connection is suspended until data comes */
};

const char *http_request_method(const HttpRequest *r) {
        return r->method;
}

const char *http_request_path(const HttpRequest *r) {
        return r->path;
}

const char *http_request_query(HttpRequest *r, const char *name) {
        return MHD_lookup_connection_value(r->connection, MHD_GET_ARGUMENT_KIND, name);
}

const char *http_request_header(HttpRequest *r, const char *name) {
        return MHD_lookup_connection_value(r->connection, MHD_HEADER_KIND, name);
}

const char *http_request_body(const HttpRequest *r, size_t *ret_len) {
        if (ret_len)
                *ret_len = r->body_len;
        return r->body ? r->body : "";
}

const char *http_request_client_ip(const HttpRequest *r) {
        return r->client_ip;
}

uint64_t http_request_id(const HttpRequest *r) {
        return r->id;
}

void http_request_set_log_note(HttpRequest *r, const char *note) {
        char *copy = note ? strdup(note) : NULL;
        pthread_mutex_lock(&r->lock);
        free(r->note);
        r->note = copy;
        pthread_mutex_unlock(&r->lock);
}

void http_request_suspend(HttpRequest *r) {
        pthread_mutex_lock(&r->lock);
        r->suspend_requested = true;
        pthread_mutex_unlock(&r->lock);
}

void http_reply(HttpRequest *r, unsigned status, const char *content_type, char *body, size_t len) {
        char *ct = content_type ? strdup(content_type) : NULL;
        pthread_mutex_lock(&r->lock);
        if (r->has_reply) { /* a second answer is a bug of the caller: keep the first */
                pthread_mutex_unlock(&r->lock);
                free(body);
                free(ct);
                return;
        }
        r->has_reply = true;
        r->status = status;
        r->content_type = ct;
        r->reply_body = body;
        r->reply_len = body ? len : 0;
        bool resume = r->suspended;
        r->suspended = false;
        HttpServer *server = r->server;
        struct MHD_Connection *connection = r->connection;
        pthread_mutex_unlock(&r->lock);
        /* Resumed, the connection may complete and free r on MHD's thread at once: r is not
         * touched after this (not even to unlock it). While it is suspended, MHD leaves it
         * alone, so resuming after the unlock is safe. */
        if (resume) {
                atomic_fetch_sub(&server->suspended, 1);
                MHD_resume_connection(connection);
        }
}

static bool header_text_ok(const char *s, bool name) {
        if (!*s && name)
                return false;
        for (; *s; s++)
                if (*s == '\r' || *s == '\n' || (name && (*s == ':' || *s == ' ')))
                        return false;
        return true;
}

int http_reply_header(HttpRequest *r, const char *name, const char *value) {
        if (!name || !value || !header_text_ok(name, true) || !header_text_ok(value, false))
                return -EINVAL;
        _cleanup_free_ char *n = strdup(name), *v = strdup(value);
        if (!n || !v)
                return -ENOMEM;
        pthread_mutex_lock(&r->lock);
        int ret = -ENOBUFS;
        if (!r->has_reply && r->n_headers < HTTP_MAX_REPLY_HEADERS) {
                r->headers[2 * r->n_headers] = TAKE_PTR(n);
                r->headers[2 * r->n_headers + 1] = TAKE_PTR(v);
                r->n_headers++;
                ret = 0;
        } else if (r->has_reply)
                ret = -EALREADY;
        pthread_mutex_unlock(&r->lock);
        return ret;
}

void http_reply_json(HttpRequest *r, unsigned status, char *json) {
        http_reply(
                r, status, json ? "application/json; charset=utf-8" : NULL, json, json ? strlen(json) : 0);
}

void http_reply_error(HttpRequest *r, unsigned status, const char *message) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) {
                http_reply(r, 500, NULL, NULL, 0);
                return;
        }
        fputs("{\"error\":", f);
        json_write_cstring(f, message);
        fputc('}', f);
        if (fclose(f) != 0) {
                free(buf);
                http_reply(r, 500, NULL, NULL, 0);
                return;
        }
        http_reply_json(r, status, buf);
}

/* ---- streamed answers ---- */

static void stream_wake(HttpStream *s) {
        if (s->sleeping && !s->gone) {
                s->sleeping = false;
                MHD_resume_connection(s->connection);
        }
}

HttpStream *http_stream_unref(HttpStream *s) {
        if (!s)
                return NULL;
        pthread_mutex_lock(&s->lock);
        bool last = --s->refs == 0;
        pthread_mutex_unlock(&s->lock);
        if (last) {
                pthread_mutex_destroy(&s->lock);
                free(s->buf);
                free(s);
        }
        return NULL;
}

/* MHD's content reader: what is pending, else the end, else sleep until there is more
 * (returning 0 with the connection suspended: MHD asks again once resumed). */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
        HttpStream *s = cls;
        ssize_t n;
        pthread_mutex_lock(&s->lock);
        if (s->off < s->len) {
                size_t k = MIN(max, s->len - s->off);
                memcpy(buf, s->buf + s->off, k);
                s->off += k;
                if (s->off == s->len)
                        s->off = s->len = 0;
                n = (ssize_t) k;
        } else if (s->ended)
                n = MHD_CONTENT_READER_END_OF_STREAM;
        else {
                s->sleeping = true;
                MHD_suspend_connection(s->connection);
                n = 0;
        }
        pthread_mutex_unlock(&s->lock);
        return n;
}

/* MHD lets go of the response: the connection is closed. */
static void stream_gone(void *cls) {
        HttpStream *s = cls;
        pthread_mutex_lock(&s->lock);
        s->gone = true;
        s->sleeping = false;
        pthread_mutex_unlock(&s->lock);
        http_stream_unref(s);
}

int http_reply_stream(HttpRequest *req, unsigned status, const char *content_type, HttpStream **ret) {
        HttpStream *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        pthread_mutex_init(&s->lock, NULL);
        s->connection = req->connection;
        s->refs = 2; /* the producer's, the server's */
        pthread_mutex_lock(&req->lock);
        bool answered = req->has_reply || req->stream;
        if (!answered)
                req->stream = s;
        pthread_mutex_unlock(&req->lock);
        if (answered) {
                pthread_mutex_destroy(&s->lock);
                free(s);
                return -EALREADY;
        }
        http_reply(req, status, content_type, NULL, 0);
        *ret = s;
        return 0;
}

int http_stream_send(HttpStream *s, const char *data, size_t len, bool last) {
        int r = 0;
        pthread_mutex_lock(&s->lock);
        if (s->gone || s->ended)
                r = -EPIPE;
        else if (!last && len > HTTP_STREAM_MAX_PENDING - (s->len - s->off)) {
                s->ended = true; /* a client this far behind is cut off */
                r = -ENOBUFS;
        } else {
                if (s->off > 0) {
                        memmove(s->buf, s->buf + s->off, s->len - s->off);
                        s->len -= s->off;
                        s->off = 0;
                }
                char *nb = len > SIZE_MAX - s->len - 1 ? NULL : realloc(s->buf, s->len + len + 1);
                if (!nb)
                        r = -ENOMEM;
                else {
                        memcpy(nb + s->len, data, len);
                        s->buf = nb;
                        s->len += len;
                        s->ended = last;
                }
        }
        stream_wake(s);
        pthread_mutex_unlock(&s->lock);
        return r;
}

void http_stream_end(HttpStream *s) {
        pthread_mutex_lock(&s->lock);
        s->ended = true;
        stream_wake(s);
        pthread_mutex_unlock(&s->lock);
}

bool http_stream_closed(HttpStream *s) {
        pthread_mutex_lock(&s->lock);
        bool closed = s->gone;
        pthread_mutex_unlock(&s->lock);
        return closed;
}

/* ---- WebSocket upgrades ---- */

static bool header_has_token(const char *v, const char *token) {
        size_t n = strlen(token);
        for (const char *p = v; p && *p;) {
                p += strspn(p, " \t,");
                size_t k = strcspn(p, " \t,");
                if (k == n && strncasecmp(p, token, n) == 0)
                        return true;
                p += k;
        }
        return false;
}

int http_reply_websocket(HttpRequest *req, HttpUpgradeFn fn, void *userdata) {
        const char *up = http_request_header(req, "Upgrade"), *conn = http_request_header(req, "Connection"),
                   *ver = http_request_header(req, "Sec-WebSocket-Version"),
                   *key = http_request_header(req, "Sec-WebSocket-Key");
        char accept[WS_ACCEPT_LEN + 1];
        if (strcmp(req->method, "GET") != 0 || !up || strcasecmp(up, "websocket") != 0 ||
                !header_has_token(conn, "upgrade") || !ver || strcmp(ver, "13") != 0 ||
                ws_accept_key(key, accept) < 0)
                return -EINVAL;
        pthread_mutex_lock(&req->lock);
        bool answered = req->has_reply || req->stream || req->upgrade_fn;
        if (!answered) {
                req->upgrade_fn = fn;
                req->upgrade_userdata = userdata;
                memcpy(req->accept, accept, sizeof accept);
        }
        pthread_mutex_unlock(&req->lock);
        if (answered)
                return -EALREADY;
        http_reply(req, 101, NULL, NULL, 0);
        return 0;
}

struct HttpUpgraded {
        struct MHD_UpgradeResponseHandle *urh;
};

void http_upgraded_close(HttpUpgraded *u) {
        if (!u)
                return;
        MHD_upgrade_action(u->urh, MHD_UPGRADE_ACTION_CLOSE);
        free(u);
}

static void on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
        size_t extra_len, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh) {
        HttpRequest *r = con_cls;
        HttpUpgraded *u = calloc(1, sizeof *u);
        if (!u) {
                MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
                return; /* request_free() tells the caller */
        }
        u->urh = urh;
        r->upgraded = true;
        int fl = fcntl(sock, F_GETFL);
        if (fl >= 0)
                (void) fcntl(sock, F_SETFL, fl & ~O_NONBLOCK);
        r->upgrade_fn(r->upgrade_userdata, sock, extra, extra_len, u);
}

static void request_free(HttpRequest *r) {
        if (!r)
                return;
        if (r->stream) /* never given to MHD */
                stream_gone(r->stream);
        if (r->upgrade_fn && !r->upgraded) /* the 101 never went out: the caller lets go */
                r->upgrade_fn(r->upgrade_userdata, -1, NULL, 0, NULL);
        pthread_mutex_destroy(&r->lock);
        free(r->body);
        free(r->note);
        free(r->content_type);
        free(r->reply_body);
        for (size_t i = 0; i < 2 * r->n_headers; i++)
                free(r->headers[i]);
        free(r);
}

static void add_cors(struct MHD_Response *resp) {
        MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
        MHD_add_response_header(resp, "Access-Control-Expose-Headers", "*");
}

/* Give the reply to MHD (with the lock not held: nothing else touches it any more). */
static enum MHD_Result queue_reply(HttpRequest *r) {
        struct MHD_Response *resp;
        if (r->upgrade_fn) {
                resp = MHD_create_response_for_upgrade(on_upgrade, NULL);
                if (resp &&
                        (MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "websocket") != MHD_YES ||
                                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "Upgrade") !=
                                        MHD_YES ||
                                MHD_add_response_header(resp, "Sec-WebSocket-Accept", r->accept) !=
                                        MHD_YES)) {
                        MHD_destroy_response(resp);
                        resp = NULL;
                }
                if (!resp)
                        return MHD_NO;
                r->state = REQUEST_QUEUED;
                enum MHD_Result ret = MHD_queue_response(r->connection, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
                MHD_destroy_response(resp);
                return ret;
        } else if (r->stream) {
                resp = MHD_create_response_from_callback(
                        MHD_SIZE_UNKNOWN, 16 * 1024, stream_read, r->stream, stream_gone);
                if (resp)
                        r->stream = NULL; /* MHD's now: stream_gone() when it lets go */
        } else
                resp = MHD_create_response_from_buffer(
                        r->reply_len, r->reply_body ? r->reply_body : (void *) "", MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        if (r->content_type)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
        add_cors(resp);
        for (size_t i = 0; i < r->n_headers; i++)
                MHD_add_response_header(resp, r->headers[2 * i], r->headers[2 * i + 1]);
        if (r->status == 405)
                MHD_add_response_header(resp, "Allow", r->server->allow);
        if (strcmp(r->method, "OPTIONS") == 0) {
                const char *h = MHD_lookup_connection_value(
                        r->connection, MHD_HEADER_KIND, "Access-Control-Request-Headers");
                MHD_add_response_header(
                        resp, "Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
                MHD_add_response_header(resp, "Access-Control-Allow-Headers", h ? h : "*");
                MHD_add_response_header(resp, "Access-Control-Max-Age", "7200");
        }
        r->state = REQUEST_QUEUED;
        enum MHD_Result ret = MHD_queue_response(r->connection, r->status, resp);
        MHD_destroy_response(resp);
        return ret;
}

/* Split "/a/b/c" into segments in place. */
static size_t split_path(char *p, char *seg[static HTTP_MAX_SEGMENTS]) {
        size_t n = 0;
        for (char *s = p; *s;) {
                while (*s == '/')
                        s++;
                if (!*s)
                        break;
                if (n == HTTP_MAX_SEGMENTS)
                        return SIZE_MAX;
                seg[n++] = s;
                char *e = strchr(s, '/');
                if (!e)
                        break;
                *e = '\0';
                s = e + 1;
        }
        return n;
}

static bool route_match(const char *pattern, char *const *seg, size_t n, const char **params) {
        char buf[256];
        if (strlen(pattern) >= sizeof buf)
                return false;
        memcpy(buf, pattern, strlen(pattern) + 1);
        char *pseg[HTTP_MAX_SEGMENTS];
        size_t pn = split_path(buf, pseg);
        if (pn != n)
                return false;
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                if (pseg[i][0] == ':') {
                        if (k < HTTP_MAX_PARAMS)
                                params[k++] = seg[i];
                } else if (strcmp(pseg[i], seg[i]) != 0)
                        return false;
        }
        return true;
}

int http_route_match(const HttpRoute *routes, size_t n_routes, const char *method, const char *path,
        char buf[HTTP_MAX_PATH], const char *ret_params[HTTP_MAX_PARAMS + 1]) {
        size_t len = strlen(path);
        if (len >= HTTP_MAX_PATH)
                return -ENAMETOOLONG;
        memcpy(buf, path, len + 1);
        char *seg[HTTP_MAX_SEGMENTS];
        size_t n = split_path(buf, seg);
        if (n == SIZE_MAX)
                return -ENOENT;
        bool path_known = false;
        for (size_t i = 0; i < n_routes && i <= INT_MAX; i++) {
                const char *params[HTTP_MAX_PARAMS + 1] = {};
                if (!route_match(routes[i].pattern, seg, n, params))
                        continue;
                path_known = true;
                if (strcmp(routes[i].method, method) != 0)
                        continue;
                memcpy(ret_params, params, sizeof params);
                return (int) i;
        }
        return path_known ? -EOPNOTSUPP : -ENOENT;
}

static const char *const known_methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};

int http_allow_methods(const HttpRoute *routes, size_t n_routes, char *buf, size_t size) {
        bool used[ELEMENTSOF(known_methods)] = {};
        for (size_t i = 0; i < n_routes; i++) {
                size_t k = 0;
                while (k < ELEMENTSOF(known_methods) && strcmp(routes[i].method, known_methods[k]) != 0)
                        k++;
                if (k == ELEMENTSOF(known_methods))
                        return -EINVAL;
                used[k] = true;
        }
        used[1] |= used[0]; /* HEAD with GET */
        used[ELEMENTSOF(known_methods) - 1] = true; /* OPTIONS */
        size_t o = 0;
        for (size_t k = 0; k < ELEMENTSOF(known_methods); k++) {
                if (!used[k])
                        continue;
                int n = snprintf(buf + o, size - o, "%s%s", o > 0 ? ", " : "", known_methods[k]);
                if (n < 0 || (size_t) n >= size - o)
                        return -ENOBUFS;
                o += (size_t) n;
        }
        return (int) o;
}

/* Whether method is one of allow's ("GET, POST, OPTIONS"), exactly (methods are
 * case-sensitive). */
static bool allow_has(const char *allow, const char *method) {
        size_t len = strlen(method);
        for (const char *p = allow; *p;) {
                size_t n = strcspn(p, ",");
                if (n == len && memcmp(p, method, len) == 0)
                        return true;
                p += n;
                p += strspn(p, ", ");
        }
        return false;
}

void http_path_normalize(const char *url, char ret[HTTP_MAX_PATH]) {
        size_t ulen = strlen(url);
        if (ulen >= HTTP_MAX_PATH)
                ulen = HTTP_MAX_PATH - 1;
        memcpy(ret, url, ulen);
        ret[ulen] = '\0';
        if (ulen > 5 && strcmp(ret + ulen - 5, ".json") == 0)
                ret[ulen - 5] = '\0';
}

#define STATIC_MAX_FILE (32u * 1024 * 1024)

static const struct {
        const char *ext, *type;
} static_types[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
        {".woff2", "font/woff2"},
        {".map", "application/json"},
};

/* The static tree's ceilings: what is read at start. */
#define STATIC_MAX_FILES 4096
#define STATIC_MAX_TOTAL (128u * 1024 * 1024)
#define STATIC_MAX_DEPTH 16

static int static_file_cmp(const void *a, const void *b) {
        return strcmp(((const StaticFile *) a)->path, ((const StaticFile *) b)->path);
}

/* Read the regular files below dfd (no symlink followed) into s->files. */
static int static_load_dir(HttpServer *s, int dfd, const char *prefix, unsigned depth, size_t *total) {
        if (depth > STATIC_MAX_DEPTH)
                return -ELOOP;
        DIR *d = dir_open_at(dfd);
        if (!d)
                return -errno;
        int r = 0;
        for (struct dirent *e; r >= 0 && (e = readdir(d));) {
                if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
                        continue;
                _cleanup_free_ char *rel = NULL;
                if (asprintf(&rel, "%s%s", prefix, e->d_name) < 0) {
                        rel = NULL;
                        r = -ENOMEM;
                        break;
                }
                _cleanup_close_ int f = openat(dfd, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                struct stat st;
                if (f < 0 || fstat(f, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_free_ char *sub = NULL;
                        if (asprintf(&sub, "%s/", rel) < 0) {
                                sub = NULL;
                                r = -ENOMEM;
                        } else
                                r = static_load_dir(s, f, sub, depth + 1, total);
                        continue;
                }
                if (!S_ISREG(st.st_mode) || st.st_size > STATIC_MAX_FILE)
                        continue;
                if (s->n_files >= STATIC_MAX_FILES || *total + (size_t) st.st_size > STATIC_MAX_TOTAL) {
                        r = -EFBIG;
                        break;
                }
                char *body = malloc((size_t) st.st_size + 1);
                if (!body) {
                        r = -ENOMEM;
                        break;
                }
                if (pread(f, body, (size_t) st.st_size, 0) != st.st_size) {
                        free(body);
                        continue;
                }
                StaticFile *nf = reallocarray(s->files, s->n_files + 1, sizeof *nf);
                if (!nf) {
                        free(body);
                        r = -ENOMEM;
                        break;
                }
                s->files = nf;
                s->files[s->n_files++] =
                        (StaticFile){.path = TAKE_PTR(rel), .body = body, .len = (size_t) st.st_size};
                *total += (size_t) st.st_size;
        }
        closedir(d);
        return r;
}

/* Pair every file with its precompressed sibling "NAME.gz" (written by the web build),
 * when that sibling is gzip data (its magic bytes), smaller than the file, and of the
 * file's length once unpacked (the member's trailer says it, modulo 2^32): a sibling left
 * from another build of the file is not sent in its place. */
static void static_pair_gzip(HttpServer *s) {
        for (size_t i = 0; i < s->n_files; i++) {
                const StaticFile *z = &s->files[i];
                size_t n = strlen(z->path);
                if (n <= 3 || strcmp(z->path + n - 3, ".gz") != 0)
                        continue;
                if (z->len < 18 || (uint8_t) z->body[0] != 0x1f || (uint8_t) z->body[1] != 0x8b)
                        continue; /* a gzip member is at least 18 bytes */
                _cleanup_free_ char *base = strndup(z->path, n - 3);
                if (!base)
                        continue;
                StaticFile key = {.path = base};
                StaticFile *f = bsearch(&key, s->files, s->n_files, sizeof *s->files, static_file_cmp);
                const uint8_t *t = (const uint8_t *) z->body + z->len - 4;
                uint32_t isize = (uint32_t) t[0] | (uint32_t) t[1] << 8 | (uint32_t) t[2] << 16 |
                                 (uint32_t) t[3] << 24;
                if (f && z->len < f->len && isize == (uint32_t) f->len) {
                        f->gz = z->body;
                        f->gz_len = z->len;
                }
        }
}

static int static_load(HttpServer *s, const char *dir) {
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        size_t total = 0;
        int r = static_load_dir(s, dfd, "", 0, &total);
        if (r < 0)
                return r;
        if (s->n_files)
                qsort(s->files, s->n_files, sizeof *s->files, static_file_cmp);
        static_pair_gzip(s);
        return 0;
}

/* One coding's quality value ("1", "0.5", "0.000"): -1 when malformed. */
static int qvalue_millis(const char *p, size_t n) {
        if (n == 0 || n > 5 || (p[0] != '0' && p[0] != '1'))
                return -1;
        int v = (p[0] - '0') * 1000;
        if (n == 1)
                return v;
        if (p[1] != '.')
                return -1;
        int scale = 100;
        for (size_t i = 2; i < n; i++, scale /= 10) {
                if (p[i] < '0' || p[i] > '9' || (v == 1000 && p[i] != '0'))
                        return -1;
                v += (p[i] - '0') * scale;
        }
        return v;
}

static bool is_ows(char c) {
        return c == ' ' || c == '\t';
}

bool http_accepts_gzip(const char *accept_encoding) {
        int gzip = -1, star = -1; /* their q in thousandths; -1: not named */
        for (const char *p = accept_encoding; p && *p;) {
                size_t len = strcspn(p, ",");
                const char *end = p + len;
                while (p < end && is_ows(*p))
                        p++;
                size_t name = strcspn(p, ";, \t");
                if (name > (size_t) (end - p))
                        name = (size_t) (end - p);
                int q = 1000;
                for (const char *a = p + name; a < end;) {
                        /* ";q=0.5": parameters other than q are ignored */
                        while (a < end && (is_ows(*a) || *a == ';'))
                                a++;
                        size_t alen = 0;
                        while (a + alen < end && a[alen] != ';')
                                alen++;
                        size_t vlen = alen;
                        while (vlen > 0 && is_ows(a[vlen - 1]))
                                vlen--;
                        if (vlen >= 2 && (a[0] == 'q' || a[0] == 'Q') && a[1] == '=')
                                q = qvalue_millis(a + 2, vlen - 2);
                        a += alen;
                }
                if (q >= 0 && ((name == 4 && strncasecmp(p, "gzip", 4) == 0) ||
                                      (name == 6 && strncasecmp(p, "x-gzip", 6) == 0)))
                        gzip = q > gzip ? q : gzip;
                else if (q >= 0 && name == 1 && *p == '*')
                        star = q;
                p = *end ? end + 1 : end;
        }
        return gzip >= 0 ? gzip > 0 : star > 0;
}

/* Answer r from the static tree when the file exists: true when answered. */
static bool serve_static(HttpRequest *r) {
        HttpServer *s = r->server;
        const char *path = r->path;
        char rel[HTTP_MAX_PATH + 16];

        if (!s->n_files || (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0))
                return false;
        if (path[0] != '/' || strstr(path, "/..") || strchr(path, '\\'))
                return false;
        const char *last = strrchr(path, '/');
        if (strcmp(path, "/") == 0 || path[strlen(path) - 1] == '/')
                snprintf(rel, sizeof rel, "%sindex.html", path + 1);
        else if (!strchr(last, '.'))
                snprintf(rel, sizeof rel, "%s.html", path + 1); /* Next's export: /about -> about.html */
        else
                snprintf(rel, sizeof rel, "%s", path + 1);
        StaticFile key = {.path = rel};
        const StaticFile *f = bsearch(&key, s->files, s->n_files, sizeof *s->files, static_file_cmp);
        if (!f)
                return false;
        bool gzip = f->gz && http_accepts_gzip(http_request_header(r, "Accept-Encoding"));
        const char *src = gzip ? f->gz : f->body;
        size_t len = gzip ? f->gz_len : f->len;
        /* Next's hashed assets never change under their name; anything else (index.html)
         * must be checked again, or a new build would meet old pages. */
        bool hashed = strncmp(rel, "_next/static/", 13) == 0;
        if (http_reply_header(
                    r, "Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache") < 0 ||
                (f->gz && http_reply_header(r, "Vary", "Accept-Encoding") < 0) ||
                (gzip && http_reply_header(r, "Content-Encoding", "gzip") < 0))
                return false;
        char *body = malloc(len + 1);
        if (!body)
                return false;
        memcpy(body, src, len);
        const char *type = "application/octet-stream", *dot = strrchr(rel, '.');
        for (size_t i = 0; dot && i < ELEMENTSOF(static_types); i++)
                if (strcmp(dot, static_types[i].ext) == 0)
                        type = static_types[i].type;
        http_reply(r, 200, type, body, len);
        return true;
}

static void dispatch(HttpRequest *r) {
        HttpServer *s = r->server;
        if (r->too_large) {
                http_reply_error(r, 413, "request body is too large");
                return;
        }
        if (!allow_has(s->allow, r->method)) {
                /* A method no route answers (TRACE...): 405 with Allow, whatever the path. */
                http_reply_error(r, 405, "method not allowed");
                return;
        }
        if (strcmp(r->method, "OPTIONS") == 0) {
                /* CORS preflight: any origin, method and header (rack-cors as Judge0 has it). */
                http_reply(r, 200, NULL, NULL, 0);
                return;
        }
        /* "/" is the IDE when there is one (Judge0 answers an empty 200 there). */
        if (strcmp(r->path, "/") == 0 && serve_static(r))
                return;
        char buf[HTTP_MAX_PATH];
        const char *params[HTTP_MAX_PARAMS + 1];
        int i = http_route_match(s->cfg.routes, s->cfg.n_routes, r->method, r->path, buf, params);
        if (i >= 0) {
                s->cfg.routes[i].handler(r, params, s->cfg.userdata);
                return;
        }
        if (i != -EOPNOTSUPP && serve_static(r))
                return;
        /* Rails answers 404 for a wrong method too */
        http_reply_json(r, 404, strdup("{\"status\":404,\"error\":\"Not Found\"}"));
}

/* ---- connection limits ---- */

static void addr_key(const struct sockaddr *sa, uint8_t ret[16]) {
        memset(ret, 0, 16);
        if (sa && sa->sa_family == AF_INET) {
                ret[10] = ret[11] = 0xff;
                memcpy(ret + 12, &((const struct sockaddr_in *) sa)->sin_addr, 4);
        } else if (sa && sa->sa_family == AF_INET6)
                memcpy(ret, &((const struct sockaddr_in6 *) sa)->sin6_addr, 16);
}

static size_t ip_hash(const uint8_t a[16], size_t cap) {
        uint64_t h = UINT64_C(1469598103934665603); /* FNV-1a */
        for (size_t i = 0; i < 16; i++)
                h = (h ^ a[i]) * UINT64_C(1099511628211);
        return (size_t) h & (cap - 1);
}

/* The slot of addr, or the free slot where it would go. */
static IpSlot *ip_slot(HttpServer *s, const uint8_t addr[16]) {
        size_t i = ip_hash(addr, s->ip_cap);
        while (s->ips[i].count > 0 && memcmp(s->ips[i].addr, addr, 16) != 0)
                i = (i + 1) & (s->ip_cap - 1);
        return &s->ips[i];
}

/* Free slot i, moving back the slots after it that probed past it (no tombstones). */
static void ip_slot_free(HttpServer *s, size_t i) {
        size_t mask = s->ip_cap - 1;
        s->ips[i].count = 0;
        for (size_t j = (i + 1) & mask; s->ips[j].count > 0; j = (j + 1) & mask) {
                size_t home = ip_hash(s->ips[j].addr, s->ip_cap);
                /* j stays when its home lies cyclically in (i, j] */
                if (i <= j ? (home > i && home <= j) : (home > i || home <= j))
                        continue;
                s->ips[i] = s->ips[j];
                s->ips[j].count = 0;
                i = j;
        }
}

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
        enum MHD_ConnectionNotificationCode code) {
        HttpServer *s = cls;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        uint8_t key[16];
        addr_key(ci ? ci->client_addr : NULL, key);

        pthread_mutex_lock(&s->conn_lock);
        if (code == MHD_CONNECTION_NOTIFY_STARTED) {
                IpSlot *slot = ip_slot(s, key);
                if (s->cfg.max_connections > 0 && s->open >= s->cfg.max_connections)
                        *socket_context = (void *) &refused_total_tag;
                else if (s->cfg.max_connections_per_ip > 0 && slot->count >= s->cfg.max_connections_per_ip)
                        *socket_context = (void *) &refused_ip_tag;
                else {
                        /* admitted: at most max_connections addresses, ip_cap is above it */
                        memcpy(slot->addr, key, 16);
                        slot->count++;
                        s->open++;
                        *socket_context = (void *) &admitted_tag;
                }
        } else if (*socket_context == &admitted_tag) {
                IpSlot *slot = ip_slot(s, key);
                if (slot->count > 0 && --slot->count == 0)
                        ip_slot_free(s, (size_t) (slot - s->ips));
                s->open--;
                *socket_context = NULL;
        }
        pthread_mutex_unlock(&s->conn_lock);
}

/* The fixed answer to a refused connection's request: no allocation, no log line. */
static struct MHD_Response *refused_response(const char *body) {
        struct MHD_Response *r =
                MHD_create_response_from_buffer(strlen(body), (void *) body, MHD_RESPMEM_PERSISTENT);
        if (!r)
                return NULL;
        if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json; charset=utf-8") !=
                        MHD_YES ||
                MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "1") != MHD_YES ||
                MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") != MHD_YES) {
                MHD_destroy_response(r);
                return NULL;
        }
        add_cors(r);
        return r;
}

/* A request on a refused connection: answered 503 at once (MHD then closes it). true when
 * it was one. */
static bool answer_refused(HttpServer *s, struct MHD_Connection *c, void **con_cls, size_t *upload_data_size,
        enum MHD_Result *ret) {
        if (*con_cls == &refused_request_tag) { /* the body of a request already answered */
                *upload_data_size = 0;
                *ret = MHD_YES;
                return true;
        }
        if (*con_cls)
                return false;
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        const void *why = ci ? ci->socket_context : NULL;
        if (why != &refused_total_tag && why != &refused_ip_tag)
                return false;
        *con_cls = &refused_request_tag;
        atomic_fetch_add(&s->refused, 1);
        *ret = MHD_queue_response(
                c, MHD_HTTP_SERVICE_UNAVAILABLE, why == &refused_ip_tag ? s->refused_ip : s->refused_total);
        return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
        const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls) {
        HttpServer *s = cls;
        HttpRequest *r = *con_cls;
        enum MHD_Result refused;

        if (answer_refused(s, c, con_cls, upload_data_size, &refused))
                return refused;
        if (!r) {
                r = calloc(1, sizeof *r);
                if (!r)
                        return MHD_NO;
                pthread_mutex_init(&r->lock, NULL);
                r->server = s;
                r->connection = c;
                atomic_fetch_add(&s->in_flight, 1);
                r->id = atomic_fetch_add(&s->next_id, 1) + 1;
                r->start_usec = now_usec(CLOCK_MONOTONIC);
                snprintf(r->method, sizeof r->method, "%s", method);
                http_path_normalize(url, r->path);
                const union MHD_ConnectionInfo *ci =
                        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
                if (ci && ci->client_addr) {
                        const struct sockaddr *sa = ci->client_addr;
                        if (sa->sa_family == AF_INET)
                                inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr,
                                        r->client_ip, sizeof r->client_ip);
                        else if (sa->sa_family == AF_INET6)
                                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr,
                                        r->client_ip, sizeof r->client_ip);
                }
                const char *cl =
                        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
                if (cl) {
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(cl, &end, 10);
                        if (errno != 0 || *end || v > s->cfg.max_body)
                                r->too_large = true;
                }
                *con_cls = r;
                if (r->too_large) {
                        /* Answer at once, without reading the body; MHD closes the connection. */
                        r->state = REQUEST_HANDLED;
                        dispatch(r);
                        return queue_reply(r);
                }
                return MHD_YES;
        }

        if (r->state == REQUEST_READING) {
                if (*upload_data_size > 0) {
                        size_t n = *upload_data_size;
                        *upload_data_size = 0;
                        if (r->too_large || n > s->cfg.max_body - r->body_len) {
                                r->too_large = true;
                                return MHD_YES;
                        }
                        char *nb = realloc(r->body, r->body_len + n + 1);
                        if (!nb)
                                return MHD_NO;
                        memcpy(nb + r->body_len, upload_data, n);
                        r->body = nb;
                        r->body_len += n;
                        r->body[r->body_len] = '\0';
                        return MHD_YES;
                }
                r->state = REQUEST_HANDLED;
                dispatch(r);
        }
        if (r->state != REQUEST_HANDLED)
                return MHD_YES;

        pthread_mutex_lock(&r->lock);
        if (r->has_reply) {
                pthread_mutex_unlock(&r->lock);
                return queue_reply(r);
        }
        if (r->suspend_requested && !r->suspended) {
                r->suspended = true;
                atomic_fetch_add(&s->suspended, 1);
                MHD_suspend_connection(c);
                pthread_mutex_unlock(&r->lock);
                return MHD_YES;
        }
        pthread_mutex_unlock(&r->lock);
        if (!r->suspend_requested) {
                /* A handler that forgot to answer: a bug, but never a hung client. */
                http_reply(r, 500, NULL, NULL, 0);
                return queue_reply(r);
        }
        return MHD_YES;
}

static void on_completed(
        void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
        HttpServer *s = cls;
        HttpRequest *r = *con_cls;
        if (!r || *con_cls == &refused_request_tag)
                return;
        *con_cls = NULL;
        uint64_t dur = now_usec(CLOCK_MONOTONIC) - r->start_usec;
        unsigned st = r->state == REQUEST_QUEUED ? r->status : 0;
        if (st) {
                atomic_fetch_add(&s->requests, 1);
                if (st / 100 >= 1 && st / 100 <= 5)
                        atomic_fetch_add(&s->by_class[st / 100], 1);
        }
        log_info("http request_id=%" PRIu64 " ip=%s method=%s path=%s status=%u duration_ms=%.3f%s%s%s",
                r->id, r->client_ip, r->method, r->path, st, dur / 1000.0,
                toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=true", r->note ? " " : "",
                r->note ? r->note : "");
        request_free(r);
        atomic_fetch_sub(&s->in_flight, 1);
}

int http_server_start(const HttpServerConfig *cfg, HttpServer **ret) {
        _cleanup_(http_server_freep) HttpServer *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->cfg = *cfg;
        s->quiesced_fd = -EBADF;
        pthread_mutex_init(&s->conn_lock, NULL);
        int k = http_allow_methods(cfg->routes, cfg->n_routes, s->allow, sizeof s->allow);
        if (k < 0)
                return k;
        if (cfg->static_dir) {
                int r = static_load(s, cfg->static_dir);
                if (r < 0)
                        return r;
        }
        /* room for every admitted connection's address, at most half full */
        size_t admitted = cfg->max_connections ? cfg->max_connections : HTTP_UNLIMITED_CONNECTIONS;
        for (s->ip_cap = 16; s->ip_cap < 2 * (size_t) admitted;)
                s->ip_cap *= 2;
        s->ips = calloc(s->ip_cap, sizeof *s->ips);
        s->refused_total =
                refused_response("{\"error\":\"the server has too many connections: retry later\"}");
        s->refused_ip =
                refused_response("{\"error\":\"too many connections from this address: retry later\"}");
        if (!s->ips || !s->refused_total || !s->refused_ip)
                return -ENOMEM;

        struct sockaddr_storage ss = {};
        socklen_t sl;
        int family;
        if (inet_pton(AF_INET, cfg->bind, &((struct sockaddr_in *) &ss)->sin_addr) == 1) {
                struct sockaddr_in *in = (struct sockaddr_in *) &ss;
                in->sin_family = AF_INET;
                in->sin_port = htons(cfg->port);
                sl = sizeof *in;
                family = AF_INET;
        } else if (inet_pton(AF_INET6, cfg->bind, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1) {
                struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons(cfg->port);
                sl = sizeof *in6;
                family = AF_INET6;
        } else
                return -EINVAL;
        (void) sl;

        /* ITC: MHD_quiesce_daemon() with internal threads. */
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                         MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_UPGRADE;
        if (family == AF_INET6)
                flags |= MHD_USE_IPv6;
        /* MHD's own limit, past which it closes without a word: ours plus room for the
         * refused ones to be answered. */
        unsigned hard = (unsigned) MIN((size_t) admitted + MAX(admitted / 4, 64u), (size_t) UINT_MAX);
        s->daemon = MHD_start_daemon(flags, cfg->port, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR,
                (struct sockaddr *) &ss, MHD_OPTION_THREAD_POOL_SIZE,
                (unsigned) (cfg->threads ? cfg->threads : 2), MHD_OPTION_CONNECTION_LIMIT, hard,
                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) cfg->connection_timeout_sec,
                MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
                MHD_OPTION_END);
        if (!s->daemon)
                return -EADDRINUSE;
        *ret = TAKE_PTR(s);
        return 0;
}

void http_server_quiesce(HttpServer *s) {
        if (!s || !s->daemon)
                return;
        MHD_socket fd = MHD_quiesce_daemon(s->daemon);
        if (fd == MHD_INVALID_SOCKET)
                return;
        /* New clients are refused by the kernel from now on (a listening socket shut down
         * answers with a reset), but the descriptor stays open until MHD_stop_daemon():
         * MHD's threads take it out of their epoll set after quiesce returns, and closing it
         * first made that fail (MHD aborts the process on it, seen under ASan). */
        (void) shutdown(fd, SHUT_RDWR);
        s->quiesced_fd = fd;
}

bool http_server_drain(HttpServer *s, uint64_t timeout_usec) {
        if (!s)
                return true;
        uint64_t until = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        /* Completions are not signalled: look every 10 ms. */
        while (atomic_load(&s->in_flight) > 0 && now_usec(CLOCK_MONOTONIC) < until) {
                struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
                (void) nanosleep(&ts, NULL);
        }
        return atomic_load(&s->in_flight) == 0;
}

HttpServer *http_server_free(HttpServer *s) {
        if (!s)
                return NULL;
        if (s->daemon)
                MHD_stop_daemon(s->daemon);
        safe_close(s->quiesced_fd);
        if (s->refused_total)
                MHD_destroy_response(s->refused_total);
        if (s->refused_ip)
                MHD_destroy_response(s->refused_ip);
        free(s->ips);
        for (size_t i = 0; i < s->n_files; i++) {
                free(s->files[i].path);
                free(s->files[i].body);
        }
        free(s->files);
        pthread_mutex_destroy(&s->conn_lock);
        free(s);
        return NULL;
}

void http_server_stats(HttpServer *s, HttpStats *ret) {
        *ret = (HttpStats){.requests = atomic_load(&s->requests),
                .suspended = atomic_load(&s->suspended),
                .refused = atomic_load(&s->refused)};
        for (size_t i = 0; i < 6; i++)
                ret->by_class[i] = atomic_load(&s->by_class[i]);
}
