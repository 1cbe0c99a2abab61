/* SPDX-License-Identifier: MIT */
/* coderunner cluster: the whole topology on one machine as local processes (Redis,
 * PostgreSQL, FerretDB when installed, API nodes, workers, gateways), each with its log
 * under DIR, its configuration file in DIR/config, and its state in DIR/cluster.state
 * (src/cluster/); with --hosts each on a network namespace of its own, filtered to the
 * firewall table's flows (src/cluster/hosts.h). */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <glob.h>
#include <limits.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/json-writer.h"
#include "base/log.h"
#include "base/parse-util.h"
#include "base/time-util.h"
#include "cluster/cluster.h"
#include "cluster/hosts.h"
#include "programs/programs.h"

static const char cluster_help[] =
        "Usage: coderunner cluster up --dir=DIR [--api=N] [--workers=M] [--gateways=G] [--port=P]\n"
        "                             [--slots=S] [--meta=auto|mongo|sqlite] [--user=NAME]\n"
        "                             [--hosts] [--foreground]\n"
        "       coderunner cluster status --dir=DIR [--json]\n"
        "       coderunner cluster down --dir=DIR [--purge]\n"
        "       coderunner cluster forward --port=P --netns=PATH --to=ADDRESS:PORT [--user=NAME]\n"
        "\n"
        "The whole topology on this machine, each role a process of its own with its log in\n"
        "DIR/logs and its configuration file in DIR/config (mode 0600: the generated secrets are\n"
        "there, never on a command line): a Redis server (append-only file in DIR/redis), a\n"
        "PostgreSQL server (DIR/postgres, run as --user when root: PostgreSQL refuses root), a\n"
        "FerretDB server for the gateways' metadata (DIR/mongo) when one is installed, N API nodes,\n"
        "M workers, and G gateways in front of the API nodes, which refuse whatever does not come\n"
        "through a gateway.\n"
        "\n"
        "up      start it and return once every role is healthy; print the public URL,\n"
        "        http://127.0.0.1:P (gateway-1; the API nodes listen on P+1.., the other gateways\n"
        "        after them, or on free ports). A key for it:\n"
        "        coderunner gateway keys create --config=DIR/config/gateway-1.conf --name=NAME\n"
        "        Refuses a DIR whose cluster runs; after down it reuses DIR's data and secrets.\n"
        "  --api=N          API nodes (default 2)\n"
        "  --workers=M      workers (default 2)\n"
        "  --gateways=G     gateways (default 1)\n"
        "  --port=P         the public port (default 2358)\n"
        "  --slots=S        sandbox slots of each worker (default 2)\n"
        "  --meta=WHERE     the gateways' metadata store: mongo (FerretDB: $CODERUNNER_FERRETDB,\n"
        "                   the one tools/build-ferretdb caches, or ferretdb on PATH), sqlite\n"
        "                   (DIR/gateway/meta.db), or auto (default: mongo when FerretDB is found)\n"
        "  --user=NAME      as root: the unprivileged user of PostgreSQL, the API nodes, the\n"
        "                   workers' network side and the gateways (default nobody); without\n"
        "                   root they run as you\n"
        "  --hosts          (root) each role on a host of its own: a network namespace on a\n"
        "                   bridge of the cluster's, an address in " CLUSTER_SUBNET " and an nftables\n"
        "                   filter that lets through exactly the flows of docs/DEPLOYMENT.md's\n"
        "                   table; gateway-1 is published on 127.0.0.1:P by a forwarder (role\n"
        "                   entry). Nothing is added to this machine's own network\n"
        "  --foreground     stay, and bring the cluster down on Ctrl+C or SIGTERM\n"
        "status  each role's state (running, stopped by down, exited by itself)\n"
        "  --json           {\"public_url\": ..., \"meta\": ..., [\"network\": {\"id\", \"switch\",\n"
        "                   \"bridge\", \"subnet\"},] \"roles\": [{\"name\", \"role\", \"pid\", \"url\",\n"
        "                   \"config\", [\"netns\", \"address\",] \"state\"}]} (netns: a path for\n"
        "                   nsenter --net=)\n"
        "down    SIGTERM to the gateways, the workers and the API nodes (they drain), then\n"
        "        FerretDB, PostgreSQL (fast shutdown) and Redis; the data stays. With --hosts,\n"
        "        then the namespaces, the bridge and the links (also after a crash of up)\n"
        "  --purge          and remove DIR's data, configuration (keys' store and secrets\n"
        "                   included), logs and state\n"
        "forward (internal, started by up --hosts) the public entry: listen on 127.0.0.1:P, enter\n"
        "        the namespace --netns, become --user and relay each connection to --to=ADDR:PORT\n"
        "\n"
        "Exit status: 0 done, 1 usage error, 2 failure (one line on stderr says why).\n";

#define DEFAULT_PORT 2358
#define DEFAULT_SLOTS 2
#define MAX_NODES 16
#define REDIS_START_USEC (30 * USEC_PER_SEC)
#define POSTGRES_START_USEC (60 * USEC_PER_SEC)
#define ROLE_START_USEC (60 * USEC_PER_SEC)
#define DRAIN_USEC (30 * USEC_PER_SEC)
#define SERVER_STOP_USEC (60 * USEC_PER_SEC)
#define POLL_NSEC (50 * 1000 * 1000L)
#define PG_USER "coderunner"
#define PG_DATABASE "coderunner"
#define META_DATABASE "coderunner"
#define FERRETDB_VERSION "v1.24.2" /* the one tools/build-ferretdb builds */
#define INTERNAL_HEADER "X-Coderunner-Internal"
#define ADMIN_HEADER "X-Coderunner-Admin"
#define SECRET_BYTES 32
#define MAX_CONF_PAIRS 16 /* lines of a role's configuration file */
#define FORWARD_MAX_CONNS 512 /* connections the public entry relays at once */

typedef enum MetaMode {
        META_AUTO,
        META_MONGO,
        META_SQLITE,
} MetaMode;

typedef struct Options {
        const char *dir;
        unsigned n_api, n_workers, n_gateways, slots;
        int port;
        MetaMode meta;
        const char *user;
        const char *netns, *to; /* forward's */
        bool hosts, foreground, json, purge;
} Options;

/* What up needs, found before anything starts. */
typedef struct Context {
        char dir[PATH_MAX];
        int dir_fd;
        char self[PATH_MAX]; /* this coderunner */
        char redis_server[PATH_MAX];
        char pg_bin[PATH_MAX]; /* the directory of initdb, postgres, pg_isready, createdb */
        char ferretdb[PATH_MAX]; /* "" when the gateways keep their metadata in SQLite */
        ClusterUser pg_user; /* PostgreSQL's and the gateways' (CLUSTER_USER_SELF unless root) */
        const char *role_user; /* --user of the API nodes, workers and gateways, or NULL */
        int public_port;
        int config_fd; /* DIR/config */
        char internal_secret[2 * SECRET_BYTES + 1]; /* the API nodes' credential */
        char session_secret[2 * SECRET_BYTES + 1]; /* the gateways' cookie key */
        char internal_line[2 * SECRET_BYTES + 64]; /* "X-Coderunner-Internal: SECRET" */
        bool hosts; /* --hosts */
        ClusterNetTools tools; /* ip and nft, with --hosts */
        ClusterState plan; /* with --hosts: every host, its role and address, before any starts */
        ClusterState state;
} Context;

static int fail(int error, const char *fmt, ...) _printf_(2, 3);
static int fail(int error, const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (error)
                fprintf(stderr, "coderunner cluster: %s: %s\n", buf, strerror(abs(error)));
        else
                fprintf(stderr, "coderunner cluster: %s\n", buf);
        return 2;
}

/* up blocks SIGINT, SIGTERM and SIGHUP (its roles get them unblocked), and takes them
 * here: while it waits for the roles, and in the foreground once they are up. */
static sigset_t stop_signals;
static bool interrupted;

static void block_stop_signals(void) {
        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGINT);
        sigaddset(&stop_signals, SIGTERM);
        sigaddset(&stop_signals, SIGHUP);
        sigprocmask(SIG_BLOCK, &stop_signals, NULL);
}

/* Wait a moment between two looks at a starting role; false once a stop signal came. */
static bool pause_poll(void) {
        struct timespec ts = {.tv_nsec = POLL_NSEC};
        if (sigtimedwait(&stop_signals, NULL, &ts) > 0)
                interrupted = true;
        return !interrupted;
}

/* buf = a/b. Paths are short: DIR's length is checked when it is opened, the rest are
 * our own names. */
static void join(char *buf, size_t size, const char *a, const char *b) {
        int n = snprintf(buf, size, "%s/%s", a, b);
        if (n <= 0 || (size_t) n >= size)
                abort(); /* cannot happen: see above */
}

/* buf = DIR/sub/name.log, or DIR/sub when name is NULL. */
static void path_in(const Context *c, char *buf, size_t size, const char *sub, const char *log_of) {
        int n = log_of ? snprintf(buf, size, "%s/%s/%s.log", c->dir, sub, log_of)
                       : snprintf(buf, size, "%s/%s", c->dir, sub);
        if (n <= 0 || (size_t) n >= size)
                abort(); /* cannot happen: see above */
}

