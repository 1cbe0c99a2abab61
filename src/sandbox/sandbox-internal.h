/* SPDX-License-Identifier: MIT */
#pragma once

#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "base/macro.h"
#include "sandbox/box.h"

/* ---- cgroups (cgroup.c) ---- */

typedef enum CgVersion {
        CG_NONE,
        CG_V1,
        CG_V2,
} CgVersion;

typedef enum CgController {
        CG_MEMORY,
        CG_PIDS,
        CG_CPU, /* accounting only: v1 cpuacct, v2 cpu.stat (always present) */
        _CG_MAX,
} CgController;

typedef struct CgroupSetup {
        CgVersion where[_CG_MAX];
        /* v2: the directory the box cgroups are created in (controllers enabled). */
        char *v2_parent;
        /* v1: per controller, the directory of our own cgroup (box cgroups go in it) and
         * an fd of its `tasks` file, through which the launching thread returns home. */
        char *v1_parent[_CG_MAX];
        int v1_home_tasks[_CG_MAX];
        bool v1_memsw; /* memory.memsw.* exists (swap accounting) */
        char describe[256];
} CgroupSetup;

typedef struct BoxCgroup {
        char name[96];
        int v2_dir; /* O_DIRECTORY fd, for CLONE_INTO_CGROUP; -1 when unused */
        int v1_dir[_CG_MAX]; /* -1 when that controller is not on v1 */
        int v1_tasks[_CG_MAX]; /* `tasks` of each v1 box cgroup */
        int cpu_fd; /* v2 cpu.stat or v1 cpuacct.usage, kept open for polling */
        /* v1: an eventfd that becomes readable when the run's memory cgroup runs out of
         * memory, for the caller to kill the whole tree as v2's memory.oom.group does; -1
         * on v2 (the kernel kills the whole group itself) and without a memory cgroup. */
        int oom_fd;
        uint64_t oom_kills_before;
} BoxCgroup;

int cgroup_setup_init(CgroupSetup *s, const char *delegated, bool rootless);
void cgroup_setup_done(CgroupSetup *s);

/* Make the cgroups of one run (box_cgroup_make), set its limits (box_cgroup_limit), or
 * both (box_cgroup_create). */
int box_cgroup_make(const CgroupSetup *s, const char *name, BoxCgroup *ret);
int box_cgroup_limit(const CgroupSetup *s, const BoxCgroup *cg, const BoxSpec *spec, uint32_t pids_extra);
int box_cgroup_create(
        const CgroupSetup *s, const char *name, const BoxSpec *spec, uint32_t pids_extra, BoxCgroup *ret);
/* The calling thread enters (enter=true) or leaves the run's v1 cgroups. Writing "0" to a
 * v1 `tasks` file moves only the calling thread and skips the RCU wait that a pid write
 * pays (5-20 ms here against 0.07 ms). */
int box_cgroup_enter_v1(const CgroupSetup *s, const BoxCgroup *cg, bool enter);
/* CPU time of the run so far (usec), or -errno. */
int box_cgroup_cpu_usec(const CgroupSetup *s, const BoxCgroup *cg, uint64_t *ret);
int box_cgroup_memory_peak_kib(const CgroupSetup *s, const BoxCgroup *cg, uint64_t *ret);
int box_cgroup_oom_kills(const CgroupSetup *s, const BoxCgroup *cg, uint64_t *ret);
/* Kill everything in the run's cgroups (v2 cgroup.kill; v1: signal each task). */
void box_cgroup_kill(const CgroupSetup *s, const BoxCgroup *cg);
/* Remove the run's cgroups; waits (bounded) until they are empty. */
void box_cgroup_destroy(const CgroupSetup *s, BoxCgroup *cg);

/* ---- seccomp (seccomp.c) ---- */

/* Compile the policy with libseccomp (build time only: seccomp-gen); *ret is malloc'd. */
int seccomp_build(struct sock_fprog *ret);
/* The policy compiled at build time; *ret points to static memory. */
void seccomp_program_get(struct sock_fprog *ret);

/* ---- the jail (jail.c): everything between clone and execve ---- */

