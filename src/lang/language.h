/* SPDX-License-Identifier: MIT */
#pragma once

/* The language catalogue: languages are data (languages/<slug>/language.conf), not code.
 *
 * A language.conf is "key = value" lines, both sides trimmed of blanks; a line whose first
 * non-blank character is '#' is a comment; blank lines are ignored; each key once, except
 * bind and env. Keys (id, name, version, version_pattern required; source and run too,
 * except for id 89, Judge0's "Multi-file program", whose scripts come in the zip):
 *   id        Judge0 CE id for the same language (new languages: ids Judge0 CE does not use)
 *   name      display name; "{version}" is replaced by the detected version,
 *             e.g. "Python ({version})" -> "Python (3.11.2)"
 *   source    source file name in /box, e.g. script.py, Main.java (a name, not a path)
 *   compile   optional shell command line run in /box by /bin/sh -c; "%s" is replaced by
 *             the submission's compiler_options (empty when none)
 *   run       shell command line run in /box; the submission's command_line_arguments
 *             are appended after a space
 *   version   command line printing the toolchain's version (run on the host, no shell)
 *   version_pattern  where the version is in that output (stdout and stderr): the text
 *             after the first occurrence of this prefix, blanks skipped (the value is
 *             trimmed, so "Python" works for "Python 3.11.2"), up to the next whitespace
 *             or one of ( ) [ ] , ; " '  -- e.g. 'version "' for 'openjdk version "17.0.2"'
 *   test      a program next to language.conf that must print "OK" (a file name)
 *   packages  Debian packages that provide the toolchain (make languages)
 *   bind      extra host path bound read-only (repeatable, at most LANG_MAX_BINDS; absolute)
 *   env       extra VAR=VALUE for compile and run (repeatable, at most LANG_MAX_ENV)
 *   In compile, run and env values, "{memory_kib}" and "{memory_mib}" are replaced by the
 *   stage's memory limit (after the language's minimums; no limit reads as the host's
 *   memory), for runtimes that size themselves (the JVM's heap, Go's GC goal).
 *   compile_processes, compile_memory_kib, run_processes_min, run_memory_kib_min,
 *   run_fsize_kib_min (a runtime that maps its code through a large in-memory file, like
 *             Erlang's JIT, needs a file size limit above Judge0's 1024 KiB default)
 *             limits the toolchain needs whatever the submission asks (JVM threads...)
 * Every flag in compile/run has a comment in the file saying why it is there. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LANG_MAX_BINDS 8
#define LANG_MAX_ENV 16
#define LANG_MAX_CONF_SIZE (64 * 1024) /* bytes of one language.conf */
#define LANG_MAX_LANGUAGES 1024 /* subdirectories of a catalogue */
#define LANG_MAX_VERSION_OUTPUT (64 * 1024) /* bytes of a version command's output kept */
#define LANG_DETECT_TIMEOUT_USEC UINT64_C(10000000) /* wall time of each version command */

typedef struct Language {
        int id;
        char *slug; /* directory name */
        char *name_template; /* with {version} */
        char *name; /* resolved, e.g. "Python (3.11.2)"; NULL until detected */
        char *version; /* detected version string, NULL when not installed */
        char *source_file;
        char *compile_cmd; /* NULL for interpreted languages */
        char *run_cmd;
        char *version_cmd;
        char *version_pattern;
        char *test_file; /* absolute path of the test program */
        char *packages;
        char *binds[LANG_MAX_BINDS];
        size_t n_binds;
        char *env[LANG_MAX_ENV];
        size_t n_env;
        uint32_t compile_processes;
        uint64_t compile_memory_kib;
        uint32_t run_processes_min;
        uint64_t run_memory_kib_min;
        uint64_t run_fsize_kib_min;
        bool is_project; /* Judge0's 89 "Multi-file program": compile/run scripts in the zip */
        bool installed;
} Language;

typedef struct Catalogue {
        Language *langs;
        size_t n;
} Catalogue;

/* The catalogue to use when none is given: $CODERUNNER_LANGUAGES when set and not empty,
 * else the source tree's languages/ directory as configured at build time. Static string. */
const char *catalogue_default_dir(void);

/* Load every <slug>/language.conf under dir (subdirectories without one, and hidden ones,
 * are skipped), sorted by id. A malformed file, a slug that is not [A-Za-z0-9._+-]+ or only
 * digits, or an id used twice is an error that names the file, the line and the reason
 * (written to errbuf, e.g. "languages/python3/language.conf:4: unknown key 'rn'").
 * On success *ret owns everything: free with catalogue_done(). Nothing is detected yet. */
int catalogue_load(const char *dir, Catalogue *ret, char *errbuf, size_t errlen);

/* Parse one language.conf's text (for tests and fuzzing). dir is the directory of the file
 * (test is resolved next to it, made absolute from the working directory when relative);
 * messages name "<dir>/language.conf". On success *ret owns its strings (language_done()). */
int language_parse(
        const char *text, const char *slug, const char *dir, Language *ret, char *errbuf, size_t errlen);

/* Run each language's version command (all in parallel, each bounded by
 * LANG_DETECT_TIMEOUT_USEC of wall time, killed with its process group when overdue, or
 * 250 ms after it exited if what it started still holds its output; no shell: argv is
 * split on blanks, argv[0] looked up in $PATH) and mark what is installed: the command
 * exited 0 or printed the pattern, and a version was found. Sets version and name
 * (replacing earlier answers); a command that cannot be started is "not installed". */
void catalogue_detect(Catalogue *c);
/* The same with another wall-time bound for each command (tests). */
void catalogue_detect_timeout(Catalogue *c, uint64_t timeout_usec);

const Language *catalogue_find_id(const Catalogue *c, int id);
/* By id ("71"), slug ("python3"), or a file name or extension ("main.c", ".py") for
 * `coderunner run`. By file name: the extension of source_file, case-sensitive; among
 * several, an installed one first (once detected), then the lowest id (.c: GCC's 50 before
 * Clang's 75). The result points into c. */
const Language *catalogue_find(const Catalogue *c, const char *what);
const Language *catalogue_guess_by_filename(const Catalogue *c, const char *filename);

/* name_template with every "{version}" replaced by version (e.g. "?" for a language that
 * is not installed). Returns a malloc'd string, or NULL when out of memory. */
char *language_name_resolve(const char *template, const char *version);

#define LIMIT_PLACEHOLDER_PREFIX "{memory_"

/* cmd (a compile or run command line or an env VAR=VALUE of the catalogue) with
 * "{memory_kib}" and "{memory_mib}" replaced by memory_kib (0, no limit: the host's
 * physical memory, what the program would see anyway). NULL when out of memory. */
char *language_expand_limits(const char *cmd, uint64_t memory_kib);

void language_done(Language *l);
void catalogue_done(Catalogue *c);
