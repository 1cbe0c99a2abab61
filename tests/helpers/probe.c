/* SPDX-License-Identifier: MIT */
/* Try one forbidden thing.
 *
 *   probe NAME [ARG]
 *
 * Prints one line, "RESULT <NAME> ok" when the call succeeded or "RESULT <NAME> fail
 * <ERRNO-NAME>" when it failed, and exits 0. Nothing is done with what a successful call
 * gives (no data is sent on sockets, new processes exit at once). The foreign-ABI probes
 * (int80, x32) are expected to be killed by SIGSYS before they can print. `probe list`
 * prints the names. */

#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/io_uring.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <linux/vm_sockets.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#define KEY_SPEC_SESSION_KEYRING (-3)
#define KEYCTL_GET_KEYRING_ID 0

/* Each probe returns the raw result: >= 0 success, < 0 failure with errno set. */
typedef long (*ProbeFn)(const char *arg);

/* A child made by a successful clone exits at once; the parent reaps it. */
static long reap(long pid) {
        int saved;

        if (pid == 0)
                _exit(0);
        if (pid < 0)
                return pid;
        saved = errno;
        waitpid((pid_t) pid, NULL, __WALL);
        errno = saved;
        return 0;
}

static long probe_ptrace_traceme(const char *arg) {
        return ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static long probe_ptrace_attach_init(const char *arg) {
        return ptrace(PTRACE_ATTACH, 1, NULL, NULL);
}

/* Our own child, same uid: allowed by every ptrace policy except the sandbox's filter. */
static long probe_ptrace_attach_child(const char *arg) {
        pid_t pid = fork();
        long r;
        int saved;

        if (pid < 0)
                return -1;
        if (pid == 0) {
                for (;;)
                        pause();
        }
        r = ptrace(PTRACE_ATTACH, pid, NULL, NULL);
        saved = errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, __WALL);
        errno = saved;
        return r;
}

static long probe_mount(const char *arg) {
        return mount("none", "/tmp", "tmpfs", 0, NULL);
}

static long probe_umount(const char *arg) {
        return umount2("/usr", MNT_DETACH);
}

static long probe_unshare_user(const char *arg) {
        return unshare(CLONE_NEWUSER);
}

static long probe_unshare_mount(const char *arg) {
        return unshare(CLONE_NEWNS);
}

static long probe_unshare_net(const char *arg) {
        return unshare(CLONE_NEWNET);
}

static long probe_setns(const char *arg) {
        /* A valid namespace fd when we can get one, so that only a filter or a missing
         * capability can refuse it. */
        int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);

        return syscall(SYS_setns, fd, 0);
}

static long probe_keyctl(const char *arg) {
        return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}

static long probe_add_key(const char *arg) {
        return syscall(SYS_add_key, "user", "coderunner-probe", "x", 1, KEY_SPEC_SESSION_KEYRING);
}

static long probe_bpf(const char *arg) {
        union bpf_attr attr;

        memset(&attr, 0, sizeof attr);
        attr.map_type = BPF_MAP_TYPE_ARRAY;
        attr.key_size = 4;
        attr.value_size = 4;
        attr.max_entries = 1;
        return syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr);
}

static long probe_perf_event_open(const char *arg) {
        struct perf_event_attr attr;

        /* User-space-only counting of ourselves: allowed at perf_event_paranoid <= 2. */
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_TASK_CLOCK;
        attr.disabled = 1;
        attr.exclude_kernel = 1;
        attr.exclude_hv = 1;
        return syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static long probe_io_uring_setup(const char *arg) {
        struct io_uring_params p;

        memset(&p, 0, sizeof p);
        return syscall(SYS_io_uring_setup, 4, &p);
}

static long probe_userfaultfd(const char *arg) {
        /* User-mode-only faults need no privilege since Linux 5.11. */
        return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
}

static long probe_fanotify_init(const char *arg) {
        return syscall(SYS_fanotify_init, 0 /* FAN_CLASS_NOTIF */, O_RDONLY);
}

static long probe_inotify_init1(const char *arg) {
        return syscall(SYS_inotify_init1, 0);
}

static long probe_clone_newuser(const char *arg) {
        return reap(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, NULL));
}

static long probe_clone_newnet(const char *arg) {
        return reap(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, NULL, NULL, NULL, NULL));
}

static long probe_clone_newns(const char *arg) {
        return reap(syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, NULL));
}

static long probe_clone3(const char *arg) {
        struct clone_args args;

        memset(&args, 0, sizeof args);
        args.exit_signal = SIGCHLD;
        return reap(syscall(SYS_clone3, &args, sizeof args));
}