/* ---- finding programs ---- */

static bool find_in_path(const char *name, char *ret, size_t size) {
        const char *path = getenv("PATH");
        for (const char *p = path ? path : "/usr/local/bin:/usr/bin:/bin"; *p;) {
                size_t n = strcspn(p, ":");
                if (n > 0) {
                        int k = snprintf(ret, size, "%.*s/%s", (int) n, p, name);
                        if (k > 0 && (size_t) k < size && access(ret, X_OK) == 0)
                                return true;
                }
                p += n + (p[n] == ':');
        }
        return false;
}

/* ip and nft: on PATH, else in /usr/sbin or /sbin (a user's PATH may lack them). */
static bool find_tool(const char *name, char *ret, size_t size) {
        if (find_in_path(name, ret, size))
                return true;
        static const char *const dirs[] = {"/usr/sbin", "/sbin"};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                int n = snprintf(ret, size, "%s/%s", dirs[i], name);
                if (n > 0 && (size_t) n < size && access(ret, X_OK) == 0)
                        return true;
        }
        return false;
}

static bool pg_dir_has_all(const char *dir) {
        static const char *const progs[] = {"initdb", "postgres", "pg_isready", "createdb"};
        for (size_t i = 0; i < ELEMENTSOF(progs); i++) {
                char p[PATH_MAX];
                join(p, sizeof p, dir, progs[i]);
                if (access(p, X_OK) != 0)
                        return false;
        }
        return true;
}

/* PostgreSQL's server programs: beside initdb on PATH, else Debian's newest
 * /usr/lib/postgresql/VERSION/bin. */
static bool find_pg_bin(char *ret, size_t size) {
        char initdb[PATH_MAX];
        if (find_in_path("initdb", initdb, sizeof initdb)) {
                *strrchr(initdb, '/') = '\0';
                if (pg_dir_has_all(initdb)) {
                        snprintf(ret, size, "%s", initdb);
                        return true;
                }
        }
        glob_t g;
        if (glob("/usr/lib/postgresql/*/bin", 0, NULL, &g) != 0)
                return false;
        bool found = false;
        uint64_t best = 0;
        for (size_t i = 0; i < g.gl_pathc; i++) {
                const char *v = g.gl_pathv[i] + strlen("/usr/lib/postgresql/");
                char num[16];
                snprintf(num, sizeof num, "%.*s", (int) strcspn(v, "/."), v);
                uint64_t n;
                if (parse_u64(num, &n) == 0 && n >= best && pg_dir_has_all(g.gl_pathv[i])) {
                        best = n;
                        snprintf(ret, size, "%s", g.gl_pathv[i]);
                        found = true;
                }
        }
        globfree(&g);
        return found;
}

/* FerretDB: $CODERUNNER_FERRETDB, else the binary tools/build-ferretdb caches, else
 * ferretdb on PATH. */
static bool find_ferretdb(char *ret, size_t size) {
        const char *env = getenv("CODERUNNER_FERRETDB");
        if (env && *env) {
                snprintf(ret, size, "%s", env);
                return access(ret, X_OK) == 0;
        }
        const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        int n = -1;
        if (cache && *cache)
                n = snprintf(ret, size, "%s/coderunner/ferretdb-" FERRETDB_VERSION "/ferretdb", cache);
        else if (home && *home)
                n = snprintf(ret, size, "%s/.cache/coderunner/ferretdb-" FERRETDB_VERSION "/ferretdb", home);
        if (n > 0 && (size_t) n < size && access(ret, X_OK) == 0)
                return true;
        return find_in_path("ferretdb", ret, size);
}

/* ---- the state, the configuration files, the secrets ---- */

static const ClusterRole *find_name(const ClusterState *s, const char *name) {
        for (size_t i = 0; i < s->n_roles; i++)
                if (strcmp(s->roles[i].name, name) == 0)
                        return &s->roles[i];
        return NULL;
}

/* A role, on its planned host with --hosts (its namespace and address). */
static ClusterRole *add_role(Context *c, const char *name, const char *role, int port, const char *url) {
        ClusterRole *r = &c->state.roles[c->state.n_roles++];
        *r = (ClusterRole){.port = port};
        snprintf(r->name, sizeof r->name, "%s", name);
        snprintf(r->role, sizeof r->role, "%s", role);
        snprintf(r->url, sizeof r->url, "%s", url ? url : "");
        const ClusterRole *host = c->hosts ? find_name(&c->plan, name) : NULL;
        if (host) {
                memcpy(r->netns, host->netns, sizeof r->netns);
                memcpy(r->address, host->address, sizeof r->address);
        }
        return r;
}

/* Where role (the index-th of its kind) listens, for its URL and configuration: with --hosts
 * its host's address and the role's usual port; else 127.0.0.1 and, for offset >= 0, the
 * port P+offset when free (pick_port), or any free port. */
static int place(Context *c, const char *role, unsigned index, int offset, const char *what, char *host,
        size_t size, int *ret_port);

/* Where up reaches r: 127.0.0.1:port, or r's address from inside r's host (*fd: the
 * namespace, the caller's to close; -1 without one). */
static ClusterTarget reach(const ClusterRole *r, int *fd) {
        *fd = r->netns[0] ? open(r->netns, O_RDONLY | O_CLOEXEC) : -1;
        return (ClusterTarget){
                .port = r->port, .address = r->address[0] ? r->address : NULL, .netns_fd = *fd};
}

/* A loopback port nobody listens on now, other than the public one (which the gateway
 * takes last). */
static int free_port(const Context *c, const char *what, int *ret) {
        for (int tries = 0; tries < 100; tries++) {
                int q = cluster_free_port(ret);
                if (q < 0)
                        return fail(q, "no free port for %s", what);
                if (*ret != c->public_port)
                        return 0;
        }
        return fail(0, "no free port for %s", what);
}

/* The port of the role at offset from the public one (P+offset when free, else any free). */
static int pick_port(const Context *c, unsigned offset, const char *what, int *ret) {
        int want = c->public_port + (int) offset;
        if (want <= 65535 && cluster_port_free(want)) {
                *ret = want;
                return 0;
        }
        if (offset == 0)
                return fail(0, "the public port %d is in use", c->public_port);
        return free_port(c, what, ret);
}

static int place(Context *c, const char *role, unsigned index, int offset, const char *what, char *host,
        size_t size, int *ret_port) {
        if (c->hosts) {
                int q = cluster_host_address(role, index, host, size);
                if (q < 0)
                        return fail(q, "no address for %s", what);
                *ret_port = cluster_host_port(role);
                return 0;
        }
        snprintf(host, size, "127.0.0.1");
        return offset >= 0 ? pick_port(c, (unsigned) offset, what, ret_port) : free_port(c, what, ret_port);
}

/* Write r's configuration file, DIR/config/NAME.conf (0600: it may hold secrets), from
 * text ("key = value" lines, as conf.c reads them), and name it in r. */
static int write_config(Context *c, ClusterRole *r, const char *text) {
        char name[CLUSTER_NAME_MAX + 8];
        snprintf(name, sizeof name, "%s.conf", r->name);
        int q = cluster_write_private(c->config_fd, name, text, strlen(text));
        if (q < 0)
                return fail(q, "cannot write %s/config/%s", c->dir, name);
        path_in(c, r->config, sizeof r->config, "config", NULL);
        size_t l = strlen(r->config);
        join(r->config + l, sizeof r->config - l, "", name);
        return 0;
}

/* A secret of the cluster, DIR/config/NAME: made once (random, 0600), then read again by
 * each up, so that a cluster brought up again keeps its sessions. */
static int load_secret(Context *c, const char *name, char *buf, size_t size) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        int q = read_file_at(c->config_fd, name, 4 * SECRET_BYTES, &data, &len);
        if (q == -ENOENT) {
                q = cluster_random_hex(SECRET_BYTES, buf, size);
                if (q == 0)
                        q = cluster_write_private(c->config_fd, name, buf, strlen(buf));
                return q < 0 ? fail(q, "cannot make the secret %s/config/%s", c->dir, name) : 0;
        }
        if (q < 0)
                return fail(q, "cannot read %s/config/%s", c->dir, name);
        if (len != 2 * SECRET_BYTES || strspn(data, "0123456789abcdef") != len || len >= size)
                return fail(0, "%s/config/%s is not a secret of ours (%d hex digits): remove it", c->dir,
                        name, 2 * SECRET_BYTES);
        memcpy(buf, data, len + 1);
        explicit_bzero(data, len);
        return 0;
}

static const ClusterRole *find_role(const ClusterState *s, const char *role) {
        for (size_t i = 0; i < s->n_roles; i++)
                if (strcmp(s->roles[i].role, role) == 0)
                        return &s->roles[i];
        return NULL;
}

static int save(Context *c) {
        int q = cluster_state_write(c->dir_fd, &c->state);
        return q < 0 ? fail(q, "cannot write %s/%s", c->dir, CLUSTER_STATE_FILE) : 0;
}

