/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "tests.h"

/* Larger than a pipe's default capacity (64 KiB), so that the writer blocks and the
 * reader sees the data in several short reads. */
#define BIG (1024 * 1024)

static int make_tmpdir(char *buf, size_t size) {
        const char *base = getenv("TMPDIR");
        int n = snprintf(buf, size, "%s/test-fd-util-XXXXXX", base && *base ? base : "/tmp");
        ASSERT_TRUE(n > 0 && (size_t) n < size);
        ASSERT_TRUE(mkdtemp(buf) != NULL);
        int dfd = open(buf, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(dfd >= 0);
        return dfd;
}

static void put_file(int dfd, const char *name, const char *data, size_t len) {
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write_all(fd, data, len), 0);
        ASSERT_EQ(close(fd), 0);
}

static char pattern_byte(size_t i) {
        return (char) ('a' + (i * 7 + i / 251) % 26);
}

static void test_pipe_roundtrip(void) {
        int p[2];
        char buf[16];

        ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
        ASSERT_EQ(write_all(p[1], "hello", 5), 0);
        ASSERT_EQ(write_all(p[1], "", 0), 0);
        ASSERT_EQ(close(p[1]), 0);
        /* EOF before len: what was there, then 0 at EOF. */
        memset(buf, 'X', sizeof buf);
        ASSERT_EQ(read_full(p[0], buf, sizeof buf), 5);
        ASSERT_TRUE(memcmp(buf, "hello", 5) == 0);
        ASSERT_EQ(buf[5], 'X');
        ASSERT_EQ(read_full(p[0], buf, sizeof buf), 0);
        ASSERT_EQ(close(p[0]), 0);

        /* Stops at len even when more is available. */
        ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
        ASSERT_EQ(write_all(p[1], "abcdef", 6), 0);
        ASSERT_EQ(read_full(p[0], buf, 4), 4);
        ASSERT_TRUE(memcmp(buf, "abcd", 4) == 0);
        ASSERT_EQ(read_full(p[0], buf, 0), 0);
        ASSERT_EQ(close(p[1]), 0);
        ASSERT_EQ(read_full(p[0], buf, sizeof buf), 2);
        ASSERT_TRUE(memcmp(buf, "ef", 2) == 0);
        ASSERT_EQ(close(p[0]), 0);
}

/* A writer process pushes more than the pipe holds: read_full must keep reading across
 * short reads until it has all of it, and write_all across blocking writes. */
static void test_pipe_short_reads(void) {
        int p[2];
        char *buf = malloc(BIG + 1);
        pid_t pid;
        int status;

        ASSERT_TRUE(buf != NULL);
        ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                char *out = malloc(BIG);
                if (!out)
                        _exit(2);
                for (size_t i = 0; i < BIG; i++)
                        out[i] = pattern_byte(i);
                close(p[0]);
                /* In pieces of uneven sizes, so that the reader's reads straddle them. */
                for (size_t off = 0, step = 1; off < BIG; step = step * 3 + 1) {
                        size_t n = step % 40000 + 1;
                        if (n > BIG - off)
                                n = BIG - off;
                        if (write_all(p[1], out + off, n) < 0)
                                _exit(1);
                        off += n;
                }
                _exit(0);
        }
        ASSERT_EQ(close(p[1]), 0);
        /* Ask for one byte more than is coming: the answer is exactly what was written. */
        ASSERT_EQ(read_full(p[0], buf, BIG + 1), BIG);
        for (size_t i = 0; i < BIG; i++)
                ASSERT_EQ(buf[i], pattern_byte(i));
        ASSERT_EQ(close(p[0]), 0);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        free(buf);
}