static long probe_int80(const char *arg) {
#if defined(__x86_64__)
        long r;

        /* getpid of the i386 ABI is 20. */
        __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");
        if (r < 0 && r > -4096) {
                errno = (int) -r;
                return -1;
        }
        return r;
#else
        errno = ENOTSUP;
        return -1;
#endif
}

static long probe_x32(const char *arg) {
#if defined(__x86_64__)
        /* getpid of the x32 ABI: the x86_64 number with __X32_SYSCALL_BIT. */
        return syscall(0x40000000L | SYS_getpid);
#else
        errno = ENOTSUP;
        return -1;
#endif
}

/* Connect without sending anything; give up after one second. */
static long try_connect(const char *ip, unsigned port) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
        struct pollfd pfd;
        socklen_t len = sizeof(int);
        int fd, err = 0;

        if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
                errno = EINVAL;
                return -1;
        }
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) == 0)
                return 0;
        if (errno != EINPROGRESS)
                return -1;
        pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
        if (poll(&pfd, 1, 1000) == 0) {
                errno = ETIMEDOUT;
                return -1;
        }
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                return -1;
        if (err != 0) {
                errno = err;
                return -1;
        }
        return 0;
}

static long probe_connect_loopback(const char *arg) {
        unsigned long port;
        char *end;

        if (!arg) {
                errno = EINVAL;
                return -1;
        }
        port = strtoul(arg, &end, 10);
        if (end == arg || *end != '\0' || port == 0 || port > 65535) {
                errno = EINVAL;
                return -1;
        }
        return try_connect("127.0.0.1", (unsigned) port);
}

/* ADDR:PORT, IPv4 */
static long probe_connect_tcp(const char *arg) {
        char ip[INET_ADDRSTRLEN];
        const char *colon = arg ? strrchr(arg, ':') : NULL;
        unsigned long port;
        char *end;

        if (!colon || (size_t) (colon - arg) >= sizeof ip) {
                errno = EINVAL;
                return -1;
        }
        memcpy(ip, arg, (size_t) (colon - arg));
        ip[colon - arg] = '\0';
        port = strtoul(colon + 1, &end, 10);
        if (end == colon + 1 || *end != '\0' || port == 0 || port > 65535) {
                errno = EINVAL;
                return -1;
        }
        return try_connect(ip, (unsigned) port);
}

/* A stream socket in the abstract namespace ("\0NAME"). */
static long probe_connect_abstract(const char *arg) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        size_t n = arg ? strlen(arg) : 0;
        int fd;

        if (n == 0 || n + 1 > sizeof sa.sun_path) {
                errno = EINVAL;
                return -1;
        }
        memcpy(sa.sun_path + 1, arg, n);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        return connect(
                fd, (struct sockaddr *) &sa, (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + n));
}

static long probe_connect_public(const char *arg) {
        return try_connect("1.1.1.1", 53);
}

static long probe_socket_vsock(const char *arg) {
        return socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
}

static long probe_socket_netlink_route(const char *arg) {
        return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
}

static long probe_socket_netlink_uevent(const char *arg) {
        return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_KOBJECT_UEVENT);
}

static long probe_socket_netlink_audit(const char *arg) {
        return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_AUDIT);
}

static long probe_socket_netlink_diag(const char *arg) {
        return socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
}

static long probe_socket_packet(const char *arg) {
        return socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
}

static long probe_ioctl_tiocsti(const char *arg) {
        char c = 'x';

        return ioctl(0, TIOCSTI, &c);
}

static long probe_ioctl_tioclinux(const char *arg) {
        char subcode = 6; /* TIOCL_GETSHIFTSTATE */

        return ioctl(0, TIOCLINUX, &subcode);
}

static long probe_chroot(const char *arg) {
        return chroot("/tmp");
}

static long probe_setuid0(const char *arg) {
        return setuid(0);
}

static long probe_setgid0(const char *arg) {
        return setgid(0);
}

static long probe_capset(const char *arg) {
        struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct data[2];

        memset(data, 0xff, sizeof data);
        return syscall(SYS_capset, &hdr, data);
}

