/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/macro.h"
#include "conf/conf.h"
#include "tests.h"

typedef struct Cfg {
        uint64_t port;
        char *bind;
        bool flag;
        uint64_t wait_usec;
} Cfg;

static const ConfKey keys[] = {
        {"port", CONF_U64, offsetof(Cfg, port), "2358", 65535, "port", false},
        {"bind", CONF_STRING, offsetof(Cfg, bind), "127.0.0.1", 0, "address", false},
        {"some_flag", CONF_BOOL, offsetof(Cfg, flag), "false", 0, "a flag", false},
        {"wait_usec", CONF_SECONDS, offsetof(Cfg, wait_usec), "1.5", 0, "seconds", false},
};
#define N (sizeof keys / sizeof keys[0])

static void write_file(const char *path, const char *text) {
        FILE *f = fopen(path, "we");
        ASSERT_TRUE(f != NULL);
        fputs(text, f);
        ASSERT_EQ(fclose(f), 0);
}

/* The configuration file: its syntax, its place in the order, its errors. */
static void test_file(void) {
        char dir[] = "/tmp/test-conf-XXXXXX", path[64], other[64], flag[80], err[256];
        Cfg c = {};
        ASSERT_TRUE(mkdtemp(dir) != NULL);
        snprintf(path, sizeof path, "%s/serve.conf", dir);
        snprintf(other, sizeof other, "%s/other.conf", dir);
        snprintf(flag, sizeof flag, "--config=%s", path);
        unsetenv("CODERUNNER_PORT");
        unsetenv("CODERUNNER_BIND");
        unsetenv("CODERUNNER_CONFIG");

        write_file(path, "# a comment\n"
                         "\n"
                         "   port=9100\r\n"
                         "\t# an indented comment = not a key\n"
                         "bind = 10.0.0.1 # the rest of the line\n"
                         "some-flag = yes\n"
                         "wait_usec = 2.25\n"
                         "port = 9101"); /* the last value wins; no final newline */
        char *argv1[] = {"serve", flag, NULL};
        ASSERT_EQ(conf_load(keys, N, &c, 2, argv1, NULL, err, sizeof err), 0);
        ASSERT_EQ(c.port, 9101u);
        ASSERT_TRUE(strcmp(c.bind, "10.0.0.1 # the rest of the line") == 0);
        ASSERT_TRUE(c.flag);
        ASSERT_EQ(c.wait_usec, 2250000u);

        /* defaults, then the file, then the environment, then flags */
        setenv("CODERUNNER_PORT", "9200", 1);
        ASSERT_EQ(conf_load(keys, N, &c, 2, argv1, NULL, err, sizeof err), 0);
        ASSERT_EQ(c.port, 9200u);
        ASSERT_TRUE(strncmp(c.bind, "10.0.0.1", 8) == 0);
        char *argv2[] = {"serve", "--port=9300", flag, NULL};
        ASSERT_EQ(conf_load(keys, N, &c, 3, argv2, NULL, err, sizeof err), 0);
        ASSERT_EQ(c.port, 9300u);
        unsetenv("CODERUNNER_PORT");

        /* $CODERUNNER_CONFIG, unless --config names another file */
        write_file(other, "bind=\n"); /* an empty string */
        setenv("CODERUNNER_CONFIG", path, 1);
        ASSERT_EQ(conf_load(keys, N, &c, 1, argv1, NULL, err, sizeof err), 0);
        ASSERT_EQ(c.port, 9101u);
        char other_flag[80];
        snprintf(other_flag, sizeof other_flag, "--config=%s", other);
        char *argv3[] = {"serve", other_flag, NULL};
        ASSERT_EQ(conf_load(keys, N, &c, 2, argv3, NULL, err, sizeof err), 0);
        ASSERT_EQ(c.port, 2358u);
        ASSERT_TRUE(strcmp(c.bind, "") == 0);
        unsetenv("CODERUNNER_CONFIG");

        /* errors name the file and the line */
        static const struct {
                const char *text;
                const char *error; /* after "PATH:" */
        } bad[] = {
                {"port = 1\nnope = 2\n", "2: unknown key 'nope'"},
                {"# c\n\nport 9000\n", "3: expected 'key = value'"},
                {" = 9000\n", "1: a key is missing before '='"},
                {"port = 70000\n", "1: invalid value '70000' for port"},
                {"port =\n", "1: invalid value '' for port"},
                {"some_flag = maybe\n", "1: invalid value 'maybe' for some_flag"},
                {"wait_usec = -1\n", "1: invalid value '-1' for wait_usec"},
                {"port = 1\n\0port = 2\n", " contains a NUL byte"},
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                FILE *f = fopen(path, "we");
                ASSERT_TRUE(f != NULL);
                size_t len = strlen(bad[i].text);
                if (strstr(bad[i].error, "NUL"))
                        len += 1 + strlen(bad[i].text + len + 1);
                ASSERT_EQ(fwrite(bad[i].text, 1, len, f), len);
                ASSERT_EQ(fclose(f), 0);
                ASSERT_EQ(conf_load(keys, N, &c, 2, argv1, NULL, err, sizeof err), -EINVAL);
                char want[160];
                snprintf(want, sizeof want, "%s:%s", path, bad[i].error);
                if (strcmp(err, want) != 0)
                        fprintf(stderr, "case %zu: got '%s', want '%s'\n", i, err, want);
                ASSERT_TRUE(strcmp(err, want) == 0);
        }

        /* a file that is missing, too large, or not named */
        ASSERT_EQ(unlink(path), 0);
        ASSERT_EQ(conf_load(keys, N, &c, 2, argv1, NULL, err, sizeof err), -EINVAL);
        ASSERT_TRUE(strstr(err, "cannot read ") && strstr(err, path) && strstr(err, "No such file"));
        FILE *f = fopen(path, "we");
        ASSERT_TRUE(f != NULL);
        for (size_t i = 0; i < 120000; i++)
                fputs("# padding\n", f);
        ASSERT_EQ(fclose(f), 0);
        ASSERT_EQ(conf_load(keys, N, &c, 2, argv1, NULL, err, sizeof err), -EINVAL);
        ASSERT_TRUE(strstr(err, "larger than") != NULL);
        char *argv4[] = {"serve", "--config", NULL};
        ASSERT_EQ(conf_load(keys, N, &c, 2, argv4, NULL, err, sizeof err), -EINVAL);
        ASSERT_TRUE(strstr(err, "--config=FILE") != NULL);
        char *argv5[] = {"serve", "--config=", NULL};
        ASSERT_EQ(conf_load(keys, N, &c, 2, argv5, NULL, err, sizeof err), -EINVAL);
        /* flags keep their dashes */
        char *argv6[] = {"serve", "--some_flag", NULL};
        ASSERT_EQ(conf_load(keys, N, &c, 2, argv6, NULL, err, sizeof err), -EINVAL);

        ASSERT_EQ(unlink(path), 0);
        ASSERT_EQ(unlink(other), 0);
        ASSERT_EQ(rmdir(dir), 0);
        conf_done(keys, N, &c);
}

