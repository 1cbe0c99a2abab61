/* SPDX-License-Identifier: MIT */
/* coderunner serve: the Judge0 CE 1.13.1-compatible API on one machine: HTTP server,
 * in-process queue, worker threads judging through the resident sandbox supervisor, and
 * the store (SQLite under the data directory by default). */

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api.h"
#include "base/log.h"
#include "base/macro.h"
#include "callback/callback.h"
#include "conf/conf.h"
#include "http/http.h"
#include "judge/judge.h"
#include "lang/language.h"
#include "programs/programs.h"
#include "queue/queue.h"
#include "config.h"
#include "sandbox/box.h"
#include "store/retention.h"
#include "store/store.h"
#include "worker/worker.h"

#define MAX_REQUEST_BODY (16u * 1024 * 1024) /* bytes: more is 413 */

typedef struct ServeConfig {
        uint64_t port;
        char *bind;
        char *data_dir;
        char *web_dir;
        char *store;
        char *languages;
        uint64_t workers;
        uint64_t http_threads;
        uint64_t max_connections;
        uint64_t max_connections_per_ip;
        uint64_t connection_timeout;
        uint64_t wait_timeout;
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
        bool enable_callbacks;
        uint64_t callbacks_max_tries;
        uint64_t callbacks_timeout;
        bool callbacks_allow_private;
        char *callbacks_secret;
        /* Judge0's submission limits and switches (§2.2). */
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
        /* Retention (off by default, as in Judge0). */
        uint64_t retention_max_age;
        uint64_t retention_max_bytes;
        uint64_t retention_interval;
} ServeConfig;

