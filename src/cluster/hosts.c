/* SPDX-License-Identifier: MIT */
/* A cluster's hosts: network namespaces on a bridge of their own, their filters, their
 * removal, and the forwarder of the public entry. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/parse-util.h"
#include "base/time-util.h"
#include "cluster/hosts.h"

#define SUBNET_PREFIX "198.18.0."
#define OURS_LAST "99" /* the hosts' addresses end here; the operator's start at .100 */
#define KILL_WAIT_USEC (10 * USEC_PER_SEC)
#define RELAY_BUF (64 * 1024)

/* Who may reach whom: docs/DEPLOYMENT.md's firewall table for the roles a cluster runs (it
 * runs no edge, code-client or monitoring: the public side reaches the gateways). */
const ClusterFlow cluster_flows[] = {
        {"public", "gateway", 2358},
        {"gateway", "api", 2358},
        {"gateway", "mongo", 27017},
        {"gateway", "redis", 6379},
        {"api", "postgres", 5432},
        {"api", "redis", 6379},
        {"worker", "postgres", 5432},
        {"worker", "redis", 6379},
};
const size_t cluster_n_flows = ELEMENTSOF(cluster_flows);

/* Where each role's hosts are on the bridge: the first address, and how many there may be. */
static const struct {
        const char *role;
        unsigned first, count;
} address_plan[] = {
        {CLUSTER_ENTRY, 1, 1},
        {"redis", 2, 1},
        {"postgres", 3, 1},
        {"mongo", 4, 1},
        {"api", 11, 16},
        {"worker", 31, 16},
        {"gateway", 51, 16},
};

int cluster_host_port(const char *role) {
        for (size_t i = 0; i < cluster_n_flows; i++)
                if (strcmp(cluster_flows[i].to, role) == 0)
                        return cluster_flows[i].port;
        return 0;
}

int cluster_host_address(const char *role, unsigned index, char *buf, size_t size) {
        for (size_t i = 0; i < ELEMENTSOF(address_plan); i++) {
                if (strcmp(address_plan[i].role, role) != 0)
                        continue;
                if (index >= address_plan[i].count)
                        return -EINVAL;
                int n = snprintf(buf, size, SUBNET_PREFIX "%u", address_plan[i].first + index);
                return n > 0 && (size_t) n < size ? 0 : -ENAMETOOLONG;
        }
        return -EINVAL;
}

static bool id_ok(const char *id) {
        size_t n = strlen(id);
        return n > 0 && n < CLUSTER_NET_ID_MAX && strspn(id, "0123456789abcdef") == n;
}

int cluster_netns_name(const char *id, const char *name, bool path, char *buf, size_t size) {
        if (!id_ok(id) || !name[0] || strchr(name, '/'))
                return -EINVAL;
        int n = snprintf(
                buf, size, "%s" CLUSTER_NETNS_PREFIX "%s-%s", path ? CLUSTER_NETNS_DIR "/" : "", id, name);
        return n > 0 && (size_t) n < size ? 0 : -ENAMETOOLONG;
}

int cluster_bridge_name(const char *id, char *buf, size_t size) {
        if (!id_ok(id))
                return -EINVAL;
        int n = snprintf(buf, size, "crbr%s", id);
        return n > 0 && (size_t) n < size && n < 16 ? 0 : -ENAMETOOLONG; /* IFNAMSIZ */
}

/* Whether an entry of /run/netns belongs to net id. */
static bool ours(const char *entry, const char *id) {
        size_t pl = strlen(CLUSTER_NETNS_PREFIX), il = strlen(id);
        return strncmp(entry, CLUSTER_NETNS_PREFIX, pl) == 0 && strncmp(entry + pl, id, il) == 0 &&
               entry[pl + il] == '-';
}

bool cluster_net_exists(const char *id) {
        DIR *d = opendir(CLUSTER_NETNS_DIR);
        if (!d)
                return false;
        bool found = false;
        for (struct dirent *e; !found && (e = readdir(d));)
                found = ours(e->d_name, id);
        closedir(d);
        return found;
}

