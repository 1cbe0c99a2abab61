/* SPDX-License-Identifier: MIT */
/* A cluster's hosts: the address plan, the names, the filters (exactly the flows, nothing
 * else), and the public entry's forwarder relaying both ways on loopback. The namespaces
 * themselves are made by tests/integration/test_cluster_hosts.py (root). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/time-util.h"
#include "cluster/hosts.h"
#include "loopback.h"
#include "tests.h"

static void test_addresses_and_names(void) {
        char a[CLUSTER_ADDRESS_MAX], n[CLUSTER_NETNS_MAX];
        static const struct {
                const char *role;
                unsigned index;
                const char *want;
        } ok[] = {
                {CLUSTER_ENTRY, 0, "198.18.0.1"},
                {"redis", 0, "198.18.0.2"},
                {"postgres", 0, "198.18.0.3"},
                {"mongo", 0, "198.18.0.4"},
                {"api", 0, "198.18.0.11"},
                {"api", 15, "198.18.0.26"},
                {"worker", 0, "198.18.0.31"},
                {"worker", 15, "198.18.0.46"},
                {"gateway", 0, "198.18.0.51"},
                {"gateway", 15, "198.18.0.66"},
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                ASSERT_EQ(cluster_host_address(ok[i].role, ok[i].index, a, sizeof a), 0);
                if (strcmp(a, ok[i].want) != 0) {
                        fprintf(stderr, "%s %u: %s, wanted %s\n", ok[i].role, ok[i].index, a, ok[i].want);
                        abort();
                }
        }
        /* One past each block, and roles without a host. */
        ASSERT_EQ(cluster_host_address("api", 16, a, sizeof a), -EINVAL);
        ASSERT_EQ(cluster_host_address("redis", 1, a, sizeof a), -EINVAL);
        ASSERT_EQ(cluster_host_address("public", 0, a, sizeof a), -EINVAL);
        ASSERT_EQ(cluster_host_address("api", 0, a, 4), -ENAMETOOLONG);

        ASSERT_EQ(cluster_host_port("gateway"), 2358);
        ASSERT_EQ(cluster_host_port("redis"), 6379);
        ASSERT_EQ(cluster_host_port("postgres"), 5432);
        ASSERT_EQ(cluster_host_port("mongo"), 27017);
        ASSERT_EQ(cluster_host_port("worker"), 0);

        ASSERT_EQ(cluster_netns_name("0123abcd", "api-1", true, n, sizeof n), 0);
        ASSERT_TRUE(strcmp(n, "/run/netns/coderunner-0123abcd-api-1") == 0);
        ASSERT_EQ(cluster_netns_name("0123abcd", "switch", false, n, sizeof n), 0);
        ASSERT_TRUE(strcmp(n, "coderunner-0123abcd-switch") == 0);
        ASSERT_EQ(cluster_netns_name("../x", "api-1", true, n, sizeof n), -EINVAL);
        ASSERT_EQ(cluster_netns_name("0123abcd", "../api", true, n, sizeof n), -EINVAL);
        ASSERT_EQ(cluster_netns_name("", "api", true, n, sizeof n), -EINVAL);
        ASSERT_EQ(cluster_bridge_name("0123abcd", n, sizeof n), 0);
        ASSERT_TRUE(strcmp(n, "crbr0123abcd") == 0 && strlen(n) < 16);
        ASSERT_EQ(cluster_bridge_name("0123abcd0123", n, sizeof n), -ENAMETOOLONG); /* IFNAMSIZ */

        char id[CLUSTER_NET_ID_MAX];
        ASSERT_EQ(cluster_net_new_id(id, sizeof id), 0);
        ASSERT_TRUE(strlen(id) == 8 && strspn(id, "0123456789abcdef") == 8);
        ASSERT_TRUE(!cluster_net_exists(id));
        ASSERT_EQ(cluster_net_destroy(id), 0); /* nothing to remove is fine */
        ASSERT_EQ(cluster_net_destroy("../../x"), -EINVAL);
}

static void add(ClusterState *s, const char *name, const char *role, const char *address) {
        ClusterRole *r = &s->roles[s->n_roles++];
        *r = (ClusterRole){};
        snprintf(r->name, sizeof r->name, "%s", name);
        snprintf(r->role, sizeof r->role, "%s", role);
        snprintf(r->address, sizeof r->address, "%s", address);
}

