/* SPDX-License-Identifier: MIT */
/* The information endpoints: /statuses, /about, /version, /isolate, /license,
 * /config_info, /system_info, /workers, /authenticate, /authorize and /. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "api/api-internal.h"
#include "base/json-writer.h"
#include "base/macro.h"
#include "config.h"

/* The Judge0 version clients check (the Python SDK maps its language aliases by it). */
#define API_JUDGE0_VERSION "1.13.1"

static void reply_text(HttpRequest *req, const char *text) {
        char *copy = strdup(text);
        if (!copy) {
                api_reply_internal(req, -ENOMEM);
                return;
        }
        http_reply(req, 200, "text/plain; charset=utf-8", copy, strlen(copy));
}

static void reply_encoded(HttpRequest *req, int r, char *json) {
        if (r < 0)
                api_reply_internal(req, r);
        else
                http_reply_json(req, 200, json);
}

void api_root(HttpRequest *req, const char *const *params, void *userdata) {
        http_reply(req, 200, NULL, NULL, 0);
}

void api_statuses(HttpRequest *req, const char *const *params, void *userdata) {
        if (!api_guard(userdata, req, false))
                return;
        Judge0Status st[_STATUS_MAX];
        size_t n = 0;
        for (int id = STATUS_IN_QUEUE; id < _STATUS_MAX; id++)
                st[n++] = (Judge0Status){id, status_description(id)};
        char *json = NULL;
        int r = judge0_statuses_encode(st, n, &json);
        reply_encoded(req, r, json);
}

void api_about(HttpRequest *req, const char *const *params, void *userdata) {
        if (!api_guard(userdata, req, false))
                return;
        char *json = NULL;
        /* Strings, as Judge0's (its URLs): this project has no public address, so both name
         * it, source_code with the version the binary was built from. */
        int r = judge0_about_encode(API_JUDGE0_VERSION, "coderunner", "coderunner " CODERUNNER_VERSION,
                "coderunner " CODERUNNER_VERSION, &json);
        reply_encoded(req, r, json);
}

void api_version(HttpRequest *req, const char *const *params, void *userdata) {
        if (!api_guard(userdata, req, false))
                return;
        reply_text(req, API_JUDGE0_VERSION);
}

void api_isolate(HttpRequest *req, const char *const *params, void *userdata) {
        if (!api_guard(userdata, req, false))
                return;
        reply_text(req, "coderunner sandbox " CODERUNNER_VERSION "\n");
}

void api_license(HttpRequest *req, const char *const *params, void *userdata) {
        if (!api_guard(userdata, req, false))
                return;
        reply_text(req, "coderunner is free software, released under the MIT License "
                        "(SPDX-License-Identifier: MIT).\n"
                        "It implements the HTTP API of Judge0 CE 1.13.1 and contains no Judge0 code.\n");
}

void api_config_info(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, false))
                return;
        Judge0ConfigInfo c = a->cfg.config_info;
        c.rules = &a->cfg.rules;
        c.maintenance_mode = a->cfg.maintenance_mode;
        c.enable_wait_result = a->cfg.enable_wait_result;
        c.enable_submission_delete = a->cfg.enable_submission_delete;
        c.enable_batched_submissions = a->cfg.enable_batched_submissions;
        c.max_submission_batch_size = a->cfg.max_submission_batch_size;
        c.max_queue_size = api_queue_stats(a).max;
        char *json = NULL;
        int r = judge0_config_info_encode(&c, &json);
        reply_encoded(req, r, json);
}

/* The first value of "key : value" lines in a /proc file. */
static bool proc_value(const char *path, const char *key, char *buf, size_t size) {
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        FILE *f = fopen(path, "re");
        if (!f)
                return false;
        bool found = false;
        size_t kl = strlen(key);
        while (!found && getline(&line, &cap, f) > 0) {
                if (strncmp(line, key, kl) != 0 || !strchr(" \t:", line[kl]))
                        continue;
                const char *v = strchr(line, ':');
                if (!v)
                        continue;
                v += 1 + strspn(v + 1, " \t");
                snprintf(buf, size, "%.*s", (int) strcspn(v, "\n"), v);
                found = true;
        }
        fclose(f);
        return found;
}

/* "16329236 kB" as free -h shows it: "15Gi". */
static void human_kib(const char *kib, char *buf, size_t size) {
        double v = strtod(kib, NULL) * 1024;
        static const char *const units[] = {"B", "Ki", "Mi", "Gi", "Ti"};
        size_t u = 0;
        while (v >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
                v /= 1024;
                u++;
        }
        snprintf(buf, size, v < 10 ? "%.1f%s" : "%.0f%s", v, units[u]);
}

void api_system_info(HttpRequest *req, const char *const *params, void *userdata) {
        if (!api_guard(userdata, req, false))
                return;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) {
                api_reply_internal(req, -ENOMEM);
                return;
        }
        struct utsname u;
        char v[256], h[64];
        bool first = true;
#define PAIR(k, val) \
        do { \
                fputs(first ? "{" : ",", f); \
                first = false; \
                json_write_cstring(f, k); \
                fputc(':', f); \
                json_write_cstring(f, val); \
        } while (0)
        if (uname(&u) == 0)
                PAIR("Architecture", u.machine);
        snprintf(v, sizeof v, "%ld", sysconf(_SC_NPROCESSORS_ONLN));
        PAIR("CPU(s)", v);
        if (proc_value("/proc/cpuinfo", "model name", v, sizeof v))
                PAIR("Model name", v);
        if (proc_value("/proc/cpuinfo", "vendor_id", v, sizeof v))
                PAIR("Vendor ID", v);
        if (proc_value("/proc/meminfo", "MemTotal", v, sizeof v)) {
                human_kib(v, h, sizeof h);
                PAIR("Mem", h);
        }
        if (proc_value("/proc/meminfo", "SwapTotal", v, sizeof v)) {
                human_kib(v, h, sizeof h);
                PAIR("Swap", h);
        }
#undef PAIR
        fputs(first ? "{}" : "}", f);
        if (fclose(f) != 0) {
                free(buf);
                api_reply_internal(req, -ENOMEM);
                return;
        }
        http_reply_json(req, 200, buf);
}

void api_workers(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, false))
                return;
        WorkerStats ws = {};
        size_t live = 0;
        (void) api_worker_stats(a, &ws, &live);
        Judge0WorkerQueue q = {
                .queue = API_JUDGE0_VERSION,
                .size = api_queue_stats(a).waiting,
                .available = ws.threads,
                .idle = ws.threads - ws.busy,
                .working = ws.busy,
                .paused = 0,
                .failed = ws.failed,
        };
        char *json = NULL;
        int r = judge0_workers_encode(&q, 1, &json);
        reply_encoded(req, r, json);
}

void api_authenticate(HttpRequest *req, const char *const *params, void *userdata) {
        if (!api_guard(userdata, req, false))
                return;
        http_reply(req, 200, NULL, NULL, 0);
}

void api_authorize(HttpRequest *req, const char *const *params, void *userdata) {
        if (!api_guard(userdata, req, true))
                return;
        http_reply(req, 200, NULL, NULL, 0);
}
