/* SPDX-License-Identifier: MIT */
/* Outgoing HTTP on libcurl's multi interface: one thread per client polls every transfer
 * (curl_multi_poll), and httpc_submit() wakes it (curl_multi_wakeup) to add new ones. The
 * multi handle keeps connections alive and reuses them across transfers. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "base/macro.h"
#include "base/time-util.h"
#include "httpc/httpc.h"

#define HTTPC_DEFAULT_MAX_RESPONSE_BODY (UINT64_C(16) * 1024 * 1024)
#define HTTPC_DEFAULT_MAX_PENDING 4096
#define HTTPC_DEFAULT_MAX_CONNECTIONS_PER_HOST 64
#define HTTPC_DEFAULT_CONNECT_TIMEOUT_USEC (2 * USEC_PER_SEC)
/* The ceilings of a response's header section: past either the transfer fails (-EMSGSIZE). */
#define HTTPC_MAX_RESPONSE_HEADERS 128
#define HTTPC_MAX_RESPONSE_HEADER_BYTES (64 * 1024)
#define HTTPC_MAX_METHOD 16

typedef struct Transfer {
        struct Transfer *next, *prev; /* the client's queue, then its running list */
        HttpcClient *client;
        CURL *easy;
        struct curl_slist *headers;
        char *body; /* the request's, copied */
        bool bounded; /* has a timeout: httpc_stop() lets it finish */
        HttpcDone done;
        int (*on_data)(const HttpcResponse *head, const char *data, size_t len, void *userdata);
        bool (*abandoned)(void *userdata);
        void *userdata;
        uint64_t start_usec;
        /* what is known of the response so far */
        bool sent; /* a connection was established (or reused) for it */
        bool refused; /* address_allowed() said no */
        bool too_large; /* body or header section past its ceiling */
        bool nomem; /* a callback could not allocate */
        bool streaming; /* a 2xx answer to a request with on_data: its body goes there */
        bool aborted; /* on_data or abandoned ended it */
        char *rbody;
        size_t rbody_len, rbody_cap;
        HttpcHeader *rheaders;
        size_t n_rheaders, rheader_bytes;
} Transfer;

typedef struct TransferList {
        Transfer *head, *tail;
} TransferList;

struct HttpcClient {
        HttpcConfig cfg;
        CURLM *multi;
        pthread_t thread;
        pthread_mutex_t lock;
        TransferList queued; /* submitted, not yet handed to curl (lock) */
        size_t n_pending; /* queued + running (lock) */
        bool stopping; /* (lock) */
        TransferList running; /* the thread's alone */
};

static void list_append(TransferList *l, Transfer *t) {
        t->next = NULL;
        t->prev = l->tail;
        if (l->tail)
                l->tail->next = t;
        else
                l->head = t;
        l->tail = t;
}

static void list_remove(TransferList *l, Transfer *t) {
        if (t->prev)
                t->prev->next = t->next;
        else
                l->head = t->next;
        if (t->next)
                t->next->prev = t->prev;
        else
                l->tail = t->prev;
        t->next = t->prev = NULL;
}

static void headers_free(HttpcHeader *h, size_t n) {
        for (size_t i = 0; i < n; i++)
                free((char *) h[i].name); /* name and value share one allocation */
        free(h);
}

void httpc_response_done(HttpcResponse *r) {
        if (!r)
                return;
        headers_free(r->headers, r->n_headers);
        free(r->body);
        r->headers = NULL;
        r->n_headers = 0;
        r->body = NULL;
        r->body_len = 0;
}

const char *httpc_response_header(const HttpcResponse *r, const char *name) {
        for (size_t i = 0; i < r->n_headers; i++)
                if (strcasecmp(r->headers[i].name, name) == 0)
                        return r->headers[i].value;
        return NULL;
}

static void transfer_free(Transfer *t) {
        if (!t)
                return;
        if (t->easy)
                curl_easy_cleanup(t->easy);
        curl_slist_free_all(t->headers);
        free(t->body);
        free(t->rbody);
        headers_free(t->rheaders, t->n_rheaders);
        free(t);
}

