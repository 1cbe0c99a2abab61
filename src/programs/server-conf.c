/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/log.h"
#include "base/macro.h"
#include "base/parse-util.h"
#include "base/strv.h"
#include "base/time-util.h"
#include "json/judge0.h"
#include "model/limits.h"
#include "live/live-redis.h"
#include "programs/server-conf.h"
#include "sandbox/box.h"
#include "store/retention.h"
#include "worker/worker.h"

#define K(st, name, type, def, max, help) \
        { #name, type, offsetof(st, name), def, max, help, false }
#define S(st, name, def, help) \
        { #name, CONF_STRING, offsetof(st, name), def, 0, help, true }

/* ---- HTTP ---- */

#define H(...) K(HttpSection, __VA_ARGS__)
const ConfKey http_section_keys[] = {
        H(port, CONF_U64, "2358", 65535, "TCP port to listen on"),
        H(bind, CONF_STRING, "127.0.0.1", 0, "address to listen on (0.0.0.0 or :: for every interface)"),
        H(http_threads, CONF_U64, "4", 64, "HTTP server threads"),
        H(max_connections, CONF_U64, "1024", 65536, "simultaneous HTTP connections"),
        H(max_connections_per_ip, CONF_U64, "256", 65536, "simultaneous HTTP connections from one address"),
        H(connection_timeout, CONF_U64, "30", 3600, "seconds an idle HTTP connection is kept"),
};
#undef H
const size_t http_section_n_keys = ELEMENTSOF(http_section_keys);

void http_section_apply(const HttpSection *s, HttpServerConfig *ret) {
        *ret = (HttpServerConfig){
                .bind = s->bind,
                .port = (uint16_t) s->port,
                .threads = (unsigned) s->http_threads,
                .max_connections = (unsigned) s->max_connections,
                .max_connections_per_ip = (unsigned) s->max_connections_per_ip,
                .connection_timeout_sec = (unsigned) s->connection_timeout,
        };
}

/* ---- the Judge0 API ---- */

#define A(...) K(ApiSection, __VA_ARGS__)
const ConfKey api_section_keys[] = {
        A(wait_timeout, CONF_SECONDS, "120", 3600000000,
                "longest wait=true wait, then the submission as it is"),
        A(max_event_streams, CONF_U64, "1000", 1000000,
                "GET /submissions/:token/events streams open at once (more: 503)"),
        A(event_heartbeat, CONF_SECONDS, "15", 3600000000,
                "seconds without an event after which a stream gets a heartbeat comment"),
        A(worker_timeout, CONF_SECONDS, "10", 3600000000,
                "a worker whose last heartbeat is older is not counted as alive"),
        A(max_queue_size, CONF_U64, LIMITS_TEXT(JUDGE0_MAX_QUEUE_SIZE), 10000000,
                "submissions waiting for a worker (MAX_QUEUE_SIZE)"),
        A(maintenance_mode, CONF_BOOL, "false", 0, "refuse new submissions with 503 (MAINTENANCE_MODE)"),
        A(maintenance_message, CONF_STRING, "Judge0 is currently in maintenance.", 0, "MAINTENANCE_MESSAGE"),
        A(enable_wait_result, CONF_BOOL, "true", 0, "allow wait=true (ENABLE_WAIT_RESULT)"),
        A(enable_submission_delete, CONF_BOOL, "false", 0, "allow DELETE /submissions/:token"),
        A(enable_batched_submissions, CONF_BOOL, "true", 0, "allow the batch endpoints"),
        A(max_submission_batch_size, CONF_U64, LIMITS_TEXT(JUDGE0_MAX_SUBMISSION_BATCH_SIZE), 10000,
                "MAX_SUBMISSION_BATCH_SIZE"),
        A(max_per_page, CONF_U64, "1000", 100000, "largest per_page of GET /submissions"),
        A(authn_header, CONF_STRING, "X-Auth-Token", 0, "AUTHN_HEADER"),
        S(ApiSection, authn_token, "",
                "AUTHN_TOKEN: whitespace-separated tokens; empty = no authentication"),
        A(authz_header, CONF_STRING, "X-Auth-User", 0, "AUTHZ_HEADER"),
        S(ApiSection, authz_token, "",
                "AUTHZ_TOKEN: whitespace-separated; empty = list and delete always 403"),
        A(allow_ip, CONF_STRING, "", 0, "ALLOW_IP: only these addresses (whitespace-separated)"),
        A(disallow_ip, CONF_STRING, "", 0, "DISALLOW_IP: never these addresses"),
        A(cpu_time_limit, CONF_SECONDS, LIMITS_TEXT(JUDGE0_CPU_TIME_LIMIT), 0,
                "CPU_TIME_LIMIT: default CPU time of a run"),
        A(max_cpu_time_limit, CONF_SECONDS, LIMITS_TEXT(JUDGE0_MAX_CPU_TIME_LIMIT), 0, "MAX_CPU_TIME_LIMIT"),
        A(cpu_extra_time, CONF_SECONDS, LIMITS_TEXT(JUDGE0_CPU_EXTRA_TIME), 0, "CPU_EXTRA_TIME"),
        A(max_cpu_extra_time, CONF_SECONDS, LIMITS_TEXT(JUDGE0_MAX_CPU_EXTRA_TIME), 0, "MAX_CPU_EXTRA_TIME"),
        A(wall_time_limit, CONF_SECONDS, LIMITS_TEXT(JUDGE0_WALL_TIME_LIMIT), 0, "WALL_TIME_LIMIT"),
        A(max_wall_time_limit, CONF_SECONDS, LIMITS_TEXT(JUDGE0_MAX_WALL_TIME_LIMIT), 0,
                "MAX_WALL_TIME_LIMIT"),
        A(memory_limit, CONF_U64, LIMITS_TEXT(JUDGE0_MEMORY_LIMIT), 0, "MEMORY_LIMIT (KB)"),
        A(max_memory_limit, CONF_U64, LIMITS_TEXT(JUDGE0_MAX_MEMORY_LIMIT), 0, "MAX_MEMORY_LIMIT (KB)"),
        A(stack_limit, CONF_U64, LIMITS_TEXT(JUDGE0_STACK_LIMIT), 0, "STACK_LIMIT (KB)"),
        A(max_stack_limit, CONF_U64, LIMITS_TEXT(JUDGE0_MAX_STACK_LIMIT), 0, "MAX_STACK_LIMIT (KB)"),
        A(max_processes_and_or_threads, CONF_U64, LIMITS_TEXT(JUDGE0_MAX_PROCESSES_AND_OR_THREADS), 1000000,
                "MAX_PROCESSES_AND_OR_THREADS"),
        A(max_max_processes_and_or_threads, CONF_U64, LIMITS_TEXT(JUDGE0_MAX_MAX_PROCESSES_AND_OR_THREADS),
                1000000, "MAX_MAX_PROCESSES_AND_OR_THREADS"),
        A(enable_per_process_and_thread_time_limit, CONF_BOOL, "false", 0,
                "ENABLE_PER_PROCESS_AND_THREAD_TIME_LIMIT"),
        A(allow_enable_per_process_and_thread_time_limit, CONF_BOOL, "true", 0,
                "ALLOW_ENABLE_PER_PROCESS_AND_THREAD_TIME_LIMIT"),
        A(enable_per_process_and_thread_memory_limit, CONF_BOOL, "false", 0,
                "ENABLE_PER_PROCESS_AND_THREAD_MEMORY_LIMIT"),
        A(allow_enable_per_process_and_thread_memory_limit, CONF_BOOL, "true", 0,
                "ALLOW_ENABLE_PER_PROCESS_AND_THREAD_MEMORY_LIMIT"),
        A(max_file_size, CONF_U64, LIMITS_TEXT(JUDGE0_MAX_FILE_SIZE), 0, "MAX_FILE_SIZE (KB)"),
        A(max_max_file_size, CONF_U64, LIMITS_TEXT(JUDGE0_MAX_MAX_FILE_SIZE), 0, "MAX_MAX_FILE_SIZE (KB)"),
        A(number_of_runs, CONF_U64, LIMITS_TEXT(JUDGE0_NUMBER_OF_RUNS), 1000, "NUMBER_OF_RUNS"),
        A(max_number_of_runs, CONF_U64, LIMITS_TEXT(JUDGE0_MAX_NUMBER_OF_RUNS), 1000, "MAX_NUMBER_OF_RUNS"),
        A(redirect_stderr_to_stdout, CONF_BOOL, "false", 0, "REDIRECT_STDERR_TO_STDOUT"),
        A(enable_network, CONF_BOOL, "false", 0, "ENABLE_NETWORK"),
        A(allow_enable_network, CONF_BOOL, "true", 0, "ALLOW_ENABLE_NETWORK"),
        A(enable_compiler_options, CONF_BOOL, "true", 0, "ENABLE_COMPILER_OPTIONS"),
        A(enable_command_line_arguments, CONF_BOOL, "true", 0, "ENABLE_COMMAND_LINE_ARGUMENTS"),
        A(enable_additional_files, CONF_BOOL, "true", 0, "ENABLE_ADDITIONAL_FILES"),
};
#undef A
const size_t api_section_n_keys = ELEMENTSOF(api_section_keys);

void api_section_apply(const ApiSection *c, const CallbackSection *cb, ApiConfig *ret) {
        ApiConfig ac = {
                .maintenance_mode = c->maintenance_mode,
                .maintenance_message = c->maintenance_message,
                .enable_wait_result = c->enable_wait_result,
                .enable_submission_delete = c->enable_submission_delete,
                .enable_batched_submissions = c->enable_batched_submissions,
                .max_submission_batch_size = (uint32_t) c->max_submission_batch_size,
                .max_per_page = (uint32_t) c->max_per_page,
                .wait_timeout_usec = c->wait_timeout,
                .max_event_streams = (uint32_t) c->max_event_streams,
                .event_heartbeat_usec = c->event_heartbeat,
                .worker_timeout_usec = c->worker_timeout,
                .authn_header = c->authn_header,
                .authn_token = c->authn_token,
                .authz_header = c->authz_header,
                .authz_token = c->authz_token,
                .allow_ip = c->allow_ip,
                .disallow_ip = c->disallow_ip,
        };
        judge0_rules_init(&ac.rules);
        ac.rules.cpu_time_limit_usec = c->cpu_time_limit;
        ac.rules.max_cpu_time_limit_usec = c->max_cpu_time_limit;
        ac.rules.cpu_extra_time_usec = c->cpu_extra_time;
        ac.rules.max_cpu_extra_time_usec = c->max_cpu_extra_time;
        ac.rules.wall_time_limit_usec = c->wall_time_limit;
        ac.rules.max_wall_time_limit_usec = c->max_wall_time_limit;
        ac.rules.memory_limit_kib = c->memory_limit;
        ac.rules.max_memory_limit_kib = c->max_memory_limit;
        ac.rules.stack_limit_kib = c->stack_limit;
        ac.rules.max_stack_limit_kib = c->max_stack_limit;
        ac.rules.max_processes_and_or_threads = (uint32_t) c->max_processes_and_or_threads;
        ac.rules.max_max_processes_and_or_threads = (uint32_t) c->max_max_processes_and_or_threads;
        ac.rules.enable_per_process_and_thread_time_limit = c->enable_per_process_and_thread_time_limit;
        ac.rules.allow_enable_per_process_and_thread_time_limit =
                c->allow_enable_per_process_and_thread_time_limit;
        ac.rules.enable_per_process_and_thread_memory_limit = c->enable_per_process_and_thread_memory_limit;
        ac.rules.allow_enable_per_process_and_thread_memory_limit =
                c->allow_enable_per_process_and_thread_memory_limit;
        ac.rules.max_file_size_kib = c->max_file_size;
        ac.rules.max_max_file_size_kib = c->max_max_file_size;
        ac.rules.number_of_runs = (uint32_t) c->number_of_runs;
        ac.rules.max_number_of_runs = (uint32_t) c->max_number_of_runs;
        ac.rules.redirect_stderr_to_stdout = c->redirect_stderr_to_stdout;
        ac.rules.enable_network = c->enable_network;
        ac.rules.allow_enable_network = c->allow_enable_network;
        ac.rules.enable_compiler_options = c->enable_compiler_options;
        ac.rules.enable_command_line_arguments = c->enable_command_line_arguments;
        ac.rules.enable_additional_files = c->enable_additional_files;
        ac.rules.enable_callbacks = cb->enable_callbacks;
        ac.config_info.callbacks_max_tries = (uint32_t) cb->callbacks_max_tries;
        ac.config_info.callbacks_timeout_usec = cb->callbacks_timeout;
        judge0_config_info_init(&ac.config_info);
        *ret = ac;
}

/* ---- callbacks ---- */

#define C(...) K(CallbackSection, __VA_ARGS__)
const ConfKey callback_section_keys[] = {
        C(enable_callbacks, CONF_BOOL, "true", 0, "ENABLE_CALLBACKS: PUT the result to callback_url"),
        C(callbacks_max_tries, CONF_U64, "3", 100, "CALLBACKS_MAX_TRIES"),
        C(callbacks_timeout, CONF_SECONDS, "5", 600000000, "CALLBACKS_TIMEOUT: each try"),
        C(callbacks_allow_private, CONF_BOOL, "false", 0,
                "allow callbacks to loopback, private and link-local addresses"),
        S(CallbackSection, callbacks_secret, "",
                "sign callbacks: X-Coderunner-Signature: sha256=HMAC-SHA256(secret, body)"),
};
#undef C
const size_t callback_section_n_keys = ELEMENTSOF(callback_section_keys);

/* ---- workers ---- */

#define W(...) K(WorkerSection, __VA_ARGS__)
const ConfKey worker_section_keys[] = {
        W(workers, CONF_U64, "0", 1024, "worker threads and sandbox slots (0 = number of CPUs)"),
        W(languages, CONF_STRING, "", 0, "the language catalogue directory; empty = the built-in one"),
        W(lease, CONF_SECONDS, "30", 86400000000,
                "a claimed job's lease, extended while it runs; a dead worker's job is taken over after it"),
        W(max_deliveries, CONF_U64, "3", 1000,
                "a job delivered more often (its worker died each time) ends as Internal Error"),
        W(heartbeat, CONF_SECONDS, "2", 3600000000,
                "how often a worker refreshes its registry record and leases"),
        W(net_allow, CONF_STRING, "", 0,
                "networked runs (enable_network) may reach these CIDRs although the built-in deny list "
                "(private, loopback, link-local, metadata...) has them (comma-separated)"),
        W(net_deny, CONF_STRING, "", 0, "networked runs may never reach these CIDRs (comma-separated)"),
        W(shutdown_grace, CONF_SECONDS, "8", 3600000000,
                "on SIGTERM/SIGINT, seconds the running submissions get to finish before they are handed "
                "back"),
};
#undef W
const size_t worker_section_n_keys = ELEMENTSOF(worker_section_keys);

unsigned worker_section_threads(const WorkerSection *s) {
        long n = s->workers ? (long) s->workers : sysconf(_SC_NPROCESSORS_ONLN);
        return n > 0 ? (unsigned) n : 1;
}

int worker_section_start_supervisor(const WorkerSection *s, uid_t client_uid, BoxSupervisor **ret) {
        char err[256] = "";
        char **allow = NULL, **deny = NULL;
        int r = box_net_parse_list(s->net_allow, &allow, err, sizeof err);
        if (r < 0) {
                log_error(r, "net_allow: %s", err);
                return r;
        }
        r = box_net_parse_list(s->net_deny, &deny, err, sizeof err);
        if (r < 0) {
                strv_free(allow);
                log_error(r, "net_deny: %s", err);
                return r;
        }
        /* Two slots per worker thread: the second runs the interactor of an interactive
         * submission beside the program. */
        r = box_supervisor_start(&(BoxSupervisorConfig){.slots = 2 * worker_section_threads(s),
                                         .client_uid = client_uid,
                                         .net_allow = (const char *const *) allow,
                                         .net_deny = (const char *const *) deny},
                ret);
        strv_free(allow);
        strv_free(deny);
        if (r < 0)
                log_error(r, "cannot start the sandbox supervisor: %s", strerror(-r));
        return r;
}

/* ---- retention ---- */

#define R(...) K(RetentionSection, __VA_ARGS__)
const ConfKey retention_section_keys[] = {
        R(retention_max_age, CONF_SECONDS, "0", 0,
                "purge inputs and outputs of submissions finished longer ago (0 = keep)"),
        R(retention_max_bytes, CONF_U64, "0", INT64_MAX,
                "purge the oldest finished until inputs and outputs fit in these bytes (0 = no limit)"),
        R(retention_interval, CONF_SECONDS, "60", 86400000000, "seconds between two retention passes"),
};
#undef R
const size_t retention_section_n_keys = ELEMENTSOF(retention_section_keys);

int server_start_retention(const RetentionSection *s, Store *store, Retention **ret) {
        *ret = NULL;
        if (s->retention_max_age == 0 && s->retention_max_bytes == 0)
                return 0;
        const StoreRetention policy = {
                .max_age_usec = s->retention_max_age, .max_bytes = s->retention_max_bytes};
        int r = retention_start(store, &policy, MAX(s->retention_interval, 1u), ret);
        if (r < 0)
                return log_error(r, "cannot start the retention purger: %s", strerror(-r));
        return 0;
}

/* ---- backends ---- */

#define B(...) K(BackendSection, __VA_ARGS__)
const ConfKey backend_section_keys[] = {
        S(BackendSection, store, "",
                "store URL: postgres://USER@HOST:PORT/DB (or sqlite:PATH on one machine)"),
        S(BackendSection, queue, "", "queue URL: redis://HOST:PORT[/DB] (or memory: inside serve)"),
        S(BackendSection, notify, "", "notifier URL: redis://HOST:PORT; empty = the queue's Redis"),
        B(user, CONF_STRING, "", 0, "the unprivileged user to become after start-up (name or uid)"),
};
#undef B
const size_t backend_section_n_keys = ELEMENTSOF(backend_section_keys);

/* ---- loading ---- */

int server_conf_load(const char *role, const char *summary, const ConfSection *sections, size_t n_sections,
        void *cfg, int argc, char **argv, ConfKey **ret_keys, size_t *ret_n, int *ret_exit) {
        ConfKey *keys = NULL;
        size_t n = 0;
        int r = conf_compose(sections, n_sections, &keys, &n);
        if (r < 0) {
                log_error(r, "%s: the configuration sections overlap", role);
                *ret_exit = 2;
                return 1;
        }
        bool print = false;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        printf("Usage: coderunner %s [OPTIONS]\n\n%s\n"
                               "Every option may also be set in a configuration file, as 'key = value' "
                               "lines\n"
                               "('#' starts a comment line), and as CODERUNNER_<OPTION> in the environment\n"
                               "(--max-queue-size: CODERUNNER_MAX_QUEUE_SIZE). The defaults come first, "
                               "then\n"
                               "the file, then the environment; flags win.\n\n"
                               "  --config=FILE    read the configuration file FILE (default: "
                               "$CODERUNNER_CONFIG)\n"
                               "  --print-config   print the effective configuration and exit\n",
                                role, summary);
                        conf_usage(keys, n, stdout);
                        free(keys);
                        *ret_exit = 0;
                        return 1;
                }
                print = print || strcmp(argv[i], "--print-config") == 0;
        }
        char err[256];
        static const char *const extra[] = {"--print-config", NULL};
        r = conf_load(keys, n, cfg, argc, argv, extra, err, sizeof err);
        if (r < 0) {
                log_error(r, "%s (try: coderunner %s --help)", err, role);
                conf_done(keys, n, cfg);
                free(keys);
                *ret_exit = 1;
                return 1;
        }
        if (print) {
                conf_print(keys, n, cfg, stdout);
                conf_done(keys, n, cfg);
                free(keys);
                *ret_exit = 0;
                return 1;
        }
        *ret_keys = keys;
        *ret_n = n;
        return 0;
}

