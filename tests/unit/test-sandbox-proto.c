/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/sandbox-internal.h"
#include "tests.h"

static void test_roundtrip(void) {
        char *argv[] = {"python3", "-c", "print(1)", NULL};
        char *env[] = {"A=1", "HOME=/box", NULL};
        BoxBind binds[] = {{"/opt/x", "/x", true}, {"/srv/data", "/data", false}};
        BoxSpec s, d;
        uint8_t *buf;
        size_t len;
        void *arena;

        box_spec_init(&s);
        s.argv = argv;
        s.env = env;
        s.cpu_time_usec = 1500000;
        s.extra_time_usec = 500000;
        s.wall_time_usec = 3000000;
        s.memory_kib = 262144;
        s.processes = 64;
        s.output_kib = 1024;
        s.share_net = true;
        s.workdir = "/tmp/work";
        s.binds = binds;
        s.n_binds = 2;
        ASSERT_EQ(proto_encode_spec(&s, &buf, &len), 0);
        ASSERT_EQ(proto_decode_spec(buf, len, &d, &arena), 0);
        ASSERT_EQ(d.cpu_time_usec, 1500000u);
        ASSERT_EQ(d.extra_time_usec, 500000u);
        ASSERT_EQ(d.wall_time_usec, 3000000u);
        ASSERT_EQ(d.memory_kib, 262144u);
        ASSERT_EQ(d.processes, 64u);
        ASSERT_EQ(d.output_kib, 1024u);
        ASSERT_TRUE(d.share_net && !d.stderr_to_stdout);
        ASSERT_TRUE(strcmp(d.workdir, "/tmp/work") == 0);
        ASSERT_TRUE(strcmp(d.argv[2], "print(1)") == 0 && d.argv[3] == NULL);
        ASSERT_TRUE(strcmp(d.env[1], "HOME=/box") == 0 && d.env[2] == NULL);
        ASSERT_EQ(d.n_binds, 2u);
        ASSERT_TRUE(strcmp(d.binds[0].inside, "/x") == 0 && d.binds[0].rw && !d.binds[1].rw);
        ASSERT_EQ(d.stdin_fd, -EBADF);
        free(arena);

        /* Every truncation and every trailing byte is refused, never read past. */
        for (size_t cut = 0; cut < len; cut++) {
                uint8_t *copy = malloc(cut ? cut : 1);
                memcpy(copy, buf, cut);
                ASSERT_TRUE(proto_decode_spec(copy, cut, &d, &arena) < 0);
                free(copy);
        }
        uint8_t *longer = malloc(len + 1);
        memcpy(longer, buf, len);
        longer[len] = 0;
        ASSERT_TRUE(proto_decode_spec(longer, len + 1, &d, &arena) < 0);
        free(longer);

        /* A huge count is refused before anything is allocated for it. */
        uint32_t huge = 0xffffffffu;
        memcpy(buf + 8 * 8 + 4 * 3, &huge, 4); /* argc */
        ASSERT_EQ(proto_decode_spec(buf, len, &d, &arena), -EBADMSG);
        free(buf);
}

static void test_result(void) {
        BoxResult r = {.status = BOX_STATUS_TO, .limit = BOX_LIMIT_CPU, .exit_code = -1, .cpu_time_usec = 5};
        uint8_t out[sizeof(BoxResult) + 16];
        size_t len;
        BoxResult d;
        snprintf(r.message, sizeof r.message, "Time limit exceeded");
        proto_encode_result(&r, out, &len);
        ASSERT_EQ(proto_decode_result(out, len, &d), 0);
        ASSERT_EQ(d.status, BOX_STATUS_TO);
        ASSERT_TRUE(strcmp(d.message, "Time limit exceeded") == 0);
        ASSERT_TRUE(proto_decode_result(out, len - 1, &d) < 0);
        ((BoxResult *) out)->status = 99;
        ASSERT_TRUE(proto_decode_result(out, len, &d) < 0);
}

int main(void) {
        test_roundtrip();
        test_result();
        return 0;
}
