/* SPDX-License-Identifier: MIT */
/* Piston v2: GET /api/v2/runtimes and POST /api/v2/execute (engineer-man/piston's API),
 * over the same machinery as Judge0's POST /submissions?wait=true: an execution is a
 * stored submission, queued, judged by a worker and answered when its result is
 * published, in Piston's shape instead of Judge0's. docs/API.md says what differs.
 *
 * The runtimes are the languages the live workers serve (api_languages()); each gets
 * Piston's name and aliases from the table below (by catalogue slug; an unlisted slug is
 * its own name, without aliases), and its version from the advertised name ("C (GCC
 * 12.2.0)" -> "12.2.0"). */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api-internal.h"
#include "base/macro.h"
#include "base/zip-writer.h"
#include "json/piston.h"
#include "model/status.h"

#define PISTON_VERSION_MAX API_PISTON_VERSION_MAX
#define PISTON_MAX_ARGS_LEN 512 /* the judge's bound on command_line_arguments */
#define PISTON_MIN_MEMORY_KIB UINT64_C(2048) /* Judge0's minimum memory_limit */

/* Piston's names for our catalogue's languages (its packages' language and aliases). */
typedef struct PistonName {
        const char *slug;
        const char *language;
        const char *runtime; /* NULL: none, as most Piston packages */
        const char *const aliases[8];
} PistonName;

static const PistonName piston_names[] = {
        {"assembly", "nasm", NULL, {"asm", "nasm64"}},
        {"bash", "bash", NULL, {"sh"}},
        {"c-clang", "c", "clang", {"clang"}},
        {"c-gcc", "c", "gcc", {"gcc"}},
        {"clojure", "clojure", NULL, {"clj"}},
        {"cobol", "cobol", NULL, {"cob"}},
        {"common-lisp", "lisp", NULL, {"cl", "sbcl", "commonlisp"}},
        {"cpp-clang", "c++", "clang", {"clang++"}},
        {"cpp-gcc", "c++", "gcc", {"cpp", "g++"}},
        {"csharp", "csharp", "mono", {"mono", "mono-csharp", "mono-c#", "mono-cs", "c#", "cs"}},
        {"d", "d", "gcc", {"gdc"}},
        {"elixir", "elixir", NULL, {"exs"}},
        {"erlang", "erlang", NULL, {"erl", "escript"}},
        {"fortran", "fortran", "gcc", {"f90", "gfortran"}},
        {"go", "go", NULL, {"golang"}},
        {"groovy", "groovy", NULL, {"gvy"}},
        {"haskell", "haskell", NULL, {"hs"}},
        {"javascript", "javascript", "node", {"node-javascript", "node-js", "js"}},
        {"kotlin", "kotlin", NULL, {"kt"}},
        {"ocaml", "ocaml", NULL, {"ml"}},
        {"octave", "octave", NULL, {"matlab", "m"}},
        {"pascal", "pascal", NULL, {"freepascal", "pp", "pas"}},
        {"perl", "perl", NULL, {"pl"}},
        {"prolog", "prolog", NULL, {"plg"}},
        {"python3", "python", NULL, {"py", "py3", "python3"}},
        {"r", "rscript", NULL, {"r"}},
        {"ruby", "ruby", NULL, {"ruby3", "rb"}},
        {"rust", "rust", NULL, {"rs"}},
        {"scala", "scala", NULL, {"sc"}},
        {"sqlite", "sqlite3", NULL, {"sqlite", "sql"}},
        {"typescript", "typescript", NULL, {"ts", "node-ts", "tsc"}},
};

/* One runtime: a served language of the catalogue. */
typedef struct Runtime {
        PistonRuntime pub;
        char version[PISTON_VERSION_MAX];
        long long parts[3]; /* the version's leading numbers, missing ones 0 */
        const Judge0Language *lang;
} Runtime;

