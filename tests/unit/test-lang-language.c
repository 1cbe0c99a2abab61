/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/time-util.h"
#include "lang/language.h"
#include "tests.h"

#define STREQ(a, b) (strcmp((a), (b)) == 0)

static char tmp[256];

static int make_tmpdir(void) {
        const char *base = getenv("TMPDIR");
        int n = snprintf(tmp, sizeof tmp, "%s/test-lang-XXXXXX", base && *base ? base : "/tmp");
        ASSERT_TRUE(n > 0 && (size_t) n < sizeof tmp);
        ASSERT_TRUE(mkdtemp(tmp) != NULL);
        int dfd = open(tmp, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
        ASSERT_TRUE(dfd >= 0);
        return dfd;
}

static void put_file(int dfd, const char *name, const char *data) {
        int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write_all(fd, data, strlen(data)), 0);
        ASSERT_EQ(close(fd), 0);
}

static void put_lang(int dfd, const char *slug, const char *conf) {
        char path[256];
        ASSERT_TRUE(mkdirat(dfd, slug, 0755) == 0 || errno == EEXIST);
        snprintf(path, sizeof path, "%s/language.conf", slug);
        put_file(dfd, path, conf);
}

static void rm_rf(const char *path) {
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                execl("/bin/rm", "rm", "-rf", "--", path, (char *) NULL);
                _exit(127);
        }
        int status;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const char full_conf[] = "# Python 3\n"
                                "\n"
                                "id = 71\n"
                                "  name   =   Python ({version})  \n"
                                "source = script.py\n"
                                "\t# a comment after blanks\n"
                                "run = /usr/bin/python3 script.py\n"
                                "compile = /usr/bin/python3 -m py_compile %s script.py\r\n"
                                "version = python3 --version\n"
                                "version_pattern = Python \n"
                                "test = test.py\n"
                                "packages = python3 python3-numpy\n"
                                "bind = /etc/python3\n"
                                "bind = /usr/share/python3\n"
                                "env = PYTHONDONTWRITEBYTECODE=1\n"
                                "env = PYTHONHASHSEED=a=b\n"
                                "compile_processes = 4\n"
                                "compile_memory_kib = 262144\n"
                                "run_processes_min = 2\n"
                                "run_memory_kib_min = 65536";

static void test_parse_valid(void) {
        Language l;
        char err[256] = "";

        ASSERT_EQ(language_parse(full_conf, "python3", "/opt/langs/python3", &l, err, sizeof err), 0);
        ASSERT_EQ(l.id, 71);
        ASSERT_TRUE(STREQ(l.slug, "python3"));
        ASSERT_TRUE(STREQ(l.name_template, "Python ({version})"));
        ASSERT_TRUE(l.name == NULL && l.version == NULL && !l.installed);
        ASSERT_TRUE(STREQ(l.source_file, "script.py"));
        ASSERT_TRUE(STREQ(l.run_cmd, "/usr/bin/python3 script.py"));
        ASSERT_TRUE(STREQ(l.compile_cmd, "/usr/bin/python3 -m py_compile %s script.py"));
        ASSERT_TRUE(STREQ(l.version_cmd, "python3 --version"));
        ASSERT_TRUE(STREQ(l.version_pattern, "Python"));
        ASSERT_TRUE(STREQ(l.test_file, "/opt/langs/python3/test.py"));
        ASSERT_TRUE(STREQ(l.packages, "python3 python3-numpy"));
        ASSERT_EQ(l.n_binds, 2u);
        ASSERT_TRUE(STREQ(l.binds[0], "/etc/python3") && STREQ(l.binds[1], "/usr/share/python3"));
        ASSERT_EQ(l.n_env, 2u);
        ASSERT_TRUE(STREQ(l.env[0], "PYTHONDONTWRITEBYTECODE=1") && STREQ(l.env[1], "PYTHONHASHSEED=a=b"));
        ASSERT_EQ(l.compile_processes, 4u);
        ASSERT_EQ(l.compile_memory_kib, 262144u);
        ASSERT_EQ(l.run_processes_min, 2u);
        ASSERT_EQ(l.run_memory_kib_min, 65536u);
        ASSERT_TRUE(!l.is_project);
        language_done(&l);
        ASSERT_TRUE(l.slug == NULL && l.n_binds == 0);
        language_done(&l); /* twice is harmless */
        language_done(NULL);

        /* The smallest language: no compile, test, packages, binds, env or limits. */
        ASSERT_EQ(language_parse("id=1\nname=x\nsource=a\nrun=./a\nversion=v\nversion_pattern=v", "x", "/d",
                          &l, err, sizeof err),
                0);
        ASSERT_TRUE(l.compile_cmd == NULL && l.test_file == NULL && l.packages == NULL);
        ASSERT_TRUE(l.n_binds == 0 && l.n_env == 0 && l.compile_processes == 0);
        language_done(&l);

        /* The multi-file program needs neither source nor run. */
        ASSERT_EQ(language_parse("id = 89\nname = Multi-file program\nversion = sh --version\n"
                                 "version_pattern = version",
                          "multi", "/d", &l, err, sizeof err),
                0);
        ASSERT_TRUE(l.is_project && l.source_file == NULL && l.run_cmd == NULL);
        ASSERT_TRUE(STREQ(l.name_template, "Multi-file program"));
        language_done(&l);

        /* A relative directory: the test program's path is still absolute. */
        ASSERT_EQ(language_parse("id=1\nname=x\nsource=a\nrun=./a\nversion=v\nversion_pattern=v\ntest=t.sh",
                          "x", "langs/x", &l, err, sizeof err),
                0);
        ASSERT_TRUE(l.test_file[0] == '/');
        size_t n = strlen(l.test_file);
        ASSERT_TRUE(n > strlen("/langs/x/t.sh") &&
                    STREQ(l.test_file + n - strlen("/langs/x/t.sh"), "/langs/x/t.sh"));
        language_done(&l);
}