/* ---- libcurl's callbacks, on the client's thread ---- */

/* What a streaming consumer sees of the answer: its status and headers. */
static HttpcResponse transfer_head(const Transfer *t) {
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        return (HttpcResponse){
                .sent = true,
                .status = status > 0 ? (unsigned) status : 0,
                .headers = t->rheaders,
                .n_headers = t->n_rheaders,
        };
}

/* Hand a chunk (len 0: the head) to on_data: false when the consumer ended the transfer. */
static bool stream_chunk(Transfer *t, const char *data, size_t len) {
        HttpcResponse head = transfer_head(t);
        if ((t->abandoned && t->abandoned(t->userdata)) || t->on_data(&head, data, len, t->userdata) < 0) {
                t->aborted = true;
                return false;
        }
        return true;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb, max = t->client->cfg.max_response_body;
        if (t->streaming)
                return stream_chunk(t, data, n) ? n : 0;
        if (n > max - t->rbody_len) {
                t->too_large = true;
                return 0; /* CURLE_WRITE_ERROR */
        }
        if (t->rbody_len + n + 1 > t->rbody_cap) {
                size_t cap = MAX(t->rbody_cap * 2, t->rbody_len + n + 1);
                cap = MIN(cap, max + 1);
                char *p = realloc(t->rbody, cap);
                if (!p) {
                        t->nomem = true;
                        return 0;
                }
                t->rbody = p;
                t->rbody_cap = cap;
        }
        memcpy(t->rbody + t->rbody_len, data, n);
        t->rbody_len += n;
        return n;
}

/* One line of the header section ("Name: value\r\n"), a status line, or the blank line. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *userdata) {
        Transfer *t = userdata;
        size_t n = size * nmemb;
        if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
                /* A new response (after a 100 Continue, say): forget the previous one's. */
                headers_free(t->rheaders, t->n_rheaders);
                t->rheaders = NULL;
                t->n_rheaders = t->rheader_bytes = 0;
                return n;
        }
        const char *colon = memchr(data, ':', n);
        if (t->on_data && !colon && n <= 2) {
                /* The blank line: a 2xx answer of a streaming request starts streaming. */
                HttpcResponse head = transfer_head(t);
                if (head.status >= 200 && head.status < 300 && !t->streaming) {
                        t->streaming = true;
                        return stream_chunk(t, NULL, 0) ? n : 0;
                }
                return n;
        }
        if (!colon || colon == data)
                return n; /* the blank line, or a folded continuation (obsolete): ignored */
        t->rheader_bytes += n;
        if (t->n_rheaders >= HTTPC_MAX_RESPONSE_HEADERS ||
                t->rheader_bytes > HTTPC_MAX_RESPONSE_HEADER_BYTES) {
                t->too_large = true;
                return 0;
        }
        size_t name_len = (size_t) (colon - data);
        const char *v = colon + 1, *end = data + n;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
        size_t value_len = (size_t) (end - v);
        char *block = malloc(name_len + 1 + value_len + 1);
        if (!block) {
                t->nomem = true;
                return 0;
        }
        for (size_t i = 0; i < name_len; i++)
                block[i] = (data[i] >= 'A' && data[i] <= 'Z') ? (char) (data[i] - 'A' + 'a') : data[i];
        block[name_len] = '\0';
        memcpy(block + name_len + 1, v, value_len);
        block[name_len + 1 + value_len] = '\0';
        HttpcHeader *h = realloc(t->rheaders, (t->n_rheaders + 1) * sizeof *h);
        if (!h) {
                free(block);
                t->nomem = true;
                return 0;
        }
        t->rheaders = h;
        h[t->n_rheaders++] = (HttpcHeader){block, block + name_len + 1};
        return n;
}

/* The address about to be connected, after name resolution: the one address_allowed()
 * judges, so a name that resolves to a forbidden address cannot get around it. */
