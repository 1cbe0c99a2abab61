/* SPDX-License-Identifier: MIT */
#pragma once

#include "sandbox/sandbox-internal.h"

#define BOX_DEFAULT_UID_BASE 60000
#define BOX_ROOTLESS_UID 1000
#define BOX_STRBUF_SIZE (256 * 1024)

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

        JailPlan *plan; /* reused by every run */
        char *strbuf;
        char describe[400];
};
