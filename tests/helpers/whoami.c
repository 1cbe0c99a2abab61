/* SPDX-License-Identifier: MIT */
/* Describe the process the sandbox made, one "key=value" per line:
 *
 *   uid euid gid egid groups (comma-separated, may be empty)
 *   CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp NSpid (from /proc/self/status)
 *   hostname pid ppid pgid sid cwd
 *   fds (open descriptors, comma-separated, from /proc/self/fd)
 *   tty ("ok" if /dev/tty opens, else the errno name)
 *   stdio_tty (isatty() of 0, 1 and 2, comma-separated)
 *   rlimit_<name> (soft limit; "inf" when unlimited) */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void print_status_fields(void) {
        static const char *const keys[] = {
                "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", "NSpid"};
        char line[512];
        FILE *f = fopen("/proc/self/status", "re");

        if (!f) {
                printf("status_error=%s\n", strerrorname_np(errno));
                return;
        }
        while (fgets(line, sizeof line, f)) {
                char *colon = strchr(line, ':'), *v;

                if (!colon)
                        continue;
                *colon = '\0';
                for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
                        if (strcmp(line, keys[i]) != 0)
                                continue;
                        v = colon + 1;
                        v += strspn(v, " \t");
                        v[strcspn(v, "\n")] = '\0';
                        for (char *c = v; *c; c++)
                                if (*c == '\t')
                                        *c = ' ';
                        printf("%s=%s\n", keys[i], v);
                }
        }
        fclose(f);
}

static void print_groups(void) {
        gid_t groups[NGROUPS_MAX];
        int n = getgroups(NGROUPS_MAX, groups);

        printf("groups=");
        for (int i = 0; i < n; i++)
                printf("%s%u", i ? "," : "", (unsigned) groups[i]);
        printf("\n");
}

static void print_fds(void) {
        DIR *d = opendir("/proc/self/fd");
        struct dirent *de;
        int first = 1;

        if (!d) {
                printf("fds_error=%s\n", strerrorname_np(errno));
                return;
        }
        printf("fds=");
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (strtol(de->d_name, NULL, 10) == dirfd(d))
                        continue;
                printf("%s%s", first ? "" : ",", de->d_name);
                first = 0;
        }
        printf("\n");
        closedir(d);
}

static void print_rlimits(void) {
        static const struct {
                const char *name;
                int resource;
        } limits[] = {
                {"cpu", RLIMIT_CPU},
                {"fsize", RLIMIT_FSIZE},
                {"stack", RLIMIT_STACK},
                {"core", RLIMIT_CORE},
                {"nofile", RLIMIT_NOFILE},
                {"nproc", RLIMIT_NPROC},
                {"as", RLIMIT_AS},
                {"memlock", RLIMIT_MEMLOCK},
        };

        for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
                struct rlimit rl;

                if (getrlimit(limits[i].resource, &rl) < 0)
                        continue;
                if (rl.rlim_cur == RLIM_INFINITY)
                        printf("rlimit_%s=inf\n", limits[i].name);
                else
                        printf("rlimit_%s=%llu\n", limits[i].name, (unsigned long long) rl.rlim_cur);
        }
}

int main(void) {
        char host[256] = "", cwd[PATH_MAX] = "";
        int fd;

        /* Before anything else opens a descriptor. */
        print_fds();
        printf("uid=%u\neuid=%u\ngid=%u\negid=%u\n", (unsigned) getuid(), (unsigned) geteuid(),
                (unsigned) getgid(), (unsigned) getegid());
        print_groups();
        print_status_fields();
        if (gethostname(host, sizeof host - 1) < 0)
                host[0] = '\0';
        if (!getcwd(cwd, sizeof cwd))
                cwd[0] = '\0';
        printf("hostname=%s\npid=%d\nppid=%d\npgid=%d\nsid=%d\ncwd=%s\n", host, (int) getpid(),
                (int) getppid(), (int) getpgrp(), (int) getsid(0), cwd);
        fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd >= 0) {
                printf("tty=ok\n");
                close(fd);
        } else {
                printf("tty=%s\n", strerrorname_np(errno));
        }
        printf("stdio_tty=%d,%d,%d\n", isatty(0), isatty(1), isatty(2));
        print_rlimits();
        return 0;
}
