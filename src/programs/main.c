/* SPDX-License-Identifier: MIT */
/* coderunner: one binary, a subcommand per role. */

#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "config.h"
#include "programs/programs.h"

static const struct {
        const char *name;
        int (*main)(int argc, char **argv);
        const char *help;
} commands[] = {
        {"box", box_main, "run one program in the sandbox (box run), or serve runs (box daemon)"},
        {"languages", languages_main, "list the installed languages (--all: also those that are not)"},
        {"run", run_main, "compile and run one source file in the sandbox and print the verdict"},
        {"serve", serve_exec, "serve the Judge0-compatible HTTP API on one machine (as root)"},
        {"api", serve_exec, "an API node of a cluster (PostgreSQL store, Redis queue; never runs code)"},
        {"worker", serve_exec, "an execution node of a cluster: judges the queued submissions (as root)"},
        {"gateway", serve_exec,
                "the door of a cluster: API keys, sessions, rate limits, history (keys, config: its admin)"},
        {"cluster", cluster_main, "a whole cluster on this machine as local processes (up, status, down)"},
};

static void usage(FILE *f) {
        fprintf(f, "Usage: coderunner COMMAND [OPTIONS]\n\nCommands:\n");
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
        fprintf(f, "\n  coderunner COMMAND --help   for the options of a command\n"
                   "  coderunner --version\n");
}

int main(int argc, char **argv) {
        log_set_program("coderunner");
        if (argc < 2) {
                usage(stderr);
                return 1;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
                usage(stdout);
                return 0;
        }
        if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
                printf("coderunner %s\n", CODERUNNER_VERSION);
                return 0;
        }
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
                if (strcmp(argv[1], commands[i].name) == 0)
                        return commands[i].main(argc - 1, argv + 1);
        log_error(0, "unknown command '%s' (try: coderunner --help)", argv[1]);
        return 1;
}
