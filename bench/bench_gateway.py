#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The gateway benchmark: `coderunner gateway` in front of an API node, against the node itself.

Everything runs on this machine, on loopback: one `coderunner serve` as the API node (--workers=0:
one slot per CPU; configured as behind a gateway: it refuses whatever lacks the internal
credential), a redis-server (when installed) for the gateway's rate limits, and two `coderunner
gateway` in front of the node, their metadata in SQLite (with --meta=mongo: in a FerretDB of the
run's own): one limiting in Redis (as a cluster runs it), one in memory. The direct requests carry the internal credential, the gateway's a key.

  (a) wait=true round trips, one client, one request at a time, a C program printing a line
      (compile cached): directly to the node and through the gateway, interleaved round by round
      (which goes first alternates), so machine noise hits both. p50/p99 of each, the difference
      of the p50s (the target: <= +1 ms), the median of the paired per-round differences, and
      the same for the overhead (round trip - the run's wall_time), which leaves out how long
      the sandboxed run itself took that time.
  (b) GET /submissions/:token (a token the key owns) by CLIENTS threads: requests per second
      directly and through the gateway, alternating round by round, and the CPU the gateway and
      the node spend per request (from /proc).
  (c) limiter accuracy: a key with rate 50/s and burst 1 hammered by HAMMER client threads for
      10 s (GET /statuses): requests admitted against rate x seconds + burst, through the gateway
      that limits in Redis and through the one that limits in memory; then the same with burst
      10. More than that (+1 for the request at the window's edge) is a limiter letting too
      much through; less is partly the clients': with burst 1 (GCRA, no slack) the time between
      a slot opening and the next request's decision is lost on every admitted request, which
      burst 10 absorbs. The target: never more, and at least 95%.

The clients are Python's http.client, one keep-alive connection per thread, on the same two CPUs
as everything else: (b)'s rates are bounded by them. Prints the targets as MET / NOT MET and
writes bench/results/latest-gateway.json. A benchmark, not a test: the exit status says whether
it ran, never whether a target was met. Needs root (serve starts the sandbox supervisor; the
gateways become nobody).

    sudo python3 bench/bench_gateway.py --build build [--meta=mongo]
"""

import argparse
import http.client
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_api  # noqa: E402  (the HTTP client, serve, statistics)
import bench_cluster  # noqa: E402  (Redis, CPU accounting)
from bench_api import C_HELLO, C_ID, Client, fmt, free_port, stats_ms  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RTT_EXTRA_P50_MAX_MS = 1.0
INTERNAL_HEADER = "X-Coderunner-Internal"
ADMIN_HEADER = "X-Coderunner-Admin"
GATEWAY_USER = "nobody"
START_DEADLINE = 60
GET_FIELDS = "token,status,stdout,time,memory"


class Gateway(bench_api.Server):
    """One `coderunner gateway` on a free loopback port (read_log() and stop() as serve's)."""

    def __init__(self, cli, tmp, name, upstream, meta, secret, redis_url=None):
        self.cli, self.name = cli, name
        self.port = free_port()
        self.log_path = os.path.join(tmp, "%s.log" % name)
        self.argv = [cli, "gateway", "--port=%d" % self.port, "--bind=127.0.0.1", "--upstream=" + upstream,
                     "--meta=" + meta, "--internal-secret=" + secret, "--session-secret=" + "s" * 64,
                     # the client's address must not be what limits: only the keys
                     "--ip-rate=100000", "--ip-burst=1000000"]
        if redis_url:
            self.argv.append("--redis=" + redis_url)
        if os.geteuid() == 0:
            self.argv.append("--user=" + GATEWAY_USER)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT)

        def healthy():
            if self.proc.poll() is not None:
                raise RuntimeError("%s exited with %d:\n%s" % (self.name, self.proc.returncode, self.read_log()))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health")
                ok = c.getresponse().status == 200
                c.close()
                return ok
            except OSError:
                return False

        bench_cluster.wait_until(healthy, START_DEADLINE, "%s answers /health" % self.name)
        return self


def default_ferretdb():
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.environ.get("CODERUNNER_FERRETDB") or os.path.join(cache, "coderunner", "ferretdb-v1.24.2", "ferretdb")


class FerretDB(bench_api.Server):
    """A FerretDB (MongoDB wire, SQLite files) on a free loopback port, its files in dir (stop()
    as serve's)."""

    def __init__(self, binary, dir):
        if not os.access(binary, os.X_OK):
            raise RuntimeError("--meta=mongo: no FerretDB at %s (tools/build-ferretdb builds it)" % binary)
        self.port = free_port()
        self.url = "mongodb://127.0.0.1:%d/coderunner" % self.port
        self.argv = [binary, "--handler=sqlite", "--sqlite-url=file:%s/" % dir, "--state-dir=" + dir,
                     "--listen-addr=127.0.0.1:%d" % self.port, "--telemetry=disable", "--debug-addr=-",
                     "--log-level=warn"]
        self.log_path = os.path.join(dir, "ferretdb.log")

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT)

        def listening():
            if self.proc.poll() is not None:
                raise RuntimeError("ferretdb exited with %d" % self.proc.returncode)
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False

        bench_cluster.wait_until(listening, START_DEADLINE, "FerretDB listens")
        return self


def make_key(cli, meta, name, *flags):
    r = subprocess.run([cli, "gateway", "keys", "create", "--meta=" + meta, "--name=" + name, *flags],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0 or not r.stdout.startswith("cr_"):
        raise RuntimeError("gateway keys create failed (%d): %s" % (r.returncode, r.stderr.strip()))
    return r.stdout.strip()


def round_trips(direct, via, warmup, rounds):
    """(a): the same C program, directly and through the gateway, interleaved."""
    for c in (direct, via):
        for _ in range(warmup):
            _, _, err = c.submit_wait(C_HELLO, C_ID)
            if err:
                raise RuntimeError("warm-up: " + err)
    rtt = {"direct": [], "gateway": []}
    wall = {"direct": [], "gateway": []}
    paired = []
    for i in range(rounds):
        order = (("direct", direct), ("gateway", via)) if i % 2 == 0 else (("gateway", via), ("direct", direct))
        got = {}
        for name, c in order:
            t, sub, err = c.submit_wait(C_HELLO, C_ID)
            if err:
                raise RuntimeError("%s round %d: %s" % (name, i, err))
            rtt[name].append(t)
            wall[name].append(float(sub.get("wall_time") or 0))
            got[name] = t
        paired.append(got["gateway"] - got["direct"])
    out = {name: {"round_trip": stats_ms(rtt[name]), "wall_time": stats_ms(wall[name]),
                  "overhead": stats_ms([t - w for t, w in zip(rtt[name], wall[name])])} for name in rtt}
    out["difference_p50_ms"] = out["gateway"]["round_trip"]["p50_ms"] - out["direct"]["round_trip"]["p50_ms"]
    out["overhead_difference_p50_ms"] = out["gateway"]["overhead"]["p50_ms"] - out["direct"]["overhead"]["p50_ms"]
    out["paired_difference"] = stats_ms(paired)
    return out


def hammer(port, headers, path, clients, seconds=None, total=None):
    """clients threads sending GET path, for seconds or until total requests are done:
    (elapsed s, {status: count})."""
    counts, lock = {}, threading.Lock()
    remaining = [total]
    errors = []
    start = threading.Barrier(clients + 1)
    stop_at = [None]

    def worker():
        c = Client(port, headers)
        mine = {}
        try:
            start.wait()
            while True:
                if seconds is not None and time.perf_counter() >= stop_at[0]:
                    break
                if total is not None:
                    with lock:
                        if remaining[0] <= 0:
                            break
                        remaining[0] -= 1
                status, _ = c.request("GET", path)
                mine[status] = mine.get(status, 0) + 1
        except Exception as e:  # reported below, the run is void
            errors.append(repr(e))
        finally:
            c.close()
            with lock:
                for k, v in mine.items():
                    counts[k] = counts.get(k, 0) + v

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for t in threads:
        t.start()
    t0 = time.perf_counter()
    if seconds is not None:
        stop_at[0] = t0 + seconds
    start.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError("client errors: %s" % errors[:3])
    return elapsed, counts


def get_rates(components, node, gw, direct_headers, key_headers, token, clients, requests, rounds):
    """(b): GET /submissions/:token per second, directly and through the gateway, alternating;
    the CPU each of components ({name: process}) spent per request."""
    path = "/submissions/%s?fields=%s" % (token, GET_FIELDS)
    res = {"direct": [], "gateway": []}
    cpu = {name: {c: 0.0 for c in components} for name in res}

    def sample():
        return {c: bench_cluster.tree_cpu_s(p.proc.pid) for c, p in components.items()}

    for _ in range(rounds):
        for name, port, headers in (("direct", node.port, direct_headers), ("gateway", gw.port, key_headers)):
            t0 = sample()
            elapsed, counts = hammer(port, headers, path, clients, total=requests)
            t1 = sample()
            if counts.get(200, 0) != requests:
                raise RuntimeError("%s GET: answers %s, wanted %d x 200" % (name, counts, requests))
            res[name].append(requests / elapsed)
            for c in components:
                cpu[name][c] += t1[c] - t0[c]
    out = {}
    for name in res:
        out[name] = {"per_round": [round(x, 1) for x in res[name]],
                     "median_per_s": sorted(res[name])[len(res[name]) // 2],
                     "cpu_ms_per_request": {c: 1000.0 * v / (requests * rounds) for c, v in cpu[name].items()}}
    out["ratio"] = out["gateway"]["median_per_s"] / out["direct"]["median_per_s"]
    return out


def limiter(gw, key, rate, burst, seconds, clients):
    """(c): admitted against rate x seconds + burst."""
    elapsed, counts = hammer(gw.port, {"X-Auth-Token": key}, "/statuses", clients, seconds=seconds)
    admitted, refused = counts.get(200, 0), counts.get(429, 0)
    other = {k: v for k, v in counts.items() if k not in (200, 429)}
    if other:
        raise RuntimeError("%s: answers other than 200 and 429: %s" % (gw.name, other))
    expected = rate * elapsed + burst
    return {"seconds": elapsed, "rate": rate, "burst": burst, "admitted": admitted, "refused": refused,
            "expected": expected, "error": admitted - expected, "error_percent": 100.0 * (admitted - expected) / expected}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--cli", help="the coderunner binary (default: <build>/coderunner)")
    ap.add_argument("--warmup", type=int, default=10, help="warm-up rounds of (a) (default 10)")
    ap.add_argument("--rounds", type=int, default=200, help="recorded rounds of (a) (default 200)")
    ap.add_argument("--clients", type=int, default=8, help="client threads of (b) (default 8)")
    ap.add_argument("--requests", type=int, default=4000, help="GETs per round and target in (b) (default 4000)")
    ap.add_argument("--get-rounds", type=int, default=3, help="rounds of (b) (default 3)")
    ap.add_argument("--limit-rate", type=float, default=50, help="rate of (c)'s key, per second (default 50)")
    ap.add_argument("--limit-bursts", default="1,10", help="bursts of (c)'s keys, one run each (default 1,10)")
    ap.add_argument("--limit-seconds", type=float, default=10, help="how long (c) hammers (default 10)")
    ap.add_argument("--hammer", type=int, default=4, help="client threads of (c) (default 4)")
    ap.add_argument("--meta", choices=("sqlite", "mongo"), default="sqlite",
                    help="the gateways' metadata store: SQLite, or MongoDB as FerretDB (default sqlite)")
    ap.add_argument("--ferretdb", default=default_ferretdb(),
                    help="FerretDB for --meta=mongo (default: $CODERUNNER_FERRETDB, else tools/build-ferretdb's)")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results", "latest-gateway.json"),
                    help="where to write the results (default: bench/results/latest-gateway.json)")
    args = ap.parse_args()

    args.build = os.path.abspath(args.build)
    cli = os.path.abspath(args.cli or os.path.join(args.build, "coderunner"))
    if not os.access(cli, os.X_OK):
        print("bench_gateway.py: %s not found; build first (make build)" % cli, file=sys.stderr)
        return 1
    if subprocess.run([cli, "gateway", "--help"], capture_output=True).returncode != 0:
        print("bench_gateway.py: this build has no `coderunner gateway`", file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("bench_gateway.py: serve needs root (the sandbox supervisor)", file=sys.stderr)
        return 1
    nobody = pwd.getpwnam(GATEWAY_USER)

    doc = bench_api.begin_run("gateway", cli,
                              "sudo python3 bench/bench_gateway.py --build " + os.path.relpath(args.build, REPO))
    secret = os.urandom(32).hex()
    direct_headers = {INTERNAL_HEADER: secret}
    started = []
    with tempfile.TemporaryDirectory(prefix="coderunner-bench-gateway-") as tmp:
        os.chmod(tmp, 0o755)
        try:
            node = bench_api.Server(cli, os.path.join(tmp, "serve"), [
                "--workers=0", "--authn-header=" + INTERNAL_HEADER, "--authn-token=" + secret,
                "--authz-header=" + ADMIN_HEADER, "--authz-token=" + secret], headers=direct_headers)
            node.start()
            started.append(node)
            redis = None
            if shutil.which("redis-server"):
                redis = bench_cluster.Redis(tmp).start()
                started.append(redis)
            # The keys first (as root), then the store is the gateways' user's.
            meta_dir = os.path.join(tmp, "meta")
            os.mkdir(meta_dir, 0o700)
            meta = "sqlite:%s/meta.db" % meta_dir
            if args.meta == "mongo":
                ferretdb = FerretDB(args.ferretdb, meta_dir).start()
                started.append(ferretdb)
                meta = ferretdb.url
            doc["meta"] = args.meta
            key = make_key(cli, meta, "bench", "--rate=100000", "--burst=1000000")
            bursts = [int(b) for b in args.limit_bursts.split(",")]
            limit_keys = {(backend, b): make_key(cli, meta, "limit-%s-%d" % (backend, b), "--rate=%g" % args.limit_rate,
                                                 "--burst=%d" % b)
                          for backend in ("redis", "memory") for b in bursts}
            for root, dirs, files in os.walk(meta_dir):
                for p in [root] + [os.path.join(root, f) for f in files]:
                    os.chown(p, nobody.pw_uid, nobody.pw_gid)
            upstream = "http://127.0.0.1:%d" % node.port
            gw = Gateway(cli, tmp, "gateway-redis" if redis else "gateway-memory", upstream, meta, secret,
                         redis.url if redis else None).start()
            started.append(gw)
            gw_mem = gw
            if redis:
                gw_mem = Gateway(cli, tmp, "gateway-memory", upstream, meta, secret).start()
                started.append(gw_mem)
            key_headers = {"X-Auth-Token": key}

            print("(a) wait=true round trips, %d rounds, direct and through the gateway interleaved" % args.rounds)
            direct, via = Client(node.port, direct_headers), Client(gw.port, key_headers)
            rtt = round_trips(direct, via, args.warmup, args.rounds)
            # a token the key owns, for (b)
            _, sub, err = via.submit_wait(C_HELLO, C_ID)
            if err:
                raise RuntimeError(err)
            token = sub["token"]
            direct.close()
            via.close()
            doc["round_trip"] = rtt
            for name in ("direct", "gateway"):
                s = rtt[name]["round_trip"]
                print("  %-8s round trip p50 %s  p99 %s   (run's wall_time p50 %s; overhead p50 %s)" % (
                    name, fmt(s["p50_ms"], " ms"), fmt(s["p99_ms"], " ms"), fmt(rtt[name]["wall_time"]["p50_ms"], " ms"),
                    fmt(rtt[name]["overhead"]["p50_ms"], " ms")))
            print("  gateway - direct: p50 %+.3f ms; paired per round: median %+.3f ms, p99 %+.3f ms; "
                  "overhead p50 %+.3f ms\n" % (rtt["difference_p50_ms"], rtt["paired_difference"]["p50_ms"],
                                              rtt["paired_difference"]["p99_ms"], rtt["overhead_difference_p50_ms"]))

            print("(b) GET /submissions/:token, %d clients, %d requests a round, %d rounds" % (
                args.clients, args.requests, args.get_rounds))
            components = {"node": node, "gateway": gw}
            if args.meta == "mongo":
                components["ferretdb"] = ferretdb
            gets = get_rates(components, node, gw, direct_headers, key_headers, token, args.clients, args.requests,
                             args.get_rounds)
            doc["get"] = gets
            for name in ("direct", "gateway"):
                g = gets[name]
                print("  %-8s %8.0f/s (rounds %s)  CPU per request: %s" % (
                    name, g["median_per_s"], g["per_round"],
                    ", ".join("%s %.3f ms" % kv for kv in g["cpu_ms_per_request"].items())))
            print("  gateway / direct: %.2fx\n" % gets["ratio"])

            print("(c) limiter: rate %g/s, %d clients for %g s" % (args.limit_rate, args.hammer, args.limit_seconds))
            lim = {}
            for b in bursts:
                for backend, g in (("redis", gw if redis else None), ("memory", gw_mem)):
                    if g is None:
                        continue
                    x = limiter(g, limit_keys[(backend, b)], args.limit_rate, b, args.limit_seconds, args.hammer)
                    lim["%s, burst %d" % (backend, b)] = x
                    print("  %-7s burst %-3d admitted %d of %d in %.2f s; expected %.1f (rate x seconds + burst): "
                          "%+.1f (%+.2f%%)" % (backend, b, x["admitted"], x["admitted"] + x["refused"], x["seconds"],
                                               x["expected"], x["error"], x["error_percent"]))
            doc["limiter"] = lim
            print()
        finally:
            for p in reversed(started):
                try:
                    p.stop()
                except Exception as e:  # keep stopping the others
                    print("bench_gateway.py: stopping: %s" % e, file=sys.stderr)

    doc["load_average"]["after"] = list(os.getloadavg())
    targets = []

    def add(target, met, detail, info=False):
        targets.append({"table": "gateway", "target": target, "met": met, "detail": detail, "info": info})

    add("gateway wait=true round trip <= direct + %.1f ms p50" % RTT_EXTRA_P50_MAX_MS,
        rtt["difference_p50_ms"] <= RTT_EXTRA_P50_MAX_MS,
        "%+.3f ms (direct %.3f, gateway %.3f; paired %+.3f; overhead %+.3f)" % (
            rtt["difference_p50_ms"], rtt["direct"]["round_trip"]["p50_ms"], rtt["gateway"]["round_trip"]["p50_ms"],
            rtt["paired_difference"]["p50_ms"], rtt["overhead_difference_p50_ms"]))
    add("proxied GET /submissions/:token per second vs direct", None,
        "%.0f/s vs %.0f/s: %.2fx" % (gets["gateway"]["median_per_s"], gets["direct"]["median_per_s"], gets["ratio"]),
        info=True)
    for name, x in lim.items():
        add("limiter (%s): admitted <= rate x %gs + burst, >= 95%%" % (name, args.limit_seconds),
            x["expected"] * 0.95 <= x["admitted"] <= x["expected"] + 1,
            "%d vs %.1f (%+.1f, %+.2f%%)" % (x["admitted"], x["expected"], x["error"], x["error_percent"]))
    doc["targets"] = targets
    print("== gateway targets ==")
    for t in targets:
        print("  %-56s %-8s %s" % (t["target"], bench_api.verdict(t), t["detail"]))
    bench_api.write_results(doc, args.out)
    print("results: %s" % os.path.relpath(args.out))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError) as e:
        print("bench_gateway.py: %s" % e, file=sys.stderr)
        sys.exit(1)
