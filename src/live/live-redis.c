/* SPDX-License-Identifier: MIT */
/* The live registry's Redis backend (live/live-redis.h). One bridge thread per session and
 * side, with two connections of its own: one blocks in XREAD on the other side's stream
 * (polled beside the local sockets), the other writes (a Lua script per record: XADD, the
 * expiry, the trim of what was used) and ticks (refresh our key, look at the other's). */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/macro.h"
#include "base/time-util.h"
#include "model/live-backend.h"
#include "model/live-record.h"
#include "live/live-redis.h"
#include "redis/redis.h"

#define NAME_MAX_LEN 128
#define KEY_MAX (NAME_MAX_LEN + SUBMISSION_TOKEN_LEN + 16)
#define ID_MAX 48 /* a stream entry id: two 64-bit decimals and a '-' */
#define TICK_USEC (1 * USEC_PER_SEC) /* our key refreshed, the other's looked at */
#define POLL_MSEC 100 /* the longest a bridge waits before it looks at its stop flag */
#define READ_BLOCK_MSEC "1000"
#define READ_COUNT "64"
#define DROPPED_TTL_MSEC "3600000"
/* Each record counts its data and this much toward the window (so that records without
 * data are bounded too). */
#define RECORD_UNITS 64
/* The receiving side acknowledges once it used this much since it last did. */
#define ACK_EVERY (LIVE_REDIS_WINDOW / 4)
/* Redis unreachable this long: the bridge gives up (the session or the run ends). */
#define GIVE_UP_USEC (10 * USEC_PER_SEC)
/* live_take()'s tries when Redis does not answer (100, 200, 400 ms apart). */
#define TAKE_ATTEMPTS 4
/* The worker side keeps the stdin it could not write yet: at most a window and a record. */
#define STDIN_BUFFER_MAX (LIVE_REDIS_WINDOW + LIVE_RECORD_MAX_DATA + RECORD_UNITS)

/* ---- scripts ---- */

/* KEYS: our stream, the other's; ARGV: ttl, the other's last used entry ("" = none), then
 * the record's fields. */
static const RedisScript send_script = {
        .name = "live-send",
        .source = "redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))\n"
                  "redis.call('PEXPIRE', KEYS[1], ARGV[1])\n"
                  "if ARGV[2] ~= '' then redis.call('XTRIM', KEYS[2], 'MINID', ARGV[2]) end\n"
                  "return 1\n",
};

/* KEYS: state, w, down; ARGV: ttl -> 1 taken, 0 none, 2 not to run (dropped: then
 * forgotten, the worker finishes the submission; or taken before). */
static const RedisScript take_script = {
        .name = "live-take",
        .source = "local s = redis.call('GET', KEYS[1])\n"
                  "if not s then return 0 end\n"
                  "if s == 'dropped' then redis.call('DEL', KEYS[1], KEYS[3]) end\n"
                  "if s ~= 'live' then return 2 end\n"
                  "redis.call('SET', KEYS[1], 'taken', 'KEEPTTL')\n"
                  "redis.call('SET', KEYS[2], 'run', 'PX', ARGV[1])\n"
                  "return 1\n",
};

/* The API side's tick. KEYS: state, w; ARGV: ttl -> 1 while the run is to come, runs or
 * ran; 0 when its worker is gone (or the session was dropped). */
static const RedisScript api_tick_script = {
        .name = "live-api-tick",
        .source = "local s = redis.call('GET', KEYS[1])\n"
                  "if s ~= 'live' and s ~= 'taken' then return 0 end\n"
                  "redis.call('PEXPIRE', KEYS[1], ARGV[1])\n"
                  "if s == 'live' then return 1 end\n"
                  "return redis.call('EXISTS', KEYS[2])\n",
};

/* The worker side's tick. KEYS: w, state; ARGV: ttl -> 1 while the API side is there. */
static const RedisScript worker_tick_script = {
        .name = "live-worker-tick",
        .source = "redis.call('PEXPIRE', KEYS[1], ARGV[1])\n"
                  "if redis.call('GET', KEYS[2]) == 'taken' then return 1 end\n"
                  "return 0\n",
};

/* The API side's end (and live_drop()). KEYS: state, up, down, w; ARGV: dropped ttl,
 * "1" to forget. A run that ended (w "done"), or a token never queued, leaves nothing; else
 * the token stays "dropped" so that a worker that claims it later does not run it. Once
 * gone it stays gone (the end runs twice: live_drop(), then the bridge's last records). */