/* The accept rules of host name's filter (the lines with "accept" other than loopback and
 * replies), in order, one per line. */
static char *accepts(const ClusterState *s, const char *name) {
        const ClusterRole *r = NULL;
        for (size_t i = 0; i < s->n_roles; i++)
                if (strcmp(s->roles[i].name, name) == 0)
                        r = &s->roles[i];
        ASSERT_TRUE(r != NULL);
        char *text = NULL;
        ASSERT_EQ(cluster_net_rules(s, r, &text), 0);
        /* Default drop both ways, and a reset for refused TCP. */
        ASSERT_TRUE(strstr(text, "hook input priority filter; policy drop;"));
        ASSERT_TRUE(strstr(text, "hook output priority filter; policy drop;"));
        const char *reset = strstr(text, "meta l4proto tcp reject with tcp reset");
        ASSERT_TRUE(reset && strstr(reset + 1, "meta l4proto tcp reject with tcp reset")); /* in and out */
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        ASSERT_TRUE(f != NULL);
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
                line = strtok_r(NULL, "\n", &save)) {
                line += strspn(line, "\t");
                if (strstr(line, " accept") && line[0] != '#' && !strstr(line, "\"lo\"") &&
                        !strstr(line, "established"))
                        fprintf(f, "%s\n", line);
        }
        ASSERT_EQ(fclose(f), 0);
        free(text);
        return out;
}

static void expect(const ClusterState *s, const char *name, const char *want) {
        char *got = accepts(s, name);
        if (strcmp(got, want) != 0) {
                fprintf(stderr, "%s's rules:\n%s\nwanted:\n%s", name, got, want);
                abort();
        }
        free(got);
}

