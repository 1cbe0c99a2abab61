/* SPDX-License-Identifier: MIT */
/* coderunner gateway: the door of a cluster (see src/gateway/gateway.h), and its
 * administration: `coderunner gateway keys create|list|revoke` and `coderunner gateway
 * config set|unset|list`, which use the gateway's own configuration (--config=FILE,
 * --meta=URL) to reach its metadata store. */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/macro.h"
#include "base/parse-util.h"
#include "base/time-util.h"
#include "conf/conf.h"
#include "gateway/gateway.h"
#include "gateway/ratelimit.h"
#include "gateway/upstream.h"
#include "meta/meta.h"
#include "programs/programs.h"
#include "programs/server-conf.h"
#include "secure/secure.h"

#define MAX_REQUEST_BODY (16u * 1024 * 1024) /* bytes, as an API node: more is 413 */
#define MAX_UPSTREAMS 64

typedef struct GatewaySection {
        char *upstream;
        char *meta;
        char *redis;
        char *user;
        char *internal_header;
        char *admin_header;
        char *internal_secret;
        char *session_secret;
        bool cookie_secure;
        uint64_t session_ttl;
        bool accounts;
        char *key_rate;
        uint64_t key_burst;
        char *session_rate;
        uint64_t session_burst;
        char *ip_rate;
        uint64_t ip_burst;
        uint64_t session_quota_day;
        uint64_t session_concurrent;
        char *trusted_proxies;
        uint64_t key_cache;
        uint64_t outage_cache;
        uint64_t outbox_max;
        uint64_t health_interval;
        uint64_t upstream_timeout;
        uint64_t max_streams;
} GatewaySection;

