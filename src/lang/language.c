/* SPDX-License-Identifier: MIT */
/* The language catalogue: parsing languages/<slug>/language.conf, loading a directory of
 * them, detecting the installed toolchains, and finding a language by id, slug or file name. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/parse-util.h"
#include "base/time-util.h"
#include "lang/language.h"

#ifndef CODERUNNER_LANGUAGES_DIR
#error "CODERUNNER_LANGUAGES_DIR must be defined by the build (src/lang/meson.build)"
#endif

#define CONF_NAME "language.conf"
#define PROJECT_ID 89 /* Judge0 CE's "Multi-file program": compile/run scripts come in the zip */
#define MAX_KIB (UINT64_C(1) << 40)
#define MAX_PROCESSES UINT64_C(1048576)
#define MAX_VERSION_ARGS 32
#define MAX_VERSION_LEN 128
/* Between checks of a child's exit when no pidfd could be had (kernels before 5.3). */
#define EXIT_POLL_MSEC 10
/* After a version command exits, how long what it started (a build daemon...) may keep
 * its output open before the process group is killed. */
#define EXIT_GRACE_USEC (250 * USEC_PER_MSEC)

const char *catalogue_default_dir(void) {
        const char *e = getenv("CODERUNNER_LANGUAGES");
        return e && *e ? e : CODERUNNER_LANGUAGES_DIR;
}

static int errorf(char *errbuf, size_t errlen, int r, const char *fmt, ...) _printf_(4, 5);
static int errorf(char *errbuf, size_t errlen, int r, const char *fmt, ...) {
        if (errbuf && errlen > 0) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(errbuf, errlen, fmt, ap);
                va_end(ap);
        }
        return r;
}

/* "where[/what]: strerror(errno)", returning -errno. */
static int sys_error(char *errbuf, size_t errlen, const char *where, const char *what) {
        int r = negative_errno();
        return errorf(errbuf, errlen, r, "%s%s%s: %s", where, *what ? "/" : "", what, strerror(-r));
}

/* a + b + c, malloc'd; NULL on OOM. */
static char *concat3(const char *a, const char *b, const char *c) {
        size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
        char *s = malloc(la + lb + lc + 1);
        if (!s)
                return NULL;
        memcpy(s, a, la);
        memcpy(s + la, b, lb);
        memcpy(s + la + lb, c, lc + 1);
        return s;
}

void language_done(Language *l) {
        if (!l)
                return;
        free(l->slug);
        free(l->name_template);
        free(l->name);
        free(l->version);
        free(l->source_file);
        free(l->compile_cmd);
        free(l->run_cmd);
        free(l->version_cmd);
        free(l->version_pattern);
        free(l->test_file);
        free(l->packages);
        for (size_t i = 0; i < l->n_binds && i < LANG_MAX_BINDS; i++)
                free(l->binds[i]);
        for (size_t i = 0; i < l->n_env && i < LANG_MAX_ENV; i++)
                free(l->env[i]);
        *l = (Language){};
}

void catalogue_done(Catalogue *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++)
                language_done(&c->langs[i]);
        free(c->langs);
        *c = (Catalogue){};
}

/* ---- parsing one language.conf ---- */

typedef enum KeyKind {
        KEY_ID,
        KEY_STRING,
        KEY_COMMAND, /* compile, run: a string whose {memory_*} placeholders must be known */
        KEY_FILE_NAME, /* a plain file name: source */
        KEY_TEST, /* a file name next to language.conf, stored as an absolute path */
        KEY_BIND, /* repeatable */
        KEY_ENV, /* repeatable */
        KEY_U32,
        KEY_U64,
} KeyKind;

typedef struct ConfKey {
        const char *name;
        KeyKind kind;
        size_t offset;
        uint64_t max;
} ConfKey;

#define STR_KEY(n, kind, field) \
        { n, kind, offsetof(Language, field), 0 }
static const ConfKey conf_keys[] = {
        {"id", KEY_ID, offsetof(Language, id), INT32_MAX},
        STR_KEY("name", KEY_STRING, name_template),
        STR_KEY("source", KEY_FILE_NAME, source_file),
        STR_KEY("compile", KEY_COMMAND, compile_cmd),
        STR_KEY("run", KEY_COMMAND, run_cmd),
        STR_KEY("version", KEY_STRING, version_cmd),
        STR_KEY("version_pattern", KEY_STRING, version_pattern),
        STR_KEY("test", KEY_TEST, test_file),
        STR_KEY("packages", KEY_STRING, packages),
        {"bind", KEY_BIND, 0, LANG_MAX_BINDS},
        {"env", KEY_ENV, 0, LANG_MAX_ENV},
        {"compile_processes", KEY_U32, offsetof(Language, compile_processes), MAX_PROCESSES},
        {"compile_memory_kib", KEY_U64, offsetof(Language, compile_memory_kib), MAX_KIB},
        {"run_processes_min", KEY_U32, offsetof(Language, run_processes_min), MAX_PROCESSES},
        {"run_memory_kib_min", KEY_U64, offsetof(Language, run_memory_kib_min), MAX_KIB},
        {"run_fsize_kib_min", KEY_U64, offsetof(Language, run_fsize_kib_min), MAX_KIB},
};

