/* SPDX-License-Identifier: MIT */
#pragma once

/* Base64 (RFC 4648, standard alphabet), the way Judge0 speaks it.
 *
 * Encoding is Ruby's Base64.encode64: a "\n" after every 60 output characters and one at
 * the end of a non-empty output ("aGk=\n"); nothing for empty input. Both official Judge0
 * clients strip those newlines, and so does our decoder.
 *
 * Decoding is Ruby's Base64.decode64 (String#unpack1("m"), what Judge0 decodes with)
 * wherever Ruby keeps every character that carries data, and refuses (-EINVAL) where Ruby
 * would silently drop some. Ruby reads groups of four alphabet characters and skips every
 * other byte; a '=' in the third or fourth place of a group ends the decoding, a '=' in
 * the first or second place is skipped; a last group of two or three characters gives one
 * or two bytes, a last lone character gives nothing. So, as Ruby: padding is optional
 * ("aGk" is "hi"), may be short or long ("aA=", "aGk=="), and ASCII whitespace (space,
 * \t, \n, \v, \f, \r) may be anywhere; the unused low bits of the last character are
 * ignored. Refused, where Ruby decodes something other than what was sent:
 *   - a character outside the alphabet, whitespace and '=' (Ruby skips it: text sent
 *     without encoding it, the URL-safe alphabet's '-' and '_', a NUL);
 *   - an alphabet character after the '=' that ends the data (Ruby stops there: "aGk=aGk="
 *     would lose its second half);
 *   - a lone last character (its 6 bits make no byte; Ruby drops it: "aGkAx"). */

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
