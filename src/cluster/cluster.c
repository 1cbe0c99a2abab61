/* SPDX-License-Identifier: MIT */
/* The local cluster's state file and processes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/parse-util.h"
#include "base/time-util.h"
#include "cluster/cluster.h"

#define STATE_MAX (512 * 1024)
#define STATE_MAGIC "coderunner-cluster 3"
#define STATE_MAGIC_V2 "coderunner-cluster 2"
#define STATE_MAGIC_V1 "coderunner-cluster 1"
/* How often a wait for a process to go looks again. */
#define POLL_USEC (20 * USEC_PER_MSEC)

/* ---- the state file ---- */

/* A field of the state file: no spaces, no newlines, not empty. */
static bool field_ok(const char *s) {
        return s[0] && !strpbrk(s, " \n\r\t");
}

/* Write data into dir_fd/name with mode: a temporary file, fsync, rename. */
static int write_atomic(int dir_fd, const char *name, const char *data, size_t len, mode_t mode) {
        char tmp[CLUSTER_NAME_MAX + 16];
        int n = snprintf(tmp, sizeof tmp, "%s.tmp", name);
        if (n < 0 || (size_t) n >= sizeof tmp || strchr(name, '/'))
                return -EINVAL;
        (void) unlinkat(dir_fd, tmp, 0); /* one left by a crash may have another mode */
        _cleanup_close_ int fd =
                openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        int r = write_all(fd, data, len);
        if (r < 0)
                return r;
        if (fsync(fd) < 0 || renameat(dir_fd, tmp, dir_fd, name) < 0)
                return -errno;
        (void) fsync(dir_fd);
        return 0;
}

int cluster_write_private(int dir_fd, const char *name, const char *data, size_t len) {
        return write_atomic(dir_fd, name, data, len, 0600);
}

int cluster_state_write(int dir_fd, const ClusterState *state) {
        if (!field_ok(state->public_url) || (state->meta[0] && !field_ok(state->meta)) ||
                (state->net_id[0] && !field_ok(state->net_id)) || state->n_roles > CLUSTER_MAX_ROLES)
                return -EINVAL;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, STATE_MAGIC "\npublic_url %s\n", state->public_url);
        if (state->meta[0])
                fprintf(f, "meta %s\n", state->meta);
        if (state->net_id[0])
                fprintf(f, "net %s\n", state->net_id);
        for (size_t i = 0; i < state->n_roles; i++) {
                const ClusterRole *r = &state->roles[i];
                if (!field_ok(r->name) || !field_ok(r->role) || (r->url[0] && !field_ok(r->url)) ||
                        (r->config[0] && !field_ok(r->config)) || (r->netns[0] && !field_ok(r->netns)) ||
                        (r->address[0] && !field_ok(r->address))) {
                        fclose(f);
                        return -EINVAL;
                }
                fprintf(f, "role %s %s %d %" PRIu64 " %d %d %s %s %s %s\n", r->name, r->role, (int) r->pid,
                        r->start_time, r->stopped ? 1 : 0, r->port, r->url[0] ? r->url : "-",
                        r->config[0] ? r->config : "-", r->netns[0] ? r->netns : "-",
                        r->address[0] ? r->address : "-");
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        return write_atomic(dir_fd, CLUSTER_STATE_FILE, buf, len, 0644);
}

/* Split line into at most n space-separated fields (in place); how many. */
static size_t split(char *line, char **fields, size_t n) {
        size_t k = 0;
        for (char *p = line; *p && k < n;) {
                fields[k++] = p;
                p += strcspn(p, " ");
                if (*p)
                        *p++ = '\0';
        }
        return k;
}

static int copy_field(char *dst, size_t size, const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n >= size)
                return -EBADMSG;
        memcpy(dst, s, n + 1);
        return 0;
}

/* An optional field: "-" (or absent, in an older version) is "". */
static int copy_optional(char *dst, size_t size, const char *s) {
        if (!s || strcmp(s, "-") == 0) {
                dst[0] = '\0';
                return 0;
        }
        return copy_field(dst, size, s);
}

