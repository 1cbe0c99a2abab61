/* SPDX-License-Identifier: MIT */
/* coderunner worker: an execution node of a cluster. It claims jobs from the Redis queue,
 * judges them through its own resident sandbox supervisor, writes the results to the
 * store, acknowledges the jobs, publishes the results and sends the callbacks. It
 * heartbeats into the store's worker registry (slots, busy, languages, version). SIGTERM
 * drains: no new claims, the running jobs finish, then it exits. */

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/macro.h"
#include "base/time-util.h"
#include "callback/callback.h"
#include "conf/conf.h"
#include "judge/judge.h"
#include "lang/language.h"
#include "notify/notify.h"
#include "programs/programs.h"
#include "programs/server-conf.h"
#include "queue/queue.h"
#include "sandbox/box.h"
#include "store/store.h"
#include "worker/worker.h"

typedef struct WorkerRoleSection {
        char *id;
        char *data_dir;
} WorkerRoleSection;

typedef struct WorkerRoleConfig {
        BackendSection backend;
        WorkerRoleSection role;
        WorkerSection worker;
        CallbackSection callbacks;
} WorkerRoleConfig;

#define K(name, type, def, help) \
        { #name, type, offsetof(WorkerRoleSection, name), def, 0, help, false }
static const ConfKey role_keys[] = {
        K(id, CONF_STRING, "", "this worker's name in the cluster; empty = worker@HOST:PID"),
        K(data_dir, CONF_STRING, "./worker-data", "where the compile cache lives"),
};
#undef K

typedef struct WorkerNode {
        Catalogue cat;
        BoxSupervisor *sup;
        Store *store;
        Queue *queue;
        Notify *notify;
        LiveRegistry *live; /* interactive runs, through Redis */
        CallbackSender *callbacks;
        WorkerPool *pool;
        char *cache_dir, *work_dir;
        ServerUser user;
        char id[WORKER_ID_MAX];
} WorkerNode;

static int start_pool(const WorkerRoleConfig *c, WorkerNode *n) {
        WorkerPoolConfig wc = {
                .id = n->id,
                .box_socket = box_supervisor_socket(n->sup),
                .catalogue = &n->cat,
                .store = n->store,
                .queue = n->queue,
                .notify = n->notify,
                .live = n->live,
        };
        judge_config_defaults(&wc.judge);
        wc.judge.cache_dir = n->cache_dir;
        wc.judge.work_dir = n->work_dir;
        wc.judge.owner_uid = n->user.set ? n->user.uid : 0;
        wc.judge.owner_gid = n->user.gid;
        return server_start_workers(&c->worker, &c->callbacks, &wc, &n->callbacks, &n->pool);
}

static void node_done(WorkerNode *n, uint64_t grace_usec) {
        if (n->queue)
                queue_close(n->queue);
        /* The jobs being judged get the grace period; the rest are handed back (their runs
         * cut short by stopping the supervisor, nothing written): their leases end and
         * another worker takes them. */
        if (!worker_pool_drain(n->pool, grace_usec)) {
                log_info("stopping: grace period over, handing the running submissions back");
                n->sup = box_supervisor_free(n->sup);
        }
        worker_pool_stop(n->pool);
        live_registry_free(n->live); /* the runs are over: their bridges end */
        callback_sender_stop(n->callbacks);
        notify_free(n->notify);
        queue_free(n->queue);
        store_close(n->store);
        box_supervisor_free(n->sup);
        catalogue_done(&n->cat);
        free(n->cache_dir);
        free(n->work_dir);
}

static int run(const WorkerRoleConfig *c) {
        WorkerNode n = {};
        char err[256];
        int r, ret = 1;
        unsigned threads = worker_section_threads(&c->worker);

        if (!*c->backend.store || !*c->backend.queue || strncmp(c->backend.queue, "memory:", 7) == 0) {
                log_error(EINVAL, "coderunner worker needs --store=postgres://... and --queue=redis://...");
                return 1;
        }
        if (*c->role.id)
                snprintf(n.id, sizeof n.id, "%s", c->role.id);
        else {
                char host[64] = "";
                (void) gethostname(host, sizeof host - 1);
                snprintf(n.id, sizeof n.id, "worker@%s:%d", host, (int) getpid());
        }
        if (server_user_setup("worker", c->backend.user, &n.user) < 0 ||
                server_data_dir(c->role.data_dir, &n.user, &n.cache_dir, &n.work_dir) < 0)
                goto out;

        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        signal(SIGPIPE, SIG_IGN);

        r = catalogue_load(*c->worker.languages ? c->worker.languages : catalogue_default_dir(), &n.cat, err,
                sizeof err);
        if (r < 0) {
                log_error(r, "%s", err);
                goto out;
        }
        catalogue_detect(&n.cat);
        r = worker_section_start_supervisor(&c->worker, n.user.set ? n.user.uid : (uid_t) -1, &n.sup);
        if (r < 0)
                goto out;
        pthread_sigmask(SIG_BLOCK, &sigs, NULL); /* after the forks, before any thread */
        /* A worker never pushes: the bound does not matter to it. */
        r = server_open_backends(&c->backend, 1, n.id, &sigs, &n.store, &n.queue, &n.notify);
        if (r == -ECANCELED)
                ret = 0;
        if (r < 0 || server_open_live(&c->backend, &n.live) < 0)
                goto out;
        if (start_pool(c, &n) < 0)
                goto out;
        /* Started: from now on only the supervisor keeps root. */
        r = server_become(&n.user);
        if (r < 0) {
                log_error(r, "cannot become uid %u: %s", (unsigned) n.user.uid, strerror(-r));
                goto out;
        }
        log_info("worker id=%s slots=%u store=%s queue=%s", n.id, threads, store_backend(n.store),
                queue_backend(n.queue));
        while (!server_stop_requested(&sigs, 60 * USEC_PER_SEC))
                ;
        ret = 0;
out:
        node_done(&n, c->worker.shutdown_grace);
        return ret;
}

int worker_main(int argc, char **argv) {
        WorkerRoleConfig c = {};
        const ConfSection sec[] = {
                {backend_section_keys, backend_section_n_keys, offsetof(WorkerRoleConfig, backend)},
                {role_keys, ELEMENTSOF(role_keys), offsetof(WorkerRoleConfig, role)},
                {worker_section_keys, worker_section_n_keys, offsetof(WorkerRoleConfig, worker)},
                {callback_section_keys, callback_section_n_keys, offsetof(WorkerRoleConfig, callbacks)},
        };
        ConfKey *keys = NULL;
        size_t n = 0;
        int ex;
        if (server_conf_load("worker",
                    "An execution node of a cluster: claims jobs from the Redis queue (--queue), judges\n"
                    "them in the sandbox and writes the results to the store (--store). Runs as root\n"
                    "(it starts the sandbox supervisor).",
                    sec, ELEMENTSOF(sec), &c, argc, argv, &keys, &n, &ex))
                return ex;
        int ret = 1;
        if (geteuid() != 0)
                log_error(0, "coderunner worker must run as root: it starts the sandbox supervisor");
        else
                ret = run(&c);
        conf_done(keys, n, &c);
        free(keys);
        return ret;
}
