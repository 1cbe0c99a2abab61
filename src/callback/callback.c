/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "base/log.h"
#include "base/macro.h"
#include "callback/callback.h"
#include "httpc/httpc.h"
#include "secure/secure.h"

#define CALLBACK_BACKOFF_USEC UINT64_C(500000)
/* What a receiver's answer may carry: it is not read, and more is still a delivery. */
#define CALLBACK_MAX_RESPONSE_BODY (64 * 1024)

typedef struct Pending {
        struct Pending *next;
        char *url;
        char token[64];
        char *body;
} Pending;

struct CallbackSender {
        CallbackConfig cfg;
        char *secret;
        HttpcClient *client; /* its connections are kept alive between callbacks */
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        Pending *head, *tail;
        size_t n_pending;
        bool stopping;
};

static bool v4_public(uint32_t a) {
        static const struct {
                uint32_t net, mask;
        } blocked[] = {
                {0x00000000, 0xff000000}, /* 0/8 "this network" */
                {0x0a000000, 0xff000000}, /* 10/8 */
                {0x64400000, 0xffc00000}, /* 100.64/10 CGNAT */
                {0x7f000000, 0xff000000}, /* 127/8 loopback */
                {0xa9fe0000, 0xffff0000}, /* 169.254/16 link-local, cloud metadata */
                {0xac100000, 0xfff00000}, /* 172.16/12 */
                {0xc0000000, 0xffffff00}, /* 192.0.0/24 protocol assignments */
                {0xc0a80000, 0xffff0000}, /* 192.168/16 */
                {0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
                {0xe0000000, 0xe0000000}, /* 224/3 multicast, reserved, broadcast */
        };
        for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++)
                if ((a & blocked[i].mask) == blocked[i].net)
                        return false;
        return true;
}

bool callback_address_is_public(int family, const void *addr) {
        if (family == AF_INET)
                return v4_public(ntohl(((const struct in_addr *) addr)->s_addr));
        if (family != AF_INET6)
                return false;
        const struct in6_addr *a = addr;
        if (IN6_IS_ADDR_V4MAPPED(a) || IN6_IS_ADDR_V4COMPAT(a)) {
                uint32_t v4;
                memcpy(&v4, &a->s6_addr[12], 4);
                return v4_public(ntohl(v4));
        }
        if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || IN6_IS_ADDR_LINKLOCAL(a) ||
                IN6_IS_ADDR_SITELOCAL(a) || IN6_IS_ADDR_MULTICAST(a))
                return false;
        if ((a->s6_addr[0] & 0xfe) == 0xfc) /* fc00::/7 unique local */
                return false;
        if (a->s6_addr[0] == 0x00 && a->s6_addr[1] == 0x64 && a->s6_addr[2] == 0xff && a->s6_addr[3] == 0x9b)
                return false; /* 64:ff9b::/96 NAT64 could reach anything */
        return true;
}

/* One try, waited for by the sender thread. As in Judge0 any HTTP answer is a delivery, one
 * with a body too large to keep included. */
static int try_once(CallbackSender *s, const HttpcRequest *req, unsigned *ret_status) {
        HttpcResponse response;
        int r = httpc_wait(s->client, req, &response);
        if (r < 0)
                return r;
        r = response.error == -EMSGSIZE && response.status > 0 ? 0 : response.error;
        *ret_status = response.status;
        httpc_response_done(&response);
        return r;
}

static void sign(const CallbackSender *s, const char *body, char header[static 128]) {
        char hex[SECURE_HEX_SHA256];
        secure_hmac_sha256_hex(s->secret, strlen(s->secret), body, strlen(body), hex);
        snprintf(header, 128, "X-Coderunner-Signature: sha256=%s", hex);
}

