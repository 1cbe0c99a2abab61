/* SPDX-License-Identifier: MIT */
/* The Redis client: hiredis behind our own reply tree and -errno errors. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "base/parse-util.h"
#include "base/time-util.h"
#include "redis/redis.h"

#define HOST_MAX 256
#define SECRET_MAX 256
/* Scripts whose SHA1 a connection remembers (the queue has a handful). */
#define SCRIPTS_MAX 16

struct Redis {
        char host[HOST_MAX];
        int port;
        unsigned db;
        char user[SECRET_MAX];
        char password[SECRET_MAX];
        bool auth;
        redisContext *ctx; /* NULL: connect on the next call */
        char address[HOST_MAX + 32];
        char error[REDIS_ERROR_MAX];
        struct {
                const RedisScript *script;
                char sha[41];
        } shas[SCRIPTS_MAX];
        size_t n_shas;
};

static void set_error(char *buf, const char *fmt, ...) _printf_(2, 3);
static void set_error(char *buf, const char *fmt, ...) {
        if (!buf)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, REDIS_ERROR_MAX, fmt, ap);
        va_end(ap);
}

/* ---- replies ---- */

static void reply_done(RedisReply *r) {
        free(r->str);
        for (size_t i = 0; i < r->n; i++)
                reply_done(&r->elements[i]);
        free(r->elements);
}

RedisReply *redis_reply_free(RedisReply *r) {
        if (r) {
                reply_done(r);
                free(r);
        }
        return NULL;
}

const RedisReply *redis_reply_at(const RedisReply *r, size_t i) {
        return r && r->type == REDIS_TYPE_ARRAY && i < r->n ? &r->elements[i] : NULL;
}

const char *redis_reply_str(const RedisReply *r) {
        return r && r->type == REDIS_TYPE_STRING ? r->str : NULL;
}

int redis_reply_integer(const RedisReply *r, long long *ret) {
        if (!r)
                return -EINVAL;
        if (r->type == REDIS_TYPE_INTEGER) {
                *ret = r->integer;
                return 0;
        }
        if (r->type != REDIS_TYPE_STRING)
                return -EINVAL;
        bool neg = r->str[0] == '-';
        uint64_t v;
        if (parse_u64(r->str + neg, &v) < 0 || v > (uint64_t) INT64_MAX)
                return -EINVAL;
        *ret = neg ? -(long long) v : (long long) v;
        return 0;
}

/* Copy hiredis's reply into ours (the caller zeroed *to). */
static int reply_copy(const redisReply *from, RedisReply *to) {
        switch (from->type) {
        case REDIS_REPLY_INTEGER:
                to->type = REDIS_TYPE_INTEGER;
                to->integer = from->integer;
                return 0;
        case REDIS_REPLY_STRING:
        case REDIS_REPLY_STATUS:
        case REDIS_REPLY_ERROR:
                to->type = from->type == REDIS_REPLY_ERROR ? REDIS_TYPE_ERROR : REDIS_TYPE_STRING;
                to->str = malloc(from->len + 1);
                if (!to->str)
                        return -ENOMEM;
                memcpy(to->str, from->str, from->len);
                to->str[from->len] = '\0';
                to->len = from->len;
                return 0;
        case REDIS_REPLY_ARRAY:
                to->type = REDIS_TYPE_ARRAY;
                if (from->elements == 0)
                        return 0;
                to->elements = calloc(from->elements, sizeof *to->elements);
                if (!to->elements)
                        return -ENOMEM;
                to->n = from->elements;
                for (size_t i = 0; i < from->elements; i++) {
                        int r = reply_copy(from->element[i], &to->elements[i]);
                        if (r < 0)
                                return r;
                }
                return 0;
        default:
                to->type = REDIS_TYPE_NIL;
                return 0;
        }
}

/* ---- connections ---- */

/* A connection error of hiredis as -errno; the connection is dropped (the next call
 * connects again). saved_errno: errno right after the failing call. */
