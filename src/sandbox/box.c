/* SPDX-License-Identifier: MIT */
/* The per-slot context: what is prepared once and reused by every run. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/log.h"
#include "base/parse-util.h"
#include "sandbox/box-internal.h"

static const char *const status_names[_BOX_STATUS_MAX] = {
        [BOX_STATUS_OK] = "OK",
        [BOX_STATUS_RE] = "RE",
        [BOX_STATUS_SG] = "SG",
        [BOX_STATUS_TO] = "TO",
        [BOX_STATUS_ML] = "ML",
        [BOX_STATUS_OL] = "OL",
        [BOX_STATUS_XX] = "XX",
};

static const char *const limit_names[_BOX_LIMIT_MAX] = {
        [BOX_LIMIT_NONE] = NULL,
        [BOX_LIMIT_CPU] = "cpu",
        [BOX_LIMIT_WALL] = "wall",
        [BOX_LIMIT_MEMORY] = "memory",
        [BOX_LIMIT_OUTPUT] = "output",
};

const char *box_status_to_string(BoxStatus s) {
        if ((unsigned) s >= _BOX_STATUS_MAX)
                return "XX";
        return status_names[s];
}

const char *box_limit_to_string(BoxLimit l) {
        if ((unsigned) l >= _BOX_LIMIT_MAX)
                return NULL;
        return limit_names[l];
}

void box_spec_init(BoxSpec *spec) {
        *spec = (BoxSpec){
                .stdin_fd = -EBADF,
                .stdout_fd = -EBADF,
                .stderr_fd = -EBADF,
                .control_fd = -EBADF,
        };
}

/* The next run's root, built now (between answers) in a mount namespace of its own:
 * everything of the plan that does not depend on the run. */
static void prepare_root(BoxContext *c) {
        BoxSpec spec;
        char err[256];
        int r = 0;

        box_spec_init(&spec);
        *c->plan = (JailPlan){
                .root_fd = -EBADF,
                .netns_fd = -EBADF,
                .uid = c->uid,
                .gid = c->gid,
                .outer_uid = c->outer_uid,
                .outer_gid = c->outer_gid,
        };
        if (!c->root_probed) {
                r = jail_probe_mount_api();
                c->root_probed = true;
        }
        if (r >= 0)
                r = mount_plan_build(c->rt, &spec, c->plan, c->strbuf, BOX_STRBUF_SIZE, err, sizeof err);
        if (r >= 0)
                r = jail_prepare_root(c->plan, &c->root_fd);
        if (r < 0) {
                /* Not fatal: each run builds its root itself, as without a slot. */
                c->root_fd = -EBADF;
                c->root_broken = true;
                log_warning(r, "slot %u: cannot prepare roots ahead, each run builds its own: %s", c->slot,
                        strerror(-r));
        }
}

void box_context_cleanup(BoxContext *c) {
        /* The last run's mounts go first: its tree is gone, nobody waits. */
        c->pending_root_fd = safe_close(c->pending_root_fd);
        if (c->have_pending) {
                box_cgroup_kill(&c->cg, &c->pending);
                box_cgroup_destroy(&c->cg, &c->pending);
                c->have_pending = false;
        }
        /* Ahead of the next run, between answers: its IPC namespace (root only; a user
         * namespace run makes its own in clone). */
        if (c->defer_cleanup && !c->ipc_ready && !c->rootless && unshare(CLONE_NEWIPC) == 0)
                c->ipc_ready = true;
        if (c->defer_cleanup && !c->uts_ready && !c->rootless && unshare(CLONE_NEWUTS) == 0 &&
                sethostname("coderunner", 10) == 0)
                c->uts_ready = true;
        if (c->defer_cleanup && !c->signals_known) {
                c->ignored_signals = 0;
                for (int sig = 1; sig <= 64 && sig < _NSIG; sig++) {
                        struct sigaction sa;
                        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
                                c->ignored_signals |= UINT64_C(1) << (sig - 1);
                }
                c->signals_known = true;
        }
        if (c->defer_cleanup && !c->have_prepared) {
                char name[96];
                snprintf(name, sizeof name, "coderunner-%d-%u-p%" PRIu64, (int) getpid(), c->slot,
                        ++c->prepared_seq);
                if (box_cgroup_make(&c->cg, name, &c->prepared) == 0) {
                        /* The next run likely asks for the same limits as the last. */
                        BoxSpec spec;
                        box_spec_init(&spec);
                        spec.memory_kib = c->last_limits.memory_kib;
                        spec.processes = c->last_limits.processes;
                        if (box_cgroup_limit(&c->cg, &c->prepared, &spec, 1 /* init */) == 0)
                                c->prepared_limits = c->last_limits;
                        else
                                /* some written, some not: unusable as it is */
                                c->prepared_limits = (BoxCgroupLimits){UINT64_MAX, UINT32_MAX};
                        c->have_prepared = true;
                }
        }
        if (c->defer_cleanup && c->root_fd < 0 && !c->rootless && !c->root_broken)
                prepare_root(c);
}