static int parse_role(char **f, ClusterRole *r) {
        uint64_t pid, start, stopped, port;
        if (copy_field(r->name, sizeof r->name, f[1]) < 0 || copy_field(r->role, sizeof r->role, f[2]) < 0 ||
                parse_u64_max(f[3], INT32_MAX, &pid) < 0 || pid == 0 || parse_u64(f[4], &start) < 0 ||
                parse_u64_max(f[5], 1, &stopped) < 0 || parse_u64_max(f[6], 65535, &port) < 0)
                return -EBADMSG;
        r->pid = (pid_t) pid;
        r->start_time = start;
        r->stopped = stopped == 1;
        r->port = (int) port;
        /* version 1 has no CONFIG field, version 2 no NETNS and ADDRESS: those are NULL */
        if (copy_optional(r->url, sizeof r->url, f[7]) < 0 ||
                copy_optional(r->config, sizeof r->config, f[8]) < 0 ||
                copy_optional(r->netns, sizeof r->netns, f[9]) < 0 ||
                copy_optional(r->address, sizeof r->address, f[10]) < 0)
                return -EBADMSG;
        struct in_addr a;
        if (r->address[0] && inet_pton(AF_INET, r->address, &a) != 1)
                return -EBADMSG;
        return 0;
}

int cluster_state_read(int dir_fd, ClusterState *ret) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int q = read_file_at(dir_fd, CLUSTER_STATE_FILE, STATE_MAX, &data, &len);
        if (q < 0)
                return q == -EFBIG ? -EBADMSG : q;
        if (strlen(data) != len)
                return -EBADMSG;
        /* Big (64 roles with their paths): on the heap. */
        _cleanup_free_ ClusterState *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        size_t line_no = 0, role_fields = 0;
        bool has_url = false, has_meta = false, has_net = false;
        for (char *save = NULL, *line = strtok_r(data, "\n", &save); line;
                line = strtok_r(NULL, "\n", &save)) {
                line_no++;
                if (line_no == 1) {
                        if (strcmp(line, STATE_MAGIC) == 0)
                                role_fields = 11;
                        else if (strcmp(line, STATE_MAGIC_V2) == 0)
                                role_fields = 9;
                        else if (strcmp(line, STATE_MAGIC_V1) == 0)
                                role_fields = 8;
                        else
                                return -EBADMSG;
                        continue;
                }
                char *f[12] = {};
                size_t n = split(line, f, ELEMENTSOF(f));
                if (n == 2 && strcmp(f[0], "public_url") == 0 && !has_url) {
                        if (copy_field(s->public_url, sizeof s->public_url, f[1]) < 0)
                                return -EBADMSG;
                        has_url = true;
                } else if (n == 2 && strcmp(f[0], "meta") == 0 && !has_meta && role_fields >= 9) {
                        if (copy_field(s->meta, sizeof s->meta, f[1]) < 0)
                                return -EBADMSG;
                        has_meta = true;
                } else if (n == 2 && strcmp(f[0], "net") == 0 && !has_net && role_fields == 11) {
                        if (copy_field(s->net_id, sizeof s->net_id, f[1]) < 0 ||
                                strspn(s->net_id, "0123456789abcdef") != strlen(s->net_id))
                                return -EBADMSG;
                        has_net = true;
                } else if (n == role_fields && strcmp(f[0], "role") == 0 && s->n_roles < CLUSTER_MAX_ROLES) {
                        if (parse_role(f, &s->roles[s->n_roles++]) < 0)
                                return -EBADMSG;
                } else
                        return -EBADMSG;
        }
        if (!has_url)
                return -EBADMSG;
        *ret = *s;
        return 0;
}

/* ---- processes ---- */