#define G(field, type, def, max, help) \
        { #field, type, offsetof(GatewaySection, field), def, max, help, false }
#define GS(field, def, help) \
        { #field, CONF_STRING, offsetof(GatewaySection, field), def, 0, help, true }
static const ConfKey gateway_keys[] = {
        G(upstream, CONF_STRING, "", 0,
                "the API nodes, comma-separated base URLs (http://198.18.0.2:2358,...)"),
        G(meta, CONF_STRING, "", 0,
                "the metadata store: mongodb://HOST:PORT/DB, or sqlite:PATH for a small install"),
        G(redis, CONF_STRING, "", 0,
                "redis://HOST:PORT: rate limits and quotas shared by every gateway (empty: "
                "in memory, this gateway alone)"),
        G(user, CONF_STRING, "", 0,
                "the user to become after start (name or uid); needed when started as root"),
        G(internal_header, CONF_STRING, "X-Coderunner-Internal", 0,
                "the header carrying the internal credential to the API nodes (their authn_header)"),
        G(admin_header, CONF_STRING, "X-Coderunner-Admin", 0,
                "the header added for admin keys (the API nodes' authz_header)"),
        GS(internal_secret, "", "the internal credential: the API nodes' authn_token and authz_token"),
        GS(session_secret, "",
                "the key signing session cookies (shared by every gateway; empty: a random one, sessions "
                "end "
                "with the process)"),
        G(cookie_secure, CONF_BOOL, "false", 0, "mark the session cookie Secure (behind TLS)"),
        G(session_ttl, CONF_SECONDS, "604800", 0, "seconds a browser session lives"),
        G(accounts, CONF_BOOL, "false", 0, "offer accounts: register, login, logout"),
        G(key_rate, CONF_STRING, "20", 0, "requests per second of a key without its own rate"),
        G(key_burst, CONF_U64, "40", 1000000, "burst of a key without its own"),
        G(session_rate, CONF_STRING, "5", 0, "requests per second of a browser session"),
        G(session_burst, CONF_U64, "20", 1000000, "burst of a browser session"),
        G(ip_rate, CONF_STRING, "50", 0, "requests per second of one client address"),
        G(ip_burst, CONF_U64, "100", 1000000, "burst of one client address"),
        G(session_quota_day, CONF_U64, "0", UINT32_MAX,
                "submissions per UTC day of a session (0: no quota)"),
        G(session_concurrent, CONF_U64, "0", UINT32_MAX,
                "unfinished submissions of a session (0: no quota)"),
        G(trusted_proxies, CONF_STRING, "", 0,
                "addresses or networks (10.0.0.0/8) of the edge and the code-client, whose X-Forwarded-For "
                "names the client"),
        G(key_cache, CONF_SECONDS, "10", 0,
                "seconds a key or session read is reused (a revocation takes this long)"),
        G(outage_cache, CONF_SECONDS, "300", 0,
                "seconds a cached key or session serves while the store is down"),
        G(outbox_max, CONF_U64, "10000", 10000000, "history records kept while the metadata store is down"),
        G(health_interval, CONF_SECONDS, "1", 0, "seconds between health checks of each API node"),
        G(upstream_timeout, CONF_SECONDS, "150", 0,
                "seconds an API node may take to answer (longer than its wait_timeout)"),
        G(max_streams, CONF_U64, "1024", 100000,
                "live streams open at once (event streams and interactive runs together; more: 503)"),
};
#undef G
#undef GS

typedef struct GatewayRoleConfig {
        GatewaySection gw;
        HttpSection http;
} GatewayRoleConfig;

/* A number from 0 to max, with an optional "/s" (rates): 0, or -EINVAL. */
static int parse_number(const char *s, double max, double *ret) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || (*end && strcmp(end, "/s") != 0) || !isfinite(v) || v < 0 || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

static int parse_rate(const char *s, const char *name, double *ret) {
        if (parse_number(s, RATELIMIT_RATE_MAX, ret) < 0 || *ret == 0) {
                log_error(EINVAL,
                        "--%s=%s: not a rate (requests per second above 0 and at most %g, e.g. 20 or 0.5/s)",
                        name, s, RATELIMIT_RATE_MAX);
                return -EINVAL;
        }
        return 0;
}

static int open_meta(const char *url, const sigset_t *sigs, Meta **ret) {
        char err[META_ERROR_MAX];
        for (unsigned tries = 0;; tries++) {
                int r = meta_open(url, err, ret);
                if (r >= 0)
                        return 0;
                if (!meta_error_is_outage(r) || !sigs) {
                        log_error(r, "cannot open the metadata store %s: %s", url, err);
                        return r;
                }
                if (tries % 10 == 0)
                        log_warning(r, "the metadata store is not reachable yet (%s): retrying", err);
                if (server_stop_requested(sigs, USEC_PER_SEC))
                        return -ECANCELED;
        }
}

static int run(const GatewayRoleConfig *c) {
        const GatewaySection *s = &c->gw;
        if (!*s->upstream || !*s->meta) {
                log_error(EINVAL, "coderunner gateway needs --upstream=URL[,URL...] and --meta=URL");
                return 1;
        }
        if (!*s->internal_secret) {
                log_error(EINVAL,
                        "coderunner gateway needs --internal-secret (the API nodes' authn token): API nodes "
                        "must refuse what does not come through the gateway");
                return 1;
        }
        GatewayConfig gc = {
                .internal_header = s->internal_header,
                .admin_header = s->admin_header,
                .internal_secret = s->internal_secret,
                .session_secret = s->session_secret,
                .cookie_secure = s->cookie_secure,
                .session_ttl_usec = s->session_ttl,
                .accounts = s->accounts,
                .key_burst = (uint32_t) s->key_burst,
                .session_burst = (uint32_t) s->session_burst,
                .ip_burst = (uint32_t) s->ip_burst,
                .session_quota_day = (uint32_t) s->session_quota_day,
                .session_concurrent = (uint32_t) s->session_concurrent,
                .trusted_proxies = s->trusted_proxies,
                .key_cache_usec = s->key_cache,
                .outage_cache_usec = s->outage_cache,
                .outbox_max = s->outbox_max,
                .max_streams = s->max_streams,
                .max_body = MAX_REQUEST_BODY,
        };
        if (parse_rate(s->key_rate, "key-rate", &gc.key_rate) < 0 ||
                parse_rate(s->session_rate, "session-rate", &gc.session_rate) < 0 ||
                parse_rate(s->ip_rate, "ip-rate", &gc.ip_rate) < 0)
                return 1;
        if (!gc.key_burst || !gc.session_burst || !gc.ip_burst) {
                log_error(EINVAL, "a burst is at least 1");
                return 1;
        }
        if (gc.key_burst / gc.key_rate > RATELIMIT_WINDOW_MAX ||
                gc.session_burst / gc.session_rate > RATELIMIT_WINDOW_MAX ||
                gc.ip_burst / gc.ip_rate > RATELIMIT_WINDOW_MAX) {
                log_error(EINVAL,
                        "a burst takes at most a year to refill at its rate (burst / rate <= %g s)",
                        RATELIMIT_WINDOW_MAX);
                return 1;
        }
        /* The API nodes' addresses. */
        _cleanup_free_ char *list = strdup(s->upstream);
        const char *urls[MAX_UPSTREAMS];
        size_t n_urls = 0;
        for (char *p = list, *save = NULL, *t; list && (t = strtok_r(p, ", ", &save)); p = NULL) {
                if (n_urls == MAX_UPSTREAMS ||
                        (strncmp(t, "http://", 7) != 0 && strncmp(t, "https://", 8) != 0)) {
                        log_error(EINVAL, "--upstream: %s",
                                n_urls == MAX_UPSTREAMS ? "at most 64 API nodes"
                                                        : "each is an http:// or https:// URL");
                        return 1;
                }
                size_t l = strlen(t);
                while (l > 0 && t[l - 1] == '/')
                        t[--l] = '\0';
                urls[n_urls++] = t;
        }
        if (!list || n_urls == 0) {
                log_error(EINVAL, "--upstream names no API node");
                return 1;
        }

        if (!*s->user && geteuid() == 0) {
                log_error(EPERM,
                        "coderunner gateway does not run as root: give --user=NAME to become after start");
                return 1;
        }
        ServerUser user;
        if (server_user_setup("gateway", s->user, &user) < 0)
                return 1;
        int r = server_become(&user);
        if (r < 0) {
                log_error(r, "cannot become user %s: %s", s->user, strerror(-r));
                return 1;
        }
        if (secure_init() < 0) {
                log_error(EIO, "libsodium cannot start");
                return 1;
        }
        char random_secret[64];
        if (!*gc.session_secret) {
                if (secure_random_token("", random_secret, sizeof random_secret) < 0)
                        return 1;
                gc.session_secret = random_secret;
                log_warning(0, "no --session-secret: sessions are signed with a random key and end with "
                               "this process");
        }
        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGINT);
        signal(SIGPIPE, SIG_IGN);
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);

        _cleanup_meta_close_ Meta *meta = NULL;
        _cleanup_(ratelimit_freep) RateLimiter *limiter = NULL;
        Upstream *up = NULL;
        Gateway *g = NULL;
        HttpServer *http = NULL;
        int ret = 1;
        r = open_meta(s->meta, &sigs, &meta);
        if (r == -ECANCELED)
                return 0;
        if (r < 0)
                return 1;
        char err[256] = "";
        r = ratelimit_new(*s->redis ? s->redis : NULL, 100000, err, &limiter);
        if (r < 0) {
                log_error(r, "cannot set up the rate limiter on %s: %s", s->redis, err);
                return 1;
        }
        HttpcHeader headers[] = {{s->internal_header, s->internal_secret}};
        UpstreamConfig uc = {
                .urls = urls,
                .n_urls = n_urls,
                .health_interval_usec = s->health_interval,
                .timeout_usec = s->upstream_timeout,
                .headers = headers,
                .n_headers = ELEMENTSOF(headers),
        };
        r = upstream_start(&uc, &up);
        if (r < 0) {
                log_error(r, "cannot start the upstream client: %s", strerror(-r));
                return 1;
        }
        r = gateway_new(&gc, meta, limiter, up, &g);
        if (r == -EINVAL) {
                log_error(r, "--trusted-proxies=%s: addresses or networks, e.g. 198.18.0.4 or 198.18.0.0/24",
                        s->trusted_proxies);
                goto out;
        }
        if (r < 0) {
                log_error(r, "cannot set up the gateway: %s", strerror(-r));
                goto out;
        }
        HttpServerConfig hc;
        http_section_apply(&c->http, &hc);
        hc.max_body = MAX_REQUEST_BODY;
        hc.routes = gateway_routes(&hc.n_routes);
        hc.userdata = g;
        r = http_server_start(&hc, &http);
        if (r < 0) {
                log_error(r, "cannot listen on %s port %llu: %s", c->http.bind,
                        (unsigned long long) c->http.port, strerror(-r));
                goto out;
        }
        gateway_set_http(g, http);
        log_info("gateway listening address=%s port=%llu upstreams=%zu meta=%s limiter=%s", c->http.bind,
                (unsigned long long) c->http.port, n_urls, meta_backend(meta), ratelimit_backend(limiter));
        while (!server_stop_requested(&sigs, 60 * USEC_PER_SEC))
                ;
        ret = 0;
out:
        /* Stop taking requests, let those in flight finish (each bounded by the upstream
         * timeout), then take the parts down in the reverse order. */
        http_server_quiesce(http);
        gateway_stop_streams(g);
        if (!http_server_drain(http, 5 * USEC_PER_SEC))
                log_warning(0, "stopping: some answers were not sent within 5 s");
        upstream_stop(up);
        http_server_free(http);
        gateway_free(g);
        return ret;
}