BoxContext *box_context_free(BoxContext *c) {
        if (!c)
                return NULL;
        c->defer_cleanup = false; /* nothing more to prepare */
        box_context_cleanup(c);
        if (c->have_prepared)
                box_cgroup_destroy(&c->cg, &c->prepared);
        safe_close(c->root_fd);
        cgroup_setup_done(&c->cg);
        runtime_binds_free(c->rt);
        safe_close(c->netns_fd);
        netbox_free(c->netbox);
        safe_close(c->devnull_fd);
        free(c->plan);
        free(c->strbuf);
        free(c);
        return NULL;
}

static bool cidrs_valid(const char *const *l) {
        for (; l && *l; l++)
                if (box_net_check_cidr(*l) < 0)
                        return false;
        return true;
}

int box_context_new(const BoxContextConfig *cfg, BoxContext **ret) {
        BoxContext *c;
        int r;

        if (cfg && (!cidrs_valid(cfg->net_allow) || !cidrs_valid(cfg->net_deny)))
                return -EINVAL;
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->netns_fd = -EBADF;
        c->devnull_fd = -EBADF;
        c->root_fd = -EBADF;
        c->pending_root_fd = -EBADF;
        c->slot = cfg ? cfg->slot : 0;
        c->net_allow = cfg ? cfg->net_allow : NULL;
        c->net_deny = cfg ? cfg->net_deny : NULL;

        uid_t base = cfg && cfg->uid_base ? cfg->uid_base : BOX_DEFAULT_UID_BASE;
        c->rootless = geteuid() != 0;
        c->outer_uid = geteuid();
        c->outer_gid = getegid();
        if (c->rootless) {
                /* One uid is mapped: the box user inside is us outside. */
                c->uid = BOX_ROOTLESS_UID;
                c->gid = BOX_ROOTLESS_UID;
        } else {
                c->uid = base + c->slot;
                c->gid = base + c->slot;
        }

        c->plan = calloc(1, sizeof *c->plan);
        c->strbuf = malloc(BOX_STRBUF_SIZE);
        if (!c->plan || !c->strbuf) {
                r = -ENOMEM;
                goto fail;
        }
        c->devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (c->devnull_fd < 0) {
                r = -errno;
                goto fail;
        }
        r = cgroup_setup_init(&c->cg, getenv("CODERUNNER_CGROUP"), c->rootless);
        if (r < 0)
                goto fail;
        r = runtime_binds_new(&c->rt);
        if (r < 0)
                goto fail;
        seccomp_program_get(&c->seccomp);
        if (!c->rootless) {
                /* An empty network namespace, made once and joined by every run that has no
                 * network: creating one per run is the most expensive namespace (~0.4 ms
                 * here). Loopback stays down, so runs cannot talk to each other through it
                 * either. */
                r = net_make_netns();
                if (r < 0)
                        goto fail;
                c->netns_fd = r;
        }
        {
                _cleanup_free_ char *s = NULL;
                uint64_t v;
                if (read_file_at(AT_FDCWD, "/proc/sys/kernel/cap_last_cap", 32, &s, NULL) == 0) {
                        char *nl = strchr(s, '\n');
                        if (nl)
                                *nl = '\0';
                        c->cap_last_cap = parse_u64_max(s, 255, &v) == 0 ? (int) v : 63;
                } else
                        c->cap_last_cap = 63;
        }
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->ncpus = n > 0 ? (unsigned) n : 1;
        snprintf(c->describe, sizeof c->describe, "%s; uid %u; %s", c->cg.describe, (unsigned) c->uid,
                c->rootless ? "rootless (user namespace)" : "root");
        *ret = c;
        return 0;
fail:
        box_context_free(c);
        return r;
}

const char *box_context_describe(BoxContext *c) {
        return c->describe;
}
