/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/fd-util.h"

int write_all(int fd, const void *buf, size_t len) {
        const char *p = buf;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

int send_all(int fd, const void *buf, size_t len) {
        const char *p = buf;

        while (len > 0) {
                ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : -EPIPE;
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

ssize_t read_full(int fd, void *buf, size_t len) {
        char *p = buf;
        size_t got = 0;

        while (got < len) {
                ssize_t n = read(fd, p + got, len - got);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                got += (size_t) n;
        }
        return (ssize_t) got;
}

int read_file_at(int dirfd, const char *path, size_t max, char **ret_data, size_t *ret_len) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        ssize_t n;

        if (max >= SIZE_MAX / 2)
                return -EINVAL;
        fd = RETRY_EINTR(openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY));
        if (fd < 0)
                return -errno;
        data = malloc(max + 1);
        if (!data)
                return -ENOMEM;
        n = read_full(fd, data, max + 1);
        if (n < 0)
                return (int) n;
        if ((size_t) n > max)
                return -EFBIG;
        data[n] = '\0';
        if (ret_len)
                *ret_len = (size_t) n;
        *ret_data = TAKE_PTR(data);
        return 0;
}

int write_string_at(int dirfd, const char *path, const char *s) {
        _cleanup_close_ int fd = -EBADF;

        fd = RETRY_EINTR(openat(dirfd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY));
        if (fd < 0)
                return -errno;
        return write_all(fd, s, strlen(s));
}

int pread_line(int fd, char *buf, size_t size) {
        ssize_t n;

        if (size == 0)
                return -EINVAL;
        n = RETRY_EINTR(pread(fd, buf, size - 1, 0));
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        char *nl = strchr(buf, '\n');
        if (nl)
                *nl = '\0';
        return 0;
}

int fd_set_nonblock(int fd, int on) {
        int flags = fcntl(fd, F_GETFL);
        if (flags < 0)
                return -errno;
        flags = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
        if (fcntl(fd, F_SETFL, flags) < 0)
                return -errno;
        return 0;
}

DIR *dir_open_at(int dirfd) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        DIR *d = fdopendir(fd);
        if (!d) {
                int err = errno;
                close(fd);
                errno = err;
        }
        return d;
}