static int fail_connection(Redis *r, int saved_errno) {
        int err = r->ctx ? r->ctx->err : REDIS_ERR_OTHER;
        int ret;
        switch (err) {
        case REDIS_ERR_EOF:
                ret = -ECONNRESET;
                break;
        case REDIS_ERR_IO:
                if (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK || saved_errno == ETIMEDOUT ||
                        saved_errno == EINPROGRESS)
                        ret = -ETIMEDOUT;
                else if (saved_errno == EPIPE || saved_errno == ECONNRESET || saved_errno == ECONNABORTED)
                        ret = -ECONNRESET;
                else
                        ret = saved_errno > 0 ? -saved_errno : -EIO;
                break;
        case REDIS_ERR_OOM:
                ret = -ENOMEM;
                break;
        default:
                ret = -EIO;
        }
        set_error(r->error, "redis %s: %s", r->address,
                r->ctx && r->ctx->errstr[0] ? r->ctx->errstr : strerror(-ret));
        if (r->ctx)
                redisFree(r->ctx);
        r->ctx = NULL;
        return ret;
}

static struct timeval timeval_of(uint64_t usec) {
        return (struct timeval){
                .tv_sec = (time_t) (usec / USEC_PER_SEC), .tv_usec = (suseconds_t) (usec % USEC_PER_SEC)};
}

/* One command on a live connection; a server error is -EIO with its text kept. */
static int command_raw(
        Redis *r, size_t argc, const char *const *argv, const size_t *argvlen, RedisReply **ret);

static int connect_now(Redis *r) {
        if (r->ctx)
                return 0;
        errno = 0;
        r->ctx = redisConnectWithTimeout(r->host, r->port, timeval_of(REDIS_CONNECT_TIMEOUT_USEC));
        if (!r->ctx) {
                set_error(r->error, "redis %s: out of memory", r->address);
                return -ENOMEM;
        }
        if (r->ctx->err)
                return fail_connection(r, errno);
        /* hiredis opens its socket without O_CLOEXEC. */
        (void) fcntl(r->ctx->fd, F_SETFD, FD_CLOEXEC);
        if (redisSetTimeout(r->ctx, timeval_of(REDIS_COMMAND_TIMEOUT_USEC)) != REDIS_OK)
                return fail_connection(r, errno);
        int q = 0;
        if (r->auth) {
                const char *argv[] = {"AUTH", r->user, r->password};
                q = r->user[0] ? command_raw(r, 3, argv, NULL, NULL)
                               : command_raw(r, 2, (const char *const[]){"AUTH", r->password}, NULL, NULL);
        }
        if (q == 0 && r->db != 0) {
                char db[16];
                snprintf(db, sizeof db, "%u", r->db);
                q = command_raw(r, 2, (const char *const[]){"SELECT", db}, NULL, NULL);
        }
        if (q < 0 && r->ctx) { /* the server refused AUTH or SELECT: not a connection to keep */
                redisFree(r->ctx);
                r->ctx = NULL;
        }
        return q;
}

static int command_raw(
        Redis *r, size_t argc, const char *const *argv, const size_t *argvlen, RedisReply **ret) {
        if (argc == 0 || argc > REDIS_MAX_ARGS)
                return -EINVAL;
        errno = 0;
        redisReply *reply = redisCommandArgv(r->ctx, (int) argc, (const char **) argv, argvlen);
        if (!reply)
                return fail_connection(r, errno);
        int q = 0;
        if (reply->type == REDIS_REPLY_ERROR) {
                set_error(r->error, "%.*s", (int) MIN(reply->len, (size_t) REDIS_ERROR_MAX - 1), reply->str);
                q = -EIO;
        } else if (ret) {
                RedisReply *copy = calloc(1, sizeof *copy);
                q = copy ? reply_copy(reply, copy) : -ENOMEM;
                if (q < 0)
                        redis_reply_free(copy);
                else
                        *ret = copy;
        }
        freeReplyObject(reply);
        return q;
}

int redis_command(Redis *r, size_t argc, const char *const *argv, const size_t *argvlen, RedisReply **ret) {
        bool reused = r->ctx != NULL;
        int q = connect_now(r);
        if (q < 0)
                return q;
        q = command_raw(r, argc, argv, argvlen, ret);
        /* A kept connection that the server closed meanwhile (it restarted): the command
         * never reached it; once more on a fresh connection. (A server that dies between
         * running a command and answering it makes the command run twice: the queue's
         * consumers are idempotent by the store's state machine.) */
        if (q == -ECONNRESET && reused) {
                q = connect_now(r);
                if (q < 0)
                        return q;
                q = command_raw(r, argc, argv, argvlen, ret);
        }
        return q;
}