int server_user_resolve(const char *user, ServerUser *ret) {
        ServerUser u = {};
        if (user && *user) {
                struct passwd *pw = getpwnam(user);
                uint64_t n;
                if (pw) {
                        u.uid = pw->pw_uid;
                        u.gid = pw->pw_gid;
                        snprintf(u.name, sizeof u.name, "%s", pw->pw_name);
                } else if (parse_u64_max(user, UINT32_MAX - 1, &n) >= 0) {
                        u.uid = (uid_t) n;
                        u.gid = (gid_t) n;
                        pw = getpwuid(u.uid);
                        if (pw) {
                                u.gid = pw->pw_gid;
                                snprintf(u.name, sizeof u.name, "%s", pw->pw_name);
                        }
                } else
                        return -ESRCH;
                if (u.uid == 0)
                        return -EPERM;
                u.set = true;
        }
        *ret = u;
        return 0;
}

static int chown_below(int dfd, const ServerUser *u, unsigned depth) {
        if (depth > 64)
                return -ELOOP;
        DIR *d = dir_open_at(dfd);
        if (!d)
                return -errno;
        int r = 0;
        for (struct dirent *e; (e = readdir(d));) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (fchownat(dfd, e->d_name, u->uid, u->gid, AT_SYMLINK_NOFOLLOW) < 0 && r == 0)
                        r = -errno;
                if (e->d_type == DT_DIR) {
                        int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0) {
                                int k = chown_below(sub, u, depth + 1);
                                if (k < 0 && r == 0)
                                        r = k;
                                close(sub);
                        }
                }
        }
        closedir(d);
        return r;
}

