/* SPDX-License-Identifier: MIT */
#pragma once

/* A FerretDB of a test's own (a MongoDB-wire server; MongoDB itself is not in Debian): on a
 * free loopback port, its SQLite files, state and log in a temporary directory, telemetry
 * and the debug HTTP listener off; stopped by its pid. The binary is $CODERUNNER_FERRETDB,
 * else the one tools/build-ferretdb caches (make deps-test builds it). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "loopback.h"
#include "tests.h"

#define FERRETDB_VERSION "v1.24.2"

typedef struct FerretDB {
        char bin[PATH_MAX];
        pid_t pid;
        int port;
        char dir[64];
} FerretDB;

/* Where the binary is: false (and why in reason) when there is none. */
static inline bool ferretdb_find(FerretDB *f, char *reason, size_t size) {
        const char *env = getenv("CODERUNNER_FERRETDB");
        if (env && *env) {
                snprintf(f->bin, sizeof f->bin, "%s", env);
                if (access(f->bin, X_OK) == 0)
                        return true;
                snprintf(reason, size, "CODERUNNER_FERRETDB=%s is not an executable", env);
                return false;
        }
        const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (cache && *cache)
                snprintf(f->bin, sizeof f->bin, "%s/coderunner/ferretdb-" FERRETDB_VERSION "/ferretdb",
                        cache);
        else if (home && *home)
                snprintf(f->bin, sizeof f->bin,
                        "%s/.cache/coderunner/ferretdb-" FERRETDB_VERSION "/ferretdb", home);
        else {
                snprintf(reason, size, "neither CODERUNNER_FERRETDB nor HOME is set");
                return false;
        }
        if (access(f->bin, X_OK) == 0)
                return true;
        snprintf(reason, size, "%s is missing (tools/build-ferretdb builds it; or set CODERUNNER_FERRETDB)",
                f->bin);
        return false;
}

static inline void ferretdb_put32(unsigned char *p, uint32_t v) {
        p[0] = (unsigned char) v;
        p[1] = (unsigned char) (v >> 8);
        p[2] = (unsigned char) (v >> 16);
        p[3] = (unsigned char) (v >> 24);
}

/* Whether the server answers a ping (an OP_MSG {ping: 1, $db: "admin"}) with an OP_MSG. */
static inline bool ferretdb_answers(int port) {
        static const unsigned char doc[] = {/* int32 length, then ping: int32 1, $db: "admin", end */
                30, 0, 0, 0, 0x10, 'p', 'i', 'n', 'g', 0, 1, 0, 0, 0, 0x02, '$', 'd', 'b', 0, 6, 0, 0, 0,
                'a', 'd', 'm', 'i', 'n', 0, 0};
        unsigned char msg[16 + 4 + 1 + sizeof doc];
        ferretdb_put32(msg, sizeof msg); /* messageLength */
        ferretdb_put32(msg + 4, 1); /* requestID */
        ferretdb_put32(msg + 8, 0); /* responseTo */
        ferretdb_put32(msg + 12, 2013); /* OP_MSG */
        ferretdb_put32(msg + 16, 0); /* flagBits */
        msg[20] = 0; /* a body section */
        memcpy(msg + 21, doc, sizeof doc);

        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        struct timeval tv = {.tv_sec = 2};
        (void) setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        struct sockaddr_in a = {.sin_family = AF_INET,
                .sin_port = htons((uint16_t) port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        unsigned char reply[16];
        size_t got = 0;
        bool ok = connect(fd, (struct sockaddr *) &a, sizeof a) == 0 &&
                  send(fd, msg, sizeof msg, MSG_NOSIGNAL) == (ssize_t) sizeof msg;
        while (ok && got < sizeof reply) {
                ssize_t n = recv(fd, reply + got, sizeof reply - got, 0);
                if (n <= 0)
                        ok = false;
                else
                        got += (size_t) n;
        }
        close(fd);
        /* a reply to request 1, as an OP_MSG */
        return ok && reply[8] == 1 && reply[9] == 0 && reply[10] == 0 && reply[11] == 0 &&
               reply[12] == 0xdd && reply[13] == 0x07 && reply[14] == 0 && reply[15] == 0;
}

static inline void ferretdb_print_log(const FerretDB *f) {
        char path[96], buf[4096];
        snprintf(path, sizeof path, "%s/ferretdb.log", f->dir);
        FILE *log = fopen(path, "re");
        if (!log)
                return;
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, log)) > 0)
                fwrite(buf, 1, n, stderr);
        fclose(log);
}

/* Start it (again, on the same port and directory when f->port is set) and wait until it
 * answers a ping (30 s at most). f->bin: from ferretdb_find(). */
static inline void ferretdb_start(FerretDB *f) {
        char data[96], log[96];
        if (f->port == 0) {
                snprintf(f->dir, sizeof f->dir, "/tmp/coderunner-ferretdb-XXXXXX");
                ASSERT_TRUE(mkdtemp(f->dir) != NULL);
                snprintf(data, sizeof data, "%s/data", f->dir);
                ASSERT_EQ(mkdir(data, 0700), 0);
                close(listen_loopback(&f->port)); /* a port nobody listens on now */
        }
        char sqlite_url[128], listen[64], state[96];
        snprintf(sqlite_url, sizeof sqlite_url, "--sqlite-url=file:%s/data/", f->dir);
        snprintf(listen, sizeof listen, "--listen-addr=127.0.0.1:%d", f->port);
        snprintf(state, sizeof state, "--state-dir=%s", f->dir);
        snprintf(log, sizeof log, "%s/ferretdb.log", f->dir);
        char *argv[] = {f->bin, "--handler=sqlite", sqlite_url, listen, state, "--telemetry=disable",
                "--debug-addr=-", "--log-level=warn", NULL};
        pid_t parent = getpid();
        f->pid = fork();
        ASSERT_TRUE(f->pid >= 0);
        if (f->pid == 0) {
                /* it dies with the test, even when an assertion aborts it */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(127);
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        struct timespec start, now;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (;;) {
                if (ferretdb_answers(f->port))
                        return;
                int status;
                pid_t w = waitpid(f->pid, &status, WNOHANG);
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (w != 0 || now.tv_sec - start.tv_sec > 30) {
                        fprintf(stderr, "FerretDB (%s) %s on port %d; its log:\n", f->bin,
                                w != 0 ? "exited" : "did not answer in 30 s", f->port);
                        ferretdb_print_log(f);
                        abort();
                }
                nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
        }
}

/* Stop it with sig (SIGTERM: shut down; SIGKILL: a crash), wait; keep the port and
 * directory for a restart. */
static inline void ferretdb_kill(FerretDB *f, int sig) {
        ASSERT_EQ(kill(f->pid, sig), 0);
        int status;
        ASSERT_EQ(waitpid(f->pid, &status, 0), f->pid);
        f->pid = 0;
}

static inline int ferretdb_remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path) == 0 ? 0 : -1;
}

/* Stop it and remove its directory. */
static inline void ferretdb_stop(FerretDB *f) {
        if (f->pid > 0)
                ferretdb_kill(f, SIGTERM);
        ASSERT_EQ(nftw(f->dir, ferretdb_remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
}