static void deliver(CallbackSender *s, Pending *p) {
        char sig[128];
        HttpcHeader headers[2] = {{"Content-Type", "application/json"}};
        size_t n_headers = 1;
        if (s->secret) {
                sign(s, p->body, sig); /* the whole line: its value follows the name and ": " */
                headers[n_headers++] =
                        (HttpcHeader){"X-Coderunner-Signature", sig + strlen("X-Coderunner-Signature: ")};
        }
        HttpcRequest req = {
                .method = "PUT",
                .url = p->url,
                .headers = headers,
                .n_headers = n_headers,
                .body = p->body,
                .body_len = strlen(p->body),
                .connect_timeout_usec = s->cfg.timeout_usec,
                .timeout_usec = s->cfg.timeout_usec,
        };
        int r = 0;
        unsigned status = 0;
        uint32_t tries = 0;
        for (uint64_t backoff = CALLBACK_BACKOFF_USEC; tries < s->cfg.max_tries; backoff *= 2) {
                tries++;
                r = try_once(s, &req, &status);
                /* A URL that cannot be called, or an address refused: never better next time. */
                if (r == 0 || r == -EINVAL || r == -EACCES)
                        break;
                if (tries < s->cfg.max_tries) {
                        struct timespec ts = {
                                (time_t) (backoff / 1000000), (long) (backoff % 1000000) * 1000};
                        nanosleep(&ts, NULL);
                }
        }
        if (r == 0)
                log_info("callback token=%s delivered=true http_status=%u tries=%" PRIu32, p->token, status,
                        tries);
        else
                log_warning(0, "callback token=%s delivered=false tries=%" PRIu32 " error=\"%s\"", p->token,
                        tries,
                        r == -EACCES   ? "refused: not a public address (callbacks_allow_private=false)"
                        : r == -EINVAL ? "not an http or https URL"
                                       : strerrordesc_np(-r));
}

static void pending_free(Pending *p) {
        free(p->url);
        free(p->body);
        free(p);
}

static void *sender_thread(void *arg) {
        CallbackSender *s = arg;
        pthread_mutex_lock(&s->lock);
        for (;;) {
                while (!s->head && !s->stopping)
                        pthread_cond_wait(&s->cond, &s->lock);
                Pending *p = s->head;
                if (!p)
                        break; /* stopping, and nothing left */
                s->head = p->next;
                if (!s->head)
                        s->tail = NULL;
                s->n_pending--;
                pthread_mutex_unlock(&s->lock);
                deliver(s, p);
                pending_free(p);
                pthread_mutex_lock(&s->lock);
        }
        pthread_mutex_unlock(&s->lock);
        return NULL;
}

int callback_sender_start(const CallbackConfig *cfg, CallbackSender **ret) {
        if (cfg->max_tries == 0)
                return -EINVAL;
        if (secure_init() < 0)
                return -EIO;
        CallbackSender *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->cfg = *cfg;
        if (cfg->secret && *cfg->secret && !(s->secret = strdup(cfg->secret))) {
                free(s);
                return -ENOMEM;
        }
        s->cfg.secret = NULL;
        HttpcConfig hc = {
                .max_response_body = CALLBACK_MAX_RESPONSE_BODY,
                .max_connections_per_host = 1, /* one sender, one try at a time: one connection kept */
                .address_allowed = cfg->allow_private ? NULL : callback_address_is_public,
        };
        int r = httpc_start(&hc, &s->client);
        if (r < 0) {
                free(s->secret);
                free(s);
                return r;
        }
        pthread_mutex_init(&s->lock, NULL);
        pthread_cond_init(&s->cond, NULL);
        r = -pthread_create(&s->thread, NULL, sender_thread, s);
        if (r < 0) {
                httpc_stop(s->client);
                free(s->secret);
                free(s);
                return r;
        }
        *ret = s;
        return 0;
}

CallbackSender *callback_sender_stop(CallbackSender *s) {
        if (!s)
                return NULL;
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
        httpc_stop(s->client);
        pthread_mutex_destroy(&s->lock);
        pthread_cond_destroy(&s->cond);
        free(s->secret);
        free(s);
        return NULL;
}

int callback_send(CallbackSender *s, const char *url, const char *token, char *body) {
        Pending *p = calloc(1, sizeof *p);
        if (!p) {
                free(body);
                return -ENOMEM;
        }
        p->body = body;
        p->url = strdup(url);
        snprintf(p->token, sizeof p->token, "%s", token);
        if (!p->url) {
                pending_free(p);
                return -ENOMEM;
        }
        pthread_mutex_lock(&s->lock);
        if (s->n_pending >= s->cfg.max_pending || s->stopping) {
                pthread_mutex_unlock(&s->lock);
                pending_free(p);
                return -EAGAIN;
        }
        if (s->tail)
                s->tail->next = p;
        else
                s->head = p;
        s->tail = p;
        s->n_pending++;
        pthread_cond_signal(&s->cond);
        pthread_mutex_unlock(&s->lock);
        return 0;
}