int server_chown_tree(const char *path, const ServerUser *u) {
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = fchown(fd, u->uid, u->gid) < 0 ? -errno : 0;
        int k = chown_below(fd, u, 0);
        close(fd);
        return r < 0 ? r : k;
}

int server_become(const ServerUser *u) {
        if (!u->set)
                return 0;
        if (geteuid() != 0)
                return getuid() == u->uid ? 0 : -EPERM;
        if ((u->name[0] ? initgroups(u->name, u->gid) : setgroups(0, NULL)) < 0 ||
                setresgid(u->gid, u->gid, u->gid) < 0 || setresuid(u->uid, u->uid, u->uid) < 0)
                return -errno;
        /* For good: no way back. */
        if (setuid(0) == 0)
                return -EPERM;
        return 0;
}

/* The first directory on the way to path (path itself excluded: it is given to u) that u
 * may not search, or NULL (*ret). */
static int closed_on_the_way(const char *path, const ServerUser *u, char **ret) {
        _cleanup_free_ char *real = realpath(path, NULL);
        if (!real)
                return -errno;
        char *last = strrchr(real, '/');
        if (last == real)
                last[1] = '\0'; /* the parent is / */
        else if (last)
                *last = '\0';
        for (char *p = real;;) {
                char *slash = strchr(p + 1, '/');
                if (slash)
                        *slash = '\0';
                struct stat st;
                if (stat(real, &st) < 0)
                        return -errno;
                mode_t need = st.st_uid == u->uid ? S_IXUSR : st.st_gid == u->gid ? S_IXGRP : S_IXOTH;
                if (!(st.st_mode & need)) {
                        *ret = strdup(real);
                        return *ret ? 0 : -ENOMEM;
                }
                if (!slash)
                        break;
                *slash = '/';
                p = slash;
        }
        *ret = NULL;
        return 0;
}