static const RedisScript api_end_script = {
        .name = "live-api-end",
        .source = "local s = redis.call('GET', KEYS[1])\n"
                  "if not s or ARGV[2] == '1' or (s == 'taken' and redis.call('GET', KEYS[4]) == 'done') "
                  "then\n"
                  "  redis.call('DEL', KEYS[1], KEYS[3], KEYS[4])\n"
                  "else\n"
                  "  redis.call('SET', KEYS[1], 'dropped', 'PX', ARGV[1])\n"
                  "end\n"
                  "redis.call('DEL', KEYS[2])\n"
                  "return 1\n",
};

/* The worker side's end. KEYS: w, down, state; ARGV: ttl -> 1 while the API side is there
 * ("done" tells it to clean up), 0 when its session ended first (the worker side cleans
 * up, and sends nothing more). */
static const RedisScript worker_end_script = {
        .name = "live-worker-end",
        .source = "redis.call('DEL', KEYS[2])\n"
                  "if redis.call('GET', KEYS[3]) == 'taken' then\n"
                  "  redis.call('SET', KEYS[1], 'done', 'PX', ARGV[1])\n"
                  "  return 1\n"
                  "end\n"
                  "redis.call('DEL', KEYS[1], KEYS[3])\n"
                  "return 0\n",
};

/* ---- the registry ---- */

typedef struct Bridge Bridge;

typedef struct RedisRegistry {
        LiveRegistry base;
        char name[NAME_MAX_LEN];
        char ttl[24];
        pthread_mutex_t lock; /* conn, bridges */
        Redis *conn; /* register, take, drop */
        Bridge *bridges;
        size_t n_bridges;
} RedisRegistry;

struct Bridge {
        Bridge *next;
        RedisRegistry *reg;
        bool worker_side;
        char token[SUBMISSION_TOKEN_LEN + 1];
        char state_key[KEY_MAX], w_key[KEY_MAX], up_key[KEY_MAX], down_key[KEY_MAX];
        const char *own, *peer; /* the streams we write and read */
        LiveChannel ch; /* our local ends: the worker's (API side), the API's (worker side) */
        Redis *rd, *wr;
        pthread_t thread;
        atomic_bool stop, forget, finished;
        bool ending;
        uint64_t failing_since; /* 0 = Redis answers */
        uint64_t next_tick;
        /* reading the other's stream */
        char last_id[ID_MAX]; /* the last entry read */
        char used_id[ID_MAX]; /* the last entry used, not yet trimmed ("" = none) */
        bool reading; /* an XREAD is out on rd */
        RedisReply *batch; /* API side: entries read, not all written locally yet */
        size_t at, offset; /* the batch's next entry, and how much of its data went out */
        uint64_t used, used_told; /* units of the other's records we used, and acknowledged */
        /* writing ours */
        uint64_t sent, acked; /* units we sent, and the other acknowledged */
        /* worker side */
        uint8_t *in; /* stdin not yet written to the program */
        size_t in_len;
        bool in_eof; /* after in: the program's stdin ends */
        bool killed; /* the API side is gone: the run was killed */
        uint8_t buf[LIVE_RECORD_MAX_DATA]; /* what is read from a local socket */
        size_t last_len; /* how much the last pump_data() read */
};

static const LiveRegistryOps redis_ops;

static void keys_of(Bridge *b) {
        const char *n = b->reg->name;
        snprintf(b->state_key, sizeof b->state_key, "%s:live:%s", n, b->token);
        snprintf(b->w_key, sizeof b->w_key, "%s:live:%s:w", n, b->token);
        snprintf(b->up_key, sizeof b->up_key, "%s:live:%s:up", n, b->token);
        snprintf(b->down_key, sizeof b->down_key, "%s:live:%s:down", n, b->token);
        b->own = b->worker_side ? b->up_key : b->down_key;
        b->peer = b->worker_side ? b->down_key : b->up_key;
}

/* ---- Redis failures ---- */

/* A call failed: true while the bridge keeps trying. */
static bool redis_failed(Bridge *b) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        if (!b->failing_since)
                b->failing_since = now;
        return now - b->failing_since < GIVE_UP_USEC;
}

/* Send one record (XADD with its expiry, trimming what we used of the other's stream).
 * Retries while Redis comes back; false when the bridge gives up. */