int cluster_net_new_id(char *buf, size_t size) {
        for (int tries = 0; tries < 16; tries++) {
                int q = cluster_random_hex(4, buf, size);
                if (q < 0)
                        return q;
                if (!cluster_net_exists(buf))
                        return 0;
        }
        return -EEXIST;
}

/* ---- the filters ---- */

/* The dotted addresses of s's hosts of role ("public": none, anyone), as an nft set
 * "{ a, b }" in f; false when there is no such host. */
static bool write_set(FILE *f, const ClusterState *s, const char *role) {
        bool any = false;
        for (size_t i = 0; i < s->n_roles; i++) {
                const ClusterRole *o = &s->roles[i];
                if (strcmp(o->role, role) != 0 || !o->address[0])
                        continue;
                fprintf(f, "%s%s", any ? ", " : "{ ", o->address);
                any = true;
        }
        if (any)
                fputs(" }", f);
        return any;
}

/* One accept rule per flow that ends (input) or starts (output) at role. */
static void write_flows(FILE *f, const ClusterState *s, const char *role, bool input) {
        for (size_t i = 0; i < cluster_n_flows; i++) {
                const ClusterFlow *fl = &cluster_flows[i];
                const char *here = input ? fl->to : fl->from, *there = input ? fl->from : fl->to;
                if (strcmp(here, role) != 0)
                        continue;
                fprintf(f, "\t\t# %s -> %s\n", fl->from, fl->to);
                if (strcmp(there, "public") == 0) { /* anyone */
                        fprintf(f, "\t\ttcp dport %d accept\n", fl->port);
                        continue;
                }
                /* The set goes into a buffer first: a flow to a role the cluster does not run
                 * (no MongoDB with --meta=sqlite) has no rule. */
                _cleanup_free_ char *set = NULL;
                size_t len = 0;
                FILE *m = open_memstream(&set, &len);
                if (!m)
                        continue;
                bool any = write_set(m, s, there);
                if (fclose(m) != 0 || !any)
                        continue;
                fprintf(f, "\t\tip %s %s tcp dport %d accept\n", input ? "saddr" : "daddr", set, fl->port);
        }
}

int cluster_net_rules(const ClusterState *s, const ClusterRole *r, char **ret) {
        if (!r->address[0])
                return -EINVAL;
        /* The entry is the public side's stand-in. */
        const char *role = strcmp(r->role, CLUSTER_ENTRY) == 0 ? "public" : r->role;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f,
                "# %s (%s), written by coderunner cluster up --hosts: the flows of docs/DEPLOYMENT.md's\n"
                "# firewall table that start or end here, nothing else.\n"
                "table inet coderunner\n"
                "delete table inet coderunner\n"
                "table inet coderunner {\n"
                "\tchain input {\n"
                "\t\ttype filter hook input priority filter; policy drop;\n"
                "\t\tiif \"lo\" accept\n"
                "\t\tct state established,related accept\n",
                r->name, r->address);
        write_flows(f, s, role, true);
        fputs("\t\tmeta l4proto tcp reject with tcp reset\n"
              "\t}\n"
              "\tchain output {\n"
              "\t\ttype filter hook output priority filter; policy drop;\n"
              "\t\toif \"lo\" accept\n"
              "\t\tct state established,related accept\n",
                f);
        write_flows(f, s, role, false);
        /* A refused connection fails at once (a dropped SYN of ours would be retried until
         * the connect times out). */
        fputs("\t\tmeta l4proto tcp reject with tcp reset\n"
              "\t}\n}\n",
                f);
        if (fclose(f) != 0 || !text) {
                free(text);
                return -ENOMEM;
        }
        *ret = text;
        return 0;
}

/* Each name of s's hosts as an nft set of strings, "{ "a", "b" }", in f. */
static void write_ports(FILE *f, const ClusterState *s) {
        for (size_t i = 0; i < s->n_roles; i++)
                fprintf(f, "%s\"%s\"", i ? ", " : "{ ", s->roles[i].name);
        fputs(" }", f);
}

