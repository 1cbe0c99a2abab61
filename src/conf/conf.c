/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "base/fd-util.h"
#include "base/macro.h"
#include "base/parse-util.h"
#include "conf/conf.h"

/* The ceiling of a configuration file. */
#define MAX_CONF_FILE (1024 * 1024)

static int parse_bool(const char *v, bool *ret) {
        static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {
                                                                             "0", "false", "no", "off"};
        for (size_t i = 0; i < 4; i++) {
                if (strcasecmp(v, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcasecmp(v, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

static int set_value(const ConfKey *k, void *cfg, const char *v) {
        char *p = (char *) cfg + k->offset;
        uint64_t max = k->max ? k->max : UINT64_MAX;
        switch (k->type) {
        case CONF_STRING: {
                char *copy = strdup(v);
                if (!copy)
                        return -ENOMEM;
                free(*(char **) p);
                *(char **) p = copy;
                return 0;
        }
        case CONF_U64:
                return parse_u64_max(v, max, (uint64_t *) p);
        case CONF_BOOL:
                return parse_bool(v, (bool *) p);
        case CONF_SECONDS:
                return parse_seconds_usec(v, max, (uint64_t *) p);
        }
        return -EINVAL;
}

/* The key named name[0..len), where '-' matches '_' when dashes is true. */
static const ConfKey *find_key(const ConfKey *keys, size_t n, const char *name, size_t len, bool dashes) {
        for (size_t i = 0; i < n; i++) {
                const char *kn = keys[i].name;
                if (strlen(kn) != len)
                        continue;
                bool same = true;
                for (size_t j = 0; j < len && same; j++)
                        same = kn[j] == name[j] || (dashes && kn[j] == '_' && name[j] == '-');
                if (same)
                        return &keys[i];
        }
        return NULL;
}

static bool is_blank(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/* [*p, *end) without the blanks around it. */
static void trim(const char **p, const char **end) {
        while (*p < *end && is_blank(**p))
                (*p)++;
        while (*end > *p && is_blank((*end)[-1]))
                (*end)--;
}

int conf_load_file(const ConfKey *keys, size_t n, void *cfg, const char *path, char *errbuf, size_t errlen) {
        _cleanup_free_ char *data = NULL;
        size_t len = 0;
        int r;

        r = read_file_at(AT_FDCWD, path, MAX_CONF_FILE, &data, &len);
        if (r == -EFBIG) {
                snprintf(errbuf, errlen, "%s: larger than %d bytes", path, MAX_CONF_FILE);
                return -EINVAL;
        }
        if (r < 0) {
                snprintf(errbuf, errlen, "cannot read %s: %s", path, strerror(-r));
                return r == -ENOMEM ? r : -EINVAL;
        }
        if (memchr(data, '\0', len)) {
                snprintf(errbuf, errlen, "%s: contains a NUL byte", path);
                return -EINVAL;
        }
        unsigned line = 0;
        for (const char *p = data; *p;) {
                const char *eol = strchr(p, '\n'), *end = eol ? eol : p + strlen(p);
                const char *next = eol ? eol + 1 : end;
                line++;
                trim(&p, &end);
                if (p == end || *p == '#') {
                        p = next;
                        continue;
                }
                const char *eq = memchr(p, '=', (size_t) (end - p));
                if (!eq) {
                        snprintf(errbuf, errlen, "%s:%u: expected 'key = value'", path, line);
                        return -EINVAL;
                }
                const char *kend = eq, *v = eq + 1;
                trim(&p, &kend);
                trim(&v, &end);
                if (p == kend) {
                        snprintf(errbuf, errlen, "%s:%u: a key is missing before '='", path, line);
                        return -EINVAL;
                }
                const ConfKey *k = find_key(keys, n, p, (size_t) (kend - p), true);
                if (!k) {
                        snprintf(errbuf, errlen, "%s:%u: unknown key '%.*s'", path, line,
                                (int) MIN(kend - p, 64), p);
                        return -EINVAL;
                }
                _cleanup_free_ char *value = strndup(v, (size_t) (end - v));
                if (!value)
                        return -ENOMEM;
                r = set_value(k, cfg, value);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        snprintf(errbuf, errlen, "%s:%u: invalid value '%.64s' for %s", path, line, value,
                                k->name);
                        return -EINVAL;
                }
                p = next;
        }
        return 0;
}

int conf_load(const ConfKey *keys, size_t n, void *cfg, int argc, char **argv,
        const char *const *extra_flags, char *errbuf, size_t errlen) {
        const char *file = NULL;
        int r;
        for (size_t i = 0; i < n; i++) {
                r = set_value(&keys[i], cfg, keys[i].def);
                if (r < 0) {
                        snprintf(errbuf, errlen, "bad default for %s", keys[i].name);
                        return r;
                }
        }
        /* The file: the last --config=FILE, else $CODERUNNER_CONFIG. */
        for (int a = 1; a < argc; a++) {
                if (strcmp(argv[a], "--config") == 0) {
                        snprintf(errbuf, errlen, "option '--config' needs a value (--config=FILE)");
                        return -EINVAL;
                }
                if (strncmp(argv[a], "--config=", 9) == 0)
                        file = argv[a] + 9;
        }
        if (!file)
                file = getenv("CODERUNNER_CONFIG");
        if (file && !*file) {
                snprintf(errbuf, errlen, "the configuration file name is empty");
                return -EINVAL;
        }
        if (file) {
                r = conf_load_file(keys, n, cfg, file, errbuf, errlen);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                char env[128] = "CODERUNNER_";
                size_t l = strlen(env);
                for (const char *c = keys[i].name; *c && l + 1 < sizeof env; c++)
                        env[l++] = (char) toupper((unsigned char) *c);
                env[l] = '\0';
                const char *v = getenv(env);
                if (!v)
                        continue;
                r = set_value(&keys[i], cfg, v);
                if (r < 0) {
                        snprintf(errbuf, errlen, "invalid value '%s' in $%s", v, env);
                        return -EINVAL;
                }
        }
        for (int a = 1; a < argc; a++) {
                const char *arg = argv[a];
                bool extra = false;
                for (const char *const *e = extra_flags; e && *e; e++)
                        extra = extra || strcmp(arg, *e) == 0;
                if (extra || strncmp(arg, "--config=", 9) == 0)
                        continue;
                if (strncmp(arg, "--", 2) != 0) {
                        snprintf(errbuf, errlen, "unexpected argument '%s'", arg);
                        return -EINVAL;
                }
                const char *name = arg + 2, *eq = strchr(name, '=');
                size_t nl = eq ? (size_t) (eq - name) : strlen(name);
                const ConfKey *k = find_key(keys, n, name, nl, true);
                if (!k || memchr(name, '_', nl)) {
                        snprintf(errbuf, errlen, "unknown option '%.*s'", (int) (nl + 2), arg);
                        return -EINVAL;
                }
                const char *v = eq ? eq + 1 : (k->type == CONF_BOOL ? "true" : NULL);
                if (!v) {
                        snprintf(errbuf, errlen, "option '%s' needs a value (--%.*s=VALUE)", arg, (int) nl,
                                name);
                        return -EINVAL;
                }
                r = set_value(k, cfg, v);
                if (r < 0) {
                        snprintf(errbuf, errlen, "invalid value '%s' for --%.*s", v, (int) nl, name);
                        return -EINVAL;
                }
        }
        return 0;
}

void conf_done(const ConfKey *keys, size_t n, void *cfg) {
        for (size_t i = 0; i < n; i++)
                if (keys[i].type == CONF_STRING) {
                        char **p = (char **) ((char *) cfg + keys[i].offset);
                        free(*p);
                        *p = NULL;
                }
}

void conf_print(const ConfKey *keys, size_t n, const void *cfg, FILE *f) {
        for (size_t i = 0; i < n; i++) {
                const char *p = (const char *) cfg + keys[i].offset;
                fprintf(f, "%s=", keys[i].name);
                switch (keys[i].type) {
                case CONF_STRING: {
                        const char *s = *(char *const *) p;
                        fputs(keys[i].secret && s && *s ? "(set)" : (s ? s : ""), f);
                        break;
                }
                case CONF_U64:
                        fprintf(f, "%llu", (unsigned long long) *(const uint64_t *) p);
                        break;
                case CONF_BOOL:
                        fputs(*(const bool *) p ? "true" : "false", f);
                        break;
                case CONF_SECONDS: {
                        char buf[32];
                        format_seconds(*(const uint64_t *) p, buf);
                        fputs(buf, f);
                        break;
                }
                }
                fputc('\n', f);
        }
}

void conf_usage(const ConfKey *keys, size_t n, FILE *f) {
        static const char *const type_names[] = {"STRING", "N", "BOOL", "SECONDS"};
        for (size_t i = 0; i < n; i++) {
                char flag[96];
                size_t l = 0;
                for (const char *c = keys[i].name; *c && l + 1 < sizeof flag; c++)
                        flag[l++] = *c == '_' ? '-' : *c;
                flag[l] = '\0';
                fprintf(f, "  --%s=%s\n        %s (default: %s)\n", flag, type_names[keys[i].type],
                        keys[i].help, *keys[i].def ? keys[i].def : "none");
        }
}

int conf_compose(const ConfSection *sections, size_t n_sections, ConfKey **ret, size_t *ret_n) {
        size_t n = 0;
        for (size_t i = 0; i < n_sections; i++)
                n += sections[i].n;
        ConfKey *keys = calloc(n ? n : 1, sizeof *keys);
        if (!keys)
                return -ENOMEM;
        size_t k = 0;
        for (size_t i = 0; i < n_sections; i++)
                for (size_t j = 0; j < sections[i].n; j++) {
                        const ConfKey *src = &sections[i].keys[j];
                        for (size_t m = 0; m < k; m++)
                                if (strcmp(keys[m].name, src->name) == 0) {
                                        free(keys);
                                        return -EEXIST;
                                }
                        keys[k] = *src;
                        keys[k].offset += sections[i].offset;
                        k++;
                }
        *ret = keys;
        *ret_n = k;
        return 0;
}
