/* SPDX-License-Identifier: MIT */
/* secure/: known vectors (FIPS 180-2 SHA-256, RFC 4231 HMAC-SHA256, BLAKE2b from an
 * independent implementation), password hashes, tokens, constant-time comparisons. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "secure/secure.h"
#include "tests.h"

#define ASSERT_STREQ(a, b) \
        do { \
                const char *_a = (a), *_b = (b); \
                if (strcmp(_a, _b) != 0) { \
                        fprintf(stderr, "%s:%d: \"%s\" != \"%s\"\n", __FILE__, __LINE__, _a, _b); \
                        abort(); \
                } \
        } while (0)

static void sha256(void) {
        char hex[SECURE_HEX_SHA256];
        secure_sha256_hex("", 0, hex);
        ASSERT_STREQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        secure_sha256_hex("abc", 3, hex);
        ASSERT_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        static const char two_blocks[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        secure_sha256_hex(two_blocks, strlen(two_blocks), hex);
        ASSERT_STREQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void hmac(void) {
        /* RFC 4231 test cases 1, 2, 3, 4, 6 and 7 (5 is a truncated MAC) */
        uint8_t k0b[20], kaa20[20], kaa131[131], dd[50], cd[50], k25[25];
        memset(k0b, 0x0b, sizeof k0b);
        memset(kaa20, 0xaa, sizeof kaa20);
        memset(kaa131, 0xaa, sizeof kaa131);
        memset(dd, 0xdd, sizeof dd);
        memset(cd, 0xcd, sizeof cd);
        for (size_t i = 0; i < sizeof k25; i++)
                k25[i] = (uint8_t) (i + 1);
        static const char d6[] = "Test Using Larger Than Block-Size Key - Hash Key First";
        static const char d7[] =
                "This is a test using a larger than block-size key and a larger than block-size data. "
                "The key needs to be hashed before being used by the HMAC algorithm.";
        struct {
                const void *key;
                size_t key_len;
                const void *data;
                size_t len;
                const char *mac;
        } cases[] = {
                {k0b, sizeof k0b, "Hi There", 8,
                        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
                {"Jefe", 4, "what do ya want for nothing?", 28,
                        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
                {kaa20, sizeof kaa20, dd, sizeof dd,
                        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
                {k25, sizeof k25, cd, sizeof cd,
                        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
                {kaa131, sizeof kaa131, d6, strlen(d6),
                        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
                {kaa131, sizeof kaa131, d7, strlen(d7),
                        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char hex[SECURE_HEX_SHA256];
                secure_hmac_sha256_hex(cases[i].key, cases[i].key_len, cases[i].data, cases[i].len, hex);
                ASSERT_STREQ(hex, cases[i].mac);
        }
}

static void hex(void) {
        char out[9];
        ASSERT_EQ(secure_hex("\x00\x01\xab\xff", 4, out, sizeof out), 0);
        ASSERT_STREQ(out, "0001abff");
        /* one byte short of room: refused, not truncated */
        ASSERT_EQ(secure_hex("\x00\x01\xab\xff", 4, out, 8), -ENOBUFS);
        ASSERT_EQ(secure_hex("", 0, out, 1), 0);
        ASSERT_STREQ(out, "");
        ASSERT_EQ(secure_hex("", 0, out, 0), -ENOBUFS);
}

static void content_hash(void) {
        /* BLAKE2b, fed in pieces, equals the one-shot digest (vectors from Python's
         * hashlib.blake2b) */
        SecureHash h;
        uint8_t d[SECURE_HASH_MAX];
        char out[2 * SECURE_HASH_MAX + 1];
        ASSERT_EQ(secure_hash_init(&h, 32), 0);
        secure_hash_update(&h, "a", 1);
        secure_hash_update(&h, "", 0);
        secure_hash_update(&h, "bc", 2);
        ASSERT_EQ(secure_hash_final(&h, d, 32), 0);
        ASSERT_EQ(secure_hex(d, 32, out, sizeof out), 0);
        ASSERT_STREQ(out, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
        ASSERT_EQ(secure_hash_init(&h, SECURE_HASH_MAX), 0);
        ASSERT_EQ(secure_hash_final(&h, d, SECURE_HASH_MAX), 0);
        ASSERT_EQ(secure_hex(d, SECURE_HASH_MAX, out, sizeof out), 0);
        ASSERT_STREQ(out, "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
                          "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
        /* bad lengths are refused, never passed to libsodium (which would abort) */
        ASSERT_EQ(secure_hash_init(&h, SECURE_HASH_MIN - 1), -EINVAL);
        ASSERT_EQ(secure_hash_init(&h, SECURE_HASH_MAX + 1), -EINVAL);
        ASSERT_EQ(secure_hash_init(&h, 32), 0);
        ASSERT_EQ(secure_hash_final(&h, d, 33), -EINVAL);
        ASSERT_EQ(secure_hash_final(&h, d, 255), -EINVAL);
        ASSERT_EQ(secure_hash_final(&h, d, 32), 0);
        ASSERT_EQ(secure_hash_final(&h, d, 32), -EINVAL); /* finished already */
}

static void shorthash(void) {
        /* SipHash-2-4's paper, appendix A: key 00..0f, message 00..0e */
        uint8_t key[SECURE_SHORTHASH_KEY], msg[15];
        for (size_t i = 0; i < sizeof key; i++)
                key[i] = (uint8_t) i;
        for (size_t i = 0; i < sizeof msg; i++)
                msg[i] = (uint8_t) i;
        ASSERT_EQ(secure_shorthash(key, msg, sizeof msg), UINT64_C(0xa129ca6149be45e5));
        /* another key, another hash */
        key[0] ^= 1;
        ASSERT_TRUE(secure_shorthash(key, msg, sizeof msg) != UINT64_C(0xa129ca6149be45e5));
}

static bool urlsafe(const char *s) {
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == strlen(s);
}

static void tokens(void) {
        char a[64], b[64];
        ASSERT_EQ(secure_random_token("k_", a, sizeof a), 0);
        ASSERT_EQ(secure_random_token("k_", b, sizeof b), 0);
        ASSERT_EQ(strlen(a), 45u);
        ASSERT_TRUE(strncmp(a, "k_", 2) == 0 && urlsafe(a + 2));
        ASSERT_TRUE(strcmp(a, b) != 0);
        /* exactly enough room, and one byte less */
        ASSERT_EQ(secure_random_token("", a, 44), 0);
        ASSERT_EQ(strlen(a), 43u);
        ASSERT_TRUE(urlsafe(a));
        ASSERT_EQ(secure_random_token("k_", b, 45), -ENOBUFS);
        /* 1000 tokens: no repeat, and every character of the alphabet is used somewhere
         * (a constant or a narrow alphabet would fail) */
        static char seen[1000][44];
        bool used[128] = {0};
        for (size_t i = 0; i < 1000; i++) {
                ASSERT_EQ(secure_random_token("", seen[i], sizeof seen[i]), 0);
                ASSERT_TRUE(urlsafe(seen[i]));
                for (const char *c = seen[i]; *c; c++)
                        used[(unsigned char) *c] = true;
                for (size_t j = 0; j < i; j++)
                        ASSERT_TRUE(strcmp(seen[i], seen[j]) != 0);
        }
        size_t n_used = 0;
        for (size_t c = 0; c < 128; c++)
                n_used += used[c];
        ASSERT_EQ(n_used, 64u);
        /* random bytes: two draws differ */
        uint8_t r1[32], r2[32];
        secure_random(r1, sizeof r1);
        secure_random(r2, sizeof r2);
        ASSERT_TRUE(memcmp(r1, r2, sizeof r1) != 0);
}

static void compare(void) {
        ASSERT_TRUE(secure_equal("abcd", "abcd", 4));
        ASSERT_TRUE(!secure_equal("abcd", "abce", 4));
        ASSERT_TRUE(!secure_equal("xbcd", "abcd", 4));
        ASSERT_TRUE(secure_equal("abcd", "abce", 3)); /* n bytes only */
        ASSERT_TRUE(secure_equal("a", "b", 0));
        ASSERT_TRUE(secure_streq("k_secret", "k_secret"));
        ASSERT_TRUE(!secure_streq("k_secret", "k_secreT"));
        ASSERT_TRUE(!secure_streq("k_secret", "k_secret2")); /* a prefix is not equal */
        ASSERT_TRUE(!secure_streq("k_secret2", "k_secret"));
        ASSERT_TRUE(!secure_streq("", "a"));
        ASSERT_TRUE(secure_streq("", ""));
}

static void passwords(void) {
        char h[SECURE_PWHASH_MAX], h2[SECURE_PWHASH_MAX];
        ASSERT_EQ(secure_password_hash("correct horse", h), 0);
        ASSERT_TRUE(strncmp(h, "$argon2id$", 10) == 0);
        ASSERT_TRUE(secure_password_verify(h, "correct horse"));
        ASSERT_TRUE(!secure_password_verify(h, "correct horsE"));
        ASSERT_TRUE(!secure_password_verify(h, "correct hors"));
        ASSERT_TRUE(!secure_password_verify(h, ""));
        /* salted: the same password hashes differently, and both verify */
        ASSERT_EQ(secure_password_hash("correct horse", h2), 0);
        ASSERT_TRUE(strcmp(h, h2) != 0);
        ASSERT_TRUE(secure_password_verify(h2, "correct horse"));

        /* malformed hashes: false, never a crash */
        ASSERT_TRUE(!secure_password_verify("", "correct horse"));
        ASSERT_TRUE(!secure_password_verify("$argon2id$", "correct horse"));
        ASSERT_TRUE(!secure_password_verify("not a hash at all", "correct horse"));
        char cut[SECURE_PWHASH_MAX];
        memcpy(cut, h, sizeof cut);
        cut[strlen(cut) - 5] = '\0'; /* truncated */
        ASSERT_TRUE(!secure_password_verify(cut, "correct horse"));
        memcpy(cut, h, sizeof cut);
        char *m = strstr(cut, "m=");
        ASSERT_TRUE(m != NULL);
        m[2] = 'x'; /* a parameter that is not a number */
        ASSERT_TRUE(!secure_password_verify(cut, "correct horse"));
        /* a "hash" with no NUL within SECURE_PWHASH_MAX bytes is not read past */
        char longer[SECURE_PWHASH_MAX + 8];
        memset(longer, 'a', sizeof longer);
        memcpy(longer, h, strlen(h));
        longer[sizeof longer - 1] = '\0';
        ASSERT_TRUE(!secure_password_verify(longer, "correct horse"));

        /* the password's bounds */
        ASSERT_EQ(secure_password_hash("", h), -EINVAL);
        static char big[1026];
        memset(big, 'p', 1024);
        ASSERT_EQ(secure_password_hash(big, h), 0);
        ASSERT_TRUE(secure_password_verify(h, big));
        big[1024] = 'p';
        ASSERT_EQ(secure_password_hash(big, h2), -EINVAL);
        ASSERT_TRUE(!secure_password_verify(h, big));
}

int main(void) {
        ASSERT_EQ(secure_init(), 0);
        ASSERT_EQ(secure_init(), 0); /* idempotent */
        sha256();
        hmac();
        hex();
        content_hash();
        shorthash();
        tokens();
        compare();
        passwords();
        return 0;
}
