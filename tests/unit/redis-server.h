/* SPDX-License-Identifier: MIT */
#pragma once

/* A redis-server of a test's own: on a free loopback port, with a temporary directory,
 * no persistence; stopped by its pid. Tests that need Redis skip it when redis-server is
 * not installed. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tests.h"

typedef struct RedisServer {
        pid_t pid;
        int port;
        char dir[64];
        char log[96];
} RedisServer;

static inline bool redis_server_installed(void) {
        const char *path = getenv("PATH");
        if (!path)
                path = "/usr/local/bin:/usr/bin:/bin";
        while (*path) {
                size_t n = strcspn(path, ":");
                char f[512];
                snprintf(f, sizeof f, "%.*s/redis-server", (int) n, path);
                if (access(f, X_OK) == 0)
                        return true;
                path += n + (path[n] == ':');
        }
        return false;
}

/* A loopback port nobody listens on now. */
static inline int redis_server_free_port(void) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        ASSERT_EQ(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
        socklen_t len = sizeof a;
        ASSERT_EQ(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        close(fd);
        return ntohs(a.sin_port);
}

static inline bool redis_server_accepts(int port) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                .sin_port = htons((uint16_t) port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        bool ok = connect(fd, (struct sockaddr *) &a, sizeof a) == 0;
        close(fd);
        return ok;
}

/* Start it (again, on the same port and directory when s->port is set), and wait until it
 * accepts connections (10 s at most). */
static inline void redis_server_start(RedisServer *s) {
        if (s->port == 0) {
                snprintf(s->dir, sizeof s->dir, "/tmp/coderunner-redis-XXXXXX");
                ASSERT_TRUE(mkdtemp(s->dir) != NULL);
                snprintf(s->log, sizeof s->log, "%s/redis.log", s->dir);
                s->port = redis_server_free_port();
        }
        char port[16];
        snprintf(port, sizeof port, "%d", s->port);
        char *argv[] = {"redis-server", "--port", port, "--bind", "127.0.0.1", "--dir", s->dir, "--save", "",
                "--appendonly", "no", "--daemonize", "no", "--logfile", s->log, NULL};
        /* The server dies with the test, even when an assertion aborts it. */
        pid_t parent = getpid();
        s->pid = fork();
        ASSERT_TRUE(s->pid >= 0);
        if (s->pid == 0) {
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(127);
                execvp("redis-server", argv);
                _exit(127);
        }
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += 10;
        for (;;) {
                if (redis_server_accepts(s->port))
                        return;
                int status;
                ASSERT_EQ(waitpid(s->pid, &status, WNOHANG), 0); /* still running */
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec > deadline.tv_sec ||
                        (now.tv_sec == deadline.tv_sec && now.tv_nsec > deadline.tv_nsec)) {
                        fprintf(stderr, "redis-server did not accept connections on port %d in 10 s\n",
                                s->port);
                        abort();
                }
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
}

/* Stop it (SIGTERM, wait); keep the port and directory for a restart. */
static inline void redis_server_kill(RedisServer *s) {
        ASSERT_EQ(kill(s->pid, SIGTERM), 0);
        int status;
        ASSERT_EQ(waitpid(s->pid, &status, 0), s->pid);
        s->pid = 0;
}

/* Stop it and remove its directory. */
static inline void redis_server_stop(RedisServer *s) {
        if (s->pid > 0)
                redis_server_kill(s);
        unlink(s->log);
        char rdb[96];
        snprintf(rdb, sizeof rdb, "%s/dump.rdb", s->dir);
        unlink(rdb);
        ASSERT_EQ(rmdir(s->dir), 0);
}
