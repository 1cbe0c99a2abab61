/* SPDX-License-Identifier: MIT */
#pragma once

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/macro.h"

/* Write all of buf; retries EINTR and short writes. Returns 0 or -errno. */
int write_all(int fd, const void *buf, size_t len);
/* The same on a socket, never raising SIGPIPE: -EPIPE once the peer is gone. */
int send_all(int fd, const void *buf, size_t len);

/* Read into buf until EOF or len bytes. Returns bytes read or -errno. */
ssize_t read_full(int fd, void *buf, size_t len);

/* Read a whole small file (at most max bytes) at dirfd/path into a NUL-terminated
 * string. On success *ret_data owns a malloc'd buffer. -EFBIG when larger than max. */
int read_file_at(int dirfd, const char *path, size_t max, char **ret_data, size_t *ret_len);

/* Write a short string to an existing file (cgroup and /proc knobs). */
int write_string_at(int dirfd, const char *path, const char *s);

/* pread the first line of an open file into buf (NUL-terminated, trailing newline stripped). */
int pread_line(int fd, char *buf, size_t size);

int fd_set_nonblock(int fd, int on);

/* A DIR stream over its own descriptor of the directory dirfd (which stays the caller's).
 * NULL with errno set on failure. */
DIR *dir_open_at(int dirfd);