#define BASE \
        "id = 71\nname = P\nsource = a.py\nrun = python3 a.py\nversion = python3 -V\nversion_pattern = " \
        "Python\n"

static void test_expand_limits(void) {
        char *s = language_expand_limits(
                "java -XX:MaxRAM={memory_kib}k -Xmx{memory_mib}m {memory_kib}", 131072);
        ASSERT_TRUE(STREQ(s, "java -XX:MaxRAM=131072k -Xmx128m 131072"));
        free(s);
        s = language_expand_limits("no placeholder ${HOME} {a,b}", 1);
        ASSERT_TRUE(STREQ(s, "no placeholder ${HOME} {a,b}"));
        free(s);
        /* no limit: the host's memory, what the program sees without the flag */
        uint64_t host_kib = (uint64_t) sysconf(_SC_PHYS_PAGES) * (uint64_t) sysconf(_SC_PAGESIZE) / 1024;
        char want[64];
        snprintf(want, sizeof want, "GOMEMLIMIT=%" PRIu64 "KiB", host_kib);
        s = language_expand_limits("GOMEMLIMIT={memory_kib}KiB", 0);
        ASSERT_TRUE(STREQ(s, want));
        free(s);

        Language l;
        char err[256] = "";
        ASSERT_EQ(language_parse(BASE "compile = c -m{memory_kib} %s\nenv = H={memory_mib}\n", "p", "/d/p",
                          &l, err, sizeof err),
                0);
        ASSERT_TRUE(STREQ(l.compile_cmd, "c -m{memory_kib} %s"));
        ASSERT_TRUE(STREQ(l.env[0], "H={memory_mib}"));
        language_done(&l);
}