int cluster_process_start_time(pid_t pid, uint64_t *ret) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -ESRCH;
        ssize_t n = read_full(fd, buf, sizeof buf - 1);
        if (n <= 0)
                return -ESRCH;
        buf[n] = '\0';
        /* "pid (comm) state f4 ... f22": comm may hold anything, so count from its last ')'. */
        char *p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return -EBADMSG;
        char *f[21];
        size_t k = split(p + 2, f, ELEMENTSOF(f));
        if (k < 20)
                return -EBADMSG;
        if (f[0][0] == 'Z' || f[0][0] == 'X') /* a zombie has exited */
                return -ESRCH;
        char *end = f[19] + strcspn(f[19], " \n");
        *end = '\0';
        return parse_u64(f[19], ret) < 0 ? -EBADMSG : 0;
}

ClusterProcState cluster_process_state(pid_t pid, uint64_t start_time) {
        uint64_t now;
        if (pid <= 0 || cluster_process_start_time(pid, &now) < 0 || now != start_time)
                return CLUSTER_PROC_EXITED;
        return CLUSTER_PROC_RUNNING;
}

const char *cluster_role_state(const ClusterRole *r) {
        if (cluster_process_state(r->pid, r->start_time) == CLUSTER_PROC_RUNNING)
                return "running";
        return r->stopped ? "stopped" : "exited";
}

int cluster_user_lookup(const char *name, ClusterUser *ret) {
        struct passwd pw, *found = NULL;
        char buf[4096];
        int q = getpwnam_r(name, &pw, buf, sizeof buf, &found);
        if (q != 0)
                return -q;
        if (!found)
                return -ENOENT;
        *ret = (ClusterUser){.uid = pw.pw_uid, .gid = pw.pw_gid};
        return 0;
}

int cluster_become(ClusterUser user) {
        if (user.uid == (uid_t) -1)
                return 0;
        if (setgroups(0, NULL) < 0 || setresgid(user.gid, user.gid, user.gid) < 0 ||
                setresuid(user.uid, user.uid, user.uid) < 0)
                return -errno;
        return 0;
}

/* In the child, between fork and exec: async-signal-safe calls only. */
static _noreturn_ void child_exec(
        char *const *argv, int log_fd, ClusterUser user, int netns_fd, bool new_session) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_UNBLOCK, &all, NULL);
        for (int s = 1; s < NSIG; s++)
                if (s != SIGKILL && s != SIGSTOP)
                        signal(s, SIG_DFL);
        int null = open("/dev/null", O_RDWR);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
                dup2(log_fd >= 0 ? log_fd : null, STDOUT_FILENO) < 0 ||
                dup2(log_fd >= 0 ? log_fd : null, STDERR_FILENO) < 0)
                _exit(127);
        if (new_session && setsid() < 0)
                _exit(127);
        if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0) {
                static const char msg[] = "coderunner cluster: cannot enter the role's network namespace\n";
                (void) !write(STDERR_FILENO, msg, sizeof msg - 1);
                _exit(127);
        }
        if (cluster_become(user) < 0) {
                static const char msg[] = "coderunner cluster: cannot become the role's user\n";
                (void) !write(STDERR_FILENO, msg, sizeof msg - 1);
                _exit(127);
        }
        execv(argv[0], argv);
        static const char msg[] = "coderunner cluster: cannot execute the program\n";
        (void) !write(STDERR_FILENO, msg, sizeof msg - 1);
        _exit(127);
}

static int open_log(const char *log_path, ClusterUser user) {
        if (!log_path)
                return -EBADF;
        int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0)
                return -errno;
        if (user.uid != (uid_t) -1 && fchown(fd, user.uid, user.gid) < 0) {
                int q = -errno;
                close(fd);
                return q;
        }
        return fd;
}

int cluster_spawn(char *const *argv, const char *log_path, ClusterUser user, pid_t *ret_pid,
        uint64_t *ret_start_time) {
        return cluster_spawn_in(argv, log_path, user, -1, ret_pid, ret_start_time);
}

int cluster_spawn_in(char *const *argv, const char *log_path, ClusterUser user, int netns_fd, pid_t *ret_pid,
        uint64_t *ret_start_time) {
        _cleanup_close_ int log_fd = open_log(log_path, user);
        if (log_fd < 0)
                return log_fd;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                child_exec(argv, log_fd, user, netns_fd, true);
        uint64_t start;
        int q = cluster_process_start_time(pid, &start);
        if (q < 0) { /* it died at once: reap it, report it */
                (void) waitpid(pid, NULL, WNOHANG);
                return -ECHILD;
        }
        *ret_pid = pid;
        *ret_start_time = start;
        return 0;
}