int redis_call(Redis *r, RedisReply **ret, const char *arg0, ...) {
        const char *argv[32];
        size_t argc = 0;
        va_list ap;
        va_start(ap, arg0);
        for (const char *a = arg0; a; a = va_arg(ap, const char *)) {
                if (argc == ELEMENTSOF(argv)) {
                        va_end(ap);
                        return -E2BIG;
                }
                argv[argc++] = a;
        }
        va_end(ap);
        return redis_command(r, argc, argv, NULL, ret);
}

int redis_send(Redis *r, size_t argc, const char *const *argv, const size_t *argvlen) {
        if (argc == 0 || argc > REDIS_MAX_ARGS)
                return -EINVAL;
        int q = connect_now(r);
        if (q < 0)
                return q;
        if (redisAppendCommandArgv(r->ctx, (int) argc, (const char **) argv, argvlen) != REDIS_OK)
                return fail_connection(r, errno);
        int done = 0;
        while (!done) {
                errno = 0;
                if (redisBufferWrite(r->ctx, &done) != REDIS_OK)
                        return fail_connection(r, errno);
        }
        return 0;
}

int redis_read(Redis *r, uint64_t timeout_usec, RedisReply **ret) {
        int q = connect_now(r);
        if (q < 0)
                return q;
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        for (;;) {
                void *reply = NULL;
                if (redisReaderGetReply(r->ctx->reader, &reply) != REDIS_OK) {
                        r->ctx->err = REDIS_ERR_PROTOCOL;
                        return fail_connection(r, 0);
                }
                if (reply) {
                        redisReply *rr = reply;
                        RedisReply *copy = calloc(1, sizeof *copy);
                        q = copy ? reply_copy(rr, copy) : -ENOMEM;
                        freeReplyObject(rr);
                        if (q < 0) {
                                redis_reply_free(copy);
                                return q;
                        }
                        *ret = copy;
                        return 0;
                }
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        return -EAGAIN;
                struct pollfd p = {.fd = r->ctx->fd, .events = POLLIN};
                int n = poll(&p, 1, (int) ((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC));
                if (n < 0 && errno != EINTR)
                        return -errno;
                if (n <= 0)
                        continue;
                errno = 0;
                if (redisBufferRead(r->ctx) != REDIS_OK)
                        return fail_connection(r, errno);
        }
}

/* ---- scripts ---- */

static const char *script_sha(Redis *r, const RedisScript *s) {
        for (size_t i = 0; i < r->n_shas; i++)
                if (r->shas[i].script == s)
                        return r->shas[i].sha;
        return NULL;
}

int redis_script(Redis *r, const RedisScript *script, size_t n_keys, const char *const *keys, size_t n_args,
        const char *const *args, RedisReply **ret) {
        return redis_script_bin(r, script, n_keys, keys, n_args, args, NULL, ret);
}

int redis_script_bin(Redis *r, const RedisScript *script, size_t n_keys, const char *const *keys,
        size_t n_args, const char *const *args, const size_t *arg_lens, RedisReply **ret) {
        if (n_keys + n_args + 3 > REDIS_MAX_ARGS)
                return -E2BIG;
        const char *sha = script_sha(r, script);
        if (!sha && r->n_shas < SCRIPTS_MAX) {
                _cleanup_redis_reply_free_ RedisReply *loaded = NULL;
                int q = redis_call(r, &loaded, "SCRIPT", "LOAD", script->source, NULL);
                if (q < 0)
                        return q;
                const char *s = redis_reply_str(loaded);
                if (!s || strlen(s) != 40) {
                        set_error(r->error, "redis %s: SCRIPT LOAD of %s answered no SHA1", r->address,
                                script->name);
                        return -EIO;
                }
                r->shas[r->n_shas].script = script;
                memcpy(r->shas[r->n_shas].sha, s, 41);
                sha = r->shas[r->n_shas++].sha;
        }
        _cleanup_free_ const char **argv = calloc(n_keys + n_args + 3, sizeof *argv);
        _cleanup_free_ size_t *lens = arg_lens ? calloc(n_keys + n_args + 3, sizeof *lens) : NULL;
        if (!argv || (arg_lens && !lens))
                return -ENOMEM;
        char nkeys[24];
        snprintf(nkeys, sizeof nkeys, "%zu", n_keys);
        argv[0] = "EVALSHA";
        argv[1] = sha;
        argv[2] = nkeys;
        for (size_t i = 0; i < n_keys; i++)
                argv[3 + i] = keys[i];
        for (size_t i = 0; i < n_args; i++)
                argv[3 + n_keys + i] = args[i];
        size_t argc = n_keys + n_args + 3;
        if (lens) {
                for (size_t i = 0; i < 3 + n_keys; i++)
                        lens[i] = argv[i] ? strlen(argv[i]) : 0; /* argv[1]: no SHA yet */
                memcpy(lens + 3 + n_keys, arg_lens, n_args * sizeof *lens);
        }
        int q = -EIO;
        if (sha) {
                q = redis_command(r, argc, argv, lens, ret);
                if (q != -EIO || strncmp(r->error, "NOSCRIPT", 8) != 0)
                        return q;
        }
        argv[0] = "EVAL";
        argv[1] = script->source;
        if (lens) {
                lens[0] = 4;
                lens[1] = strlen(script->source);
        }
        return redis_command(r, argc, argv, lens, ret);
}

/* ---- urls ---- */

static bool option_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               strchr(":._-", c);
}