static const char *const required_keys[] = {"id", "name", "version", "version_pattern"};
static const char *const required_unless_project[] = {"source", "run"};

static const ConfKey *conf_key_lookup(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(conf_keys); i++)
                if (strcmp(conf_keys[i].name, name) == 0)
                        return &conf_keys[i];
        return NULL;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static char *trim(char *s) {
        while (is_blank(*s))
                s++;
        size_t n = strlen(s);
        while (n > 0 && is_blank(s[n - 1]))
                s[--n] = '\0';
        return s;
}

static bool env_name_valid(const char *s, size_t n) {
        if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '_'))
                        return false;
        }
        return true;
}

/* An absolute path made of dir (absolute or relative to the working directory) and name. */
static int absolute_path(const char *dir, const char *name, char **ret) {
        _cleanup_free_ char *cwd = NULL, *base = NULL;

        if (!dir || dir[0] != '/') {
                cwd = getcwd(NULL, 0);
                if (!cwd)
                        return negative_errno();
                if (dir && !(dir[0] == '.' && dir[1] == '\0')) {
                        base = concat3(cwd, "/", dir);
                        if (!base)
                                return -ENOMEM;
                        dir = base;
                } else
                        dir = cwd;
        }
        char *p = concat3(dir, strcmp(dir, "/") == 0 ? "" : "/", name);
        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

/* A "{memory_...}" that is not one of the placeholders is a typo: it would reach the
 * program as is (other braces are the shell's: "${HOME}", "{a,b}"). */
static int check_placeholders(const ConfKey *k, const char *value, char *why, size_t whylen) {
        for (const char *p = value; (p = strstr(p, LIMIT_PLACEHOLDER_PREFIX)); p++) {
                const char *end = strchr(p, '}');
                size_t len = end ? (size_t) (end - p) + 1 : strlen(p);
                if ((len == strlen("{memory_kib}") && strncmp(p, "{memory_kib}", len) == 0) ||
                        (len == strlen("{memory_mib}") && strncmp(p, "{memory_mib}", len) == 0))
                        continue;
                return errorf(why, whylen, -EINVAL,
                        "'%s': unknown placeholder '%.*s' (known: {memory_kib}, {memory_mib})", k->name,
                        (int) MIN(len, (size_t) 40), p);
        }
        return 0;
}

/* Sets one key of l from value; on a bad value writes the reason to why. */
static int conf_set(
        Language *l, const ConfKey *k, const char *value, const char *dir, char *why, size_t whylen) {
        char *copy = NULL;
        uint64_t u;
        int r;

        switch (k->kind) {
        case KEY_ID:
        case KEY_U32:
        case KEY_U64:
                r = parse_u64_max(value, k->max, &u);
                if (r == -ERANGE)
                        return errorf(why, whylen, -EINVAL, "'%s' is out of range (at most %" PRIu64 ")",
                                k->name, k->max);
                if (r < 0)
                        return errorf(why, whylen, -EINVAL, "'%s' is not a number: '%s'", k->name, value);
                if (k->kind == KEY_ID) {
                        if (u == 0)
                                return errorf(why, whylen, -EINVAL, "'id' must be at least 1");
                        l->id = (int) u;
                } else if (k->kind == KEY_U32)
                        *(uint32_t *) ((char *) l + k->offset) = (uint32_t) u;
                else
                        *(uint64_t *) ((char *) l + k->offset) = u;
                return 0;

        case KEY_FILE_NAME:
        case KEY_TEST:
                if (strchr(value, '/') || strcmp(value, ".") == 0 || strcmp(value, "..") == 0)
                        return errorf(why, whylen, -EINVAL, "'%s' must be a file name, not a path: '%s'",
                                k->name, value);
                if (k->kind == KEY_TEST) {
                        r = absolute_path(dir, value, &copy);
                        if (r < 0)
                                return errorf(why, whylen, r, "cannot resolve 'test': %s", strerror(-r));
                }
                break;

        case KEY_BIND:
                if (value[0] != '/')
                        return errorf(why, whylen, -EINVAL, "'bind' must be an absolute path: '%s'", value);
                if (l->n_binds >= LANG_MAX_BINDS)
                        return errorf(
                                why, whylen, -EINVAL, "too many 'bind' lines (at most %d)", LANG_MAX_BINDS);
                copy = strdup(value);
                if (!copy)
                        return errorf(why, whylen, -ENOMEM, "out of memory");
                l->binds[l->n_binds++] = copy;
                return 0;

        case KEY_ENV: {
                r = check_placeholders(k, value, why, whylen);
                if (r < 0)
                        return r;
                const char *eq = strchr(value, '=');
                if (!eq || !env_name_valid(value, (size_t) (eq - value)))
                        return errorf(why, whylen, -EINVAL, "'env' must be VAR=VALUE: '%s'", value);
                size_t n = (size_t) (eq - value) + 1;
                for (size_t i = 0; i < l->n_env; i++)
                        if (strncmp(l->env[i], value, n) == 0)
                                return errorf(
                                        why, whylen, -EINVAL, "'env' sets %.*s twice", (int) (n - 1), value);
                if (l->n_env >= LANG_MAX_ENV)
                        return errorf(
                                why, whylen, -EINVAL, "too many 'env' lines (at most %d)", LANG_MAX_ENV);
                copy = strdup(value);
                if (!copy)
                        return errorf(why, whylen, -ENOMEM, "out of memory");
                l->env[l->n_env++] = copy;
                return 0;
        }

        case KEY_COMMAND:
                r = check_placeholders(k, value, why, whylen);
                if (r < 0)
                        return r;
                break;

        case KEY_STRING:
                break;
        }

        if (!copy) {
                copy = strdup(value);
                if (!copy)
                        return errorf(why, whylen, -ENOMEM, "out of memory");
        }
        *(char **) ((char *) l + k->offset) = copy;
        return 0;
}

/* label names the file in messages. */
static int language_parse_labeled(const char *text, const char *slug, const char *dir, const char *label,
        Language *ret, char *errbuf, size_t errlen) {
        _cleanup_(language_done) Language l = {};
        _cleanup_free_ char *buf = NULL;
        bool seen[ELEMENTSOF(conf_keys)] = {};
        char why[256];
        unsigned line_no = 0;
        int r;

        if (!text || !slug)
                return errorf(errbuf, errlen, -EINVAL, "%s: no text", label);
        if (strlen(text) > LANG_MAX_CONF_SIZE)
                return errorf(errbuf, errlen, -EFBIG, "%s: larger than %d bytes", label, LANG_MAX_CONF_SIZE);
        buf = strdup(text);
        l.slug = strdup(slug);
        if (!buf || !l.slug)
                return errorf(errbuf, errlen, -ENOMEM, "%s: out of memory", label);

        for (char *next = buf; next;) {
                char *line = next;
                char *nl = strchr(line, '\n');
                if (nl) {
                        *nl = '\0';
                        next = nl + 1;
                } else
                        next = NULL;
                line_no++;

                line = trim(line);
                if (line[0] == '\0' || line[0] == '#')
                        continue;
                char *eq = strchr(line, '=');
                if (!eq)
                        return errorf(
                                errbuf, errlen, -EINVAL, "%s:%u: expected 'key = value'", label, line_no);
                *eq = '\0';
                char *key = trim(line), *value = trim(eq + 1);
                if (key[0] == '\0')
                        return errorf(
                                errbuf, errlen, -EINVAL, "%s:%u: expected 'key = value'", label, line_no);
                const ConfKey *k = conf_key_lookup(key);
                if (!k)
                        return errorf(
                                errbuf, errlen, -EINVAL, "%s:%u: unknown key '%s'", label, line_no, key);
                if (value[0] == '\0')
                        return errorf(
                                errbuf, errlen, -EINVAL, "%s:%u: empty value for '%s'", label, line_no, key);
                size_t ki = (size_t) (k - conf_keys);
                if (seen[ki] && k->kind != KEY_BIND && k->kind != KEY_ENV)
                        return errorf(
                                errbuf, errlen, -EINVAL, "%s:%u: '%s' given twice", label, line_no, key);
                seen[ki] = true;
                r = conf_set(&l, k, value, dir, why, sizeof why);
                if (r < 0)
                        return errorf(errbuf, errlen, r, "%s:%u: %s", label, line_no, why);
        }

        for (size_t i = 0; i < ELEMENTSOF(required_keys); i++)
                if (!seen[conf_key_lookup(required_keys[i]) - conf_keys])
                        return errorf(errbuf, errlen, -EINVAL, "%s: missing '%s'", label, required_keys[i]);
        l.is_project = l.id == PROJECT_ID;
        if (!l.is_project)
                for (size_t i = 0; i < ELEMENTSOF(required_unless_project); i++)
                        if (!seen[conf_key_lookup(required_unless_project[i]) - conf_keys])
                                return errorf(errbuf, errlen, -EINVAL, "%s: missing '%s'", label,
                                        required_unless_project[i]);

        *ret = l;
        l = (Language){};
        return 0;
}

int language_parse(
        const char *text, const char *slug, const char *dir, Language *ret, char *errbuf, size_t errlen) {
        _cleanup_free_ char *label = NULL;

        label = dir ? concat3(dir, "/", CONF_NAME) : strdup(CONF_NAME);
        if (!label)
                return errorf(errbuf, errlen, -ENOMEM, "out of memory");
        return language_parse_labeled(text, slug, dir, label, ret, errbuf, errlen);
}

/* ---- loading a catalogue directory ---- */

/* A directory name usable as a slug in URLs and on command lines, and never mistaken for
 * an id by catalogue_find(). */
static bool slug_valid(const char *s) {
        bool digits_only = true;

        if (!*s || s[0] == '.' || strlen(s) > 64)
                return false;
        for (const char *p = s; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '_' || c == '.' || c == '+'))
                        return false;
                if (c < '0' || c > '9')
                        digits_only = false;
        }
        return !digits_only;
}

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static int language_cmp_id(const void *a, const void *b) {
        const Language *x = a, *y = b;
        return (x->id > y->id) - (x->id < y->id);
}

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

