/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/macro.h"
#include "base/strv.h"
#include "sandbox/box.h"
#include "sandbox/net-internal.h"
#include "tests.h"

static void test_check_cidr(void) {
        static const struct {
                const char *cidr;
                int family;
        } table[] = {
                {"198.18.0.1", AF_INET},
                {"198.18.0.1/32", AF_INET},
                {"10.0.0.0/8", AF_INET},
                {"0.0.0.0/0", AF_INET},
                {"2001:db8::/32", AF_INET6},
                {"::1", AF_INET6},
                {"::/0", AF_INET6},
                {"10.0.0.0/33", -EINVAL},
                {"::1/129", -EINVAL},
                {"1.2.3.4/", -EINVAL},
                {"1.2.3.4/8x", -EINVAL},
                {"/8", -EINVAL},
                {"", -EINVAL},
                {"example.com", -EINVAL},
                {"1.2.3", -EINVAL},
                {"1.2.3.4/-1", -EINVAL},
                {"1.2.3.4 /8", -EINVAL},
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                ASSERT_EQ(box_net_check_cidr(table[i].cidr), table[i].family);
}

/* The position of needle in haystack, which must have it. */
static size_t at(const char *haystack, const char *needle) {
        const char *p = strstr(haystack, needle);
        ASSERT_TRUE(p != NULL);
        return (size_t) (p - haystack);
}

static void test_ruleset(void) {
        const char *allow[] = {"198.18.0.1", "2001:db8::1/64", NULL};
        const char *deny[] = {"203.0.113.7/16", NULL};
        const char *host[] = {"127.0.0.1", "192.0.2.2", "::1", NULL};
        char buf[8192];

        int n = net_ruleset(allow, deny, host, buf, sizeof buf);
        ASSERT_TRUE(n > 0 && (size_t) n == strlen(buf));
        /* Host bits cleared, bare addresses made hosts, each list in its family's set. */
        ASSERT_TRUE(strstr(buf, "set allow4 { type ipv4_addr; flags interval; auto-merge; elements = { "
                                "198.18.0.1/32 }; }") != NULL);
        ASSERT_TRUE(strstr(buf, "set allow6 { type ipv6_addr; flags interval; auto-merge; elements = { "
                                "2001:db8::/64 }; }") != NULL);
        ASSERT_TRUE(strstr(buf, "set deny4 { type ipv4_addr; flags interval; auto-merge; elements = { "
                                "203.0.0.0/16 }; }") != NULL);
        ASSERT_TRUE(strstr(buf, "set deny6 { type ipv6_addr; flags interval; auto-merge; }") != NULL);
        ASSERT_TRUE(strstr(buf, "127.0.0.1/32, 192.0.2.2/32 }") != NULL);
        ASSERT_TRUE(strstr(buf, "elements = { ::1/128 }") != NULL);
        /* The built-in list: private, loopback, link-local (metadata), ULA. */
        ASSERT_TRUE(strstr(buf, "10.0.0.0/8") && strstr(buf, "127.0.0.0/8") &&
                    strstr(buf, "169.254.0.0/16") && strstr(buf, "fc00::/7") && strstr(buf, "fe80::/10") &&
                    strstr(buf, "198.18.0.0/15"));
        /* First match decides: loopback of the box, host, operator deny, allow, built-in. */
        size_t lo = at(buf, "oif lo accept");
        size_t h = at(buf, "ip daddr @host4 reject");
        size_t d = at(buf, "ip daddr @deny4 reject");
        size_t a = at(buf, "ip daddr @allow4 accept");
        size_t b = at(buf, "ip daddr @builtin4 reject");
        ASSERT_TRUE(lo < h && h < d && d < a && a < b);
        ASSERT_TRUE(at(buf, "ip6 daddr @host6 reject") < at(buf, "ip6 daddr @allow6 accept"));
        ASSERT_TRUE(at(buf, "ip6 daddr @allow6 accept") < at(buf, "ip6 daddr @builtin6 reject"));

        /* No lists at all: still the built-in ones. */
        ASSERT_TRUE(net_ruleset(NULL, NULL, NULL, buf, sizeof buf) > 0);
        ASSERT_TRUE(strstr(buf, "set allow4 { type ipv4_addr; flags interval; auto-merge; }") != NULL);
        ASSERT_TRUE(strstr(buf, "10.0.0.0/8") != NULL);

        /* Too small a buffer fails, never truncates silently; a bad entry fails. */
        ASSERT_EQ(net_ruleset(allow, deny, host, buf, 64), -ENOBUFS);
        ASSERT_EQ(net_ruleset(allow, deny, host, buf, 0), -ENOBUFS);
        const char *bad[] = {"10.0.0.0/40", NULL};
        ASSERT_EQ(net_ruleset(bad, NULL, NULL, buf, sizeof buf), -EINVAL);
}

static void test_parse_list(void) {
        char err[256];
        char **l = NULL;

        ASSERT_EQ(box_net_parse_list("198.18.0.1/32, 10.0.0.0/8 2001:db8::/32,,", &l, err, sizeof err), 0);
        ASSERT_TRUE(l && strv_length(l) == 3);
        ASSERT_TRUE(strcmp(l[0], "198.18.0.1/32") == 0 && strcmp(l[1], "10.0.0.0/8") == 0 &&
                    strcmp(l[2], "2001:db8::/32") == 0);
        l = strv_free(l);

        l = (char **) -1;
        ASSERT_EQ(box_net_parse_list("", &l, err, sizeof err), 0);
        ASSERT_TRUE(l == NULL);
        ASSERT_EQ(box_net_parse_list(NULL, &l, err, sizeof err), 0);
        ASSERT_TRUE(l == NULL);

        char **untouched = (char **) -1;
        l = untouched;
        ASSERT_EQ(box_net_parse_list("10.0.0.0/8,10.0.0.0/33", &l, err, sizeof err), -EINVAL);
        ASSERT_TRUE(l == untouched);
        ASSERT_TRUE(strstr(err, "'10.0.0.0/33'") != NULL);
        ASSERT_EQ(box_net_parse_list("example.com", &l, err, sizeof err), -EINVAL);
        ASSERT_TRUE(strstr(err, "'example.com'") != NULL);
        char long_entry[200];
        memset(long_entry, '1', sizeof long_entry - 1);
        long_entry[sizeof long_entry - 1] = '\0';
        ASSERT_EQ(box_net_parse_list(long_entry, &l, err, sizeof err), -EINVAL);
        ASSERT_TRUE(l == untouched);
}

int main(void) {
        test_check_cidr();
        test_ruleset();
        test_parse_list();
        return 0;
}
