/* SPDX-License-Identifier: MIT */
/* The network namespace of networked runs: egress to public addresses only, through pasta,
 * filtered by nftables inside the namespace (see net-internal.h and docs/SANDBOX.md). */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/close_range.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/macro.h"
#include "base/parse-util.h"
#include "base/strv.h"
#include "base/time-util.h"
#include "sandbox/box.h"
#include "sandbox/net-internal.h"

#define NET_READY_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define NET_RULESET_MAX (256 * 1024)
#define NET_MAX_CIDRS 4096
#define TOOL_PATH "/usr/sbin:/usr/bin:/sbin:/bin"
#define TOOL_OUTPUT_MAX (64 * 1024)

/* Never reachable from a box unless the operator allows them: everything that is not the
 * public internet (RFC 6890's special-purpose registries), cloud metadata included
 * (169.254.169.254 and fd00:ec2::254 are in link-local and ULA). */
static const char *const default_deny[] = {
        "0.0.0.0/8", /* "this network" */
        "10.0.0.0/8", /* private */
        "100.64.0.0/10", /* carrier-grade NAT */
        "127.0.0.0/8", /* loopback */
        "169.254.0.0/16", /* link-local, cloud metadata */
        "172.16.0.0/12", /* private */
        "192.0.0.0/24", /* IETF protocol assignments */
        "192.0.2.0/24", /* documentation */
        "192.88.99.0/24", /* 6to4 relays */
        "192.168.0.0/16", /* private */
        "198.18.0.0/15", /* benchmarking */
        "198.51.100.0/24", /* documentation */
        "203.0.113.0/24", /* documentation */
        "224.0.0.0/3", /* multicast, reserved, broadcast */
        "::/127", /* unspecified, loopback */
        "::ffff:0:0/96", /* IPv4-mapped */
        "64:ff9b:1::/48", /* local NAT64 */
        "100::/64", /* discard */
        "2001::/23", /* IETF protocol assignments (Teredo, ORCHID...) */
        "2001:db8::/32", /* documentation */
        "2002::/16", /* 6to4: embeds any IPv4 address */
        "fc00::/7", /* unique local, metadata */
        "fe80::/10", /* link-local */
        "ff00::/8", /* multicast */
        NULL,
};

struct NetBox {
        int netns_fd;
        int pasta_pidfd;
        pid_t pasta_pid;
};

int box_net_check_cidr(const char *cidr) {
        unsigned char addr[16];
        char text[INET6_ADDRSTRLEN];
        const char *slash = strchr(cidr, '/');
        size_t alen = slash ? (size_t) (slash - cidr) : strlen(cidr);
        uint64_t len;

        if (alen == 0 || alen >= sizeof text)
                return -EINVAL;
        memcpy(text, cidr, alen);
        text[alen] = '\0';
        int family = strchr(text, ':') ? AF_INET6 : AF_INET;
        if (inet_pton(family, text, addr) != 1)
                return -EINVAL;
        unsigned max = family == AF_INET ? 32 : 128;
        if (slash && parse_u64_max(slash + 1, max, &len) < 0)
                return -EINVAL;
        return family;
}