int main(void) {
        char err[256];
        Cfg c = {};
        char *argv0[] = {"serve", NULL};
        unsetenv("CODERUNNER_PORT");
        unsetenv("CODERUNNER_BIND");
        ASSERT_EQ(conf_load(keys, N, &c, 1, argv0, NULL, err, sizeof err), 0);
        ASSERT_EQ(c.port, 2358u);
        ASSERT_TRUE(strcmp(c.bind, "127.0.0.1") == 0);
        ASSERT_TRUE(!c.flag);
        ASSERT_EQ(c.wait_usec, 1500000u);

        /* Environment, then flags. */
        setenv("CODERUNNER_PORT", "9000", 1);
        setenv("CODERUNNER_BIND", "0.0.0.0", 1);
        char *argv1[] = {"serve", "--port=9001", "--some-flag", "--print-config", NULL};
        static const char *const extra[] = {"--print-config", NULL};
        ASSERT_EQ(conf_load(keys, N, &c, 4, argv1, extra, err, sizeof err), 0);
        ASSERT_EQ(c.port, 9001u);
        ASSERT_TRUE(strcmp(c.bind, "0.0.0.0") == 0);
        ASSERT_TRUE(c.flag);

        char *argv2[] = {"serve", "--port=70000", NULL};
        ASSERT_EQ(conf_load(keys, N, &c, 2, argv2, NULL, err, sizeof err), -EINVAL);
        ASSERT_TRUE(strstr(err, "--port") != NULL);
        char *argv3[] = {"serve", "--nope=1", NULL};
        ASSERT_EQ(conf_load(keys, N, &c, 2, argv3, NULL, err, sizeof err), -EINVAL);
        ASSERT_TRUE(strstr(err, "unknown option '--nope'") != NULL);
        char *argv4[] = {"serve", "--bind", NULL};
        ASSERT_EQ(conf_load(keys, N, &c, 2, argv4, NULL, err, sizeof err), -EINVAL);
        setenv("CODERUNNER_PORT", "x", 1);
        ASSERT_EQ(conf_load(keys, N, &c, 1, argv0, NULL, err, sizeof err), -EINVAL);
        ASSERT_TRUE(strstr(err, "CODERUNNER_PORT") != NULL);
        unsetenv("CODERUNNER_PORT");
        unsetenv("CODERUNNER_BIND");
        conf_done(keys, N, &c);
        ASSERT_TRUE(c.bind == NULL);
        test_file();
        /* Sections composed into one table: offsets follow the sections' places. */
        {
                typedef struct Prog {
                        int pad;
                        Cfg a;
                        struct {
                                uint64_t other;
                        } b;
                } Prog;
                static const ConfKey other[] = {
                        {"other", CONF_U64, 0, "7", 0, "another section's key", false},
                };
                const ConfSection sections[] = {
                        {keys, N, offsetof(Prog, a)},
                        {other, 1, offsetof(Prog, b)},
                };
                ConfKey *all = NULL;
                size_t n_all = 0;
                ASSERT_EQ(conf_compose(sections, 2, &all, &n_all), 0);
                ASSERT_EQ(n_all, N + 1);
                Prog p = {};
                char *argv_s[] = {"x", "--other=9", "--port=1", NULL};
                ASSERT_EQ(conf_load(all, n_all, &p, 3, argv_s, NULL, err, sizeof err), 0);
                ASSERT_EQ(p.b.other, 9u);
                ASSERT_EQ(p.a.port, 1u);
                conf_done(all, n_all, &p);
                free(all);
                const ConfSection twice[] = {{keys, N, 0}, {keys, N, 0}};
                ASSERT_EQ(conf_compose(twice, 2, &all, &n_all), -EEXIST);
        }
        return 0;
}
