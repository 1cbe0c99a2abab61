/* SPDX-License-Identifier: MIT */
#pragma once

/* The live registry's Redis backend: interactive runs in a cluster, where the API node that
 * holds the WebSocket and the worker that runs the program meet only in Redis. Each side
 * keeps local sockets (model/live.h) and a bridge thread pumps them through Redis:
 *   - live_register() (an API node) marks the token live and bridges the worker's ends it
 *     is given: the client's stdin and signals go down a stream, the program's output and
 *     events come up another;
 *   - live_take() (a worker) claims the token, makes a fresh local channel, hands the
 *     worker's ends to the run and bridges the API's ends the other way.
 * Keys, for the queue's stream NAME (the url's ?stream=NAME, "coderunner" by default):
 *   NAME:live:TOKEN       "live" (registered), "taken" (a worker runs it), "dropped" (the
 *                         session ended: a worker that claims it later does not run it);
 *                         refreshed by the API side while its session lasts
 *   NAME:live:TOKEN:w     the worker side's heartbeat ("done" once its run ended)
 *   NAME:live:TOKEN:down  stream of records (model/live-record.h) API -> worker
 *   NAME:live:TOKEN:up    stream of records worker -> API
 * Every key expires (LIVE_REDIS_TTL_MSEC past its writer's last sign of life, "dropped"
 * after an hour), so a crash of either side leaves nothing behind for long. Each direction
 * is flow-controlled: a side sends at most LIVE_REDIS_WINDOW bytes the other has not used
 * yet (acknowledged by "ack" records, which also trim the used entries), so Redis holds a
 * bounded amount per session and a program that does not read its stdin pushes back to the
 * client as in one process. A side that goes away is seen by the other within the TTL: the
 * API side reports the run's end ("its worker stopped"), the worker side kills the run. */

#include "model/live.h"

#define LIVE_REDIS_TTL_MSEC 10000
#define LIVE_REDIS_WINDOW (256u * 1024)

/* A registry on the Redis at url (redis://..., with the queue's ?stream=NAME), serving both
 * sides: an API node registers, a worker takes. errbuf: NULL or REDIS_ERROR_MAX bytes for a
 * one-line reason. *ret is the caller's: live_registry_free() (which ends the bridges). */
int live_registry_redis_new(const char *url, char *errbuf, LiveRegistry **ret);