/* Start one role in the network namespace netns ("": ours) and record it (the state is
 * saved before anything waits on it, so that down can stop it whatever happens next). */
static int start_role_in(
        Context *c, ClusterRole *r, char *const *argv, ClusterUser user, const char *netns) {
        char log[PATH_MAX];
        path_in(c, log, sizeof log, "logs", r->name);
        _cleanup_close_ int ns = netns[0] ? open(netns, O_RDONLY | O_CLOEXEC) : -1;
        if (netns[0] && ns < 0)
                return fail(errno, "cannot open %s's network namespace %s", r->name, netns);
        int q = cluster_spawn_in(argv, log, user, ns, &r->pid, &r->start_time);
        if (q < 0)
                return fail(q, "cannot start %s (%s)", r->name, argv[0]);
        return save(c);
}

/* Start one role on its host (with --hosts), and record it. */
static int start_role(Context *c, ClusterRole *r, char *const *argv, ClusterUser user) {
        return start_role_in(c, r, argv, user, r->netns);
}

/* Wait until ready(c, r) or the role exits or the deadline passes. */
static int wait_role(Context *c, const ClusterRole *r, bool (*ready)(const Context *, const ClusterRole *),
        uint64_t timeout_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        for (;;) {
                if (ready(c, r))
                        return 0;
                if (cluster_process_state(r->pid, r->start_time) != CLUSTER_PROC_RUNNING)
                        return fail(0, "%s exited while starting (see %s/logs/%s.log)", r->name, c->dir,
                                r->name);
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return fail(0, "%s was not ready in %llu s (see %s/logs/%s.log)", r->name,
                                (unsigned long long) (timeout_usec / USEC_PER_SEC), c->dir, r->name);
                if (!pause_poll())
                        return fail(0, "interrupted while %s was starting: stopping what started", r->name);
        }
}

/* ---- Redis ---- */

static bool redis_ready(const Context *c, const ClusterRole *r) {
        _cleanup_close_ int ns = -1;
        return cluster_redis_ready(reach(r, &ns));
}

static int start_redis(Context *c) {
        int port;
        char host[CLUSTER_ADDRESS_MAX];
        int q = place(c, "redis", 0, -1, "Redis", host, sizeof host, &port);
        if (q)
                return q;
        char url[64], port_s[16], dir[PATH_MAX];
        snprintf(url, sizeof url, "redis://%s:%d", host, port);
        snprintf(port_s, sizeof port_s, "%d", port);
        path_in(c, dir, sizeof dir, "redis", NULL);
        ClusterRole *r = add_role(c, "redis", "redis", port, url);
        /* On a host of its own, its filter is the access control (no protected mode: that
         * refuses every client from another address when there is no password). */
        char *argv[] = {c->redis_server, "--port", port_s, "--bind", host, "--dir", dir, "--daemonize", "no",
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--logfile", "",
                "--protected-mode", c->hosts ? "no" : "yes", NULL};
        q = start_role(c, r, argv, CLUSTER_USER_SELF);
        return q ? q : wait_role(c, r, redis_ready, REDIS_START_USEC);
}

/* ---- PostgreSQL ---- */

static bool postgres_ready(const Context *c, const ClusterRole *r) {
        char prog[PATH_MAX], port[16];
        join(prog, sizeof prog, c->pg_bin, "pg_isready");
        snprintf(port, sizeof port, "%d", r->port);
        _cleanup_close_ int ns = -1;
        ClusterTarget t = reach(r, &ns);
        char *argv[] = {prog, "-q", "-h", (char *) (t.address ? t.address : "127.0.0.1"), "-p", port, "-U",
                PG_USER, NULL};
        return cluster_run_in(argv, NULL, CLUSTER_USER_SELF, ns) == 0;
}

/* With --hosts: who may connect, DIR/postgres/pg_hba-hosts.conf (PostgreSQL's user's): the
 * API nodes and the workers to the database, PostgreSQL's own host (up's createdb) to any. */
static int write_hosts_hba(Context *c, const char *data, const char *self_address) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return fail(ENOMEM, "cannot write PostgreSQL's access rules");
        fprintf(f,
                "# written by coderunner cluster up --hosts\nlocal all all trust\nhost all " PG_USER
                " %s/32 trust\n",
                self_address);
        for (size_t i = 0; i < c->plan.n_roles; i++) {
                const ClusterRole *h = &c->plan.roles[i];
                if (strcmp(h->role, "api") == 0 || strcmp(h->role, "worker") == 0)
                        fprintf(f, "host " PG_DATABASE " " PG_USER " %s/32 trust\n", h->address);
        }
        if (fclose(f) != 0 || !text)
                return fail(ENOMEM, "cannot write PostgreSQL's access rules");
        _cleanup_close_ int dfd = open(data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        int q = dfd < 0 ? -errno : cluster_write_private(dfd, "pg_hba-hosts.conf", text, len);
        if (q == 0 && c->pg_user.uid != (uid_t) -1 &&
                fchownat(dfd, "pg_hba-hosts.conf", c->pg_user.uid, c->pg_user.gid, AT_SYMLINK_NOFOLLOW) < 0)
                q = -errno;
        return q < 0 ? fail(q, "cannot write %s/pg_hba-hosts.conf", data) : 0;
}

/* PostgreSQL's data directory, its user's (checked before anything starts). */
static int prepare_postgres_dir(Context *c) {
        char data[PATH_MAX];
        path_in(c, data, sizeof data, "postgres", NULL);
        if (mkdirat(c->dir_fd, "postgres", 0700) < 0 && errno != EEXIST)
                return fail(errno, "cannot create %s", data);
        if (c->pg_user.uid != (uid_t) -1 && chown(data, c->pg_user.uid, c->pg_user.gid) < 0)
                return fail(errno, "cannot give %s to PostgreSQL's user", data);
        if (!cluster_user_can_access(c->pg_user, data))
                return fail(0,
                        "PostgreSQL's user (uid %d) cannot reach %s: choose a DIR that every user may "
                        "enter, "
                        "with such parents (e.g. under /var/tmp)",
                        (int) c->pg_user.uid, data);
        return 0;
}

static int start_postgres(Context *c) {
        char data[PATH_MAX], log[PATH_MAX], version[PATH_MAX + 16];
        path_in(c, data, sizeof data, "postgres", NULL);
        path_in(c, log, sizeof log, "logs", "postgres");
        join(version, sizeof version, data, "PG_VERSION");
        bool fresh = access(version, F_OK) != 0;
        if (fresh) {
                char prog[PATH_MAX];
                join(prog, sizeof prog, c->pg_bin, "initdb");
                char *argv[] = {
                        prog, "-D", data, "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-locale", NULL};
                int q = cluster_run(argv, log, c->pg_user);
                if (q != 0)
                        return fail(q < 0 ? q : 0, "initdb failed (see %s)", log);
        }
        int port;
        char host[CLUSTER_ADDRESS_MAX];
        int q = place(c, "postgres", 0, -1, "PostgreSQL", host, sizeof host, &port);
        if (q)
                return q;
        char url[128], port_s[16], prog[PATH_MAX], listen[64], hba[PATH_MAX + 16];
        snprintf(url, sizeof url, "postgres://%s@%s:%d/%s", PG_USER, host, port, PG_DATABASE);
        snprintf(port_s, sizeof port_s, "%d", port);
        snprintf(listen, sizeof listen, "listen_addresses=%s", host);
        join(prog, sizeof prog, c->pg_bin, "postgres");
        ClusterRole *r = add_role(c, "postgres", "postgres", port, url);
        char *argv[] = {prog, "-D", data, "-p", port_s, "-k", data, "-c", listen, NULL, NULL, NULL};
        if (c->hosts) {
                q = write_hosts_hba(c, data, host);
                if (q)
                        return q;
                int n = snprintf(hba, sizeof hba, "hba_file=%s/pg_hba-hosts.conf", data);
                if (n <= 0 || (size_t) n >= sizeof hba)
                        return fail(ENAMETOOLONG, "%s", data);
                argv[9] = "-c";
                argv[10] = hba;
        }
        q = start_role(c, r, argv, c->pg_user);
        if (q == 0)
                q = wait_role(c, r, postgres_ready, POSTGRES_START_USEC);
        if (q == 0 && fresh) {
                join(prog, sizeof prog, c->pg_bin, "createdb");
                char *cargv[] = {prog, "-h", host, "-p", port_s, "-U", PG_USER, PG_DATABASE, NULL};
                _cleanup_close_ int ns = -1;
                (void) reach(r, &ns);
                int s = cluster_run_in(cargv, log, CLUSTER_USER_SELF, ns);
                if (s != 0)
                        return fail(s < 0 ? s : 0, "createdb %s failed (see %s)", PG_DATABASE, log);
        }
        return q;
}

/* ---- FerretDB ---- */

static bool mongo_ready(const Context *c, const ClusterRole *r) {
        _cleanup_close_ int ns = -1;
        return cluster_tcp_ready(reach(r, &ns));
}

/* FerretDB on SQLite files in DIR/mongo, as we are (like Redis: the binary may sit in our
 * own cache, which the roles' user cannot reach). */