int cluster_net_switch_rules(const ClusterState *s, char **ret) {
        if (s->n_roles == 0)
                return -EINVAL;
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return -ENOMEM;
        fputs("# the switch, written by coderunner cluster up --hosts: each host's port on the bridge\n"
              "# carries its own address only (a host that is root in its namespace can change its\n"
              "# address and its filter, not this), the operator's ports none of the hosts'.\n"
              "table bridge coderunner\n"
              "delete table bridge coderunner\n"
              "table bridge coderunner {\n"
              "\tchain forward {\n"
              "\t\ttype filter hook forward priority filter; policy accept;\n"
              "\t\tether type != { ip, arp } drop\n",
                f);
        for (size_t i = 0; i < s->n_roles; i++) {
                const ClusterRole *r = &s->roles[i];
                fprintf(f, "\t\tiifname \"%s\" ip saddr != %s drop\n", r->name, r->address);
                fprintf(f, "\t\tiifname \"%s\" arp saddr ip != %s drop\n", r->name, r->address);
        }
        fputs("\t\tiifname != ", f);
        write_ports(f, s);
        fputs(" ip saddr " SUBNET_PREFIX "0-" SUBNET_PREFIX OURS_LAST " drop\n\t\tiifname != ", f);
        write_ports(f, s);
        fputs(" arp saddr ip " SUBNET_PREFIX "0-" SUBNET_PREFIX OURS_LAST " drop\n\t}\n}\n", f);
        if (fclose(f) != 0 || !text) {
                free(text);
                return -ENOMEM;
        }
        *ret = text;
        return 0;
}

/* ---- making and removing ---- */

/* Run a command of the network's tools; -EIO when it fails (its words are in log). */
static int run(char *const *argv, const char *log) {
        int q = cluster_run(argv, log, CLUSTER_USER_SELF);
        return q < 0 ? q : q == 0 ? 0 : -EIO;
}

int cluster_net_make_switch(const ClusterNetTools *t, const char *id, const char *log) {
        char ns[CLUSTER_NETNS_MAX], br[16];
        int q = cluster_netns_name(id, CLUSTER_SWITCH, false, ns, sizeof ns);
        if (q == 0)
                q = cluster_bridge_name(id, br, sizeof br);
        if (q < 0)
                return q;
        char *add[] = {(char *) t->ip, "netns", "add", ns, NULL};
        char *bridge[] = {(char *) t->ip, "-n", ns, "link", "add", br, "type", "bridge", NULL};
        char *up[] = {(char *) t->ip, "-n", ns, "link", "set", br, "up", NULL};
        q = run(add, log);
        if (q == 0)
                q = run(bridge, log);
        return q < 0 ? q : run(up, log);
}

int cluster_net_make_host(
        const ClusterNetTools *t, const char *id, const char *name, const char *address, const char *log) {
        char sw[CLUSTER_NETNS_MAX], ns[CLUSTER_NETNS_MAX], br[16], cidr[CLUSTER_ADDRESS_MAX + 4];
        int q = cluster_netns_name(id, CLUSTER_SWITCH, false, sw, sizeof sw);
        if (q == 0)
                q = cluster_netns_name(id, name, false, ns, sizeof ns);
        if (q == 0)
                q = cluster_bridge_name(id, br, sizeof br);
        if (q < 0)
                return q;
        if (strlen(name) >= 16) /* the veth's end on the bridge is named after the host */
                return -ENAMETOOLONG;
        snprintf(cidr, sizeof cidr, "%s/24", address);
        char *ip = (char *) t->ip;
        char *add[] = {ip, "netns", "add", ns, NULL};
        char *veth[] = {ip, "-n", sw, "link", "add", (char *) name, "type", "veth", "peer", "name", "eth0",
                "netns", ns, NULL};
        char *attach[] = {ip, "-n", sw, "link", "set", (char *) name, "master", br, "up", NULL};
        char *addr[] = {ip, "-n", ns, "address", "add", cidr, "dev", "eth0", NULL};
        char *eth_up[] = {ip, "-n", ns, "link", "set", "eth0", "up", NULL};
        char *lo_up[] = {ip, "-n", ns, "link", "set", "lo", "up", NULL};
        char *const *steps[] = {add, veth, attach, addr, eth_up, lo_up};
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                q = run(steps[i], log);
                if (q < 0)
                        return q;
        }
        return 0;
}