/* Copy s[0..n) into buf (size bytes), or -ENAMETOOLONG. */
static int copy_part(char *buf, size_t size, const char *s, size_t n) {
        if (n >= size)
                return -ENAMETOOLONG;
        memcpy(buf, s, n);
        buf[n] = '\0';
        return 0;
}

static int parse_options(const char *q, RedisOption *options, size_t n_options, char *errbuf) {
        while (*q) {
                size_t len = strcspn(q, "&");
                const char *eq = memchr(q, '=', len);
                if (!eq) {
                        set_error(errbuf, "redis url option \"%.*s\" has no value", (int) len, q);
                        return -EINVAL;
                }
                size_t klen = (size_t) (eq - q), vlen = len - klen - 1;
                RedisOption *o = NULL;
                for (size_t i = 0; i < n_options && !o; i++)
                        if (strlen(options[i].key) == klen && strncmp(options[i].key, q, klen) == 0)
                                o = &options[i];
                if (!o) {
                        set_error(errbuf, "unknown redis url option \"%.*s\"", (int) klen, q);
                        return -EINVAL;
                }
                for (size_t i = 0; i < vlen; i++)
                        if (!option_char(eq[1 + i])) {
                                set_error(errbuf, "redis url option %s: only letters, digits and \":._-\"",
                                        o->key);
                                return -EINVAL;
                        }
                if (vlen == 0 || copy_part(o->value, o->size, eq + 1, vlen) < 0) {
                        set_error(errbuf, "redis url option %s: 1 to %zu characters", o->key, o->size - 1);
                        return -EINVAL;
                }
                q += len;
                if (*q == '&')
                        q++;
        }
        return 0;
}

