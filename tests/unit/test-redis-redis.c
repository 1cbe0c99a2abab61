/* SPDX-License-Identifier: MIT */
/* The Redis client against a redis-server of the test's own (skipped when none is
 * installed): urls, binary-safe commands, the reply tree, scripts after the server forgot
 * them, errors as -errno, reconnection, timeouts. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "loopback.h"
#include "redis-server.h"
#include "base/time-util.h"
#include "redis/redis.h"
#include "tests.h"

static RedisServer server;

static Redis *open_db(unsigned db) {
        char url[128], err[REDIS_ERROR_MAX];
        snprintf(url, sizeof url, "redis://127.0.0.1:%d/%u", server.port, db);
        Redis *r = NULL;
        int q = redis_open(url, NULL, 0, err, &r);
        if (q != 0) {
                fprintf(stderr, "redis_open(%s): %d %s\n", url, q, err);
                abort();
        }
        return r;
}

static void test_urls(void) {
        static const char *const bad[] = {
                "http://127.0.0.1",
                "redis://",
                "redis://:@127.0.0.1",
                "redis://pw@127.0.0.1",
                "redis://127.0.0.1:",
                "redis://127.0.0.1:0",
                "redis://127.0.0.1:65536",
                "redis://127.0.0.1:-1",
                "redis://127.0.0.1/-1",
                "redis://127.0.0.1/1x",
                "redis://127.0.0.1/99999999999",
                "redis://127.0.0.1?",
                "redis://127.0.0.1?k=",
                "redis://127.0.0.1?k=v",
                "redis://127.0.0.1?name=v&k=v",
                "redis://127.0.0.1?name=a%20b",
                "redis://127.0.0.1?name=abcdefgh",
                "redis://[::1",
                "redis://[::1]x",
        };
        char value[8];
        RedisOption opt = {.key = "name", .value = value, .size = sizeof value};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char err[REDIS_ERROR_MAX] = "";
                Redis *r = NULL;
                int q = redis_open(bad[i], &opt, 1, err, &r);
                if (q != -EINVAL || err[0] == '\0') {
                        fprintf(stderr, "redis_open(%s) = %d (%s), wanted -EINVAL and a reason\n", bad[i], q,
                                err);
                        abort();
                }
        }
        /* A long host or password is refused, not cut. */
        char url[1024];
        snprintf(url, sizeof url, "redis://%0300d", 1);
        ASSERT_EQ(redis_open(url, NULL, 0, NULL, &(Redis *){NULL}), -EINVAL);
        snprintf(url, sizeof url, "redis://:%0300d@127.0.0.1", 1);
        ASSERT_EQ(redis_open(url, NULL, 0, NULL, &(Redis *){NULL}), -EINVAL);

        /* A good one: the option and the address. */
        snprintf(url, sizeof url, "redis://127.0.0.1:%d/2?name=q:1.a_b", server.port);
        Redis *r = NULL;
        ASSERT_EQ(redis_open(url, &opt, 1, NULL, &r), 0);
        ASSERT_TRUE(strcmp(value, "q:1.a_b") == 0);
        char address[64];
        snprintf(address, sizeof address, "127.0.0.1:%d/2", server.port);
        ASSERT_TRUE(strcmp(redis_address(r), address) == 0);
        redis_free(r);
}

static void test_commands(void) {
        Redis *r = open_db(1);
        RedisReply *reply = NULL;
        /* Binary safe both ways. */
        const char value[] = {'a', '\0', 'b', '\n', (char) 0xff};
        const char *argv[] = {"SET", "bin", value};
        const size_t lens[] = {3, 3, sizeof value};
        ASSERT_EQ(redis_command(r, 3, argv, lens, &reply), 0);
        ASSERT_TRUE(strcmp(redis_reply_str(reply), "OK") == 0);
        reply = redis_reply_free(reply);
        ASSERT_EQ(redis_call(r, &reply, "GET", "bin", NULL), 0);
        ASSERT_EQ(reply->type, REDIS_TYPE_STRING);
        ASSERT_EQ(reply->len, sizeof value);
        ASSERT_EQ(memcmp(reply->str, value, sizeof value), 0);
        reply = redis_reply_free(reply);

        /* Types: nil, integer, arrays, integers as text. */
        ASSERT_EQ(redis_call(r, &reply, "GET", "missing", NULL), 0);
        ASSERT_EQ(reply->type, REDIS_TYPE_NIL);
        ASSERT_TRUE(redis_reply_str(reply) == NULL);
        reply = redis_reply_free(reply);
        ASSERT_EQ(redis_call(r, &reply, "RPUSH", "list", "7", "-12", "x", NULL), 0);
        long long n;
        ASSERT_EQ(redis_reply_integer(reply, &n), 0);
        ASSERT_EQ(n, 3);
        reply = redis_reply_free(reply);
        ASSERT_EQ(redis_call(r, &reply, "LRANGE", "list", "0", "-1", NULL), 0);
        ASSERT_EQ(reply->type, REDIS_TYPE_ARRAY);
        ASSERT_EQ(reply->n, 3u);
        ASSERT_EQ(redis_reply_integer(redis_reply_at(reply, 1), &n), 0);
        ASSERT_EQ(n, -12);
        ASSERT_EQ(redis_reply_integer(redis_reply_at(reply, 2), &n), -EINVAL);
        ASSERT_TRUE(redis_reply_at(reply, 3) == NULL);
        ASSERT_TRUE(redis_reply_at(redis_reply_at(reply, 0), 0) == NULL);
        reply = redis_reply_free(reply);

        /* A server error: -EIO, with the server's words. */
        ASSERT_EQ(redis_call(r, &reply, "INCR", "list", NULL), -EIO);
        ASSERT_TRUE(reply == NULL);
        ASSERT_TRUE(strstr(redis_error(r), "WRONGTYPE") != NULL);
        ASSERT_EQ(redis_call(r, NULL, "NOSUCHCOMMAND", NULL), -EIO);
        ASSERT_TRUE(strstr(redis_error(r), "unknown command") != NULL);
        ASSERT_EQ(redis_command(r, 0, argv, NULL, NULL), -EINVAL);
        ASSERT_EQ(redis_call(r, NULL, "PING", NULL), 0); /* the connection survived */

        /* Databases are apart. */
        Redis *other = open_db(2);
        ASSERT_EQ(redis_call(other, &reply, "EXISTS", "bin", NULL), 0);
        ASSERT_EQ(reply->integer, 0);
        reply = redis_reply_free(reply);
        redis_free(other);
        redis_free(r);
}

