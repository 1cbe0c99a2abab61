/* SPDX-License-Identifier: MIT */
#pragma once

/* Cryptography, from libsodium (included in this module only): random secrets, hashes
 * of keys, HMAC signatures of cookies and callbacks, argon2id password hashes, and the
 * content hash of the compile cache. Every function is thread-safe after secure_init(). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Call once before anything else (idempotent, thread-safe): -EIO when libsodium can't
 * start. */
int secure_init(void);

/* n random bytes. */
void secure_random(void *buf, size_t n);
/* A random secret as text: prefix (may be "") followed by 43 characters of URL-safe
 * base64 (256 bits, no padding). size >= strlen(prefix) + 44, else -ENOBUFS. */
int secure_random_token(const char *prefix, char *ret, size_t size);

/* Lowercase hex of n bytes into ret: size >= 2n + 1, else -ENOBUFS. */
int secure_hex(const void *bin, size_t n, char *ret, size_t size);

#define SECURE_HEX_SHA256 65 /* 64 hex digits + NUL */
/* Hex SHA-256 of data. */
void secure_sha256_hex(const void *data, size_t len, char ret[SECURE_HEX_SHA256]);
/* Hex HMAC-SHA256 of data with key. */
void secure_hmac_sha256_hex(
        const void *key, size_t key_len, const void *data, size_t len, char ret[SECURE_HEX_SHA256]);
/* Constant-time comparison of two n-byte buffers. */
bool secure_equal(const void *a, const void *b, size_t n);
/* Constant-time comparison of two strings (false when the lengths differ). */
bool secure_streq(const char *a, const char *b);

/* A content hash (BLAKE2b, unkeyed) fed piece by piece, e.g. the compile cache's keys.
 * Not for passwords (see below) nor for signatures (HMAC above). The state lives on the
 * caller's stack: it owns nothing. */
typedef struct SecureHash {
        _Alignas(64) unsigned char state[384];
        size_t out_len;
} SecureHash;
#define SECURE_HASH_MIN 16
#define SECURE_HASH_MAX 64
/* Start a hash of out_len bytes (SECURE_HASH_MIN..SECURE_HASH_MAX, else -EINVAL). */
int secure_hash_init(SecureHash *h, size_t out_len);
void secure_hash_update(SecureHash *h, const void *data, size_t len);
/* The digest: out_len is the one given to secure_hash_init() (else -EINVAL). */
int secure_hash_final(SecureHash *h, void *ret, size_t out_len);

/* A keyed 64-bit hash of short inputs (SipHash-2-4) for hash tables that hold keys an
 * attacker chooses (client addresses): with a random secret key, collisions can't be
 * planned. */
#define SECURE_SHORTHASH_KEY 16
uint64_t secure_shorthash(const uint8_t key[SECURE_SHORTHASH_KEY], const void *data, size_t len);

#define SECURE_PWHASH_MAX 128 /* an argon2id string, NUL included */
/* argon2id (libsodium's interactive limits) of password into ret. -EINVAL for an empty
 * password or one over 1024 bytes; -ENOMEM when the hash can't get its memory. */
int secure_password_hash(const char *password, char ret[SECURE_PWHASH_MAX]);
/* Whether password matches hash (false for a malformed hash). */
bool secure_password_verify(const char *hash, const char *password);
