/* SPDX-License-Identifier: MIT */
#pragma once

#include "sandbox/sandbox-internal.h"

#define BOX_DEFAULT_UID_BASE 60000
#define BOX_ROOTLESS_UID 1000
#define BOX_STRBUF_SIZE (256 * 1024)

/* Remove what the last run left for later (its empty cgroups). */
void box_context_cleanup(BoxContext *c);

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
        int netns_fd;
        int devnull_fd;

        bool defer_cleanup; /* keep the last run's cgroups until box_context_cleanup() */
        bool have_pending;
        BoxCgroup pending;

        JailPlan *plan; /* reused by every run */
        char *strbuf;
        char describe[400];
};
