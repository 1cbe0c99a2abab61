/* SPDX-License-Identifier: MIT */
/* coderunner box run | daemon | info */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/json-writer.h"
#include "base/log.h"
#include "base/parse-util.h"
#include "base/strv.h"
#include "base/time-util.h"
#include "programs/cli-limits.h"
#include "programs/cli-slot.h"
#include "programs/programs.h"
#include "sandbox/box.h"

#define MAX_KIB (UINT64_C(1) << 40)
#define MAX_COUNT UINT64_C(1048576)

static const char run_help[] =
        "Usage: coderunner box run [OPTIONS] -- PROGRAM [ARG...]\n"
        "\n"
        "Run PROGRAM once in a fresh sandbox and report how it ended.\n"
        "\n"
        "Limits (of the whole process tree):\n"
        "  --time=SEC            CPU time (decimal seconds)\n"
        "  --extra-time=SEC      grace after --time before the kill\n"
        "  --wall-time=SEC       wall-clock time\n"
        "  --mem=KIB             memory, cgroup-charged (tmpfs included)\n"
        "  --stack=KIB           stack of each process\n"
        "  --processes=N         processes + threads\n"
        "  --fsize=KIB           largest file it may write\n"
        "  --output-limit=KIB    cap on captured stdout and on stderr, each; killed when passed\n"
        "  --open-files=N        open files per process (default 1024)\n"
        "  --tmp-size=KIB        size of the private /tmp (and /box without --workdir; default 65536)\n"
        "  --per-process-time    --time holds for each process (RLIMIT_CPU, whole seconds), not the tree\n"
        "  --per-process-memory  --mem holds for each process too (RLIMIT_AS)\n"
        "\n"
        "Files and streams:\n"
        "  --stdin=FILE          standard input (default: empty)\n"
        "  --stdout=FILE         write the captured stdout here (default: our stdout)\n"
        "  --stderr=FILE         same for stderr\n"
        "  --stderr-to-stdout    one stream for both (2>&1)\n"
        "  --workdir=DIR         host DIR bound read-write at /box, the working directory\n"
        "  --dir=HOST[:INSIDE][:rw]  bind another host path, read-only unless rw\n"
        "  --env=VAR=VALUE, --env=VAR  environment (empty otherwise, except PATH)\n"
        "  --net, --share-net    network: egress to the internet only, from a namespace of the\n"
        "                        box's own (default: no network at all); root only\n"
        "  --net-allow=CIDR      allow this destination although the deny list has it (repeatable)\n"
        "  --net-deny=CIDR       refuse this destination, even if --net-allow has it (repeatable);\n"
        "                        with --connect, the supervisor's lists apply instead\n"
        "                        (box daemon --net-allow/--net-deny)\n"
        "\n"
        "Output:\n"
        "  --result=FILE         write the result record as one JSON object\n"
        "  --quiet               no human-readable line on stderr\n"
        "  --connect=SOCKET      run through a resident supervisor (coderunner box daemon);\n"
        "                        also from $CODERUNNER_BOX_SOCKET\n"
        "\n"
        "Exit status: 0 when the program ran and the record was written (whatever the verdict),\n"
        "1 on a usage error, 2 when the sandbox itself failed.\n";

static const char daemon_help[] =
        "Usage: coderunner box daemon [--socket=PATH] [--slots=N] [--client-uid=UID] [--uid-base=UID]\n"
        "                             [--read-timeout=SEC] [--idle-timeout=SEC]\n"
        "                             [--net-allow=CIDR]... [--net-deny=CIDR]...\n"
        "\n"
        "Serve sandbox runs on a local socket (one slot per concurrent run) until SIGTERM.\n"
        "Clients: coderunner box run --connect=PATH, or the library's box_client_run().\n"
        "  --socket=PATH     default /run/coderunner/box.sock\n"
        "  --slots=N         concurrent runs (default: the number of CPUs)\n"
        "  --client-uid=UID  besides root, the user allowed to connect\n"
        "  --uid-base=UID    box users are UID+slot, refused when another service has any of them\n"
        "                    (default: the first free range from 60000 up)\n"
        "  --read-timeout=SEC  a request that started must be complete within SEC (default 5)\n"
        "  --idle-timeout=SEC  a connection silent that long between requests is closed (default 60)\n"
        "  --net-allow=CIDR  networked runs may reach this destination although the built-in\n"
        "                    deny list (private, loopback, link-local...) has it (repeatable)\n"
        "  --net-deny=CIDR   networked runs may not reach this destination, even if --net-allow\n"
        "                    has it (repeatable)\n"
        "A connection that finds every slot taken is answered busy and closed.\n";

