/* SPDX-License-Identifier: MIT */
/* Extracting additional_files (a zip from the user) into the run's directory.
 *
 * The archive is untrusted and so is everything it says about itself. We read it with
 * libzip straight from the caller's bytes and write only regular files and directories,
 * below dirfd, through fds opened one component at a time with O_NOFOLLOW: nothing in
 * the target, a symlink included, can redirect a write elsewhere.
 *
 * Refused, with a message naming the entry:
 *   - names: empty, absolute, with a backslash, with an empty, "." or ".." component, a
 *     component over 255 bytes or the whole over 4096 (-EINVAL);
 *   - symbolic links, devices, fifos and sockets by their Unix mode (-EINVAL): we would
 *     never create them, but a silent regular file in their place would surprise;
 *   - encrypted entries (-EINVAL), compression methods libzip lacks (-EOPNOTSUPP);
 *   - more than max_files entries, or more than max_files files and directories created,
 *     the implicit parents of "a/b/c" included (-E2BIG): a bound on inodes, not only on
 *     entries, since one entry can name a thousand directories;
 *   - more than max_bytes written in total (-EFBIG). The sizes in the headers are only an
 *     early refusal: the bytes are counted as they are decompressed, and the extraction
 *     stops before the write that would pass the limit (a zip bomb lies);
 *   - an entry whose name exists already, from an earlier entry or in the target
 *     (-EEXIST), or whose parent is not a directory we may enter (-ENOTDIR, -ELOOP);
 *   - an archive libzip cannot read, or an entry whose data is corrupt (-EBADMSG).
 *
 * errbuf is written only on failure (and may be NULL). On failure, what was extracted
 * before stays: the caller removes the directory.
 *
 * Names are taken raw (ZIP_FL_ENC_RAW): the bytes the archiver stored, as Info-ZIP unzip
 * writes them on Linux. A NUL inside a stored name cannot be refused: libzip reads it as
 * a space (its API hands names out as C strings), and the name is checked as such. Files get 0644, or 0755 when the Unix mode has an x bit; directories
 * 0755; set with fchmod() so that the umask does not matter (the sandbox's uid must be able
 * to read them). Entries without a Unix mode (DOS, NTFS...) are files, or directories when
 * the name ends in '/'. */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "base/fd-util.h"
#include "base/macro.h"
#include "judge/judge.h"

#include <dlfcn.h>
#include <pthread.h>

/* libzip is loaded on first use, not at start-up: it brings libcrypto, whose loading and
 * initialisation cost ~0.8 ms at every start of every coderunner command, and only
 * submissions with additional files need it. */
#define LIBZIP_FUNCTIONS(X) \
        X(zip_discard) \
        X(zip_error_code_zip) \
        X(zip_error_fini) \
        X(zip_error_init) \
        X(zip_error_init_with_code) \
        X(zip_error_strerror) \
        X(zip_fclose) \
        X(zip_file_get_error) \
        X(zip_file_get_external_attributes) \
        X(zip_fopen_index) \
        X(zip_fread) \
        X(zip_get_error) \
        X(zip_get_name) \
        X(zip_get_num_entries) \
        X(zip_open_from_source) \
        X(zip_source_buffer_create) \
        X(zip_source_free) \
        X(zip_stat_index) \
        X(zip_stat_init) \
        /* end */

static struct {
#define X(f) __typeof__(f) *f;
        LIBZIP_FUNCTIONS(X)
#undef X
} libzip;
static pthread_once_t libzip_once = PTHREAD_ONCE_INIT;
static int libzip_error;

static void libzip_load(void) {
        static const char *const names[] = {"libzip.so.4", "libzip.so.5", "libzip.so"};
        void *h = NULL;
        for (size_t i = 0; !h && i < sizeof names / sizeof names[0]; i++)
                h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                libzip_error = -ELIBACC;
                return;
        }