static int start_mongo(Context *c) {
        int port;
        char host[CLUSTER_ADDRESS_MAX];
        int q = place(c, "mongo", 0, -1, "FerretDB", host, sizeof host, &port);
        if (q)
                return q;
        char data[PATH_MAX], sqlite_opt[PATH_MAX + 32], state_opt[PATH_MAX + 16], listen_opt[64], url[128];
        path_in(c, data, sizeof data, "mongo", NULL);
        snprintf(sqlite_opt, sizeof sqlite_opt, "--sqlite-url=file:%s/", data);
        snprintf(state_opt, sizeof state_opt, "--state-dir=%s", data);
        snprintf(listen_opt, sizeof listen_opt, "--listen-addr=%s:%d", host, port);
        snprintf(url, sizeof url, "mongodb://%s:%d/" META_DATABASE, host, port);
        snprintf(c->state.meta, sizeof c->state.meta, "%s", url);
        ClusterRole *r = add_role(c, "mongo", "mongo", port, url);
        char *argv[] = {c->ferretdb, "--handler=sqlite", sqlite_opt, listen_opt, state_opt,
                "--telemetry=disable", "--debug-addr=-", "--log-level=warn", NULL};
        q = start_role(c, r, argv, CLUSTER_USER_SELF);
        return q ? q : wait_role(c, r, mongo_ready, ROLE_START_USEC);
}

/* ---- API nodes, workers and gateways ---- */

/* GET /health of an API node, with the gateways' credential (the nodes want it). */
static int api_health(const Context *c, const ClusterRole *api, char *body, size_t size) {
        int status;
        _cleanup_close_ int ns = -1;
        int q = cluster_http_get(reach(api, &ns), "/health", c->internal_line, &status, body, size);
        return q < 0 ? q : status;
}

static bool api_ready(const Context *c, const ClusterRole *r) {
        char body[2048];
        return api_health(c, r, body, sizeof body) == 200;
}

/* The number of workers whose heartbeat the store has (GET /health's worker_pools). */
static int live_workers(const Context *c, const ClusterRole *api) {
        char body[2048];
        if (api_health(c, api, body, sizeof body) != 200)
                return -1;
        const char *p = strstr(body, "\"worker_pools\":");
        if (!p)
                return -1;
        p += strlen("\"worker_pools\":");
        char num[16];
        snprintf(num, sizeof num, "%.*s", (int) strspn(p, "0123456789"), p);
        uint64_t n;
        return parse_u64_max(num, INT_MAX, &n) < 0 ? -1 : (int) n;
}

/* One line of a role's configuration file; a NULL or empty value is left out. */
typedef struct ConfPair {
        const char *key, *value;
        bool secret; /* in the file only, never on the command line */
} ConfPair;

/* Write r's configuration file (comment, then "key = value" lines as conf.c reads them) and
 * start r as `coderunner ROLE --config=FILE --key=value...` with the pairs that are not
 * secret: flags win over the CODERUNNER_* environment, which would otherwise override the
 * file's values; the secrets never reach a command line. */
static int configure_and_start(
        Context *c, ClusterRole *r, const char *role, const char *comment, const ConfPair *pairs, size_t n) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return fail(ENOMEM, "cannot write the configuration of %s", r->name);
        fprintf(f, "# %s, written by coderunner cluster up: %s\n", r->name, comment);
        for (size_t i = 0; i < n; i++)
                if (pairs[i].value && *pairs[i].value)
                        fprintf(f, "%s = %s\n", pairs[i].key, pairs[i].value);
        int q = fclose(f) == 0 && text ? write_config(c, r, text)
                                       : fail(ENOMEM, "cannot write the configuration of %s", r->name);
        if (text)
                explicit_bzero(text, len);
        free(text);
        if (q)
                return q;
        char *argv[3 + MAX_CONF_PAIRS + 1] = {c->self, (char *) role};
        size_t k = 2;
        if (n > MAX_CONF_PAIRS || asprintf(&argv[k++], "--config=%s", r->config) < 0)
                return fail(ENOMEM, "cannot start %s", r->name);
        for (size_t i = 0; i < n && q == 0; i++) {
                if (pairs[i].secret || !pairs[i].value || !*pairs[i].value)
                        continue;
                if (asprintf(&argv[k], "--%s=%s", pairs[i].key, pairs[i].value) < 0) {
                        q = fail(ENOMEM, "cannot start %s", r->name);
                        break;
                }
                for (char *p = argv[k] + 2; *p != '='; p++)
                        if (*p == '_')
                                *p = '-';
                k++;
        }
        if (q == 0)
                q = start_role(c, r, argv, CLUSTER_USER_SELF);
        for (size_t i = 2; i < k; i++)
                free(argv[i]);
        return q;
}

static int start_apis(Context *c, const Options *o) {
        const char *store = find_role(&c->state, "postgres")->url,
                   *queue = find_role(&c->state, "redis")->url;
        size_t first = c->state.n_roles;
        for (unsigned i = 0; i < o->n_api; i++) {
                char name[32], url[64], port_s[16], host[CLUSTER_ADDRESS_MAX];
                snprintf(name, sizeof name, "api-%u", i + 1);
                int port;
                int q = place(c, "api", i, 1 + (int) i, name, host, sizeof host, &port);
                if (q)
                        return q;
                snprintf(url, sizeof url, "http://%s:%d", host, port);
                snprintf(port_s, sizeof port_s, "%d", port);
                ClusterRole *r = add_role(c, name, "api", port, url);
                const ConfPair conf[] = {
                        {"store", store, false},
                        {"queue", queue, false},
                        {"port", port_s, false},
                        {"bind", host, false},
                        {"user", c->role_user, false},
                        {"authn_header", INTERNAL_HEADER, false},
                        {"authn_token", c->internal_secret, true},
                        {"authz_header", ADMIN_HEADER, false},
                        {"authz_token", c->internal_secret, true},
                };
                q = configure_and_start(c, r, "api",
                        "the gateways' credential is its authn and authz token, so it refuses whatever does "
                        "not come through them",
                        conf, ELEMENTSOF(conf));
                if (q)
                        return q;
        }
        for (size_t i = first; i < c->state.n_roles; i++) {
                int q = wait_role(c, &c->state.roles[i], api_ready, ROLE_START_USEC);
                if (q)
                        return q;
        }
        return 0;
}

static int start_workers(Context *c, const Options *o) {
        const char *store = find_role(&c->state, "postgres")->url,
                   *queue = find_role(&c->state, "redis")->url;
        char slots[16];
        snprintf(slots, sizeof slots, "%u", o->slots);
        for (unsigned i = 0; i < o->n_workers; i++) {
                char name[32], data[PATH_MAX];
                snprintf(name, sizeof name, "worker-%u", i + 1);
                path_in(c, data, sizeof data, "workers", NULL);
                size_t dl = strlen(data);
                join(data + dl, sizeof data - dl, "", name);
                ClusterRole *r = add_role(c, name, "worker", 0, NULL);
                const ConfPair conf[] = {
                        {"store", store, false},
                        {"queue", queue, false},
                        {"workers", slots, false},
                        {"id", name, false},
                        {"data_dir", data, false},
                        {"user", c->role_user, false},
                };
                int q = configure_and_start(c, r, "worker",
                        "only its sandbox supervisor keeps root, the rest becomes user", conf,
                        ELEMENTSOF(conf));
                if (q)
                        return q;
        }
        /* Healthy: every worker's heartbeat is in the store, as the API nodes see it. */
        const ClusterRole *api = find_role(&c->state, "api");
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + ROLE_START_USEC;
        for (;;) {
                for (size_t i = 0; i < c->state.n_roles; i++) {
                        const ClusterRole *r = &c->state.roles[i];
                        if (strcmp(r->role, "worker") == 0 &&
                                cluster_process_state(r->pid, r->start_time) != CLUSTER_PROC_RUNNING)
                                return fail(0, "%s exited while starting (see %s/logs/%s.log)", r->name,
                                        c->dir, r->name);
                }
                if (live_workers(c, api) >= (int) o->n_workers)
                        return 0;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return fail(0, "the workers did not report to the store in %llu s (see %s/logs)",
                                (unsigned long long) (ROLE_START_USEC / USEC_PER_SEC), c->dir);
                if (!pause_poll())
                        return fail(0, "interrupted while the workers were starting: stopping what started");
        }
}

/* Healthy: it answers /health with 200 (it reached its metadata store before listening,
 * and sees an API node). */
static bool gateway_ready(const Context *c, const ClusterRole *r) {
        int status;
        char body[2048];
        _cleanup_close_ int ns = -1;
        return cluster_http_get(reach(r, &ns), "/health", NULL, &status, body, sizeof body) == 0 &&
               status == 200;
}

/* The gateways' metadata store when there is no FerretDB: SQLite in DIR/gateway, the
 * gateways' user's. */
