/* SPDX-License-Identifier: MIT */
#pragma once

/* Judge0 CE 1.13.1's own language list (ids, names, source file names), as its API shows
 * it: what `GET /languages/all` and `GET /languages/:id` show for an id the catalogue
 * (languages/) does not have. Judge0's commands are not repeated: such an entry has
 * compile_cmd and run_cmd null. */

#include <stdbool.h>
#include <stddef.h>

typedef struct Judge0CeLanguage {
        int id;
        const char *name;
        bool is_archived; /* archived in Judge0 CE itself */
        const char *source_file;
} Judge0CeLanguage;

/* Ordered by id, each id once: ids 1 to 89. */
extern const Judge0CeLanguage judge0_ce_languages[];
extern const size_t judge0_ce_n_languages;

/* The id whose toolchain serves id when id is an alias, else 0. Judge0 CE 1.13.1 has
 * several active versions of one compiler that clients hard-code (the Python SDK's
 * judge0.C is 48, judge0.CPP 52): C (GCC 7.4.0) 48 and C (GCC 8.3.0) 49 are served by the
 * catalogue's C (GCC) 50, C++ (GCC 7.4.0) 52 and 8.3.0 53 by its C++ (GCC) 54. */
int judge0_ce_alias_of(int id);
