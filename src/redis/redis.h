/* SPDX-License-Identifier: MIT */
#pragma once

/* A Redis client connection: the only module that includes hiredis (STYLE.md). The queue's
 * and the notifier's Redis backends talk to Redis through it and never see hiredis's types.
 *
 * One Redis is one connection and is not thread-safe: a caller that shares one between
 * threads serializes its calls (or keeps one per thread, see redis_clone()).
 *
 * Errors are negative errno values: -ECONNREFUSED (nobody listens), -ECONNRESET (the
 * server closed the connection), -ETIMEDOUT (no answer within the timeout), -EIO (the
 * server answered with an error, or spoke garbage: redis_error() has its text), -EINVAL
 * (url), -ENOMEM. After a connection error the next call connects again (with AUTH and
 * SELECT), so a caller only has to retry. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/macro.h"

typedef struct Redis Redis;

/* Room for the one-line reasons redis_open() and redis_error() give. */
#define REDIS_ERROR_MAX 256
/* Connecting and every command's answer wait at most this long. */
#define REDIS_CONNECT_TIMEOUT_USEC (2 * UINT64_C(1000000))
#define REDIS_COMMAND_TIMEOUT_USEC (5 * UINT64_C(1000000))
/* The most arguments one command may have (a push of many tokens is one script call). */
#define REDIS_MAX_ARGS 4096

typedef enum RedisReplyType {
        REDIS_TYPE_NIL,
        REDIS_TYPE_INTEGER,
        REDIS_TYPE_STRING, /* bulk strings and status replies ("OK") */
        REDIS_TYPE_ARRAY,
        REDIS_TYPE_ERROR, /* only inside arrays (EXEC, scripts); a top-level error is -EIO */
} RedisReplyType;

/* An answer: a tree owned by its root, freed with redis_reply_free(). */
typedef struct RedisReply {
        RedisReplyType type;
        long long integer; /* INTEGER */
        char *str; /* STRING, ERROR: NUL-terminated, len bytes (binary safe) */
        size_t len;
        struct RedisReply *elements; /* ARRAY: n of them */
        size_t n;
} RedisReply;

RedisReply *redis_reply_free(RedisReply *r);
static inline void redis_reply_freep(RedisReply **r) {
        redis_reply_free(*r);
}
#define _cleanup_redis_reply_free_ _cleanup_(redis_reply_freep)

/* The element i of an array reply, or NULL when r is not an array that long. */
const RedisReply *redis_reply_at(const RedisReply *r, size_t i);
/* The string of a STRING reply, or NULL. */
const char *redis_reply_str(const RedisReply *r);
/* An INTEGER reply, or a STRING holding a decimal integer: 0, else -EINVAL. */
int redis_reply_integer(const RedisReply *r, long long *ret);

/* A query option the caller accepts in the url ("?stream=NAME"): value gets up to size-1
 * bytes of [A-Za-z0-9:._-]; left as it was when absent. */
typedef struct RedisOption {
        const char *key;
        char *value;
        size_t size;
} RedisOption;

/* Connect to "redis://[[user]:password@]host[:port][/db][?key=value&...]" (host a name,
 * an IPv4 address or [IPv6]; port 6379 and db 0 by default), AUTH and SELECT when asked.
 * options: the query keys the caller accepts (any other is -EINVAL). errbuf: NULL or
 * REDIS_ERROR_MAX bytes for a one-line reason. *ret is the caller's: redis_free(). */
int redis_open(const char *url, RedisOption *options, size_t n_options, char *errbuf, Redis **ret);
/* Another connection to the same server and database. */
int redis_clone(const Redis *r, char *errbuf, Redis **ret);
Redis *redis_free(Redis *r);
static inline void redis_freep(Redis **r) {
        redis_free(*r);
}
#define _cleanup_redis_free_ _cleanup_(redis_freep)

/* Drop the connection now (a caller that saw it go quiet); the next call connects again. */
void redis_disconnect(Redis *r);

/* "host:port/db", for messages. */
const char *redis_address(const Redis *r);
/* The reason of the last failure of r (the server's own error text for -EIO). */
const char *redis_error(const Redis *r);

/* Send one command (argv[0] is its name; argvlen NULL: NUL-terminated strings) and read
 * its answer. ret NULL: the answer is dropped. */
int redis_command(Redis *r, size_t argc, const char *const *argv, const size_t *argvlen, RedisReply **ret);
/* The same with NUL-terminated arguments, the list ended by NULL. */
int redis_call(Redis *r, RedisReply **ret, const char *arg0, ...) __attribute__((sentinel));

/* Send one command without reading its answer (SUBSCRIBE); read with redis_read(). */
int redis_send(Redis *r, size_t argc, const char *const *argv, const size_t *argvlen);
/* Read the next answer or pushed message, waiting at most timeout_usec: -EAGAIN when none
 * came (the connection stays up). */
int redis_read(Redis *r, uint64_t timeout_usec, RedisReply **ret);
/* The connection's socket, for a caller that polls it beside others after redis_send()
 * (then a short redis_read() takes what came); -ENOTCONN when not connected. */
int redis_fd(const Redis *r);

/* A Lua script. Keep it in static storage: a connection remembers its SHA1 by address. */
typedef struct RedisScript {
        const char *name; /* for messages */
        const char *source;
} RedisScript;

/* Run script with keys[0..n_keys) and args[0..n_args) (NUL-terminated): EVALSHA, and
 * EVAL when the server does not know the script yet (NOSCRIPT, e.g. after a restart). */
int redis_script(Redis *r, const RedisScript *script, size_t n_keys, const char *const *keys, size_t n_args,
        const char *const *args, RedisReply **ret);
/* The same with binary arguments: args[i] has arg_lens[i] bytes. */
int redis_script_bin(Redis *r, const RedisScript *script, size_t n_keys, const char *const *keys,
        size_t n_args, const char *const *args, const size_t *arg_lens, RedisReply **ret);
