/* SPDX-License-Identifier: MIT */
/* Only what can be checked without root and without touching the host's cgroups: a
 * delegated cgroup directory that does not exist leaves every controller off, and a run
 * made with that setup creates nothing. No real cgroup is created or modified here. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/sandbox-internal.h"
#include "tests.h"

#define MISSING "/nonexistent-dir"

static void check_none(const CgroupSetup *s) {
        for (int c = 0; c < _CG_MAX; c++) {
                ASSERT_EQ(s->where[c], CG_NONE);
                ASSERT_TRUE(s->v1_parent[c] == NULL);
        }
        ASSERT_TRUE(s->v2_parent == NULL);
        ASSERT_TRUE(!s->v1_memsw);
}

static void test_setup_missing(void) {
        CgroupSetup s;
        struct stat st;

        ASSERT_TRUE(stat(MISSING, &st) < 0 && errno == ENOENT);

        /* Whatever was in s before is replaced. */
        memset(&s, 0x5a, sizeof s);
        ASSERT_EQ(cgroup_setup_init(&s, MISSING, false), 0);
        ASSERT_EQ(s.where[CG_MEMORY], CG_NONE);
        ASSERT_EQ(s.where[CG_PIDS], CG_NONE);
        check_none(&s);
        for (int c = 0; c < _CG_MAX; c++)
                ASSERT_TRUE(s.v1_home_tasks[c] < 0);
        ASSERT_TRUE(strcmp(s.describe, "cgroups: memory none, pids none, cpu none") == 0);
        cgroup_setup_done(&s);
        check_none(&s);

        ASSERT_EQ(cgroup_setup_init(&s, MISSING, true), 0);
        check_none(&s);
        ASSERT_TRUE(strcmp(s.describe, "cgroups: memory none, pids none, cpu none (rootless)") == 0);
        cgroup_setup_done(&s);

        /* The describe string is always terminated within its array. */
        ASSERT_TRUE(memchr(s.describe, '\0', sizeof s.describe) != NULL);
}

static void test_create_without_cgroups(void) {
        CgroupSetup s;
        BoxCgroup cg;
        BoxSpec spec;
        uint64_t v = 777;

        ASSERT_EQ(cgroup_setup_init(&s, MISSING, true), 0);
        box_spec_init(&spec);
        /* Limits asked for but no controller to set them: nothing to create, no error
         * (the caller reports them as unenforced). */
        spec.memory_kib = 65536;
        spec.processes = 16;
        memset(&cg, 0x5a, sizeof cg);
        ASSERT_EQ(box_cgroup_create(&s, "test-cgroup-unit", &spec, 2, &cg), 0);
        ASSERT_TRUE(strcmp(cg.name, "test-cgroup-unit") == 0);
        ASSERT_TRUE(cg.v2_dir < 0);
        ASSERT_TRUE(cg.cpu_fd < 0);
        ASSERT_TRUE(cg.oom_fd < 0); /* no v1 memory cgroup, no OOM notification to wait for */
        for (int c = 0; c < _CG_MAX; c++) {
                ASSERT_TRUE(cg.v1_dir[c] < 0);
                ASSERT_TRUE(cg.v1_tasks[c] < 0);
        }

        /* Nothing to read: errors, and the out-parameters are left alone. */
        ASSERT_EQ(box_cgroup_cpu_usec(&s, &cg, &v), -EOPNOTSUPP);
        ASSERT_EQ(v, 777u);
        ASSERT_EQ(box_cgroup_memory_peak_kib(&s, &cg, &v), -EOPNOTSUPP);
        ASSERT_EQ(v, 777u);
        ASSERT_EQ(box_cgroup_oom_kills(&s, &cg, &v), -EOPNOTSUPP);
        ASSERT_EQ(v, 777u);
        /* Entering and leaving no v1 cgroup is a no-op. */
        ASSERT_EQ(box_cgroup_enter_v1(&s, &cg, true), 0);
        ASSERT_EQ(box_cgroup_enter_v1(&s, &cg, false), 0);
        /* Killing and destroying nothing does nothing (and this process survives). */
        box_cgroup_kill(&s, &cg);
        box_cgroup_destroy(&s, &cg);
        ASSERT_TRUE(cg.v2_dir < 0 && cg.cpu_fd < 0 && cg.oom_fd < 0);

        /* No directory of that name appeared anywhere we could see. */
        ASSERT_TRUE(access(MISSING, F_OK) < 0);
        ASSERT_TRUE(access(MISSING "/test-cgroup-unit", F_OK) < 0);
        ASSERT_TRUE(access("test-cgroup-unit", F_OK) < 0);

        /* The same without any limit. */
        box_spec_init(&spec);
        ASSERT_EQ(box_cgroup_create(&s, "test-cgroup-unit", &spec, 0, &cg), 0);
        ASSERT_EQ(box_cgroup_cpu_usec(&s, &cg, &v), -EOPNOTSUPP);
        box_cgroup_destroy(&s, &cg);
        cgroup_setup_done(&s);
}

int main(void) {
        test_setup_missing();
        test_create_without_cgroups();
        return 0;
}