static void test_parse_invalid(void) {
        static const struct {
                const char *text;
                const char *error;
        } cases[] = {
                {"id = 71\nname = P\nsource = a.py\nrn = x\n", "/d/p/language.conf:4: unknown key 'rn'"},
                {BASE "just words\n", "/d/p/language.conf:7: expected 'key = value'"},
                {BASE " = value\n", "/d/p/language.conf:7: expected 'key = value'"},
                {BASE "compile =   \n", "/d/p/language.conf:7: empty value for 'compile'"},
                {BASE "run = again\n", "/d/p/language.conf:7: 'run' given twice"},
                {BASE "id = 72\n", "/d/p/language.conf:7: 'id' given twice"},
                {"id = seventy\n", "/d/p/language.conf:1: 'id' is not a number: 'seventy'"},
                {"id = -1\n", "/d/p/language.conf:1: 'id' is not a number: '-1'"},
                {"id = 71x\n", "/d/p/language.conf:1: 'id' is not a number: '71x'"},
                {"id = 0\n", "/d/p/language.conf:1: 'id' must be at least 1"},
                {"id = 2147483648\n", "/d/p/language.conf:1: 'id' is out of range (at most 2147483647)"},
                {"compile_processes = 1048577\n",
                        "/d/p/language.conf:1: 'compile_processes' is out of range (at most 1048576)"},
                {"run_processes_min = many\n",
                        "/d/p/language.conf:1: 'run_processes_min' is not a number: 'many'"},
                {"compile_memory_kib = 99999999999999999999\n", "/d/p/language.conf:1: 'compile_memory_kib' "
                                                                "is out of range (at most 1099511627776)"},
                {"run_memory_kib_min = 1.5\n",
                        "/d/p/language.conf:1: 'run_memory_kib_min' is not a number: '1.5'"},
                {"source = src/a.py\n",
                        "/d/p/language.conf:1: 'source' must be a file name, not a path: 'src/a.py'"},
                {"test = ../t.sh\n",
                        "/d/p/language.conf:1: 'test' must be a file name, not a path: '../t.sh'"},
                {"test = ..\n", "/d/p/language.conf:1: 'test' must be a file name, not a path: '..'"},
                {"bind = etc/java\n", "/d/p/language.conf:1: 'bind' must be an absolute path: 'etc/java'"},
                {"bind=/1\nbind=/2\nbind=/3\nbind=/4\nbind=/5\nbind=/6\nbind=/7\nbind=/8\nbind=/9\n",
                        "/d/p/language.conf:9: too many 'bind' lines (at most 8)"},
                {"env = NOVALUE\n", "/d/p/language.conf:1: 'env' must be VAR=VALUE: 'NOVALUE'"},
                {"env = =x\n", "/d/p/language.conf:1: 'env' must be VAR=VALUE: '=x'"},
                {"env = 1A=x\n", "/d/p/language.conf:1: 'env' must be VAR=VALUE: '1A=x'"},
                {"env = A-B=x\n", "/d/p/language.conf:1: 'env' must be VAR=VALUE: 'A-B=x'"},
                {"env = A=1\nenv = A=2\n", "/d/p/language.conf:2: 'env' sets A twice"},
                {"run = java -Xmx{memory_kb}k Main\n", "/d/p/language.conf:1: 'run': unknown placeholder "
                                                       "'{memory_kb}' (known: {memory_kib}, {memory_mib})"},
                {"compile = cc -m{memory_\n", "/d/p/language.conf:1: 'compile': unknown placeholder "
                                              "'{memory_' (known: {memory_kib}, {memory_mib})"},
                {"env = GOMEMLIMIT={memory_KiB}KiB\n", "/d/p/language.conf:1: 'env': unknown placeholder "
                                                       "'{memory_KiB}' (known: {memory_kib}, {memory_mib})"},
                {"env=A=1\nenv=B=1\nenv=C=1\nenv=D=1\nenv=E=1\nenv=F=1\nenv=G=1\nenv=H=1\nenv=I=1\n"
                 "env=J=1\nenv=K=1\nenv=L=1\nenv=M=1\nenv=N=1\nenv=O=1\nenv=P=1\nenv=Q=1\n",
                        "/d/p/language.conf:17: too many 'env' lines (at most 16)"},
                {"", "/d/p/language.conf: missing 'id'"},
                {"id = 71\n", "/d/p/language.conf: missing 'name'"},
                {"id = 71\nname = P\n", "/d/p/language.conf: missing 'version'"},
                {"id = 71\nname = P\nversion = v\n", "/d/p/language.conf: missing 'version_pattern'"},
                {"id = 71\nname = P\nversion = v\nversion_pattern = v\n",
                        "/d/p/language.conf: missing 'source'"},
                {"id = 71\nname = P\nversion = v\nversion_pattern = v\nsource = a\n",
                        "/d/p/language.conf: missing 'run'"},
        };

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                Language l, untouched;
                char err[256] = "";
                memset(&l, 0xa5, sizeof l);
                memcpy(&untouched, &l, sizeof l);
                int r = language_parse(cases[i].text, "p", "/d/p", &l, err, sizeof err);
                if (r != -EINVAL || !STREQ(err, cases[i].error))
                        fprintf(stderr, "case %zu: r=%d error '%s', expected '%s'\n", i, r, err,
                                cases[i].error);
                ASSERT_EQ(r, -EINVAL);
                ASSERT_TRUE(STREQ(err, cases[i].error));
                ASSERT_TRUE(memcmp(&l, &untouched, sizeof l) == 0); /* ret written only on success */
        }

        /* Too large, and a NULL or short error buffer. */
        size_t big = LANG_MAX_CONF_SIZE + 2;
        char *text = malloc(big);
        ASSERT_TRUE(text);
        memset(text, '#', big - 1);
        text[big - 1] = '\0';
        Language l;
        char err[256];
        ASSERT_EQ(language_parse(text, "p", "/d/p", &l, err, sizeof err), -EFBIG);
        ASSERT_TRUE(STREQ(err, "/d/p/language.conf: larger than 65536 bytes"));
        free(text);
        ASSERT_EQ(language_parse("id = x", "p", "/d/p", &l, NULL, 0), -EINVAL);
        char tiny[8];
        ASSERT_EQ(language_parse("id = x", "p", "/d/p", &l, tiny, sizeof tiny), -EINVAL);
        ASSERT_TRUE(STREQ(tiny, "/d/p/la"));
        ASSERT_EQ(language_parse("nope", "p", NULL, &l, err, sizeof err), -EINVAL);
        ASSERT_TRUE(STREQ(err, "language.conf:1: expected 'key = value'"));
}

