/* SPDX-License-Identifier: MIT */
/* The host's registry of box uids. Two sandbox services on one host must never run boxes
 * under the same uid: a program of one could signal, trace or read /proc of the other's.
 * Each claims its range with an open-file-description lock on one byte per uid of a
 * root-only file; the kernel drops the lock when the last descriptor of it closes (the
 * service and its forked slots exit), so nothing stale is ever left. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "sandbox/sandbox-internal.h"

/* uids a range never takes: nobody (65534) and the 16-bit invalid uid (65535). */
#define RESERVED_FIRST 65534u
#define RESERVED_END 65536u
#define UID_LIMIT ((uint64_t) INT_MAX) /* never near (uid_t) -1 */

int uid_registry_open(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        /* someone else's file would let them hold our uids hostage, or take them */
        if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0022))
                return -EPERM;
        return TAKE_FD(fd);
}

static struct flock range_lock(uint64_t first, uint64_t count, short type) {
        return (struct flock){
                .l_type = type, .l_whence = SEEK_SET, .l_start = (off_t) first, .l_len = (off_t) count};
}

static bool overlaps(uint64_t first, uint64_t count, uint64_t a, uint64_t end) {
        return first < end && a < first + count;
}

int uid_range_claim(int fd, uid_t first, unsigned count) {
        if (count == 0 || (uint64_t) first + count > UID_LIMIT ||
                overlaps(first, count, RESERVED_FIRST, RESERVED_END))
                return -ERANGE;
        struct flock l = range_lock(first, count, F_WRLCK);
        if (fcntl(fd, F_OFD_SETLK, &l) < 0)
                return errno == EAGAIN || errno == EACCES ? -EBUSY : -errno;
        return 0;
}

int uid_range_claim_free(
        int fd, uid_t from, unsigned count, uid_t skip_first, uid_t skip_end, uid_t *ret_first) {
        if (count == 0)
                return -ERANGE;
        uint64_t first = from;
        while (first + count <= UID_LIMIT) {
                if (overlaps(first, count, skip_first, skip_end)) {
                        first = skip_end;
                        continue;
                }
                if (overlaps(first, count, RESERVED_FIRST, RESERVED_END)) {
                        first = RESERVED_END;
                        continue;
                }
                struct flock l = range_lock(first, count, F_WRLCK);
                if (fcntl(fd, F_OFD_SETLK, &l) == 0) {
                        *ret_first = (uid_t) first;
                        return 0;
                }
                if (errno != EAGAIN && errno != EACCES)
                        return -errno;
                /* taken: go past the first lock in the way */
                l = range_lock(first, count, F_WRLCK);
                if (fcntl(fd, F_OFD_GETLK, &l) < 0)
                        return -errno;
                if (l.l_type == F_UNLCK)
                        continue; /* released meanwhile: try again */
                uint64_t end = l.l_len == 0 ? UID_LIMIT : (uint64_t) l.l_start + (uint64_t) l.l_len;
                first = end > first ? end : first + 1;
        }
        return -EBUSY;
}
