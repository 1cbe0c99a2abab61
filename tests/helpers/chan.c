/* SPDX-License-Identifier: MIT */
/* One end of a would-be channel between two boxes that run at the same time.
 *
 *   chan CHANNEL recv|send
 *
 * Both ends share a read-write /sync directory (the test's rendezvous, not the channel
 * under test): the receiver sets its end up and creates /sync/recv-ready; the sender waits
 * for it, tries to signal through the channel, and creates /sync/sent; the receiver then
 * looks whether anything arrived. Each end prints one line, "RESULT <CHANNEL>-<ROLE> ok"
 * when the channel worked from its side, or "RESULT <CHANNEL>-<ROLE> fail <ERRNO-NAME>"
 * (NONE: set up, but nothing came through). Waits are bounded (a few seconds).
 *
 * Channels: flock and posix-lock (locks on a shared read-only file), inotify (a watch on
 * a shared read-only file), futex (a shared futex on a page of a shared read-only file),
 * abstract (an abstract unix socket), sysv-shm (a System V key), mqueue (a POSIX message
 * queue name), pagecache-nowait and pagecache-cachestat (whether a page of a shared file
 * is in the page cache: the receiver evicts it, the sender reads it, the receiver looks
 * with preadv2(RWF_NOWAIT) or cachestat(2)), loadavg (the host's thread count in
 * /proc/loadavg: the sender adds 200 processes, the receiver sees the count move), sysinfo
 * (the same count from sysinfo(2)).
 *
 *   chan pshared
 *
 * checks that what the channels' closing must not break still works inside one box:
 * process-shared semaphores between a parent and its child, in anonymous shared memory
 * (sem_init) and by name (sem_open, in /dev/shm); prints "RESULT pshared ok".
 *
 *   chan futex-rate ping|pong [N]
 *
 * measures the futex channel: N round trips through two futex words on a shared
 * read-only file, each a one-bit symbol each way; prints "RATE <round trips per second>". */

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <mqueue.h>
#include <poll.h>
#include <semaphore.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A file every box sees, read-only, from the same host inode: this helper itself. */
static const char *shared_file = "/proc/self/exe";
#define SYSV_KEY 0x43520001
#define MQ_NAME "coderunner-chan"
#define ABSTRACT_NAME "coderunner-chan"
#define WAIT_SEC 5

static const char *errno_name(int e) {
        switch (e) {
        case EPERM:
                return "EPERM";
        case ENOENT:
                return "ENOENT";
        case EBADF:
                return "EBADF";
        case EACCES:
                return "EACCES";
        case EAGAIN:
                return "EAGAIN";
        case EINVAL:
                return "EINVAL";
        case ENOSYS:
                return "ENOSYS";
        case ETIMEDOUT:
                return "ETIMEDOUT";
        case ECHILD:
                return "ECHILD";
        case ECONNREFUSED:
                return "ECONNREFUSED";
        case EAFNOSUPPORT:
                return "EAFNOSUPPORT";
        case EOPNOTSUPP:
                return "EOPNOTSUPP";
        default:
                return "EOTHER";
        }
}

static void result(const char *channel, const char *role, int err) {
        if (err == 0)
                printf("RESULT %s-%s ok\n", channel, role);
        else if (err < 0)
                printf("RESULT %s-%s fail NONE\n", channel, role);
        else
                printf("RESULT %s-%s fail %s\n", channel, role, errno_name(err));
        fflush(stdout);
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void touch(const char *path) {
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        if (fd >= 0)
                close(fd);
}

/* Wait until path exists; exit 9 after WAIT_SEC. */
static void await(const char *path) {
        double end = now() + WAIT_SEC;
        while (access(path, F_OK) != 0) {
                if (now() > end) {
                        fprintf(stderr, "chan: %s never appeared\n", path);
                        exit(9);
                }
                nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
        }
}

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *timeout) {
        return syscall(SYS_futex, addr, op, val, timeout, NULL, 0);
}

static uint32_t *map_shared_file(void) {
        int fd = open(shared_file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        void *p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
        close(fd);
        return p == MAP_FAILED ? NULL : p;
}

/* Each returns 0 when the channel worked from its side, -1 when set up but nothing came
 * through, or an errno. */

static int recv_flock(void) {
        int fd = open(shared_file, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX) < 0)
                return errno;
        touch("/sync/recv-ready");
        await("/sync/sent");
        return -1; /* the sender tells */
}