int cluster_run(char *const *argv, const char *log_path, ClusterUser user) {
        return cluster_run_in(argv, log_path, user, -1);
}

int cluster_run_in(char *const *argv, const char *log_path, ClusterUser user, int netns_fd) {
        _cleanup_close_ int log_fd = log_path ? open_log(log_path, user) : -EBADF;
        if (log_path && log_fd < 0)
                return log_fd;
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                child_exec(argv, log_fd, user, netns_fd, false);
        int status;
        if (RETRY_EINTR(waitpid(pid, &status, 0)) < 0)
                return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool cluster_user_can_access(ClusterUser user, const char *path) {
        if (user.uid == (uid_t) -1)
                return access(path, R_OK | W_OK | X_OK) == 0;
        pid_t pid = fork();
        if (pid < 0)
                return false;
        if (pid == 0) {
                if (cluster_become(user) < 0)
                        _exit(1);
                _exit(access(path, R_OK | W_OK | X_OK) == 0 ? 0 : 1);
        }
        int status;
        if (RETRY_EINTR(waitpid(pid, &status, 0)) < 0)
                return false;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Wait until the process is gone (reaping it when it is our child). */
static bool wait_gone(pid_t pid, uint64_t start_time, uint64_t timeout_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        for (;;) {
                (void) waitpid(pid, NULL, WNOHANG);
                if (cluster_process_state(pid, start_time) != CLUSTER_PROC_RUNNING)
                        return true;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return false;
                nanosleep(&(struct timespec){.tv_nsec = (long) (POLL_USEC * NSEC_PER_USEC)}, NULL);
        }
}

int cluster_stop_process(pid_t pid, uint64_t start_time, int sig, uint64_t timeout_usec) {
        if (cluster_process_state(pid, start_time) != CLUSTER_PROC_RUNNING)
                return 0;
        if (kill(pid, sig) < 0 && errno != ESRCH)
                return -errno;
        if (wait_gone(pid, start_time, timeout_usec))
                return 0;
        if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
                return -errno;
        return wait_gone(pid, start_time, 10 * USEC_PER_SEC) ? 1 : -ETIMEDOUT;
}

/* ---- ports and probes ---- */

static int bind_loopback(int port, int *ret_port) {
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* As the servers do: connections in TIME_WAIT do not make a port busy. */
        int one = 1;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
                return -errno;
        struct sockaddr_in a = {.sin_family = AF_INET,
                .sin_port = htons((uint16_t) port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (bind(fd, (struct sockaddr *) &a, sizeof a) < 0)
                return -errno;
        socklen_t len = sizeof a;
        if (getsockname(fd, (struct sockaddr *) &a, &len) < 0)
                return -errno;
        *ret_port = ntohs(a.sin_port);
        return 0;
}

int cluster_free_port(int *ret) {
        return bind_loopback(0, ret);
}

bool cluster_port_free(int port) {
        int p;
        return bind_loopback(port, &p) == 0;
}

int cluster_socket_in(int netns_fd) {
        if (netns_fd < 0) {
                int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                return fd < 0 ? -errno : fd;
        }
        _cleanup_close_ int ours = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (ours < 0)
                return -errno;
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return -errno;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int q = fd < 0 ? -errno : fd;
        if (setns(ours, CLONE_NEWNET) < 0)
                abort(); /* back home cannot fail: we were there a moment ago */
        return q;
}

/* A socket connected to t: -errno when the connection fails. */
static int connect_target(ClusterTarget t) {
        struct sockaddr_in a = {.sin_family = AF_INET,
                .sin_port = htons((uint16_t) t.port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (t.address && inet_pton(AF_INET, t.address, &a.sin_addr) != 1)
                return -EINVAL;
        _cleanup_close_ int fd = cluster_socket_in(t.netns_fd);
        if (fd < 0)
                return fd;
        if (connect(fd, (struct sockaddr *) &a, sizeof a) < 0)
                return -errno;
        return TAKE_FD(fd);
}

int cluster_tcp_ask(ClusterTarget t, const char *request, uint64_t timeout_usec, bool until_close, char *buf,
        size_t size) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        _cleanup_close_ int fd = connect_target(t);
        if (fd < 0)
                return fd;
        struct timeval tv = {.tv_sec = (time_t) (timeout_usec / USEC_PER_SEC),
                .tv_usec = (suseconds_t) (timeout_usec % USEC_PER_SEC)};
        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        int q = write_all(fd, request, strlen(request));
        if (q < 0)
                return q;
        size_t got = 0;
        while (got + 1 < size) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        break;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int n = poll(&p, 1, (int) ((deadline - now) / USEC_PER_MSEC + 1));
                if (n < 0 && errno != EINTR)
                        return -errno;
                if (n <= 0)
                        continue;
                ssize_t k = read(fd, buf + got, size - 1 - got);
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k == 0)
                        break;
                if (k > 0)
                        got += (size_t) k;
                if (!until_close && memchr(buf, '\n', got))
                        break;
        }
        buf[got] = '\0';
        return got > 0 ? 0 : -ETIMEDOUT;
}

bool cluster_tcp_ready(ClusterTarget t) {
        _cleanup_close_ int fd = connect_target(t);
        return fd >= 0;
}

bool cluster_redis_ready(ClusterTarget t) {
        char buf[64];
        return cluster_tcp_ask(t, "PING\r\n", USEC_PER_SEC, false, buf, sizeof buf) == 0 &&
               strncmp(buf, "+PONG", 5) == 0;
}

int cluster_http_get(
        ClusterTarget t, const char *path, const char *header, int *ret_status, char *body, size_t size) {
        char req[1024], buf[8192];
        int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s:%d\r\n%s%s\r\n", path,
                t.address ? t.address : "127.0.0.1", t.port, header ? header : "", header ? "\r\n" : "");
        if (n < 0 || (size_t) n >= sizeof req || (header && strpbrk(header, "\r\n")))
                return -EINVAL;
        int q = cluster_tcp_ask(t, req, 2 * USEC_PER_SEC, true, buf, sizeof buf);
        if (q < 0)
                return q;
        /* "HTTP/1.x NNN ...\r\n...\r\n\r\nbody" */
        char code[4] = {};
        uint64_t status;
        if (strncmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ' || !memcpy(code, buf + 9, 3) ||
                parse_u64_max(code, 599, &status) < 0)
                return -EBADMSG;
        const char *b = strstr(buf, "\r\n\r\n");
        snprintf(body, size, "%s", b ? b + 4 : "");
        *ret_status = (int) status;
        return 0;
}

int cluster_random_hex(size_t n, char *buf, size_t size) {
        unsigned char bytes[64];
        if (n > sizeof bytes || size <= 2 * n)
                return -EINVAL;
        for (size_t got = 0; got < n;) {
                ssize_t k = getrandom(bytes + got, n - got, 0);
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k > 0)
                        got += (size_t) k;
        }
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                buf[2 * i] = hex[bytes[i] >> 4];
                buf[2 * i + 1] = hex[bytes[i] & 15];
        }
        buf[2 * n] = '\0';
        explicit_bzero(bytes, sizeof bytes);
        return 0;
}

/* ---- ownership and removal ---- */

/* nftw() passes no context: the owner of the tree being given away. */
static ClusterUser chown_to;

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return lchown(path, chown_to.uid, chown_to.gid) < 0 && errno != ENOENT ? -1 : 0;
}

int cluster_chown_tree(const char *path, ClusterUser user) {
        if (user.uid == (uid_t) -1)
                return 0;
        chown_to = user;
        return nftw(path, chown_one, 16, FTW_PHYS) < 0 ? -errno : 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

int cluster_remove_tree(const char *path) {
        struct stat st;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}