int box_net_parse_list(const char *list, char ***ret, char *errbuf, size_t errlen) {
        _cleanup_(strv_freep) char **l = NULL;
        const char *p = list ? list : "";

        for (;;) {
                p += strspn(p, ", \t");
                if (!*p)
                        break;
                size_t n = strcspn(p, ", \t");
                char one[INET6_ADDRSTRLEN + 5];
                if (n >= sizeof one || (memcpy(one, p, n), one[n] = '\0', box_net_check_cidr(one) < 0)) {
                        snprintf(errbuf, errlen,
                                "'%.*s' is not an IPv4 or IPv6 address with an optional /PREFIX",
                                (int) MIN(n, (size_t) 64), p);
                        return -EINVAL;
                }
                if (strv_length(l) >= NET_MAX_CIDRS) {
                        snprintf(errbuf, errlen, "more than %d addresses", NET_MAX_CIDRS);
                        return -E2BIG;
                }
                if (strv_extend(&l, one) < 0)
                        return -ENOMEM;
                p += n;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* "ADDR/LEN" with the host bits cleared (nftables refuses them in an interval set). */
static int normalize_cidr(const char *cidr, char out[INET6_ADDRSTRLEN + 5], int *ret_family) {
        unsigned char addr[16] = {};
        char text[INET6_ADDRSTRLEN];
        int family = box_net_check_cidr(cidr);
        if (family < 0)
                return family;
        const char *slash = strchr(cidr, '/');
        size_t alen = slash ? (size_t) (slash - cidr) : strlen(cidr);
        memcpy(text, cidr, alen);
        text[alen] = '\0';
        (void) inet_pton(family, text, addr);
        unsigned max = family == AF_INET ? 32 : 128;
        uint64_t len = max;
        if (slash)
                (void) parse_u64_max(slash + 1, max, &len);
        for (unsigned bit = (unsigned) len; bit < max; bit++)
                addr[bit / 8] &= (unsigned char) ~(0x80u >> (bit % 8));
        if (!inet_ntop(family, addr, text, sizeof text))
                return -EINVAL;
        snprintf(out, INET6_ADDRSTRLEN + 5, "%s/%u", text, (unsigned) len);
        *ret_family = family;
        return 0;
}

typedef struct Buf {
        char *p;
        size_t size, len;
        bool overflow;
} Buf;

static void put(Buf *b, const char *s) {
        size_t n = strlen(s);
        if (b->overflow || b->len + n >= b->size) {
                b->overflow = true;
                return;
        }
        memcpy(b->p + b->len, s, n + 1);
        b->len += n;
}

/* One set of one family: "set NAME { ...; elements = { A, B } }". */
static int put_set(Buf *b, const char *name, int family, const char *const *lists[], size_t n_lists) {
        put(b, "  set ");
        put(b, name);
        put(b, family == AF_INET ? " { type ipv4_addr; flags interval; auto-merge;"
                                 : " { type ipv6_addr; flags interval; auto-merge;");
        bool first = true;
        for (size_t l = 0; l < n_lists; l++)
                for (const char *const *c = lists[l]; c && *c; c++) {
                        char norm[INET6_ADDRSTRLEN + 5];
                        int f;
                        if (normalize_cidr(*c, norm, &f) < 0)
                                return -EINVAL;
                        if (f != family)
                                continue;
                        put(b, first ? " elements = { " : ", ");
                        put(b, norm);
                        first = false;
                }
        put(b, first ? " }\n" : " }; }\n");
        return 0;
}

int net_ruleset(
        const char *const *allow, const char *const *deny, const char *const *host, char *buf, size_t size) {
        static const struct {
                const char *name;
                int family;
        } sets[] = {
                {"host4", AF_INET},
                {"host6", AF_INET6},
                {"deny4", AF_INET},
                {"deny6", AF_INET6},
                {"allow4", AF_INET},
                {"allow6", AF_INET6},
                {"builtin4", AF_INET},
                {"builtin6", AF_INET6},
        };
        const char *const *lists[] = {host, deny, allow, default_deny};
        Buf b = {.p = buf, .size = size};
        int r;

        if (size == 0)
                return -ENOBUFS;
        buf[0] = '\0';
        put(&b, "table inet coderunner {\n");
        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                r = put_set(&b, sets[i].name, sets[i].family, &lists[i / 2], 1);
                if (r < 0)
                        return r;
        }
        /* The first match decides: the box's own loopback; the host's addresses (never);
         * the operator's deny list; the operator's allow list; the built-in deny list; the
         * rest is the internet. */
        put(&b, "  chain output {\n"
                "    type filter hook output priority 0; policy accept;\n"
                "    oif lo accept\n");
        static const char *const verdicts[] = {"reject with icmpx type admin-prohibited",
                "reject with icmpx type admin-prohibited", "accept",
                "reject with icmpx type admin-prohibited"};
        for (size_t i = 0; i < ELEMENTSOF(sets); i++) {
                put(&b, sets[i].family == AF_INET ? "    ip daddr @" : "    ip6 daddr @");
                put(&b, sets[i].name);
                put(&b, " ");
                put(&b, verdicts[i / 2]);
                put(&b, "\n");
        }
        put(&b, "  }\n}\n");
        if (b.overflow)
                return -ENOBUFS;
        return (int) b.len;
}

int net_make_netns(void) {
        _cleanup_close_ int orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (orig < 0)
                return -errno;
        if (unshare(CLONE_NEWNET) < 0)
                return -errno;
        int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        int err = fd < 0 ? -errno : 0;
        if (setns(orig, CLONE_NEWNET) < 0) {
                /* We cannot get back: this thread must not go on in the wrong namespace. */
                abort();
        }
        return fd < 0 ? err : fd;
}

/* The addresses of our own namespace's interfaces ("ADDR" strings), loopback included. */
static int host_addresses(char ***ret) {
        struct ifaddrs *ifa = NULL;
        _cleanup_(strv_freep) char **l = NULL;

        if (getifaddrs(&ifa) < 0)
                return -errno;
        for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
                char text[INET6_ADDRSTRLEN];
                if (!i->ifa_addr)
                        continue;
                int family = i->ifa_addr->sa_family;
                const void *a = family == AF_INET
                                        ? (const void *) &((struct sockaddr_in *) i->ifa_addr)->sin_addr
                                : family == AF_INET6
                                        ? (const void *) &((struct sockaddr_in6 *) i->ifa_addr)->sin6_addr
                                        : NULL;
                if (!a || !inet_ntop(family, a, text, sizeof text))
                        continue;
                if (strv_length(l) < NET_MAX_CIDRS && strv_extend(&l, text) < 0) {
                        freeifaddrs(ifa);
                        return -ENOMEM;
                }
        }
        freeifaddrs(ifa);
        *ret = TAKE_PTR(l);
        return 0;
}

