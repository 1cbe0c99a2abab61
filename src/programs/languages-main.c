/* SPDX-License-Identifier: MIT */
/* coderunner languages: the catalogue, and which of its toolchains this host has. */

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json-writer.h"
#include "base/log.h"
#include "lang/language.h"
#include "programs/programs.h"

static const char languages_help[] =
        "Usage: coderunner languages [--all] [--json] [--dir=DIR]\n"
        "\n"
        "List the installed languages: Judge0 id, name with the detected version, and slug\n"
        "(what --lang of coderunner run accepts, besides the id).\n"
        "\n"
        "  --all      also the languages whose toolchain is not installed, with the Debian\n"
        "             packages that provide it\n"
        "  --json     one JSON array instead of a table\n"
        "  --dir=DIR  the catalogue (default: $CODERUNNER_LANGUAGES, else the source tree's\n"
        "             languages/)\n"
        "\n"
        "Exit status: 0 when listed (even if nothing is installed), 1 on a usage error,\n"
        "2 when the catalogue cannot be read or the output cannot be written.\n";

/* The name to show: the resolved one, else the template with "?" for the version. */
static char *display_name(const Language *l) {
        if (l->name)
                return strdup(l->name);
        return language_name_resolve(l->name_template, "?");
}

static void print_json(const Catalogue *c, bool all) {
        bool first = true;

        fputc('[', stdout);
        for (size_t i = 0; i < c->n; i++) {
                const Language *l = &c->langs[i];
                if (!all && !l->installed)
                        continue;
                fprintf(stdout, "%s\n  {\"id\":%d,\"slug\":", first ? "" : ",", l->id);
                json_write_cstring(stdout, l->slug);
                fputs(",\"name\":", stdout);
                json_write_cstring(stdout, l->name);
                fputs(",\"name_template\":", stdout);
                json_write_cstring(stdout, l->name_template);
                fputs(",\"version\":", stdout);
                json_write_cstring(stdout, l->version);
                fprintf(stdout, ",\"installed\":%s,\"source_file\":", l->installed ? "true" : "false");
                json_write_cstring(stdout, l->source_file);
                fprintf(stdout,
                        ",\"compiled\":%s,\"project\":%s,\"packages\":", l->compile_cmd ? "true" : "false",
                        l->is_project ? "true" : "false");
                json_write_cstring(stdout, l->packages);
                fputc('}', stdout);
                first = false;
        }
        fputs(first ? "]\n" : "\n]\n", stdout);
}

static int print_table(const Catalogue *c, bool all) {
        char **names = calloc(c->n + 1, sizeof(char *));
        int name_w = (int) strlen("NAME"), slug_w = (int) strlen("SLUG"), r = 0;
        size_t shown = 0;

        if (!names)
                return -ENOMEM;
        for (size_t i = 0; i < c->n; i++) {
                const Language *l = &c->langs[i];
                if (!all && !l->installed)
                        continue;
                names[i] = display_name(l);
                if (!names[i]) {
                        r = -ENOMEM;
                        goto out;
                }
                name_w = MAX(name_w, (int) strlen(names[i]));
                slug_w = MAX(slug_w, (int) strlen(l->slug));
                shown++;
        }
        if (shown == 0)
                goto out;
        printf("%4s  %-*s  %-*s%s\n", "ID", name_w, "NAME", all ? slug_w : 0, "SLUG", all ? "  STATUS" : "");
        for (size_t i = 0; i < c->n; i++) {
                const Language *l = &c->langs[i];
                if (!names[i])
                        continue;
                printf("%4d  %-*s  %-*s", l->id, name_w, names[i], all ? slug_w : 0, l->slug);
                if (all && l->installed)
                        fputs("  installed", stdout);
                else if (all)
                        printf("  not installed (Debian packages: %s)",
                                l->packages ? l->packages : "none listed");
                fputc('\n', stdout);
        }
out:
        for (size_t i = 0; i < c->n; i++)
                free(names[i]);
        free(names);
        return r < 0 ? r : (int) shown;
}

int languages_main(int argc, char **argv) {
        static const struct option opts[] = {
                {"help", no_argument, NULL, 'h'},
                {"all", no_argument, NULL, 'a'},
                {"json", no_argument, NULL, 'j'},
                {"dir", required_argument, NULL, 'd'},
                {},
        };
        _cleanup_(catalogue_done) Catalogue cat = {};
        const char *dir = NULL;
        bool all = false, json = false;
        char err[1024] = "";
        int c, r;

        opterr = 0;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        fputs(languages_help, stdout);
                        return 0;
                case 'a':
                        all = true;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'd':
                        dir = optarg;
                        break;
                default:
                        log_error(0, "languages: unknown option or missing value '%s' (see --help)",
                                argv[optind - 1]);
                        return 1;
                }
        }
        if (optind < argc) {
                log_error(0, "languages: unexpected argument '%s'", argv[optind]);
                return 1;
        }
        if (!dir)
                dir = catalogue_default_dir();

        r = catalogue_load(dir, &cat, err, sizeof err);
        if (r < 0) {
                log_error(r, "languages: %s", err[0] ? err : strerror(-r));
                return 2;
        }
        catalogue_detect(&cat);

        if (json)
                print_json(&cat, all);
        else {
                r = print_table(&cat, all);
                if (r < 0) {
                        log_error(r, "languages: %s", strerror(-r));
                        return 2;
                }
                if (r == 0 && cat.n == 0)
                        log_warning(0, "no language in %s", dir);
                else if (r == 0)
                        log_warning(0, "no language of the %zu in %s is installed (see --all)", cat.n, dir);
        }
        if (fflush(stdout) != 0 || ferror(stdout)) {
                log_error(errno, "languages: cannot write the list: %s", strerror(errno));
                return 2;
        }
        return 0;
}
