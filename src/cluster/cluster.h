/* SPDX-License-Identifier: MIT */
#pragma once

/* `coderunner cluster`: the whole topology on one machine as local processes. This module
 * keeps the cluster's state file and starts, watches and stops its processes; the command
 * (src/programs/cluster-main.c) composes them.
 *
 * The state file, DIR/cluster.state, is written whole and atomically (a temporary file,
 * fsync, rename). Text, one record a line, fields separated by one space:
 *     coderunner-cluster 3
 *     public_url http://127.0.0.1:2358
 *     meta sqlite:/var/tmp/c/gateway/meta.db
 *     net 0123abcd
 *     role NAME ROLE PID START_TIME STOPPED PORT URL CONFIG NETNS ADDRESS
 * START_TIME is the process's start (field 22 of /proc/PID/stat): a pid counts as ours only
 * while the process with that pid started then. URL is "-" for a role that listens nowhere,
 * CONFIG "-" for a role without a configuration file of ours. The meta line (the gateways'
 * metadata store) is optional. The net line names the network namespaces of a cluster up
 * --hosts made (src/cluster/hosts.h), NETNS is the role's namespace and ADDRESS its address
 * there ("-" and "-" without --hosts). Version 1 files (no meta line, no CONFIG field:
 * clusters started before the gateway) and version 2 files (no net line, no NETNS and
 * ADDRESS) are read as well; what is written is version 3. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/macro.h"

#define CLUSTER_STATE_FILE "cluster.state"
#define CLUSTER_NAME_MAX 32
#define CLUSTER_URL_MAX 256
#define CLUSTER_MAX_ROLES 64
#define CLUSTER_PATH_MAX 4096
#define CLUSTER_NETNS_MAX 128 /* "/run/netns/coderunner-0123abcd-gateway-16" */
#define CLUSTER_ADDRESS_MAX 16 /* an IPv4 address, dotted */
#define CLUSTER_NET_ID_MAX 16

typedef struct ClusterRole {
        char name[CLUSTER_NAME_MAX]; /* "api-1" */
        char role[CLUSTER_NAME_MAX]; /* "redis", "postgres", "mongo", "api", "worker", "gateway" */
        pid_t pid;
        uint64_t start_time; /* clock ticks since boot, from /proc/PID/stat */
        bool stopped; /* stopped by `cluster down` */
        int port; /* 0: none */
        char url[CLUSTER_URL_MAX]; /* "": none */
        char config[CLUSTER_PATH_MAX]; /* its configuration file; "": none */
        char netns[CLUSTER_NETNS_MAX]; /* its network namespace (--hosts); "": ours */
        char address[CLUSTER_ADDRESS_MAX]; /* its address there; "": none */
} ClusterRole;

typedef struct ClusterState {
        char public_url[CLUSTER_URL_MAX];
        char meta[CLUSTER_PATH_MAX]; /* the gateways' metadata store; "": none */
        char net_id[CLUSTER_NET_ID_MAX]; /* the network namespaces' id (--hosts); "": none */
        ClusterRole roles[CLUSTER_MAX_ROLES];
        size_t n_roles;
} ClusterState;

/* Write state into dir's state file, atomically. */
int cluster_state_write(int dir_fd, const ClusterState *state);
/* Read dir's state file: -ENOENT when there is none, -EBADMSG when it is malformed. */
int cluster_state_read(int dir_fd, ClusterState *ret);

typedef enum ClusterProcState {
        CLUSTER_PROC_RUNNING,
        CLUSTER_PROC_EXITED, /* gone, a zombie, or another process now has the pid */
} ClusterProcState;

/* The start time of pid (field 22 of /proc/PID/stat), or -ESRCH. */
int cluster_process_start_time(pid_t pid, uint64_t *ret);
/* Whether the process that had pid and started at start_time still runs. */
ClusterProcState cluster_process_state(pid_t pid, uint64_t start_time);
/* "running", "stopped" (by down) or "exited" (it went by itself). */
const char *cluster_role_state(const ClusterRole *r);

