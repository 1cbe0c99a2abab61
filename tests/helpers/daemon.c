/* SPDX-License-Identifier: MIT */
/* A daemon that tries to outlive the run.
 *
 *   daemon [PIDFILE]
 *
 * Forks; the child calls setsid() and forks again; the grandchild ignores the usual
 * termination signals, names itself "crdaemon", writes its pid to PIDFILE (default
 * /box/daemon.pid) and sleeps forever, keeping stdout and stderr open. The first process
 * waits only until the grandchild is set up, prints "RESULT daemon ok pid=<PID>" and exits
 * 0 at once. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static int write_pidfile(const char *path) {
        char buf[32];
        int fd, len;

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -1;
        len = snprintf(buf, sizeof buf, "%d\n", (int) getpid());
        if (write(fd, buf, (size_t) len) != len) {
                close(fd);
                return -1;
        }
        return close(fd);
}

static void grandchild(const char *pidfile, int ready_fd) {
        static const int ignored[] = {SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2};
        char ok = 'r';

        for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++)
                signal(ignored[i], SIG_IGN);
        prctl(PR_SET_NAME, "crdaemon", 0, 0, 0);
        if (write_pidfile(pidfile) < 0)
                ok = 'e';
        (void) !write(ready_fd, &ok, 1);
        close(ready_fd);
        for (;;)
                pause();
}

int main(int argc, char **argv) {
        const char *pidfile = argc > 1 ? argv[1] : "/box/daemon.pid";
        int p[2];
        pid_t pid;
        char c = 0;

        if (pipe2(p, O_CLOEXEC) < 0) {
                perror("daemon: pipe2");
                return 1;
        }
        pid = fork();
        if (pid < 0) {
                perror("daemon: fork");
                return 1;
        }
        if (pid == 0) {
                close(p[0]);
                if (setsid() < 0)
                        _exit(1);
                pid = fork();
                if (pid < 0)
                        _exit(1);
                if (pid == 0)
                        grandchild(pidfile, p[1]);
                _exit(0);
        }
        close(p[1]);
        while (read(p[0], &c, 1) < 0 && errno == EINTR)
                ;
        if (c != 'r') {
                printf("RESULT daemon fail setup\n");
                return 1;
        }
        printf("RESULT daemon ok\n");
        return 0;
}