static void free_names(char ***names) {
        if (!*names)
                return;
        for (char **p = *names; *p; p++)
                free(*p);
        free(*names);
}

/* The subdirectories of dir holding a language.conf, sorted by name, NULL-terminated. */
static int list_language_dirs(int dfd, const char *shown, char ***ret, char *errbuf, size_t errlen) {
        _cleanup_(closedirp) DIR *d = NULL;
        _cleanup_(free_names) char **names = NULL;
        size_t n = 0;
        int fd;

        fd = fcntl(dfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return sys_error(errbuf, errlen, shown, "");
        d = fdopendir(fd);
        if (!d) {
                int r = sys_error(errbuf, errlen, shown, "");
                (void) safe_close(fd);
                return r;
        }
        names = calloc(1, sizeof(char *));
        if (!names)
                return errorf(errbuf, errlen, -ENOMEM, "out of memory");
        for (;;) {
                struct stat st;
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return sys_error(errbuf, errlen, shown, "");
                        break;
                }
                if (de->d_name[0] == '.')
                        continue; /* ., .. and hidden entries */
                if (fstatat(dfd, de->d_name, &st, 0) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                _cleanup_free_ char *conf = concat3(de->d_name, "/", CONF_NAME);
                if (!conf)
                        return errorf(errbuf, errlen, -ENOMEM, "out of memory");
                if (fstatat(dfd, conf, &st, 0) < 0) {
                        if (errno == ENOENT)
                                continue; /* not a language: shared files, say */
                        return sys_error(errbuf, errlen, shown, conf);
                }
                if (!slug_valid(de->d_name))
                        return errorf(errbuf, errlen, -EINVAL,
                                "%s/%s: the directory name is not a valid slug "
                                "(letters, digits, '-', '_', '.', '+'; not only digits)",
                                shown, de->d_name);
                if (n >= LANG_MAX_LANGUAGES)
                        return errorf(errbuf, errlen, -E2BIG, "%s: more than %d languages", shown,
                                LANG_MAX_LANGUAGES);
                char **nn = realloc(names, (n + 2) * sizeof(char *));
                if (!nn)
                        return errorf(errbuf, errlen, -ENOMEM, "out of memory");
                names = nn;
                names[n] = strdup(de->d_name);
                if (!names[n])
                        return errorf(errbuf, errlen, -ENOMEM, "out of memory");
                names[++n] = NULL;
        }
        qsort(names, n, sizeof(char *), strcmp_ptr);
        *ret = TAKE_PTR(names);
        return 0;
}

int catalogue_load(const char *dir, Catalogue *ret, char *errbuf, size_t errlen) {
        _cleanup_(catalogue_done) Catalogue c = {};
        _cleanup_(free_names) char **names = NULL;
        _cleanup_free_ char *shown = NULL, *abs = NULL;
        _cleanup_close_ int dfd = -EBADF;
        int r;

        if (!dir || !*dir)
                return errorf(errbuf, errlen, -EINVAL, "no catalogue directory given");
        /* Messages show the directory as given, without trailing slashes. */
        shown = strdup(dir);
        if (!shown)
                return errorf(errbuf, errlen, -ENOMEM, "out of memory");
        for (size_t n = strlen(shown); n > 1 && shown[n - 1] == '/'; n--)
                shown[n - 1] = '\0';

        dfd = RETRY_EINTR(open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (dfd < 0)
                return sys_error(errbuf, errlen, shown, "");
        abs = realpath(dir, NULL);
        if (!abs)
                return sys_error(errbuf, errlen, shown, "");
        r = list_language_dirs(dfd, shown, &names, errbuf, errlen);
        if (r < 0)
                return r;

        size_t count = 0;
        while (names[count])
                count++;
        if (count > 0) {
                c.langs = calloc(count, sizeof(Language));
                if (!c.langs)
                        return errorf(errbuf, errlen, -ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < count; i++) {
                _cleanup_free_ char *rel = concat3(names[i], "/", CONF_NAME);
                _cleanup_free_ char *label = NULL, *langdir = NULL, *text = NULL;
                size_t len;

                if (!rel)
                        return errorf(errbuf, errlen, -ENOMEM, "out of memory");
                label = concat3(shown, "/", rel);
                langdir = concat3(abs, strcmp(abs, "/") == 0 ? "" : "/", names[i]);
                if (!label || !langdir)
                        return errorf(errbuf, errlen, -ENOMEM, "out of memory");
                r = read_file_at(dfd, rel, LANG_MAX_CONF_SIZE, &text, &len);
                if (r == -EFBIG)
                        return errorf(
                                errbuf, errlen, r, "%s: larger than %d bytes", label, LANG_MAX_CONF_SIZE);
                if (r < 0)
                        return errorf(errbuf, errlen, r, "%s: %s", label, strerror(-r));
                if (strlen(text) != len)
                        return errorf(errbuf, errlen, -EINVAL, "%s: contains a NUL byte", label);
                r = language_parse_labeled(text, names[i], langdir, label, &c.langs[c.n], errbuf, errlen);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < c.n; j++)
                        if (c.langs[j].id == c.langs[c.n].id) {
                                r = errorf(errbuf, errlen, -EEXIST, "%s: id %d is already used by %s/%s/%s",
                                        label, c.langs[j].id, shown, c.langs[j].slug, CONF_NAME);
                                language_done(&c.langs[c.n]);
                                return r;
                        }
                c.n++;
        }
        if (c.n > 1)
                qsort(c.langs, c.n, sizeof(Language), language_cmp_id);

        *ret = c;
        c = (Catalogue){};
        return 0;
}

/* ---- detecting installed toolchains ---- */

typedef struct VersionJob {
        Language *lang;
        pid_t pid; /* > 0 while not reaped */
        int out_fd; /* read end of the child's stdout+stderr, -EBADF at EOF */
        int pid_fd; /* readable when the child exits; -EBADF without pidfds */
        char *out; /* LANG_MAX_VERSION_OUTPUT + 1 bytes */
        size_t out_len;
        int status;
        bool exited; /* reaped, status valid */
        uint64_t exited_at; /* CLOCK_MONOTONIC */
        bool killed; /* overdue */
} VersionJob;

static int pidfd_open_compat(pid_t pid) {
#ifdef SYS_pidfd_open
        return (int) syscall(SYS_pidfd_open, pid, 0);
#else
        errno = ENOSYS;
        return -1;
#endif
}

/* Split on spaces and tabs, no quoting (no shell). argv points into buf. */
static int split_args(char *buf, char *argv[static MAX_VERSION_ARGS + 1]) {
        size_t n = 0;
        char *p = buf;

        for (;;) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                if (n >= MAX_VERSION_ARGS)
                        return -E2BIG;
                argv[n++] = p;
                while (*p && *p != ' ' && *p != '\t')
                        p++;
                if (*p)
                        *p++ = '\0';
        }
        if (n == 0)
                return -EINVAL;
        argv[n] = NULL;
        return 0;
}

/* An fd above stdin/stdout/stderr, so that the child's dup2() onto 0-2 cannot clobber it
 * (when our own standard streams are closed). Takes ownership of fd. */
static int fd_above_stdio(int fd) {
        if (fd < 0 || fd > STDERR_FILENO)
                return fd;
        int copy = fcntl(fd, F_DUPFD_CLOEXEC, STDERR_FILENO + 1);
        int r = copy < 0 ? negative_errno() : copy;
        (void) safe_close(fd);
        return r;
}

/* The program to execute: name itself when it has a '/', else the first executable regular
 * file called name in $PATH, looked up before fork (execve() after it, not execvp()). */
static int find_program(const char *name, char **ret) {
        const char *path = getenv("PATH");

        if (strchr(name, '/')) {
                char *p = strdup(name);
                if (!p)
                        return -ENOMEM;
                *ret = p;
                return 0;
        }
        if (!path || !*path)
                path = "/usr/local/bin:/usr/bin:/bin";
        for (const char *dir = path;;) {
                const char *colon = strchrnul(dir, ':');
                _cleanup_free_ char *d = strndup(dir, (size_t) (colon - dir));
                if (!d)
                        return -ENOMEM;
                _cleanup_free_ char *p = concat3(*d ? d : ".", "/", name);
                if (!p)
                        return -ENOMEM;
                struct stat st;
                if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0) {
                        *ret = TAKE_PTR(p);
                        return 0;
                }
                if (!*colon)
                        return -ENOENT;
                dir = colon + 1;
        }
}