static curl_socket_t on_open_socket(void *userdata, curlsocktype purpose, struct curl_sockaddr *a) {
        Transfer *t = userdata;
        bool (*allowed)(int, const void *) = t->client->cfg.address_allowed;
        if (allowed) {
                const void *addr = NULL;
                if (a->family == AF_INET)
                        addr = &((const struct sockaddr_in *) &a->addr)->sin_addr;
                else if (a->family == AF_INET6)
                        addr = &((const struct sockaddr_in6 *) &a->addr)->sin6_addr;
                if (!addr || !allowed(a->family, addr)) {
                        t->refused = true;
                        return CURL_SOCKET_BAD;
                }
        }
        return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

/* Called once a connection is established or reused, right before the request is sent. */
static int on_prereq(void *userdata, char *conn_primary_ip, char *conn_local_ip, int conn_primary_port,
        int conn_local_port) {
        Transfer *t = userdata;
        t->sent = true;
        return CURL_PREREQFUNC_OK;
}

/* ---- errors ---- */

static const struct {
        CURLcode code;
        int error;
} curl_errors[] = {
        {CURLE_COULDNT_RESOLVE_HOST, EHOSTUNREACH},
        {CURLE_COULDNT_RESOLVE_PROXY, EHOSTUNREACH},
        {CURLE_COULDNT_CONNECT, ECONNREFUSED}, /* refined by the socket's errno below */
        {CURLE_OPERATION_TIMEDOUT, ETIMEDOUT},
        {CURLE_SEND_ERROR, ECONNRESET},
        {CURLE_RECV_ERROR, ECONNRESET},
        {CURLE_GOT_NOTHING, ECONNRESET},
        {CURLE_PARTIAL_FILE, ECONNRESET},
        {CURLE_FILESIZE_EXCEEDED, EMSGSIZE},
        {CURLE_WEIRD_SERVER_REPLY, EPROTO},
        {CURLE_UNSUPPORTED_PROTOCOL, EPROTO}, /* the scheme was checked at submit: HTTP/0.9 */
        {CURLE_BAD_CONTENT_ENCODING, EPROTO},
        {CURLE_HTTP2, EPROTO},
        {CURLE_HTTP2_STREAM, EPROTO},
        {CURLE_OUT_OF_MEMORY, ENOMEM},
        {CURLE_ABORTED_BY_CALLBACK, ECANCELED},
};

/* libcurl's progress meter, asked about once a second while nothing moves: the moment a
 * streaming consumer that went away ends its transfer. */
static int on_progress(
        void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
        Transfer *t = userdata;
        if (t->abandoned(t->userdata)) {
                t->aborted = true;
                return 1; /* CURLE_ABORTED_BY_CALLBACK */
        }
        return 0;
}

static int transfer_error(const Transfer *t, CURLcode code) {
        if (code == CURLE_OK)
                return 0;
        if (t->aborted)
                return -ECANCELED;
        if (t->refused)
                return -EACCES;
        if (t->too_large)
                return -EMSGSIZE;
        if (t->nomem)
                return -ENOMEM;
        if (code == CURLE_COULDNT_CONNECT) {
                long os = 0;
                curl_easy_getinfo(t->easy, CURLINFO_OS_ERRNO, &os);
                if (os == ENETUNREACH || os == EHOSTUNREACH)
                        return -EHOSTUNREACH;
                if (os == ETIMEDOUT)
                        return -ETIMEDOUT;
        }
        for (size_t i = 0; i < ELEMENTSOF(curl_errors); i++)
                if (curl_errors[i].code == code)
                        return -curl_errors[i].error;
        return -EIO;
}

/* ---- completion ---- */

/* Call done once with what the transfer got (or error), then free it. On the client's
 * thread, or httpc_stop()'s caller's once the thread is gone. */
static void transfer_finish(Transfer *t, int error) {
        HttpcClient *c = t->client;
        HttpcResponse r = {
                .error = error,
                .sent = t->sent && !t->refused,
                .elapsed_usec = now_usec(CLOCK_MONOTONIC) - t->start_usec,
        };
        long status = 0;
        if (t->easy && curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status > 0)
                r.status = (unsigned) status;
        if (error == 0) {
                if (!t->rbody && !(t->rbody = malloc(1)))
                        r.error = -ENOMEM;
                else {
                        t->rbody[t->rbody_len] = '\0';
                        r.body = TAKE_PTR(t->rbody);
                        r.body_len = t->rbody_len;
                        r.headers = TAKE_PTR(t->rheaders);
                        r.n_headers = t->n_rheaders;
                        t->n_rheaders = 0;
                }
        }
        pthread_mutex_lock(&c->lock);
        c->n_pending--; /* before done: a done function may submit again (a retry) */
        pthread_mutex_unlock(&c->lock);
        t->done(&r, t->userdata);
        httpc_response_done(&r);
        transfer_free(t);
}

static void finish_running(HttpcClient *c, Transfer *t, int error) {
        curl_multi_remove_handle(c->multi, t->easy);
        list_remove(&c->running, t);
        transfer_finish(t, error);
}

static void *client_thread(void *arg) {
        HttpcClient *c = arg;
        bool cancelled_unbounded = false;
        for (;;) {
                pthread_mutex_lock(&c->lock);
                Transfer *fresh = c->queued.head;
                c->queued = (TransferList){};
                bool stopping = c->stopping;
                pthread_mutex_unlock(&c->lock);

                while (fresh) {
                        Transfer *t = fresh;
                        fresh = fresh->next;
                        if (stopping) {
                                transfer_finish(t, -ECANCELED);
                                continue;
                        }
                        t->start_usec = now_usec(CLOCK_MONOTONIC);
                        CURLMcode mc = curl_multi_add_handle(c->multi, t->easy);
                        if (mc != CURLM_OK) {
                                transfer_finish(t, mc == CURLM_OUT_OF_MEMORY ? -ENOMEM : -EIO);
                                continue;
                        }
                        list_append(&c->running, t);
                }
                if (stopping && !cancelled_unbounded) {
                        /* A transfer without a timeout could run forever: it is cancelled. */
                        for (Transfer *t = c->running.head, *next; t; t = next) {
                                next = t->next;
                                if (!t->bounded)
                                        finish_running(c, t, -ECANCELED);
                        }
                        cancelled_unbounded = true;
                }

                int still = 0;
                curl_multi_perform(c->multi, &still);
                CURLMsg *m;
                int left;
                while ((m = curl_multi_info_read(c->multi, &left)))
                        if (m->msg == CURLMSG_DONE) {
                                Transfer *t = NULL;
                                CURLcode code = m->data.result; /* m is gone once the handle is removed */
                                curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **) &t);
                                finish_running(c, t, transfer_error(t, code));
                        }

                if (stopping && !c->running.head)
                        break;
                curl_multi_poll(c->multi, NULL, 0, 1000, NULL);
        }
        return NULL;
}

