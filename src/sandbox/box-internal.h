/* SPDX-License-Identifier: MIT */
#pragma once

#include <signal.h>

#include "sandbox/net-internal.h"
#include "sandbox/sandbox-internal.h"

#define BOX_DEFAULT_UID_BASE 60000
/* The uids of concurrent CLI commands (programs/cli-slot.h: the default base + 1024 + n,
 * n < 1024): a supervisor that picks its own range stays out of them. */
#define BOX_CLI_UIDS_FIRST (BOX_DEFAULT_UID_BASE + 1024)
#define BOX_CLI_UIDS_END (BOX_DEFAULT_UID_BASE + 2048)
#define BOX_UID_REGISTRY_DIR "/run/coderunner"
#define BOX_UID_REGISTRY BOX_UID_REGISTRY_DIR "/box-uids.lock"
#define BOX_ROOTLESS_UID 1000
#define BOX_STRBUF_SIZE (256 * 1024)

/* Remove what the last run left for later (its empty cgroups). */
void box_context_cleanup(BoxContext *c);

typedef struct BoxCgroupLimits {
        uint64_t memory_kib;
        uint32_t processes;
} BoxCgroupLimits;

struct BoxContext {
        unsigned slot;
        uid_t uid;
        gid_t gid;
        bool rootless;
        uid_t outer_uid;
        gid_t outer_gid;
        unsigned ncpus;
        int cap_last_cap;
        uint64_t seq;

        CgroupSetup cg;
        RuntimeBinds *rt;
        struct sock_fprog seccomp;
        int netns_fd; /* the empty namespace of runs without network */
        /* Runs with network: their namespace and its pasta, made on the first one. */
        const char *const *net_allow, *const *net_deny;
        NetBox *netbox;
        int devnull_fd;

        /* Set from a signal handler when the process that runs boxes must stop at once
         * (the supervisor's slot when its supervisor died): a run in progress is killed. */
        volatile sig_atomic_t *abort_flag;

        bool defer_cleanup; /* keep the last run's cgroups until box_context_cleanup() */
        /* With defer_cleanup: box_context_cleanup() also moves this process into a fresh,
         * empty IPC namespace that the next run inherits, so that clone need not make one
         * (~0.1 ms) while a client waits. Each run consumes it. */
        bool ipc_ready;
        /* Likewise a fresh UTS namespace, already named "coderunner". */
        bool uts_ready;
        /* The signals this process ignores (bit sig - 1), noted between answers: a run
         * whose init is cloned with CLONE_CLEAR_SIGHAND resets only those. A slot never
         * changes its dispositions once it serves. */
        uint64_t ignored_signals;
        bool signals_known;
        /* Likewise the next run's (empty) cgroups, made ahead with the limits of the
         * last run (the limits a cgroup takes from a BoxSpec: box_cgroup_limit()). */
        bool have_prepared;
        BoxCgroup prepared;
        BoxCgroupLimits prepared_limits, last_limits;
        uint64_t prepared_seq;
        bool have_pending;
        BoxCgroup pending;
        /* Likewise the next run's root (a mount namespace, JailPlan.root_fd), built
         * between answers; -1 when there is none (not root, not a slot, or it failed). */
        int root_fd;
        bool root_broken; /* preparing it failed once: runs build their own */
        bool root_probed; /* jail_probe_mount_api() was asked (once) */
        /* The last run's mount namespace, held open so that it is torn down after the
         * answer rather than while the client waits for init to exit. */
        int pending_root_fd;

        JailPlan *plan; /* reused by every run */
        char *strbuf;
        char describe[400];
};