/* Starts one version command with stdout and stderr on a pipe, in its own process group.
 * envp and null_fd are prepared by the caller: after fork only async-signal-safe calls. */
static int version_job_start(VersionJob *job, char **envp, int null_fd) {
        _cleanup_free_ char *cmd = NULL, *program = NULL;
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        char *argv[MAX_VERSION_ARGS + 1];
        sigset_t none;
        int pipefd[2], r;

        cmd = strdup(job->lang->version_cmd);
        if (!cmd)
                return -ENOMEM;
        r = split_args(cmd, argv);
        if (r < 0)
                return r;
        r = find_program(argv[0], &program);
        if (r < 0)
                return r; /* not installed: nothing to start */
        job->out = malloc(LANG_MAX_VERSION_OUTPUT + 1);
        if (!job->out)
                return -ENOMEM;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return negative_errno();
        rfd = pipefd[0];
        wfd = fd_above_stdio(pipefd[1]);
        if (wfd < 0)
                return wfd;
        r = fd_set_nonblock(rfd, 1);
        if (r < 0)
                return r;
        sigemptyset(&none);

        pid_t pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                /* What a server may have blocked or ignored is not the command's business. */
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                (void) signal(SIGPIPE, SIG_DFL);
                (void) setpgid(0, 0);
                if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(wfd, STDOUT_FILENO) < 0 ||
                        dup2(wfd, STDERR_FILENO) < 0)
                        _exit(127);
                execve(program, argv, envp);
                _exit(127);
        }
        (void) setpgid(pid, pid); /* either side may win the race; both set the same */
        job->pid = pid;
        job->out_fd = TAKE_FD(rfd);
        job->pid_fd = pidfd_open_compat(pid);
        if (job->pid_fd < 0)
                job->pid_fd = -EBADF;
        return 0;
}

