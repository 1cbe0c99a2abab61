/* SPDX-License-Identifier: MIT */
#pragma once

/* Interactive runs (Piston's WebSocket, /api/v2/connect) inside one process tree
 * (coderunner serve): the API registers a live channel under a submission's token before
 * it queues the token; the worker that claims the token takes the channel and runs the
 * program on its streams. The channel is local sockets, so that neither side blocks the
 * other for long and a side that goes away is seen as such (EPIPE, EOF):
 *   - stdin: what the client types, read by the program as it comes;
 *   - stdout, stderr: the program's output as it produces it (the compile stage's output
 *     comes on stderr);
 *   - events: LiveEvent records (stage started, stage exited, done), each sent after the
 *     output it follows was written;
 *   - control: the API's requests to the sandbox (a signal: BoxSpec.control_fd).
 * The registry is a seam with two backends: the local one (live_registry_new(), one
 * process tree) and Redis's (live/live-redis.h, a cluster's API nodes and workers, which
 * meet only in Redis): either way each side sees local sockets. Thread-safe. */

#include <stdbool.h>
#include <stdint.h>

#include "model/submission.h"

typedef enum LiveEventKind {
        LIVE_STAGE, /* a stage starts */
        LIVE_EXIT, /* a stage ended */
        LIVE_DONE, /* nothing more comes */
        _LIVE_EVENT_KIND_MAX,
} LiveEventKind;

typedef struct LiveEvent {
        uint32_t kind; /* LiveEventKind */
        uint32_t run; /* 0: the compile stage, 1: the run stage */
        int32_t exit_code; /* -1 = none */
        int32_t signal; /* 0 = none */
        char status[4]; /* the sandbox's verdict ("RE", "SG", "TO", "ML", "OL", "XX"), "" when OK */
        char message[200]; /* "" = none */
} LiveEvent;

/* One side's ends of a channel (-1 = absent). */
typedef struct LiveChannel {
        int stdin_fd, stdout_fd, stderr_fd, events_fd, control_fd;
} LiveChannel;

void live_channel_close(LiveChannel *ch);

/* A fresh channel: *ret_api gets the API's ends (stdin to write, stdout, stderr and
 * events to read, control to write), *ret_worker the worker's. Both are the caller's. */
int live_channel_new(LiveChannel *ret_api, LiveChannel *ret_worker);

/* Send e on an events socket (one message, never SIGPIPE); -EPIPE once the reader is gone. */
int live_event_send(int fd, const LiveEvent *e);
/* Read one event: 0, -EAGAIN (none yet), -EPIPE (the writer is gone), -EBADMSG. */
int live_event_recv(int fd, LiveEvent *ret);

typedef struct LiveRegistry LiveRegistry;

#define LIVE_MAX_CHANNELS 1024

/* The local backend: the API and the workers of one process. */
int live_registry_new(LiveRegistry **ret);
/* Closes the channels still registered. Accepts NULL. */
LiveRegistry *live_registry_free(LiveRegistry *r);
/* Keep the worker's ends of a channel under token (taken over, whatever happens). -EEXIST,
 * -ENOSPC past LIVE_MAX_CHANNELS. */
int live_register(LiveRegistry *r, const char *token, LiveChannel *worker_ends);
/* The worker: take token's channel (the caller's afterwards). -ENOENT when none;
 * -ECANCELED when its session ended before: the run is not to happen. */
int live_take(LiveRegistry *r, const char *token, LiveChannel *ret);
/* The API: a session that ended before a worker took its channel drops it (the worker
 * then finishes the submission without running it). */
void live_drop(LiveRegistry *r, const char *token);
/* The API: a channel registered for a token that was never queued is forgotten (its
 * worker's ends closed), as if never registered. */
void live_forget(LiveRegistry *r, const char *token);
