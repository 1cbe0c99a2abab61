/* SPDX-License-Identifier: MIT */
/* The mount plan: what the new root holds. An allow-list, as a table:
 *  - the runtime (/usr, and /bin, /lib* as symlinks on merged-/usr hosts or as binds),
 *    read-only, nosuid, nodev, not recursive;
 *  - the few /etc files programs need, read-only, and synthetic passwd/group/hosts;
 *  - /box (the working directory: the caller's dir bound read-write, or a private tmpfs),
 *    a private size-limited /tmp, /proc of the new pid namespace (hidepid=2), and a
 *    read-only /dev holding only null, zero, random, urandom and the usual symlinks;
 *  - the caller's extra binds, read-only unless asked.
 * Sources are opened once (O_PATH) and bound through /proc/self/fd, so no path is looked
 * up again inside the half-built root. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/macro.h"
#include "sandbox/sandbox-internal.h"

typedef struct RuntimeEntry {
        const char *path; /* host path, absolute */
        bool required;
} RuntimeEntry;

/* The runtime, in mount order. Parents come before children. */
static const RuntimeEntry runtime_table[] = {
        {"/usr", true},
        {"/bin", false},
        {"/sbin", false},
        {"/lib", false},
        {"/lib32", false},
        {"/lib64", false},
        {"/libx32", false},
        /* the dynamic loader's cache and configuration */
        {"/etc/ld.so.cache", false},
        {"/etc/ld.so.conf", false},
        {"/etc/ld.so.conf.d", false},
        /* Debian's alternatives: /usr/bin/java -> /etc/alternatives/java -> ... */
        {"/etc/alternatives", false},
        {"/etc/localtime", false},
        /* public certificates, for programs that use TLS with --share-net */
        {"/etc/ssl/certs", false},
        {"/etc/ca-certificates", false},
};

typedef struct RuntimeBind {
        const char *target; /* relative */
        const char *path; /* host path */
        JailMountKind kind; /* JM_BIND or JM_SYMLINK */
        bool is_dir;
        unsigned long locked;
        char *link; /* symlink target */
} RuntimeBind;

struct RuntimeBinds {
        RuntimeBind b[ELEMENTSOF(runtime_table)];
        size_t n;
        bool have_resolv; /* /etc/resolv.conf, bound only with --share-net */
        unsigned long resolv_locked;
        unsigned long dev_locked[4];
        dev_t dev_rdev[4];
};

static const char *const dev_nodes[4] = {"null", "zero", "random", "urandom"};
static const char *const dev_paths[4] = {"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"};

/* Flags of the source mount that a bind inside a user namespace must keep. */
static unsigned long locked_flags(const char *path) {
        struct statvfs sv;
        unsigned long f = 0;
        if (statvfs(path, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_RDONLY)
                f |= MS_RDONLY;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
                f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                f |= MS_RELATIME;
        return f;
}

RuntimeBinds *runtime_binds_free(RuntimeBinds *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n; i++)
                free(r->b[i].link);
        free(r);
        return NULL;
}

int runtime_binds_new(RuntimeBinds **ret) {
        RuntimeBinds *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;

        for (size_t i = 0; i < ELEMENTSOF(runtime_table); i++) {
                const RuntimeEntry *e = &runtime_table[i];
                struct stat st;
                if (lstat(e->path, &st) < 0) {
                        if (e->required) {
                                int err = -errno;
                                runtime_binds_free(r);
                                return err;
                        }
                        continue;
                }
                RuntimeBind *b = &r->b[r->n];
                *b = (RuntimeBind){.target = e->path + 1, .path = e->path};
                if (S_ISLNK(st.st_mode) && strncmp(e->path, "/etc/", 5) != 0) {
                        /* merged /usr: /bin -> usr/bin, copied as a symlink */
                        char buf[4096];
                        ssize_t n = readlink(e->path, buf, sizeof buf - 1);
                        if (n <= 0)
                                continue;
                        buf[n] = '\0';
                        b->link = strdup(buf);
                        if (!b->link) {
                                runtime_binds_free(r);
                                return -ENOMEM;
                        }
                        b->kind = JM_SYMLINK;
                } else {
                        /* /etc entries may be symlinks (/etc/localtime): bind their target */
                        if (stat(e->path, &st) < 0 || (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)))
                                continue;
                        b->kind = JM_BIND;
                        b->is_dir = S_ISDIR(st.st_mode);
                        b->locked = locked_flags(e->path);
                }
                r->n++;
        }
        struct stat st;
        r->have_resolv = stat("/etc/resolv.conf", &st) == 0 && S_ISREG(st.st_mode);
        if (r->have_resolv)
                r->resolv_locked = locked_flags("/etc/resolv.conf");
        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                if (stat(dev_paths[i], &st) < 0 || !S_ISCHR(st.st_mode)) {
                        runtime_binds_free(r);
                        return -ENODEV;
                }
                r->dev_locked[i] = locked_flags(dev_paths[i]);
                r->dev_rdev[i] = st.st_rdev;
        }
        *ret = r;
        return 0;
}

