/* SPDX-License-Identifier: MIT */
#pragma once

/* For the live registry's backends only: a backend is a table of operations behind
 * LiveRegistry (the local one in live.c, Redis's in live/live-redis.c), and its struct
 * starts with a LiveRegistry whose ops point at that table. Callers use model/live.h. */

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
