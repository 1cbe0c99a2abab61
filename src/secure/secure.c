/* SPDX-License-Identifier: MIT */
/* Cryptography: the only file that includes libsodium (STYLE.md). */

#include <errno.h>
#include <sodium.h>
#include <stdalign.h>
#include <string.h>

#include "secure/secure.h"

/* The longest password hashed or checked: argon2id takes any length, but a request body
 * should not choose how long the server hashes. */
#define PASSWORD_MAX 1024
#define TOKEN_BYTES 32
#define TOKEN_CHARS 43 /* URL-safe base64 of 32 bytes, unpadded */

_Static_assert(sizeof(crypto_generichash_state) <= sizeof(((SecureHash *) 0)->state), "BLAKE2b state size");
_Static_assert(alignof(crypto_generichash_state) <= 64, "BLAKE2b state alignment");
_Static_assert(
        crypto_generichash_BYTES_MIN <= SECURE_HASH_MIN && SECURE_HASH_MAX <= crypto_generichash_BYTES_MAX,
        "BLAKE2b digest sizes");
_Static_assert(crypto_shorthash_siphash24_KEYBYTES == SECURE_SHORTHASH_KEY &&
                       crypto_shorthash_siphash24_BYTES == sizeof(uint64_t),
        "SipHash sizes");
_Static_assert(crypto_pwhash_argon2id_STRBYTES == SECURE_PWHASH_MAX, "argon2id string size");
_Static_assert(crypto_hash_sha256_BYTES * 2 + 1 == SECURE_HEX_SHA256, "SHA-256 size");
_Static_assert(
        sodium_base64_ENCODED_LEN(TOKEN_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == TOKEN_CHARS + 1,
        "token size");

int secure_init(void) {
        return sodium_init() < 0 ? -EIO : 0;
}

void secure_random(void *buf, size_t n) {
        randombytes_buf(buf, n);
}

int secure_random_token(const char *prefix, char *ret, size_t size) {
        size_t p = strlen(prefix);
        if (size < p + TOKEN_CHARS + 1)
                return -ENOBUFS;
        unsigned char raw[TOKEN_BYTES];
        randombytes_buf(raw, sizeof raw);
        memcpy(ret, prefix, p);
        sodium_bin2base64(ret + p, size - p, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        sodium_memzero(raw, sizeof raw);
        return 0;
}

int secure_hex(const void *bin, size_t n, char *ret, size_t size) {
        if (n > (SIZE_MAX - 1) / 2 || size < n * 2 + 1)
                return -ENOBUFS;
        sodium_bin2hex(ret, size, bin, n);
        return 0;
}

void secure_sha256_hex(const void *data, size_t len, char ret[SECURE_HEX_SHA256]) {
        unsigned char h[crypto_hash_sha256_BYTES];
        crypto_hash_sha256(h, data, len);
        sodium_bin2hex(ret, SECURE_HEX_SHA256, h, sizeof h);
}

void secure_hmac_sha256_hex(
        const void *key, size_t key_len, const void *data, size_t len, char ret[SECURE_HEX_SHA256]) {
        /* the init/update/final form takes a key of any length (RFC 2104: a long one is
         * hashed first); crypto_auth_hmacsha256() takes 32 bytes only */
        unsigned char mac[crypto_auth_hmacsha256_BYTES];
        crypto_auth_hmacsha256_state st;
        crypto_auth_hmacsha256_init(&st, key, key_len);
        crypto_auth_hmacsha256_update(&st, data, len);
        crypto_auth_hmacsha256_final(&st, mac);
        sodium_memzero(&st, sizeof st);
        sodium_bin2hex(ret, SECURE_HEX_SHA256, mac, sizeof mac);
}

bool secure_equal(const void *a, const void *b, size_t n) {
        return sodium_memcmp(a, b, n) == 0;
}

bool secure_streq(const char *a, const char *b) {
        size_t n = strlen(a);
        /* the length is not a secret (it is the same for every key of a kind) */
        if (strlen(b) != n)
                return false;
        return sodium_memcmp(a, b, n) == 0;
}

int secure_hash_init(SecureHash *h, size_t out_len) {
        if (out_len < SECURE_HASH_MIN || out_len > SECURE_HASH_MAX)
                return -EINVAL;
        if (crypto_generichash_init((crypto_generichash_state *) h->state, NULL, 0, out_len) < 0)
                return -EINVAL;
        h->out_len = out_len;
        return 0;
}

void secure_hash_update(SecureHash *h, const void *data, size_t len) {
        crypto_generichash_update((crypto_generichash_state *) h->state, data, len);
}

int secure_hash_final(SecureHash *h, void *ret, size_t out_len) {
        /* libsodium aborts on a length it does not expect: check it here */
        if (out_len != h->out_len || out_len < SECURE_HASH_MIN || out_len > SECURE_HASH_MAX)
                return -EINVAL;
        int r = crypto_generichash_final((crypto_generichash_state *) h->state, ret, out_len);
        h->out_len = 0; /* finished: a second final is -EINVAL */
        return r < 0 ? -EINVAL : 0;
}

uint64_t secure_shorthash(const uint8_t key[SECURE_SHORTHASH_KEY], const void *data, size_t len) {
        unsigned char out[crypto_shorthash_siphash24_BYTES];
        crypto_shorthash_siphash24(out, data, len, key);
        uint64_t h = 0; /* the digest read little-endian, as SipHash's paper does */
        for (size_t i = sizeof out; i > 0; i--)
                h = h << 8 | out[i - 1];
        return h;
}

int secure_password_hash(const char *password, char ret[SECURE_PWHASH_MAX]) {
        size_t n = strnlen(password, PASSWORD_MAX + 1);
        if (n == 0 || n > PASSWORD_MAX)
                return -EINVAL;
        if (crypto_pwhash_argon2id_str(ret, password, n, crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE,
                    crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE) < 0)
                return -ENOMEM;
        return 0;
}

bool secure_password_verify(const char *hash, const char *password) {
        /* both come from outside (a stored record, a request): bounded before libsodium
         * reads them */
        if (strnlen(hash, SECURE_PWHASH_MAX) == SECURE_PWHASH_MAX)
                return false;
        size_t n = strnlen(password, PASSWORD_MAX + 1);
        if (n == 0 || n > PASSWORD_MAX)
                return false;
        return crypto_pwhash_argon2id_str_verify(hash, password, n) == 0;
}