static int send_flock(void) {
        int fd = open(shared_file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        /* Refused while the receiver holds it: that refusal is the signal. */
        int r = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK ? 0 : -1;
        touch("/sync/sent");
        return r;
}

static int recv_posix_lock(void) {
        int fd = open(shared_file, O_RDONLY | O_CLOEXEC);
        struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET};
        if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
                return errno;
        touch("/sync/recv-ready");
        await("/sync/sent");
        return -1;
}

static int send_posix_lock(void) {
        int fd = open(shared_file, O_RDONLY | O_CLOEXEC);
        struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
        if (fd < 0 || fcntl(fd, F_GETLK, &fl) < 0)
                return errno;
        /* A read lock of the receiver shows through F_GETLK: that is the signal. */
        touch("/sync/sent");
        return fl.l_type != F_UNLCK ? 0 : -1;
}

static int recv_inotify(void) {
        char buf[4096];
        int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (fd < 0)
                return errno;
        if (inotify_add_watch(fd, shared_file, IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE) < 0)
                return errno;
        /* Our own open of the file above came before the watch: drain anything. */
        while (read(fd, buf, sizeof buf) > 0)
                ;
        touch("/sync/recv-ready");
        await("/sync/sent");
        return read(fd, buf, sizeof buf) > 0 ? 0 : -1;
}

static int send_open(void) {
        char c;
        int fd = open(shared_file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        (void) !read(fd, &c, 1);
        close(fd);
        touch("/sync/sent");
        return -1; /* only the receiver can tell */
}

static int recv_futex(void) {
        uint32_t *p = map_shared_file();
        if (!p)
                return errno;
        touch("/sync/recv-ready");
        struct timespec t = {.tv_sec = WAIT_SEC - 1};
        /* Not FUTEX_PRIVATE_FLAG: the key is the file's page, not our address space. */
        long r = futex(p, FUTEX_WAIT, *p, &t);
        int err = r == 0 ? 0 : errno == ETIMEDOUT ? -1 : errno;
        touch("/sync/recv-done");
        return err;
}

static int send_futex(void) {
        uint32_t *p = map_shared_file();
        if (!p)
                return errno;
        await("/sync/recv-ready");
        /* The receiver may not be waiting yet: wake until it was, or it gave up. */
        while (access("/sync/recv-done", F_OK) != 0) {
                long n = futex(p, FUTEX_WAKE, 1, NULL);
                if (n > 0)
                        return 0;
                if (n < 0)
                        return errno;
                nanosleep(&(struct timespec){.tv_nsec = 100000}, NULL);
        }
        return -1;
}

static int recv_abstract(void) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        socklen_t len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(ABSTRACT_NAME));
        memcpy(sa.sun_path + 1, ABSTRACT_NAME, strlen(ABSTRACT_NAME));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &sa, len) < 0 || listen(fd, 4) < 0)
                return errno;
        touch("/sync/recv-ready");
        await("/sync/sent");
        return accept(fd, NULL, NULL) >= 0 ? 0 : -1;
}

static int send_abstract(void) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        socklen_t len = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + strlen(ABSTRACT_NAME));
        memcpy(sa.sun_path + 1, ABSTRACT_NAME, strlen(ABSTRACT_NAME));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int err = fd < 0 ? errno : connect(fd, (struct sockaddr *) &sa, len) == 0 ? 0 : errno;
        touch("/sync/sent");
        return err;
}

static int recv_sysv_shm(void) {
        int id = shmget(SYSV_KEY, 4096, IPC_CREAT | IPC_EXCL | 0666);
        if (id < 0)
                return errno;
        touch("/sync/recv-ready");
        await("/sync/sent");
        (void) shmctl(id, IPC_RMID, NULL);
        return -1;
}

static int send_sysv_shm(void) {
        int id = shmget(SYSV_KEY, 0, 0);
        int err = id >= 0 ? 0 : errno;
        touch("/sync/sent");
        return err;
}