static int prepare_sqlite_meta(Context *c) {
        char dir[PATH_MAX];
        path_in(c, dir, sizeof dir, "gateway", NULL);
        if (mkdirat(c->dir_fd, "gateway", 0700) < 0 && errno != EEXIST)
                return fail(errno, "cannot create %s", dir);
        /* Also the files an administration command run as root may have made meanwhile. */
        int q = cluster_chown_tree(dir, c->pg_user);
        if (q < 0)
                return fail(q, "cannot give %s to the gateways' user", dir);
        if (!cluster_user_can_access(c->pg_user, dir))
                return fail(0,
                        "the gateways' user (uid %d) cannot reach %s: choose a DIR that every user may "
                        "enter, with such parents (e.g. under /var/tmp)",
                        (int) c->pg_user.uid, dir);
        int n = snprintf(c->state.meta, sizeof c->state.meta, "sqlite:%s/meta.db", dir);
        return n > 0 && (size_t) n < sizeof c->state.meta ? 0 : fail(ENAMETOOLONG, "%s", dir);
}

static int start_gateways(Context *c, const Options *o) {
        /* Every API node, comma-separated. */
        char upstream[MAX_NODES * (CLUSTER_URL_MAX + 1)] = "";
        for (size_t i = 0, n = 0; i < c->state.n_roles; i++)
                if (strcmp(c->state.roles[i].role, "api") == 0)
                        n += (size_t) snprintf(upstream + n, sizeof upstream - n, "%s%s", n ? "," : "",
                                c->state.roles[i].url);
        const char *redis = find_role(&c->state, "redis")->url;
        size_t first = c->state.n_roles;
        for (unsigned i = 0; i < o->n_gateways; i++) {
                char name[32], url[64], port_s[16], host[CLUSTER_ADDRESS_MAX];
                snprintf(name, sizeof name, "gateway-%u", i + 1);
                int port;
                int q = place(
                        c, "gateway", i, i == 0 ? 0 : (int) (o->n_api + i), name, host, sizeof host, &port);
                if (q)
                        return q;
                snprintf(url, sizeof url, "http://%s:%d", host, port);
                snprintf(port_s, sizeof port_s, "%d", port);
                if (i == 0 && !c->hosts) /* with --hosts, the entry's */
                        snprintf(c->state.public_url, sizeof c->state.public_url, "%s", url);
                ClusterRole *r = add_role(c, name, "gateway", port, url);
                const ConfPair conf[] = {
                        {"upstream", upstream, false},
                        {"meta", c->state.meta, false},
                        {"redis", redis, false},
                        {"port", port_s, false},
                        {"bind", host, false},
                        {"user", c->role_user, false},
                        {"internal_header", INTERNAL_HEADER, false},
                        {"admin_header", ADMIN_HEADER, false},
                        {"internal_secret", c->internal_secret, true},
                        {"session_secret", c->session_secret, true},
                };
                q = configure_and_start(c, r, "gateway",
                        "its keys: coderunner gateway keys create --config=THIS_FILE --name=NAME", conf,
                        ELEMENTSOF(conf));
                if (q)
                        return q;
        }
        for (size_t i = first; i < c->state.n_roles; i++) {
                int q = wait_role(c, &c->state.roles[i], gateway_ready, ROLE_START_USEC);
                if (q)
                        return q;
        }
        return 0;
}

/* ---- down ---- */

typedef struct StopStep {
        const char *role;
        int sig;
        uint64_t timeout_usec;
} StopStep;

/* The gateways first (no new requests), then the workers and API nodes drain, then the
 * servers they use. */
static const StopStep stop_order[] = {
        {CLUSTER_ENTRY, SIGTERM, DRAIN_USEC}, /* --hosts: the public entry's forwarder */
        {"gateway", SIGTERM, DRAIN_USEC}, {"worker", SIGTERM, DRAIN_USEC}, {"api", SIGTERM, DRAIN_USEC},
        {"mongo", SIGTERM, SERVER_STOP_USEC}, {"postgres", SIGINT, SERVER_STOP_USEC}, /* fast shutdown */
        {"redis", SIGTERM, SERVER_STOP_USEC}, /* writes its append-only file */
};

static int stop_all(int dir_fd, ClusterState *s) {
        int ret = 0;
        for (size_t k = 0; k < ELEMENTSOF(stop_order); k++) {
                /* A role's processes get the signal together, then each is waited for. */
                for (size_t i = 0; i < s->n_roles; i++) {
                        ClusterRole *r = &s->roles[i];
                        if (strcmp(r->role, stop_order[k].role) == 0 &&
                                cluster_process_state(r->pid, r->start_time) == CLUSTER_PROC_RUNNING)
                                (void) kill(r->pid, stop_order[k].sig);
                }
                for (size_t i = 0; i < s->n_roles; i++) {
                        ClusterRole *r = &s->roles[i];
                        if (strcmp(r->role, stop_order[k].role) != 0)
                                continue;
                        int q = cluster_stop_process(
                                r->pid, r->start_time, stop_order[k].sig, stop_order[k].timeout_usec);
                        if (q < 0) {
                                fail(q, "cannot stop %s (pid %d)", r->name, (int) r->pid);
                                ret = 2;
                        } else if (q == 1)
                                fprintf(stderr,
                                        "coderunner cluster: %s did not stop in time and was killed\n",
                                        r->name);
                        r->stopped = true;
                }
        }
        /* --hosts: whatever still runs in the cluster's namespaces, then the namespaces (with
         * the bridge and the links). Also after a crash: the net id was saved first. */
        if (s->net_id[0]) {
                int q = cluster_net_destroy(s->net_id);
                if (q < 0) {
                        fail(q, "cannot remove the network namespaces %s%s-*",
                                CLUSTER_NETNS_DIR "/" CLUSTER_NETNS_PREFIX, s->net_id);
                        ret = 2;
                }
        }
        int q = cluster_state_write(dir_fd, s);
        if (q < 0 && ret == 0)
                ret = fail(q, "cannot write the state file");
        return ret;
}

/* Detach the mounts below path: the workers' work tmpfs, which a worker that gave up root
 * could not unmount when it stopped. */
static void detach_mounts_below(const char *path) {
        FILE *f = fopen("/proc/self/mounts", "re");
        if (!f)
                return;
        size_t pl = strlen(path);
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
                char *sp = strchr(line, ' ');
                if (!sp)
                        continue;
                char *where = sp + 1, *end = strchr(where, ' ');
                if (!end)
                        continue;
                *end = '\0';
                /* /proc/self/mounts escapes blanks as \040: such a path never matches ours */
                if (strncmp(where, path, pl) == 0 && where[pl] == '/')
                        (void) umount2(where, MNT_DETACH | UMOUNT_NOFOLLOW);
        }
        free(line);
        fclose(f);
}

static int purge(const char *dir) {
        static const char *const parts[] = {"redis", "postgres", "mongo", "gateway", "workers", "config",
                "logs", "net", CLUSTER_STATE_FILE};
        detach_mounts_below(dir);
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                char p[PATH_MAX];
                join(p, sizeof p, dir, parts[i]);
                int q = cluster_remove_tree(p);
                if (q < 0)
                        return fail(q, "cannot remove %s", p);
        }
        return 0;
}

/* ---- commands ---- */

/* Open DIR (creating it for up) and lock it against another cluster command. */
static int open_dir(const char *dir, bool create, Context *c) {
        /* The state file and the configuration files hold paths under DIR as blank-free fields. */
        if (strpbrk(dir, " \t\n\r"))
                return fail(0, "the path of %s has blanks: choose another DIR", dir);
        if (create && mkdir(dir, 0755) < 0 && errno != EEXIST)
                return fail(errno, "cannot create %s", dir);
        if (!realpath(dir, c->dir))
                return fail(errno, "%s", dir);
        if (strlen(c->dir) > PATH_MAX - 256)
                return fail(0, "the path of %s is too long", dir);
        if (strpbrk(c->dir, " \t\n\r"))
                return fail(0, "the path of %s has blanks: choose another DIR", dir);
        c->dir_fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c->dir_fd < 0)
                return fail(errno, "cannot open %s", c->dir);
        if (flock(c->dir_fd, LOCK_EX | LOCK_NB) < 0)
                return fail(errno == EWOULDBLOCK ? 0 : errno, "another cluster command is working on %s",
                        c->dir);
        return 0;
}

static int read_state(Context *c) {
        int q = cluster_state_read(c->dir_fd, &c->state);
        if (q == -ENOENT)
                return fail(0, "no cluster in %s (coderunner cluster up --dir=%s)", c->dir, c->dir);
        if (q == -EBADMSG)
                return fail(0, "%s/%s is not a cluster state file", c->dir, CLUSTER_STATE_FILE);
        return q < 0 ? fail(q, "cannot read %s/%s", c->dir, CLUSTER_STATE_FILE) : 0;
}