static bool send_record(Bridge *b, const LiveRecord *rec) {
        LiveRecordFields f;
        if (b->killed)
                return true; /* the API side is gone: nobody reads */
        if (live_record_fields(rec, &f) < 0)
                return true; /* nothing valid to send (an event we would refuse anyway) */
        const char *args[2 + LIVE_RECORD_MAX_FIELDS];
        size_t lens[2 + LIVE_RECORD_MAX_FIELDS];
        args[0] = b->reg->ttl;
        args[1] = b->used_id;
        for (size_t i = 0; i < 2; i++)
                lens[i] = strlen(args[i]);
        for (size_t i = 0; i < f.n; i++) {
                args[2 + i] = f.f[i];
                lens[2 + i] = f.len[i];
        }
        const char *keys[] = {b->own, b->peer};
        for (;;) {
                int q = redis_script_bin(b->wr, &send_script, 2, keys, 2 + f.n, args, lens, NULL);
                if (q >= 0) {
                        b->failing_since = 0;
                        b->used_id[0] = '\0';
                        if (rec->type != LIVE_RECORD_ACK)
                                b->sent += rec->len + RECORD_UNITS;
                        return true;
                }
                if (q == -EIO || !redis_failed(b)) /* the server refused it: not to retry */
                        return false;
                struct pollfd none = {.fd = -1};
                (void) poll(&none, 1, POLL_MSEC);
        }
}

/* Room for more records. Once the API side is gone nothing is sent: what the run still
 * writes is read and dropped (so that its end is seen). */
static bool window_open(const Bridge *b) {
        return b->killed || b->sent - b->acked < LIVE_REDIS_WINDOW;
}

static size_t window_left(const Bridge *b) {
        if (b->killed)
                return LIVE_RECORD_MAX_DATA;
        return window_open(b) ? (size_t) (LIVE_REDIS_WINDOW - (b->sent - b->acked)) : 0;
}

/* Acknowledge what we used of the other's records, once it is worth a record. */
static bool maybe_ack(Bridge *b) {
        if (b->used - b->used_told < ACK_EVERY)
                return true;
        b->used_told = b->used;
        return send_record(b, &(LiveRecord){.type = LIVE_RECORD_ACK, .number = b->used});
}

static void used_entry(Bridge *b, const char *id, uint64_t units) {
        b->used += units;
        snprintf(b->used_id, sizeof b->used_id, "%s", id);
}

static void bridge_end(Bridge *b);

/* ---- the local side ---- */

/* Read at most max bytes of what is there on fd into one record of type t (-1: EOF, the fd
 * closed; 0: none). */
static int pump_data(Bridge *b, int *fd, LiveRecordType t, size_t max) {
        uint8_t *buf = b->buf;
        size_t room = MIN(sizeof b->buf, max);
        ssize_t n = RETRY_EINTR(recv(*fd, buf, room, MSG_DONTWAIT));
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return 0;
        if (n <= 0) {
                *fd = safe_close(*fd);
                return -1;
        }
        b->last_len = (size_t) n;
        return send_record(b, &(LiveRecord){.type = t, .data = buf, .len = (size_t) n}) ? 1 : -EIO;
}

/* API side: the client's stdin and signals go down. */
static int pump_api_local(Bridge *b, bool stdin_ready, bool control_ready) {
        if (stdin_ready && b->ch.stdin_fd >= 0 && window_open(b)) {
                int r = pump_data(b, &b->ch.stdin_fd, LIVE_RECORD_STDIN, window_left(b));
                if (r == -1 && !send_record(b, &(LiveRecord){.type = LIVE_RECORD_EOF}))
                        return -EIO;
                if (r == -EIO)
                        return r;
        }
        if (control_ready && b->ch.control_fd >= 0 && window_open(b)) {
                uint8_t sig[16];
                ssize_t n = RETRY_EINTR(recv(b->ch.control_fd, sig, sizeof sig, MSG_DONTWAIT));
                if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
                        return -ESHUTDOWN; /* the session ended */
                for (ssize_t i = 0; i < n; i++)
                        if (sig[i] >= 1 && sig[i] <= 64 &&
                                !send_record(b, &(LiveRecord){.type = LIVE_RECORD_SIGNAL, .number = sig[i]}))
                                return -EIO;
        }
        return 0;
}

/* Worker side: what the program wrote so far goes up, within the window; when forced (an
 * event follows it), all that the sockets hold now, past the window (bounded by the
 * sockets' buffers; what the program writes meanwhile waits for the window). */
static int drain_output(Bridge *b, bool force) {
        int *fds[2] = {&b->ch.stdout_fd, &b->ch.stderr_fd};
        for (size_t i = 0; i < 2; i++) {
                int queued = 0;
                if (force && (*fds[i] < 0 || ioctl(*fds[i], FIONREAD, &queued) < 0))
                        queued = 0;
                size_t left = force ? (size_t) MAX(queued, 0) : SIZE_MAX;
                while (*fds[i] >= 0 && left > 0) {
                        size_t max = force ? left : window_left(b);
                        if (max == 0)
                                break;
                        int r = pump_data(b, fds[i], i == 0 ? LIVE_RECORD_STDOUT : LIVE_RECORD_STDERR, max);
                        if (r == -EIO)
                                return r;
                        if (r <= 0)
                                break;
                        if (force)
                                left -= MIN(left, b->last_len);
                }
        }
        return 0;
}

