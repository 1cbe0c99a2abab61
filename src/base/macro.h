/* SPDX-License-Identifier: MIT */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define _unused_ __attribute__((unused))
#define _noreturn_ __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _warn_unused_ __attribute__((warn_unused_result))

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Close an fd, keeping errno; returns -EBADF so that `fd = safe_close(fd);` resets it. */
static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}
static inline void closep(int *fd) {
        safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Hand ownership out of a cleanup variable. */
#define TAKE_PTR(p) \
        ({ \
                __typeof__(p) _taken = (p); \
                (p) = NULL; \
                _taken; \
        })
#define TAKE_FD(fd) \
        ({ \
                int _taken = (fd); \
                (fd) = -EBADF; \
                _taken; \
        })

/* Retry a syscall expression while it fails with EINTR. */
#define RETRY_EINTR(expr) \
        ({ \
                __typeof__(expr) _r; \
                do \
                        _r = (expr); \
                while (_r < 0 && errno == EINTR); \
                _r; \
        })

static inline int negative_errno(void) {
        return errno > 0 ? -errno : -EIO;
}