static void version_job_read(VersionJob *job) {
        char discard[4096];

        for (;;) {
                char *p = discard;
                size_t room = sizeof discard;
                if (job->out_len < LANG_MAX_VERSION_OUTPUT) {
                        p = job->out + job->out_len;
                        room = LANG_MAX_VERSION_OUTPUT - job->out_len;
                }
                ssize_t n = read(job->out_fd, p, room);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN)
                                return;
                        n = 0; /* treat errors as the end */
                }
                if (n == 0) {
                        job->out_fd = safe_close(job->out_fd);
                        return;
                }
                if (p != discard)
                        job->out_len += (size_t) n; /* past the ceiling: drained and dropped */
        }
}

static void version_job_reap(VersionJob *job, int flags) {
        int status;

        if (job->exited || job->pid <= 0)
                return;
        pid_t p = RETRY_EINTR(waitpid(job->pid, &status, flags));
        if (p == job->pid || (p < 0 && errno == ECHILD)) {
                job->status = p == job->pid ? status : -1;
                job->exited = true;
                job->exited_at = now_usec(CLOCK_MONOTONIC);
                job->pid_fd = safe_close(job->pid_fd);
        }
}

/* The version after the pattern: up to whitespace, a bracket, a quote or a comma. Blanks
 * right after the pattern are skipped, since language.conf trims a pattern's trailing
 * space ("Python " is written "Python"). */