/* ---- the public side ---- */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_init_result;

static void global_init(void) {
        global_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int httpc_start(const HttpcConfig *cfg, HttpcClient **ret) {
        pthread_once(&global_once, global_init);
        if (global_init_result != CURLE_OK)
                return -EIO;
        HttpcClient *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->cfg = *cfg;
        if (c->cfg.max_response_body == 0)
                c->cfg.max_response_body = HTTPC_DEFAULT_MAX_RESPONSE_BODY;
        if (c->cfg.max_pending == 0)
                c->cfg.max_pending = HTTPC_DEFAULT_MAX_PENDING;
        if (c->cfg.max_connections_per_host == 0)
                c->cfg.max_connections_per_host = HTTPC_DEFAULT_MAX_CONNECTIONS_PER_HOST;
        if (c->cfg.max_response_body >= SIZE_MAX / 2 || c->cfg.max_connections_per_host > 65536) {
                free(c);
                return -EINVAL;
        }
        c->multi = curl_multi_init();
        if (!c->multi) {
                free(c);
                return -ENOMEM;
        }
        /* The idle connections kept; none caps those in use, so a check or a short request is
         * never queued behind a node's long ones (max_pending bounds them all). */
        curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, (long) c->cfg.max_connections_per_host);
        pthread_mutex_init(&c->lock, NULL);
        int r = -pthread_create(&c->thread, NULL, client_thread, c);
        if (r < 0) {
                pthread_mutex_destroy(&c->lock);
                curl_multi_cleanup(c->multi);
                free(c);
                return r;
        }
        *ret = c;
        return 0;
}