typedef struct PlanBuilder {
        JailPlan *plan;
        char *buf;
        size_t size, used;
        char *err;
        size_t errlen;
        bool per_run; /* what is pushed now is made by the run itself (JailMount.per_run) */
} PlanBuilder;

static JailMount *push(PlanBuilder *pb, JailMountKind kind, const char *target) {
        if (pb->plan->n_mounts >= JAIL_MAX_MOUNTS)
                return NULL;
        JailMount *m = &pb->plan->mounts[pb->plan->n_mounts++];
        *m = (JailMount){.kind = kind, .target = target, .src_fd = -EBADF, .per_run = pb->per_run};
        return m;
}

static char *keep(PlanBuilder *pb, const char *s) {
        size_t n = strlen(s) + 1;
        if (pb->used + n > pb->size)
                return NULL;
        char *p = pb->buf + pb->used;
        memcpy(p, s, n);
        pb->used += n;
        return p;
}

static char *keepf(PlanBuilder *pb, const char *fmt, ...) _printf_(2, 3);
static char *keepf(PlanBuilder *pb, const char *fmt, ...) {
        char tmp[2048];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof tmp)
                return NULL;
        return keep(pb, tmp);
}

static bool path_under(const char *p, const char *dir) {
        size_t n = strlen(dir);
        return strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* A bind target inside the box: absolute, no "." or ".." components, and not the root
 * or the per-run areas (/box and /tmp may hold what an earlier program planted, and
 * the mount points would be made through them). */
static bool inside_path_ok(const char *p) {
        if (!p || p[0] != '/' || strlen(p) >= BOX_MAX_STRING)
                return false;
        if (p[1] == '\0' || strstr(p, "//") || p[strlen(p) - 1] == '/')
                return false; /* the root itself, empty components, a trailing slash */
        if (path_under(p, "/box") || path_under(p, "/tmp") || path_under(p, "/proc") ||
                path_under(p, "/dev"))
                return false;
        for (const char *c = p; *c;) {
                while (*c == '/')
                        c++;
                const char *e = strchrnul(c, '/');
                size_t n = (size_t) (e - c);
                if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                if (n == 0 && *e)
                        return false;
                c = e;
        }
        return true;
}

static bool planned(const JailPlan *plan, const char *target, size_t n) {
        for (size_t i = 0; i < plan->n_mounts; i++) {
                const JailMount *m = &plan->mounts[i];
                if ((m->kind == JM_DIR || m->kind == JM_TMPFS || (m->kind == JM_BIND && m->src_is_dir)) &&
                        strlen(m->target) == n && strncmp(m->target, target, n) == 0)
                        return true;
        }
        return false;
}

/* mkdir each parent of `inside` (relative form) that the plan has not made yet. */
static int add_parents(PlanBuilder *pb, const char *rel) {
        for (const char *s = strchr(rel, '/'); s; s = strchr(s + 1, '/')) {
                char tmp[BOX_MAX_STRING];
                size_t n = (size_t) (s - rel);
                if (n == 0 || n >= sizeof tmp || planned(pb->plan, rel, n))
                        continue;
                memcpy(tmp, rel, n);
                tmp[n] = '\0';
                char *t = keep(pb, tmp);
                if (!t || !push(pb, JM_DIR, t))
                        return -ENOBUFS;
        }
        return 0;
}

static int fail_msg(PlanBuilder *pb, int r, const char *what, const char *arg) {
        snprintf(pb->err, pb->errlen, "%s %s", what, arg);
        return r;
}

int mount_plan_build(const RuntimeBinds *r, const BoxSpec *spec, JailPlan *plan, char *strbuf,
        size_t strbuf_size, char *errbuf, size_t errlen) {
        PlanBuilder pb = {.plan = plan, .buf = strbuf, .size = strbuf_size, .err = errbuf, .errlen = errlen};
        JailMount *m;

        plan->n_mounts = 0;
        if (!push(&pb, JM_DIR, "etc"))
                return -ENOBUFS;
        for (size_t i = 0; i < r->n; i++) {
                const RuntimeBind *b = &r->b[i];
                if (add_parents(&pb, b->target) < 0)
                        return -ENOBUFS;
                m = push(&pb, b->kind, b->target);
                if (!m)
                        return -ENOBUFS;
                m->src_path = b->path;
                m->src_is_dir = b->is_dir;
                m->locked_flags = b->locked;
                m->data = b->link;
        }

        /* Who is who: programs that look up their own user (whoami, Python's getpass,
         * Java's user.home) find the box user. */
        char *passwd = keepf(&pb,
                "root:x:0:0:root:/root:/bin/sh\n"
                "box:x:%u:%u:box:/box:/bin/sh\n"
                "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
                (unsigned) plan->uid, (unsigned) plan->gid);
        char *group = keepf(&pb, "root:x:0:\nbox:x:%u:\nnogroup:x:65534:\n", (unsigned) plan->gid);
        if (!passwd || !group)
                return -ENOBUFS;
        if (!(m = push(&pb, JM_FILE, "etc/passwd")))
                return -ENOBUFS;
        m->data = passwd;
        if (!(m = push(&pb, JM_FILE, "etc/group")))
                return -ENOBUFS;
        m->data = group;
        if (!(m = push(&pb, JM_FILE, "etc/hosts")))
                return -ENOBUFS;
        m->data = "127.0.0.1 localhost coderunner\n::1 localhost ip6-localhost ip6-loopback\n";
        if (!(m = push(&pb, JM_FILE, "etc/hostname")))
                return -ENOBUFS;
        m->data = "coderunner\n";
        /* /box and /tmp: private tmpfs areas. A prepared root has them already, at the
         * default size; a run that asks for another resizes them there (JM_RESIZE). With
         * a workdir, /box is the caller's directory instead (bound over the prepared
         * one's empty tmpfs). */
        uint64_t tmp_kib = spec->tmp_kib ? spec->tmp_kib : BOX_DEFAULT_TMP_KIB;
        char *size = keepf(&pb, "size=%lluk", (unsigned long long) tmp_kib);
        if (!size)
                return -ENOBUFS;
        if (!spec->workdir) {
                char *opts = keepf(&pb, "%s,nr_inodes=16384,mode=0755,uid=%u,gid=%u", size,
                        (unsigned) plan->uid, (unsigned) plan->gid);
                if (!opts || !(m = push(&pb, JM_TMPFS, "box")))
                        return -ENOBUFS;
                m->data = opts;
                m->rw = true;
        }
        char *tmpopts = keepf(&pb, "%s,nr_inodes=16384,mode=1777", size);
        if (!tmpopts || !(m = push(&pb, JM_TMPFS, "tmp")))
                return -ENOBUFS;
        m->data = tmpopts;
        m->rw = true;

        /* From here to /dev, what depends on the run: its spec, or (/proc) its pid
         * namespace. */
        pb.per_run = true;
        for (size_t i = 0; tmp_kib != BOX_DEFAULT_TMP_KIB && i < 2; i++) {
                if (i == 0 && spec->workdir)
                        continue;
                if (!(m = push(&pb, JM_RESIZE, i == 0 ? "box" : "tmp")))
                        return -ENOBUFS;
                m->data = size;
                m->rw = true;
        }
        if (spec->share_net && r->have_resolv) {
                if (!(m = push(&pb, JM_BIND, "etc/resolv.conf")))
                        return -ENOBUFS;
                m->src_path = "/etc/resolv.conf";
                m->locked_flags = r->resolv_locked;
        }
        if (spec->workdir) {
                if (spec->workdir[0] != '/')
                        return fail_msg(
                                &pb, -EINVAL, "the workdir must be an absolute path:", spec->workdir);
                if (!(m = push(&pb, JM_BIND, "box")))
                        return -ENOBUFS;
                m->src_path = spec->workdir;
                m->as_peer = true;
                m->src_is_dir = true;
                m->rw = true;
                m->locked_flags = locked_flags(spec->workdir) & ~(unsigned long) MS_RDONLY;
        }
        if (!push(&pb, JM_PROC, "proc"))
                return -ENOBUFS;

        /* /dev: a tmpfs with the four harmless devices, then read-only. As root they are
         * made with mknod (one call each); in a user namespace that is not allowed, and
         * the host's nodes are bound instead. */
        pb.per_run = false;
        if (!(m = push(&pb, JM_TMPFS, "dev")))
                return -ENOBUFS;
        m->data = "size=16k,nr_inodes=64,mode=0755";
        m->dev = !plan->rootless;
        for (size_t i = 0; i < ELEMENTSOF(dev_nodes); i++) {
                char *t = keepf(&pb, "dev/%s", dev_nodes[i]);
                if (!t)
                        return -ENOBUFS;
                if (!plan->rootless) {
                        if (!(m = push(&pb, JM_DEVNODE, t)))
                                return -ENOBUFS;
                        m->rdev = r->dev_rdev[i];
                        continue;
                }
                if (!(m = push(&pb, JM_BIND, t)))
                        return -ENOBUFS;
                m->src_path = dev_paths[i];
                m->rw = true;
                m->dev = true;
                m->locked_flags = r->dev_locked[i] & ~(unsigned long) (MS_NODEV | MS_RDONLY);
        }
        static const struct {
                const char *target, *link;
        } dev_links[] = {
                {"dev/fd", "/proc/self/fd"}, {"dev/stdin", "/proc/self/fd/0"},
                {"dev/stdout", "/proc/self/fd/1"}, {"dev/stderr", "/proc/self/fd/2"},
                {"dev/shm", "/tmp"}, /* POSIX shared memory and semaphores, in the private /tmp */
        };
        for (size_t i = 0; i < ELEMENTSOF(dev_links); i++) {
                if (!(m = push(&pb, JM_SYMLINK, dev_links[i].target)))
                        return -ENOBUFS;
                m->data = dev_links[i].link;
        }
        if (!(m = push(&pb, JM_REMOUNT_RO, "dev")))
                return -ENOBUFS;
        m->dev = !plan->rootless; /* read-only: no node can be added, the four stay usable */

        /* The caller's binds last, so that they may cover anything above. */
        pb.per_run = true;
        for (size_t i = 0; i < spec->n_binds; i++) {
                const BoxBind *bb = &spec->binds[i];
                if (!bb->inside || !inside_path_ok(bb->inside))
                        return fail_msg(&pb, -EINVAL,
                                "bind target must be an absolute path without . or .. components, outside "
                                "/, /box, /tmp, /proc and /dev:",
                                bb->inside);
                if (!bb->host || bb->host[0] != '/')
                        return fail_msg(&pb, -EINVAL,
                                "bind sources must be absolute paths:", bb->host ? bb->host : "");
                struct stat st;
                if (stat(bb->host, &st) < 0)
                        return fail_msg(&pb, -errno, "cannot use the bind source", bb->host);
                if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                        return fail_msg(
                                &pb, -EINVAL, "only directories and regular files can be bound:", bb->host);
                const char *rel = bb->inside;
                while (*rel == '/')
                        rel++;
                char *t = keep(&pb, rel);
                if (!t || add_parents(&pb, t) < 0 || !(m = push(&pb, JM_BIND, t)))
                        return -ENOBUFS;
                m->src_path = bb->host;
                m->as_peer = true;
                m->src_is_dir = S_ISDIR(st.st_mode);
                m->rw = bb->rw;
                m->locked_flags = locked_flags(bb->host);
                if (bb->rw)
                        m->locked_flags &= ~(unsigned long) MS_RDONLY;
        }
        return 0;
}