#define K(name, type, def, max, help) \
        { #name, type, offsetof(ServeConfig, name), def, max, help, false }
#define S(name, def, help) \
        { #name, CONF_STRING, offsetof(ServeConfig, name), def, 0, help, true }
static const ConfKey serve_keys[] = {
        K(port, CONF_U64, "2358", 65535, "TCP port to listen on"),
        K(bind, CONF_STRING, "127.0.0.1", 0, "address to listen on (0.0.0.0 or :: for every interface)"),
        K(data_dir, CONF_STRING, "./data", 0, "where the database and the compile cache live"),
        K(web_dir, CONF_STRING, "", 0,
                "the web IDE's static export, served at /; empty = web/out of the source tree when built"),
        K(store, CONF_STRING, "", 0,
                "store URL, sqlite:PATH or postgres://...; empty = sqlite:DATA_DIR/coderunner.db"),
        K(languages, CONF_STRING, "", 0, "the language catalogue directory; empty = the built-in one"),
        K(workers, CONF_U64, "0", 1024, "worker threads and sandbox slots (0 = number of CPUs)"),
        K(http_threads, CONF_U64, "4", 64, "HTTP server threads"),
        K(max_connections, CONF_U64, "1024", 65536, "simultaneous HTTP connections"),
        K(max_connections_per_ip, CONF_U64, "256", 65536, "simultaneous HTTP connections from one address"),
        K(connection_timeout, CONF_U64, "30", 3600, "seconds an idle HTTP connection is kept"),
        K(wait_timeout, CONF_SECONDS, "120", 3600000000,
                "longest wait=true wait, then the submission as it is"),
        K(max_queue_size, CONF_U64, "100", 10000000, "submissions waiting for a worker (MAX_QUEUE_SIZE)"),
        K(maintenance_mode, CONF_BOOL, "false", 0, "refuse new submissions with 503 (MAINTENANCE_MODE)"),
        K(maintenance_message, CONF_STRING, "Judge0 is currently in maintenance.", 0, "MAINTENANCE_MESSAGE"),
        K(enable_wait_result, CONF_BOOL, "true", 0, "allow wait=true (ENABLE_WAIT_RESULT)"),
        K(enable_submission_delete, CONF_BOOL, "false", 0, "allow DELETE /submissions/:token"),
        K(enable_batched_submissions, CONF_BOOL, "true", 0, "allow the batch endpoints"),
        K(max_submission_batch_size, CONF_U64, "20", 10000, "MAX_SUBMISSION_BATCH_SIZE"),
        K(max_per_page, CONF_U64, "1000", 100000, "largest per_page of GET /submissions"),
        K(authn_header, CONF_STRING, "X-Auth-Token", 0, "AUTHN_HEADER"),
        S(authn_token, "", "AUTHN_TOKEN: whitespace-separated tokens; empty = no authentication"),
        K(authz_header, CONF_STRING, "X-Auth-User", 0, "AUTHZ_HEADER"),
        S(authz_token, "", "AUTHZ_TOKEN: whitespace-separated; empty = list and delete always 403"),
        K(allow_ip, CONF_STRING, "", 0, "ALLOW_IP: only these addresses (whitespace-separated)"),
        K(disallow_ip, CONF_STRING, "", 0, "DISALLOW_IP: never these addresses"),
        K(enable_callbacks, CONF_BOOL, "true", 0, "ENABLE_CALLBACKS: PUT the result to callback_url"),
        K(callbacks_max_tries, CONF_U64, "3", 100, "CALLBACKS_MAX_TRIES"),
        K(callbacks_timeout, CONF_SECONDS, "5", 600000000, "CALLBACKS_TIMEOUT: each try"),
        K(callbacks_allow_private, CONF_BOOL, "false", 0,
                "allow callbacks to loopback, private and link-local addresses"),
        S(callbacks_secret, "", "sign callbacks: X-Coderunner-Signature: sha256=HMAC-SHA256(secret, body)"),
        K(cpu_time_limit, CONF_SECONDS, "5", 0, "CPU_TIME_LIMIT: default CPU time of a run"),
        K(max_cpu_time_limit, CONF_SECONDS, "15", 0, "MAX_CPU_TIME_LIMIT"),
        K(cpu_extra_time, CONF_SECONDS, "1", 0, "CPU_EXTRA_TIME"),
        K(max_cpu_extra_time, CONF_SECONDS, "5", 0, "MAX_CPU_EXTRA_TIME"),
        K(wall_time_limit, CONF_SECONDS, "10", 0, "WALL_TIME_LIMIT"),
        K(max_wall_time_limit, CONF_SECONDS, "20", 0, "MAX_WALL_TIME_LIMIT"),
        K(memory_limit, CONF_U64, "128000", 0, "MEMORY_LIMIT (KB)"),
        K(max_memory_limit, CONF_U64, "512000", 0, "MAX_MEMORY_LIMIT (KB)"),
        K(stack_limit, CONF_U64, "64000", 0, "STACK_LIMIT (KB)"),
        K(max_stack_limit, CONF_U64, "128000", 0, "MAX_STACK_LIMIT (KB)"),
        K(max_processes_and_or_threads, CONF_U64, "60", 1000000, "MAX_PROCESSES_AND_OR_THREADS"),
        K(max_max_processes_and_or_threads, CONF_U64, "120", 1000000, "MAX_MAX_PROCESSES_AND_OR_THREADS"),
        K(enable_per_process_and_thread_time_limit, CONF_BOOL, "false", 0,
                "ENABLE_PER_PROCESS_AND_THREAD_TIME_LIMIT"),
        K(allow_enable_per_process_and_thread_time_limit, CONF_BOOL, "true", 0,
                "ALLOW_ENABLE_PER_PROCESS_AND_THREAD_TIME_LIMIT"),
        K(enable_per_process_and_thread_memory_limit, CONF_BOOL, "false", 0,
                "ENABLE_PER_PROCESS_AND_THREAD_MEMORY_LIMIT"),
        K(allow_enable_per_process_and_thread_memory_limit, CONF_BOOL, "true", 0,
                "ALLOW_ENABLE_PER_PROCESS_AND_THREAD_MEMORY_LIMIT"),
        K(max_file_size, CONF_U64, "1024", 0, "MAX_FILE_SIZE (KB)"),
        K(max_max_file_size, CONF_U64, "4096", 0, "MAX_MAX_FILE_SIZE (KB)"),
        K(number_of_runs, CONF_U64, "1", 1000, "NUMBER_OF_RUNS"),
        K(max_number_of_runs, CONF_U64, "20", 1000, "MAX_NUMBER_OF_RUNS"),
        K(redirect_stderr_to_stdout, CONF_BOOL, "false", 0, "REDIRECT_STDERR_TO_STDOUT"),
        K(enable_network, CONF_BOOL, "false", 0, "ENABLE_NETWORK"),
        K(allow_enable_network, CONF_BOOL, "true", 0, "ALLOW_ENABLE_NETWORK"),
        K(enable_compiler_options, CONF_BOOL, "true", 0, "ENABLE_COMPILER_OPTIONS"),
        K(enable_command_line_arguments, CONF_BOOL, "true", 0, "ENABLE_COMMAND_LINE_ARGUMENTS"),
        K(enable_additional_files, CONF_BOOL, "true", 0, "ENABLE_ADDITIONAL_FILES"),
        K(retention_max_age, CONF_SECONDS, "0", 0,
                "purge inputs and outputs of submissions finished longer ago (0 = keep)"),
        K(retention_max_bytes, CONF_U64, "0", INT64_MAX,
                "purge the oldest finished until inputs and outputs fit in these bytes (0 = no limit)"),
        K(retention_interval, CONF_SECONDS, "60", 86400000000, "seconds between two retention passes"),
};
#undef K
#undef S
#define N_KEYS (sizeof serve_keys / sizeof serve_keys[0])

static void usage(FILE *f) {
        fprintf(f, "Usage: coderunner serve [OPTIONS]\n\n"
                   "Serve the Judge0 CE 1.13.1 API. Runs as root (it starts the sandbox supervisor).\n"
                   "Every option may also be set in a configuration file, as 'key = value' lines\n"
                   "('#' starts a comment line; max_queue_size = 100), and as CODERUNNER_<OPTION>\n"
                   "in the environment (--max-queue-size: CODERUNNER_MAX_QUEUE_SIZE). The defaults\n"
                   "come first, then the file, then the environment; flags win.\n\n"
                   "  --config=FILE    read the configuration file FILE (default: $CODERUNNER_CONFIG)\n"
                   "  --print-config   print the effective configuration and exit\n");
        conf_usage(serve_keys, N_KEYS, f);
}

static int run(const ServeConfig *c) {
        int r, ret = 1;
        Catalogue cat = {};
        BoxSupervisor *sup = NULL;
        Store *store = NULL;
        Queue *queue = NULL;
        Api *api = NULL;
        WorkerPool *pool = NULL;
        CallbackSender *callbacks = NULL;
        HttpServer *http = NULL;
        Retention *retention = NULL;
        _cleanup_free_ char *store_url = NULL, *cache_dir = NULL;
        char err[STORE_ERROR_MAX];

        if (mkdir(c->data_dir, 0700) < 0 && errno != EEXIST)
                return log_error(errno, "cannot create the data directory %s: %m", c->data_dir), 1;
        if (asprintf(&cache_dir, "%s/cache", c->data_dir) < 0 ||
                (!*c->store && asprintf(&store_url, "sqlite:%s/coderunner.db", c->data_dir) < 0))
                return log_error(ENOMEM, "out of memory"), 1;
        if (mkdir(cache_dir, 0700) < 0 && errno != EEXIST)
                return log_error(errno, "cannot create %s: %m", cache_dir), 1;

        unsigned workers = c->workers ? (unsigned) c->workers : (unsigned) sysconf(_SC_NPROCESSORS_ONLN);
        if (workers == 0)
                workers = 1;

        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGHUP);
        signal(SIGPIPE, SIG_IGN);

        r = catalogue_load(*c->languages ? c->languages : catalogue_default_dir(), &cat, err, sizeof err);
        if (r < 0) {
                log_error(r, "%s", err);
                goto out;
        }
        catalogue_detect(&cat);

        r = box_supervisor_start(&(BoxSupervisorConfig){.slots = workers, .client_uid = (uid_t) -1}, &sup);
        if (r < 0) {
                log_error(r, "cannot start the sandbox supervisor: %s", strerror(-r));
                goto out;
        }
        /* After the forks (the supervisor and the version commands inherit the signal mask:
         * the supervisor would never see its SIGTERM) and before any thread, so that every
         * thread blocks them and sigwait() below takes them. */
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);

        r = store_open(store_url ? store_url : c->store, err, &store);
        if (r < 0) {
                log_error(r, "cannot open the store: %s", err);
                goto out;
        }
        if (c->retention_max_age > 0 || c->retention_max_bytes > 0) {
                const StoreRetention policy = {
                        .max_age_usec = c->retention_max_age, .max_bytes = c->retention_max_bytes};
                r = retention_start(store, &policy, MAX(c->retention_interval, 1u), &retention);
                if (r < 0) {
                        log_error(r, "cannot start the retention purger: %s", strerror(-r));
                        goto out;
                }
        }
        r = queue_new(c->max_queue_size ? c->max_queue_size : 1, &queue);
        if (r < 0) {
                log_error(r, "cannot create the queue: %s", strerror(-r));
                goto out;
        }
        r = worker_requeue_unfinished(store, queue);
        if (r < 0) {
                log_error(r, "cannot read the unfinished submissions: %s", strerror(-r));
                goto out;
        }
        if (r > 0)
                log_info("requeued=%d (unfinished submissions from before the restart)", r);

        ApiConfig ac = {
                .maintenance_mode = c->maintenance_mode,
                .maintenance_message = c->maintenance_message,
                .enable_wait_result = c->enable_wait_result,
                .enable_submission_delete = c->enable_submission_delete,
                .enable_batched_submissions = c->enable_batched_submissions,
                .max_submission_batch_size = (uint32_t) c->max_submission_batch_size,
                .max_per_page = (uint32_t) c->max_per_page,
                .wait_timeout_usec = c->wait_timeout,
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
        ac.rules.max_processes_and_or_threads = c->max_processes_and_or_threads;
        ac.rules.max_max_processes_and_or_threads = c->max_max_processes_and_or_threads;
        ac.rules.enable_per_process_and_thread_time_limit = c->enable_per_process_and_thread_time_limit;
        ac.rules.allow_enable_per_process_and_thread_time_limit =
                c->allow_enable_per_process_and_thread_time_limit;
        ac.rules.enable_per_process_and_thread_memory_limit = c->enable_per_process_and_thread_memory_limit;
        ac.rules.allow_enable_per_process_and_thread_memory_limit =
                c->allow_enable_per_process_and_thread_memory_limit;
        ac.rules.max_file_size_kib = c->max_file_size;
        ac.rules.max_max_file_size_kib = c->max_max_file_size;
        ac.rules.number_of_runs = c->number_of_runs;
        ac.rules.max_number_of_runs = c->max_number_of_runs;
        ac.rules.redirect_stderr_to_stdout = c->redirect_stderr_to_stdout;
        ac.rules.enable_network = c->enable_network;
        ac.rules.allow_enable_network = c->allow_enable_network;
        ac.rules.enable_compiler_options = c->enable_compiler_options;
        ac.rules.enable_command_line_arguments = c->enable_command_line_arguments;
        ac.rules.enable_additional_files = c->enable_additional_files;
        ac.rules.enable_callbacks = c->enable_callbacks;
        ac.config_info.callbacks_max_tries = (uint32_t) c->callbacks_max_tries;
        ac.config_info.callbacks_timeout_usec = c->callbacks_timeout;
        judge0_config_info_init(&ac.config_info);
        r = api_new(&ac, store, queue, &cat, &api);
        if (r < 0) {
                log_error(r, "cannot set up the API: %s", strerror(-r));
                goto out;
        }

        if (c->enable_callbacks) {
                r = callback_sender_start(
                        &(CallbackConfig){
                                .max_tries = c->callbacks_max_tries ? (uint32_t) c->callbacks_max_tries : 1,
                                .timeout_usec = c->callbacks_timeout,
                                .allow_private = c->callbacks_allow_private,
                                .secret = c->callbacks_secret,
                                .max_pending = 10000},
                        &callbacks);
                if (r < 0) {
                        log_error(r, "cannot start the callback sender: %s", strerror(-r));
                        goto out;
                }
        }

        WorkerPoolConfig wc = {
                .n = workers,
                .box_socket = box_supervisor_socket(sup),
                .catalogue = &cat,
                .store = store,
                .queue = queue,
                .max_attempts = 5,
                .callbacks = callbacks,
                .notify = api_notify,
                .userdata = api,
        };
        judge_config_defaults(&wc.judge);
        wc.judge.cache_dir = cache_dir;
        r = worker_pool_start(&wc, &pool);
        if (r < 0) {
                log_error(r, "cannot start the workers: %s", strerror(-r));
                goto out;
        }
        api_set_workers(api, pool);

        /* The web IDE at /: the configured export, else the source tree's when it was built. */
        const char *web_dir = NULL;
        if (*c->web_dir)
                web_dir = c->web_dir;
        else if (access(CODERUNNER_SOURCE_DIR "/web/out/index.html", R_OK) == 0)
                web_dir = CODERUNNER_SOURCE_DIR "/web/out";
        if (web_dir)
                log_info("web IDE: %s", web_dir);

        size_t n_routes;
        const HttpRoute *routes = api_routes(&n_routes);
        r = http_server_start(&(HttpServerConfig){.bind = c->bind,
                                      .port = (uint16_t) c->port,
                                      .threads = (unsigned) c->http_threads,
                                      .max_connections = (unsigned) c->max_connections,
                                      .max_connections_per_ip = (unsigned) c->max_connections_per_ip,
                                      .connection_timeout_sec = (unsigned) c->connection_timeout,
                                      .max_body = MAX_REQUEST_BODY,
                                      .routes = routes,
                                      .n_routes = n_routes,
                                      .userdata = api,
                                      .static_dir = web_dir},
                &http);
        if (r < 0) {
                log_error(r, "cannot listen on %s port %llu: %s", c->bind, (unsigned long long) c->port,
                        strerror(-r));
                goto out;
        }
        api_set_http(api, http);
        log_info("listening address=%s port=%llu store=%s workers=%u languages_installed=%zu", c->bind,
                (unsigned long long) c->port, store_backend(store), workers, (size_t) ({
                        size_t k = 0;
                        for (size_t i = 0; i < cat.n; i++)
                                k += cat.langs[i].installed;
                        k;
                }));

        int sig = 0;
        sigwait(&sigs, &sig);
        log_info("stopping signal=%s", strsignal(sig));
        ret = 0;
out:
        /* Workers first (they finish the runs in progress and answer their waiters), then
         * the waiting requests, then HTTP. Unfinished submissions stay in the store. */
        if (queue)
                queue_close(queue);
        worker_pool_stop(pool);
        callback_sender_stop(callbacks); /* sends what is pending, each try bounded */
        if (api)
                api_release_waiters(api);
        http_server_free(http);
        api_free(api);
        queue_free(queue);
        retention_stop(retention);
        store_close(store);
        box_supervisor_free(sup);
        catalogue_done(&cat);
        return ret;
}

int serve_main(int argc, char **argv) {
        ServeConfig c = {};
        bool print = false;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
                        usage(stdout);
                        return 0;
                }
                print = print || strcmp(argv[i], "--print-config") == 0;
        }
        char err[256];
        static const char *const extra[] = {"--print-config", NULL};
        int r = conf_load(serve_keys, N_KEYS, &c, argc, argv, extra, err, sizeof err);
        if (r < 0) {
                log_error(r, "%s (try: coderunner serve --help)", err);
                conf_done(serve_keys, N_KEYS, &c);
                return 1;
        }
        if (print) {
                conf_print(serve_keys, N_KEYS, &c, stdout);
                conf_done(serve_keys, N_KEYS, &c);
                return 0;
        }
        if (geteuid() != 0) {
                log_error(0, "coderunner serve must run as root: it starts the sandbox supervisor");
                conf_done(serve_keys, N_KEYS, &c);
                return 1;
        }
        int ret = run(&c);
        conf_done(serve_keys, N_KEYS, &c);
        return ret;
}