static void test_errors(void) {
        int p[2];
        char c;

        ASSERT_EQ(write_all(-1, "x", 1), -EBADF);
        ASSERT_EQ(read_full(-1, &c, 1), -EBADF);

        /* Writing to a pipe nobody reads: EPIPE (SIGPIPE ignored). */
        ASSERT_TRUE(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
        ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
        ASSERT_EQ(close(p[0]), 0);
        ASSERT_EQ(write_all(p[1], "x", 1), -EPIPE);
        ASSERT_EQ(close(p[1]), 0);
        ASSERT_TRUE(signal(SIGPIPE, SIG_DFL) != SIG_ERR);

        /* Reading the write end. */
        ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
        ASSERT_EQ(read_full(p[1], &c, 1), -EBADF);
        ASSERT_EQ(close(p[0]), 0);
        ASSERT_EQ(close(p[1]), 0);
}

static void test_nonblock(void) {
        int p[2];
        char c;

        ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
        ASSERT_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
        ASSERT_EQ(fd_set_nonblock(p[0], 1), 0);
        ASSERT_TRUE(fcntl(p[0], F_GETFL) & O_NONBLOCK);
        /* Idempotent. */
        ASSERT_EQ(fd_set_nonblock(p[0], 1), 0);
        ASSERT_TRUE(fcntl(p[0], F_GETFL) & O_NONBLOCK);
        /* An empty pipe with a writer: EAGAIN instead of blocking. */
        ASSERT_EQ(read_full(p[0], &c, 1), -EAGAIN);
        ASSERT_EQ(fd_set_nonblock(p[0], 0), 0);
        ASSERT_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
        /* The other flags are kept. */
        ASSERT_TRUE((fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY);
        ASSERT_EQ(fd_set_nonblock(p[1], 1), 0);
        ASSERT_TRUE((fcntl(p[1], F_GETFL) & O_ACCMODE) == O_WRONLY);

        /* A full nonblocking pipe: write_all gives up with EAGAIN. */
        char *big = calloc(1, BIG);
        ASSERT_TRUE(big != NULL);
        ASSERT_EQ(write_all(p[1], big, BIG), -EAGAIN);
        free(big);
        ASSERT_EQ(close(p[0]), 0);
        ASSERT_EQ(close(p[1]), 0);

        /* The other status flags survive both ways. */
        int fd = open("/dev/null", O_WRONLY | O_APPEND | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(fd_set_nonblock(fd, 1), 0);
        ASSERT_EQ(fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK), O_APPEND | O_NONBLOCK);
        ASSERT_EQ(fd_set_nonblock(fd, 0), 0);
        ASSERT_EQ(fcntl(fd, F_GETFL) & (O_APPEND | O_NONBLOCK), O_APPEND);
        ASSERT_EQ(close(fd), 0);

        ASSERT_EQ(fd_set_nonblock(-1, 1), -EBADF);
}

static void test_read_file_at(int dfd) {
        char *data;
        size_t len;

        put_file(dfd, "ten", "0123456789", 10);
        put_file(dfd, "empty", "", 0);

        /* Exactly max bytes fits. */
        data = NULL;
        len = 999;
        ASSERT_EQ(read_file_at(dfd, "ten", 10, &data, &len), 0);
        ASSERT_TRUE(data != NULL);
        ASSERT_EQ(len, 10u);
        ASSERT_TRUE(strcmp(data, "0123456789") == 0);
        free(data);

        /* ret_len is optional. */
        data = NULL;
        ASSERT_EQ(read_file_at(dfd, "ten", 64, &data, NULL), 0);
        ASSERT_TRUE(strcmp(data, "0123456789") == 0);
        free(data);

        /* One byte over: -EFBIG, and the out-parameters are not written. */
        data = (char *) "untouched";
        len = 999;
        ASSERT_EQ(read_file_at(dfd, "ten", 9, &data, &len), -EFBIG);
        ASSERT_TRUE(strcmp(data, "untouched") == 0);
        ASSERT_EQ(len, 999u);
        ASSERT_EQ(read_file_at(dfd, "ten", 0, &data, &len), -EFBIG);

        /* An empty file is an empty string. */
        data = NULL;
        ASSERT_EQ(read_file_at(dfd, "empty", 0, &data, &len), 0);
        ASSERT_EQ(len, 0u);
        ASSERT_TRUE(data != NULL && data[0] == '\0');
        free(data);

        data = (char *) "untouched";
        ASSERT_EQ(read_file_at(dfd, "missing", 10, &data, &len), -ENOENT);
        ASSERT_EQ(read_file_at(dfd, ".", 10, &data, &len), -EISDIR);
        ASSERT_TRUE(strcmp(data, "untouched") == 0);

        /* An absolute path ignores dirfd; a bigger real file. */
        data = NULL;
        ASSERT_EQ(read_file_at(-1, "/proc/self/stat", 4096, &data, &len), 0);
        ASSERT_TRUE(len > 0 && strlen(data) == len);
        free(data);
}

static void test_write_string_at(int dfd) {
        char *data = NULL;

        put_file(dfd, "knob", "", 0);
        ASSERT_EQ(write_string_at(dfd, "knob", "max 100"), 0);
        ASSERT_EQ(read_file_at(dfd, "knob", 64, &data, NULL), 0);
        ASSERT_TRUE(strcmp(data, "max 100") == 0);
        free(data);

        ASSERT_EQ(write_string_at(dfd, "knob", ""), 0);

        /* It writes existing files only: no O_CREAT. */
        ASSERT_EQ(write_string_at(dfd, "not-there", "1"), -ENOENT);
        ASSERT_EQ(faccessat(dfd, "not-there", F_OK, 0), -1);
        ASSERT_EQ(write_string_at(dfd, ".", "1"), -EISDIR);
}

static void test_pread_line(int dfd) {
        char buf[64];
        int fd;

        put_file(dfd, "lines", "first line\nsecond\n", 18);
        fd = openat(dfd, "lines", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);

        ASSERT_EQ(pread_line(fd, buf, sizeof buf), 0);
        ASSERT_TRUE(strcmp(buf, "first line") == 0);
        /* Always from offset 0, wherever the file position is. */
        ASSERT_EQ(lseek(fd, 0, SEEK_END), 18);
        memset(buf, 'X', sizeof buf);
        ASSERT_EQ(pread_line(fd, buf, sizeof buf), 0);
        ASSERT_TRUE(strcmp(buf, "first line") == 0);
        ASSERT_EQ(lseek(fd, 0, SEEK_CUR), 18);

        /* A small buffer holds size-1 bytes and the NUL, never more. */
        memset(buf, 'X', sizeof buf);
        ASSERT_EQ(pread_line(fd, buf, 6), 0);
        ASSERT_TRUE(strcmp(buf, "first") == 0);
        ASSERT_EQ(buf[6], 'X');
        ASSERT_EQ(pread_line(fd, buf, 1), 0);
        ASSERT_EQ(buf[0], '\0');
        ASSERT_EQ(pread_line(fd, buf, 0), -EINVAL);
        ASSERT_EQ(close(fd), 0);

        /* No newline at all; and an empty file. */
        put_file(dfd, "word", "12345", 5);
        fd = openat(dfd, "word", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(pread_line(fd, buf, sizeof buf), 0);
        ASSERT_TRUE(strcmp(buf, "12345") == 0);
        ASSERT_EQ(close(fd), 0);
        fd = openat(dfd, "empty", O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(pread_line(fd, buf, sizeof buf), 0);
        ASSERT_EQ(buf[0], '\0');
        ASSERT_EQ(close(fd), 0);

        /* Not seekable. */
        int p[2];
        ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
        ASSERT_EQ(pread_line(p[0], buf, sizeof buf), -ESPIPE);
        ASSERT_EQ(close(p[0]), 0);
        ASSERT_EQ(close(p[1]), 0);
        ASSERT_EQ(pread_line(-1, buf, sizeof buf), -EBADF);
}

/* send_all: everything reaches the peer; a peer gone is -EPIPE, never a SIGPIPE. */
static void test_send_all(void) {
        int sv[2];
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        static char big[300 * 1024];
        memset(big, 'x', sizeof big);
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                close(sv[0]);
                _exit(send_all(sv[1], big, sizeof big) == 0 ? 0 : 1);
        }
        close(sv[1]);
        static char in[sizeof big];
        ASSERT_EQ(read_full(sv[0], in, sizeof in), (ssize_t) sizeof in);
        ASSERT_TRUE(memcmp(in, big, sizeof big) == 0);
        int status;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        close(sv[0]);

        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        close(sv[1]);
        ASSERT_EQ(send_all(sv[0], "x", 1), -EPIPE); /* the process is still here: no SIGPIPE */
        close(sv[0]);
}

int main(void) {
        static const char *const files[] = {"ten", "empty", "knob", "lines", "word"};
        char dir[4096];
        int dfd;

        test_pipe_roundtrip();
        test_send_all();
        test_pipe_short_reads();
        test_errors();
        test_nonblock();

        dfd = make_tmpdir(dir, sizeof dir);
        test_read_file_at(dfd);
        test_write_string_at(dfd);
        test_pread_line(dfd);
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                ASSERT_EQ(unlinkat(dfd, files[i], 0), 0);
        /* dir_open_at(): a stream of its own; the caller's descriptor stays open. */
        {
                ASSERT_EQ(mkdirat(dfd, "sub", 0700), 0);
                DIR *d = dir_open_at(dfd);
                ASSERT_TRUE(d != NULL);
                bool seen = false;
                for (struct dirent *e; (e = readdir(d));)
                        seen = seen || strcmp(e->d_name, "sub") == 0;
                ASSERT_TRUE(seen);
                ASSERT_EQ(closedir(d), 0);
                ASSERT_EQ(fcntl(dfd, F_GETFD) >= 0, true);
                ASSERT_EQ(unlinkat(dfd, "sub", AT_REMOVEDIR), 0);
                int file = openat(dfd, "plain", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                ASSERT_TRUE(file >= 0);
                ASSERT_TRUE(dir_open_at(file) == NULL && errno == ENOTDIR);
                close(file);
                ASSERT_EQ(unlinkat(dfd, "plain", 0), 0);
        }
        ASSERT_EQ(close(dfd), 0);
        ASSERT_EQ(rmdir(dir), 0);
        return 0;
}