static const RedisScript sum = {
        .name = "sum",
        .source = "return {KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), redis.error_reply('inner')}",
};

static void test_scripts(void) {
        Redis *r = open_db(1);
        RedisReply *reply = NULL;
        const char *keys[] = {"k"}, *args[] = {"2", "40"};
        for (int round = 0; round < 2; round++) {
                ASSERT_EQ(redis_script(r, &sum, 1, keys, 2, args, &reply), 0);
                ASSERT_TRUE(strcmp(redis_reply_str(redis_reply_at(reply, 0)), "k") == 0);
                ASSERT_EQ(redis_reply_at(reply, 1)->integer, 42);
                ASSERT_EQ(redis_reply_at(reply, 2)->type, REDIS_TYPE_ERROR);
                ASSERT_TRUE(strstr(redis_reply_at(reply, 2)->str, "inner") != NULL);
                reply = redis_reply_free(reply);
                /* The server forgets its scripts: NOSCRIPT, then EVAL. */
                ASSERT_EQ(redis_call(r, NULL, "SCRIPT", "FLUSH", NULL), 0);
        }
        static const RedisScript failing = {
                .name = "failing", .source = "return redis.call('INCR', KEYS[1])"};
        ASSERT_EQ(redis_call(r, NULL, "SET", "k", "x", NULL), 0);
        ASSERT_EQ(redis_script(r, &failing, 1, keys, 0, NULL, &reply), -EIO);
        ASSERT_TRUE(strstr(redis_error(r), "not an integer") != NULL);
        redis_free(r);
}

static void test_connection_errors(void) {
        Redis *r = open_db(0);
        char err[REDIS_ERROR_MAX];
        /* The server goes: the call that finds out says so; the next ones connect again. */
        redis_server_kill(&server);
        int q = redis_call(r, NULL, "PING", NULL);
        ASSERT_TRUE(q == -ECONNRESET || q == -ECONNREFUSED);
        ASSERT_EQ(redis_call(r, NULL, "PING", NULL), -ECONNREFUSED);
        ASSERT_TRUE(strstr(redis_error(r), "127.0.0.1") != NULL);
        Redis *clone = NULL;
        ASSERT_EQ(redis_clone(r, err, &clone), -ECONNREFUSED);
        redis_server_start(&server);
        ASSERT_EQ(redis_call(r, NULL, "PING", NULL), 0);
        ASSERT_EQ(redis_clone(r, err, &clone), 0);
        ASSERT_EQ(redis_call(clone, NULL, "PING", NULL), 0);
        redis_free(clone);

        /* A read with nothing to read: -EAGAIN, the connection kept. */
        RedisReply *reply = NULL;
        ASSERT_EQ(redis_read(r, 10 * USEC_PER_MSEC, &reply), -EAGAIN);
        const char *argv[] = {"ECHO", "hi"};
        ASSERT_EQ(redis_send(r, 2, argv, NULL), 0);
        ASSERT_EQ(redis_read(r, REDIS_COMMAND_TIMEOUT_USEC, &reply), 0);
        ASSERT_TRUE(strcmp(redis_reply_str(reply), "hi") == 0);
        reply = redis_reply_free(reply);
        redis_disconnect(r);
        ASSERT_EQ(redis_call(r, NULL, "PING", NULL), 0);
        redis_free(r);

        /* A server that accepts and never answers: -ETIMEDOUT after the command timeout. */
        int port;
        int fd = listen_loopback(&port);
        char url[64];
        snprintf(url, sizeof url, "redis://127.0.0.1:%d", port);
        ASSERT_EQ(redis_open(url, NULL, 0, err, &r), 0); /* connecting needs no answer */
        ASSERT_EQ(redis_call(r, NULL, "PING", NULL), -ETIMEDOUT);
        redis_free(r);
        close(fd);
}

int main(void) {
        if (!redis_server_installed()) {
                fprintf(stderr, "redis: skipped (no redis-server installed)\n");
                return 77;
        }
        redis_server_start(&server);
        test_urls();
        test_commands();
        test_scripts();
        test_connection_errors();
        redis_server_stop(&server);
        return 0;
}