enum {
        OPT_OPEN_FILES = 256,
        OPT_TMP_SIZE,
        OPT_STDIN,
        OPT_STDOUT,
        OPT_STDERR,
        OPT_STDERR_TO_STDOUT,
        OPT_WORKDIR,
        OPT_DIR,
        OPT_ENV,
        OPT_SHARE_NET,
        OPT_RESULT,
        OPT_QUIET,
        OPT_CONNECT,
        OPT_SOCKET,
        OPT_SLOTS,
        OPT_CLIENT_UID,
        OPT_UID_BASE,
        OPT_READ_TIMEOUT,
        OPT_IDLE_TIMEOUT,
        OPT_NET_ALLOW,
        OPT_NET_DENY,
};

typedef struct RunArgs {
        BoxSpec spec;
        char **env;
        BoxBind binds[BOX_MAX_BINDS];
        const char *stdin_path, *stdout_path, *stderr_path, *result_path, *connect;
        bool quiet;
        char **net_allow, **net_deny;
} RunArgs;

/* --net-allow / --net-deny: one CIDR, checked now, appended to *list. */
static int add_cidr(const char *opt, const char *value, char ***list) {
        if (box_net_check_cidr(value) < 0) {
                log_error(
                        0, "--%s=%s: expected an IPv4 or IPv6 address with an optional /PREFIX", opt, value);
                return -EINVAL;
        }
        if (strv_extend(list, value) < 0) {
                log_error(ENOMEM, "out of memory");
                return -ENOMEM;
        }
        return 0;
}

static int bad_value(const char *opt, const char *value, int r) {
        if (r == -ERANGE)
                log_error(0, "--%s=%s: out of range", opt, value);
        else
                log_error(0, "--%s=%s: not a valid number", opt, value);
        return 1;
}

static int parse_dir(const char *arg, BoxBind *b) {
        /* HOST[:INSIDE][:rw|ro] */
        _cleanup_free_ char *copy = strdup(arg);
        if (!copy)
                return -ENOMEM;
        char *parts[4] = {};
        size_t n = 0;
        for (char *p = copy; n < 4;) {
                parts[n++] = p;
                char *c = strchr(p, ':');
                if (!c)
                        break;
                *c = '\0';
                p = c + 1;
        }
        const char *host = parts[0], *inside = NULL, *mode = NULL;
        if (n == 2 && (strcmp(parts[1], "rw") == 0 || strcmp(parts[1], "ro") == 0))
                mode = parts[1];
        else if (n >= 2)
                inside = parts[1];
        if (n == 3)
                mode = parts[2];
        if (n > 3 || !host[0] || (inside && !inside[0]))
                return -EINVAL;
        if (mode && strcmp(mode, "rw") != 0 && strcmp(mode, "ro") != 0)
                return -EINVAL;
        if (host[0] != '/' || (inside && inside[0] != '/'))
                return -EINVAL;
        b->host = strdup(host);
        b->inside = strdup(inside ? inside : host);
        b->rw = mode && strcmp(mode, "rw") == 0;
        if (!b->host || !b->inside)
                return -ENOMEM;
        return 0;
}

