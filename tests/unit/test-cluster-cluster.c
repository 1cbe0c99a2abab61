/* SPDX-License-Identifier: MIT */
/* The local cluster's state file and process handling: round trips, malformed files,
 * process identity by start time, spawning and stopping, ports and probes, removal. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/time-util.h"
#include "cluster/cluster.h"
#include "loopback.h"
#include "tests.h"

static char dir[64];
static int dir_fd = -1;

static void write_state_text(const char *text) {
        int fd = openat(dir_fd, CLUSTER_STATE_FILE, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write_all(fd, text, strlen(text)), 0);
        close(fd);
}

static void test_state(void) {
        ClusterState s = {}, back;
        ASSERT_EQ(cluster_state_read(dir_fd, &back), -ENOENT);
        snprintf(s.public_url, sizeof s.public_url, "http://127.0.0.1:2358");
        s.roles[0] = (ClusterRole){.name = "redis",
                .role = "redis",
                .pid = 10,
                .start_time = 123456789012ULL,
                .port = 6379,
                .url = "redis://127.0.0.1:6379"};
        s.roles[1] = (ClusterRole){.name = "worker-1",
                .role = "worker",
                .pid = 11,
                .start_time = 7,
                .stopped = true,
                .config = "/var/tmp/c/config/worker-1.conf"};
        s.roles[2] = (ClusterRole){.name = "api-1",
                .role = "api",
                .pid = 12,
                .start_time = 8,
                .port = 2358,
                .url = "http://198.18.0.11:2358",
                .netns = "/run/netns/coderunner-0123abcd-api-1",
                .address = "198.18.0.11"};
        s.n_roles = 3;
        snprintf(s.meta, sizeof s.meta, "sqlite:/var/tmp/c/gateway/meta.db");
        snprintf(s.net_id, sizeof s.net_id, "0123abcd");
        ASSERT_EQ(cluster_state_write(dir_fd, &s), 0);
        ASSERT_EQ(faccessat(dir_fd, CLUSTER_STATE_FILE ".tmp", F_OK, 0), -1); /* renamed into place */
        ASSERT_EQ(cluster_state_read(dir_fd, &back), 0);
        ASSERT_TRUE(strcmp(back.public_url, s.public_url) == 0);
        ASSERT_TRUE(strcmp(back.meta, s.meta) == 0);
        ASSERT_TRUE(strcmp(back.net_id, "0123abcd") == 0);
        ASSERT_EQ(back.n_roles, 3u);
        for (size_t i = 0; i < 3; i++)
                ASSERT_TRUE(memcmp(&back.roles[i], &s.roles[i], sizeof s.roles[i]) == 0);

        /* Fields that would break the format are refused, not written. */
        s.roles[1].url[0] = ' ';
        ASSERT_EQ(cluster_state_write(dir_fd, &s), -EINVAL);
        s.roles[1].url[0] = '\0';
        s.roles[1].config[2] = ' ';
        ASSERT_EQ(cluster_state_write(dir_fd, &s), -EINVAL);
        s.roles[1].config[2] = 'v';
        s.meta[0] = ' ';
        ASSERT_EQ(cluster_state_write(dir_fd, &s), -EINVAL);
        s.meta[0] = 's';
        s.roles[2].netns[3] = ' ';
        ASSERT_EQ(cluster_state_write(dir_fd, &s), -EINVAL);
        s.roles[2].netns[3] = 'n';
        s.net_id[1] = '\n';
        ASSERT_EQ(cluster_state_write(dir_fd, &s), -EINVAL);
        s.net_id[1] = '1';
        snprintf(s.roles[0].name, sizeof s.roles[0].name, "a\nb");
        ASSERT_EQ(cluster_state_write(dir_fd, &s), -EINVAL);
        ASSERT_EQ(cluster_state_read(dir_fd, &back), 0); /* the good one is still there */

        /* A version 1 file (a cluster started before the gateway): no meta, no configs. */
        write_state_text("coderunner-cluster 1\npublic_url http://127.0.0.1:2358\n"
                         "role api-1 api 12 34 1 2358 http://127.0.0.1:2358\n");
        ASSERT_EQ(cluster_state_read(dir_fd, &back), 0);
        ASSERT_EQ(back.n_roles, 1u);
        ASSERT_TRUE(strcmp(back.roles[0].url, "http://127.0.0.1:2358") == 0);
        ASSERT_TRUE(back.roles[0].config[0] == '\0' && back.meta[0] == '\0' && back.roles[0].stopped);

        /* A version 2 file (a cluster started before --hosts): no net line, no NETNS, no ADDRESS. */
        write_state_text("coderunner-cluster 2\npublic_url http://127.0.0.1:2358\nmeta m\n"
                         "role api-1 api 12 34 0 2358 http://127.0.0.1:2358 /c/api-1.conf\n");
        ASSERT_EQ(cluster_state_read(dir_fd, &back), 0);
        ASSERT_TRUE(strcmp(back.roles[0].config, "/c/api-1.conf") == 0);
        ASSERT_TRUE(back.net_id[0] == '\0' && back.roles[0].netns[0] == '\0' &&
                    back.roles[0].address[0] == '\0');

        static const char *const bad[] = {
                "",
                "coderunner-cluster 4\npublic_url x\n",
                "coderunner-cluster 3\npublic_url x\nrole a b 1 2 0 0 - -\n", /* v3 has NETNS, ADDRESS */
                "coderunner-cluster 3\npublic_url x\nrole a b 1 2 0 0 - - /n 198.18.0.300\n",
                "coderunner-cluster 3\npublic_url x\nrole a b 1 2 0 0 - - /n x\n",
                "coderunner-cluster 3\npublic_url x\nnet 0123ABCD\n", /* lowercase hex only */
                "coderunner-cluster 3\npublic_url x\nnet ../../etc\n",
                "coderunner-cluster 3\npublic_url x\nnet a\nnet b\n",
                "coderunner-cluster 2\npublic_url x\nnet a\n", /* v2 has no net */
                "coderunner-cluster 2\npublic_url x\nrole a b 1 2 0 0 -\n", /* v2 has CONFIG */
                "coderunner-cluster 2\npublic_url x\nrole a b 1 2 0 0 - - extra\n",
                "coderunner-cluster 1\npublic_url x\nmeta m\n", /* v1 has no meta */
                "coderunner-cluster 2\npublic_url x\nmeta m\nmeta n\n",
                "coderunner-cluster 2\nmeta m\n",
                "coderunner-cluster 1\n",
                "coderunner-cluster 1\npublic_url a\npublic_url b\n",
                "coderunner-cluster 1\npublic_url x\nrole a b 1 2 0 0\n",
                "coderunner-cluster 1\npublic_url x\nrole a b 1 2 0 0 - extra\n",
                "coderunner-cluster 1\npublic_url x\nrole a b 0 2 0 0 -\n",
                "coderunner-cluster 1\npublic_url x\nrole a b -1 2 0 0 -\n",
                "coderunner-cluster 1\npublic_url x\nrole a b 1 x 0 0 -\n",
                "coderunner-cluster 1\npublic_url x\nrole a b 1 2 2 0 -\n",
                "coderunner-cluster 1\npublic_url x\nrole a b 1 2 0 65536 -\n",
                "coderunner-cluster 1\npublic_url x\nrole a b 99999999999 2 0 0 -\n",
                "coderunner-cluster 1\npublic_url x\nrole aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa b 1 2 0 "
                "0 -\n",
                "coderunner-cluster 1\npublic_url x\nwhat\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                write_state_text(bad[i]);
                int q = cluster_state_read(dir_fd, &back);
                if (q != -EBADMSG) {
                        fprintf(stderr, "state %zu read as %d, wanted -EBADMSG:\n%s", i, q, bad[i]);
                        abort();
                }
        }
        /* Bytes after a NUL, and more roles than fit. */
        int fd = openat(dir_fd, CLUSTER_STATE_FILE, O_WRONLY | O_TRUNC | O_CLOEXEC);
        ASSERT_EQ(write_all(fd, "coderunner-cluster 1\npublic_url x\0y\n", 36), 0);
        close(fd);
        ASSERT_EQ(cluster_state_read(dir_fd, &back), -EBADMSG);
        char big[(CLUSTER_MAX_ROLES + 1) * 32 + 64];
        size_t n = (size_t) snprintf(big, sizeof big, "coderunner-cluster 1\npublic_url x\n");
        for (int i = 0; i <= CLUSTER_MAX_ROLES; i++)
                n += (size_t) snprintf(big + n, sizeof big - n, "role r%d w 1 2 0 0 -\n", i);
        write_state_text(big);
        ASSERT_EQ(cluster_state_read(dir_fd, &back), -EBADMSG);
        ASSERT_EQ(unlinkat(dir_fd, CLUSTER_STATE_FILE, 0), 0);
}