static const PistonName *name_of(const char *slug) {
        for (size_t i = 0; i < ELEMENTSOF(piston_names); i++)
                if (strcmp(piston_names[i].slug, slug) == 0)
                        return &piston_names[i];
        return NULL;
}

/* Up to three dot-separated numbers at the start of s ("12.2.0", "2.2.9.debian", "17"):
 * how many were read. */
static int version_parts(const char *s, long long parts[3]) {
        int n = 0;
        parts[0] = parts[1] = parts[2] = 0;
        while (n < 3 && *s >= '0' && *s <= '9') {
                long long v = 0;
                for (; *s >= '0' && *s <= '9'; s++)
                        v = v < 100000000 ? v * 10 + (*s - '0') : v;
                parts[n++] = v;
                if (*s != '.')
                        break;
                s++;
        }
        return n;
}

/* The version in an advertised name: the last word inside its last parentheses ("C (GCC
 * 12.2.0)" -> "12.2.0", "Python (3.11.2)" -> "3.11.2"); "0.0.0" when there is none. */
static void version_of(const char *name, char buf[PISTON_VERSION_MAX]) {
        const char *open = strrchr(name, '(');
        const char *close = open ? strchr(open, ')') : NULL;
        snprintf(buf, PISTON_VERSION_MAX, "0.0.0");
        if (!open || !close)
                return;
        const char *start = close;
        while (start > open + 1 && start[-1] != ' ')
                start--;
        if (close > start)
                snprintf(buf, PISTON_VERSION_MAX, "%.*s", (int) (close - start), start);
}

/* The served runtimes, in catalogue order. Multi-file programs (scripts in a zip) have no
 * Piston form and are left out. */
static int runtimes_list(Api *a, Runtime **ret, size_t *ret_n) {
        const LanguageView *v = api_languages(a);
        Runtime *rts = calloc(v->n ? v->n : 1, sizeof *rts);
        if (!rts)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < v->n; i++) {
                const Judge0Language *l = &v->langs[i];
                const Language *cl = catalogue_find_id(a->catalogue, l->id);
                if (l->is_archived || l->is_project || !cl || !l->name)
                        continue;
                Runtime *rt = &rts[n++];
                const PistonName *pn = name_of(cl->slug);
                rt->lang = l;
                version_of(l->name, rt->version);
                version_parts(rt->version, rt->parts);
                rt->pub = (PistonRuntime){
                        .language = pn ? pn->language : cl->slug,
                        .version = rt->version,
                        .aliases = pn ? pn->aliases : NULL,
                        .runtime = pn ? pn->runtime : NULL,
                };
        }
        *ret = rts;
        *ret_n = n;
        return 0;
}

/* A partial version of a selector: up to three numbers, "x", "X" or "*" for the rest
 * ("3", "3.11", "3.x", "*"): n is how many numbers were given. */
typedef struct Partial {
        long long v[3];
        int n;
} Partial;

static bool parse_partial(const char *p, Partial *ret) {
        *ret = (Partial){};
        if (*p == 'v')
                p++;
        for (int i = 0; i < 3; i++) {
                if ((p[0] == '*' || p[0] == 'x' || p[0] == 'X') && p[1] == '\0')
                        return true;
                if ((p[0] == '*' || p[0] == 'x' || p[0] == 'X') && p[1] == '.') {
                        p += 2;
                        continue; /* "3.x.x": the rest must be wildcards too */
                }
                if (*p < '0' || *p > '9' || i > ret->n)
                        return false;
                long long v = 0;
                for (; *p >= '0' && *p <= '9'; p++)
                        v = v < 100000000 ? v * 10 + (*p - '0') : v;
                ret->v[ret->n++] = v;
                if (*p == '\0')
                        return true;
                if (*p != '.')
                        return false;
                p++;
        }
        return false;
}

static bool streq(const char *a, const char *b) {
        return strcmp(a, b) == 0;
}