static int parse_url(Redis *r, const char *url, RedisOption *options, size_t n_options, char *errbuf) {
        if (!url || strncmp(url, "redis://", 8) != 0) {
                set_error(errbuf, "a redis url starts with redis://");
                return -EINVAL;
        }
        const char *p = url + 8;
        size_t authority = strcspn(p, "/?");
        const char *at = memrchr(p, '@', authority);
        if (at) {
                const char *colon = memchr(p, ':', (size_t) (at - p));
                if (!colon || at == colon + 1) {
                        set_error(errbuf, "redis url: credentials are [user]:password@");
                        return -EINVAL;
                }
                if (copy_part(r->user, sizeof r->user, p, (size_t) (colon - p)) < 0 ||
                        copy_part(r->password, sizeof r->password, colon + 1, (size_t) (at - colon - 1)) <
                                0) {
                        set_error(errbuf, "redis url: credentials too long");
                        return -EINVAL;
                }
                r->auth = true;
                authority -= (size_t) (at + 1 - p);
                p = at + 1;
        }
        const char *port = NULL;
        size_t hlen;
        if (*p == '[') {
                const char *close = memchr(p, ']', authority);
                if (!close) {
                        set_error(errbuf, "redis url: unclosed [ in the host");
                        return -EINVAL;
                }
                hlen = (size_t) (close - p - 1);
                if (close + 1 < p + authority) {
                        if (close[1] != ':') {
                                set_error(errbuf, "redis url: junk after the host");
                                return -EINVAL;
                        }
                        port = close + 2;
                }
                if (copy_part(r->host, sizeof r->host, p + 1, hlen) < 0)
                        hlen = 0;
        } else {
                const char *colon = memchr(p, ':', authority);
                hlen = colon ? (size_t) (colon - p) : authority;
                port = colon ? colon + 1 : NULL;
                if (copy_part(r->host, sizeof r->host, p, hlen) < 0)
                        hlen = 0;
        }
        if (hlen == 0) {
                set_error(errbuf, "redis url: a host is needed (redis://host:port)");
                return -EINVAL;
        }
        r->port = 6379;
        if (port) {
                char buf[8];
                uint64_t v;
                if (copy_part(buf, sizeof buf, port, (size_t) (p + authority - port)) < 0 ||
                        parse_u64_max(buf, 65535, &v) < 0 || v == 0) {
                        set_error(errbuf, "redis url: the port is a number from 1 to 65535");
                        return -EINVAL;
                }
                r->port = (int) v;
        }
        p += authority;
        if (*p == '/') {
                p++;
                size_t dlen = strcspn(p, "?");
                if (dlen > 0) {
                        char buf[8];
                        uint64_t v;
                        if (copy_part(buf, sizeof buf, p, dlen) < 0 || parse_u64_max(buf, 1000000, &v) < 0) {
                                set_error(errbuf, "redis url: the database is a number");
                                return -EINVAL;
                        }
                        r->db = (unsigned) v;
                }
                p += dlen;
        }
        if (*p == '?') {
                if (p[1] == '\0') {
                        set_error(errbuf, "redis url: nothing after ?");
                        return -EINVAL;
                }
                return parse_options(p + 1, options, n_options, errbuf);
        }
        return 0;
}

static void set_address(Redis *r) {
        bool v6 = strchr(r->host, ':') != NULL;
        snprintf(r->address, sizeof r->address, "%s%s%s:%d/%u", v6 ? "[" : "", r->host, v6 ? "]" : "",
                r->port, r->db);
}

int redis_open(const char *url, RedisOption *options, size_t n_options, char *errbuf, Redis **ret) {
        _cleanup_redis_free_ Redis *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        int q = parse_url(r, url, options, n_options, errbuf);
        if (q < 0)
                return q;
        set_address(r);
        q = connect_now(r);
        if (q < 0) {
                set_error(errbuf, "%s", r->error);
                return q;
        }
        *ret = TAKE_PTR(r);
        return 0;
}

int redis_clone(const Redis *r, char *errbuf, Redis **ret) {
        _cleanup_redis_free_ Redis *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        memcpy(c->host, r->host, sizeof c->host);
        memcpy(c->user, r->user, sizeof c->user);
        memcpy(c->password, r->password, sizeof c->password);
        memcpy(c->address, r->address, sizeof c->address);
        c->port = r->port;
        c->db = r->db;
        c->auth = r->auth;
        int q = connect_now(c);
        if (q < 0) {
                set_error(errbuf, "%s", c->error);
                return q;
        }
        *ret = TAKE_PTR(c);
        return 0;
}

Redis *redis_free(Redis *r) {
        if (!r)
                return NULL;
        if (r->ctx)
                redisFree(r->ctx);
        explicit_bzero(r->password, sizeof r->password);
        free(r);
        return NULL;
}

int redis_fd(const Redis *r) {
        return r->ctx ? r->ctx->fd : -ENOTCONN;
}

void redis_disconnect(Redis *r) {
        if (r->ctx)
                redisFree(r->ctx);
        r->ctx = NULL;
}

const char *redis_address(const Redis *r) {
        return r->address;
}

const char *redis_error(const Redis *r) {
        return r->error;
}