HttpcClient *httpc_stop(HttpcClient *c) {
        if (!c)
                return NULL;
        pthread_mutex_lock(&c->lock);
        c->stopping = true;
        pthread_mutex_unlock(&c->lock);
        curl_multi_wakeup(c->multi);
        pthread_join(c->thread, NULL); /* it saw stopping: nothing is queued or running */
        curl_multi_cleanup(c->multi);
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
}

static bool method_valid(const char *m) {
        size_t n = 0;
        for (; m[n]; n++)
                if (m[n] < 'A' || m[n] > 'Z')
                        return false;
        return n > 0 && n <= HTTPC_MAX_METHOD;
}

/* Only absolute http and https URLs with a host. */
static bool url_valid(const char *url) {
        CURLU *u = curl_url();
        if (!u)
                return false;
        char *scheme = NULL, *host = NULL;
        bool ok = curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
                  curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
                  curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
                  (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0) && *host;
        curl_free(scheme);
        curl_free(host);
        curl_url_cleanup(u);
        return ok;
}

static bool header_valid(const HttpcHeader *h) {
        if (!h->name || !h->value || !*h->name)
                return false;
        for (const char *p = h->name; *p; p++)
                if (*p <= ' ' || *p == ':' || *p == 0x7f)
                        return false;
        for (const char *p = h->value; *p; p++)
                if (*p == '\r' || *p == '\n')
                        return false;
        return true;
}

/* "Name: value", or "Name;" for an empty value (curl's spelling of it). */
static int add_header(struct curl_slist **list, const char *name, const char *value) {
        size_t n = strlen(name), v = strlen(value);
        _cleanup_free_ char *line = malloc(n + 2 + v + 1);
        if (!line)
                return -ENOMEM;
        memcpy(line, name, n);
        if (v == 0)
                memcpy(line + n, ";", 2);
        else {
                memcpy(line + n, ": ", 2);
                memcpy(line + n + 2, value, v + 1);
        }
        struct curl_slist *l = curl_slist_append(*list, line);
        if (!l)
                return -ENOMEM;
        *list = l;
        return 0;
}

static int transfer_new(HttpcClient *c, const HttpcRequest *req, Transfer **ret) {
        if (!req->method || !method_valid(req->method) || !req->url || !url_valid(req->url) ||
                (req->body_len > 0 && !req->body) || (req->n_headers > 0 && !req->headers))
                return -EINVAL;
        for (size_t i = 0; i < req->n_headers; i++)
                if (!header_valid(&req->headers[i]))
                        return -EINVAL;

        Transfer *t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->client = c;
        int r = -ENOMEM;
        if (!(t->easy = curl_easy_init()))
                goto fail;
        for (size_t i = 0; i < req->n_headers; i++)
                if ((r = add_header(&t->headers, req->headers[i].name, req->headers[i].value)) < 0)
                        goto fail;
        /* No "Expect: 100-continue" round trip before a large body. */
        if ((r = add_header(&t->headers, "Expect", "")) < 0)
                goto fail;
        r = -ENOMEM;
        CURL *e = t->easy;
        if (req->body || strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
                strcmp(req->method, "PATCH") == 0) {
                if (!(t->body = malloc(req->body_len + 1)))
                        goto fail;
                if (req->body_len > 0)
                        memcpy(t->body, req->body, req->body_len);
                t->body[req->body_len] = '\0';
                curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) req->body_len);
                curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body);
        }
        if (strcmp(req->method, "HEAD") == 0)
                curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        else if (strcmp(req->method, "GET") != 0 || t->body)
                curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
        uint64_t connect =
                req->connect_timeout_usec ? req->connect_timeout_usec : HTTPC_DEFAULT_CONNECT_TIMEOUT_USEC;
        /* Whole milliseconds, at least one (0 would mean curl's default). */
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long) MAX(connect / USEC_PER_MSEC, 1));
        if (req->timeout_usec) {
                curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long) MAX(req->timeout_usec / USEC_PER_MSEC, 1));
                t->bounded = true;
        }
        curl_easy_setopt(e, CURLOPT_URL, req->url);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
        curl_easy_setopt(e, CURLOPT_PRIVATE, t);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(e, CURLOPT_PROXY, ""); /* never one from the environment */
        curl_easy_setopt(e, CURLOPT_USERAGENT, "coderunner");
        if (!req->on_data) /* a streamed body is not kept: the consumer bounds what it holds */
                curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) c->cfg.max_response_body);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
        curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, on_prereq);
        curl_easy_setopt(e, CURLOPT_PREREQDATA, t);
        if (req->abandoned) {
                curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
                curl_easy_setopt(e, CURLOPT_XFERINFODATA, t);
                curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
        }
        *ret = t;
        return 0;