/* Worker side: the program's output and the run's events go up. -ESHUTDOWN after the last
 * event. */
static int pump_worker_local(Bridge *b, bool events_ready) {
        if (drain_output(b, false) < 0)
                return -EIO;
        if (!events_ready || b->ch.events_fd < 0 || !window_open(b))
                return 0;
        LiveEvent e;
        int r = live_event_recv(b->ch.events_fd, &e);
        if (r == -EAGAIN || r == -EBADMSG)
                return 0;
        if (r < 0)
                return -ESHUTDOWN; /* the worker closed the channel */
        if (drain_output(b, true) < 0)
                return -EIO;
        if (e.kind == LIVE_DONE) /* "done" before the API side hears of it: it then cleans up */
                bridge_end(b);
        if (!send_record(b, &(LiveRecord){.type = LIVE_RECORD_EVENT, .event = e}))
                return -EIO;
        return e.kind == LIVE_DONE ? -ESHUTDOWN : 0;
}

/* Worker side: write the stdin kept so far to the program. */
static void flush_stdin(Bridge *b) {
        if (b->ch.stdin_fd < 0) {
                b->in_len = 0;
                return;
        }
        if (b->in_len > 0) {
                ssize_t n = RETRY_EINTR(send(b->ch.stdin_fd, b->in, b->in_len, MSG_NOSIGNAL | MSG_DONTWAIT));
                if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
                        n = (ssize_t) b->in_len; /* the program is gone: dropped */
                if (n > 0) {
                        memmove(b->in, b->in + n, b->in_len - (size_t) n);
                        b->in_len -= (size_t) n;
                        b->used += (uint64_t) n;
                }
        }
        if (b->in_len == 0 && b->in_eof)
                b->ch.stdin_fd = safe_close(b->ch.stdin_fd);
}

static void send_control(Bridge *b, int sig) {
        uint8_t c = (uint8_t) sig;
        if (b->ch.control_fd >= 0)
                (void) RETRY_EINTR(send(b->ch.control_fd, &c, 1, MSG_NOSIGNAL | MSG_DONTWAIT));
}

/* ---- the other side's records ---- */

/* The entry's fields as a record; false for anything else (skipped). */
static bool entry_record(const RedisReply *entry, LiveRecord *ret) {
        const RedisReply *fields = redis_reply_at(entry, 1);
        if (!fields || fields->type != REDIS_TYPE_ARRAY || fields->n > LIVE_RECORD_MAX_FIELDS)
                return false;
        const char *f[LIVE_RECORD_MAX_FIELDS];
        size_t len[LIVE_RECORD_MAX_FIELDS];
        for (size_t i = 0; i < fields->n; i++) {
                if (fields->elements[i].type != REDIS_TYPE_STRING)
                        return false;
                f[i] = fields->elements[i].str;
                len[i] = fields->elements[i].len;
        }
        return live_record_parse(fields->n, f, len, ret) == 0;
}

static const char *entry_id(const RedisReply *entry) {
        const char *id = redis_reply_str(redis_reply_at(entry, 0));
        return id && strlen(id) < ID_MAX ? id : NULL;
}

/* The entry's record, the entry noted as read: true when there is one to act on (an
 * entry that is none is skipped, as used). */
static bool read_entry(Bridge *b, const RedisReply *entry, LiveRecord *ret, const char **ret_id) {
        const char *id = entry_id(entry);
        if (!id)
                return false;
        snprintf(b->last_id, sizeof b->last_id, "%s", id);
        if (!entry_record(entry, ret)) {
                used_entry(b, id, 0);
                return false;
        }
        *ret_id = id;
        return true;
}