static char *version_extract(const char *out, size_t len, const char *pattern) {
        size_t plen = strlen(pattern);
        const char *hit = memmem(out, len, pattern, plen);
        if (!hit)
                return NULL;
        const char *p = hit + plen, *end = out + len;
        while (p < end && (*p == ' ' || *p == '\t'))
                p++;
        const char *v = p;
        while (p < end && (unsigned char) *p > 0x20 && (unsigned char) *p < 0x7f && !strchr("()[],;\"'", *p))
                p++;
        if (p == v || p - v > MAX_VERSION_LEN)
                return NULL;
        return strndup(v, (size_t) (p - v));
}

/* s with every occurrence of key replaced by value; NULL when out of memory. */
static char *replace_all(const char *s, const char *key, const char *value) {
        size_t klen = strlen(key), vlen = strlen(value), n = 0;

        for (const char *p = s; (p = strstr(p, key)); p += klen)
                n++;
        size_t slen = strlen(s);
        if (vlen > klen && n > (SIZE_MAX - slen - 1) / (vlen - klen))
                return NULL;
        char *out = malloc(slen + n * (vlen > klen ? vlen - klen : 0) + 1);
        if (!out)
                return NULL;
        char *o = out;
        for (const char *p = s;;) {
                const char *h = strstr(p, key);
                size_t chunk = h ? (size_t) (h - p) : strlen(p);
                memcpy(o, p, chunk);
                o += chunk;
                if (!h)
                        break;
                memcpy(o, value, vlen);
                o += vlen;
                p = h + klen;
        }
        *o = '\0';
        return out;
}