static int find_tool(const char *name, char out[256]) {
        for (const char *d = TOOL_PATH; *d;) {
                const char *e = strchrnul(d, ':');
                snprintf(out, 256, "%.*s/%s", (int) (e - d), d, name);
                if (access(out, X_OK) == 0)
                        return 0;
                d = *e ? e + 1 : e;
        }
        return -ENOENT;
}

/* fork + exec of a tool. The child dies with us, starts with default signals, stdin from
 * in_fd, stdout and stderr to out_fd, pass[i] as fd 3+i, nothing else open; in netns_fd
 * when >= 0. Returns a pidfd. */
static int spawn_tool(const char *path, char *const argv[], int netns_fd, int in_fd, int out_fd,
        const int *pass, size_t n_pass, pid_t *ret_pid) {
        static char *const envp[] = {(char *) "PATH=" TOOL_PATH, NULL};
        pid_t parent = getpid();
        int pidfd = -1;
        pid_t pid = (pid_t) syscall(SYS_clone, CLONE_PIDFD | SIGCHLD, 0, &pidfd, NULL, 0);
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                int fds[3 + 8];
                size_t n = 0;
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
                if (getppid() != parent)
                        _exit(127);
                /* Ignored signals stay ignored across exec (pasta refuses to start with
                 * SIGPIPE ignored, as the supervisor has it). */
                struct sigaction dfl = {.sa_handler = SIG_DFL};
                for (int sig = 1; sig < _NSIG; sig++)
                        (void) sigaction(sig, &dfl, NULL);
                sigset_t none;
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
                        _exit(127);
                /* Above every target first, so that no dup2 clobbers a source. */
                fds[n++] = in_fd;
                fds[n++] = out_fd;
                fds[n++] = out_fd;
                for (size_t i = 0; i < n_pass && n < ELEMENTSOF(fds); i++)
                        fds[n++] = pass[i];
                for (size_t i = 0; i < n; i++)
                        if ((fds[i] = fcntl(fds[i], F_DUPFD, 16)) < 0)
                                _exit(127);
                for (size_t i = 0; i < n; i++)
                        if (dup2(fds[i], (int) i) < 0)
                                _exit(127);
                (void) syscall(SYS_close_range, (unsigned) n, ~0U, 0);
                execve(path, argv, envp);
                _exit(127);
        }
        *ret_pid = pid;
        return pidfd;
}