/* Worker side: the records read are used at once (stdin is kept, within the window). */
static void use_worker_batch(Bridge *b, const RedisReply *entries) {
        for (size_t i = 0; i < entries->n; i++) {
                const char *id;
                LiveRecord rec;
                if (!read_entry(b, &entries->elements[i], &rec, &id))
                        continue;
                switch (rec.type) {
                case LIVE_RECORD_STDIN:
                        if (!b->in_eof && b->in_len + rec.len <= STDIN_BUFFER_MAX) {
                                memcpy(b->in + b->in_len, rec.data, rec.len);
                                b->in_len += rec.len;
                        } else /* past the window: the API side is not ours; dropped */
                                b->used += rec.len;
                        used_entry(b, id, RECORD_UNITS);
                        break;
                case LIVE_RECORD_EOF:
                        b->in_eof = true;
                        used_entry(b, id, RECORD_UNITS);
                        break;
                case LIVE_RECORD_SIGNAL:
                        send_control(b, (int) rec.number);
                        used_entry(b, id, RECORD_UNITS);
                        break;
                case LIVE_RECORD_ACK:
                        b->acked = MAX(b->acked, rec.number);
                        used_entry(b, id, 0);
                        break;
                default:
                        used_entry(b, id, 0);
                }
        }
        flush_stdin(b);
}

/* API side: write the batch's records to the local sockets in order; stops at the first
 * that does not fit (the session reads it later: POLLOUT). Returns the fd waited on, or -1
 * when the batch is done. */
static int use_api_batch(Bridge *b) {
        const RedisReply *entries = b->batch;
        for (; b->at < entries->n; b->at++, b->offset = 0) {
                const char *id;
                LiveRecord rec;
                if (!read_entry(b, &entries->elements[b->at], &rec, &id))
                        continue;
                int fd = rec.type == LIVE_RECORD_STDOUT   ? b->ch.stdout_fd
                         : rec.type == LIVE_RECORD_STDERR ? b->ch.stderr_fd
                         : rec.type == LIVE_RECORD_EVENT  ? b->ch.events_fd
                                                          : -1;
                if (rec.type == LIVE_RECORD_STDOUT || rec.type == LIVE_RECORD_STDERR) {
                        while (fd >= 0 && b->offset < rec.len) {
                                ssize_t n = RETRY_EINTR(send(fd, rec.data + b->offset, rec.len - b->offset,
                                        MSG_NOSIGNAL | MSG_DONTWAIT));
                                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                                        return fd;
                                if (n < 0)
                                        break; /* the session is gone: dropped */
                                b->offset += (size_t) n;
                        }
                        used_entry(b, id, rec.len + RECORD_UNITS);
                } else if (rec.type == LIVE_RECORD_EVENT) {
                        if (fd >= 0 && live_event_send(fd, &rec.event) == -EAGAIN)
                                return fd;
                        used_entry(b, id, RECORD_UNITS);
                } else {
                        if (rec.type == LIVE_RECORD_ACK)
                                b->acked = MAX(b->acked, rec.number);
                        used_entry(b, id, 0);
                }
        }
        b->batch = redis_reply_free(b->batch);
        return -1;
}

/* An XREAD's answer: [[stream, [[id, [field, value, ...]], ...]]], or nil (none came). */
static void on_read(Bridge *b, RedisReply *reply) {
        const RedisReply *entries = redis_reply_at(redis_reply_at(reply, 0), 1);
        if (!entries || entries->type != REDIS_TYPE_ARRAY || entries->n == 0) {
                redis_reply_free(reply);
                return;
        }
        if (b->worker_side) {
                use_worker_batch(b, entries);
                redis_reply_free(reply);
                return;
        }
        /* Keep only the entries (the rest of the answer goes). */
        RedisReply *kept = calloc(1, sizeof *kept);
        if (!kept) {
                redis_reply_free(reply);
                return; /* read again from last_id, which did not move */
        }
        *kept = *entries;
        RedisReply *list = (RedisReply *) redis_reply_at(reply, 0);
        list->elements[1] = (RedisReply){.type = REDIS_TYPE_NIL};
        redis_reply_free(reply);
        b->batch = kept;
        b->at = b->offset = 0;
}

static void start_read(Bridge *b) {
        const char *argv[] = {
                "XREAD", "COUNT", READ_COUNT, "BLOCK", READ_BLOCK_MSEC, "STREAMS", b->peer, b->last_id};
        if (redis_send(b->rd, ELEMENTSOF(argv), argv, NULL) >= 0)
                b->reading = true;
        else
                (void) redis_failed(b);
}

static void finish_read(Bridge *b) {
        RedisReply *reply = NULL;
        /* The socket is readable: the answer is there, or its rest comes soon. */
        int q = redis_read(b->rd, USEC_PER_MSEC, &reply);
        if (q == -EAGAIN)
                return;
        b->reading = false;
        if (q < 0) {
                (void) redis_failed(b);
                return;
        }
        b->failing_since = 0;
        on_read(b, reply);
}

/* ---- the bridge ---- */

