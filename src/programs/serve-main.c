/* SPDX-License-Identifier: MIT */
/* coderunner serve: the Judge0 CE 1.13.1-compatible API on one machine: HTTP server,
 * in-process queue and notifier, worker threads judging through the resident sandbox
 * supervisor, and the store (SQLite under the data directory by default). The same
 * modules as a cluster's API node and worker, composed in one process. */

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
#include "base/time-util.h"
#include "callback/callback.h"
#include "conf/conf.h"
#include "config.h"
#include "http/http.h"
#include "judge/judge.h"
#include "lang/language.h"
#include "notify/notify.h"
#include "programs/programs.h"
#include "programs/server-conf.h"
#include "queue/queue.h"
#include "sandbox/box.h"
#include "store/retention.h"
#include "store/store.h"
#include "worker/worker.h"

#define MAX_REQUEST_BODY (16u * 1024 * 1024) /* bytes: more is 413 */

typedef struct ServeSection {
        char *data_dir;
        char *web_dir;
        char *store;
        char *user;
} ServeSection;

typedef struct ServeConfig {
        ServeSection serve;
        RetentionSection retention;
        HttpSection http;
        ApiSection api;
        CallbackSection callbacks;
        WorkerSection worker;
} ServeConfig;

#define K(name, type, def, max, help) \
        { #name, type, offsetof(ServeSection, name), def, max, help, false }
static const ConfKey serve_keys[] = {
        K(data_dir, CONF_STRING, "./data", 0, "where the database and the compile cache live"),
        K(web_dir, CONF_STRING, "", 0,
                "the web IDE's static export, served at /; empty = web/out of the source tree when built"),
        K(store, CONF_STRING, "", 0,
                "store URL, sqlite:PATH or postgres://...; empty = sqlite:DATA_DIR/coderunner.db"),
        K(user, CONF_STRING, "", 0,
                "the unprivileged user (name or uid) the server becomes once started; only the sandbox "
                "supervisor keeps root; empty = stay root (not recommended)"),
};
#undef K

/* The resources of a running serve, released by serve_done() in reverse order. */
typedef struct Serve {
        Catalogue cat;
        BoxSupervisor *sup;
        Store *store;
        Retention *retention;
        Queue *queue;
        Notify *notify;
        LiveRegistry *live; /* the interactive runs between the API and the workers */
        Api *api;
        WorkerPool *pool;
        CallbackSender *callbacks;
        HttpServer *http;
        char *cache_dir, *work_dir;
        ServerUser user;
        char worker_id[WORKER_ID_MAX];
} Serve;

static void local_stats(void *userdata, WorkerStats *ret) {
        worker_pool_stats(userdata, ret);
}

/* The store, the queue (with what the store holds unfinished from
 * before a restart) and the notifier. */
static int open_state(const ServeConfig *c, Serve *s) {
        _cleanup_free_ char *store_url = NULL;
        char err[STORE_ERROR_MAX] = "";
        int r;

        if (!*c->serve.store && asprintf(&store_url, "sqlite:%s/coderunner.db", c->serve.data_dir) < 0)
                return log_error(ENOMEM, "out of memory");
        r = store_open(store_url ? store_url : c->serve.store, err, &s->store);
        if (r < 0)
                return log_error(r, "cannot open the store: %s", err);
        r = server_start_retention(&c->retention, s->store, &s->retention);
        if (r < 0)
                return r;
        r = queue_open("memory:", c->api.max_queue_size ? c->api.max_queue_size : 1, NULL, err, &s->queue);
        if (r < 0)
                return log_error(r, "cannot create the queue: %s", err);
        r = notify_open("memory:", err, &s->notify);
        if (r < 0)
                return log_error(r, "cannot create the notifier: %s", err);
        r = live_registry_new(&s->live);
        if (r < 0)
                return log_error(r, "cannot create the interactive runs' registry: %s", strerror(-r));
        r = worker_requeue_unfinished(s->store, s->queue);
        if (r < 0)
                return log_error(r, "cannot read the unfinished submissions: %s", strerror(-r));
        if (r > 0)
                log_info("requeued=%d (unfinished submissions from before the restart)", r);
        return 0;
}

static int start_workers(const ServeConfig *c, Serve *s) {
        char host[64] = "";
        (void) gethostname(host, sizeof host - 1);
        snprintf(s->worker_id, sizeof s->worker_id, "serve@%s:%d", host, (int) getpid());
        WorkerPoolConfig wc = {
                .id = s->worker_id,
                .box_socket = box_supervisor_socket(s->sup),
                .catalogue = &s->cat,
                .store = s->store,
                .queue = s->queue,
                .notify = s->notify,
                .live = s->live,
        };
        judge_config_defaults(&wc.judge);
        wc.judge.cache_dir = s->cache_dir;
        wc.judge.work_dir = s->work_dir;
        wc.judge.owner_uid = s->user.set ? s->user.uid : 0;
        wc.judge.owner_gid = s->user.gid;
        return server_start_workers(&c->worker, &c->callbacks, &wc, &s->callbacks, &s->pool);
}

static int start_http(const ServeConfig *c, Serve *s) {
        /* The web IDE at /: the configured export, else the source tree's when it was built. */
        const char *web_dir = NULL;
        if (*c->serve.web_dir)
                web_dir = c->serve.web_dir;
        else if (access(CODERUNNER_SOURCE_DIR "/web/out/index.html", R_OK) == 0)
                web_dir = CODERUNNER_SOURCE_DIR "/web/out";
        if (web_dir)
                log_info("web IDE: %s", web_dir);
        HttpServerConfig hc;
        http_section_apply(&c->http, &hc);
        hc.max_body = MAX_REQUEST_BODY;
        hc.routes = api_routes(&hc.n_routes);
        hc.userdata = s->api;
        hc.static_dir = web_dir;
        int r = http_server_start(&hc, &s->http);
        if (r < 0)
                return log_error(r, "cannot listen on %s port %llu: %s", c->http.bind,
                        (unsigned long long) c->http.port, strerror(-r));
        api_set_http(s->api, s->http);
        return 0;
}

/* The longest the answers of the last requests take to go out. */
#define HTTP_DRAIN_USEC (5 * USEC_PER_SEC)

static void serve_done(Serve *s, uint64_t grace_usec) {
        /* Stop accepting; answer every waiting client now with its token and the status as it
         * is (as a wait that timed out); let the running submissions finish within the grace
         * period, else hand them back (their runs are cut short by stopping the sandbox
         * supervisor and nothing is written: they stay Processing and are judged again after
         * the restart); then send the last answers and close. */
        http_server_quiesce(s->http);
        if (s->api)
                api_shutdown(s->api);
        if (s->queue)
                queue_close(s->queue);
        if (!worker_pool_drain(s->pool, grace_usec)) {
                log_info("stopping: grace period over, handing the running submissions back");
                s->sup = box_supervisor_free(s->sup);
        }
        worker_pool_stop(s->pool);
        callback_sender_stop(s->callbacks); /* sends what is pending, each try bounded */
        if (s->api)
                api_release_waiters(s->api);
        if (!http_server_drain(s->http, HTTP_DRAIN_USEC))
                log_warning(0, "stopping: some answers were not sent within %llu s",
                        (unsigned long long) (HTTP_DRAIN_USEC / USEC_PER_SEC));
        http_server_free(s->http);
        api_free(s->api);
        live_registry_free(s->live);
        notify_free(s->notify);
        queue_free(s->queue);
        retention_stop(s->retention);
        store_close(s->store);
        box_supervisor_free(s->sup);
        catalogue_done(&s->cat);
        free(s->cache_dir);
        free(s->work_dir);
}

static int run(const ServeConfig *c) {
        Serve s = {};
        char err[256];
        int r, ret = 1;
        unsigned threads = worker_section_threads(&c->worker);

        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGHUP);
        signal(SIGPIPE, SIG_IGN);

        if (server_user_setup("serve", c->serve.user, &s.user) < 0 ||
                server_data_dir(c->serve.data_dir, &s.user, &s.cache_dir, &s.work_dir) < 0)
                goto out;
        r = catalogue_load(*c->worker.languages ? c->worker.languages : catalogue_default_dir(), &s.cat, err,
                sizeof err);
        if (r < 0) {
                log_error(r, "%s", err);
                goto out;
        }
        catalogue_detect(&s.cat);

        r = worker_section_start_supervisor(&c->worker, s.user.set ? s.user.uid : (uid_t) -1, &s.sup);
        if (r < 0)
                goto out;
        /* After the forks (the supervisor and the version commands inherit the signal mask:
         * the supervisor would never see its SIGTERM) and before any thread, so that every
         * thread blocks them and sigwait() below takes them. */
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);

        if (open_state(c, &s) < 0)
                goto out;
        ApiConfig ac;
        api_section_apply(&c->api, &c->callbacks, &ac);
        r = api_new(&ac, s.store, s.queue, s.notify, &s.cat, &s.api);
        if (r >= 0)
                api_set_live(s.api, s.live);
        if (r < 0) {
                log_error(r, "cannot set up the API: %s", strerror(-r));
                goto out;
        }
        if (start_workers(c, &s) < 0)
                goto out;
        api_set_local_workers(s.api, local_stats, s.pool);
        if (start_http(c, &s) < 0)
                goto out;
        /* Started: from now on only the supervisor keeps root (the files the store made
         * meanwhile go to the user first). */
        if (s.user.set)
                (void) server_chown_tree(c->serve.data_dir, &s.user);
        r = server_become(&s.user);
        if (r < 0) {
                log_error(r, "cannot become uid %u: %s", (unsigned) s.user.uid, strerror(-r));
                goto out;
        }
        size_t installed = 0;
        for (size_t i = 0; i < s.cat.n; i++)
                installed += s.cat.langs[i].installed;
        log_info("listening address=%s port=%llu store=%s workers=%u languages_installed=%zu", c->http.bind,
                (unsigned long long) c->http.port, store_backend(s.store), threads, installed);

        int sig = 0;
        sigwait(&sigs, &sig);
        log_info("stopping signal=%s", strsignal(sig));
        ret = 0;
