/* SPDX-License-Identifier: MIT */
#pragma once

/* Base64 (RFC 4648, standard alphabet, padded), the way Judge0 speaks it.
 *
 * Encoding is Ruby's Base64.encode64: a "\n" after every 60 output characters and one at
 * the end of a non-empty output ("aGk=\n"); nothing for empty input. Both official Judge0
 * clients strip those newlines, and so does our decoder.
 *
 * Decoding accepts any ASCII whitespace (space, \t, \n, \v, \f, \r) anywhere, so that
 * line-wrapped input works, and is strict otherwise: only the alphabet, '=' only as one
 * or two characters of padding at the very end, and a length (whitespace aside) that is a
 * multiple of 4. Judge0's decoder skips any invalid character and never fails, which turns
 * a client's mistake into garbage bytes; ours refuses (-EINVAL). The unused low bits of
 * the last character are ignored, as Python's and most decoders do. */

#include <stddef.h>

/* Length of encode64's output for len input bytes (newlines included, NUL excluded), or 0
 * when it would not fit in a size_t. */
size_t base64_encoded_size(size_t len);

/* Encode len bytes. On success *ret is a malloc'd NUL-terminated string the caller frees,
 * and *ret_len its length. -ENOMEM, or -EOVERFLOW for an input too large to encode. */
int base64_encode(const void *data, size_t len, char **ret, size_t *ret_len);

/* Decode len characters. On success *ret is malloc'd (one NUL byte beyond *ret_len, as a
 * convenience; the data may hold NULs) and owned by the caller; empty input gives an empty
 * buffer, not NULL. -EINVAL for input that is not base64, -ENOMEM. */
int base64_decode(const char *s, size_t len, char **ret, size_t *ret_len);