/* Refresh our key and look at the other side's: false when it is gone. */
static bool tick(Bridge *b) {
        _cleanup_redis_reply_free_ RedisReply *reply = NULL;
        int q;
        if (b->worker_side)
                q = redis_script(b->wr, &worker_tick_script, 2,
                        (const char *const[]){b->w_key, b->state_key}, 1, (const char *const[]){b->reg->ttl},
                        &reply);
        else
                q = redis_script(b->wr, &api_tick_script, 2, (const char *const[]){b->state_key, b->w_key},
                        1, (const char *const[]){b->reg->ttl}, &reply);
        long long alive;
        if (q < 0 || redis_reply_integer(reply, &alive) < 0)
                return redis_failed(b);
        b->failing_since = 0;
        return alive == 1;
}

/* Our keys at our end (once). */
static void bridge_end(Bridge *b) {
        if (b->ending)
                return;
        b->ending = true;
        if (b->worker_side) {
                _cleanup_redis_reply_free_ RedisReply *reply = NULL;
                long long there = 1;
                if (redis_script(b->wr, &worker_end_script, 3,
                            (const char *const[]){b->w_key, b->down_key, b->state_key}, 1,
                            (const char *const[]){b->reg->ttl}, &reply) >= 0 &&
                        redis_reply_integer(reply, &there) >= 0 && there == 0)
                        b->killed = true; /* nobody reads: the last event is not sent */
        } else
                (void) redis_script(b->wr, &api_end_script, 4,
                        (const char *const[]){b->state_key, b->up_key, b->down_key, b->w_key}, 2,
                        (const char *const[]){DROPPED_TTL_MSEC, atomic_load(&b->forget) ? "1" : "0"}, NULL);
}

/* The other side is gone (or Redis is): the worker side kills the run and waits for its
 * end; the API side ends, which the session sees as the run's end without a result. */
static bool peer_gone(Bridge *b) {
        if (!b->worker_side)
                return false;
        if (!b->killed) {
                b->killed = true;
                send_control(b, SIGKILL);
                b->in_len = 0;
                b->in_eof = true;
                flush_stdin(b);
        }
        return true;
}

static nfds_t add_input(struct pollfd *p, nfds_t np, int fd, int *ret_index) {
        if (fd < 0)
                return np;
        if (ret_index)
                *ret_index = (int) np;
        p[np] = (struct pollfd){.fd = fd, .events = POLLIN};
        return np + 1;
}

/* The local sockets to read, while the other side has room for what they hold: a is the
 * client's stdin (API side) or the run's events (worker side), b the client's signals (API
 * side); the worker side's output is read whenever anything wakes the bridge. */
static nfds_t local_inputs(const Bridge *b, struct pollfd *p, nfds_t np, int *i_a, int *i_b) {
        if (!window_open(b))
                return np;
        if (!b->worker_side)
                return add_input(p, add_input(p, np, b->ch.stdin_fd, i_a), b->ch.control_fd, i_b);
        np = add_input(p, np, b->ch.events_fd, i_a);
        np = add_input(p, np, b->ch.stdout_fd, NULL);
        return add_input(p, np, b->ch.stderr_fd, NULL);
}

static void *bridge_thread(void *arg) {
        Bridge *b = arg;
        b->next_tick = now_usec(CLOCK_MONOTONIC) + TICK_USEC;
        bool go = true;
        while (go && !atomic_load(&b->stop)) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= b->next_tick) {
                        b->next_tick = now + TICK_USEC;
                        if (!tick(b) && !peer_gone(b))
                                break;
                }
                if (b->failing_since && !redis_failed(b) && !peer_gone(b))
                        break;
                /* The other side's records go out first; then the next read. */
                int out_fd = b->batch ? use_api_batch(b) : -1;
                if (!b->reading && !b->batch)
                        start_read(b);
                struct pollfd p[6];
                nfds_t np = 0;
                int i_rd = -1, i_a = -1, i_b = -1;
                if (b->reading)
                        p[i_rd = (int) np++] = (struct pollfd){.fd = redis_fd(b->rd), .events = POLLIN};
                if (out_fd >= 0)
                        p[np++] = (struct pollfd){.fd = out_fd, .events = POLLOUT};
                if (b->worker_side && b->in_len > 0)
                        p[np++] = (struct pollfd){.fd = b->ch.stdin_fd, .events = POLLOUT};
                np = local_inputs(b, p, np, &i_a, &i_b);
                uint64_t to_tick = b->next_tick > now ? b->next_tick - now : 0;
                int ms = (int) MIN((to_tick + USEC_PER_MSEC - 1) / USEC_PER_MSEC, (uint64_t) POLL_MSEC);
                int n = poll(p, np, b->reading || np > 0 ? ms : POLL_MSEC);
                if (n < 0 && errno != EINTR)
                        break;
                if (n <= 0)
                        continue;
                if (i_rd >= 0 && p[i_rd].revents)
                        finish_read(b);
                if (b->worker_side && b->in_len > 0)
                        flush_stdin(b);
                bool ready_a = i_a >= 0 && p[i_a].revents, ready_b = i_b >= 0 && p[i_b].revents;
                int r = b->worker_side ? pump_worker_local(b, ready_a) : pump_api_local(b, ready_a, ready_b);
                if (r == -ESHUTDOWN || (r < 0 && !peer_gone(b)))
                        go = false;
                if (go && !maybe_ack(b) && !peer_gone(b))
                        go = false;
        }
        if (b->worker_side && !b->killed && atomic_load(&b->stop))
                send_control(b, SIGKILL);
        bridge_end(b);
        live_channel_close(&b->ch);
        atomic_store(&b->finished, true);
        return NULL;
}

