/* SPDX-License-Identifier: MIT */
/* The wire format between a client and the supervisor: a length-prefixed message on a
 * local stream socket, the standard streams attached as SCM_RIGHTS. The supervisor is
 * the more privileged side, so decoding treats every byte as hostile: each length is
 * checked against what remains, each count against its ceiling. */

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "sandbox/sandbox-internal.h"

enum {
        F_SHARE_NET = 1 << 0,
        F_STDERR_TO_STDOUT = 1 << 1,
        F_WORKDIR = 1 << 2,
        F_PER_PROCESS_TIME = 1 << 3,
        F_PER_PROCESS_MEMORY = 1 << 4,
};

typedef struct Writer {
        uint8_t *buf;
        size_t len, cap;
        int error;
} Writer;

static void put(Writer *w, const void *p, size_t n) {
        if (w->error)
                return;
        if (w->len + n > PROTO_MAX_MESSAGE) {
                w->error = -E2BIG;
                return;
        }
        if (w->len + n > w->cap) {
                size_t cap = MAX(w->cap * 2, w->len + n + 1024);
                uint8_t *b = realloc(w->buf, cap);
                if (!b) {
                        w->error = -ENOMEM;
                        return;
                }
                w->buf = b;
                w->cap = cap;
        }
        memcpy(w->buf + w->len, p, n);
        w->len += n;
}

static void put_u64(Writer *w, uint64_t v) {
        put(w, &v, sizeof v);
}

static void put_u32(Writer *w, uint32_t v) {
        put(w, &v, sizeof v);
}

static void put_str(Writer *w, const char *s) {
        size_t n = strlen(s);
        if (n > UINT32_MAX) {
                w->error = -E2BIG;
                return;
        }
        put_u32(w, (uint32_t) n);
        put(w, s, n);
}

int proto_encode_spec(const BoxSpec *spec, uint8_t **ret, size_t *ret_len) {
        Writer w = {};
        uint32_t argc = 0, envc = 0, flags = 0;

        for (char *const *a = spec->argv; a && *a; a++)
                argc++;
        for (char *const *e = spec->env; e && *e; e++)
                envc++;
        if (spec->share_net)
                flags |= F_SHARE_NET;
        if (spec->stderr_to_stdout)
                flags |= F_STDERR_TO_STDOUT;
        if (spec->workdir)
                flags |= F_WORKDIR;
        if (spec->per_process_time)
                flags |= F_PER_PROCESS_TIME;
        if (spec->per_process_memory)
                flags |= F_PER_PROCESS_MEMORY;

        put_u64(&w, spec->cpu_time_usec);
        put_u64(&w, spec->extra_time_usec);
        put_u64(&w, spec->wall_time_usec);
        put_u64(&w, spec->memory_kib);
        put_u64(&w, spec->stack_kib);
        put_u64(&w, spec->fsize_kib);
        put_u64(&w, spec->output_kib);
        put_u64(&w, spec->tmp_kib);
        put_u32(&w, spec->processes);
        put_u32(&w, spec->open_files);
        put_u32(&w, flags);
        put_u32(&w, argc);
        put_u32(&w, envc);
        put_u32(&w, (uint32_t) spec->n_binds);
        if (spec->workdir)
                put_str(&w, spec->workdir);
        for (uint32_t i = 0; i < argc; i++)
                put_str(&w, spec->argv[i]);
        for (uint32_t i = 0; i < envc; i++)
                put_str(&w, spec->env[i]);
        for (size_t i = 0; i < spec->n_binds; i++) {
                put_str(&w, spec->binds[i].host);
                put_str(&w, spec->binds[i].inside);
                put_u32(&w, spec->binds[i].rw ? 1 : 0);
        }
        if (w.error) {
                free(w.buf);
                return w.error;
        }
        *ret = w.buf;
        *ret_len = w.len;
        return 0;
}

typedef struct Reader {
        const uint8_t *p;
        size_t left;
        bool bad;
} Reader;

static void get(Reader *r, void *out, size_t n) {
        if (r->bad || r->left < n) {
                r->bad = true;
                memset(out, 0, n);
                return;
        }
        memcpy(out, r->p, n);
        r->p += n;
        r->left -= n;
}

static uint64_t get_u64(Reader *r) {
        uint64_t v;
        get(r, &v, sizeof v);
        return v;
}

static uint32_t get_u32(Reader *r) {
        uint32_t v;
        get(r, &v, sizeof v);
        return v;
}

/* A string copied into the arena, NUL-terminated; embedded NULs are refused. */
static char *get_str(Reader *r, char **arena, size_t *arena_left) {
        uint32_t n = get_u32(r);
        if (r->bad || n > r->left || n >= BOX_MAX_STRING * 64 || (size_t) n + 1 > *arena_left) {
                r->bad = true;
                return NULL;
        }
        if (memchr(r->p, '\0', n)) {
                r->bad = true;
                return NULL;
        }
        char *s = *arena;
        memcpy(s, r->p, n);
        s[n] = '\0';
        r->p += n;
        r->left -= n;
        *arena += n + 1;
        *arena_left -= n + 1;
        return s;
}