/* Where a tool's stdout and stderr go: a memfd of a fixed size (its writes past the end
 * fail), so that pasta, which lives as long as the context, cannot grow it without bound
 * by logging. */
static int tool_output(const char *name) {
        _cleanup_close_ int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return -errno;
        if (ftruncate(fd, TOOL_OUTPUT_MAX) < 0 ||
                fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* "TOOL: " and the first line of its output that is not pasta's syslog noise, into
 * errbuf (left alone when there is none). */
static void tool_message(const char *tool, int fd, char *errbuf, size_t errlen) {
        char out[1024];
        ssize_t n = pread(fd, out, sizeof out - 1, 0);
        if (n <= 0)
                return;
        out[n] = '\0';
        for (char *line = out; *line;) {
                char *nl = strchrnul(line, '\n');
                bool last = !*nl;
                *nl = '\0';
                if (*line && strncmp(line, "Failed to send", 14) != 0) {
                        snprintf(errbuf, errlen, "%s: %s", tool, line);
                        return;
                }
                if (last)
                        break;
                line = nl + 1;
        }
}

static int load_ruleset(int netns_fd, const char *ruleset, char *errbuf, size_t errlen) {
        char nft[256];
        if (find_tool("nft", nft) < 0) {
                snprintf(errbuf, errlen, "enable_network needs nft (Debian package nftables)");
                return -ENOENT;
        }
        _cleanup_close_ int in = memfd_create("coderunner-nft", MFD_CLOEXEC);
        if (in < 0)
                return -errno;
        _cleanup_close_ int out = tool_output("coderunner-nft-out");
        if (out < 0)
                return out;
        int r = write_all(in, ruleset, strlen(ruleset));
        if (r < 0)
                return r;
        if (lseek(in, 0, SEEK_SET) < 0)
                return -errno;
        char *const argv[] = {(char *) "nft", (char *) "-f", (char *) "/dev/stdin", NULL};
        pid_t pid;
        _cleanup_close_ int pidfd = spawn_tool(nft, argv, netns_fd, in, out, NULL, 0, &pid);
        if (pidfd < 0)
                return pidfd;
        int status;
        if (RETRY_EINTR(waitpid(pid, &status, 0)) < 0)
                return -errno;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                snprintf(errbuf, errlen, "nft refused the ruleset");
                tool_message("nft", out, errbuf, errlen);
                return -EIO;
        }
        return 0;
}

static int start_pasta(NetBox *n, char *errbuf, size_t errlen) {
        char pasta[256];
        if (find_tool("pasta", pasta) < 0) {
                snprintf(errbuf, errlen, "enable_network needs pasta (Debian package passt)");
                return -ENOENT;
        }
        _cleanup_close_ int out = tool_output("coderunner-pasta-out");
        if (out < 0)
                return out;
        _cleanup_close_ int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        int ready[2];
        if (devnull < 0 || pipe2(ready, O_CLOEXEC) < 0)
                return -errno;
        /* pasta writes its pid to the "pid file" (our pipe, fd 4) once the namespace's
         * interface is configured: that is when it is ready. The namespace is fd 3. It
         * keeps root (--runas 0) because it must enter a namespace that the host's user
         * namespace owns; it drops every capability but the ones it needs, and confines
         * itself (own mount, pid, IPC and UTS namespaces, seccomp). */
        char *const argv[] = {
                (char *) "pasta",
                (char *) "--foreground",
                (char *) "--quiet",
                (char *) "--stderr",
                (char *) "--config-net",
                (char *) "--tcp-ports",
                (char *) "none", /* no inbound port */
                (char *) "--udp-ports",
                (char *) "none",
                (char *) "--tcp-ns",
                (char *) "none", /* none of the host's ports mapped into the box */
                (char *) "--udp-ns",
                (char *) "none",
                (char *) "--no-map-gw", /* the gateway's address is not the host's loopback */
                (char *) "--no-dhcp",
                (char *) "--no-dhcpv6",
                (char *) "--no-ra",
                (char *) "--runas",
                (char *) "0:0",
                (char *) "--pid",
                (char *) "/proc/self/fd/4",
                (char *) "--netns",
                (char *) "/proc/self/fd/3",
                NULL,
        };
        int pass[] = {n->netns_fd, ready[1]};
        n->pasta_pidfd = spawn_tool(pasta, argv, -1, devnull, out, pass, ELEMENTSOF(pass), &n->pasta_pid);
        ready[1] = safe_close(ready[1]);
        _cleanup_close_ int ready_r = ready[0];
        if (n->pasta_pidfd < 0)
                return n->pasta_pidfd;

        char pid[32];
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + NET_READY_TIMEOUT_USEC;
        for (;;) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline) {
                        snprintf(errbuf, errlen, "pasta did not get ready in time");
                        return -ETIMEDOUT;
                }
                struct pollfd p = {.fd = ready_r, .events = POLLIN};
                int k = poll(&p, 1, (int) ((deadline - now + 999) / 1000));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        continue;
                ssize_t got = read(ready_r, pid, sizeof pid);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got > 0)
                        return 0;
                /* EOF: pasta ended without getting ready. */
                snprintf(errbuf, errlen, "pasta failed");
                tool_message("pasta", out, errbuf, errlen);
                return -EIO;
        }
}