static void test_rules(void) {
        ClusterState s = {};
        add(&s, "entry", "entry", "198.18.0.1");
        add(&s, "redis", "redis", "198.18.0.2");
        add(&s, "postgres", "postgres", "198.18.0.3");
        add(&s, "mongo", "mongo", "198.18.0.4");
        add(&s, "api-1", "api", "198.18.0.11");
        add(&s, "api-2", "api", "198.18.0.12");
        add(&s, "worker-1", "worker", "198.18.0.31");
        add(&s, "gateway-1", "gateway", "198.18.0.51");
        add(&s, "gateway-2", "gateway", "198.18.0.52");
        expect(&s, "entry", "ip daddr { 198.18.0.51, 198.18.0.52 } tcp dport 2358 accept\n");
        expect(&s, "gateway-1",
                "tcp dport 2358 accept\n"
                "ip daddr { 198.18.0.11, 198.18.0.12 } tcp dport 2358 accept\n"
                "ip daddr { 198.18.0.4 } tcp dport 27017 accept\n"
                "ip daddr { 198.18.0.2 } tcp dport 6379 accept\n");
        expect(&s, "api-2",
                "ip saddr { 198.18.0.51, 198.18.0.52 } tcp dport 2358 accept\n"
                "ip daddr { 198.18.0.3 } tcp dport 5432 accept\n"
                "ip daddr { 198.18.0.2 } tcp dport 6379 accept\n");
        expect(&s, "worker-1",
                "ip daddr { 198.18.0.3 } tcp dport 5432 accept\n"
                "ip daddr { 198.18.0.2 } tcp dport 6379 accept\n");
        expect(&s, "redis",
                "ip saddr { 198.18.0.51, 198.18.0.52 } tcp dport 6379 accept\n"
                "ip saddr { 198.18.0.11, 198.18.0.12 } tcp dport 6379 accept\n"
                "ip saddr { 198.18.0.31 } tcp dport 6379 accept\n");
        expect(&s, "postgres",
                "ip saddr { 198.18.0.11, 198.18.0.12 } tcp dport 5432 accept\n"
                "ip saddr { 198.18.0.31 } tcp dport 5432 accept\n");
        expect(&s, "mongo", "ip saddr { 198.18.0.51, 198.18.0.52 } tcp dport 27017 accept\n");

        /* Without MongoDB (--meta=sqlite) the gateways reach no one on 27017; without workers,
         * Redis and PostgreSQL take no one but the gateways and API nodes. */
        ClusterState t = {};
        add(&t, "redis", "redis", "198.18.0.2");
        add(&t, "api-1", "api", "198.18.0.11");
        add(&t, "gateway-1", "gateway", "198.18.0.51");
        expect(&t, "gateway-1",
                "tcp dport 2358 accept\n"
                "ip daddr { 198.18.0.11 } tcp dport 2358 accept\n"
                "ip daddr { 198.18.0.2 } tcp dport 6379 accept\n");
        expect(&t, "redis",
                "ip saddr { 198.18.0.51 } tcp dport 6379 accept\n"
                "ip saddr { 198.18.0.11 } tcp dport 6379 accept\n");
        /* The switch: each port its own address, the others none of the hosts'. */
        char *text = NULL;
        ASSERT_EQ(cluster_net_switch_rules(&t, &text), 0);
        static const char *const want[] = {
                "table bridge coderunner {\n\tchain forward {\n"
                "\t\ttype filter hook forward priority filter; policy accept;\n"
                "\t\tether type != { ip, arp } drop\n"
                "\t\tiifname \"redis\" ip saddr != 198.18.0.2 drop\n"
                "\t\tiifname \"redis\" arp saddr ip != 198.18.0.2 drop\n"
                "\t\tiifname \"api-1\" ip saddr != 198.18.0.11 drop\n"
                "\t\tiifname \"api-1\" arp saddr ip != 198.18.0.11 drop\n"
                "\t\tiifname \"gateway-1\" ip saddr != 198.18.0.51 drop\n"
                "\t\tiifname \"gateway-1\" arp saddr ip != 198.18.0.51 drop\n"
                "\t\tiifname != { \"redis\", \"api-1\", \"gateway-1\" } ip saddr 198.18.0.0-198.18.0.99 "
                "drop\n"
                "\t\tiifname != { \"redis\", \"api-1\", \"gateway-1\" } arp saddr ip 198.18.0.0-198.18.0.99 "
                "drop\n\t}\n}\n",
        };
        const char *table = strstr(text, "table bridge coderunner {");
        if (!table || strcmp(table, want[0]) != 0) {
                fprintf(stderr, "the switch's rules:\n%s\nwanted:\n%s", text, want[0]);
                abort();
        }
        free(text);
        ClusterState empty = {};
        ASSERT_EQ(cluster_net_switch_rules(&empty, &text), -EINVAL);

        ClusterRole none = {.name = "x", .role = "api"};
        ASSERT_EQ(cluster_net_rules(&t, &none, &text), -EINVAL); /* no address, no filter */
}

/* An echo server for n connections, one after the other: sends back what comes, then
 * closes once the client closed its side. */
static pid_t echo_server(int lfd, int n) {
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL); /* a failed test leaves nothing behind */
                for (int i = 0; i < n; i++) {
                        int c = accept(lfd, NULL, NULL);
                        char buf[4096];
                        ssize_t k = -1;
                        while (c >= 0 && (k = read(c, buf, sizeof buf)) > 0)
                                if (write_all(c, buf, (size_t) k) < 0)
                                        _exit(1);
                        if (c < 0 || k != 0)
                                _exit(1);
                        close(c);
                }
                _exit(0);
        }
        return pid;
}