/* The version against the first k numbers of the selector (missing ones 0): <0, 0, >0. */
static int cmp_prefix(const long long version[3], const Partial *sel, int k) {
        for (int i = 0; i < k; i++)
                if (version[i] != sel->v[i])
                        return version[i] < sel->v[i] ? -1 : 1;
        return 0;
}

/* Piston's selection (node-semver's satisfies) for one comparator: a version or a partial
 * one ("3", "3.11.x", "*"), optionally after =, ^, ~, >=, >, <= or <; also the exact text
 * of a version that is not semver ("2.2.9.debian"). Compound ranges (spaces, ||, hyphens)
 * match nothing. */
static bool version_matches(const Runtime *rt, const char *want) {
        if (strcmp(want, rt->version) == 0)
                return true;
        static const char *const ops[] = {">=", "<=", ">", "<", "=", "^", "~"};
        const char *op = "";
        for (size_t i = 0; i < ELEMENTSOF(ops); i++)
                if (strncmp(want, ops[i], strlen(ops[i])) == 0) {
                        op = ops[i];
                        want += strlen(ops[i]);
                        break;
                }
        Partial sel;
        if (!parse_partial(want, &sel))
                return false;
        const long long *v = rt->parts;
        int n = sel.n;
        if (streq(op, "") || streq(op, "="))
                return cmp_prefix(v, &sel, n) == 0;
        if (streq(op, ">="))
                return cmp_prefix(v, &sel, 3) >= 0;
        if (streq(op, ">"))
                return n > 0 && cmp_prefix(v, &sel, n) > 0;
        if (streq(op, "<"))
                return cmp_prefix(v, &sel, 3) < 0;
        if (streq(op, "<="))
                return cmp_prefix(v, &sel, n) <= 0;
        if (streq(op, "~")) /* the minor fixed when given, else the major */
                return cmp_prefix(v, &sel, 3) >= 0 && cmp_prefix(v, &sel, n < 2 ? n : 2) == 0;
        /* ^: everything up to the first non-zero number given is fixed */
        int k = 0;
        while (k < n - 1 && sel.v[k] == 0)
                k++;
        return cmp_prefix(v, &sel, 3) >= 0 && cmp_prefix(v, &sel, n ? k + 1 : 0) == 0;
}

static bool language_matches(const Runtime *rt, const char *want) {
        if (strcmp(rt->pub.language, want) == 0)
                return true;
        for (const char *const *al = rt->pub.aliases; al && *al; al++)
                if (strcmp(*al, want) == 0)
                        return true;
        return false;
}

static int version_cmp(const Runtime *x, const Runtime *y) {
        for (int i = 0; i < 3; i++)
                if (x->parts[i] != y->parts[i])
                        return x->parts[i] < y->parts[i] ? -1 : 1;
        return 0;
}

/* The newest matching runtime (the first in catalogue order among equals), or NULL. */
static const Runtime *runtime_find(const Runtime *rts, size_t n, const char *language, const char *version) {
        const Runtime *best = NULL;
        for (size_t i = 0; i < n; i++)
                if (language_matches(&rts[i], language) && version_matches(&rts[i], version) &&
                        (!best || version_cmp(&rts[i], best) > 0))
                        best = &rts[i];
        return best;
}

static void reply_message(HttpRequest *req, unsigned status, const char *message) {
        char *json = NULL;
        if (piston_message_encode(message, &json) < 0)
                http_reply(req, 500, NULL, NULL, 0);
        else
                http_reply_json(req, status, json);
}

void api_piston_runtimes(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, false))
                return;
        _cleanup_free_ Runtime *rts = NULL;
        size_t n = 0;
        int r = runtimes_list(a, &rts, &n);
        _cleanup_free_ PistonRuntime *pub = r >= 0 ? calloc(n ? n : 1, sizeof *pub) : NULL;
        char *json = NULL;
        if (r >= 0 && !pub)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n; i++)
                pub[i] = rts[i].pub;
        if (r >= 0)
                r = piston_runtimes_encode(pub, n, &json);
        if (r < 0)
                api_reply_internal(req, r);
        else
                http_reply_json(req, 200, json);
}

