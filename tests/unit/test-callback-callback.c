/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "callback/callback.h"
#include "tests.h"

static bool pub(const char *text) {
        unsigned char buf[16];
        int family = inet_pton(AF_INET, text, buf) == 1 ? AF_INET : AF_INET6;
        if (family == AF_INET6)
                ASSERT_EQ(inet_pton(AF_INET6, text, buf), 1);
        return callback_address_is_public(family, buf);
}

int main(void) {
        ASSERT_TRUE(pub("93.184.216.34"));
        ASSERT_TRUE(pub("8.8.8.8"));
        ASSERT_TRUE(pub("2606:2800:220:1:248:1893:25c8:1946"));
        static const char *const private_ones[] = {
                "127.0.0.1",
                "127.1.2.3",
                "10.1.2.3",
                "172.16.0.1",
                "172.31.255.255",
                "192.168.1.1",
                "169.254.169.254",
                "0.0.0.0",
                "100.64.0.1",
                "224.0.0.1",
                "255.255.255.255",
                "::1",
                "::",
                "fe80::1",
                "fc00::1",
                "fd12:3456::1",
                "::ffff:127.0.0.1",
                "::ffff:10.0.0.1",
                "64:ff9b::a00:1",
                "ff02::1",
        };
        for (size_t i = 0; i < sizeof private_ones / sizeof private_ones[0]; i++)
                ASSERT_TRUE(!pub(private_ones[i]));
        ASSERT_TRUE(pub("172.32.0.1"));
        ASSERT_TRUE(pub("::ffff:8.8.8.8"));
        ASSERT_TRUE(!callback_address_is_public(AF_UNIX, "x"));

        CallbackSender *s = NULL;
        ASSERT_EQ(callback_sender_start(&(CallbackConfig){.max_tries = 0}, &s), -EINVAL);
        ASSERT_EQ(callback_sender_start(
                          &(CallbackConfig){.max_tries = 1, .timeout_usec = 1000000, .max_pending = 1}, &s),
                0);
        /* A URL that cannot be called: logged, not retried, and the stop does not hang. */
        ASSERT_EQ(callback_send(s, "ftp://example.invalid/", "t1", strdup("{}")), 0);
        callback_sender_stop(s);
        return 0;
}