static long probe_proc1_environ(const char *arg) {
        char buf[256];
        int fd = open("/proc/1/environ", O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return -1;
        return read(fd, buf, sizeof buf);
}

static long probe_mknod(const char *arg) {
        return mknod("/tmp/probe-mem", S_IFCHR | 0666, makedev(1, 1));
}

static long probe_pivot_root(const char *arg) {
        return syscall(SYS_pivot_root, "/tmp", "/tmp");
}

static long probe_fsopen(const char *arg) {
        return syscall(SYS_fsopen, "tmpfs", 0);
}

static long probe_open_tree(const char *arg) {
        return syscall(SYS_open_tree, AT_FDCWD, "/", 1 /* OPEN_TREE_CLONE */);
}

static long probe_open_by_handle_at(const char *arg) {
        struct {
                struct file_handle fh;
                unsigned char bytes[128];
        } h;
        int mount_id;

        memset(&h, 0, sizeof h);
        h.fh.handle_bytes = sizeof h.bytes;
        if (name_to_handle_at(AT_FDCWD, "/", &h.fh, &mount_id, 0) < 0) {
                h.fh.handle_bytes = 8;
                h.fh.handle_type = 1;
        }
        return open_by_handle_at(AT_FDCWD, &h.fh, O_RDONLY | O_CLOEXEC);
}

static long probe_init_module(const char *arg) {
        return syscall(SYS_init_module, NULL, 0, "");
}

static long probe_kexec_load(const char *arg) {
        /* No segments: would only unload a loaded image. */
        return syscall(SYS_kexec_load, 0, 0, NULL, 0);
}

/* RLIMIT_NOFILE in practice: open until refused. */
static long probe_open_many(const char *arg) {
        long n = 0;

        for (;;) {
                int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

                if (fd < 0) {
                        printf("count=%ld\n", n);
                        return -1;
                }
                if (++n > 1000000)
                        return 0;
        }
}

static const struct {
        const char *name;
        ProbeFn fn;
} probes[] = {
        {"ptrace-traceme", probe_ptrace_traceme},
        {"ptrace-attach-init", probe_ptrace_attach_init},
        {"ptrace-attach-child", probe_ptrace_attach_child},
        {"mount", probe_mount},
        {"umount", probe_umount},
        {"unshare-user", probe_unshare_user},
        {"unshare-mount", probe_unshare_mount},
        {"unshare-net", probe_unshare_net},
        {"setns", probe_setns},
        {"keyctl", probe_keyctl},
        {"add_key", probe_add_key},
        {"bpf", probe_bpf},
        {"perf_event_open", probe_perf_event_open},
        {"io_uring_setup", probe_io_uring_setup},
        {"userfaultfd", probe_userfaultfd},
        {"fanotify_init", probe_fanotify_init},
        {"inotify_init1", probe_inotify_init1},
        {"clone-newuser", probe_clone_newuser},
        {"clone-newnet", probe_clone_newnet},
        {"clone-newns", probe_clone_newns},
        {"clone3", probe_clone3},
        {"int80", probe_int80},
        {"x32", probe_x32},
        {"connect-loopback", probe_connect_loopback},
        {"connect-public", probe_connect_public},
        {"connect-tcp", probe_connect_tcp},
        {"connect-abstract", probe_connect_abstract},
        {"socket-vsock", probe_socket_vsock},
        {"socket-netlink-route", probe_socket_netlink_route},
        {"socket-netlink-uevent", probe_socket_netlink_uevent},
        {"socket-netlink-audit", probe_socket_netlink_audit},
        {"socket-netlink-diag", probe_socket_netlink_diag},
        {"socket-packet", probe_socket_packet},
        {"ioctl-tiocsti", probe_ioctl_tiocsti},
        {"ioctl-tioclinux", probe_ioctl_tioclinux},
        {"chroot", probe_chroot},
        {"setuid0", probe_setuid0},
        {"setgid0", probe_setgid0},
        {"capset", probe_capset},
        {"proc1-environ", probe_proc1_environ},
        {"mknod", probe_mknod},
        {"pivot_root", probe_pivot_root},
        {"fsopen", probe_fsopen},
        {"open_tree", probe_open_tree},
        {"open_by_handle_at", probe_open_by_handle_at},
        {"init_module", probe_init_module},
        {"kexec_load", probe_kexec_load},
        {"open-many", probe_open_many},
};

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: probe NAME [ARG] | probe list\n");
                return 2;
        }
        if (strcmp(argv[1], "list") == 0) {
                for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
                        printf("%s\n", probes[i].name);
                return 0;
        }
        for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
                long r;

                if (strcmp(argv[1], probes[i].name) != 0)
                        continue;
                errno = 0;
                r = probes[i].fn(argc > 2 ? argv[2] : NULL);
                if (r >= 0)
                        printf("RESULT %s ok\n", argv[1]);
                else
                        printf("RESULT %s fail %s\n", argv[1], strerrorname_np(errno));
                return 0;
        }
        fprintf(stderr, "probe: unknown probe '%s'\n", argv[1]);
        return 2;
}