int proto_decode_spec(const uint8_t *buf, size_t len, BoxSpec *ret_spec, void **ret_arena) {
        Reader r = {.p = buf, .left = len};
        BoxSpec local, *spec = &local;
        if (len > PROTO_MAX_MESSAGE)
                return -E2BIG;

        box_spec_init(spec);
        spec->cpu_time_usec = get_u64(&r);
        spec->extra_time_usec = get_u64(&r);
        spec->wall_time_usec = get_u64(&r);
        spec->memory_kib = get_u64(&r);
        spec->stack_kib = get_u64(&r);
        spec->fsize_kib = get_u64(&r);
        spec->output_kib = get_u64(&r);
        spec->tmp_kib = get_u64(&r);
        spec->processes = get_u32(&r);
        spec->open_files = get_u32(&r);
        uint32_t flags = get_u32(&r);
        uint32_t argc = get_u32(&r), envc = get_u32(&r), nbinds = get_u32(&r);
        if (r.bad)
                return -EBADMSG;
        if (argc == 0 || argc > BOX_MAX_ARGS || envc > BOX_MAX_ENV || nbinds > BOX_MAX_BINDS)
                return -EBADMSG;
        /* Limits that would overflow when turned into bytes are refused here. */
        const uint64_t max_kib = UINT64_C(1) << 40, max_usec = UINT64_C(86400) * 1000000;
        if (spec->memory_kib > max_kib || spec->stack_kib > max_kib || spec->fsize_kib > max_kib ||
                spec->output_kib > max_kib || spec->tmp_kib > max_kib || spec->cpu_time_usec > max_usec ||
                spec->extra_time_usec > max_usec || spec->wall_time_usec > max_usec)
                return -ERANGE;

        /* One allocation holds the pointer arrays, then the strings. The strings cannot
         * take more than the message itself plus one NUL each. */
        size_t nstr = (size_t) argc + envc + 2 * (size_t) nbinds + 1;
        size_t ptrs = ((size_t) argc + 1 + envc + 1) * sizeof(char *) + nbinds * sizeof(BoxBind);
        size_t strspace = len + nstr;
        uint8_t *arena = malloc(ptrs + strspace);
        if (!arena)
                return -ENOMEM;
        char **argv = (char **) arena;
        char **env = argv + argc + 1;
        BoxBind *binds = (BoxBind *) (env + envc + 1);
        char *strs = (char *) arena + ptrs;
        size_t left = strspace;

        if (flags & F_WORKDIR)
                spec->workdir = get_str(&r, &strs, &left);
        for (uint32_t i = 0; i < argc; i++)
                argv[i] = get_str(&r, &strs, &left);
        argv[argc] = NULL;
        for (uint32_t i = 0; i < envc; i++)
                env[i] = get_str(&r, &strs, &left);
        env[envc] = NULL;
        for (uint32_t i = 0; i < nbinds; i++) {
                binds[i].host = get_str(&r, &strs, &left);
                binds[i].inside = get_str(&r, &strs, &left);
                binds[i].rw = get_u32(&r) != 0;
        }
        if (r.bad || r.left != 0) {
                free(arena);
                return -EBADMSG;
        }
        spec->argv = argv;
        spec->env = env;
        spec->binds = binds;
        spec->n_binds = nbinds;
        spec->share_net = flags & F_SHARE_NET;
        spec->stderr_to_stdout = flags & F_STDERR_TO_STDOUT;
        spec->per_process_time = flags & F_PER_PROCESS_TIME;
        spec->per_process_memory = flags & F_PER_PROCESS_MEMORY;
        *ret_spec = local;
        *ret_arena = arena;
        return 0;
}

void proto_encode_result(const BoxResult *r, uint8_t out[static sizeof(BoxResult) + 16], size_t *ret_len) {
        /* Field by field into zeroed memory: the struct's padding never carries our stack. */
        BoxResult w;
        memset(&w, 0, sizeof w);
        w.status = r->status;
        w.limit = r->limit;
        w.exit_code = r->exit_code;
        w.signal = r->signal;
        w.cpu_time_usec = r->cpu_time_usec;
        w.wall_time_usec = r->wall_time_usec;
        w.memory_kib = r->memory_kib;
        w.stdout_bytes = r->stdout_bytes;
        w.stderr_bytes = r->stderr_bytes;
        w.oom_killed = r->oom_killed;
        w.unenforced = r->unenforced;
        memcpy(w.message, r->message, sizeof w.message);
        w.message[sizeof w.message - 1] = '\0';
        memcpy(out, &w, sizeof w);
        *ret_len = sizeof w;
}

int proto_decode_result(const uint8_t *buf, size_t len, BoxResult *ret) {
        if (len != sizeof *ret)
                return -EBADMSG;
        /* A bool must be 0 or 1 before it is read as one. */
        if (buf[offsetof(BoxResult, oom_killed)] > 1)
                return -EBADMSG;
        memcpy(ret, buf, sizeof *ret);
        ret->message[sizeof ret->message - 1] = '\0';
        if ((unsigned) ret->status >= _BOX_STATUS_MAX || (unsigned) ret->limit >= _BOX_LIMIT_MAX)
                return -EBADMSG;
        return 0;
}