#define CONF(id, name, source) \
        "id = " id "\nname = " name "\nsource = " source "\nrun = ./run\nversion = /bin/echo " name \
        " 1.0\nversion_pattern = " name "\ntest = test.sh\n"

static void test_load(void) {
        Catalogue c;
        char err[1024] = "", path[512];
        int dfd = make_tmpdir();

        /* Two languages, written in the opposite order of their ids; a directory without a
         * language.conf and a hidden one are not languages. */
        put_lang(dfd, "aa-python3", CONF("71", "Python", "script.py"));
        put_lang(dfd, "zz-c", CONF("50", "C", "main.c"));
        ASSERT_EQ(mkdirat(dfd, "common", 0755), 0);
        put_file(dfd, "common/notes", "not a language\n");
        put_lang(dfd, ".hidden", "garbage\n");
        put_file(dfd, "README", "id = 1\n");

        ASSERT_EQ(catalogue_load(tmp, &c, err, sizeof err), 0);
        ASSERT_EQ(c.n, 2u);
        ASSERT_EQ(c.langs[0].id, 50);
        ASSERT_TRUE(STREQ(c.langs[0].slug, "zz-c"));
        ASSERT_EQ(c.langs[1].id, 71);
        ASSERT_TRUE(STREQ(c.langs[1].slug, "aa-python3"));
        snprintf(path, sizeof path, "%s/aa-python3/test.sh", tmp);
        char *real = realpath(tmp, NULL);
        ASSERT_TRUE(real);
        char expect[1024];
        snprintf(expect, sizeof expect, "%s/aa-python3/test.sh", real);
        ASSERT_TRUE(STREQ(c.langs[1].test_file, expect));
        free(real);
        catalogue_done(&c);
        ASSERT_TRUE(c.langs == NULL && c.n == 0);
        catalogue_done(&c);

        /* Trailing slashes are not shown in messages; a bad file names itself and the line. */
        put_lang(dfd, "bad", "id = 3\nname = B\nrn = x\n");
        char dir_slash[300];
        snprintf(dir_slash, sizeof dir_slash, "%s//", tmp);
        memset(&c, 0x5a, sizeof c);
        ASSERT_EQ(catalogue_load(dir_slash, &c, err, sizeof err), -EINVAL);
        snprintf(expect, sizeof expect, "%s/bad/language.conf:3: unknown key 'rn'", tmp);
        ASSERT_TRUE(STREQ(err, expect));
        ASSERT_EQ(c.n, (size_t) 0x5a5a5a5a5a5a5a5aULL); /* not written on failure */
        ASSERT_EQ(unlinkat(dfd, "bad/language.conf", 0), 0);

        /* The same id twice: the later file (by name) names the earlier. */
        put_lang(dfd, "mm-python", CONF("71", "Python", "x.py"));
        ASSERT_EQ(catalogue_load(tmp, &c, err, sizeof err), -EEXIST);
        snprintf(expect, sizeof expect,
                "%s/mm-python/language.conf: id 71 is already used by %s/aa-python3/language.conf", tmp,
                tmp);
        ASSERT_TRUE(STREQ(err, expect));
        ASSERT_EQ(unlinkat(dfd, "mm-python/language.conf", 0), 0);

        /* A directory name that could be mistaken for an id. */
        put_lang(dfd, "42", CONF("42", "N", "n.n"));
        ASSERT_EQ(catalogue_load(tmp, &c, err, sizeof err), -EINVAL);
        snprintf(expect, sizeof expect,
                "%s/42: the directory name is not a valid slug (letters, digits, '-', '_', '.', '+'; not "
                "only "
                "digits)",
                tmp);
        ASSERT_TRUE(STREQ(err, expect));
        ASSERT_EQ(unlinkat(dfd, "42/language.conf", 0), 0);

        /* Too large, and a NUL byte. */
        size_t big = LANG_MAX_CONF_SIZE + 1;
        char *text = malloc(big + 1);
        ASSERT_TRUE(text);
        memset(text, '#', big);
        text[big] = '\0';
        put_lang(dfd, "huge", text);
        free(text);
        ASSERT_EQ(catalogue_load(tmp, &c, err, sizeof err), -EFBIG);
        snprintf(expect, sizeof expect, "%s/huge/language.conf: larger than 65536 bytes", tmp);
        ASSERT_TRUE(STREQ(err, expect));
        int fd = openat(dfd, "huge/language.conf", O_WRONLY | O_TRUNC | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write_all(fd, "id = 5\n\0name = x\n", 17), 0);
        ASSERT_EQ(close(fd), 0);
        ASSERT_EQ(catalogue_load(tmp, &c, err, sizeof err), -EINVAL);
        snprintf(expect, sizeof expect, "%s/huge/language.conf: contains a NUL byte", tmp);
        ASSERT_TRUE(STREQ(err, expect));
        ASSERT_EQ(unlinkat(dfd, "huge/language.conf", 0), 0);

        /* Still fine after all that. */
        ASSERT_EQ(catalogue_load(tmp, &c, err, sizeof err), 0);
        ASSERT_EQ(c.n, 2u);
        catalogue_done(&c);

        /* A missing directory; an empty one. */
        snprintf(path, sizeof path, "%s/nonexistent", tmp);
        ASSERT_EQ(catalogue_load(path, &c, err, sizeof err), -ENOENT);
        snprintf(expect, sizeof expect, "%s: No such file or directory", path);
        ASSERT_TRUE(STREQ(err, expect));
        snprintf(path, sizeof path, "%s/common", tmp);
        ASSERT_EQ(catalogue_load(path, &c, err, sizeof err), 0);
        ASSERT_TRUE(c.n == 0);
        catalogue_done(&c);
        ASSERT_EQ(catalogue_load("", &c, err, sizeof err), -EINVAL);

        close(dfd);
        rm_rf(tmp);
}