int server_data_dir(const char *path, const ServerUser *u, char **ret_cache, char **ret_work) {
        _cleanup_free_ char *cache = NULL, *work = NULL, *closed = NULL;
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return log_error(errno, "cannot create the data directory %s: %m", path);
        if (u->set) {
                int r = closed_on_the_way(path, u, &closed);
                if (r < 0)
                        return log_error(r, "cannot look at %s: %s", path, strerror(-r));
                if (closed)
                        return log_error(EACCES,
                                "the user %s cannot reach the data directory %s (%s is closed to it): "
                                "choose a --data-dir it can reach",
                                u->name[0] ? u->name : "of --user", path, closed);
        }
        if (asprintf(&cache, "%s/cache", path) < 0 || asprintf(&work, "%s/work", path) < 0)
                return log_error(ENOMEM, "out of memory");
        const char *dirs[] = {cache, work};
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if (mkdir(dirs[i], 0700) < 0 && errno != EEXIST)
                        return log_error(errno, "cannot create %s: %m", dirs[i]);
        if (u->set) {
                int r = server_chown_tree(path, u);
                if (r < 0)
                        return log_error(
                                r, "cannot give %s to uid %u: %s", path, (unsigned) u->uid, strerror(-r));
        }
        *ret_cache = TAKE_PTR(cache);
        *ret_work = TAKE_PTR(work);
        return 0;
}

