/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "base/log.h"
#include "tests.h"

/* stderr goes to a memfd between capture_begin() and capture_end(); the assertions run
 * after capture_end(), with the real stderr back, so that a failure is visible. */
static int saved_stderr = -1;
static int capture_fd = -1;
static char captured[4096];

static void capture_begin(void) {
        ASSERT_EQ(ftruncate(capture_fd, 0), 0);
        ASSERT_EQ(lseek(capture_fd, 0, SEEK_SET), 0);
        fflush(stderr);
        ASSERT_EQ(dup2(capture_fd, STDERR_FILENO), STDERR_FILENO);
}

static const char *capture_end(void) {
        fflush(stderr);
        ASSERT_EQ(dup2(saved_stderr, STDERR_FILENO), STDERR_FILENO);
        ssize_t n = pread(capture_fd, captured, sizeof captured - 1, 0);
        ASSERT_TRUE(n >= 0);
        captured[n] = '\0';
        return captured;
}

static void test_default_program(void) {
        capture_begin();
        int r = log_error(EINVAL, "bad %s: %d", "value", 42);
        const char *out = capture_end();
        ASSERT_EQ(r, -EINVAL);
        ASSERT_TRUE(strcmp(out, "coderunner: bad value: 42\n") == 0);
}

static void test_return_values(void) {
        capture_begin();
        int r1 = log_error(ENOENT, "a");
        int r2 = log_error(-ENOENT, "b");
        int r3 = log_warning(EACCES, "c");
        int r4 = log_error(0, "d");
        int r5 = log_info("e");
        const char *out = capture_end();
        ASSERT_EQ(r1, -ENOENT);
        ASSERT_EQ(r2, -ENOENT);
        ASSERT_EQ(r3, -EACCES);
        ASSERT_EQ(r4, -EIO);
        ASSERT_EQ(r5, -EIO);
        ASSERT_TRUE(strcmp(out, "test-log: a\ntest-log: b\ntest-log: c\ntest-log: d\ntest-log: e\n") == 0);
}

static void test_max_level(void) {
        const char *out;
        int r1, r2, r3, r4;

        /* The default is INFO: debug is dropped, but still returns. */
        capture_begin();
        r1 = log_debug("hidden %d", 1);
        r2 = log_info("shown %d", 2);
        out = capture_end();
        ASSERT_EQ(r1, -EIO);
        ASSERT_EQ(r2, -EIO);
        ASSERT_TRUE(strcmp(out, "test-log: shown 2\n") == 0);

        log_set_max_level(LOG_LEVEL_ERROR);
        capture_begin();
        r1 = log_debug("no");
        r2 = log_info("no");
        r3 = log_warning(EPERM, "no");
        r4 = log_error(EPERM, "yes");
        out = capture_end();
        ASSERT_EQ(r1, -EIO);
        ASSERT_EQ(r2, -EIO);
        ASSERT_EQ(r3, -EPERM);
        ASSERT_EQ(r4, -EPERM);
        ASSERT_TRUE(strcmp(out, "test-log: yes\n") == 0);

        log_set_max_level(LOG_LEVEL_WARNING);
        capture_begin();
        (void) log_info("no");
        (void) log_warning(EPERM, "warn");
        (void) log_error(EPERM, "err");
        out = capture_end();
        ASSERT_TRUE(strcmp(out, "test-log: warn\ntest-log: err\n") == 0);

        log_set_max_level(LOG_LEVEL_DEBUG);
        capture_begin();
        (void) log_debug("debug");
        (void) log_info("info");
        out = capture_end();
        ASSERT_TRUE(strcmp(out, "test-log: debug\ntest-log: info\n") == 0);
        log_set_max_level(LOG_LEVEL_INFO);
}

/* A message longer than the line buffer is cut, and the line still ends. */
static void test_long_message(void) {
        char *msg = malloc(3000);
        ASSERT_TRUE(msg != NULL);
        memset(msg, 'm', 2999);
        msg[2999] = '\0';
        capture_begin();
        int r = log_error(E2BIG, "%s", msg);
        const char *out = capture_end();
        ASSERT_EQ(r, -E2BIG);
        ASSERT_TRUE(strncmp(out, "test-log: mmm", 13) == 0);
        size_t len = strlen(out);
        ASSERT_TRUE(len > 1000 && len < 2999);
        ASSERT_EQ(out[len - 1], '\n');
        ASSERT_TRUE(strchr(out, '\n') == out + len - 1);
        free(msg);
}

int main(void) {
        saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        ASSERT_TRUE(saved_stderr >= 0);
        capture_fd = memfd_create("test-log", MFD_CLOEXEC);
        ASSERT_TRUE(capture_fd >= 0);

        test_default_program();
        log_set_program("test-log");
        test_return_values();
        test_max_level();
        test_long_message();

        ASSERT_EQ(close(capture_fd), 0);
        ASSERT_EQ(close(saved_stderr), 0);
        return 0;
}