fail:
        transfer_free(t);
        return r;
}

int httpc_submit(HttpcClient *c, const HttpcRequest *req, HttpcDone done, void *userdata) {
        if (!c || !req || !done)
                return -EINVAL;
        Transfer *t = NULL;
        int r = transfer_new(c, req, &t);
        if (r < 0)
                return r;
        t->done = done;
        t->on_data = req->on_data;
        t->abandoned = req->abandoned;
        t->userdata = userdata;
        t->start_usec = now_usec(CLOCK_MONOTONIC);
        pthread_mutex_lock(&c->lock);
        if (c->stopping)
                r = -ECANCELED;
        else if (c->n_pending >= c->cfg.max_pending)
                r = -EAGAIN;
        else {
                list_append(&c->queued, t);
                c->n_pending++;
        }
        pthread_mutex_unlock(&c->lock);
        if (r < 0) {
                transfer_free(t);
                return r;
        }
        curl_multi_wakeup(c->multi);
        return 0;
}

/* ---- the blocking helper ---- */

typedef struct Fetch {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool finished;
        HttpcResponse response;
} Fetch;

static void fetch_done(HttpcResponse *r, void *userdata) {
        Fetch *f = userdata;
        pthread_mutex_lock(&f->lock);
        f->response = *r;
        /* taken over */
        r->body = NULL;
        r->headers = NULL;
        r->n_headers = 0;
        f->finished = true;
        pthread_cond_signal(&f->cond);
        pthread_mutex_unlock(&f->lock);
}

int httpc_wait(HttpcClient *c, const HttpcRequest *req, HttpcResponse *ret) {
        if (c && pthread_equal(pthread_self(), c->thread))
                return -EDEADLK; /* it would wait for itself */
        Fetch f = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
        int r = httpc_submit(c, req, fetch_done, &f);
        if (r < 0)
                return r;
        pthread_mutex_lock(&f.lock);
        while (!f.finished)
                pthread_cond_wait(&f.cond, &f.lock);
        pthread_mutex_unlock(&f.lock);
        pthread_mutex_destroy(&f.lock);
        pthread_cond_destroy(&f.cond);
        *ret = f.response;
        return 0;
}

int httpc_fetch(const HttpcConfig *cfg, const HttpcRequest *req, HttpcResponse *ret) {
        HttpcClient *c = NULL;
        int r = httpc_start(cfg, &c);
        if (r < 0)
                return r;
        HttpcResponse response;
        r = httpc_wait(c, req, &response);
        httpc_stop(c);
        if (r < 0)
                return r;
        if (response.error < 0) {
                r = response.error;
                httpc_response_done(&response);
                return r;
        }
        *ret = response;
        return 0;
}
