/* SPDX-License-Identifier: MIT */
/* coderunner api: an API node of a cluster. It validates, stores (PostgreSQL) and queues
 * (Redis Streams) submissions and answers from the store; it never runs code, and runs
 * as an unprivileged user. Results come from the workers through the notifier. */

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api.h"
#include "base/log.h"
#include "base/macro.h"
#include "base/time-util.h"
#include "conf/conf.h"
#include "lang/language.h"
#include "model/live.h"
#include "notify/notify.h"
#include "programs/programs.h"
#include "programs/server-conf.h"
#include "queue/queue.h"
#include "store/retention.h"
#include "store/store.h"

#define MAX_REQUEST_BODY (16u * 1024 * 1024) /* bytes: more is 413 */

typedef struct ApiRoleSection {
        char *languages;
} ApiRoleSection;

typedef struct ApiRoleConfig {
        BackendSection backend;
        ApiRoleSection role;
        HttpSection http;
        ApiSection api;
        CallbackSection callbacks;
        RetentionSection retention;
} ApiRoleConfig;

static const ConfKey role_keys[] = {
        {"languages", CONF_STRING, offsetof(ApiRoleSection, languages), "", 0,
                "the language catalogue directory (the languages' data; which are served comes from the "
                "workers); empty = the built-in one",
                false},
};

typedef struct ApiNode {
        Catalogue cat;
        Store *store;
        Queue *queue;
        Notify *notify;
        LiveRegistry *live; /* interactive runs, through Redis */
        Api *api;
        HttpServer *http;
        Retention *retention;
} ApiNode;

/* The longest the answers of the last requests take to go out. */
#define HTTP_DRAIN_USEC (5 * USEC_PER_SEC)

static void node_done(ApiNode *n) {
        /* Stop accepting, answer every waiting client with its token and the status as it is,
         * refuse what comes on open connections, send the last answers, close. */
        http_server_quiesce(n->http);
        if (n->api)
                api_shutdown(n->api);
        if (!http_server_drain(n->http, HTTP_DRAIN_USEC))
                log_warning(0, "stopping: some answers were not sent within %llu s",
                        (unsigned long long) (HTTP_DRAIN_USEC / USEC_PER_SEC));
        http_server_free(n->http);
        api_free(n->api);
        live_registry_free(n->live); /* after the sessions: api_shutdown() waited for them */
        notify_free(n->notify);
        queue_free(n->queue);
        retention_stop(n->retention);
        store_close(n->store);
        catalogue_done(&n->cat);
}

static int run(const ApiRoleConfig *c) {
        ApiNode n = {};
        char err[256];
        int r, ret = 1;

        if (!*c->backend.store || !*c->backend.queue) {
                log_error(EINVAL, "coderunner api needs --store=postgres://... and --queue=redis://...");
                return 1;
        }
        if (strncmp(c->backend.queue, "memory:", 7) == 0) {
                log_error(EINVAL, "--queue=memory: reaches no worker: an API node needs a Redis queue");
                return 1;
        }
        if (!*c->backend.user && geteuid() == 0) {
                log_error(EPERM,
                        "coderunner api does not run as root: give --user=NAME to become after start");
                return 1;
        }
        ServerUser user;
        if (server_user_setup("api", c->backend.user, &user) < 0)
                return 1;
        r = server_become(&user);
        if (r < 0) {
                log_error(r, "cannot become user %s: %s", c->backend.user, strerror(-r));
                return 1;
        }
        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        signal(SIGPIPE, SIG_IGN);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);

        r = catalogue_load(
                *c->role.languages ? c->role.languages : catalogue_default_dir(), &n.cat, err, sizeof err);
        if (r < 0) {
                log_error(r, "%s", err);
                goto out;
        }
        r = server_open_backends(
                &c->backend, c->api.max_queue_size, NULL, &sigs, &n.store, &n.queue, &n.notify);
        if (r == -ECANCELED)
                ret = 0;
        if (r < 0)
                goto out;
        if (server_start_retention(&c->retention, n.store, &n.retention) < 0 ||
                server_open_live(&c->backend, &n.live) < 0)
                goto out;
        ApiConfig ac;
        api_section_apply(&c->api, &c->callbacks, &ac);
        r = api_new(&ac, n.store, n.queue, n.notify, &n.cat, &n.api);
        if (r < 0) {
                log_error(r, "cannot set up the API: %s", strerror(-r));
                goto out;
        }
        api_set_live(n.api, n.live);
        HttpServerConfig hc;
        http_section_apply(&c->http, &hc);
        hc.max_body = MAX_REQUEST_BODY;
        hc.routes = api_routes(&hc.n_routes);
        hc.userdata = n.api;
        r = http_server_start(&hc, &n.http);
        if (r < 0) {
                log_error(r, "cannot listen on %s port %llu: %s", c->http.bind,
                        (unsigned long long) c->http.port, strerror(-r));
                goto out;
        }
        api_set_http(n.api, n.http);
        log_info("api listening address=%s port=%llu store=%s queue=%s notify=%s", c->http.bind,
                (unsigned long long) c->http.port, store_backend(n.store), queue_backend(n.queue),
                notify_backend(n.notify));
        while (!server_stop_requested(&sigs, 60 * USEC_PER_SEC))
                ;
        ret = 0;
out:
        node_done(&n);
        return ret;
}

int api_main(int argc, char **argv) {
        ApiRoleConfig c = {};
        const ConfSection sec[] = {
                {backend_section_keys, backend_section_n_keys, offsetof(ApiRoleConfig, backend)},
                {role_keys, ELEMENTSOF(role_keys), offsetof(ApiRoleConfig, role)},
                {http_section_keys, http_section_n_keys, offsetof(ApiRoleConfig, http)},
                {api_section_keys, api_section_n_keys, offsetof(ApiRoleConfig, api)},
                {callback_section_keys, callback_section_n_keys, offsetof(ApiRoleConfig, callbacks)},
                {retention_section_keys, retention_section_n_keys, offsetof(ApiRoleConfig, retention)},
        };
        ConfKey *keys = NULL;
        size_t n = 0;
        int ex;
        if (server_conf_load("api",
                    "An API node of a cluster: the Judge0 CE 1.13.1 API on PostgreSQL (--store) and a\n"
                    "Redis queue (--queue). It never runs code. As root it needs --user=NAME and\n"
                    "becomes that user at once.",
                    sec, ELEMENTSOF(sec), &c, argc, argv, &keys, &n, &ex))
                return ex;
        int ret = run(&c);
        conf_done(keys, n, &c);
        free(keys);
        return ret;
}