static Bridge *bridge_free(Bridge *b) {
        if (!b)
                return NULL;
        live_channel_close(&b->ch);
        redis_free(b->rd);
        redis_free(b->wr);
        redis_reply_free(b->batch);
        free(b->in);
        free(b);
        return NULL;
}

/* Join and free the bridges that ended (with the lock held). */
static void reap(RedisRegistry *r) {
        for (Bridge **p = &r->bridges; *p;) {
                Bridge *b = *p;
                if (!atomic_load(&b->finished)) {
                        p = &b->next;
                        continue;
                }
                *p = b->next;
                r->n_bridges--;
                pthread_join(b->thread, NULL);
                bridge_free(b);
        }
}

/* Start a bridge over ch (taken over, whatever happens). */
static int bridge_start(RedisRegistry *r, const char *token, bool worker_side, LiveChannel *ch) {
        Bridge *b = calloc(1, sizeof *b);
        if (!b) {
                live_channel_close(ch);
                return -ENOMEM;
        }
        b->reg = r;
        b->worker_side = worker_side;
        b->ch = *ch;
        *ch = (LiveChannel){-1, -1, -1, -1, -1};
        memcpy(b->token, token, sizeof b->token);
        keys_of(b);
        snprintf(b->last_id, sizeof b->last_id, "0");
        int q = 0;
        const int fds[] = {
                b->ch.stdin_fd, b->ch.stdout_fd, b->ch.stderr_fd, b->ch.events_fd, b->ch.control_fd};
        for (size_t i = 0; i < ELEMENTSOF(fds) && q >= 0; i++)
                if (fds[i] >= 0)
                        q = fd_set_nonblock(fds[i], 1);
        if (q >= 0 && worker_side && !(b->in = malloc(STDIN_BUFFER_MAX)))
                q = -ENOMEM;
        pthread_mutex_lock(&r->lock);
        if (q >= 0)
                q = redis_clone(r->conn, NULL, &b->rd);
        if (q >= 0)
                q = redis_clone(r->conn, NULL, &b->wr);
        if (q >= 0) {
                q = -pthread_create(&b->thread, NULL, bridge_thread, b);
                if (q >= 0) {
                        b->next = r->bridges;
                        r->bridges = b;
                        r->n_bridges++;
                }
        }
        pthread_mutex_unlock(&r->lock);
        if (q < 0)
                bridge_free(b);
        return q;
}

static int redis_register(LiveRegistry *base, const char *token, LiveChannel *worker_ends) {
        RedisRegistry *r = (RedisRegistry *) base;
        if (!submission_token_valid(token)) {
                live_channel_close(worker_ends);
                return -EINVAL;
        }
        char key[KEY_MAX];
        snprintf(key, sizeof key, "%s:live:%s", r->name, token);
        _cleanup_redis_reply_free_ RedisReply *reply = NULL;
        pthread_mutex_lock(&r->lock);
        reap(r);
        int q = r->n_bridges >= LIVE_MAX_CHANNELS ? -ENOSPC : 0;
        if (q >= 0)
                q = redis_call(r->conn, &reply, "SET", key, "live", "NX", "PX", r->ttl, NULL);
        pthread_mutex_unlock(&r->lock);
        if (q >= 0 && reply->type == REDIS_TYPE_NIL)
                q = -EEXIST;
        if (q < 0) {
                live_channel_close(worker_ends);
                return q;
        }
        return bridge_start(r, token, false, worker_ends);
}

