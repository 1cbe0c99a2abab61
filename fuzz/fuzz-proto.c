/* SPDX-License-Identifier: MIT */
/* Fuzz target for the wire decoder of the supervisor (src/sandbox/proto.c), the one place
 * where bytes from a less privileged client are parsed. Every input goes to both
 * decoders. A request that is accepted must be well formed (check_spec()) and must come
 * back unchanged from encode + decode; a result that is accepted must be in range. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "fuzz.h"
#include "sandbox/sandbox-internal.h"

/* Not assert(): these checks are the point of the target and stay in every build type. */
#define CHECK(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort(); \
                } \
        } while (0)

/* What proto_decode_spec() promises to refuse (-ERANGE) before anything turns it into bytes. */
#define MAX_KIB (UINT64_C(1) << 40)
#define MAX_USEC (UINT64_C(86400) * 1000000)

/* A decoded string is a copy of at most `size` input bytes, NUL-terminated. Reading it
 * past its end is an over-read of the arena, which AddressSanitizer reports. */
static void check_string(const char *s, size_t size) {
        CHECK(s);
        CHECK(strnlen(s, size + 1) <= size);
}

static size_t check_strv(char **v, size_t max, size_t size) {
        size_t n = 0;

        CHECK(v);
        for (; v[n]; n++) {
                CHECK(n < max);
                check_string(v[n], size);
        }
        return n;
}

static void check_spec(const BoxSpec *s, size_t size) {
        size_t argc = check_strv(s->argv, BOX_MAX_ARGS, size);
        CHECK(argc >= 1);
        check_strv(s->env, BOX_MAX_ENV, size);
        if (s->workdir)
                check_string(s->workdir, size);
        CHECK(s->n_binds <= BOX_MAX_BINDS);
        CHECK(s->n_binds == 0 || s->binds);
        for (size_t i = 0; i < s->n_binds; i++) {
                check_string(s->binds[i].host, size);
                check_string(s->binds[i].inside, size);
        }
        CHECK(s->memory_kib <= MAX_KIB && s->stack_kib <= MAX_KIB && s->fsize_kib <= MAX_KIB);
        CHECK(s->output_kib <= MAX_KIB && s->tmp_kib <= MAX_KIB);
        CHECK(s->cpu_time_usec <= MAX_USEC && s->extra_time_usec <= MAX_USEC &&
                s->wall_time_usec <= MAX_USEC);
        /* The streams travel as SCM_RIGHTS, never in the bytes. */
        CHECK(s->stdin_fd < 0 && s->stdout_fd < 0 && s->stderr_fd < 0);
}

static bool same_str(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}

static void check_same_strv(char **a, char **b) {
        size_t i = 0;

        for (; a[i] && b[i]; i++)
                CHECK(strcmp(a[i], b[i]) == 0);
        CHECK(!a[i] && !b[i]);
}

static void check_same_spec(const BoxSpec *a, const BoxSpec *b) {
        CHECK(a->cpu_time_usec == b->cpu_time_usec);
        CHECK(a->extra_time_usec == b->extra_time_usec);
        CHECK(a->wall_time_usec == b->wall_time_usec);
        CHECK(a->memory_kib == b->memory_kib);
        CHECK(a->stack_kib == b->stack_kib);
        CHECK(a->fsize_kib == b->fsize_kib);
        CHECK(a->output_kib == b->output_kib);
        CHECK(a->tmp_kib == b->tmp_kib);
        CHECK(a->processes == b->processes);
        CHECK(a->open_files == b->open_files);
        CHECK(a->share_net == b->share_net);
        CHECK(a->stderr_to_stdout == b->stderr_to_stdout);
        CHECK(same_str(a->workdir, b->workdir));
        check_same_strv(a->argv, b->argv);
        check_same_strv(a->env, b->env);
        CHECK(a->n_binds == b->n_binds);
        for (size_t i = 0; i < a->n_binds; i++) {
                CHECK(strcmp(a->binds[i].host, b->binds[i].host) == 0);
                CHECK(strcmp(a->binds[i].inside, b->binds[i].inside) == 0);
                CHECK(a->binds[i].rw == b->binds[i].rw);
        }
        CHECK(a->stdin_fd == b->stdin_fd && a->stdout_fd == b->stdout_fd && a->stderr_fd == b->stderr_fd);
}

/* Encode what was decoded, decode it again: the same request. */
static void roundtrip_spec(const BoxSpec *spec, size_t size) {
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ uint8_t *buf2 = NULL;
        _cleanup_free_ void *arena = NULL;
        size_t len, len2;
        BoxSpec again;

        int r = proto_encode_spec(spec, &buf, &len);
        if (r == -ENOMEM)
                return;
        CHECK(r == 0);
        /* Only unknown flag bits and the value of a bind's non-zero rw word are not kept,
         * and neither changes the length. */
        CHECK(len == size);

        r = proto_decode_spec(buf, len, &again, &arena);
        if (r == -ENOMEM)
                return;
        CHECK(r == 0);
        check_spec(&again, len);
        check_same_spec(spec, &again);

        /* What the encoder writes is canonical: encoding the copy gives the same bytes. */
        r = proto_encode_spec(&again, &buf2, &len2);
        if (r == -ENOMEM)
                return;
        CHECK(r == 0);
        CHECK(len2 == len && memcmp(buf, buf2, len) == 0);
}

static void fuzz_spec(const uint8_t *data, size_t size) {
        _cleanup_free_ void *arena = NULL;
        BoxSpec spec;

        int r = proto_decode_spec(data, size, &spec, &arena);
        if (r < 0) {
                /* A malformed message, an out-of-range limit, an oversized message, no memory. */
                CHECK(r == -EBADMSG || r == -ERANGE || r == -E2BIG || r == -ENOMEM);
                return;
        }
        CHECK(r == 0);
        CHECK(arena);
        check_spec(&spec, size);
        roundtrip_spec(&spec, size);
}

static void check_same_result(const BoxResult *a, const BoxResult *b) {
        CHECK(a->status == b->status);
        CHECK(a->limit == b->limit);
        CHECK(a->exit_code == b->exit_code);
        CHECK(a->signal == b->signal);
        CHECK(a->cpu_time_usec == b->cpu_time_usec);
        CHECK(a->wall_time_usec == b->wall_time_usec);
        CHECK(a->memory_kib == b->memory_kib);
        CHECK(a->stdout_bytes == b->stdout_bytes);
        CHECK(a->stderr_bytes == b->stderr_bytes);
        CHECK(a->oom_killed == b->oom_killed);
        CHECK(a->unenforced == b->unenforced);
        CHECK(strcmp(a->message, b->message) == 0);
}

static void fuzz_result(const uint8_t *data, size_t size) {
        uint8_t out[sizeof(BoxResult) + 16];
        BoxResult res, again;
        size_t len;

        if (proto_decode_result(data, size, &res) < 0)
                return;
        CHECK(size == sizeof(BoxResult));
        CHECK((unsigned) res.status < _BOX_STATUS_MAX);
        CHECK((unsigned) res.limit < _BOX_LIMIT_MAX);
        CHECK(strnlen(res.message, sizeof res.message) < sizeof res.message);
        /* What a client does with it: name the verdict. */
        CHECK(box_status_to_string(res.status));
        CHECK(res.limit == BOX_LIMIT_NONE || box_limit_to_string(res.limit));

        proto_encode_result(&res, out, &len);
        CHECK(len == size);
        CHECK(proto_decode_result(out, len, &again) == 0);
        check_same_result(&res, &again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_spec(data, size);
        fuzz_result(data, size);
        return 0;
}
