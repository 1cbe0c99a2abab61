/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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
        return 0;
}