static int prepare_up(Context *c, const Options *o) {
        /* Big (64 roles with their paths): on the heap. */
        _cleanup_free_ ClusterState *old = malloc(sizeof *old);
        if (!old)
                return fail(ENOMEM, "cannot read %s/%s", c->dir, CLUSTER_STATE_FILE);
        int q = cluster_state_read(c->dir_fd, old);
        if (q == 0)
                for (size_t i = 0; i < old->n_roles; i++)
                        if (cluster_process_state(old->roles[i].pid, old->roles[i].start_time) ==
                                CLUSTER_PROC_RUNNING)
                                return fail(0,
                                        "a cluster is already running in %s (%s, pid %d); stop it with "
                                        "coderunner cluster down --dir=%s",
                                        c->dir, old->roles[i].name, (int) old->roles[i].pid, c->dir);
        if (q < 0 && q != -ENOENT)
                return fail(q == -EBADMSG ? 0 : q, "%s/%s is not a cluster state file", c->dir,
                        CLUSTER_STATE_FILE);
        if (o->hosts) {
                if (geteuid() != 0)
                        return fail(0, "--hosts needs root (it makes network namespaces and their filters)");
                if (!find_tool("ip", c->tools.ip, sizeof c->tools.ip))
                        return fail(0, "--hosts needs ip, which is not installed (Debian: iproute2)");
                if (!find_tool("nft", c->tools.nft, sizeof c->tools.nft))
                        return fail(0, "--hosts needs nft, which is not installed (Debian: nftables)");
                c->hosts = true;
        }
        /* What an earlier up --hosts of DIR left (it crashed, or was killed, before a down). */
        if (q == 0 && old->net_id[0]) {
                int k = cluster_net_destroy(old->net_id);
                if (k < 0)
                        return fail(k,
                                "cannot remove the network namespaces %s%s-* of the cluster that ran in %s",
                                CLUSTER_NETNS_DIR "/" CLUSTER_NETNS_PREFIX, old->net_id, c->dir);
        }
        if (!cluster_port_free(o->port))
                return fail(0, "the public port %d is in use", o->port);
        ssize_t n = readlink("/proc/self/exe", c->self, sizeof c->self - 1);
        if (n <= 0)
                return fail(errno, "cannot find where coderunner is installed");
        c->self[n] = '\0';
        if (!find_in_path("redis-server", c->redis_server, sizeof c->redis_server))
                return fail(0, "redis-server is not installed (Debian: redis-server)");
        if (!find_pg_bin(c->pg_bin, sizeof c->pg_bin))
                return fail(0, "the PostgreSQL server programs are not installed (Debian: postgresql)");
        if (o->meta != META_SQLITE && !find_ferretdb(c->ferretdb, sizeof c->ferretdb)) {
                if (o->meta == META_MONGO)
                        return fail(0,
                                "--meta=mongo: FerretDB is not installed (tools/build-ferretdb builds "
                                "it; or set CODERUNNER_FERRETDB)");
                c->ferretdb[0] = '\0';
        }
        c->pg_user = CLUSTER_USER_SELF;
        if (geteuid() == 0) {
                c->role_user = o->user ? o->user : "nobody";
                q = cluster_user_lookup(c->role_user, &c->pg_user);
                if (q < 0)
                        return fail(q == -ENOENT ? 0 : q, "no user %s (--user)", c->role_user);
        } else if (o->user)
                return fail(0, "--user is for a cluster started as root (the roles already run as you)");
        static const struct {
                const char *name;
                mode_t mode;
        } dirs[] = {{"logs", 0755}, {"redis", 0755}, {"workers", 0755}, {"config", 0700}, {"mongo", 0700},
                {"net", 0755}};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if ((strcmp(dirs[i].name, "mongo") == 0 && !c->ferretdb[0]) ||
                        (strcmp(dirs[i].name, "net") == 0 && !c->hosts))
                        continue;
                if (mkdirat(c->dir_fd, dirs[i].name, dirs[i].mode) < 0 && errno != EEXIST)
                        return fail(errno, "cannot create %s/%s", c->dir, dirs[i].name);
        }
        c->config_fd = openat(c->dir_fd, "config", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (c->config_fd < 0)
                return fail(errno, "cannot open %s/config", c->dir);
        q = load_secret(c, "internal.secret", c->internal_secret, sizeof c->internal_secret);
        if (q == 0)
                q = load_secret(c, "session.secret", c->session_secret, sizeof c->session_secret);
        if (q)
                return q;
        snprintf(c->internal_line, sizeof c->internal_line, INTERNAL_HEADER ": %s", c->internal_secret);
        q = prepare_postgres_dir(c);
        if (q == 0 && !c->ferretdb[0])
                q = prepare_sqlite_meta(c);
        return q;
}

/* ---- --hosts ---- */

/* Add host NAME (role, the index-th of its kind) to the plan. */
static int plan_host(Context *c, const char *name, const char *role, unsigned index) {
        ClusterRole *h = &c->plan.roles[c->plan.n_roles++];
        *h = (ClusterRole){};
        snprintf(h->name, sizeof h->name, "%s", name);
        snprintf(h->role, sizeof h->role, "%s", role);
        int q = cluster_host_address(role, index, h->address, sizeof h->address);
        if (q == 0)
                q = cluster_netns_name(c->state.net_id, name, true, h->netns, sizeof h->netns);
        return q < 0 ? fail(q, "no host for %s", name) : 0;
}

/* Every host the cluster will have, with its address. */
static int plan_hosts(Context *c, const Options *o) {
        static const char *const servers[] = {"redis", "postgres", "mongo"};
        int q = plan_host(c, CLUSTER_ENTRY, CLUSTER_ENTRY, 0);
        for (size_t i = 0; i < ELEMENTSOF(servers) && q == 0; i++)
                if (strcmp(servers[i], "mongo") != 0 || c->ferretdb[0])
                        q = plan_host(c, servers[i], servers[i], 0);
        const struct {
                const char *role;
                unsigned n;
        } nodes[] = {{"api", o->n_api}, {"worker", o->n_workers}, {"gateway", o->n_gateways}};
        for (size_t k = 0; k < ELEMENTSOF(nodes) && q == 0; k++)
                for (unsigned i = 0; i < nodes[k].n && q == 0; i++) {
                        char name[CLUSTER_NAME_MAX];
                        snprintf(name, sizeof name, "%s-%u", nodes[k].role, i + 1);
                        q = plan_host(c, name, nodes[k].role, i);
                }
        return q;
}

/* Write rules to DIR/net/NAME.nft and load them in the namespace netns. */
static int load_filter(
        Context *c, int net_fd, const char *name, const char *netns, const char *rules, const char *log) {
        char file[CLUSTER_NAME_MAX + 8], path[PATH_MAX];
        snprintf(file, sizeof file, "%s.nft", name);
        path_in(c, path, sizeof path, "net", NULL);
        size_t l = strlen(path);
        join(path + l, sizeof path - l, "", file);
        int q = cluster_write_private(net_fd, file, rules, strlen(rules));
        if (q < 0)
                return fail(q, "cannot write %s", path);
        q = cluster_net_load_rules(&c->tools, netns, path, log);
        return q < 0 ? fail(q, "cannot load the filter of %s (see %s)", name, log) : 0;
}

/* The switch with its filter, then each host with its own (DIR/net/NAME.nft). The net id is in the state
 * file before anything is made: down finds all of it whatever happens next. */
