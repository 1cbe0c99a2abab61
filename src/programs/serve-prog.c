/* SPDX-License-Identifier: MIT */
/* coderunner-serve: what `coderunner serve`, `coderunner api`, `coderunner worker` and
 * `coderunner gateway` run
 * (see serve-exec.c for why it is separate); argv[0] names the role. */

#include <string.h>

#include "base/log.h"
#include "programs/programs.h"

int main(int argc, char **argv) {
        log_set_program("coderunner");
        static const struct {
                const char *role;
                int (*main)(int argc, char **argv);
        } roles[] = {
                {"serve", serve_main},
                {"api", api_main},
                {"worker", worker_main},
                {"gateway", gateway_main},
        };
        for (size_t i = 0; argc > 0 && i < sizeof roles / sizeof roles[0]; i++)
                if (strcmp(argv[0], roles[i].role) == 0)
                        return roles[i].main(argc, argv);
        log_error(0, "coderunner-serve runs as coderunner serve, api, worker or gateway");
        return 2;
}