typedef enum JailMountKind {
        JM_BIND, /* src_fd (O_PATH, or a detached tree) onto target, read-only unless rw */
        JM_TMPFS, /* data = mount options */
        JM_PROC,
        JM_SYMLINK, /* data = link target */
        JM_FILE, /* data = contents (a small file written in the root tmpfs) */
        JM_DIR,
        JM_REMOUNT_RO, /* make an already populated mount read-only */
        JM_DEVNODE, /* mknod a character device (dev_t in `rdev`); root only */
        /* A tmpfs of a prepared root (made at the default size) given the run's size
         * (data = "size=..."); nothing when the run builds its root itself. */
        JM_RESIZE,
} JailMountKind;

typedef struct JailMount {
        JailMountKind kind;
        const char *target; /* relative to the new root, no leading '/' */
        const char *data;
        const char *src_path; /* JM_BIND: host path, opened by the child before the root is built */
        bool as_peer; /* open src_path with the requesting client's filesystem identity */
        /* Depends on the run (its spec or its pid namespace): made by the run itself even
         * when the rest of the root was prepared ahead (JailPlan.root_fd). */
        bool per_run;
        int src_fd; /* set by the child */
        bool src_is_dir;
        bool rw;
        bool dev; /* keep device access (the /dev node binds and tmpfs) */
        dev_t rdev; /* JM_DEVNODE */
        unsigned long locked_flags; /* flags a user namespace must keep on remount */
} JailMount;

#define JAIL_MAX_MOUNTS 160
#define BOX_DEFAULT_TMP_KIB (64 * 1024) /* /box and /tmp without BoxSpec.tmp_kib */

typedef struct JailPlan {
        JailMount mounts[JAIL_MAX_MOUNTS];
        size_t n_mounts;

        int netns_fd; /* setns() into it; -1 = a fresh netns from clone (or the host's) */
        /* A mount namespace whose root holds every mount that is not per_run, made by
         * jail_prepare_root() for this run alone: the run enters it (setns) instead of
         * building a root of its own, and adds only the per_run mounts. -1 = none. */
        int root_fd;
        /* The child was cloned with CLONE_CLEAR_SIGHAND (every handler back to SIG_DFL):
         * only the signals ignored_signals names (bit sig - 1: ignored in the caller) are
         * left to reset. Otherwise every disposition is reset one by one. */
        bool handlers_cleared;
        uint64_t ignored_signals;
        bool hostname_set; /* the UTS namespace it is cloned into is new and named already */
        uid_t peer_uid; /* whose identity opens the caller's bind sources (0 = ours) */
        gid_t peer_gid;
        bool rootless;
        uid_t outer_uid;
        gid_t outer_gid;
        uid_t uid; /* the program's uid/gid as seen inside */
        gid_t gid;
        int cap_last_cap;
        char uid_map[64], gid_map[64];

        int stdin_fd, stdout_fd, stderr_fd; /* the program's 0,1,2 */
        int error_fd; /* write end: setup failures, cloexec */
        int status_fd; /* write end: the program's wait status */

        struct rlimit_pair {
                int resource;
                unsigned long long value;
        } rlimits[12];
        size_t n_rlimits;

        char *const *argv;
        char *const *envp;
        const char *path_dirs; /* ':'-separated, for a bare argv[0] */
        char exec_buf[BOX_MAX_STRING + 256];
        /* The program's stack until it execs: it is created with CLONE_VM|CLONE_VFORK, so
         * it shares init's memory (no page tables copied) while init waits. */
        _Alignas(16) char program_stack[64 * 1024];
        const struct sock_fprog *seccomp;
} JailPlan;

typedef enum JailStage {
        STAGE_NETNS = 1,
        STAGE_USERNS,
        STAGE_PROPAGATION,
        STAGE_ROOT,
        STAGE_MOUNT,
        STAGE_HOSTNAME,
        STAGE_PIVOT,
        STAGE_FORK,
        STAGE_STDIO,
        STAGE_RLIMIT,
        STAGE_CHDIR,
        STAGE_CAPS,
        STAGE_IDS,
        STAGE_NNP,
        STAGE_SECCOMP,
        STAGE_EXEC,
        _STAGE_MAX,
} JailStage;

