/* SPDX-License-Identifier: MIT */
#pragma once

/* One isolated run of an untrusted program.
 *
 * Two ways in:
 *   - in-process: box_context_new() once, then box_run() per run (the calling process must
 *     be root, or the sandbox runs rootless in a user namespace);
 *   - resident supervisor: box_supervisor_start() forks a privileged supervisor that serves
 *     runs over a local socket; each BoxClient connection is one slot and can run one
 *     program at a time. The client side needs no privileges.
 * Both produce the same BoxResult for the same BoxSpec. */

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum BoxStatus {
        BOX_STATUS_OK, /* exited with code 0 */
        BOX_STATUS_RE, /* exited with a non-zero code */
        BOX_STATUS_SG, /* killed by a signal it did not get from us */
        BOX_STATUS_TO, /* a time limit (limit says cpu or wall) */
        BOX_STATUS_ML, /* the memory limit (the kernel's OOM killer fired in the box) */
        BOX_STATUS_OL, /* the output limit: killed while its output passed the cap */
        BOX_STATUS_XX, /* the sandbox itself failed; the message says why */
        _BOX_STATUS_MAX,
} BoxStatus;

typedef enum BoxLimit {
        BOX_LIMIT_NONE,
        BOX_LIMIT_CPU,
        BOX_LIMIT_WALL,
        BOX_LIMIT_MEMORY,
        BOX_LIMIT_OUTPUT,
        _BOX_LIMIT_MAX,
} BoxLimit;

/* Bits of BoxResult.unenforced: limits this host could not enforce (rootless without a
 * delegated cgroup, for instance). Never silently dropped: the record lists them. */
enum {
        BOX_UNENFORCED_MEMORY = 1u << 0,
        BOX_UNENFORCED_PROCESSES = 1u << 1,
        BOX_UNENFORCED_CPU_TREE = 1u << 2, /* CPU time is per process (RLIMIT_CPU), not the tree */
};

const char *box_status_to_string(BoxStatus s);
const char *box_limit_to_string(BoxLimit l); /* NULL for BOX_LIMIT_NONE */

typedef struct BoxBind {
        char *host; /* absolute host path */
        char *inside; /* absolute path in the sandbox */
        bool rw;
} BoxBind;

#define BOX_MAX_ARGS 1024
#define BOX_MAX_ENV 256
#define BOX_MAX_BINDS 64
#define BOX_MAX_STRING 4096

typedef struct BoxSpec {
        char **argv; /* NULL-terminated; argv[0] is searched in PATH inside unless it has a '/' */
        char **env; /* NULL-terminated "VAR=VALUE"; PATH is added when missing */

        uint64_t cpu_time_usec; /* 0 = none; CPU time of the whole tree */
        uint64_t extra_time_usec; /* grace after cpu_time_usec before the kill */
        uint64_t wall_time_usec; /* 0 = none */
        uint64_t memory_kib; /* 0 = none; whole tree, cgroup-charged */
        uint64_t stack_kib; /* 0 = inherit the default (8 MiB) */
        uint64_t fsize_kib; /* 0 = none; largest file the program may write */
        uint64_t output_kib; /* 0 = none; cap on stdout and on stderr, each */
        uint64_t tmp_kib; /* size of the private /tmp (and /box when no workdir) */
        uint32_t processes; /* 0 = none; processes + threads */
        uint32_t open_files; /* 0 = default (256) */

        /* Network access: egress to the internet only, from a network namespace of the
         * slot's own (never the host's), within the operator's allow/deny lists
         * (BoxContextConfig.net_allow/net_deny). Root only. */
        bool share_net;
        /* Judge0's enable_per_process_and_thread_*_limit: the limit holds for each process
         * (RLIMIT_CPU, whole seconds; RLIMIT_AS) instead of the whole tree (cgroup). */
        bool per_process_time;
        bool per_process_memory;
        bool stderr_to_stdout; /* 2>&1 into the same capture */

        const char *workdir; /* host dir bound rw at /box; NULL = a private tmpfs */
        BoxBind *binds;
        size_t n_binds;

        /* Standard streams. stdin_fd: read by the program (negative = empty). stdout_fd and
         * stderr_fd: where the captured, capped output is copied (negative = discarded). The caller keeps
         * ownership of all three. */
        int stdin_fd;
        int stdout_fd;
        int stderr_fd;
        /* Requests while it runs (interactive runs): a byte N in 1..64 read from it ends the
         * program's whole tree with SIGKILL (N is the caller's reason, said in the message);
         * EOF and other bytes are ignored. Negative = none. The caller keeps ownership. */
        int control_fd;
} BoxSpec;

/* Fill a spec with the defaults (no limits, no streams, no control: fds -EBADF). */
void box_spec_init(BoxSpec *spec);