static void test_processes(void) {
        uint64_t start, again;
        ASSERT_EQ(cluster_process_start_time(getpid(), &start), 0);
        ASSERT_EQ(cluster_process_start_time(getpid(), &again), 0);
        ASSERT_EQ(start, again);
        ASSERT_EQ(cluster_process_state(getpid(), start), CLUSTER_PROC_RUNNING);
        /* The same pid with another start time is another process. */
        ASSERT_EQ(cluster_process_state(getpid(), start + 1), CLUSTER_PROC_EXITED);
        ASSERT_EQ(cluster_process_state(0, 0), CLUSTER_PROC_EXITED);

        /* Spawned: its own session, its output in the log, stopped by a signal. */
        char log[96];
        snprintf(log, sizeof log, "%s/sh.log", dir);
        char *argv[] = {"/bin/sh", "-c", "echo started; exec sleep 60", NULL};
        pid_t pid;
        ASSERT_EQ(cluster_spawn(argv, log, CLUSTER_USER_SELF, &pid, &start), 0);
        ASSERT_EQ(cluster_process_state(pid, start), CLUSTER_PROC_RUNNING);
        /* Its first line is written after setsid() and exec. */
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        for (bool started = false; !started;) {
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
                char *text = NULL;
                size_t len;
                ASSERT_EQ(read_file_at(AT_FDCWD, log, 4096, &text, &len), 0);
                started = strcmp(text, "started\n") == 0;
                free(text);
                if (!started)
                        nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
        }
        ASSERT_EQ(getsid(pid), pid);
        ClusterRole r = {.pid = pid, .start_time = start};
        ASSERT_TRUE(strcmp(cluster_role_state(&r), "running") == 0);
        ASSERT_EQ(cluster_stop_process(pid, start, SIGTERM, 10 * USEC_PER_SEC), 0);
        ASSERT_EQ(cluster_process_state(pid, start), CLUSTER_PROC_EXITED);
        ASSERT_TRUE(strcmp(cluster_role_state(&r), "exited") == 0);
        r.stopped = true;
        ASSERT_TRUE(strcmp(cluster_role_state(&r), "stopped") == 0);
        /* One that ignores SIGTERM is killed after the timeout. */
        char *stubborn[] = {"/bin/sh", "-c", "trap '' TERM; exec sleep 60", NULL};
        ASSERT_EQ(cluster_spawn(stubborn, log, CLUSTER_USER_SELF, &pid, &start), 0);
        /* wait until the trap is set: the shell has exec'd sleep (its comm changed) */
        deadline = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        size_t len;
        for (;;) {
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
                char path[64];
                snprintf(path, sizeof path, "/proc/%d/comm", (int) pid);
                char *comm = NULL;
                ASSERT_EQ(read_file_at(AT_FDCWD, path, 64, &comm, &len), 0);
                bool slept = strcmp(comm, "sleep\n") == 0;
                free(comm);
                if (slept)
                        break;
                nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
        }
        ASSERT_EQ(cluster_stop_process(pid, start, SIGTERM, 100 * USEC_PER_MSEC), 1);
        ASSERT_EQ(cluster_process_state(pid, start), CLUSTER_PROC_EXITED);
        /* Stopping what is gone is fine. */
        ASSERT_EQ(cluster_stop_process(pid, start, SIGTERM, USEC_PER_SEC), 0);

        /* cluster_run: the exit status, and a program that cannot run. */
        char *three[] = {"/bin/sh", "-c", "exit 3", NULL};
        ASSERT_EQ(cluster_run(three, NULL, CLUSTER_USER_SELF), 3);
        char *missing[] = {"/nonexistent/program", NULL};
        ASSERT_EQ(cluster_run(missing, log, CLUSTER_USER_SELF), 127);
        ASSERT_EQ(unlink(log), 0);

        ClusterUser u;
        ASSERT_EQ(cluster_user_lookup("root", &u), 0);
        ASSERT_EQ(u.uid, 0u);
        ASSERT_EQ(cluster_user_lookup("no-such-user-here", &u), -ENOENT);
        if (geteuid() == 0 && cluster_user_lookup("nobody", &u) == 0) {
                ASSERT_TRUE(!cluster_user_can_access(u, dir)); /* mkdtemp's 0700 */
                ASSERT_TRUE(cluster_user_can_access(CLUSTER_USER_SELF, dir));
        }
}