int server_user_setup(const char *role, const char *user, ServerUser *ret) {
        int r = server_user_resolve(user, ret);
        if (r == -ESRCH)
                return log_error(r, "%s: there is no user \"%s\"", role, user);
        if (r == -EPERM)
                return log_error(r, "%s: --user must not be root", role);
        if (r < 0)
                return log_error(r, "%s: cannot resolve the user \"%s\": %s", role, user, strerror(-r));
        if (!ret->set && geteuid() == 0)
                log_warning(0,
                        "%s keeps root in the process that talks to the network: give --user=NAME so that "
                        "only the sandbox supervisor keeps it",
                        role);
        return 0;
}

bool server_stop_requested(const sigset_t *sigs, uint64_t timeout_usec) {
        struct timespec ts = {
                (time_t) (timeout_usec / USEC_PER_SEC), (long) (timeout_usec % USEC_PER_SEC * 1000)};
        int sig = sigtimedwait(sigs, NULL, &ts);
        if (sig > 0)
                log_info("stopping signal=%s", strsignal(sig));
        return sig > 0;
}

int server_open_backends(const BackendSection *b, uint64_t max_queue, const char *consumer,
        const sigset_t *sigs, Store **store, Queue **queue, Notify **notify) {
        const char *notify_url = *b->notify ? b->notify : b->queue;
        for (unsigned attempt = 0;; attempt++) {
                char err[STORE_ERROR_MAX] = "";
                const char *what = NULL;
                int r = 0;
                if (!*store && (r = store_open(b->store, err, store)) < 0)
                        what = "store";
                if (r >= 0 && !*queue &&
                        (r = queue_open(b->queue, max_queue ? max_queue : 1, consumer, err, queue)) < 0)
                        what = "queue";
                if (r >= 0 && !*notify && (r = notify_open(notify_url, err, notify)) < 0)
                        what = "notifier";
                if (r >= 0)
                        return 0;
                if (r == -EINVAL || r == -EPROTONOSUPPORT)
                        return log_error(r, "cannot open the %s: %s", what, err);
                if (attempt % 10 == 0)
                        log_warning(r, "cannot reach the %s yet: %s (retrying)", what, err);
                if (server_stop_requested(sigs, USEC_PER_SEC))
                        return -ECANCELED;
        }
}