/* Whom a process runs as: uid (uid_t) -1 for "as we are". */
typedef struct ClusterUser {
        uid_t uid;
        gid_t gid;
} ClusterUser;
#define CLUSTER_USER_SELF ((ClusterUser){.uid = (uid_t) -1, .gid = (gid_t) -1})

/* Become user for good (no supplementary groups, its group, its uid); nothing for
 * CLUSTER_USER_SELF. Async-signal-safe. */
int cluster_become(ClusterUser user);

/* Look a user up by name: -ENOENT when there is none. */
int cluster_user_lookup(const char *name, ClusterUser *ret);

/* Start argv[0] (a path) in a session of its own, stdin from /dev/null, stdout and stderr
 * appended to log_path, as user, with every signal unblocked. The process outlives us.
 * *ret_pid and *ret_start_time identify it. */
int cluster_spawn(
        char *const *argv, const char *log_path, ClusterUser user, pid_t *ret_pid, uint64_t *ret_start_time);
/* The same in the network namespace netns_fd (-1: ours). */
int cluster_spawn_in(char *const *argv, const char *log_path, ClusterUser user, int netns_fd, pid_t *ret_pid,
        uint64_t *ret_start_time);
/* Run argv to its end as user, output appended to log_path (NULL: /dev/null); its exit
 * status (0-255), or a negative errno. */
int cluster_run(char *const *argv, const char *log_path, ClusterUser user);
/* The same in the network namespace netns_fd (-1: ours). */
int cluster_run_in(char *const *argv, const char *log_path, ClusterUser user, int netns_fd);
/* Whether user can read, write and enter path (asked by a child that becomes user). */
bool cluster_user_can_access(ClusterUser user, const char *path);

/* Send sig, then wait until the process is gone; SIGKILL after timeout_usec. 0 when it
 * went by sig, 1 when it had to be killed. */
int cluster_stop_process(pid_t pid, uint64_t start_time, int sig, uint64_t timeout_usec);

/* A loopback TCP port nobody listens on now (0: any), or whether port is free. */
int cluster_free_port(int *ret);
bool cluster_port_free(int port);

/* Where a probe connects: 127.0.0.1:port, or address:port from inside the network
 * namespace netns_fd (a role of a cluster up --hosts, probed from its own host). */
typedef struct ClusterTarget {
        int port;
        const char *address; /* dotted IPv4; NULL: 127.0.0.1 */
        int netns_fd; /* -1: ours */
} ClusterTarget;
#define CLUSTER_LOOPBACK(p) ((ClusterTarget){.port = (p), .netns_fd = -1})

/* A TCP socket (SOCK_CLOEXEC) made in the network namespace netns_fd (-1: ours); we stay in
 * ours. */
int cluster_socket_in(int netns_fd);

/* Send request to t and read the answer (up to size-1 bytes, NUL-terminated) within
 * timeout_usec: its first line, or until_close all of it. */
int cluster_tcp_ask(ClusterTarget t, const char *request, uint64_t timeout_usec, bool until_close, char *buf,
        size_t size);
/* Whether a redis-server at t answers PING. */
bool cluster_redis_ready(ClusterTarget t);
/* Whether something accepts TCP connections at t. */
bool cluster_tcp_ready(ClusterTarget t);
/* GET path at t (HTTP/1.0), with header ("Name: value", or NULL) among the request's
 * headers: the status and the body (cut to size-1 bytes). */
int cluster_http_get(
        ClusterTarget t, const char *path, const char *header, int *ret_status, char *body, size_t size);

/* n random bytes from the kernel, as 2n lowercase hex digits and a NUL in buf (size > 2n). */
int cluster_random_hex(size_t n, char *buf, size_t size);
/* Write data into dir_fd/name, mode 0600, atomically (a temporary file, fsync, rename). */
int cluster_write_private(int dir_fd, const char *name, const char *data, size_t len);
/* Give path and everything under it to user (not following symlinks). */
int cluster_chown_tree(const char *path, ClusterUser user);

/* Remove path and everything under it (not following symlinks); absent is fine. */
int cluster_remove_tree(const char *path);