static void test_default_dir(void) {
        ASSERT_EQ(unsetenv("CODERUNNER_LANGUAGES"), 0);
        const char *d = catalogue_default_dir();
        size_t n = strlen(d);
        ASSERT_TRUE(d[0] == '/' && n >= 10 && STREQ(d + n - 10, "/languages"));
        ASSERT_EQ(setenv("CODERUNNER_LANGUAGES", "", 1), 0);
        ASSERT_TRUE(STREQ(catalogue_default_dir(), d));
        ASSERT_EQ(setenv("CODERUNNER_LANGUAGES", "/srv/langs", 1), 0);
        ASSERT_TRUE(STREQ(catalogue_default_dir(), "/srv/langs"));
        ASSERT_EQ(unsetenv("CODERUNNER_LANGUAGES"), 0);
}

/* A catalogue made of parsed texts, sorted by id as catalogue_load() does. */
static void make_catalogue(Catalogue *c, const char *const *texts, size_t n) {
        c->langs = calloc(n, sizeof(Language));
        ASSERT_TRUE(c->langs);
        c->n = n;
        for (size_t i = 0; i < n; i++) {
                char err[256] = "", slug[32];
                snprintf(slug, sizeof slug, "lang%zu", i);
                int r = language_parse(texts[i], slug, tmp, &c->langs[i], err, sizeof err);
                if (r < 0)
                        fprintf(stderr, "%s\n", err);
                ASSERT_EQ(r, 0);
        }
}

