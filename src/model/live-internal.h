/* SPDX-License-Identifier: MIT */
#pragma once

/* The live registry's seam: a backend is a table of operations behind LiveRegistry (the
 * local one in live.c, Redis's in live-redis.c). Each backend's struct starts with a
 * LiveRegistry. */

#include "model/live.h"

typedef struct LiveRegistryOps {
        int (*register_channel)(LiveRegistry *r, const char *token, LiveChannel *worker_ends);
        int (*take)(LiveRegistry *r, const char *token, LiveChannel *ret);
        void (*drop)(LiveRegistry *r, const char *token);
        void (*forget)(LiveRegistry *r, const char *token);
        void (*free)(LiveRegistry *r);
} LiveRegistryOps;

struct LiveRegistry {
        const LiveRegistryOps *ops;
};