/* ---- the answer ---- */

/* What the answer needs besides the stored submission (owned by the waiter). */
typedef struct PistonWait {
        const char *language; /* static, or the catalogue's (both outlive the Api's requests) */
        char version[PISTON_VERSION_MAX];
        bool compiled;
} PistonWait;

/* Piston's two-letter status of a final Judge0 status (NULL for a run that exited 0). */
static const char *status_code(const Submission *s) {
        switch (s->status_id) {
        case STATUS_ACCEPTED:
        case STATUS_WRONG_ANSWER:
                return NULL;
        case STATUS_TIME_LIMIT:
                return "TO";
        case STATUS_SIGSEGV:
        case STATUS_SIGXFSZ:
        case STATUS_SIGFPE:
        case STATUS_SIGABRT:
                return "SG";
        case STATUS_RUNTIME_OTHER:
                return s->exit_signal > 0 ? "SG" : "RE";
        case STATUS_INTERNAL_ERROR:
                return "XX";
        default: /* NZEC, Exec Format Error */
                return "RE";
        }
}

const char *api_signal_name(int sig, char buf[static 16]) {
        const char *abbrev = sig > 0 ? sigabbrev_np(sig) : NULL;
        if (!abbrev)
                return NULL;
        snprintf(buf, 16, "SIG%s", abbrev);
        return buf;
}

static int64_t ms(int64_t usec) {
        return usec < 0 ? -1 : usec / 1000;
}

static Bytes nonempty(const Bytes *b) {
        return b->data && b->len ? *b : (Bytes){};
}

static void reply_piston(Api *a, HttpRequest *req, int r, const Submission *sub, void *data) {
        const PistonWait *w = data;
        if (r < 0) {
                char buf[128];
                snprintf(buf, sizeof buf, "internal error: %s", strerror(-r));
                reply_message(req, 500, buf);
                return;
        }
        if (!status_is_final(sub->status_id)) {
                /* the store's trouble when that is why (api.c explains it), else the time */
                reply_message(req, 504,
                        sub->message.data ? sub->message.data
                                          : "the execution did not finish in time (wait_timeout)");
                return;
        }
        char sigbuf[16], exitbuf[64];
        PistonStage compile = {.code = 0, .cpu_time_ms = -1, .wall_time_ms = -1, .memory_bytes = -1};
        PistonStage run = compile;
        compile.stderr_data = nonempty(&sub->compile_output);
        if (sub->status_id == STATUS_COMPILATION_ERROR) {
                compile.code = sub->exit_code > 0 ? sub->exit_code : 1;
                compile.status = "RE";
                compile.message = nonempty(&sub->message).data;
                if (!compile.message) {
                        snprintf(exitbuf, sizeof exitbuf, "Exited with error status %d", compile.code);
                        compile.message = exitbuf;
                }
                run = compile; /* Piston answers a failed compilation with run = compile */
        } else {
                bool signaled = sub->exit_signal > 0 || sub->status_id == STATUS_TIME_LIMIT;
                run = (PistonStage){
                        .stdout_data = nonempty(&sub->stdout_data),
                        .stderr_data = nonempty(&sub->stderr_data),
                        .code = signaled              ? -1
                                : sub->exit_code >= 0 ? sub->exit_code
                                                      : 0,
                        .signal = sub->status_id == STATUS_TIME_LIMIT
                                          ? "SIGKILL"
                                          : api_signal_name(sub->exit_signal, sigbuf),
                        .message = nonempty(&sub->message).data,
                        .status = status_code(sub),
                        .cpu_time_ms = ms(sub->time_usec),
                        .wall_time_ms = ms(sub->wall_time_usec),
                        .memory_bytes = sub->memory_kib < 0 ? -1 : sub->memory_kib * 1024,
                };
                if (sub->status_id == STATUS_INTERNAL_ERROR)
                        run.code = -1;
        }
        PistonResult res = {
                .language = w->language,
                .version = w->version,
                .compile = w->compiled && sub->status_id != STATUS_INTERNAL_ERROR ? &compile : NULL,
                .run = &run,
        };
        char *json = NULL;
        r = piston_result_encode(&res, &json);
        if (r < 0)
                api_reply_internal(req, r);
        else
                http_reply_json(req, 200, json);
}

