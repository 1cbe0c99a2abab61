/* SPDX-License-Identifier: MIT */
/* coderunner-serve: what `coderunner serve` runs (see serve-exec.c for why it is separate). */

#include "base/log.h"
#include "programs/programs.h"

int main(int argc, char **argv) {
        log_set_program("coderunner");
        return serve_main(argc, argv);
}