/* A one-shot HTTP server: answers one request with `answer` and closes. */
typedef struct Http {
        int fd;
        const char *answer;
        char request[1024]; /* what came */
} Http;

static void *serve_once(void *arg) {
        Http *h = arg;
        int c = accept4(h->fd, NULL, NULL, SOCK_CLOEXEC);
        ASSERT_TRUE(c >= 0);
        ssize_t n = read(c, h->request, sizeof h->request - 1);
        ASSERT_TRUE(n > 0);
        h->request[n] = '\0';
        ASSERT_EQ(write_all(c, h->answer, strlen(h->answer)), 0);
        close(c);
        return NULL;
}

static void test_ports(void) {
        int port;
        ASSERT_EQ(cluster_free_port(&port), 0);
        ASSERT_TRUE(port > 0);
        ASSERT_TRUE(cluster_port_free(port));
        int fd = listen_loopback(&port);
        ASSERT_TRUE(!cluster_port_free(port));

        Http h = {.fd = fd, .answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}"};
        pthread_t th;
        ASSERT_EQ(pthread_create(&th, NULL, serve_once, &h), 0);
        int status;
        char body[64];
        ASSERT_EQ(cluster_http_get(
                          CLUSTER_LOOPBACK(port), "/health", "X-Secret: s3", &status, body, sizeof body),
                0);
        ASSERT_EQ(pthread_join(th, NULL), 0);
        ASSERT_EQ(status, 200);
        ASSERT_TRUE(strcmp(body, "{\"a\":1}") == 0);
        ASSERT_TRUE(strstr(h.request, "GET /health HTTP/1.0\r\n") == h.request);
        ASSERT_TRUE(strstr(h.request, "\r\nX-Secret: s3\r\n\r\n") != NULL);
        /* A header that would end the request early is refused, not sent. */
        ASSERT_EQ(cluster_http_get(
                          CLUSTER_LOOPBACK(port), "/health", "X-A: 1\r\nX-B: 2", &status, body, sizeof body),
                -EINVAL);

        h.answer = "HTTP/1.0 503 Service Unavailable\r\n\r\n";
        ASSERT_EQ(pthread_create(&th, NULL, serve_once, &h), 0);
        ASSERT_EQ(cluster_http_get(CLUSTER_LOOPBACK(port), "/health", NULL, &status, body, sizeof body), 0);
        ASSERT_EQ(pthread_join(th, NULL), 0);
        ASSERT_EQ(status, 503);

        h.answer = "garbage\r\n";
        ASSERT_EQ(pthread_create(&th, NULL, serve_once, &h), 0);
        ASSERT_EQ(cluster_http_get(CLUSTER_LOOPBACK(port), "/health", NULL, &status, body, sizeof body),
                -EBADMSG);
        ASSERT_EQ(pthread_join(th, NULL), 0);

        h.answer = "+PONG\r\n";
        ASSERT_EQ(pthread_create(&th, NULL, serve_once, &h), 0);
        ASSERT_TRUE(cluster_redis_ready(CLUSTER_LOOPBACK(port)));
        ASSERT_EQ(pthread_join(th, NULL), 0);
        h.answer = "-LOADING Redis is loading the dataset in memory\r\n";
        ASSERT_EQ(pthread_create(&th, NULL, serve_once, &h), 0);
        ASSERT_TRUE(!cluster_redis_ready(CLUSTER_LOOPBACK(port)));
        ASSERT_EQ(pthread_join(th, NULL), 0);
        ASSERT_TRUE(cluster_tcp_ready(
                CLUSTER_LOOPBACK(port))); /* the last: its connection stays in the backlog */
        close(fd);
        ASSERT_TRUE(!cluster_redis_ready(CLUSTER_LOOPBACK(port))); /* nobody listens */
        ASSERT_EQ(cluster_http_get(CLUSTER_LOOPBACK(port), "/", NULL, &status, body, sizeof body),
                -ECONNREFUSED);
        ASSERT_TRUE(!cluster_tcp_ready(CLUSTER_LOOPBACK(port)));
}