int cluster_net_load_rules(
        const ClusterNetTools *t, const char *netns, const char *rules_path, const char *log) {
        _cleanup_close_ int fd = open(netns, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        char *argv[] = {(char *) t->nft, "-f", (char *) rules_path, NULL};
        int q = cluster_run_in(argv, log, CLUSTER_USER_SELF, fd);
        return q < 0 ? q : q == 0 ? 0 : -EIO;
}

typedef struct NsId {
        dev_t dev;
        ino_t ino;
} NsId;

/* SIGKILL every process whose network namespace is one of ns[0..n), and wait until they are
 * gone (a zombie counts as gone: it holds no namespace). */
static int kill_in(const NsId *ns, size_t n) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + KILL_WAIT_USEC;
        for (;;) {
                bool left = false;
                DIR *d = opendir("/proc");
                if (!d)
                        return -errno;
                for (struct dirent *e; (e = readdir(d));) {
                        uint64_t pid;
                        if (parse_u64_max(e->d_name, INT32_MAX, &pid) < 0 || (pid_t) pid == getpid())
                                continue;
                        char path[64];
                        struct stat st;
                        snprintf(path, sizeof path, "/proc/%d/ns/net", (int) pid);
                        if (stat(path, &st) < 0)
                                continue;
                        for (size_t i = 0; i < n; i++)
                                if (st.st_dev == ns[i].dev && st.st_ino == ns[i].ino) {
                                        (void) kill((pid_t) pid, SIGKILL);
                                        (void) waitpid((pid_t) pid, NULL, WNOHANG);
                                        left = true;
                                }
                }
                closedir(d);
                if (!left)
                        return 0;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return -ETIMEDOUT;
                nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000L}, NULL);
        }
}