static void write_record(FILE *f, const BoxResult *r, const char *sandbox) {
        char cpu[32], wall[32];
        format_seconds(r->cpu_time_usec, cpu);
        format_seconds(r->wall_time_usec, wall);
        const char *limit = box_limit_to_string(r->limit);
        fprintf(f, "{\"status\":\"%s\",\"limit\":", box_status_to_string(r->status));
        if (limit)
                fprintf(f, "\"%s\"", limit);
        else
                fputs("null", f);
        fputs(",\"exit_code\":", f);
        if (r->exit_code >= 0)
                fprintf(f, "%d", r->exit_code);
        else
                fputs("null", f);
        fputs(",\"signal\":", f);
        if (r->signal > 0)
                fprintf(f, "%d", r->signal);
        else
                fputs("null", f);
        fprintf(f, ",\"cpu_time\":%s,\"wall_time\":%s,\"memory\":%" PRIu64 ",\"message\":", cpu, wall,
                r->memory_kib);
        json_write_cstring(f, r->message);
        fprintf(f,
                ",\"oom_killed\":%s,\"stdout_bytes\":%" PRIu64 ",\"stderr_bytes\":%" PRIu64
                ",\"unenforced\":[",
                r->oom_killed ? "true" : "false", r->stdout_bytes, r->stderr_bytes);
        static const struct {
                uint32_t bit;
                const char *name;
        } un[] = {
                {BOX_UNENFORCED_MEMORY, "memory"},
                {BOX_UNENFORCED_PROCESSES, "processes"},
                {BOX_UNENFORCED_CPU_TREE, "cpu-tree"},
        };
        bool first = true;
        for (size_t i = 0; i < ELEMENTSOF(un); i++)
                if (r->unenforced & un[i].bit) {
                        fprintf(f, "%s\"%s\"", first ? "" : ",", un[i].name);
                        first = false;
                }
        fputs("],\"sandbox\":", f);
        json_write_cstring(f, sandbox ? sandbox : "");
        fputs("}\n", f);
}

static void human_line(const BoxResult *r) {
        char cpu[32], wall[32];
        format_seconds(r->cpu_time_usec, cpu);
        format_seconds(r->wall_time_usec, wall);
        fprintf(stderr, "%s%s%s (%s sec cpu, %s sec wall, %" PRIu64 " KiB)\n",
                box_status_to_string(r->status), r->message[0] ? ": " : "", r->message, cpu, wall,
                r->memory_kib);
        if (r->unenforced)
                fprintf(stderr,
                        "warning: some limits could not be enforced on this host (see \"unenforced\")\n");
}

static int open_stream(const char *path, int flags, const char *what) {
        int fd = open(path, flags | O_CLOEXEC | O_NOCTTY, 0644);
        if (fd < 0)
                log_error(errno, "--%s=%s: %s", what, path, strerror(errno));
        return fd;
}

