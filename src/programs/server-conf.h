/* SPDX-License-Identifier: MIT */
#pragma once

/* The configuration sections of the server roles (serve, api, worker): each section is a
 * struct and its table of keys, and turns into its module's configuration. A role's main
 * composes the sections it needs (conf_compose()). */

#include <stdbool.h>
#include <stdint.h>

#include <signal.h>

#include "api/api.h"
#include "callback/callback.h"
#include "conf/conf.h"
#include "http/http.h"

/* The HTTP listener. */
typedef struct HttpSection {
        uint64_t port;
        char *bind;
        uint64_t http_threads;
        uint64_t max_connections;
        uint64_t max_connections_per_ip;
        uint64_t connection_timeout;
} HttpSection;
extern const ConfKey http_section_keys[];
extern const size_t http_section_n_keys;
/* routes, userdata, static_dir and max_body stay to be set. */
void http_section_apply(const HttpSection *s, HttpServerConfig *ret);

/* The Judge0 API: switches, limits and their maxima, guards. */
typedef struct ApiSection {
        uint64_t wait_timeout;
        uint64_t max_event_streams;
        uint64_t event_heartbeat;
        uint64_t worker_timeout;
        uint64_t max_queue_size;
        bool maintenance_mode;
        char *maintenance_message;
        bool enable_wait_result;
        bool enable_submission_delete;
        bool enable_batched_submissions;
        uint64_t max_submission_batch_size;
        uint64_t max_per_page;
        char *authn_header;
        char *authn_token;
        char *authz_header;
        char *authz_token;
        char *allow_ip;
        char *disallow_ip;
        uint64_t cpu_time_limit;
        uint64_t max_cpu_time_limit;
        uint64_t cpu_extra_time;
        uint64_t max_cpu_extra_time;
        uint64_t wall_time_limit;
        uint64_t max_wall_time_limit;
        uint64_t memory_limit;
        uint64_t max_memory_limit;
        uint64_t stack_limit;
        uint64_t max_stack_limit;
        uint64_t max_processes_and_or_threads;
        uint64_t max_max_processes_and_or_threads;
        bool enable_per_process_and_thread_time_limit;
        bool allow_enable_per_process_and_thread_time_limit;
        bool enable_per_process_and_thread_memory_limit;
        bool allow_enable_per_process_and_thread_memory_limit;
        uint64_t max_file_size;
        uint64_t max_max_file_size;
        uint64_t number_of_runs;
        uint64_t max_number_of_runs;
        bool redirect_stderr_to_stdout;
        bool enable_network;
        bool allow_enable_network;
        bool enable_compiler_options;
        bool enable_command_line_arguments;
        bool enable_additional_files;
} ApiSection;
extern const ConfKey api_section_keys[];
extern const size_t api_section_n_keys;
/* The ApiConfig of a section; its strings point into s. cb: the callbacks section (the
 * API validates callback_url only when they are on). */
typedef struct CallbackSection CallbackSection;
void api_section_apply(const ApiSection *s, const CallbackSection *cb, ApiConfig *ret);

/* Callbacks (webhooks). */
struct CallbackSection {
        bool enable_callbacks;
        uint64_t callbacks_max_tries;
        uint64_t callbacks_timeout;
        bool callbacks_allow_private;
        char *callbacks_secret;
};
extern const ConfKey callback_section_keys[];
extern const size_t callback_section_n_keys;

/* The workers and the sandbox. */
typedef struct WorkerSection {
        uint64_t workers;
        char *languages;
        uint64_t lease;
        uint64_t max_deliveries;
        uint64_t heartbeat;
        char *net_allow;
        char *net_deny;
        uint64_t shutdown_grace;
} WorkerSection;
extern const ConfKey worker_section_keys[];
extern const size_t worker_section_n_keys;
/* Worker threads (0 = the number of CPUs). */
unsigned worker_section_threads(const WorkerSection *s);
/* Start the sandbox supervisor with the section's slots and network policy, accepting
 * client_uid (besides root; -1 = none) as its client. Errors are logged. */