/* ---- keys and config ---- */

/* The flags of a subcommand: taken out of argv (the rest goes to the configuration). */
typedef struct SubFlag {
        const char *name; /* "--name" */
        const char *value; /* NULL = not given */
} SubFlag;

static int take_flags(int *argc, char **argv, SubFlag *flags, size_t n) {
        int out = 1;
        for (int i = 1; i < *argc; i++) {
                bool taken = false;
                for (size_t k = 0; k < n && !taken; k++) {
                        size_t l = strlen(flags[k].name);
                        if (strncmp(argv[i], flags[k].name, l) == 0 && argv[i][l] == '=') {
                                flags[k].value = argv[i] + l + 1;
                                taken = true;
                        } else if (strcmp(argv[i], flags[k].name) == 0) {
                                if (i + 1 >= *argc) {
                                        log_error(EINVAL, "%s needs a value", flags[k].name);
                                        return -EINVAL;
                                }
                                flags[k].value = argv[++i];
                                taken = true;
                        }
                }
                if (!taken)
                        argv[out++] = argv[i];
        }
        *argc = out;
        return 0;
}

static int num_flag(const SubFlag *f, double max, double *ret) {
        if (f->value && parse_number(f->value, max, ret) < 0) {
                log_error(EINVAL, "%s=%s: not a number from 0 to %g", f->name, f->value, max);
                return -EINVAL;
        }
        return 0;
}