out:
        serve_done(&s, c->worker.shutdown_grace);
        return ret;
}

int serve_main(int argc, char **argv) {
        ServeConfig c = {};
        const ConfSection sec[] = {
                {serve_keys, ELEMENTSOF(serve_keys), offsetof(ServeConfig, serve)},
                {retention_section_keys, retention_section_n_keys, offsetof(ServeConfig, retention)},
                {http_section_keys, http_section_n_keys, offsetof(ServeConfig, http)},
                {api_section_keys, api_section_n_keys, offsetof(ServeConfig, api)},
                {callback_section_keys, callback_section_n_keys, offsetof(ServeConfig, callbacks)},
                {worker_section_keys, worker_section_n_keys, offsetof(ServeConfig, worker)},
        };
        ConfKey *keys = NULL;
        size_t n = 0;
        int ex;
        if (server_conf_load("serve",
                    "Serve the Judge0 CE 1.13.1 API on one machine: the API, the workers and the\n"
                    "store in one process tree. Runs as root (it starts the sandbox supervisor).",
                    sec, ELEMENTSOF(sec), &c, argc, argv, &keys, &n, &ex))
                return ex;
        int ret = 1;
        if (geteuid() != 0)
                log_error(0, "coderunner serve must run as root: it starts the sandbox supervisor");
        else
                ret = run(&c);
        conf_done(keys, n, &c);
        free(keys);
        return ret;
}