static void touch(const char *path) {
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        close(fd);
}

static void test_secrets_and_files(void) {
        char a[65], b[65];
        ASSERT_EQ(cluster_random_hex(32, a, sizeof a), 0);
        ASSERT_EQ(cluster_random_hex(32, b, sizeof b), 0);
        ASSERT_EQ(strlen(a), 64u);
        ASSERT_EQ(strspn(a, "0123456789abcdef"), 64u);
        ASSERT_TRUE(strcmp(a, b) != 0);
        ASSERT_EQ(cluster_random_hex(32, a, 64), -EINVAL); /* no room for the NUL */

        /* Private files: 0600 whatever the umask, replaced whole. */
        mode_t old = umask(0);
        ASSERT_EQ(cluster_write_private(dir_fd, "x.conf", "k = v\n", 6), 0);
        umask(old);
        struct stat st;
        ASSERT_EQ(fstatat(dir_fd, "x.conf", &st, 0), 0);
        ASSERT_EQ(st.st_mode & 07777, 0600u);
        ASSERT_EQ(cluster_write_private(dir_fd, "x.conf", "k", 1), 0);
        ASSERT_EQ(fstatat(dir_fd, "x.conf", &st, 0), 0);
        ASSERT_EQ(st.st_size, 1);
        ASSERT_EQ(faccessat(dir_fd, "x.conf.tmp", F_OK, 0), -1);
        ASSERT_EQ(cluster_write_private(dir_fd, "../x.conf", "k", 1), -EINVAL);

        /* A tree given to another user, symlinks not followed. */
        char top[96], p[128];
        snprintf(top, sizeof top, "%s/owned", dir);
        ASSERT_EQ(mkdir(top, 0700), 0);
        snprintf(p, sizeof p, "%s/meta.db", top);
        touch(p);
        snprintf(p, sizeof p, "%s/link", top);
        ASSERT_EQ(symlink(dir, p), 0);
        ASSERT_EQ(cluster_chown_tree(top, CLUSTER_USER_SELF), 0); /* nothing to do */
        if (geteuid() == 0) {
                ClusterUser u = {.uid = 65534, .gid = 65534};
                ASSERT_EQ(cluster_chown_tree(top, u), 0);
                ASSERT_EQ(stat(top, &st), 0);
                ASSERT_EQ(st.st_uid, 65534u);
                snprintf(p, sizeof p, "%s/meta.db", top);
                ASSERT_EQ(stat(p, &st), 0);
                ASSERT_EQ(st.st_uid, 65534u);
                ASSERT_EQ(stat(dir, &st), 0);
                ASSERT_EQ(st.st_uid, 0u); /* the link's target stays */
        }
        ASSERT_EQ(cluster_remove_tree(top), 0);
        ASSERT_EQ(unlinkat(dir_fd, "x.conf", 0), 0);
}