#define X(f) \
        if (!(libzip.f = (__typeof__(f) *) dlsym(h, #f))) \
                libzip_error = -ELIBBAD;
        LIBZIP_FUNCTIONS(X)
#undef X
}

/* From here on, every zip_*() call goes through the loaded table. */
#define zip_discard libzip.zip_discard
#define zip_error_code_zip libzip.zip_error_code_zip
#define zip_error_fini libzip.zip_error_fini
#define zip_error_init libzip.zip_error_init
#define zip_error_init_with_code libzip.zip_error_init_with_code
#define zip_error_strerror libzip.zip_error_strerror
#define zip_fclose libzip.zip_fclose
#define zip_file_get_error libzip.zip_file_get_error
#define zip_file_get_external_attributes libzip.zip_file_get_external_attributes
#define zip_fopen_index libzip.zip_fopen_index
#define zip_fread libzip.zip_fread
#define zip_get_error libzip.zip_get_error
#define zip_get_name libzip.zip_get_name
#define zip_get_num_entries libzip.zip_get_num_entries
#define zip_open_from_source libzip.zip_open_from_source
#define zip_source_buffer_create libzip.zip_source_buffer_create
#define zip_source_free libzip.zip_source_free
#define zip_stat_index libzip.zip_stat_index
#define zip_stat_init libzip.zip_stat_init

#define ZIP_MAX_NAME 4096
#define ZIP_MAX_COMPONENT 255
#define ZIP_COPY_CHUNK (64 * 1024)
/* How much of an entry's name a message quotes (escaped). */
#define ZIP_QUOTE_MAX 128

typedef struct Extract {
        zip_t *za;
        int dirfd;
        uint64_t max_bytes;
        uint64_t written;
        uint32_t max_files;
        uint32_t created;
        uint8_t *chunk;
        char *errbuf;
        size_t errlen;
        char quoted[ZIP_QUOTE_MAX * 4 + 8]; /* the current entry's name, for messages */
} Extract;

static void zip_discardp(zip_t **za) {
        if (*za)
                zip_discard(*za);
}

static void zip_fclosep(zip_file_t **zf) {
        if (*zf)
                (void) zip_fclose(*zf);
}

static int fail(Extract *x, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(Extract *x, int r, const char *fmt, ...) {
        va_list ap;

        if (x->errbuf && x->errlen > 0) {
                va_start(ap, fmt);
                (void) vsnprintf(x->errbuf, x->errlen, fmt, ap);
                va_end(ap);
        }
        return r;
}

/* The name as printable ASCII, quoted: other bytes, '"' and '\' as \xNN; cut with "...". */
static void quote_name(const char *name, char *buf, size_t size) {
        static const char hex[] = "0123456789abcdef";
        size_t o = 0, i = 0;

        buf[o++] = '"';
        for (; name[i] && i < ZIP_QUOTE_MAX && o + 6 < size; i++) {
                unsigned char c = (unsigned char) name[i];
                if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
                        buf[o++] = (char) c;
                else {
                        buf[o++] = '\\';
                        buf[o++] = 'x';
                        buf[o++] = hex[c >> 4];
                        buf[o++] = hex[c & 15];
                }
        }
        buf[o++] = '"';
        if (name[i] && o + 4 <= size) {
                memcpy(buf + o, "...", 3);
                o += 3;
        }
        buf[o] = '\0';
}

/* libzip's errors that are not about a damaged archive (-EBADMSG). */
static const struct {
        int zip_error;
        int errno_value;
} zip_errnos[] = {
        {ZIP_ER_MEMORY, ENOMEM},
        {ZIP_ER_COMPNOTSUPP, EOPNOTSUPP},
        {ZIP_ER_ENCRNOTSUPP, EOPNOTSUPP},
};

/* libzip's error as -errno, with the message. */
static int fail_zip(Extract *x, zip_error_t *e, const char *what) {
        int code = zip_error_code_zip(e), r = -EBADMSG;

        for (size_t i = 0; i < ELEMENTSOF(zip_errnos); i++)
                if (zip_errnos[i].zip_error == code)
                        r = -zip_errnos[i].errno_value;
        return fail(x, r, "%s%s%s: %s", what, x->quoted[0] ? " " : "", x->quoted, zip_error_strerror(e));
}

/* Why a name may not be extracted, or NULL when it may. */
static const char *name_refusal(const char *name, size_t len) {
        if (len == 0)
                return "empty name";
        if (len > ZIP_MAX_NAME)
                return "name longer than 4096 bytes";
        if (name[0] == '/')
                return "absolute path";
        if (memchr(name, '\\', len))
                return "backslash in name";
        for (size_t start = 0; start < len;) {
                const char *slash = memchr(name + start, '/', len - start);
                size_t n = slash ? (size_t) (slash - (name + start)) : len - start;

                if (n == 0)
                        return "empty path component";
                if (n == 1 && name[start] == '.')
                        return "\".\" path component";
                if (n == 2 && name[start] == '.' && name[start + 1] == '.')
                        return "\"..\" path component";
                if (n > ZIP_MAX_COMPONENT)
                        return "path component longer than 255 bytes";
                start += n + 1; /* a trailing '/' (a directory) ends the loop */
        }
        return NULL;
}

/* File types we refuse, by their Unix mode. */
static const struct {
        mode_t type;
        const char *what;
} refused_types[] = {
        {S_IFLNK, "symbolic link"},
        {S_IFCHR, "character device"},
        {S_IFBLK, "block device"},
        {S_IFIFO, "fifo"},
        {S_IFSOCK, "socket"},
};

static const char *type_refusal(mode_t type) {
        if (type == 0 || type == S_IFREG || type == S_IFDIR)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(refused_types); i++)
                if (refused_types[i].type == type)
                        return refused_types[i].what;
        return "unknown file type";
}

static int count_created(Extract *x) {
        if (x->created >= x->max_files)
                return fail(x, -E2BIG, "entry %s: more than %" PRIu32 " files and directories", x->quoted,
                        x->max_files);
        x->created++;
        return 0;
}

/* Enter the directory `comp` below parent, creating it when missing. Never follows a
 * symlink: one in the way fails with ELOOP (or ENOTDIR). Returns an owned fd. */
static int enter_dir(Extract *x, int parent, const char *comp) {
        int r, fd = openat(parent, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                return fd; /* made by an earlier entry (a directory entry may repeat) */
        r = -errno;
        if (r != -ENOENT)
                return fail(x, r, "entry %s: cannot enter \"%s\": %s", x->quoted, comp, strerror(-r));

        r = count_created(x);
        if (r < 0)
                return r;
        if (mkdirat(parent, comp, 0755) < 0) {
                r = -errno;
                return fail(
                        x, r, "entry %s: cannot create directory \"%s\": %s", x->quoted, comp, strerror(-r));
        }
        fd = openat(parent, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                r = -errno;
                return fail(x, r, "entry %s: cannot enter \"%s\": %s", x->quoted, comp, strerror(-r));
        }
        if (fchmod(fd, 0755) < 0) {
                r = -errno;
                safe_close(fd);
                return fail(x, r, "entry %s: cannot chmod \"%s\": %s", x->quoted, comp, strerror(-r));
        }
        return fd;
}

/* Copy the entry's data into fd, counting every byte against max_bytes. */
static int copy_data(Extract *x, zip_uint64_t index, int fd) {
        _cleanup_(zip_fclosep) zip_file_t *zf = zip_fopen_index(x->za, index, 0);

        if (!zf)
                return fail_zip(x, zip_get_error(x->za), "entry");
        for (;;) {
                zip_int64_t n = zip_fread(zf, x->chunk, ZIP_COPY_CHUNK);
                if (n < 0)
                        return fail_zip(x, zip_file_get_error(zf), "entry");
                if (n == 0)
                        break;
                if ((uint64_t) n > x->max_bytes - x->written)
                        return fail(x, -EFBIG, "entry %s: the files exceed %" PRIu64 " bytes uncompressed",
                                x->quoted, x->max_bytes);
                int r = write_all(fd, x->chunk, (size_t) n);
                if (r < 0)
                        return fail(x, r, "entry %s: cannot write: %s", x->quoted, strerror(-r));
                x->written += (uint64_t) n;
        }
        zip_file_t *f = TAKE_PTR(zf);
        int code = zip_fclose(f);
        if (code != 0) {
                zip_error_t e;
                zip_error_init_with_code(&e, code);
                int r = fail_zip(x, &e, "entry");
                zip_error_fini(&e);
                return r;
        }
        return 0;
}

static int extract_entry(Extract *x, zip_uint64_t index) {
        _cleanup_close_ int cur = -EBADF;
        char comp[ZIP_MAX_COMPONENT + 1];
        zip_uint8_t opsys;
        zip_uint32_t attributes;
        mode_t mode = 0;
        zip_stat_t st;

        x->quoted[0] = '\0';
        const char *name = zip_get_name(x->za, index, ZIP_FL_ENC_RAW);
        if (!name)
                return fail_zip(x, zip_get_error(x->za), "entry");
        size_t len = strlen(name);
        quote_name(name, x->quoted, sizeof x->quoted);

        const char *why = name_refusal(name, len);
        if (why)
                return fail(x, -EINVAL, "entry %s: %s", x->quoted, why);
        if (zip_file_get_external_attributes(x->za, index, 0, &opsys, &attributes) < 0)
                return fail_zip(x, zip_get_error(x->za), "entry");
        if (opsys == ZIP_OPSYS_UNIX) {
                mode = (mode_t) (attributes >> 16);
                why = type_refusal(mode & S_IFMT);
                if (why)
                        return fail(x, -EINVAL, "entry %s: %s", x->quoted, why);
        }
        zip_stat_init(&st);
        if (zip_stat_index(x->za, index, ZIP_FL_ENC_RAW, &st) < 0)
                return fail_zip(x, zip_get_error(x->za), "entry");
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE)
                return fail(x, -EINVAL, "entry %s: encrypted", x->quoted);

        bool is_dir = name[len - 1] == '/' || (mode & S_IFMT) == S_IFDIR;
        /* Early refusal only: the real count is of the bytes written. */
        if (!is_dir && (st.valid & ZIP_STAT_SIZE) && st.size > x->max_bytes - x->written)
                return fail(x, -EFBIG, "entry %s: the files exceed %" PRIu64 " bytes uncompressed",
                        x->quoted, x->max_bytes);

        /* Every component but a file's last is a directory to enter (or create). */
        int parent = x->dirfd;
        size_t start = 0;
        for (;;) {
                const char *slash = memchr(name + start, '/', len - start);
                size_t n = slash ? (size_t) (slash - (name + start)) : len - start;
                bool last = !slash || start + n + 1 == len;

                memcpy(comp, name + start, n); /* n <= ZIP_MAX_COMPONENT: name_refusal() */
                comp[n] = '\0';
                if (last && !is_dir)
                        break;
                int fd = enter_dir(x, parent, comp);
                if (fd < 0)
                        return fd;
                safe_close(cur);
                parent = cur = fd;
                if (last)
                        return 0;
                start += n + 1;
        }

        mode_t file_mode = (mode & 0111) ? 0755 : 0644;
        int r = count_created(x);
        if (r < 0)
                return r;
        _cleanup_close_ int fd =
                openat(parent, comp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file_mode);
        if (fd < 0) {
                r = -errno;
                return fail(x, r, "entry %s: cannot create \"%s\": %s", x->quoted, comp, strerror(-r));
        }
        if (fchmod(fd, file_mode) < 0) {
                r = -errno;
                return fail(x, r, "entry %s: cannot chmod \"%s\": %s", x->quoted, comp, strerror(-r));
        }
        return copy_data(x, index, fd);
}

int judge_extract_zip(int dirfd, const uint8_t *zip, size_t len, uint64_t max_bytes, uint32_t max_files,
        char *errbuf, size_t errlen) {
        _cleanup_(zip_discardp) zip_t *za = NULL;
        _cleanup_free_ uint8_t *chunk = NULL;
        Extract x = {
                .dirfd = dirfd,
                .max_bytes = max_bytes,
                .max_files = max_files,
                .errbuf = errbuf,
                .errlen = errlen,
        };
        zip_error_t e;

        if (dirfd < 0 || (!zip && len > 0))
                return fail(&x, -EINVAL, "invalid arguments");
        /* libzip takes zero bytes for an empty archive; they are no zip at all. */
        if (len == 0)
                return fail(&x, -EBADMSG, "not a zip archive: empty");
        (void) pthread_once(&libzip_once, libzip_load);
        if (libzip_error < 0)
                return fail(&x, libzip_error, "cannot load libzip (libzip.so.4 or .so.5)");

        zip_error_init(&e);
        zip_source_t *src = zip_source_buffer_create(zip, len, 0, &e);
        if (!src) {
                int r = fail_zip(&x, &e, "cannot read the zip archive");
                zip_error_fini(&e);
                return r;
        }
        za = zip_open_from_source(src, ZIP_RDONLY, &e);
        if (!za) {
                zip_source_free(src);
                int r = fail_zip(&x, &e, "not a zip archive");
                zip_error_fini(&e);
                return r;
        }
        zip_error_fini(&e);
        x.za = za;

        zip_int64_t n = zip_get_num_entries(za, 0);
        if (n < 0)
                return fail_zip(&x, zip_get_error(za), "cannot read the zip archive");
        if ((uint64_t) n > max_files)
                return fail(&x, -E2BIG, "the zip archive has %" PRIi64 " entries, more than %" PRIu32,
                        (int64_t) n, max_files);

        chunk = malloc(ZIP_COPY_CHUNK);
        if (!chunk)
                return fail(&x, -ENOMEM, "out of memory");
        x.chunk = chunk;
        for (zip_int64_t i = 0; i < n; i++) {
                int r = extract_entry(&x, (zip_uint64_t) i);
                if (r < 0)
                        return r;
        }
        return 0;
}
