/* SPDX-License-Identifier: MIT */
#pragma once

/* Configuration from one schema table: each key has a type, a default and a place in the
 * caller's struct; values come from the defaults, then a configuration file (--config=FILE,
 * else $CODERUNNER_CONFIG), then CODERUNNER_<KEY> environment variables, then --key=value
 * flags (key "max_queue_size" is max_queue_size or max-queue-size in the file,
 * --max-queue-size and CODERUNNER_MAX_QUEUE_SIZE). Strings are malloc'd into the struct:
 * conf_done() frees them.
 *
 * The file: "key = value" lines (blanks around the key and the value are dropped; the
 * value is the rest of the line, '#' included), blank lines, and comment lines whose first
 * non-blank character is '#'. A key given twice keeps its last value. At most 1 MiB. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum ConfType {
        CONF_STRING, /* char * */
        CONF_U64, /* uint64_t, at most max */
        CONF_BOOL, /* bool: true/false, yes/no, 1/0, on/off */
        CONF_SECONDS, /* uint64_t microseconds, written as seconds ("1.5"), at most max */
} ConfType;

typedef struct ConfKey {
        const char *name;
        ConfType type;
        size_t offset;
        const char *def; /* the default, as text ("" for an empty string) */
        uint64_t max; /* CONF_U64, CONF_SECONDS: 0 = UINT64_MAX */
        const char *help;
        bool secret; /* shown as "(set)" by conf_print() */
} ConfKey;

/* Load defaults, the file, environment and flags. argv[0] is skipped; a flag that is not
 * a key (nor --config=FILE, nor in extra_flags, NULL-terminated, e.g. "--print-config") is
 * an error. A bool flag may be given without a value. -EINVAL with a one-line reason in
 * errbuf (for the file: "FILE:LINE: reason"); -ENOMEM. */
int conf_load(const ConfKey *keys, size_t n, void *cfg, int argc, char **argv,
        const char *const *extra_flags, char *errbuf, size_t errlen);
/* Apply one configuration file on top of cfg (what conf_load() does with --config).
 * -EINVAL with "FILE:LINE: reason" (or "cannot read FILE: reason") in errbuf; -ENOMEM.
 * Keys before a bad line stay applied. */
int conf_load_file(const ConfKey *keys, size_t n, void *cfg, const char *path, char *errbuf, size_t errlen);
void conf_done(const ConfKey *keys, size_t n, void *cfg);
/* KEY=value lines, in the table's order. */
void conf_print(const ConfKey *keys, size_t n, const void *cfg, FILE *f);
/* --flag=TYPE  help, one per key. */
void conf_usage(const ConfKey *keys, size_t n, FILE *f);

/* A module's section of a program's configuration: its keys, whose offsets are within the
 * section's struct, and where that struct sits in the program's configuration. */
typedef struct ConfSection {
        const ConfKey *keys;
        size_t n;
        size_t offset; /* of the section's struct in the program's */
} ConfSection;

/* One table of the sections' keys, offsets made relative to the program's struct, in the
 * sections' order: what conf_load() and the others take. -EEXIST when two sections name
 * the same key. *ret is the caller's (free()). */
int conf_compose(const ConfSection *sections, size_t n_sections, ConfKey **ret, size_t *ret_n);