static int keys_create(Meta *meta, SubFlag *f) {
        /* f: name scope rate burst quota-day cpu-day concurrent languages max-cpu max-wall max-mem */
        if (!f[0].value || !*f[0].value) {
                log_error(EINVAL, "keys create needs --name=NAME");
                return 2;
        }
        GatewayKeySpec spec = {.name = f[0].value};
        if (f[1].value && gateway_scopes_parse(f[1].value, &spec.scopes) < 0) {
                log_error(EINVAL, "--scope=%s: scopes are submit, read and admin, comma-separated",
                        f[1].value);
                return 2;
        }
        double burst = 0, quota = 0, concurrent = 0, mem = 0;
        if (num_flag(&f[2], 1e9, &spec.rate) < 0 || num_flag(&f[3], 1e6, &burst) < 0 ||
                num_flag(&f[4], 4e9, &quota) < 0 || num_flag(&f[5], 1e9, &spec.cpu_seconds_day) < 0 ||
                num_flag(&f[6], 4e9, &concurrent) < 0 ||
                num_flag(&f[8], 1e6, &spec.max_cpu_time_limit) < 0 ||
                num_flag(&f[9], 1e6, &spec.max_wall_time_limit) < 0 || num_flag(&f[10], 1e12, &mem) < 0)
                return 2;
        if (spec.rate > RATELIMIT_RATE_MAX || (spec.rate > 0 && burst / spec.rate > RATELIMIT_WINDOW_MAX)) {
                log_error(EINVAL,
                        "--rate: at most %g requests per second, and a burst that refills within a year",
                        RATELIMIT_RATE_MAX);
                return 2;
        }
        spec.burst = (uint32_t) burst;
        spec.quota_day = (uint32_t) quota;
        spec.concurrent = (uint32_t) concurrent;
        spec.max_memory_limit = (uint64_t) mem;
        int langs[META_MAX_LANGUAGES];
        if (f[7].value) {
                for (const char *p = f[7].value; *p;) {
                        char *end;
                        errno = 0;
                        long v = strtol(p, &end, 10);
                        if (errno || end == p || v < 1 || v > 1000000 || (*end && *end != ',') ||
                                spec.n_languages == META_MAX_LANGUAGES) {
                                log_error(EINVAL, "--languages=%s: at most %d language ids, comma-separated",
                                        f[7].value, META_MAX_LANGUAGES);
                                return 2;
                        }
                        langs[spec.n_languages++] = (int) v;
                        p = *end ? end + 1 : end;
                }
                spec.languages = langs;
        }
        char text[GATEWAY_KEY_TEXT_MAX];
        MetaKey k;
        int r = gateway_key_create(meta, &spec, text, &k);
        if (r < 0) {
                log_error(r, "cannot create the key: %s", strerror(-r));
                return 1;
        }
        char scopes[64];
        gateway_scopes_format(k.scopes, scopes, sizeof scopes);
        printf("%s\n", text);
        fprintf(stderr, "created key %s (%s, scopes %s): it is shown once, keep it now\n", k.id, k.name,
                scopes);
        return 0;
}

