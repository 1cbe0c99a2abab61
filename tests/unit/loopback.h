/* SPDX-License-Identifier: MIT */
#pragma once

/* Loopback sockets for tests: a listener on a free port (that never accepts unless the test
 * does). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests.h"

/* Listen on 127.0.0.1 on a free port; the fd, and the port in *ret_port. */
static inline int listen_loopback(int *ret_port) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        ASSERT_EQ(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
        ASSERT_EQ(listen(fd, 4), 0);
        socklen_t len = sizeof a;
        ASSERT_EQ(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        *ret_port = ntohs(a.sin_port);
        return fd;
}

/* A port on 127.0.0.1 free right now (bound, read, released): for servers that take a port
 * number rather than a socket. */
static inline uint16_t free_loopback_port(void) {
        int port = 0;
        int fd = listen_loopback(&port);
        close(fd);
        return (uint16_t) port;
}