NetBox *netbox_free(NetBox *n) {
        if (!n)
                return NULL;
        if (n->pasta_pidfd >= 0) {
                /* Reaped if it is gone already (it died: the slot is making a new one), not
                 * waited for otherwise: its exit tears its tap device down, ~40 ms of RCU
                 * waits here, which a CLI run would pay at the end. A context lives as long
                 * as its process in every caller (a CLI run, a supervisor slot), which then
                 * exits and leaves the zombie to init. */
                (void) syscall(SYS_pidfd_send_signal, n->pasta_pidfd, SIGKILL, NULL, 0);
                siginfo_t si;
                (void) waitid((idtype_t) P_PIDFD, (id_t) n->pasta_pidfd, &si, WEXITED | WNOHANG);
                safe_close(n->pasta_pidfd);
        }
        safe_close(n->netns_fd);
        free(n);
        return NULL;
}

int netbox_new(
        const char *const *allow, const char *const *deny, NetBox **ret, char *errbuf, size_t errlen) {
        _cleanup_(strv_freep) char **host = NULL;
        _cleanup_free_ char *ruleset = NULL;
        NetBox *n;
        int r;

        errbuf[0] = '\0';
        r = host_addresses(&host);
        if (r < 0) {
                snprintf(errbuf, errlen, "cannot list the host's addresses: %s", strerror(-r));
                return r;
        }
        ruleset = malloc(NET_RULESET_MAX);
        if (!ruleset)
                return -ENOMEM;
        r = net_ruleset(allow, deny, (const char *const *) host, ruleset, NET_RULESET_MAX);
        if (r < 0) {
                snprintf(errbuf, errlen, "cannot make the network filter: %s", strerror(-r));
                return r;
        }
        n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->pasta_pidfd = -EBADF;
        n->netns_fd = net_make_netns();
        if (n->netns_fd < 0) {
                r = n->netns_fd;
                snprintf(errbuf, errlen, "cannot make a network namespace: %s", strerror(-r));
                goto fail;
        }
        /* The filter first: the namespace never has a way out without it. */
        r = load_ruleset(n->netns_fd, ruleset, errbuf, errlen);
        if (r < 0)
                goto fail;
        r = start_pasta(n, errbuf, errlen);
        if (r < 0)
                goto fail;
        *ret = n;
        return 0;
fail:
        netbox_free(n);
        return r;
}

bool netbox_alive(const NetBox *n) {
        struct pollfd p = {.fd = n->pasta_pidfd, .events = POLLIN};
        /* A pidfd becomes readable when the process has exited. */
        return poll(&p, 1, 0) == 0;
}

int netbox_fd(const NetBox *n) {
        return n->netns_fd;
}