/* ---- the request into a submission ---- */

/* The arguments as the shell line the judge appends to the run command: each one in
 * single quotes. The judge removes $&;<>|` from it (as Judge0 does), so an argument with
 * one of them is refused rather than changed. */
static int quote_args(const PistonJob *j, Bytes *ret, char *msg, size_t msglen) {
        size_t len = 0;
        for (size_t i = 0; i < j->n_args; i++) {
                if (strpbrk(j->args[i], "$&;<>|`")) {
                        snprintf(msg, msglen, "args[%zu] holds one of $&;<>|` which this server cannot pass",
                                i);
                        return -EINVAL;
                }
                for (const char *p = j->args[i]; *p; p++)
                        len += *p == '\'' ? 4 : 1;
                len += i ? 3 : 2; /* the quotes, and a space before all but the first */
        }
        if (len > PISTON_MAX_ARGS_LEN) {
                snprintf(msg, msglen, "args are too long (at most %d bytes once quoted)",
                        PISTON_MAX_ARGS_LEN);
                return -EINVAL;
        }
        char *out = malloc(len + 1), *o = out;
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < j->n_args; i++) {
                if (i)
                        *o++ = ' ';
                *o++ = '\'';
                for (const char *p = j->args[i]; *p; p++) {
                        if (*p == '\'') {
                                memcpy(o, "'\\''", 4);
                                o += 4;
                        } else
                                *o++ = *p;
                }
                *o++ = '\'';
        }
        *o = '\0';
        *ret = (Bytes){out, (size_t) (o - out)};
        return 0;
}

/* The configured maxima in Piston's units (bytes, milliseconds). */
static void maxima_of(const Judge0Rules *rules, int64_t ret[_PISTON_LIMIT_MAX]) {
        ret[PISTON_COMPILE_MEMORY_LIMIT] = ret[PISTON_RUN_MEMORY_LIMIT] =
                (int64_t) rules->max_memory_limit_kib * 1024;
        ret[PISTON_COMPILE_TIMEOUT] = ret[PISTON_RUN_TIMEOUT] =
                (int64_t) (rules->max_wall_time_limit_usec / 1000);
        ret[PISTON_COMPILE_CPU_TIME] = ret[PISTON_RUN_CPU_TIME] =
                (int64_t) (rules->max_cpu_time_limit_usec / 1000);
}

/* The submission of a checked request (defaults from the configuration, as Judge0's create
 * applies them). -EINVAL with the reason in msg. */
