/* SPDX-License-Identifier: MIT */
/* Writes the seed corpus of fuzz-proto into the directory given as argument: requests
 * encoded by proto_encode_spec() itself (so the seeds cannot drift from the wire format),
 * the same bytes cut short or patched into each way of being refused, and results (a
 * result is only ever sizeof(BoxResult) bytes, so every request is also a short result).
 * Built with the project, never run by the tests:
 *
 *     build/fuzz/gen-proto-corpus fuzz/corpus/proto
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/macro.h"
#include "sandbox/sandbox-internal.h"

/* Offsets in the fixed header of a request: eight u64 limits, then six u32. */
#define OFF_MEMORY_KIB (3 * 8)
#define OFF_FLAGS (8 * 8 + 2 * 4)
#define OFF_ARGC (8 * 8 + 3 * 4)
#define OFF_ENVC (8 * 8 + 4 * 4)
#define OFF_NBINDS (8 * 8 + 5 * 4)
#define HEADER_SIZE (8 * 8 + 6 * 4)

static int out_dir = -EBADF;

static int write_seed(const char *name, const void *buf, size_t len) {
        _cleanup_close_ int fd = openat(out_dir, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        size_t done = 0;

        if (fd < 0)
                return negative_errno();
        while (done < len) {
                ssize_t n = RETRY_EINTR(write(fd, (const uint8_t *) buf + done, len - done));
                if (n < 0)
                        return negative_errno();
                done += (size_t) n;
        }
        return 0;
}

static void put_u32_at(uint8_t *buf, size_t off, uint32_t v) {
        memcpy(buf + off, &v, sizeof v);
}

static void put_u64_at(uint8_t *buf, size_t off, uint64_t v) {
        memcpy(buf + off, &v, sizeof v);
}

static int encode(const BoxSpec *spec, uint8_t **ret, size_t *ret_len) {
        int r = proto_encode_spec(spec, ret, ret_len);
        if (r < 0)
                fprintf(stderr, "gen-proto-corpus: encoding failed: %s\n", strerror(-r));
        return r;
}

static int gen_specs(void) {
        char *argv_true[] = {"true", NULL};
        char *argv_py[] = {"python3", "-c", "print(1)", NULL};
        char *env[] = {"A=1", "HOME=/box", NULL};
        char *empty[] = {"", NULL};
        BoxBind binds[] = {{"/opt/x", "/x", true}, {"/srv/data", "/data", false}};
        BoxBind many[BOX_MAX_BINDS];
        _cleanup_free_ uint8_t *full = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t full_len, len;
        BoxSpec s;
        int r;

        /* The smallest request: one argument, nothing else. */
        box_spec_init(&s);
        s.argv = argv_true;
        if ((r = encode(&s, &buf, &len)) < 0 || (r = write_seed("spec-minimal", buf, len)) < 0)
                return r;
        free(TAKE_PTR(buf));

        /* Every field used. */
        box_spec_init(&s);
        s.argv = argv_py;
        s.env = env;
        s.cpu_time_usec = 1500000;
        s.extra_time_usec = 500000;
        s.wall_time_usec = 3000000;
        s.memory_kib = 262144;
        s.stack_kib = 8192;
        s.fsize_kib = 1024;
        s.output_kib = 1024;
        s.tmp_kib = 65536;
        s.processes = 64;
        s.open_files = 128;
        s.share_net = true;
        s.stderr_to_stdout = true;
        s.workdir = "/tmp/work";
        s.binds = binds;
        s.n_binds = ELEMENTSOF(binds);
        if ((r = encode(&s, &full, &full_len)) < 0 || (r = write_seed("spec-full", full, full_len)) < 0)
                return r;

        /* Every limit at its ceiling, which is still accepted. */
        box_spec_init(&s);
        s.argv = argv_true;
        s.cpu_time_usec = s.extra_time_usec = s.wall_time_usec = UINT64_C(86400) * 1000000;
        s.memory_kib = s.stack_kib = s.fsize_kib = s.output_kib = s.tmp_kib = UINT64_C(1) << 40;
        s.processes = s.open_files = UINT32_MAX;
        if ((r = encode(&s, &buf, &len)) < 0 || (r = write_seed("spec-max-limits", buf, len)) < 0)
                return r;
        free(TAKE_PTR(buf));

        /* Empty strings everywhere a string goes. */
        box_spec_init(&s);
        s.argv = empty;
        s.env = empty;
        s.workdir = "";
        BoxBind empty_bind = {"", "", false};
        s.binds = &empty_bind;
        s.n_binds = 1;
        if ((r = encode(&s, &buf, &len)) < 0 || (r = write_seed("spec-empty-strings", buf, len)) < 0)
                return r;
        free(TAKE_PTR(buf));

        /* As many binds as allowed. */
        box_spec_init(&s);
        s.argv = argv_true;
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = (BoxBind){"/a", "/b", i % 2};
        s.binds = many;
        s.n_binds = ELEMENTSOF(many);
        if ((r = encode(&s, &buf, &len)) < 0 || (r = write_seed("spec-max-binds", buf, len)) < 0)
                return r;

        /* One bind too many: the count in the header says 65. */
        put_u32_at(buf, OFF_NBINDS, BOX_MAX_BINDS + 1);
        if ((r = write_seed("spec-too-many-binds", buf, len)) < 0)
                return r;
        free(TAKE_PTR(buf));

        /* From here on, spec-full patched or cut. */
        buf = malloc(full_len + 1);
        if (!buf)
                return -ENOMEM;
        const struct {
                const char *name;
                size_t len;
        } cuts[] = {
                {"spec-cut-in-header", HEADER_SIZE - 5},
                {"spec-cut-in-string", full_len - 3},
                {"spec-trailing-byte", full_len + 1},
        };
        for (size_t i = 0; i < ELEMENTSOF(cuts); i++) {
                memcpy(buf, full, full_len);
                buf[full_len] = 0;
                if ((r = write_seed(cuts[i].name, buf, cuts[i].len)) < 0)
                        return r;
        }

        /* Unknown flag bits and an rw word of 2: accepted, not kept by a re-encoding. */
        memcpy(buf, full, full_len);
        put_u32_at(buf, OFF_FLAGS, UINT32_MAX);
        put_u32_at(buf, full_len - 4, 2);
        if ((r = write_seed("spec-unknown-bits", buf, full_len)) < 0)
                return r;

        memcpy(buf, full, full_len);
        put_u32_at(buf, OFF_ARGC, 0);
        if ((r = write_seed("spec-no-argv", buf, full_len)) < 0)
                return r;

        memcpy(buf, full, full_len);
        put_u32_at(buf, OFF_ARGC, UINT32_MAX);
        if ((r = write_seed("spec-huge-argc", buf, full_len)) < 0)
                return r;

        memcpy(buf, full, full_len);
        put_u32_at(buf, OFF_ENVC, BOX_MAX_ENV + 1);
        if ((r = write_seed("spec-too-many-env", buf, full_len)) < 0)
                return r;

        memcpy(buf, full, full_len);
        put_u64_at(buf, OFF_MEMORY_KIB, (UINT64_C(1) << 40) + 1);
        if ((r = write_seed("spec-memory-over-ceiling", buf, full_len)) < 0)
                return r;

        /* The workdir's length is the first string: claim more than the message holds. */
        memcpy(buf, full, full_len);
        put_u32_at(buf, HEADER_SIZE, UINT32_MAX);
        if ((r = write_seed("spec-string-too-long", buf, full_len)) < 0)
                return r;

        /* A NUL inside the workdir ("/tmp/work" -> "/tmp\0work"). */
        memcpy(buf, full, full_len);
        buf[HEADER_SIZE + 4 + 4] = '\0';
        if ((r = write_seed("spec-embedded-nul", buf, full_len)) < 0)
                return r;
        return 0;
}

static int gen_results(void) {
        uint8_t out[sizeof(BoxResult) + 16];
        BoxResult res;
        size_t len;
        int r;

        /* memset, not an initializer: the padding goes to disk too. */
        memset(&res, 0, sizeof res);
        res.status = BOX_STATUS_TO;
        res.limit = BOX_LIMIT_CPU;
        res.exit_code = -1;
        res.signal = 9;
        res.cpu_time_usec = 1000123;
        res.wall_time_usec = 1200456;
        res.memory_kib = 3072;
        res.stdout_bytes = 12;
        res.oom_killed = true;
        res.unenforced = BOX_UNENFORCED_MEMORY;
        snprintf(res.message, sizeof res.message, "Time limit exceeded");
        proto_encode_result(&res, out, &len);
        if ((r = write_seed("result-time-limit", out, len)) < 0)
                return r;

        /* The message fills its buffer without a NUL: accepted, cut by one byte. */
        memset(res.message, 'x', sizeof res.message);
        proto_encode_result(&res, out, &len);
        if ((r = write_seed("result-unterminated-message", out, len)) < 0)
                return r;

        memset(&res, 0, sizeof res);
        res.status = _BOX_STATUS_MAX;
        proto_encode_result(&res, out, &len);
        if ((r = write_seed("result-bad-status", out, len)) < 0)
                return r;

        memset(&res, 0, sizeof res);
        res.limit = _BOX_LIMIT_MAX;
        proto_encode_result(&res, out, &len);
        return write_seed("result-bad-limit", out, len);
}

int main(int argc, char *argv[]) {
        int r;

        if (argc != 2) {
                fprintf(stderr, "usage: %s OUTPUT-DIR\n", argv[0]);
                return 2;
        }
        out_dir = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (out_dir < 0) {
                fprintf(stderr, "gen-proto-corpus: %s: %s\n", argv[1], strerror(errno));
                return 1;
        }
        r = gen_specs();
        if (r >= 0)
                r = gen_results();
        out_dir = safe_close(out_dir);
        if (r < 0) {
                fprintf(stderr, "gen-proto-corpus: %s\n", strerror(-r));
                return 1;
        }
        return 0;
}
