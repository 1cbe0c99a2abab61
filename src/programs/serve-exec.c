/* SPDX-License-Identifier: MIT */
/* `coderunner serve` is its own executable, coderunner-serve, installed next to
 * coderunner: the server links libmicrohttpd, libcurl, libpq, SQLite and jansson, whose
 * loading and initialisation cost ~7 ms at every start (measured: coderunner --version
 * 0.75 ms without them, 8.3 ms with them). The sandbox commands start many times a second;
 * the server starts once. */

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "programs/programs.h"

int serve_exec(int argc, char **argv) {
        char self[PATH_MAX], path[PATH_MAX + 32];
        (void) argc;
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0)
                return log_error(errno, "serve: cannot find where coderunner is installed: %m"), 2;
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (!slash)
                return log_error(EINVAL, "serve: cannot find where coderunner is installed"), 2;
        *slash = '\0';
        size_t len = strlen(self);
        memcpy(path, self, len);
        memcpy(path + len, "/coderunner-serve", sizeof "/coderunner-serve");
        /* libmongoc (the gateway's metadata store, linked into coderunner-serve) keeps
         * performance counters in a /dev/shm file per process unless told not to, and a
         * process that is killed leaves its file behind: told, before it starts, since its
         * constructor runs before main(). */
        if (setenv("MONGOC_DISABLE_SHM", "1", 0) < 0)
                return log_error(errno, "serve: %m"), 2;
        execv(path, argv);
        return log_error(errno, "serve: cannot run %s: %m (it is built and installed next to coderunner)",
                       path),
               2;
}
