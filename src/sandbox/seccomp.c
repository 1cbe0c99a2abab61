/* SPDX-License-Identifier: MIT */
/* The system-call policy of the sandboxed program, built once with libseccomp and
 * exported as a plain BPF program so that the child only has to install it (no
 * allocation between fork and exec).
 *
 * Default allow, then refuse what is not namespaced, is a known kernel attack surface,
 * or lets the program leave the box. Every rule says why. */

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "sandbox/sandbox-internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Refused with EPERM: the program sees an ordinary "operation not permitted". */
static const char *const deny_eperm[] = {
        /* debugging other processes, reading their memory */
        "ptrace",
        "process_vm_readv",
        "process_vm_writev",
        "pidfd_getfd",
        "kcmp",
        "process_madvise",
        /* mounts and the new mount API */
        "mount",
        "umount2",
        "pivot_root",
        "chroot",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "open_tree",
        "move_mount",
        "mount_setattr",
        /* namespaces */
        "unshare",
        "setns",
        /* kernel keyrings are not namespaced */
        "keyctl",
        "add_key",
        "request_key",
        /* large kernel attack surfaces */
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "fanotify_init",
        "lookup_dcookie",
        /* modules, kexec, reboot, swap, accounting, quotas, the kernel log, clocks */
        "init_module",
        "finit_module",
        "delete_module",
        "kexec_load",
        "kexec_file_load",
        "reboot",
        "swapon",
        "swapoff",
        "acct",
        "quotactl",
        "quotactl_fd",
        "syslog",
        "settimeofday",
        "clock_settime",
        "clock_adjtime",
        "adjtimex",
        "vhangup",
        "iopl",
        "ioperm",
        "uselib",
        "ustat",
        "sysfs",
        "_sysctl",
        "nfsservctl",
        /* file handles bypass path permission checks */
        "open_by_handle_at",
        "name_to_handle_at",
};

/* Refused with ENOSYS, because callers probe them and fall back: glibc retries clone3
 * with clone (whose flags we can inspect), libuv and others fall back from io_uring,
 * file watchers (tail -f, editors, build tools) fall back to polling without inotify. */
static const char *const deny_enosys[] = {
        "clone3",
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        /* A watch on a shared read-only runtime file sees every other box open and read
         * it: a channel between concurrent runs. */
        "inotify_init",
        "inotify_init1",
        "inotify_add_watch",
        /* Reports which pages of a file are in the page cache, which is shared by every
         * box: one evicts, the other reads, the first looks (a channel). */
        "cachestat",
};

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
        const struct scmp_arg_cmp *args) {
        int nr = seccomp_syscall_resolve_name(name);
        if (nr == __NR_SCMP_ERROR)
                return 0; /* not on this architecture */
        return seccomp_rule_add_array(ctx, action, nr, n, args);
}