typedef struct BoxResult {
        BoxStatus status;
        BoxLimit limit;
        int exit_code; /* -1 when it did not exit normally */
        int signal; /* 0 when not killed by a signal */
        uint64_t cpu_time_usec;
        uint64_t wall_time_usec;
        uint64_t memory_kib; /* peak of the whole tree */
        uint64_t stdout_bytes, stderr_bytes;
        bool oom_killed;
        uint32_t unenforced; /* BOX_UNENFORCED_* */
        char message[512];
} BoxResult;

/* ---- in-process ---- */

typedef struct BoxContext BoxContext;

typedef struct BoxContextConfig {
        unsigned slot; /* selects the box uid/gid (uid_base + slot) and cgroup name */
        uid_t uid_base; /* default 60000 */
        bool quiet_probe; /* do not log what could not be set up */
        /* The network policy of networked runs (share_net), the operator's: NULL-terminated
         * lists of CIDRs ("198.18.0.1/32", "2001:db8::/48"; a bare address is one host).
         * The built-in deny list (loopback, private, link-local, metadata, multicast,
         * reserved, documentation and benchmark ranges) applies unless net_allow names the
         * destination; net_deny wins over net_allow; the host's own addresses are always
         * refused. The strings must outlive the context. NULL = none. */
        const char *const *net_allow;
        const char *const *net_deny;
} BoxContextConfig;

/* Check one CIDR of the network policy: returns AF_INET or AF_INET6, or -EINVAL. */
int box_net_check_cidr(const char *cidr);
/* A configuration value of the network policy: CIDRs separated by commas or blanks ("" or
 * NULL = none). On success *ret is a NULL-terminated list the caller frees with
 * strv_free() (NULL when empty); -EINVAL (errbuf names the bad entry) or -E2BIG
 * otherwise. For serve's and worker's keys (net_allow, net_deny). */
int box_net_parse_list(const char *list, char ***ret, char *errbuf, size_t errlen);

/* Prepare everything that does not change between runs: cgroups (detected per controller,
 * created under the cgroup we run in), the empty network namespace, the seccomp program,
 * the mount plan. On success *ret owns a context; free it with box_context_free(). */
int box_context_new(const BoxContextConfig *cfg, BoxContext **ret);
BoxContext *box_context_free(BoxContext *c);

/* Run one program. Returns 0 when a result was produced (whatever the verdict, XX
 * included: its message says what failed), or -errno when no result could be made. */
int box_run(BoxContext *c, const BoxSpec *spec, BoxResult *ret);

/* One line describing the cgroup setup ("cgroup v1: memory pids cpuacct", ...). */
const char *box_context_describe(BoxContext *c);

/* ---- resident supervisor ---- */

typedef struct BoxSupervisor BoxSupervisor;

typedef struct BoxSupervisorConfig {
        const char *socket_path; /* NULL = a private path in a fresh temporary directory */
        unsigned slots; /* concurrent runs; 0 = number of CPUs */
        uid_t uid_base;
        uid_t client_uid; /* besides root, the uid allowed to connect (-1 = only root and us) */
        /* A connection is closed when its client stays silent between requests longer
         * than idle_timeout_usec (0 = 60 s), or takes longer than read_timeout_usec
         * (0 = 5 s) to send a request it started. */
        uint64_t idle_timeout_usec;
        uint64_t read_timeout_usec;
        const char *const *net_allow; /* the network policy of every slot (BoxContextConfig) */
        const char *const *net_deny;
} BoxSupervisorConfig;

/* Fork the supervisor: one process per slot, each serving one connection at a time; a
 * connection that finds every slot taken is answered "busy" (box_client_run() returns
 * -EBUSY) and closed. Returns once every slot is ready. */
int box_supervisor_start(const BoxSupervisorConfig *cfg, BoxSupervisor **ret);
const char *box_supervisor_socket(BoxSupervisor *s);
/* Stop the supervisor and its slots; waits for them. */
BoxSupervisor *box_supervisor_free(BoxSupervisor *s);

/* Serve in the calling process until SIGTERM/SIGINT (the `coderunner box daemon` command). */
int box_supervisor_serve(const BoxSupervisorConfig *cfg);

typedef struct BoxClient BoxClient;

int box_client_connect(const char *socket_path, BoxClient **ret);
BoxClient *box_client_free(BoxClient *c);
/* Same contract as box_run(). The spec's fds are passed to the supervisor. A connection
 * the supervisor closed while idle is made again; -EBUSY when every slot was taken (the
 * next call connects again). */
int box_client_run(BoxClient *c, const BoxSpec *spec, BoxResult *ret);
/* The next box_client_run() is the connection's last (a one-shot client): the supervisor
 * closes the connection once it has answered and frees the slot for the next client
 * before it prepares its next run. */
void box_client_last_request(BoxClient *c);