int server_open_live(const BackendSection *b, LiveRegistry **ret) {
        char err[256] = "";
        int r = live_registry_redis_new(b->queue, err, ret);
        if (r < 0)
                return log_error(
                        r, "cannot open the interactive runs' Redis: %s", err[0] ? err : strerror(-r));
        return 0;
}

int server_start_workers(const WorkerSection *w, const CallbackSection *cb, WorkerPoolConfig *cfg,
        CallbackSender **ret_callbacks, WorkerPool **ret_pool) {
        int r;
        if (cb->enable_callbacks) {
                r = callback_sender_start(
                        &(CallbackConfig){.max_tries = cb->callbacks_max_tries
                                                               ? (uint32_t) cb->callbacks_max_tries
                                                               : 1,
                                .timeout_usec = cb->callbacks_timeout,
                                .allow_private = cb->callbacks_allow_private,
                                .secret = cb->callbacks_secret,
                                .max_pending = 10000},
                        ret_callbacks);
                if (r < 0)
                        return log_error(r, "cannot start the callback sender: %s", strerror(-r));
        }
        cfg->n = worker_section_threads(w);
        cfg->max_deliveries = (uint32_t) w->max_deliveries;
        cfg->lease_usec = w->lease;
        cfg->heartbeat_usec = w->heartbeat;
        cfg->callbacks = *ret_callbacks;
        r = worker_pool_start(cfg, ret_pool);
        if (r < 0)
                return log_error(r, "cannot start the workers: %s", strerror(-r));
        return 0;
}