static int box_run_main(int argc, char **argv) {
        static const struct option own_opts[] = {
                {"help", no_argument, NULL, 'h'},
                {"open-files", required_argument, NULL, OPT_OPEN_FILES},
                {"tmp-size", required_argument, NULL, OPT_TMP_SIZE},
                {"stdin", required_argument, NULL, OPT_STDIN},
                {"stdout", required_argument, NULL, OPT_STDOUT},
                {"stderr", required_argument, NULL, OPT_STDERR},
                {"stderr-to-stdout", no_argument, NULL, OPT_STDERR_TO_STDOUT},
                {"workdir", required_argument, NULL, OPT_WORKDIR},
                {"dir", required_argument, NULL, OPT_DIR},
                {"env", required_argument, NULL, OPT_ENV},
                {"share-net", no_argument, NULL, OPT_SHARE_NET},
                {"net", no_argument, NULL, OPT_SHARE_NET},
                {"net-allow", required_argument, NULL, OPT_NET_ALLOW},
                {"net-deny", required_argument, NULL, OPT_NET_DENY},
                {"result", required_argument, NULL, OPT_RESULT},
                {"quiet", no_argument, NULL, OPT_QUIET},
                {"connect", required_argument, NULL, OPT_CONNECT},
                {},
        };
        struct option opts[64];
        RunArgs a = {};
        CliLimits lim = {};
        int c, r, ret = 1, slot_fd = -1;
        uint64_t v;

        if (!cli_options_with_limits(own_opts, opts, ELEMENTSOF(opts)))
                return log_error(E2BIG, "internal error: option table"), 2;

        box_spec_init(&a.spec);
        a.connect = getenv("CODERUNNER_BOX_SOCKET");
        if (a.connect && !*a.connect)
                a.connect = NULL;
        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        fputs(run_help, stdout);
                        ret = 0;
                        goto out;
                case OPT_OPEN_FILES:
                case OPT_TMP_SIZE:
                        r = parse_u64_max(optarg, c == OPT_OPEN_FILES ? MAX_COUNT : MAX_KIB, &v);
                        if (r < 0) {
                                ret = bad_value(cli_option_name(opts, c), optarg, r);
                                goto out;
                        }
                        if (c == OPT_OPEN_FILES)
                                a.spec.open_files = (uint32_t) v;
                        else
                                a.spec.tmp_kib = v;
                        break;
                case OPT_STDIN:
                        a.stdin_path = optarg;
                        break;
                case OPT_STDOUT:
                        a.stdout_path = optarg;
                        break;
                case OPT_STDERR:
                        a.stderr_path = optarg;
                        break;
                case OPT_STDERR_TO_STDOUT:
                        a.spec.stderr_to_stdout = true;
                        break;
                case OPT_WORKDIR:
                        a.spec.workdir = optarg;
                        break;
                case OPT_DIR:
                        if (a.spec.n_binds >= BOX_MAX_BINDS) {
                                log_error(0, "--dir: at most %d binds", BOX_MAX_BINDS);
                                goto out;
                        }
                        if (parse_dir(optarg, &a.binds[a.spec.n_binds]) < 0) {
                                log_error(0, "--dir=%s: expected HOST[:INSIDE][:rw] with absolute paths",
                                        optarg);
                                goto out;
                        }
                        a.spec.n_binds++;
                        break;
                case OPT_ENV: {
                        const char *eq = strchr(optarg, '=');
                        if (eq == optarg || !*optarg) {
                                log_error(0, "--env=%s: expected VAR=VALUE or VAR", optarg);
                                goto out;
                        }
                        if (!eq) {
                                const char *val = getenv(optarg);
                                if (!val)
                                        break;
                                _cleanup_free_ char *kv = NULL;
                                if (asprintf(&kv, "%s=%s", optarg, val) < 0 || strv_extend(&a.env, kv) < 0) {
                                        log_error(ENOMEM, "out of memory");
                                        goto out;
                                }
                        } else if (strv_extend(&a.env, optarg) < 0) {
                                log_error(ENOMEM, "out of memory");
                                goto out;
                        }
                        break;
                }
                case OPT_SHARE_NET:
                        a.spec.share_net = true;
                        break;
                case OPT_NET_ALLOW:
                case OPT_NET_DENY:
                        if (add_cidr(c == OPT_NET_ALLOW ? "net-allow" : "net-deny", optarg,
                                    c == OPT_NET_ALLOW ? &a.net_allow : &a.net_deny) < 0)
                                goto out;
                        break;
                case OPT_RESULT:
                        a.result_path = optarg;
                        break;
                case OPT_QUIET:
                        a.quiet = true;
                        break;
                case OPT_CONNECT:
                        a.connect = optarg;
                        break;
                case '?':
                default:
                        r = cli_limits_parse(c, optarg, &lim);
                        if (r > 0)
                                break;
                        if (r < 0)
                                goto out;
                        if (optopt && optopt < 256)
                                log_error(0, "box run: unknown option '-%c' (see --help)", optopt);
                        else
                                log_error(0, "box run: unknown option or missing value '%s' (see --help)",
                                        argv[optind - 1]);
                        goto out;
                }
        }
        if (optind >= argc) {
                log_error(0, "box run: no program given (usage: coderunner box run [OPTIONS] -- PROGRAM "
                             "[ARG...])");
                goto out;
        }
        a.spec.argv = argv + optind;
        if (a.connect && (a.net_allow || a.net_deny)) {
                log_error(0, "box run: --net-allow and --net-deny are the supervisor's with --connect "
                             "(give them to `coderunner box daemon`)");
                goto out;
        }
        a.spec.cpu_time_usec = lim.cpu_time_usec;
        a.spec.extra_time_usec = lim.extra_time_usec;
        a.spec.wall_time_usec = lim.wall_time_usec;
        a.spec.memory_kib = lim.memory_kib;
        a.spec.stack_kib = lim.stack_kib;
        a.spec.fsize_kib = lim.fsize_kib;
        a.spec.output_kib = lim.output_kib;
        a.spec.processes = (uint32_t) lim.processes;
        a.spec.per_process_time = lim.per_process_time;
        a.spec.per_process_memory = lim.per_process_memory;
        a.spec.env = a.env;
        a.spec.binds = a.binds;
        if (a.spec.workdir) {
                struct stat st;
                if (stat(a.spec.workdir, &st) < 0 || !S_ISDIR(st.st_mode)) {
                        log_error(0, "--workdir=%s: not a directory", a.spec.workdir);
                        goto out;
                }
        }
        if (a.stdin_path && (a.spec.stdin_fd = open_stream(a.stdin_path, O_RDONLY, "stdin")) < 0)
                goto out;
        a.spec.stdout_fd = a.stdout_path ? open_stream(a.stdout_path, O_WRONLY | O_CREAT | O_TRUNC, "stdout")
                                         : STDOUT_FILENO;
        if (a.spec.stdout_fd < 0)
                goto out;
        a.spec.stderr_fd = a.stderr_path ? open_stream(a.stderr_path, O_WRONLY | O_CREAT | O_TRUNC, "stderr")
                                         : STDERR_FILENO;
        if (a.spec.stderr_fd < 0)
                goto out;

        BoxResult res;
        const char *sandbox = NULL;
        BoxContext *ctx = NULL;
        BoxClient *client = NULL;
        if (a.connect) {
                r = box_client_connect(a.connect, &client);
                if (r < 0) {
                        log_error(r, "cannot connect to the sandbox supervisor at %s: %s", a.connect,
                                strerror(-r));
                        ret = 2;
                        goto out;
                }
                box_client_last_request(client);
                r = box_client_run(client, &a.spec, &res);
                sandbox = "supervisor";
        } else {
                unsigned slot = cli_slot_acquire(&slot_fd);
                r = box_context_new(&(BoxContextConfig){.slot = slot,
                                            .net_allow = (const char *const *) a.net_allow,
                                            .net_deny = (const char *const *) a.net_deny},
                        &ctx);
                if (r < 0) {
                        log_error(r, "cannot prepare the sandbox: %s", strerror(-r));
                        ret = 2;
                        goto out;
                }
                r = box_run(ctx, &a.spec, &res);
                sandbox = box_context_describe(ctx);
        }
        if (r == -EBUSY) {
                log_error(r, "the sandbox supervisor at %s is busy: every slot is taken", a.connect);
                box_client_free(client);
                ret = 2;
                goto out;
        }
        if (r < 0) {
                log_error(r, "the sandbox failed: %s", strerror(-r));
                box_client_free(client);
                box_context_free(ctx);
                ret = 2;
                goto out;
        }
        if (a.result_path) {
                FILE *f = fopen(a.result_path, "we");
                if (!f) {
                        log_error(errno, "--result=%s: %s", a.result_path, strerror(errno));
                        box_client_free(client);
                        box_context_free(ctx);
                        ret = 2;
                        goto out;
                }
                write_record(f, &res, sandbox);
                if (fclose(f) != 0) {
                        log_error(errno, "--result=%s: %s", a.result_path, strerror(errno));
                        ret = 2;
                }
        }
        if (!a.quiet)
                human_line(&res);
        box_client_free(client);
        box_context_free(ctx);
        if (ret != 2)
                ret = res.status == BOX_STATUS_XX ? 2 : 0;