char *language_name_resolve(const char *template, const char *version) {
        return replace_all(template, "{version}", version);
}

char *language_expand_limits(const char *cmd, uint64_t memory_kib) {
        if (!strstr(cmd, LIMIT_PLACEHOLDER_PREFIX))
                return strdup(cmd);
        if (memory_kib == 0) {
                long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
                memory_kib = pages > 0 && page > 0 ? (uint64_t) pages * (uint64_t) page / 1024 : 0;
        }
        char kib[24], mib[24];
        snprintf(kib, sizeof kib, "%" PRIu64, memory_kib);
        snprintf(mib, sizeof mib, "%" PRIu64, memory_kib / 1024);
        _cleanup_free_ char *a = replace_all(cmd, "{memory_kib}", kib);
        return a ? replace_all(a, "{memory_mib}", mib) : NULL;
}

static void version_job_finish(VersionJob *job) {
        Language *l = job->lang;

        if (job->killed || !job->exited || !job->out)
                return;
        bool ok = job->status >= 0 && WIFEXITED(job->status) && WEXITSTATUS(job->status) == 0;
        size_t len = MIN(job->out_len, (size_t) LANG_MAX_VERSION_OUTPUT);
        bool found = memmem(job->out, len, l->version_pattern, strlen(l->version_pattern)) != NULL;
        if (!ok && !found)
                return;
        _cleanup_free_ char *version = version_extract(job->out, len, l->version_pattern);
        if (!version)
                return;
        _cleanup_free_ char *name = language_name_resolve(l->name_template, version);
        if (!name)
                return;
        l->version = TAKE_PTR(version);
        l->name = TAKE_PTR(name);
        l->installed = true;
}

/* environ with LC_ALL=C, so that versions are printed the same whatever the locale; and
 * ERL_CRASH_DUMP_SECONDS=0: an Erlang VM (erl, elixir) that dies while its version is
 * asked (its output closed on a timeout) must not leave an erl_crash.dump in the
 * server's working directory. */
static char **version_env(void) {
        size_t n = 0, k = 0;
        while (environ && environ[n])
                n++;
        char **envp = calloc(n + 3, sizeof(char *));
        if (!envp)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (strncmp(environ[i], "LC_ALL=", 7) != 0 &&
                        strncmp(environ[i], "ERL_CRASH_DUMP_SECONDS=", 23) != 0)
                        envp[k++] = environ[i];
        envp[k++] = (char *) "ERL_CRASH_DUMP_SECONDS=0";
        envp[k++] = (char *) "LC_ALL=C";
        envp[k] = NULL;
        return envp;
}