static int make_network(Context *c, const Options *o) {
        int q = cluster_net_new_id(c->state.net_id, sizeof c->state.net_id);
        if (q < 0)
                return fail(q, "no free name for the cluster's network namespaces");
        q = save(c);
        if (q == 0)
                q = plan_hosts(c, o);
        if (q)
                return q;
        char log[PATH_MAX], net[PATH_MAX];
        path_in(c, log, sizeof log, "logs", "net");
        path_in(c, net, sizeof net, "net", NULL);
        q = cluster_net_make_switch(&c->tools, c->state.net_id, log);
        if (q < 0)
                return fail(q, "cannot make the cluster's bridge (see %s)", log);
        _cleanup_close_ int net_fd = open(net, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (net_fd < 0)
                return fail(errno, "cannot open %s", net);
        /* The switch's filter first: no host is on the bridge before it holds. */
        _cleanup_free_ char *switch_rules = NULL;
        char switch_ns[CLUSTER_NETNS_MAX];
        q = cluster_net_switch_rules(&c->plan, &switch_rules);
        if (q == 0)
                q = cluster_netns_name(c->state.net_id, CLUSTER_SWITCH, true, switch_ns, sizeof switch_ns);
        if (q < 0)
                return fail(q, "cannot write the switch's filter");
        q = load_filter(c, net_fd, CLUSTER_SWITCH, switch_ns, switch_rules, log);
        for (size_t i = 0; i < c->plan.n_roles && q == 0; i++) {
                const ClusterRole *h = &c->plan.roles[i];
                q = cluster_net_make_host(&c->tools, c->state.net_id, h->name, h->address, log);
                if (q < 0)
                        return fail(q, "cannot make the host of %s (see %s)", h->name, log);
                _cleanup_free_ char *rules = NULL;
                q = cluster_net_rules(&c->plan, h, &rules);
                if (q < 0)
                        return fail(q, "cannot write the filter of %s", h->name);
                q = load_filter(c, net_fd, h->name, h->netns, rules, log);
        }
        return q;
}

/* Healthy: gateway-1 answers /health through 127.0.0.1:P. */
static bool entry_ready(const Context *c, const ClusterRole *r) {
        int status;
        char body[2048];
        return cluster_http_get(CLUSTER_LOOPBACK(r->port), "/health", NULL, &status, body, sizeof body) ==
                       0 &&
               status == 200;
}

/* The public entry: 127.0.0.1:P of this machine, relayed from the entry's host to
 * gateway-1. */
static int start_entry(Context *c) {
        const ClusterRole *g = find_role(&c->state, "gateway");
        ClusterRole *r = add_role(c, CLUSTER_ENTRY, CLUSTER_ENTRY, c->public_port, c->state.public_url);
        char port[32], netns[CLUSTER_NETNS_MAX + 16], to[64], user[CLUSTER_NAME_MAX + 16];
        snprintf(port, sizeof port, "--port=%d", c->public_port);
        snprintf(netns, sizeof netns, "--netns=%s", r->netns);
        snprintf(to, sizeof to, "--to=%s:%d", g->address, g->port);
        snprintf(user, sizeof user, "--user=%s", c->role_user ? c->role_user : "");
        char *argv[] = {c->self, "cluster", "forward", port, netns, to, c->role_user ? user : NULL, NULL};
        /* Started in ours: it enters the entry's namespace itself, once it listens here. */
        int q = start_role_in(c, r, argv, CLUSTER_USER_SELF, "");
        return q ? q : wait_role(c, r, entry_ready, ROLE_START_USEC);
}

/* In the foreground: until a stop signal (then down), or until a down from elsewhere left
 * nothing running. */
static int stay_until_stopped(Context *c) {
        fprintf(stderr, "coderunner cluster: up in %s (Ctrl+C brings it down)\n", c->dir);
        for (;;) {
                struct timespec ts = {.tv_sec = 1};
                bool stop = sigtimedwait(&stop_signals, NULL, &ts) > 0;
                if (stop && flock(c->dir_fd, LOCK_EX) < 0)
                        return fail(errno, "cannot lock %s", c->dir);
                ClusterState *now = &c->state; /* up's own copy is not needed any more */
                int q = cluster_state_read(c->dir_fd, now);
                if (q < 0) /* down --purge from elsewhere: nothing left to stop */
                        return 0;
                if (stop)
                        return stop_all(c->dir_fd, now);
                bool running = false;
                for (size_t i = 0; i < now->n_roles && !running; i++)
                        running = cluster_process_state(now->roles[i].pid, now->roles[i].start_time) ==
                                  CLUSTER_PROC_RUNNING;
                if (!running) {
                        fprintf(stderr, "coderunner cluster: the cluster in %s was brought down\n", c->dir);
                        return 0;
                }
        }
}

static void context_done(Context *c) {
        safe_close(c->dir_fd);
        safe_close(c->config_fd);
        explicit_bzero(c->internal_secret, sizeof c->internal_secret);
        explicit_bzero(c->session_secret, sizeof c->session_secret);
        explicit_bzero(c->internal_line, sizeof c->internal_line);
}

static int cluster_up(const Options *o) {
        _cleanup_(context_done) Context c = {.dir_fd = -1, .config_fd = -1, .public_port = o->port};
        /* Ctrl+C while starting: stop what started. The roles get every signal unblocked. */
        block_stop_signals();
        int q = open_dir(o->dir, true, &c);
        if (q == 0)
                q = prepare_up(&c, o);
        if (q)
                return q;
        snprintf(c.state.public_url, sizeof c.state.public_url, "http://127.0.0.1:%d", o->port);
        q = c.hosts ? make_network(&c, o) : 0;
        if (q == 0)
                q = start_redis(&c);
        if (q == 0)
                q = start_postgres(&c);
        if (q == 0 && c.ferretdb[0])
                q = start_mongo(&c);
        if (q == 0)
                q = start_apis(&c, o);
        if (q == 0 && o->n_workers > 0)
                q = start_workers(&c, o);
        if (q == 0)
                q = start_gateways(&c, o);
        if (q == 0 && c.hosts)
                q = start_entry(&c);
        if (q) {
                (void) stop_all(c.dir_fd, &c.state);
                return q;
        }
        printf("%s\n", c.state.public_url);
        fflush(stdout);
        const ClusterRole *g = find_role(&c.state, "gateway");
        if (!c.ferretdb[0])
                fprintf(stderr, "coderunner cluster: the gateways keep their metadata in SQLite (%s)%s\n",
                        c.state.meta + strlen("sqlite:"),
                        o->meta == META_SQLITE ? "" : ": FerretDB is not installed (tools/build-ferretdb)");
        /* With --hosts, the metadata store is reachable from the gateways' hosts only. */
        fprintf(stderr,
                "coderunner cluster: a key: %s%s%scoderunner gateway keys create --config=%s --name=NAME\n",
                g->netns[0] ? "nsenter --net=" : "", g->netns, g->netns[0] ? " " : "", g->config);
        /* status and down may run from elsewhere now. */
        (void) flock(c.dir_fd, LOCK_UN);
        if (o->foreground)
                q = stay_until_stopped(&c);
        return q;
}

static void print_json(const ClusterState *s) {
        fputs("{\"public_url\": ", stdout);
        json_write_cstring(stdout, s->public_url);
        if (s->meta[0]) {
                fputs(", \"meta\": ", stdout);
                json_write_cstring(stdout, s->meta);
        }
        if (s->net_id[0]) {
                char sw[CLUSTER_NETNS_MAX], br[16];
                if (cluster_netns_name(s->net_id, CLUSTER_SWITCH, true, sw, sizeof sw) < 0 ||
                        cluster_bridge_name(s->net_id, br, sizeof br) < 0)
                        sw[0] = br[0] = '\0'; /* cannot happen: the reader checked the id */
                fputs(", \"network\": {\"id\": ", stdout);
                json_write_cstring(stdout, s->net_id);
                fputs(", \"switch\": ", stdout);
                json_write_cstring(stdout, sw);
                fputs(", \"bridge\": ", stdout);
                json_write_cstring(stdout, br);
                fputs(", \"subnet\": \"" CLUSTER_SUBNET "\"}", stdout);
        }
        fputs(", \"roles\": [", stdout);
        for (size_t i = 0; i < s->n_roles; i++) {
                const ClusterRole *r = &s->roles[i];
                fputs(i ? ", {\"name\": " : "{\"name\": ", stdout);
                json_write_cstring(stdout, r->name);
                fputs(", \"role\": ", stdout);
                json_write_cstring(stdout, r->role);
                printf(", \"pid\": %d", (int) r->pid);
                if (r->url[0]) {
                        fputs(", \"url\": ", stdout);
                        json_write_cstring(stdout, r->url);
                }
                if (r->config[0]) {
                        fputs(", \"config\": ", stdout);
                        json_write_cstring(stdout, r->config);
                }
                if (r->netns[0]) {
                        fputs(", \"netns\": ", stdout);
                        json_write_cstring(stdout, r->netns);
                        fputs(", \"address\": ", stdout);
                        json_write_cstring(stdout, r->address);
                }
                fputs(", \"state\": ", stdout);
                json_write_cstring(stdout, cluster_role_state(r));
                fputc('}', stdout);
        }
        fputs("]}\n", stdout);
}

static int cluster_status(const Options *o) {
        Context c = {.dir_fd = -1};
        /* status only reads: no lock, so that it works while up waits in the foreground */
        if (!realpath(o->dir, c.dir))
                return fail(errno, "%s", o->dir);
        c.dir_fd = open(c.dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (c.dir_fd < 0)
                return fail(errno, "cannot open %s", c.dir);
        int q = read_state(&c);
        safe_close(c.dir_fd);
        if (q)
                return q;
        if (o->json) {
                print_json(&c.state);
                return 0;
        }
        printf("public url: %s\n", c.state.public_url);
        if (c.state.meta[0])
                printf("gateway metadata: %s%s\n", c.state.meta,
                        strncmp(c.state.meta, "sqlite:", 7) == 0 ? " (SQLite)" : " (FerretDB)");
        for (size_t i = 0; i < c.state.n_roles; i++) {
                const ClusterRole *r = &c.state.roles[i];
                printf("%-10s %-9s %-8s pid %-8d %s%s%s%s%s%s%s\n", r->name, r->role, cluster_role_state(r),
                        (int) r->pid, r->url[0] ? r->url : "-", r->config[0] ? " config " : "", r->config,
                        r->netns[0] ? " netns " : "", r->netns, r->address[0] ? " address " : "",
                        r->address);
        }
        return 0;
}

static int cluster_down(const Options *o) {
        Context c = {.dir_fd = -1};
        int q = open_dir(o->dir, false, &c);
        if (q == 0)
                q = read_state(&c);
        if (q == 0)
                q = stop_all(c.dir_fd, &c.state);
        if (q == 0 && o->purge)
                q = purge(c.dir);
        safe_close(c.dir_fd);
        return q;
}

/* The public entry of --hosts: listen on 127.0.0.1:P here, then enter the entry's namespace
 * and become --user, then relay. */
static int cluster_forward_main(const Options *o) {
        char address[CLUSTER_ADDRESS_MAX];
        const char *colon = o->to ? strrchr(o->to, ':') : NULL;
        uint64_t port;
        struct in_addr a;
        if (!o->netns || !colon || (size_t) (colon - o->to) >= sizeof address ||
                parse_u64_max(colon + 1, 65535, &port) < 0 || port == 0) {
                fprintf(stderr, "coderunner cluster: forward needs --netns=PATH and --to=ADDRESS:PORT\n");
                return 1;
        }
        snprintf(address, sizeof address, "%.*s", (int) (colon - o->to), o->to);
        if (inet_pton(AF_INET, address, &a) != 1) {
                fprintf(stderr, "coderunner cluster: --to needs an IPv4 address, not \"%s\"\n", address);
                return 1;
        }
        ClusterUser user = CLUSTER_USER_SELF;
        int q = o->user ? cluster_user_lookup(o->user, &user) : 0;
        if (q < 0)
                return fail(q == -ENOENT ? 0 : q, "no user %s (--user)", o->user);
        _cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        struct sockaddr_in here = {.sin_family = AF_INET,
                .sin_port = htons((uint16_t) o->port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
                bind(fd, (struct sockaddr *) &here, sizeof here) < 0 || listen(fd, 128) < 0)
                return fail(errno, "cannot listen on 127.0.0.1:%d", o->port);
        _cleanup_close_ int ns = open(o->netns, O_RDONLY | O_CLOEXEC);
        if (ns < 0 || setns(ns, CLONE_NEWNET) < 0)
                return fail(errno, "cannot enter the network namespace %s", o->netns);
        q = cluster_become(user);
        if (q < 0)
                return fail(q, "cannot become %s", o->user);
        q = cluster_forward(fd, address, (int) port, FORWARD_MAX_CONNS);
        return q < 0 ? fail(q, "forwarding 127.0.0.1:%d to %s failed", o->port, o->to) : 0;
}

static int parse_count(const char *name, const char *s, unsigned min, unsigned *ret) {
        uint64_t v;
        if (parse_u64_max(s, MAX_NODES, &v) < 0 || v < min) {
                fprintf(stderr, "coderunner cluster: --%s is a number from %u to %d, not \"%s\"\n", name,
                        min, MAX_NODES, s);
                return 1;
        }
        *ret = (unsigned) v;
        return 0;
}

static int parse_argv(int argc, char **argv, Options *o) {
        enum {
                OPT_DIR = 0x100,
                OPT_API,
                OPT_WORKERS,
                OPT_GATEWAYS,
                OPT_META,
                OPT_PORT,
                OPT_SLOTS,
                OPT_USER,
                OPT_HOSTS,
                OPT_NETNS,
                OPT_TO,
                OPT_FOREGROUND,
                OPT_JSON,
                OPT_PURGE
        };
        static const struct option longopts[] = {
                {"help", no_argument, NULL, 'h'},
                {"dir", required_argument, NULL, OPT_DIR},
                {"api", required_argument, NULL, OPT_API},
                {"workers", required_argument, NULL, OPT_WORKERS},
                {"gateways", required_argument, NULL, OPT_GATEWAYS},
                {"meta", required_argument, NULL, OPT_META},
                {"port", required_argument, NULL, OPT_PORT},
                {"slots", required_argument, NULL, OPT_SLOTS},
                {"user", required_argument, NULL, OPT_USER},
                {"hosts", no_argument, NULL, OPT_HOSTS},
                {"netns", required_argument, NULL, OPT_NETNS},
                {"to", required_argument, NULL, OPT_TO},
                {"foreground", no_argument, NULL, OPT_FOREGROUND},
                {"json", no_argument, NULL, OPT_JSON},
                {"purge", no_argument, NULL, OPT_PURGE},
                {},
        };
        *o = (Options){
                .n_api = 2, .n_workers = 2, .n_gateways = 1, .slots = DEFAULT_SLOTS, .port = DEFAULT_PORT};
        int ch;
        opterr = 0;
        while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) >= 0) {
                uint64_t v;
                switch (ch) {
                case 'h':
                        fputs(cluster_help, stdout);
                        return -1;
                case OPT_DIR:
                        o->dir = optarg;
                        break;
                case OPT_API:
                        if (parse_count("api", optarg, 1, &o->n_api))
                                return 1;
                        break;
                case OPT_WORKERS:
                        if (parse_count("workers", optarg, 0, &o->n_workers))
                                return 1;
                        break;
                case OPT_GATEWAYS:
                        if (parse_count("gateways", optarg, 1, &o->n_gateways))
                                return 1;
                        break;
                case OPT_META: {
                        static const char *const modes[] = {
                                [META_AUTO] = "auto", [META_MONGO] = "mongo", [META_SQLITE] = "sqlite"};
                        size_t k = 0;
                        while (k < ELEMENTSOF(modes) && strcmp(optarg, modes[k]) != 0)
                                k++;
                        if (k == ELEMENTSOF(modes)) {
                                fprintf(stderr,
                                        "coderunner cluster: --meta is auto, mongo or sqlite, not \"%s\"\n",
                                        optarg);
                                return 1;
                        }
                        o->meta = (MetaMode) k;
                        break;
                }
                case OPT_SLOTS:
                        if (parse_count("slots", optarg, 1, &o->slots))
                                return 1;
                        break;
                case OPT_PORT:
                        if (parse_u64_max(optarg, 65535, &v) < 0 || v == 0) {
                                fprintf(stderr,
                                        "coderunner cluster: --port is a number from 1 to 65535, not "
                                        "\"%s\"\n",
                                        optarg);
                                return 1;
                        }
                        o->port = (int) v;
                        break;
                case OPT_USER:
                        if (!optarg[0] || strchr(optarg, ' ')) {
                                fprintf(stderr, "coderunner cluster: --user needs a user name\n");
                                return 1;
                        }
                        o->user = optarg;
                        break;
                case OPT_HOSTS:
                        o->hosts = true;
                        break;
                case OPT_NETNS:
                        o->netns = optarg;
                        break;
                case OPT_TO:
                        o->to = optarg;
                        break;
                case OPT_FOREGROUND:
                        o->foreground = true;
                        break;
                case OPT_JSON:
                        o->json = true;
                        break;
                case OPT_PURGE:
                        o->purge = true;
                        break;
                default:
                        fprintf(stderr,
                                "coderunner cluster: unknown option %s (see coderunner cluster --help)\n",
                                argv[optind - 1]);
                        return 1;
                }
        }
        return 0;
}

/* Whether word is one of the space-separated words of list. */
static bool has_word(const char *list, const char *word) {
        size_t n = strlen(word);
        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
                        return true;
        return false;
}

static const struct {
        const char *name;
        int (*run)(const Options *o);
        const char *options; /* the ones it takes besides --dir */
        bool needs_dir;
} subcommands[] = {
        {"up", cluster_up, "api workers gateways meta port slots user hosts foreground", true},
        {"status", cluster_status, "json", true},
        {"down", cluster_down, "purge", true},
        {"forward", cluster_forward_main, "port user netns to", false},
};

int cluster_main(int argc, char **argv) {
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                fputs(cluster_help, argc < 2 ? stderr : stdout);
                return argc < 2 ? 1 : 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(subcommands); i++) {
                if (strcmp(argv[1], subcommands[i].name) != 0)
                        continue;
                Options o;
                int q = parse_argv(argc - 1, argv + 1, &o);
                if (q)
                        return q < 0 ? 0 : q;
                if (optind < argc - 1) {
                        fprintf(stderr, "coderunner cluster: unexpected argument \"%s\"\n",
                                argv[optind + 1]);
                        return 1;
                }
                /* Options another subcommand takes are a mistake here. */
                struct {
                        const char *name;
                        bool set;
                } given[] = {
                        {"api", o.n_api != 2},
                        {"workers", o.n_workers != 2},
                        {"gateways", o.n_gateways != 1},
                        {"meta", o.meta != META_AUTO},
                        {"port", o.port != DEFAULT_PORT},
                        {"slots", o.slots != DEFAULT_SLOTS},
                        {"user", o.user != NULL},
                        {"hosts", o.hosts},
                        {"netns", o.netns != NULL},
                        {"to", o.to != NULL},
                        {"foreground", o.foreground},
                        {"json", o.json},
                        {"purge", o.purge},
                };
                for (size_t k = 0; k < ELEMENTSOF(given); k++)
                        if (given[k].set && !has_word(subcommands[i].options, given[k].name)) {
                                fprintf(stderr, "coderunner cluster: %s takes no --%s\n",
                                        subcommands[i].name, given[k].name);
                                return 1;
                        }
                if (subcommands[i].needs_dir && (!o.dir || !o.dir[0])) {
                        fprintf(stderr, "coderunner cluster: --dir=DIR is required\n");
                        return 1;
                } else if (!subcommands[i].needs_dir && o.dir) {
                        fprintf(stderr, "coderunner cluster: %s takes no --dir\n", subcommands[i].name);
                        return 1;
                }
                return subcommands[i].run(&o);
        }
        fprintf(stderr, "coderunner cluster: unknown command \"%s\" (up, status or down)\n", argv[1]);
        return 1;
}