static int build_submission(
        Api *a, const Runtime *rt, const PistonJob *j, Submission *ret, char *msg, size_t msglen) {
        const Judge0Rules *rules = &a->cfg.rules;
        _cleanup_(submission_done) Submission s;
        submission_init(&s);
        s.language_id = rt->lang->id;
        s.number_of_runs = 1;
        s.cpu_time_limit_usec = rules->cpu_time_limit_usec;
        s.cpu_extra_time_usec = rules->cpu_extra_time_usec;
        s.wall_time_limit_usec = rules->wall_time_limit_usec;
        s.memory_limit_kib = rules->memory_limit_kib;
        s.stack_limit_kib = rules->stack_limit_kib;
        s.max_processes_and_or_threads = rules->max_processes_and_or_threads;
        s.enable_per_process_and_thread_time_limit = rules->enable_per_process_and_thread_time_limit;
        s.enable_per_process_and_thread_memory_limit = rules->enable_per_process_and_thread_memory_limit;
        s.max_file_size_kib = rules->max_file_size_kib;
        s.redirect_stderr_to_stdout = false;
        s.enable_network = rules->enable_network;

        int64_t v = j->limits[PISTON_RUN_TIMEOUT];
        if (v > 0)
                s.wall_time_limit_usec = (uint64_t) v * 1000;
        v = j->limits[PISTON_RUN_CPU_TIME];
        if (v > 0)
                s.cpu_time_limit_usec = (uint64_t) v * 1000;
        v = j->limits[PISTON_RUN_MEMORY_LIMIT];
        if (v == PISTON_LIMIT_NONE)
                s.memory_limit_kib = rules->max_memory_limit_kib;
        else if (v > 0) {
                s.memory_limit_kib = ((uint64_t) v + 1023) / 1024;
                if (s.memory_limit_kib < PISTON_MIN_MEMORY_KIB) {
                        snprintf(msg, msglen, "run_memory_limit must be at least %" PRIu64,
                                PISTON_MIN_MEMORY_KIB * 1024);
                        return -EINVAL;
                }
        }

        /* The main file: the first utf8 one, written under the language's source name;
         * the others go into the zip of additional files, under their names. */
        size_t main = 0;
        while (main < j->n_files && !j->files[main].utf8)
                main++;
        if (main == j->n_files)
                return -EINVAL; /* piston_request_finish() checked */
        const char *source_file = rt->lang->source_file;
        _cleanup_free_ ZipEntry *entries = calloc(j->n_files, sizeof *entries);
        if (!entries)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < j->n_files; i++) {
                if (i == main)
                        continue;
                if (source_file && strcmp(j->files[i].name, source_file) == 0) {
                        snprintf(msg, msglen,
                                "files[%zu].name \"%s\" is the name this runtime gives the main file "
                                "(files[%zu])",
                                i, source_file, main);
                        return -EINVAL;
                }
                entries[n++] =
                        (ZipEntry){j->files[i].name, j->files[i].content.data, j->files[i].content.len};
        }
        if (n > 0 && !rules->enable_additional_files) {
                snprintf(msg, msglen, "this server takes one file only (additional files are disabled)");
                return -EINVAL;
        }
        if (n > 0) {
                uint8_t *zip = NULL;
                size_t zlen = 0;
                int r = zip_write(entries, n, &zip, &zlen);
                if (r == -EFBIG || r == -E2BIG) {
                        snprintf(msg, msglen, "files are too large");
                        return -EINVAL;
                }
                if (r < 0)
                        return r;
                s.additional_files = (Bytes){(char *) zip, zlen};
        }
        Bytes src = j->files[main].content;
        s.source_code.data = malloc(src.len + 1);
        if (!s.source_code.data)
                return -ENOMEM;
        memcpy(s.source_code.data, src.data, src.len);
        s.source_code.data[src.len] = '\0';
        s.source_code.len = src.len;

        s.stdin_data.data = malloc(j->stdin_data.len + 1);
        if (!s.stdin_data.data)
                return -ENOMEM;
        memcpy(s.stdin_data.data, j->stdin_data.data, j->stdin_data.len + 1);
        s.stdin_data.len = j->stdin_data.len;

        if (j->n_args > 0) {
                if (!rules->enable_command_line_arguments) {
                        snprintf(msg, msglen,
                                "this server takes no args (command line arguments are disabled)");
                        return -EINVAL;
                }
                int r = quote_args(j, &s.command_line_arguments, msg, msglen);
                if (r < 0)
                        return r;
        }
        *ret = s;
        submission_init(&s);
        return 0;
}

/* Whether id is in a PISTON_LANGUAGES_HEADER list ("71,54"; NULL or "": any). A list that
 * does not parse allows nothing. */
static bool language_allowed(const char *allowed, int id) {
        if (!allowed || !*allowed)
                return true;
        for (const char *p = allowed; *p;) {
                char *end;
                errno = 0;
                long v = strtol(p, &end, 10);
                if (errno || end == p || (*end && *end != ','))
                        return false;
                if (v == id)
                        return true;
                p = *end ? end + 1 : end;
        }
        return false;
}