void catalogue_detect_timeout(Catalogue *c, uint64_t timeout_usec) {
        _cleanup_free_ VersionJob *jobs = NULL;
        _cleanup_free_ struct pollfd *pfds = NULL;
        _cleanup_free_ char **envp = NULL;
        _cleanup_close_ int null_fd = -EBADF;

        if (!c || c->n == 0)
                return;
        for (size_t i = 0; i < c->n; i++) {
                Language *l = &c->langs[i];
                free(l->version);
                free(l->name);
                l->version = l->name = NULL;
                l->installed = false;
        }
        jobs = calloc(c->n, sizeof(VersionJob));
        pfds = calloc(2 * c->n, sizeof(struct pollfd));
        envp = version_env();
        null_fd = fd_above_stdio(open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (!jobs || !pfds || !envp || null_fd < 0)
                return; /* nothing started: all stay "not installed" */

        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        for (size_t i = 0; i < c->n; i++) {
                jobs[i] = (VersionJob){.lang = &c->langs[i], .out_fd = -EBADF, .pid_fd = -EBADF};
                if (c->langs[i].version_cmd && c->langs[i].version_pattern)
                        (void) version_job_start(&jobs[i], envp, null_fd); /* on failure: not installed */
        }

        for (;;) {
                uint64_t now = now_usec(CLOCK_MONOTONIC), wake = deadline;
                size_t n = 0;
                bool tick = false, busy = false;
                for (size_t i = 0; i < c->n; i++) {
                        VersionJob *job = &jobs[i];
                        if (job->exited && job->out_fd >= 0) {
                                /* Exited, but something it started still holds the pipe. */
                                uint64_t until = job->exited_at + EXIT_GRACE_USEC;
                                if (now >= until) {
                                        (void) kill(-job->pid, SIGKILL);
                                        job->out_fd = safe_close(job->out_fd);
                                } else
                                        wake = MIN(wake, until);
                        }
                        if (job->out_fd >= 0)
                                pfds[n++] = (struct pollfd){.fd = job->out_fd, .events = POLLIN};
                        if (job->pid > 0 && !job->exited) {
                                if (job->pid_fd >= 0)
                                        pfds[n++] = (struct pollfd){.fd = job->pid_fd, .events = POLLIN};
                                else
                                        tick = true;
                        }
                        if (job->out_fd >= 0 || (job->pid > 0 && !job->exited))
                                busy = true;
                }
                if (!busy || now >= deadline)
                        break;
                uint64_t wait_ms = (wake - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
                if (tick)
                        wait_ms = MIN(wait_ms, (uint64_t) EXIT_POLL_MSEC);
                if (poll(pfds, n, (int) MIN(wait_ms, (uint64_t) INT_MAX)) < 0 && errno != EINTR)
                        break;
                for (size_t i = 0; i < c->n; i++) {
                        if (jobs[i].out_fd >= 0)
                                version_job_read(&jobs[i]);
                        if (jobs[i].pid > 0 && !jobs[i].exited)
                                version_job_reap(&jobs[i], WNOHANG);
                }
        }

        for (size_t i = 0; i < c->n; i++) {
                VersionJob *job = &jobs[i];
                /* Overdue, or exited while what it started still holds the pipe: kill the
                 * process group (its id cannot be reused while it has members). */
                if (job->pid > 0 && (!job->exited || job->out_fd >= 0))
                        (void) kill(-job->pid, SIGKILL);
                if (job->pid > 0 && !job->exited) {
                        (void) kill(job->pid, SIGKILL);
                        version_job_reap(job, 0);
                        job->killed = true;
                }
                version_job_finish(job);
                job->out_fd = safe_close(job->out_fd);
                job->pid_fd = safe_close(job->pid_fd);
                free(job->out);
        }
}

void catalogue_detect(Catalogue *c) {
        catalogue_detect_timeout(c, LANG_DETECT_TIMEOUT_USEC);
}

/* ---- finding a language ---- */

const Language *catalogue_find_id(const Catalogue *c, int id) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n; i++)
                if (c->langs[i].id == id)
                        return &c->langs[i];
        return NULL;
}

static const char *file_extension(const char *name) {
        const char *base = strrchr(name, '/');
        base = base ? base + 1 : name;
        const char *dot = strrchr(base, '.'); /* ".py" alone is an extension too */
        return dot && dot[1] ? dot : NULL;
}

const Language *catalogue_guess_by_filename(const Catalogue *c, const char *filename) {
        const Language *first = NULL;

        if (!c || !filename)
                return NULL;
        const char *ext = file_extension(filename);
        if (!ext)
                return NULL;
        /* Lowest id wins (the catalogue is sorted by id), an installed toolchain first. */
        for (size_t i = 0; i < c->n; i++) {
                const Language *l = &c->langs[i];
                if (!l->source_file)
                        continue;
                const char *lext = file_extension(l->source_file);
                if (!lext || strcmp(lext, ext) != 0)
                        continue;
                if (l->installed)
                        return l;
                if (!first)
                        first = l;
        }
        return first;
}

const Language *catalogue_find(const Catalogue *c, const char *what) {
        uint64_t id;

        if (!c || !what || !*what)
                return NULL;
        if (parse_u64_max(what, INT32_MAX, &id) == 0)
                return catalogue_find_id(c, (int) id);
        for (size_t i = 0; i < c->n; i++)
                if (strcmp(c->langs[i].slug, what) == 0)
                        return &c->langs[i];
        return catalogue_guess_by_filename(c, what);
}