static int recv_mqueue(void) {
        struct mq_attr attr = {.mq_maxmsg = 1, .mq_msgsize = 8};
        long q = syscall(SYS_mq_open, MQ_NAME, O_RDONLY | O_CREAT | O_EXCL, 0666, &attr);
        if (q < 0)
                return errno;
        touch("/sync/recv-ready");
        await("/sync/sent");
        (void) syscall(SYS_mq_unlink, MQ_NAME);
        return -1;
}

static int send_mqueue(void) {
        long q = syscall(SYS_mq_open, MQ_NAME, O_WRONLY, 0, NULL);
        int err = q >= 0 ? 0 : errno;
        touch("/sync/sent");
        return err;
}

/* A file of the runtime that nothing else in the test executes. */
static const char *cold_file = "/h/probe";

#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif
struct cachestat_range {
        uint64_t off, len;
};
struct cachestat {
        uint64_t nr_cache, nr_dirty, nr_writeback, nr_evicted, nr_recently_evicted;
};

/* Is the first page of fd in the page cache? 1 yes, 0 no, or -errno. */
static int resident(int fd, int use_cachestat) {
        if (use_cachestat) {
                struct cachestat_range range = {0, 4096};
                struct cachestat cs;
                if (syscall(SYS_cachestat, fd, &range, &cs, 0) < 0)
                        return -errno;
                return cs.nr_cache > 0;
        }
        char buf[4096];
        struct iovec iov = {buf, sizeof buf};
        if (preadv2(fd, &iov, 1, 0, RWF_NOWAIT) >= 0)
                return 1;
        return errno == EAGAIN ? 0 : -errno;
}