int seccomp_build(struct sock_fprog *ret) {
        scmp_filter_ctx ctx = NULL;
        _cleanup_close_ int memfd = -EBADF;
        struct stat st;
        void *prog = NULL;
        int r;

        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return -ENOMEM;
        /* Only the native ABI: a 32-bit or x32 system call kills the process. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (r < 0)
                goto out;
        /* Look system calls up in a binary tree, not a linear list: every system call of
         * the program runs through this filter. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0)
                goto out;
        /* We set no_new_privs ourselves, right before installing the filter. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                goto out;

        for (size_t i = 0; i < ELEMENTSOF(deny_eperm); i++) {
                r = add(ctx, SCMP_ACT_ERRNO(EPERM), deny_eperm[i], 0, NULL);
                if (r < 0)
                        goto out;
        }
        for (size_t i = 0; i < ELEMENTSOF(deny_enosys); i++) {
                r = add(ctx, SCMP_ACT_ERRNO(ENOSYS), deny_enosys[i], 0, NULL);
                if (r < 0)
                        goto out;
        }

        /* clone(2) may create threads and processes, never namespaces. */
        static const unsigned long ns_flags[] = {
                CLONE_NEWNS,
                CLONE_NEWUTS,
                CLONE_NEWIPC,
                CLONE_NEWUSER,
                CLONE_NEWPID,
                CLONE_NEWNET,
                CLONE_NEWCGROUP,
                CLONE_NEWTIME,
        };
        for (size_t i = 0; i < ELEMENTSOF(ns_flags); i++) {
                struct scmp_arg_cmp a = SCMP_A0_64(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]);
                r = add(ctx, SCMP_ACT_ERRNO(EPERM), "clone", 1, &a);
                if (r < 0)
                        goto out;
        }

        /* Sockets: local, IPv4 and IPv6 (for networked runs), and route netlink (getaddrinfo
         * asks it which addresses exist; in an empty namespace it only sees lo). Every other
         * family is refused: several are not namespaced (AF_VSOCK) or rarely audited. The
         * family is an int: compare the low 32 bits only. */
        static const uint32_t refused_families[] = {
                0, 3, 4, 5, 6, 7, 8, 9, /* AF_UNSPEC, AX25, IPX, APPLETALK, NETROM, BRIDGE, ATMPVC, X25 */
                11, 12, 13, 14, 15, /* ROSE, DECnet, NETBEUI, SECURITY, KEY */
        };
        for (size_t i = 0; i < ELEMENTSOF(refused_families); i++) {
                struct scmp_arg_cmp a = SCMP_A0_32(SCMP_CMP_EQ, refused_families[i]);
                r = add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, &a);
                if (r < 0)
                        goto out;
        }
        {
                /* every family above AF_NETLINK (16): packet, vsock, bluetooth, can, xdp... */
                struct scmp_arg_cmp above = SCMP_A0_32(SCMP_CMP_GT, AF_NETLINK);
                r = add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 1, &above);
                if (r < 0)
                        goto out;
                struct scmp_arg_cmp a[] = {
                        SCMP_A0_32(SCMP_CMP_EQ, AF_NETLINK),
                        SCMP_A2_32(SCMP_CMP_NE, 0 /* NETLINK_ROUTE */),
                };
                r = add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socket", 2, a);
                if (r < 0)
                        goto out;
                /* socketpair(2) only makes sense for local sockets. */
                struct scmp_arg_cmp local = SCMP_A0_32(SCMP_CMP_NE, AF_UNIX);
                r = add(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), "socketpair", 1, &local);
                if (r < 0)
                        goto out;
        }

        /* Terminal injection: pushing bytes into a terminal's input, or the console. */
        static const unsigned long bad_ioctls[] = {TIOCSTI, 0x541C /* TIOCLINUX */};
        for (size_t i = 0; i < ELEMENTSOF(bad_ioctls); i++) {
                struct scmp_arg_cmp a = SCMP_A1_32(SCMP_CMP_EQ, (uint32_t) bad_ioctls[i]);
                r = add(ctx, SCMP_ACT_ERRNO(EPERM), "ioctl", 1, &a);
                if (r < 0)
                        goto out;
        }

        /* File locks on the read-only runtime files are shared by every box: a channel
         * between concurrent runs (isolate closed it in 2.4). Locks become no-ops that
         * succeed, so single-process programs (SQLite...) still work. Leases and dnotify
         * are refused. */
        {
                static const int lock_cmds[] = {F_SETLK, F_SETLKW, F_OFD_SETLK, F_OFD_SETLKW};
                for (size_t i = 0; i < ELEMENTSOF(lock_cmds); i++) {
                        struct scmp_arg_cmp a = SCMP_A1_32(SCMP_CMP_EQ, (uint32_t) lock_cmds[i]);
                        r = add(ctx, SCMP_ACT_ERRNO(0), "fcntl", 1, &a);
                        if (r < 0)
                                goto out;
                }
                static const int refused_cmds[] = {F_SETLEASE, F_NOTIFY};
                for (size_t i = 0; i < ELEMENTSOF(refused_cmds); i++) {
                        struct scmp_arg_cmp a = SCMP_A1_32(SCMP_CMP_EQ, (uint32_t) refused_cmds[i]);
                        r = add(ctx, SCMP_ACT_ERRNO(EPERM), "fcntl", 1, &a);
                        if (r < 0)
                                goto out;
                }
                r = add(ctx, SCMP_ACT_ERRNO(0), "flock", 0, NULL);
                if (r < 0)
                        goto out;
        }

        /* The page cache channel's other two ends: evicting a shared file's pages
         * (POSIX_FADV_DONTNEED becomes a no-op that succeeds: it is only advice) and
         * looking whether a page is cached without waiting for it (preadv2/pwritev2 with
         * RWF_NOWAIT, refused with EOPNOTSUPP as on a file system without it, which
         * callers handle by reading normally). */
        {
                struct scmp_arg_cmp dontneed = SCMP_A3_32(SCMP_CMP_EQ, POSIX_FADV_DONTNEED);
                static const char *const fadvise[] = {"fadvise64", "fadvise64_64"};
                for (size_t i = 0; i < ELEMENTSOF(fadvise); i++) {
                        r = add(ctx, SCMP_ACT_ERRNO(0), fadvise[i], 1, &dontneed);
                        if (r < 0)
                                goto out;
                }
                struct scmp_arg_cmp nowait = SCMP_A5_64(SCMP_CMP_MASKED_EQ, RWF_NOWAIT, RWF_NOWAIT);
                static const char *const rw2[] = {"preadv2", "pwritev2"};
                for (size_t i = 0; i < ELEMENTSOF(rw2); i++) {
                        r = add(ctx, SCMP_ACT_ERRNO(EOPNOTSUPP), rw2[i], 1, &nowait);
                        if (r < 0)
                                goto out;
                }
        }

        memfd = memfd_create("coderunner-seccomp", MFD_CLOEXEC);
        if (memfd < 0) {
                r = -errno;
                goto out;
        }
        r = seccomp_export_bpf(ctx, memfd);
        if (r < 0)
                goto out;
        if (fstat(memfd, &st) < 0 || st.st_size <= 0 || st.st_size % sizeof(struct sock_filter) != 0) {
                r = -EIO;
                goto out;
        }
        prog = malloc((size_t) st.st_size);
        if (!prog) {
                r = -ENOMEM;
                goto out;
        }
        if (pread(memfd, prog, (size_t) st.st_size, 0) != st.st_size) {
                free(prog);
                r = -EIO;
                goto out;
        }
        ret->len = (unsigned short) (st.st_size / sizeof(struct sock_filter));
        ret->filter = prog;
        r = 0;
out:
        seccomp_release(ctx);
        return r;
}
