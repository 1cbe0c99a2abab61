/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "base/macro.h"
#include "sandbox/box.h"
#include "tests.h"

static void test_status_names(void) {
        static const struct {
                BoxStatus status;
                const char *name;
        } table[] = {
                {BOX_STATUS_OK, "OK"},
                {BOX_STATUS_RE, "RE"},
                {BOX_STATUS_SG, "SG"},
                {BOX_STATUS_TO, "TO"},
                {BOX_STATUS_ML, "ML"},
                {BOX_STATUS_OL, "OL"},
                {BOX_STATUS_XX, "XX"},
        };

        /* The table covers every status. */
        ASSERT_EQ(ELEMENTSOF(table), (size_t) _BOX_STATUS_MAX);
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                const char *s = box_status_to_string(table[i].status);
                ASSERT_TRUE(s != NULL);
                ASSERT_TRUE(strcmp(s, table[i].name) == 0);
                /* Every status has its own name. */
                for (size_t j = 0; j < i; j++)
                        ASSERT_TRUE(strcmp(s, box_status_to_string(table[j].status)) != 0);
        }
        /* Out of range: the sandbox failed, never NULL. */
        ASSERT_TRUE(strcmp(box_status_to_string(_BOX_STATUS_MAX), "XX") == 0);
        ASSERT_TRUE(strcmp(box_status_to_string((BoxStatus) (_BOX_STATUS_MAX + 1)), "XX") == 0);
        ASSERT_TRUE(strcmp(box_status_to_string((BoxStatus) 1000), "XX") == 0);
}

static void test_limit_names(void) {
        static const struct {
                BoxLimit limit;
                const char *name;
        } table[] = {
                {BOX_LIMIT_NONE, NULL},
                {BOX_LIMIT_CPU, "cpu"},
                {BOX_LIMIT_WALL, "wall"},
                {BOX_LIMIT_MEMORY, "memory"},
                {BOX_LIMIT_OUTPUT, "output"},
        };

        ASSERT_EQ(ELEMENTSOF(table), (size_t) _BOX_LIMIT_MAX);
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                const char *s = box_limit_to_string(table[i].limit);
                if (!table[i].name) {
                        ASSERT_TRUE(s == NULL);
                        continue;
                }
                ASSERT_TRUE(s != NULL);
                ASSERT_TRUE(strcmp(s, table[i].name) == 0);
        }
        ASSERT_TRUE(box_limit_to_string(_BOX_LIMIT_MAX) == NULL);
        ASSERT_TRUE(box_limit_to_string((BoxLimit) (_BOX_LIMIT_MAX + 1)) == NULL);
        ASSERT_TRUE(box_limit_to_string((BoxLimit) 1000) == NULL);
}

static void test_spec_init(void) {
        BoxBind bind = {0};
        char *argv[] = {"x", NULL};
        BoxSpec spec;

        /* Whatever was there before is overwritten. */
        memset(&spec, 0xa5, sizeof spec);
        box_spec_init(&spec);
        ASSERT_TRUE(spec.argv == NULL);
        ASSERT_TRUE(spec.env == NULL);
        ASSERT_EQ(spec.cpu_time_usec, 0u);
        ASSERT_EQ(spec.extra_time_usec, 0u);
        ASSERT_EQ(spec.wall_time_usec, 0u);
        ASSERT_EQ(spec.memory_kib, 0u);
        ASSERT_EQ(spec.stack_kib, 0u);
        ASSERT_EQ(spec.fsize_kib, 0u);
        ASSERT_EQ(spec.output_kib, 0u);
        ASSERT_EQ(spec.tmp_kib, 0u);
        ASSERT_EQ(spec.processes, 0u);
        ASSERT_EQ(spec.open_files, 0u);
        ASSERT_TRUE(!spec.share_net);
        ASSERT_TRUE(!spec.stderr_to_stdout);
        ASSERT_TRUE(spec.workdir == NULL);
        ASSERT_TRUE(spec.binds == NULL);
        ASSERT_EQ(spec.n_binds, 0u);
        /* No stream: every fd is invalid (the users test `< 0`). */
        ASSERT_TRUE(spec.stdin_fd < 0);
        ASSERT_TRUE(spec.stdout_fd < 0);
        ASSERT_TRUE(spec.stderr_fd < 0);
        ASSERT_EQ(spec.stdin_fd, -EBADF);
        ASSERT_EQ(spec.stdout_fd, -EBADF);
        ASSERT_EQ(spec.stderr_fd, -EBADF);
        ASSERT_EQ(spec.control_fd, -EBADF);

        /* A used spec is reset too. */
        spec.argv = argv;
        spec.binds = &bind;
        spec.n_binds = 1;
        spec.memory_kib = 1;
        spec.stdout_fd = 1;
        spec.share_net = true;
        box_spec_init(&spec);
        ASSERT_TRUE(spec.argv == NULL && spec.binds == NULL && spec.n_binds == 0);
        ASSERT_TRUE(spec.memory_kib == 0 && !spec.share_net && spec.stdout_fd < 0);
}

int main(void) {
        test_status_names();
        test_limit_names();
        test_spec_init();
        return 0;
}