static int connect_port(int port) {
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {.sin_family = AF_INET,
                .sin_port = htons((uint16_t) port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        ASSERT_TRUE(c >= 0);
        ASSERT_EQ(connect(c, (struct sockaddr *) &a, sizeof a), 0);
        return c;
}

static pid_t start_forward(int entry, int target_port, unsigned max_conns) {
        pid_t fwd = fork();
        ASSERT_TRUE(fwd >= 0);
        if (fwd == 0) {
                setpgid(0, 0); /* its connections' children are its group: it stops them */
                prctl(PR_SET_PDEATHSIG, SIGTERM); /* a failed test leaves nothing behind */
                _exit(cluster_forward(entry, "127.0.0.1", target_port, max_conns) == 0 ? 0 : 1);
        }
        return fwd;
}

static void stop_forward(pid_t fwd) {
        int status;
        ASSERT_EQ(kill(fwd, SIGTERM), 0);
        ASSERT_EQ(waitpid(fwd, &status, 0), fwd);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void test_forward(void) {
        int target_port, entry_port;
        int target = listen_loopback(&target_port), entry = listen_loopback(&entry_port);
        pid_t echo = echo_server(target, 1);
        pid_t fwd = start_forward(entry, target_port, 4);
        /* A message and a half-close go through; the echo's answer and its close come back. */
        int c = connect_port(entry_port);
        static char big[300 * 1024]; /* more than a relay buffer holds */
        for (size_t i = 0; i < sizeof big; i++)
                big[i] = (char) ('a' + i % 26);
        /* The echo writes back while we write: read it on another process. */
        pid_t reader = fork();
        ASSERT_TRUE(reader >= 0);
        if (reader == 0) {
                static char back[sizeof big + 1];
                size_t got = 0;
                ssize_t k;
                while ((k = read(c, back + got, sizeof back - got)) > 0)
                        got += (size_t) k;
                _exit(got == sizeof big && memcmp(back, big, sizeof big) == 0 ? 0 : 1);
        }
        ASSERT_EQ(write_all(c, big, sizeof big), 0);
        ASSERT_EQ(shutdown(c, SHUT_WR), 0);
        int status;
        ASSERT_EQ(waitpid(reader, &status, 0), reader);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ASSERT_EQ(waitpid(echo, &status, 0), echo);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(c);

        /* SIGTERM: it stops, with status 0. */
        stop_forward(fwd);
        ASSERT_EQ(cluster_forward(entry, "not-an-address", target_port, 4), -EINVAL);
        ASSERT_EQ(cluster_forward(entry, "127.0.0.1", 0, 4), -EINVAL);
        close(entry);
        close(target);
}

/* Whether pid waits in ppoll() on no fd at all: the forwarder at its limit, waiting for a
 * connection to end (/proc/PID/syscall: the number, then the arguments; nfds second). */
static bool waits_for_a_child(pid_t pid) {
        char path[64], buf[256] = "";
        snprintf(path, sizeof path, "/proc/%d/syscall", (int) pid);
        FILE *f = fopen(path, "re");
        ASSERT_TRUE(f != NULL);
        bool got = fgets(buf, sizeof buf, f) != NULL;
        fclose(f);
        char want[32];
        snprintf(want, sizeof want, "%ld 0x", (long) SYS_ppoll);
        return got && strncmp(buf, want, strlen(want)) == 0 && strncmp(strchr(buf, ' '), " 0x", 3) == 0 &&
               strncmp(strchr(strchr(buf, ' ') + 1, ' '), " 0x0 ", 5) == 0;
}

/* At max_conns relayed connections it takes no other until one ends. */
static void test_forward_limit(void) {
        int target_port, entry_port;
        int target = listen_loopback(&target_port), entry = listen_loopback(&entry_port);
        pid_t echo = echo_server(target, 2);
        pid_t fwd = start_forward(entry, target_port, 1);
        int a = connect_port(entry_port);
        char buf[8] = "";
        ASSERT_EQ(write_all(a, "a", 1), 0);
        ASSERT_EQ(read(a, buf, sizeof buf), 1); /* a is relayed: the one connection allowed */
        int b = connect_port(entry_port);
        ASSERT_EQ(write_all(b, "b", 1), 0);
        /* The forwarder waits on no fd: b stays in the queue (it would take it at once, on
         * the listening fd, without the limit). */
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        while (!waits_for_a_child(fwd)) {
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
                nanosleep(&(struct timespec){.tv_nsec = 5 * 1000 * 1000}, NULL);
        }
        /* a ends: b is taken and relayed. */
        ASSERT_EQ(shutdown(a, SHUT_WR), 0);
        ASSERT_EQ(read(a, buf, sizeof buf), 0);
        close(a);
        ASSERT_EQ(read(b, buf, sizeof buf), 1);
        ASSERT_EQ(buf[0], 'b');
        ASSERT_EQ(shutdown(b, SHUT_WR), 0);
        ASSERT_EQ(read(b, buf, sizeof buf), 0);
        close(b);
        int status;
        ASSERT_EQ(waitpid(echo, &status, 0), echo);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        stop_forward(fwd);
        close(entry);
        close(target);
}

int main(void) {
        test_addresses_and_names();
        test_rules();
        test_forward();
        test_forward_limit();
        return 0;
}