static int recv_pagecache(int use_cachestat) {
        int fd = open(cold_file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        (void) posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        int r = resident(fd, use_cachestat);
        if (r < 0)
                return -r;
        if (r == 1)
                return -1; /* could not evict it: nothing to observe */
        touch("/sync/recv-ready");
        await("/sync/sent");
        r = resident(fd, use_cachestat);
        return r == 1 ? 0 : r == 0 ? -1 : -r;
}

static int recv_pagecache_nowait(void) {
        return recv_pagecache(0);
}

static int recv_pagecache_cachestat(void) {
        return recv_pagecache(1);
}

static int send_read_cold(void) {
        char buf[4096];
        int fd = open(cold_file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return errno;
        (void) !pread(fd, buf, sizeof buf, 0);
        touch("/sync/sent");
        return -1; /* only the receiver can tell */
}

#define LOADAVG_PROCS 200

/* The second half of the 4th field of /proc/loadavg: every task of the host. */
static long nr_threads(void) {
        char buf[256];
        int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = '\0';
        char *slash = strchr(buf, '/');
        return slash ? strtol(slash + 1, NULL, 10) : -EIO;
}

/* The same count, from sysinfo(2): what masking /proc would not hide. */
static long sysinfo_procs(void) {
        struct sysinfo si;
        return sysinfo(&si) < 0 ? -errno : (long) si.procs;
}

static int recv_count(long (*count)(void)) {
        long before = count();
        if (before < 0)
                return (int) -before;
        touch("/sync/recv-ready");
        await("/sync/sent");
        long after = count();
        if (after < 0)
                return (int) -after;
        /* Three quarters of the sender's processes, above the host's own noise. */
        return after - before >= LOADAVG_PROCS * 3 / 4 ? 0 : -1;
}

static int recv_loadavg(void) {
        return recv_count(nr_threads);
}

static int recv_sysinfo(void) {
        return recv_count(sysinfo_procs);
}

static int send_loadavg(void) {
        pid_t pids[LOADAVG_PROCS];
        int n = 0;
        for (; n < LOADAVG_PROCS; n++) {
                pids[n] = fork();
                if (pids[n] < 0)
                        break;
                if (pids[n] == 0) {
                        pause();
                        _exit(0);
                }
        }
        touch("/sync/sent");
        await("/sync/recv-done");
        for (int i = 0; i < n; i++)
                kill(pids[i], SIGKILL);
        return -1; /* only the receiver can tell */
}

/* Ping-pong through two futex words of the shared file: ping wakes word 0 and waits on
 * word 1, pong the reverse. */
static int futex_rate(int ping, long n) {
        uint32_t *p = map_shared_file();
        if (!p)
                return errno;
        uint32_t *mine = ping ? p + 1 : p, *theirs = ping ? p : p + 1;
        struct timespec t = {.tv_sec = 1};
        touch(ping ? "/sync/ping-ready" : "/sync/pong-ready");
        await(ping ? "/sync/pong-ready" : "/sync/ping-ready");
        double start = now();
        for (long i = 0; i < n; i++) {
                if (ping) {
                        while (futex(theirs, FUTEX_WAKE, 1, NULL) == 0)
                                ;
                        if (futex(mine, FUTEX_WAIT, *mine, &t) < 0 && errno == ETIMEDOUT)
                                return ETIMEDOUT;
                } else {
                        if (futex(mine, FUTEX_WAIT, *mine, &t) < 0 && errno == ETIMEDOUT)
                                return ETIMEDOUT;
                        while (futex(theirs, FUTEX_WAKE, 1, NULL) == 0)
                                ;
                }
        }
        if (ping)
                printf("RATE %.0f\n", (double) n / (now() - start));
        return 0;
}

/* The child posts each semaphore; the parent waits for both (a shared futex each). */
static int pshared(void) {
        sem_t *anon = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (anon == MAP_FAILED || sem_init(anon, 1, 0) < 0)
                return errno;
        sem_t *named = sem_open("/coderunner-chan", O_CREAT | O_EXCL, 0600, 0);
        if (named == SEM_FAILED)
                return errno;
        (void) sem_unlink("/coderunner-chan");
        pid_t pid = fork();
        if (pid < 0)
                return errno;
        if (pid == 0) {
                /* Let the parent block first, so that a wake is needed. */
                nanosleep(&(struct timespec){.tv_nsec = 20000000}, NULL);
                _exit(sem_post(anon) == 0 && sem_post(named) == 0 ? 0 : 1);
        }
        struct timespec deadline;
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_sec += WAIT_SEC;
        if (sem_timedwait(anon, &deadline) < 0 || sem_timedwait(named, &deadline) < 0)
                return errno;
        int status;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return ECHILD;
        return 0;
}

int main(int argc, char **argv) {
        static const struct {
                const char *name;
                int (*recv)(void);
                int (*send)(void);
        } channels[] = {
                {"flock", recv_flock, send_flock},
                {"posix-lock", recv_posix_lock, send_posix_lock},
                {"inotify", recv_inotify, send_open},
                {"futex", recv_futex, send_futex},
                {"abstract", recv_abstract, send_abstract},
                {"sysv-shm", recv_sysv_shm, send_sysv_shm},
                {"mqueue", recv_mqueue, send_mqueue},
                {"pagecache-nowait", recv_pagecache_nowait, send_read_cold},
                {"pagecache-cachestat", recv_pagecache_cachestat, send_read_cold},
                {"loadavg", recv_loadavg, send_loadavg},
                {"sysinfo", recv_sysinfo, send_loadavg},
        };

        if (argc == 2 && strcmp(argv[1], "pshared") == 0) {
                result("pshared", "box", pshared());
                return 0;
        }
        if (argc >= 3 && strcmp(argv[1], "futex-rate") == 0) {
                int r = futex_rate(
                        strcmp(argv[2], "ping") == 0, argc > 3 ? strtol(argv[3], NULL, 10) : 10000);
                if (r)
                        printf("RESULT futex-rate fail %s\n", errno_name(r));
                return 0;
        }
        if (argc != 3 || (strcmp(argv[2], "recv") != 0 && strcmp(argv[2], "send") != 0)) {
                fprintf(stderr, "usage: chan CHANNEL recv|send | chan futex-rate ping|pong [N]\n");
                return 2;
        }
        for (size_t i = 0; i < sizeof channels / sizeof channels[0]; i++)
                if (strcmp(argv[1], channels[i].name) == 0) {
                        int recv = strcmp(argv[2], "recv") == 0;
                        if (!recv)
                                await("/sync/recv-ready");
                        int r = recv ? channels[i].recv() : channels[i].send();
                        if (recv) {
                                /* Refused before it was ready: let the sender go on anyway. */
                                touch("/sync/recv-ready");
                                touch("/sync/recv-done");
                        }
                        result(argv[1], argv[2], r);
                        return 0;
                }
        fprintf(stderr, "chan: unknown channel %s\n", argv[1]);
        return 2;
}