static int redis_take(LiveRegistry *base, const char *token, LiveChannel *ret) {
        RedisRegistry *r = (RedisRegistry *) base;
        if (!submission_token_valid(token))
                return -ENOENT;
        char state[KEY_MAX], w[KEY_MAX], down[KEY_MAX];
        snprintf(state, sizeof state, "%s:live:%s", r->name, token);
        snprintf(w, sizeof w, "%s:live:%s:w", r->name, token);
        snprintf(down, sizeof down, "%s:live:%s:down", r->name, token);
        _cleanup_redis_reply_free_ RedisReply *reply = NULL;
        long long taken = 0;
        size_t room;
        int q;
        /* Every job a worker claims asks: a connection that fails is retried a little (the
         * queue's Redis answered a moment ago), so that an ordinary submission does not fail
         * for it. */
        for (unsigned attempt = 0;; attempt++) {
                pthread_mutex_lock(&r->lock);
                reap(r);
                room = LIVE_MAX_CHANNELS - r->n_bridges;
                q = redis_script(r->conn, &take_script, 3, (const char *const[]){state, w, down}, 1,
                        (const char *const[]){r->ttl}, &reply);
                pthread_mutex_unlock(&r->lock);
                if (q >= 0 || q == -EIO || attempt == TAKE_ATTEMPTS - 1)
                        break;
                struct pollfd none = {.fd = -1};
                (void) poll(&none, 1, (int) (POLL_MSEC << attempt));
        }
        if (q >= 0 && redis_reply_integer(reply, &taken) < 0)
                q = -EIO;
        if (q < 0)
                return q;
        if (taken == 0)
                return -ENOENT;
        if (taken != 1)
                return -ECANCELED;
        if (room == 0) /* the session then sees no worker */
                return -ENOSPC;
        /* Taken: from now on a failure leaves it to the API side, which sees no worker. */
        LiveChannel api, worker;
        q = live_channel_new(&api, &worker);
        if (q < 0)
                return q;
        q = bridge_start(r, token, true, &api);
        if (q < 0) {
                live_channel_close(&worker);
                return q;
        }
        *ret = worker;
        return 0;
}

static void redis_drop(LiveRegistry *base, const char *token) {
        RedisRegistry *r = (RedisRegistry *) base;
        char state[KEY_MAX], up[KEY_MAX], down[KEY_MAX], w[KEY_MAX];
        snprintf(state, sizeof state, "%s:live:%s", r->name, token);
        snprintf(up, sizeof up, "%s:live:%s:up", r->name, token);
        snprintf(down, sizeof down, "%s:live:%s:down", r->name, token);
        snprintf(w, sizeof w, "%s:live:%s:w", r->name, token);
        pthread_mutex_lock(&r->lock);
        (void) redis_script(r->conn, &api_end_script, 4, (const char *const[]){state, up, down, w}, 2,
                (const char *const[]){DROPPED_TTL_MSEC, "0"}, NULL);
        pthread_mutex_unlock(&r->lock);
}

static void redis_forget(LiveRegistry *base, const char *token) {
        RedisRegistry *r = (RedisRegistry *) base;
        pthread_mutex_lock(&r->lock);
        for (Bridge *b = r->bridges; b; b = b->next)
                if (!b->worker_side && strcmp(b->token, token) == 0) {
                        atomic_store(&b->forget, true);
                        atomic_store(&b->stop, true);
                }
        pthread_mutex_unlock(&r->lock);
}

static void redis_registry_free(LiveRegistry *base) {
        RedisRegistry *r = (RedisRegistry *) base;
        pthread_mutex_lock(&r->lock);
        for (Bridge *b = r->bridges; b; b = b->next)
                atomic_store(&b->stop, true);
        pthread_mutex_unlock(&r->lock);
        while (r->bridges) {
                Bridge *b = r->bridges;
                r->bridges = b->next;
                pthread_join(b->thread, NULL);
                bridge_free(b);
        }
        redis_free(r->conn);
        pthread_mutex_destroy(&r->lock);
        free(r);
}

static const LiveRegistryOps redis_ops = {
        .register_channel = redis_register,
        .take = redis_take,
        .drop = redis_drop,
        .forget = redis_forget,
        .free = redis_registry_free,
};

int live_registry_redis_new(const char *url, char *errbuf, LiveRegistry **ret) {
        RedisRegistry *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->base.ops = &redis_ops;
        snprintf(r->name, sizeof r->name, "coderunner");
        snprintf(r->ttl, sizeof r->ttl, "%d", LIVE_REDIS_TTL_MSEC);
        RedisOption opt = {.key = "stream", .value = r->name, .size = sizeof r->name};
        int q = redis_open(url, &opt, 1, errbuf, &r->conn);
        if (q < 0) {
                free(r);
                return q;
        }
        pthread_mutex_init(&r->lock, NULL);
        *ret = &r->base;
        return 0;
}