typedef struct BoxSupervisor BoxSupervisor;
int worker_section_start_supervisor(const WorkerSection *s, uid_t client_uid, BoxSupervisor **ret);

/* Retention of old submissions (off by default, as in Judge0). */
typedef struct RetentionSection {
        uint64_t retention_max_age;
        uint64_t retention_max_bytes;
        uint64_t retention_interval;
} RetentionSection;
extern const ConfKey retention_section_keys[];
extern const size_t retention_section_n_keys;
/* Start the background purger when the section asks for one (*ret stays NULL when not).
 * Errors are logged. */
typedef struct Retention Retention;
typedef struct Store Store;
int server_start_retention(const RetentionSection *s, Store *store, Retention **ret);

/* Where a role's state lives: the store, the queue and the notifier (cluster roles). */
typedef struct BackendSection {
        char *store;
        char *queue;
        char *notify;
        char *user;
} BackendSection;
extern const ConfKey backend_section_keys[];
extern const size_t backend_section_n_keys;

/* Load a role's configuration from its sections (defaults, file, environment, flags),
 * handling --help and --print-config. Returns 0 to run, 1 when the program should exit
 * with status *ret_exit (help printed, configuration printed, or an error told).
 * *ret_keys is the caller's (free() after conf_done()). */
int server_conf_load(const char *role, const char *summary, const ConfSection *sections, size_t n_sections,
        void *cfg, int argc, char **argv, ConfKey **ret_keys, size_t *ret_n, int *ret_exit);

/* The unprivileged identity a server role becomes after start-up. */
typedef struct ServerUser {
        bool set; /* false: none was asked for */
        uid_t uid;
        gid_t gid;
        char name[64]; /* "" for a uid with no account */
} ServerUser;
/* Resolve user (a name or a uid; empty: none). -ESRCH when there is no such user, -EPERM
 * for root. */
int server_user_resolve(const char *user, ServerUser *ret);
/* Give path and everything below it to u (never following symbolic links). */
int server_chown_tree(const char *path, const ServerUser *u);
/* Become u for good: supplementary groups, gid, uid, every thread. */
int server_become(const ServerUser *u);

/* A role's data directory, owned by u when one is set (everything below is given to it):
 * creates it (0700) and its "cache" and "work" directories; *ret_cache and *ret_work are
 * the caller's (free()). Errors are logged. */
int server_data_dir(const char *path, const ServerUser *u, char **ret_cache, char **ret_work);
/* Resolve a role's user: logs and returns < 0 on error; warns when root keeps its
 * privileges for want of one. */
int server_user_setup(const char *role, const char *user, ServerUser *ret);

/* Wait up to timeout_usec for one of sigs (blocked); true when one came (logged). */
bool server_stop_requested(const sigset_t *sigs, uint64_t timeout_usec);

/* Open the store, the queue and the notifier of a cluster role (each only when still
 * NULL), retrying each second while they are unreachable (the roles of a cluster start in
 * any order). consumer: the queue consumer's name (workers), or NULL. -ECANCELED when
 * told to stop meanwhile; other errors are logged. */
int server_open_backends(const BackendSection *b, uint64_t max_queue, const char *consumer,
        const sigset_t *sigs, Store **store, Queue **queue, Notify **notify);

/* The live registry of a cluster role: interactive runs through the Redis of the queue
 * (live/live-redis.h). Errors are logged. */
int server_open_live(const BackendSection *b, LiveRegistry **ret);

/* Start the callback sender (when enabled) and the worker pool with the sections'
 * settings; cfg holds the rest (id, box_socket, catalogue, store, queue, notify, judge).
 * On success *ret_callbacks (may stay NULL) and *ret_pool are the caller's. Errors are
 * logged. */
typedef struct WorkerPoolConfig WorkerPoolConfig;
typedef struct WorkerPool WorkerPool;
int server_start_workers(const WorkerSection *w, const CallbackSection *cb, WorkerPoolConfig *cfg,
        CallbackSender **ret_callbacks, WorkerPool **ret_pool);