static void test_remove_tree(void) {
        char top[96], p[128];
        snprintf(top, sizeof top, "%s/tree", dir);
        ASSERT_EQ(mkdir(top, 0755), 0);
        snprintf(p, sizeof p, "%s/sub", top);
        ASSERT_EQ(mkdir(p, 0755), 0);
        snprintf(p, sizeof p, "%s/sub/file", top);
        touch(p);
        /* A symlink to outside is removed, not followed. */
        char outside[96];
        snprintf(outside, sizeof outside, "%s/keep", dir);
        touch(outside);
        snprintf(p, sizeof p, "%s/link", top);
        ASSERT_EQ(symlink(dir, p), 0);
        ASSERT_EQ(cluster_remove_tree(top), 0);
        ASSERT_EQ(access(top, F_OK), -1);
        ASSERT_EQ(access(outside, F_OK), 0);
        ASSERT_EQ(cluster_remove_tree(top), 0); /* absent: fine */
        ASSERT_EQ(unlink(outside), 0);
}

int main(void) {
        snprintf(dir, sizeof dir, "/tmp/coderunner-cluster-test-XXXXXX");
        ASSERT_TRUE(mkdtemp(dir) != NULL);
        dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dir_fd >= 0);
        test_state();
        test_processes();
        test_ports();
        test_secrets_and_files();
        test_remove_tree();
        close(dir_fd);
        ASSERT_EQ(rmdir(dir), 0);
        return 0;
}