int api_piston_prepare(Api *a, const char *body, size_t len, const char *allowed, Submission *ret,
        ApiPistonRun *ret_info, char *msg, size_t msglen) {
        _cleanup_piston_request_ PistonRequest *pr = NULL;
        int r = piston_request_parse(body ? body : "", body ? len : 0, &pr, msg, msglen);
        if (r < 0)
                return r;
        if (piston_request_check(pr, msg, msglen) < 0)
                return -EINVAL;
        _cleanup_free_ Runtime *rts = NULL;
        size_t n = 0;
        r = runtimes_list(a, &rts, &n);
        if (r < 0)
                return r;
        const char *language = piston_request_language(pr), *version = piston_request_version(pr);
        const Runtime *rt = runtime_find(rts, n, language, version);
        if (!rt) {
                snprintf(msg, msglen, "%s-%s runtime is unknown", language, version);
                return -EINVAL;
        }
        if (!language_allowed(allowed, rt->lang->id)) {
                snprintf(msg, msglen, "%s-%s runtime is not allowed for this API key", language, version);
                return -EINVAL;
        }
        int64_t maxima[_PISTON_LIMIT_MAX];
        maxima_of(&a->cfg.rules, maxima);
        _cleanup_(piston_job_done) PistonJob job = {};
        r = piston_request_finish(pr, maxima, &job, msg, msglen);
        if (r >= 0)
                r = build_submission(a, rt, &job, ret, msg, msglen);
        if (r < 0)
                return r;
        ret_info->language = rt->pub.language;
        memcpy(ret_info->version, rt->version, sizeof ret_info->version);
        ret_info->compiled = rt->lang->compile_cmd != NULL;
        return 0;
}

/* Piston checks the Content-Type of every request that is not GET, HEAD or OPTIONS. */
static bool json_content(HttpRequest *req) {
        const char *ct = http_request_header(req, "Content-Type");
        return ct && strncmp(ct, "application/json", 16) == 0;
}

void api_piston_execute(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, false))
                return;
        if (!json_content(req)) {
                reply_message(req, 415, "requests must be of type application/json");
                return;
        }
        if (a->cfg.maintenance_mode) {
                reply_message(req, 503, a->cfg.maintenance_message);
                return;
        }
        if (!a->cfg.enable_wait_result) {
                reply_message(req, 400, "synchronous execution is disabled (enable_wait_result is false)");
                return;
        }
        size_t len;
        const char *body = http_request_body(req, &len);
        char msg[512];
        Submission sub;
        ApiPistonRun info;
        int r = api_piston_prepare(a, body, len, http_request_header(req, PISTON_LANGUAGES_HEADER), &sub,
                &info, msg, sizeof msg);
        if (r == -EINVAL || r == -EBADMSG) {
                reply_message(req, 400, msg);
                return;
        }
        if (r < 0) {
                api_reply_internal(req, r);
                return;
        }
        PistonWait *w = calloc(1, sizeof *w);
        if (!w) {
                submission_done(&sub);
                api_reply_internal(req, -ENOMEM);
                return;
        }
        w->language = info.language;
        memcpy(w->version, info.version, sizeof w->version);
        w->compiled = info.compiled;
        r = api_store_new(a, &sub);
        const char *token = sub.token;
        if (r < 0)
                api_reply_internal(req, r);
        else if (api_enqueue(a, req, &token, 1) >= 0) {
                atomic_fetch_add(&a->created, 1);
                char note[128];
                snprintf(note, sizeof note, "token=%s language_id=%d piston=true", sub.token,
                        sub.language_id);
                http_request_set_log_note(req, note);
                api_wait_reply(a, req, sub.token, reply_piston, TAKE_PTR(w));
        }
        free(w);
        submission_done(&sub);
}