/* The process whose pid is in the file is gone (or a zombie of someone else's) soon. */
static void assert_killed(int dfd, const char *pidfile) {
        char *text = NULL, path[64], stat[512];
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;

        ASSERT_EQ(read_file_at(dfd, pidfile, 64, &text, NULL), 0);
        text[strcspn(text, "\n")] = '\0';
        snprintf(path, sizeof path, "/proc/%s/stat", text);
        free(text);
        for (;;) {
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        ASSERT_EQ(errno, ENOENT);
                        return;
                }
                ssize_t n = read_full(fd, stat, sizeof stat - 1);
                close(fd);
                ASSERT_TRUE(n > 0);
                stat[n] = '\0';
                const char *p = strrchr(stat, ')');
                if (n == 0 || (p && p[1] == ' ' && p[2] == 'Z'))
                        return;
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
                usleep(10000);
        }
}

#define DETECT(id, name, cmd, pattern) \
        "id = " id "\nname = " name "\nsource = a\nrun = ./a\nversion = " cmd \
        "\nversion_pattern = " pattern "\n"

static void test_detect(void) {
        int dfd = make_tmpdir();

        /* On stderr, with a non-zero exit: installed, since the pattern is there. */
        put_file(dfd, "gcc.sh", "echo 'gcc (Debian 12.2.0-14) 12.2.0' >&2\nexit 1\n");
        /* Prints the version, exits, but leaves a child holding the pipe. */
        put_file(dfd, "daemon.sh",
                "sleep 30 &\necho $! >daemon.pid\necho 'Kotlin version 1.9.0-release-358 (JRE 17)'\n");
        /* Much more than the output ceiling after the version. */
        put_file(dfd, "chatty.sh", "echo 'Chatty v2.5, build 7'\nhead -c 1000000 /dev/zero\n");
        /* The version only after the ceiling. */
        put_file(dfd, "late.sh", "head -c 70000 /dev/zero\necho 'Late 1.0'\n");
        /* Hangs (in its own process group, children too). */
        put_file(dfd, "hang.sh", "sleep 30 &\necho $! >hang.pid\nsleep 30\n");

        const char *texts[] = {
                DETECT("1", "Echo ({version}) [{version}]", "/bin/echo Python 3.11.2", "Python"),
                DETECT("2", "GCC ({version})", "/bin/sh gcc.sh", ")"),
                DETECT("3", "Fails", "/bin/sh -c false", "x"),
                DETECT("4", "Missing", "/nonexistent/command --version", "x"),
                DETECT("5", "No pattern ({version})", "/bin/echo something else", "Python"),
                DETECT("6", "Hangs", "/bin/sleep 30", "x"),
                DETECT("7", "Kotlin ({version})", "/bin/sh daemon.sh", "Kotlin version"),
                DETECT("8", "Chatty ({version})", "/bin/sh chatty.sh", "Chatty v"),
                DETECT("9", "Late", "/bin/sh late.sh", "Late"),
                DETECT("10", "Hang group", "/bin/sh hang.sh", "x"),
                DETECT("11", "Empty version", "/bin/echo Python", "Python"),
                DETECT("12", "Path ({version})", "echo   Tool\t9.9", "Tool"),
                DETECT("13", "Quoted ({version})", "/bin/echo openjdk version \"17.0.2\" 2022-01-18",
                        "version \""),
                DETECT("14", "Not in PATH", "no-such-command-here --version", "x"),
        };
        Catalogue c;
        /* The scripts are found relative to the working directory. */
        char cwd[4096];
        ASSERT_TRUE(getcwd(cwd, sizeof cwd));
        ASSERT_EQ(chdir(tmp), 0);
        make_catalogue(&c, texts, sizeof texts / sizeof texts[0]);

        uint64_t start = now_usec(CLOCK_MONOTONIC);
        catalogue_detect_timeout(&c, 500 * USEC_PER_MSEC);
        uint64_t took = now_usec(CLOCK_MONOTONIC) - start;
        ASSERT_EQ(chdir(cwd), 0);

        /* All in parallel: about one timeout, not several. */
        ASSERT_TRUE(took >= 450 * USEC_PER_MSEC);
        ASSERT_TRUE(took < 5 * USEC_PER_SEC);

        const Language *l = catalogue_find_id(&c, 1);
        ASSERT_TRUE(l->installed && STREQ(l->version, "3.11.2"));
        ASSERT_TRUE(STREQ(l->name, "Echo (3.11.2) [3.11.2]"));
        l = catalogue_find_id(&c, 2);
        ASSERT_TRUE(l->installed && STREQ(l->version, "12.2.0") && STREQ(l->name, "GCC (12.2.0)"));
        for (int id = 3; id <= 6; id++) {
                l = catalogue_find_id(&c, id);
                ASSERT_TRUE(!l->installed && l->version == NULL && l->name == NULL);
        }
        l = catalogue_find_id(&c, 7);
        ASSERT_TRUE(l->installed && STREQ(l->version, "1.9.0-release-358"));
        l = catalogue_find_id(&c, 8);
        ASSERT_TRUE(l->installed && STREQ(l->version, "2.5") && STREQ(l->name, "Chatty (2.5)"));
        ASSERT_TRUE(!catalogue_find_id(&c, 9)->installed);
        ASSERT_TRUE(!catalogue_find_id(&c, 10)->installed);
        ASSERT_TRUE(!catalogue_find_id(&c, 11)->installed);
        l = catalogue_find_id(&c, 12);
        ASSERT_TRUE(l->installed && STREQ(l->version, "9.9"));
        l = catalogue_find_id(&c, 13);
        ASSERT_TRUE(l->installed && STREQ(l->version, "17.0.2"));
        ASSERT_TRUE(!catalogue_find_id(&c, 14)->installed);

        /* No zombies: every child was reaped. */
        ASSERT_EQ(waitpid(-1, NULL, WNOHANG), -1);
        ASSERT_EQ(errno, ECHILD);
        /* What the commands left behind was killed with their process groups. */
        assert_killed(dfd, "daemon.pid");
        assert_killed(dfd, "hang.pid");

        /* Detecting again replaces the previous answers, with the same result, also when
         * our stdin is closed (so that /dev/null and the pipe could land on fds 0-2). */
        int saved_stdin = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        ASSERT_TRUE(saved_stdin >= 0);
        ASSERT_EQ(close(STDIN_FILENO), 0);
        ASSERT_EQ(chdir(tmp), 0);
        catalogue_detect_timeout(&c, 500 * USEC_PER_MSEC);
        ASSERT_EQ(chdir(cwd), 0);
        ASSERT_EQ(dup2(saved_stdin, STDIN_FILENO), STDIN_FILENO);
        ASSERT_EQ(close(saved_stdin), 0);
        ASSERT_TRUE(STREQ(catalogue_find_id(&c, 2)->version, "12.2.0"));
        ASSERT_TRUE(STREQ(catalogue_find_id(&c, 8)->version, "2.5"));
        ASSERT_TRUE(STREQ(catalogue_find_id(&c, 12)->version, "9.9"));
        ASSERT_TRUE(STREQ(catalogue_find_id(&c, 1)->name, "Echo (3.11.2) [3.11.2]"));
        ASSERT_TRUE(!catalogue_find_id(&c, 6)->installed);

        catalogue_done(&c);

        /* What a command leaves behind holding the pipe does not hold up detection. */
        const char *daemon_only[] = {texts[6]};
        ASSERT_EQ(chdir(tmp), 0);
        make_catalogue(&c, daemon_only, 1);
        start = now_usec(CLOCK_MONOTONIC);
        catalogue_detect_timeout(&c, 20 * USEC_PER_SEC);
        took = now_usec(CLOCK_MONOTONIC) - start;
        ASSERT_EQ(chdir(cwd), 0);
        ASSERT_TRUE(took < 5 * USEC_PER_SEC);
        ASSERT_TRUE(c.langs[0].installed && STREQ(c.langs[0].version, "1.9.0-release-358"));
        assert_killed(dfd, "daemon.pid");
        catalogue_done(&c);

        catalogue_detect(NULL);
        Catalogue empty = {};
        catalogue_detect(&empty);
        close(dfd);
        rm_rf(tmp);
}