/* The error record a jail writes to error_fd. */
typedef struct JailError {
        int stage; /* JailStage */
        int error; /* errno */
        char detail[128];
} JailError;

/* What init reports when the program exits. */
typedef struct JailStatus {
        int status; /* wait status */
        struct rusage ru; /* the program and the children it waited for */
} JailStatus;

/* Body of the cloned child: becomes the pid namespace's init, forks the program, reports
 * its wait status through status_fd. Never returns. */
_Noreturn void jail_main(JailPlan *plan);
/* Build, in a new mount namespace, a root with the mounts of plan that are not per_run
 * (pivoted into, the old root detached, still writable) and return that namespace as an
 * fd (*ret_fd, O_CLOEXEC) for one run's JailPlan.root_fd. Runs a short-lived child that
 * shares our memory and descriptors (we wait for it); plan->mounts[].src_fd are used.
 * Root only. Returns 0 or -errno. */
int jail_prepare_root(JailPlan *plan, int *ret_fd);
/* Whether the new mount API that a run entering a prepared root attaches its binds with
 * (open_tree, mount_setattr; move_mount came with them) is there: an old kernel or a
 * container's seccomp profile may refuse it. 0 or -errno. */
int jail_probe_mount_api(void);
const char *jail_stage_to_string(int stage);

/* ---- the mount plan (mounts.c) ---- */

typedef struct RuntimeBinds RuntimeBinds;
/* Open the runtime paths once (O_PATH fds) and decide symlink vs bind for each. */
int runtime_binds_new(RuntimeBinds **ret);
RuntimeBinds *runtime_binds_free(RuntimeBinds *r);
/* Fill plan->mounts for one run. */
int mount_plan_build(const RuntimeBinds *r, const BoxSpec *spec, JailPlan *plan, char *strbuf,
        size_t strbuf_size, char *errbuf, size_t errlen);

/* ---- the host's registry of box uids (uids.c) ---- */

/* Open (or make, 0600) the registry file; -EPERM when it is not ours alone. */
int uid_registry_open(const char *path);
/* Claim the uids [first, first + count) for as long as the descriptor fd stays open
 * anywhere (forked children share it). -EBUSY when another holder has any of them,
 * -ERANGE for a range that is empty, too high or covers 65534-65535. */
int uid_range_claim(int fd, uid_t first, unsigned count);
/* Claim the first free range of count uids at or above `from`, outside
 * [skip_first, skip_end) and 65534-65535; its first uid goes to *ret_first. */
int uid_range_claim_free(
        int fd, uid_t from, unsigned count, uid_t skip_first, uid_t skip_end, uid_t *ret_first);

/* ---- what a run left in its workdir (workdir.c) ---- */

/* Clear the setuid and setgid bits of every regular file and directory owned by `owner`
 * (the box uid: what the run made) below top_fd (a directory, O_PATH is fine), at any
 * depth, never following a link. The number of entries changed goes to *ret_stripped
 * (may be NULL). -ESTALE when the tree moved under the walk. */
int workdir_strip_setid(int top_fd, uid_t owner, uint64_t *ret_stripped);

/* box_run() on behalf of a client: the caller's paths are opened with its identity. */
int box_run_as(BoxContext *c, const BoxSpec *spec, uid_t peer_uid, gid_t peer_gid, BoxResult *ret);

/* ---- wire protocol between client and supervisor (proto.c) ---- */

#define PROTO_MAX_MESSAGE (256 * 1024)

/* Encode spec (without its fds) into a malloc'd buffer. */
int proto_encode_spec(const BoxSpec *spec, uint8_t **ret, size_t *ret_len);
/* Decode into spec; strings point into a malloc'd arena returned in *ret_arena. The
 * input is untrusted (it comes from a less privileged client): every length checked. */
int proto_decode_spec(const uint8_t *buf, size_t len, BoxSpec *spec, void **ret_arena);
void proto_encode_result(const BoxResult *r, uint8_t out[static sizeof(BoxResult) + 16], size_t *ret_len);
int proto_decode_result(const uint8_t *buf, size_t len, BoxResult *ret);