out:
        if (slot_fd >= 0)
                close(slot_fd);
        if (a.spec.stdin_fd >= 0)
                close(a.spec.stdin_fd);
        if (a.stdout_path && a.spec.stdout_fd >= 0)
                close(a.spec.stdout_fd);
        if (a.stderr_path && a.spec.stderr_fd >= 0)
                close(a.spec.stderr_fd);
        for (size_t i = 0; i < a.spec.n_binds; i++) {
                free(a.binds[i].host);
                free(a.binds[i].inside);
        }
        strv_free(a.env);
        strv_free(a.net_allow);
        strv_free(a.net_deny);
        return ret;
}

static int box_daemon_main(int argc, char **argv) {
        static const struct option opts[] = {
                {"help", no_argument, NULL, 'h'},
                {"socket", required_argument, NULL, OPT_SOCKET},
                {"slots", required_argument, NULL, OPT_SLOTS},
                {"client-uid", required_argument, NULL, OPT_CLIENT_UID},
                {"uid-base", required_argument, NULL, OPT_UID_BASE},
                {"read-timeout", required_argument, NULL, OPT_READ_TIMEOUT},
                {"idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT},
                {"net-allow", required_argument, NULL, OPT_NET_ALLOW},
                {"net-deny", required_argument, NULL, OPT_NET_DENY},
                {},
        };
        _cleanup_(strv_freep) char **net_allow = NULL, **net_deny = NULL;
        BoxSupervisorConfig cfg = {.socket_path = "/run/coderunner/box.sock", .client_uid = (uid_t) -1};
        uint64_t v;
        int c, r;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        fputs(daemon_help, stdout);
                        return 0;
                case OPT_SOCKET:
                        cfg.socket_path = optarg;
                        break;
                case OPT_SLOTS:
                        r = parse_u64_max(optarg, 1024, &v);
                        if (r < 0 || v == 0)
                                return bad_value("slots", optarg, r < 0 ? r : -ERANGE);
                        cfg.slots = (unsigned) v;
                        break;
                case OPT_CLIENT_UID:
                        r = parse_u64_max(optarg, UINT32_MAX - 1, &v);
                        if (r < 0)
                                return bad_value("client-uid", optarg, r);
                        cfg.client_uid = (uid_t) v;
                        break;
                case OPT_UID_BASE:
                        r = parse_u64_max(optarg, UINT32_MAX - 65536, &v);
                        if (r < 0 || v == 0)
                                return bad_value("uid-base", optarg, r < 0 ? r : -ERANGE);
                        cfg.uid_base = (uid_t) v;
                        break;
                case OPT_READ_TIMEOUT:
                case OPT_IDLE_TIMEOUT:
                        r = parse_seconds_usec(optarg, 3600 * USEC_PER_SEC, &v);
                        if (r < 0 || v == 0)
                                return bad_value(c == OPT_READ_TIMEOUT ? "read-timeout" : "idle-timeout",
                                        optarg, r < 0 ? r : -ERANGE);
                        if (c == OPT_READ_TIMEOUT)
                                cfg.read_timeout_usec = v;
                        else
                                cfg.idle_timeout_usec = v;
                        break;
                case OPT_NET_ALLOW:
                case OPT_NET_DENY:
                        if (add_cidr(c == OPT_NET_ALLOW ? "net-allow" : "net-deny", optarg,
                                    c == OPT_NET_ALLOW ? &net_allow : &net_deny) < 0)
                                return 1;
                        break;
                default:
                        log_error(0, "box daemon: unknown option or missing value '%s' (see --help)",
                                argv[optind - 1]);
                        return 1;
                }
        }
        if (optind < argc) {
                log_error(0, "box daemon: unexpected argument '%s'", argv[optind]);
                return 1;
        }
        if (cfg.slots == 0) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                cfg.slots = n > 0 ? (unsigned) n : 1;
        }
        cfg.net_allow = (const char *const *) net_allow;
        cfg.net_deny = (const char *const *) net_deny;
        log_info("sandbox supervisor on %s (%u slots; stop with SIGTERM)", cfg.socket_path, cfg.slots);
        r = box_supervisor_serve(&cfg);
        return r < 0 ? 2 : 0;
}

static int box_info_main(void) {
        BoxContext *ctx = NULL;
        int r = box_context_new(&(BoxContextConfig){.slot = 0}, &ctx);
        if (r < 0) {
                log_error(r, "cannot prepare the sandbox: %s", strerror(-r));
                return 2;
        }
        printf("%s\n", box_context_describe(ctx));
        box_context_free(ctx);
        return 0;
}

int box_main(int argc, char **argv) {
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                FILE *f = argc < 2 ? stderr : stdout;
                fprintf(f, "Usage: coderunner box run [OPTIONS] -- PROGRAM [ARG...]\n"
                           "       coderunner box daemon [OPTIONS]\n"
                           "       coderunner box info\n"
                           "See coderunner box run --help, coderunner box daemon --help.\n");
                return argc < 2 ? 1 : 0;
        }
        if (strcmp(argv[1], "run") == 0)
                return box_run_main(argc - 1, argv + 1);
        if (strcmp(argv[1], "daemon") == 0)
                return box_daemon_main(argc - 1, argv + 1);
        if (strcmp(argv[1], "info") == 0)
                return box_info_main();
        log_error(0, "box: unknown subcommand '%s' (run, daemon, info)", argv[1]);
        return 1;
}