#define FIND(id, source) \
        "id = " id "\nname = L" id "\nsource = " source "\nrun = r\nversion = v\nversion_pattern = v\n"

static void test_find(void) {
        const char *texts[] = {
                FIND("50", "main.c"),
                FIND("54", "main.cpp"),
                FIND("62", "Main.java"),
                FIND("70", "script.py"),
                FIND("71", "script.py"),
                FIND("75", "main.c"),
                "id = 89\nname = Multi-file program\nversion = sh\nversion_pattern = x\n",
        };
        static const char *const slugs[] = {"c", "cpp", "java", "python2", "python3", "clang", "multi"};
        Catalogue c;
        make_catalogue(&c, texts, sizeof texts / sizeof texts[0]);
        for (size_t i = 0; i < c.n; i++) {
                free(c.langs[i].slug);
                c.langs[i].slug = strdup(slugs[i]);
                ASSERT_TRUE(c.langs[i].slug);
        }

        ASSERT_EQ(catalogue_find_id(&c, 62)->id, 62);
        ASSERT_TRUE(catalogue_find_id(&c, 63) == NULL);
        ASSERT_TRUE(catalogue_find_id(NULL, 62) == NULL);
        ASSERT_EQ(catalogue_find(&c, "71")->id, 71);
        ASSERT_EQ(catalogue_find(&c, "89")->id, 89);
        ASSERT_TRUE(catalogue_find(&c, "999") == NULL);
        ASSERT_TRUE(catalogue_find(&c, "99999999999999999999") == NULL);
        ASSERT_EQ(catalogue_find(&c, "python3")->id, 71);
        ASSERT_EQ(catalogue_find(&c, "clang")->id, 75);
        ASSERT_EQ(catalogue_find(&c, "multi")->id, 89);
        ASSERT_EQ(catalogue_find(&c, ".c")->id, 50); /* GCC before Clang: lowest id */
        ASSERT_EQ(catalogue_find(&c, "main.c")->id, 50);
        ASSERT_EQ(catalogue_find(&c, "src/dir.d/prog.c")->id, 50);
        ASSERT_EQ(catalogue_find(&c, ".cpp")->id, 54);
        ASSERT_EQ(catalogue_find(&c, "Main.java")->id, 62);
        ASSERT_EQ(catalogue_find(&c, "Other.java")->id, 62);
        ASSERT_EQ(catalogue_find(&c, ".py")->id, 70);
        ASSERT_TRUE(catalogue_find(&c, ".rs") == NULL);
        ASSERT_TRUE(catalogue_find(&c, "Makefile") == NULL);
        ASSERT_TRUE(catalogue_find(&c, "dir.c/Makefile") == NULL);
        ASSERT_TRUE(catalogue_find(&c, "main.") == NULL);
        ASSERT_TRUE(catalogue_find(&c, "") == NULL);
        ASSERT_TRUE(catalogue_find(&c, NULL) == NULL);
        ASSERT_TRUE(catalogue_find(&c, "nonexistent") == NULL);
        ASSERT_EQ(catalogue_guess_by_filename(&c, "x.cpp")->id, 54);
        ASSERT_TRUE(catalogue_guess_by_filename(&c, "x.CPP") == NULL);

        /* After detection, an installed toolchain goes first, then the lowest id. */
        c.langs[4].installed = true; /* python3 */
        c.langs[5].installed = true; /* clang */
        ASSERT_EQ(catalogue_find(&c, ".py")->id, 71);
        ASSERT_EQ(catalogue_find(&c, "a.c")->id, 75);
        c.langs[0].installed = true; /* gcc */
        ASSERT_EQ(catalogue_find(&c, "a.c")->id, 50);
        ASSERT_EQ(catalogue_find(&c, "50")->id, 50);

        catalogue_done(&c);
}

int main(void) {
        test_parse_valid();
        test_parse_invalid();
        test_expand_limits();
        test_load();
        test_default_dir();
        test_detect();
        test_find();
        return 0;
}