static void format_time(int64_t usec, char buf[32]) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        if (usec <= 0 || !gmtime_r(&t, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
                snprintf(buf, 32, "-");
}

static int keys_list(Meta *meta) {
        _cleanup_free_ MetaKey *keys = NULL;
        size_t n = 0;
        int r = meta_key_list(meta, &keys, &n);
        if (r < 0) {
                log_error(r, "cannot list the keys: %s", strerror(-r));
                return 1;
        }
        printf("%-20s %-24s %-18s %-8s %-6s %-10s %-21s %s\n", "ID", "NAME", "SCOPES", "RATE", "BURST",
                "QUOTA/DAY", "CREATED", "REVOKED");
        for (size_t i = 0; i < n; i++) {
                char scopes[64], created[32], revoked[32], rate[32];
                gateway_scopes_format(keys[i].scopes, scopes, sizeof scopes);
                format_time(keys[i].created_at, created);
                format_time(keys[i].revoked_at, revoked);
                if (keys[i].rate > 0)
                        snprintf(rate, sizeof rate, "%g", keys[i].rate);
                else
                        snprintf(rate, sizeof rate, "default");
                printf("%-20s %-24s %-18s %-8s %-6" PRIu32 " %-10" PRIu32 " %-21s %s\n", keys[i].id,
                        keys[i].name, scopes, rate, keys[i].burst, keys[i].quota_day, created, revoked);
        }
        return 0;
}

static int config_list(Meta *meta) {
        char **keys = NULL, **values = NULL;
        size_t n = 0;
        int r = meta_config_get_all(meta, &keys, &values, &n);
        if (r < 0) {
                log_error(r, "cannot read the client configuration: %s", strerror(-r));
                return 1;
        }
        for (size_t i = 0; i < n; i++)
                printf("%s = %s\n", keys[i], values[i]);
        meta_config_free(keys, values, n);
        return 0;
}

static int admin_main(int argc, char **argv) {
        const char *group = argv[1], *verb = argc > 2 ? argv[2] : NULL;
        SubFlag f[] = {
                {"--name", NULL},
                {"--scope", NULL},
                {"--rate", NULL},
                {"--burst", NULL},
                {"--quota-day", NULL},
                {"--cpu-day", NULL},
                {"--concurrent", NULL},
                {"--languages", NULL},
                {"--max-cpu-time-limit", NULL},
                {"--max-wall-time-limit", NULL},
                {"--max-memory-limit", NULL},
        };
        bool keys = strcmp(group, "keys") == 0;
        if (!verb) {
                log_error(
                        EINVAL, keys ? "usage: coderunner gateway keys create|list|revoke ..."
                                     : "usage: coderunner gateway config set KEY VALUE | unset KEY | list");
                return 2;
        }
        /* Positional words after the verb, then the configuration flags. */
        const char *pos[2] = {};
        size_t n_pos = 0;
        int rest = 3;
        while (rest < argc && strncmp(argv[rest], "--", 2) != 0 && n_pos < 2)
                pos[n_pos++] = argv[rest++];
        int cargc = argc - rest + 1;
        _cleanup_free_ char **cargv = calloc((size_t) cargc + 1, sizeof *cargv);
        if (!cargv)
                return 1;
        cargv[0] = argv[0];
        for (int i = rest; i < argc; i++)
                cargv[i - rest + 1] = argv[i];
        if (keys && take_flags(&cargc, cargv, f, ELEMENTSOF(f)) < 0)
                return 2;
        GatewaySection gs = {};
        HttpSection hs = {};
        GatewayRoleConfig c = {.gw = gs, .http = hs};
        const ConfSection sec[] = {
                {gateway_keys, ELEMENTSOF(gateway_keys), offsetof(GatewayRoleConfig, gw)},
                {http_section_keys, http_section_n_keys, offsetof(GatewayRoleConfig, http)},
        };
        ConfKey *ckeys = NULL;
        size_t n = 0;
        int ex;
        if (server_conf_load("gateway", "Administration of a gateway's keys and client configuration.", sec,
                    ELEMENTSOF(sec), &c, cargc, cargv, &ckeys, &n, &ex))
                return ex;
        int ret = 2;
        _cleanup_meta_close_ Meta *meta = NULL;
        if (!*c.gw.meta) {
                log_error(EINVAL, "give the gateway's metadata store: --meta=URL or --config=FILE");
                goto out;
        }
        if (secure_init() < 0 || open_meta(c.gw.meta, NULL, &meta) < 0) {
                ret = 1;
                goto out;
        }
        if (keys && strcmp(verb, "create") == 0 && n_pos == 0)
                ret = keys_create(meta, f);
        else if (keys && strcmp(verb, "list") == 0 && n_pos == 0)
                ret = keys_list(meta);
        else if (keys && strcmp(verb, "revoke") == 0 && n_pos == 1) {
                int r = meta_key_revoke(meta, pos[0], (int64_t) now_usec(CLOCK_REALTIME));
                if (r == -ENOENT)
                        log_error(r, "no key has the id %s (see: coderunner gateway keys list)", pos[0]);
                else if (r < 0)
                        log_error(r, "cannot revoke %s: %s", pos[0], strerror(-r));
                else
                        fprintf(stderr, "revoked %s (gateways stop taking it within --key-cache seconds)\n",
                                pos[0]);
                ret = r < 0 ? 1 : 0;
        } else if (!keys && strcmp(verb, "set") == 0 && n_pos == 2) {
                char err[256];
                if (!gateway_client_config_valid(pos[0], pos[1], err, sizeof err)) {
                        log_error(EINVAL, "%s", err);
                        goto out;
                }
                int r = meta_config_set(meta, pos[0], pos[1]);
                if (r < 0)
                        log_error(r, "cannot set %s: %s", pos[0], strerror(-r));
                ret = r < 0 ? 1 : 0;
        } else if (!keys && strcmp(verb, "unset") == 0 && n_pos == 1) {
                int r = meta_config_unset(meta, pos[0]);
                if (r < 0)
                        log_error(r, "cannot unset %s: %s", pos[0], strerror(-r));
                ret = r < 0 ? 1 : 0;
        } else if (!keys && strcmp(verb, "list") == 0 && n_pos == 0)
                ret = config_list(meta);
        else
                log_error(
                        EINVAL, keys ? "usage: coderunner gateway keys create --name=N [--scope=...] | list "
                                       "| revoke ID"
                                     : "usage: coderunner gateway config set KEY VALUE | unset KEY | list");
out:
        conf_done(ckeys, n, &c);
        free(ckeys);
        return ret;
}

int gateway_main(int argc, char **argv) {
        if (argc > 1 && (strcmp(argv[1], "keys") == 0 || strcmp(argv[1], "config") == 0))
                return admin_main(argc, argv);
        GatewayRoleConfig c = {};
        const ConfSection sec[] = {
                {gateway_keys, ELEMENTSOF(gateway_keys), offsetof(GatewayRoleConfig, gw)},
                {http_section_keys, http_section_n_keys, offsetof(GatewayRoleConfig, http)},
        };
        ConfKey *keys = NULL;
        size_t n = 0;
        int ex;
        if (server_conf_load("gateway",
                    "The gateway of a cluster: API keys, browser sessions, rate limits and quotas, "
                    "ownership\n"
                    "and history, in front of the API nodes (--upstream), with its metadata in MongoDB or\n"
                    "SQLite (--meta). Administration: coderunner gateway keys create|list|revoke, and\n"
                    "coderunner gateway config set|unset|list (with the same --config or --meta).",
                    sec, ELEMENTSOF(sec), &c, argc, argv, &keys, &n, &ex))
                return ex;
        int ret = run(&c);
        conf_done(keys, n, &c);
        free(keys);
        return ret;
}