int cluster_net_destroy(const char *id) {
        if (!id_ok(id))
                return -EINVAL;
        DIR *d = opendir(CLUSTER_NETNS_DIR);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        char paths[CLUSTER_MAX_ROLES + 2][CLUSTER_NETNS_MAX];
        NsId ns[CLUSTER_MAX_ROLES + 2];
        size_t n = 0, removed = 0;
        int ret = 0;
        for (struct dirent *e; (e = readdir(d));) {
                if (!ours(e->d_name, id))
                        continue;
                if (n == ELEMENTSOF(paths)) {
                        ret = -E2BIG;
                        break;
                }
                int k = snprintf(paths[n], sizeof paths[n], CLUSTER_NETNS_DIR "/%.*s",
                        (int) (sizeof paths[n] - sizeof CLUSTER_NETNS_DIR - 1), e->d_name);
                if (k <= 0 || (size_t) k >= sizeof paths[n])
                        continue; /* longer than any name of ours */
                struct stat st;
                /* A file not mounted on (a crash between ip's create and mount) is no
                 * namespace: no process can be in it. */
                ns[n] = (NsId){};
                if (stat(paths[n], &st) == 0)
                        ns[n] = (NsId){.dev = st.st_dev, .ino = st.st_ino};
                n++;
        }
        closedir(d);
        int q = kill_in(ns, n);
        if (q < 0 && ret == 0)
                ret = q;
        for (size_t i = 0; i < n; i++) {
                if (umount2(paths[i], MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT && ret == 0)
                        ret = -errno;
                if (unlink(paths[i]) < 0 && errno != ENOENT) {
                        if (ret == 0)
                                ret = -errno;
                } else
                        removed++;
        }
        return ret < 0 ? ret : (int) removed;
}

/* ---- the forwarder ---- */

static volatile sig_atomic_t forward_stop;

static void on_stop(int sig) {
        forward_stop = 1;
}

static void on_child(int sig) {
}

/* One direction of a relayed connection. */
typedef struct Half {
        int from, to;
        char buf[RELAY_BUF];
        size_t len, off;
        bool eof; /* from said all it will */
} Half;

/* Move bytes both ways between a and b until both sides are done; in the child. */
static int relay(int a, int b) {
        static Half h[2];
        h[0] = (Half){.from = a, .to = b};
        h[1] = (Half){.from = b, .to = a};
        if (fcntl(a, F_SETFL, O_NONBLOCK) < 0 || fcntl(b, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        for (;;) {
                struct pollfd p[4];
                size_t np = 0;
                for (int i = 0; i < 2; i++) {
                        if (!h[i].eof && h[i].len == 0)
                                p[np++] = (struct pollfd){.fd = h[i].from, .events = POLLIN};
                        if (h[i].len > h[i].off)
                                p[np++] = (struct pollfd){.fd = h[i].to, .events = POLLOUT};
                }
                if (np == 0)
                        return 0; /* both said all, all was passed on */
                if (poll(p, np, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                for (int i = 0; i < 2; i++) {
                        Half *x = &h[i];
                        if (!x->eof && x->len == 0) {
                                ssize_t k = read(x->from, x->buf, sizeof x->buf);
                                if (k > 0)
                                        x->len = (size_t) k, x->off = 0;
                                else if (k == 0) {
                                        x->eof = true;
                                        (void) shutdown(x->to, SHUT_WR);
                                } else if (errno != EAGAIN && errno != EINTR)
                                        return -errno;
                        }
                        if (x->len > x->off) {
                                ssize_t k = write(x->to, x->buf + x->off, x->len - x->off);
                                if (k > 0) {
                                        x->off += (size_t) k;
                                        if (x->off == x->len)
                                                x->len = x->off = 0;
                                } else if (k < 0 && errno != EAGAIN && errno != EINTR)
                                        return -errno;
                        }
                }
        }
}

/* The child of one connection: connect to the target, relay, exit. */
static _noreturn_ void serve_connection(int client, const struct sockaddr_in *to) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || connect(s, (const struct sockaddr *) to, sizeof *to) < 0)
                _exit(1);
        _exit(relay(client, s) < 0 ? 1 : 0);
}

int cluster_forward(int listen_fd, const char *to_address, int to_port, unsigned max_conns) {
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t) to_port)};
        if (inet_pton(AF_INET, to_address, &to.sin_addr) != 1 || to_port <= 0 || to_port > 65535 ||
                max_conns == 0)
                return -EINVAL;
        /* The stop signals and SIGCHLD arrive only while we wait in ppoll(). */
        sigset_t block, wait_mask;
        sigemptyset(&block);
        sigaddset(&block, SIGTERM);
        sigaddset(&block, SIGINT);
        sigaddset(&block, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &block, &wait_mask) < 0)
                return -errno;
        sigdelset(&wait_mask, SIGTERM);
        sigdelset(&wait_mask, SIGINT);
        sigdelset(&wait_mask, SIGCHLD);
        struct sigaction stop = {.sa_handler = on_stop}, child = {.sa_handler = on_child},
                         ign = {.sa_handler = SIG_IGN};
        if (sigaction(SIGTERM, &stop, NULL) < 0 || sigaction(SIGINT, &stop, NULL) < 0 ||
                sigaction(SIGCHLD, &child, NULL) < 0 || sigaction(SIGPIPE, &ign, NULL) < 0)
                return -errno;
        unsigned live = 0;
        int ret = 0;
        while (!forward_stop) {
                while (live > 0 && waitpid(-1, NULL, WNOHANG) > 0)
                        live--;
                struct pollfd p = {.fd = listen_fd, .events = POLLIN};
                /* At the limit, wait for a connection to end before taking another. */
                int k = ppoll(&p, live < max_conns ? 1 : 0, NULL, &wait_mask);
                if (k < 0 && errno != EINTR) {
                        ret = -errno;
                        break;
                }
                if (k <= 0 || live >= max_conns)
                        continue;
                int c = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        continue; /* the client went, or no fd now: the next one */
                pid_t pid = fork();
                if (pid == 0) {
                        sigprocmask(SIG_SETMASK, &wait_mask, NULL);
                        signal(SIGTERM, SIG_DFL);
                        signal(SIGINT, SIG_DFL);
                        close(listen_fd);
                        serve_connection(c, &to);
                }
                close(c);
                if (pid > 0)
                        live++;
        }
        /* Our connections end with us. */
        signal(SIGTERM, SIG_IGN);
        (void) kill(0, SIGTERM);
        while (live > 0 && RETRY_EINTR(waitpid(-1, NULL, 0)) > 0)
                live--;
        return ret;
}
