#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The cluster benchmark: API node + Redis + workers + PostgreSQL against `coderunner serve`.

Everything runs on this machine, on loopback: one redis-server (append-only file, fsync every
second, as a deployment runs it), one PostgreSQL (as `nobody`, synchronous_commit on), one
`coderunner api` (as nobody), two `coderunner worker` processes of one slot each, a second
API node with one worker on a database with synchronous_commit off, and three `coderunner
serve` (--workers=0: one slot per CPU) for comparison: on SQLite, on the same PostgreSQL, and on
a database with synchronous_commit off (so the store's share, the commit fsync's share and the
queue's share of the difference are apart).

  (a) wait=true round trips, one client, one request at a time, a C program printing a line
      (compile cached): the five targets interleaved round by round, so machine noise hits
      them all. p50/p99 of the round trip and of the overhead (round trip - the run's
      wall_time).
  (b) CPU-bound throughput: a C program spinning ~50 ms of CPU (the same source every time:
      the compile cache hits), CPU_CLIENTS clients with wait=true, with 1 worker process and
      with 2 (one slot each), alternating round by round (the second worker is stopped and
      started again between rounds); runs/s of each and their ratio.
  (c) trivial throughput through the cluster (32 clients, wait=true, 2 workers), with the CPU
      time each component spent per submission (from /proc: redis-server, the PostgreSQL
      server's processes, the API node, the workers with their supervisors and sandboxes).
  (d) the API node alone: POST /submissions without wait (workers stopped, so nothing runs)
      and GET /submissions/:token, requests/s and the API node's, PostgreSQL's and Redis's
      CPU per request.
  (e) the operations a submission costs, one by one: <build>/bench/bench-ops drives the store
      module (create, claim, finish, get) against the PostgreSQL and the queue module (push,
      claim, ack) against the Redis, and reports ops/s and the server's CPU per operation;
      then the two Redis hops of a round trip, one at a time: push until a blocked claim has
      the job, publish until the subscriber has the notification.

Prints a table with the issue's targets (round trip <= serve's + 1.5 ms p50; 2 workers >= 1.7x
one on CPU-bound submissions) as MET / NOT MET, and writes bench/results/latest-cluster.json.
A benchmark, not a test: the exit status says whether the benchmark ran, never whether a
target was met. Needs root (workers and serve start the sandbox supervisor), redis-server and
PostgreSQL's server programs.

    sudo python3 bench/bench_cluster.py --build build
"""

import argparse
import http.client
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_api  # noqa: E402  (the HTTP client, serve, PostgreSQL, statistics)
from bench_api import C_HELLO, C_ID, C_TRIVIAL, Client, fmt, free_port, stats_ms  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RTT_EXTRA_P50_MAX_MS = 1.5
SCALE_MIN = 1.7

# ~50 ms of CPU, measured by the process's own CPU clock (checked every 4096 iterations).
C_SPIN = """#include <time.h>
int main(void) {
        struct timespec t;
        volatile unsigned long x = 0;
        for (;;) {
                for (int i = 0; i < 4096; i++)
                        x++;
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
                if (t.tv_sec * 1000000000L + t.tv_nsec >= 50000000L)
                        return 0;
        }
}
"""

START_DEADLINE = 60
TICK = os.sysconf("SC_CLK_TCK")


def wait_until(cond, deadline, what):
    end = time.monotonic() + deadline
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise RuntimeError("not within %ds: %s" % (deadline, what))
        time.sleep(0.02)


# ---- CPU accounting from /proc ----

def tree_pids(pid):
    """pid and its live descendants."""
    out, pending = [], [pid]
    while pending:
        p = pending.pop()
        out.append(p)
        try:
            for task in os.listdir("/proc/%d/task" % p):
                with open("/proc/%d/task/%s/children" % (p, task)) as f:
                    pending.extend(int(x) for x in f.read().split())
        except OSError:
            pass
    return out


def tree_cpu_s(pid):
    """CPU seconds of pid and its descendants, live ones and reaped ones (cutime/cstime)."""
    total = 0
    for p in tree_pids(pid):
        try:
            with open("/proc/%d/stat" % p) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
    return total / TICK


class CpuMeter:
    """CPU seconds per component between start() and stop()."""

    def __init__(self, components):
        self.components = components  # name -> callable giving the pids' roots

    def sample(self):
        return {name: sum(tree_cpu_s(p) for p in roots()) for name, roots in self.components.items()}

    def start(self):
        self.t0 = self.sample()

    def stop(self):
        t1 = self.sample()
        return {name: t1[name] - self.t0[name] for name in t1}


# ---- the processes ----

class Redis:
    """A redis-server on a free loopback port, append-only file fsync'd every second."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "redis")
        os.mkdir(self.dir)
        self.port = free_port()
        self.url = "redis://127.0.0.1:%d" % self.port
        self.proc = None

    def version(self):
        return subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.strip()

    def start(self):
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
             "--appendonly", "yes", "--appendfsync", "everysec", "--daemonize", "no",
             "--logfile", os.path.join(self.dir, "log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: self.proc.poll() is not None or subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True).stdout.strip() == "PONG",
            30, "redis-server answers PING")
        if self.proc.poll() is not None:
            raise RuntimeError("redis-server exited with %d" % self.proc.returncode)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


def create_database(pg, name, synchronous_commit=None):
    psql = os.path.join(pg.bindir, "psql")
    if not os.access(psql, os.X_OK):
        psql = shutil.which("psql")
    sql = ["CREATE DATABASE %s" % name]
    if synchronous_commit:
        sql.append("ALTER DATABASE %s SET synchronous_commit = %s" % (name, synchronous_commit))
    for q in sql:
        r = subprocess.run([psql, "-q", "-h", "127.0.0.1", "-p", str(pg.port), "-U", "coderunner", "-d", "postgres",
                            "-c", q], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s: %s" % (q, r.stderr.strip()))
    return "postgres://coderunner@127.0.0.1:%d/%s" % (pg.port, name)


class Role:
    """One `coderunner api` (as nobody) or `coderunner worker` process."""

    def __init__(self, cli, role, name, tmp, argv):
        self.cli, self.role, self.name, self.argv = cli, role, name, argv
        self.log_path = os.path.join(tmp, name + ".log")
        self.port = free_port() if role == "api" else None
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "ab")
        argv = [self.cli, self.role, *self.argv]
        if self.role == "api":
            argv += ["--port=%d" % self.port, "--bind=127.0.0.1", "--user=nobody"]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def read_log(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def health(self):
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited with %d:\n%s" % (self.name, self.proc.returncode, self.read_log()))
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            c.request("GET", "/health")
            r = c.getresponse()
            body = r.read()
            c.close()
            return json.loads(body) if r.status == 200 else None
        except OSError:
            return None

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()


class Cluster:
    """One API node and n_workers workers (one slot each) on a store and a queue stream."""

    def __init__(self, cli, tmp, name, store_url, redis_url, stream, n_workers, max_queue):
        self.cli, self.tmp, self.store_url = cli, tmp, store_url
        common = ["--store=" + store_url, "--queue=%s?stream=%s" % (redis_url, stream), "--notify=" + redis_url]
        # A long worker timeout: (d) freezes the workers (SIGSTOP) and their languages must
        # stay served; a worker that exits leaves the registry at once anyway.
        self.api = Role(cli, "api", name + "-api", tmp,
                        common + ["--worker-timeout=60", "--max-queue-size=%d" % max_queue])
        self.workers = [Role(cli, "worker", "%s-worker-%d" % (name, i), tmp,
                             common + ["--id=%s-worker-%d" % (name, i),
                                       "--data-dir=" + os.path.join(tmp, "%s-worker-%d" % (name, i)),
                                       "--workers=1", "--heartbeat=0.3"]) for i in range(1, n_workers + 1)]

    @property
    def port(self):
        return self.api.port

    def live(self):
        h = self.api.health()
        return h.get("worker_pools") if h else None

    def set_workers(self, n):
        """Run the first n workers, stop the others; wait until the API node sees n."""
        for i, w in enumerate(self.workers):
            running = w.proc is not None and w.proc.poll() is None
            if i < n and not running:
                w.start()
            elif i >= n and running:
                w.stop()
        wait_until(lambda: self.live() == n, START_DEADLINE, "%d live workers" % n)

    def freeze(self, stop):
        """SIGSTOP (stop) or SIGCONT the workers: registered, but claiming nothing."""
        for w in self.workers:
            if w.proc and w.proc.poll() is None:
                for p in tree_pids(w.proc.pid):
                    try:
                        os.kill(p, signal.SIGSTOP if stop else signal.SIGCONT)
                    except ProcessLookupError:
                        pass

    def start(self):
        self.api.start()
        wait_until(self.api.health, START_DEADLINE, "the API node's /health")
        self.set_workers(len(self.workers))
        return self

    def stop(self):
        self.freeze(False)
        for r in self.workers + [self.api]:
            if r.proc:
                r.stop()


def machine_parallelism(spin, runs):
    """The machine's own answer to "2 vs 1": `runs` runs of the spinning program one after
    the other, against two streams of runs/2 in parallel (no sandbox, no cluster): the
    speed-up two CPU-bound processes get on this machine right now."""
    def stream(k):
        for _ in range(k):
            subprocess.run([spin], check=True)
    t0 = time.perf_counter()
    stream(runs)
    serial = time.perf_counter() - t0
    threads = [threading.Thread(target=stream, args=(runs // 2,)) for _ in range(2)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    parallel = time.perf_counter() - t0
    return {"runs": runs, "serial_s": serial, "parallel_s": parallel, "ratio": serial / parallel}


# ---- (a) round trips ----

def round_trips(targets, warmup, rounds):
    """One client per target; each round sends one wait=true submission to every target, the
    order rotating round by round."""
    clients = {name: Client(port) for name, port in targets}
    names = [name for name, _ in targets]
    samples = {n: {"rtt": [], "wall": [], "overhead": []} for n in names}
    failures = {n: [] for n in names}
    for r in range(warmup + rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            rtt, sub, err = clients[name].submit_wait(C_HELLO, C_ID)
            if err is None and sub.get("stdout") != "hi\n":
                err = "stdout %r" % sub.get("stdout")
            if err is None and sub.get("wall_time") is None:
                err = "no wall_time"
            if r < warmup:
                continue
            if err:
                failures[name].append(err)
                continue
            wall = float(sub["wall_time"])
            samples[name]["rtt"].append(rtt)
            samples[name]["wall"].append(wall)
            samples[name]["overhead"].append(rtt - wall)
    out = {}
    for name in names:
        s = samples[name]
        out[name] = {"rounds": rounds, "ok": len(s["rtt"]), "failures": len(failures[name]),
                     "first_failure": failures[name][0] if failures[name] else None,
                     "round_trip": stats_ms(s["rtt"]), "wall_time": stats_ms(s["wall"]),
                     "overhead": stats_ms(s["overhead"]), "connections_opened": clients[name].conn.connects}
        clients[name].close()
    return out


# ---- (b)/(c)/(d) load ----

def load(port, clients, total, request, warm=None):
    """`clients` threads calling request(client) until `total` calls are done; the calls'
    results (what request returns as (rtt, value, error)) are kept."""
    lock = threading.Lock()
    state = {"left": total, "ok": 0, "failures": 0, "first_failure": None}
    rtts, values, conns = [], [], []
    start = threading.Barrier(clients + 1)

    def worker():
        c = Client(port)
        conns.append(c)
        try:
            (warm or request)(c)
        except (OSError, http.client.HTTPException):
            pass  # counted below, when it fails again
        start.wait()
        mine, got = [], []
        while True:
            with lock:
                if state["left"] == 0:
                    break
                state["left"] -= 1
            try:
                rtt, value, err = request(c)
            except (OSError, http.client.HTTPException) as e:
                rtt, value, err = None, None, "%s: %s" % (type(e).__name__, e)
            with lock:
                if err:
                    state["failures"] += 1
                    state["first_failure"] = state["first_failure"] or err
                else:
                    state["ok"] += 1
            if not err:
                mine.append(rtt)
                got.append(value)
        with lock:
            rtts.extend(mine)
            values.extend(got)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    c0 = time.process_time()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    for c in conns:
        c.close()
    return {"clients": clients, "requests": total, "ok": state["ok"], "failures": state["failures"],
            "first_failure": state["first_failure"], "elapsed_s": elapsed,
            "per_s": state["ok"] / elapsed if elapsed > 0 else None, "round_trip": stats_ms(rtts),
            "client_cpu_s": time.process_time() - c0, "connections_opened": sum(c.conn.connects for c in conns),
            "values": values}


def submit_req(source):
    def request(c):
        rtt, sub, err = c.submit_wait(source, C_ID)
        return rtt, sub, err
    return request


def post_nowait(c):
    body = json.dumps({"source_code": C_TRIVIAL, "language_id": C_ID}).encode()
    t0 = time.perf_counter()
    c.conn.request("POST", "/submissions", body=body, headers={"Content-Type": "application/json"})
    r = c.conn.getresponse()
    payload = r.read()
    rtt = time.perf_counter() - t0
    if r.status != 201:
        return rtt, None, "HTTP %d: %s" % (r.status, payload[:200].decode(errors="replace"))
    return rtt, json.loads(payload)["token"], None


def get_req(tokens):
    it = {"i": 0}
    lock = threading.Lock()

    def request(c):
        with lock:
            token = tokens[it["i"] % len(tokens)]
            it["i"] += 1
        t0 = time.perf_counter()
        c.conn.request("GET", "/submissions/%s?fields=*" % token)
        r = c.conn.getresponse()
        payload = r.read()
        rtt = time.perf_counter() - t0
        if r.status != 200:
            return rtt, None, "HTTP %d: %s" % (r.status, payload[:200].decode(errors="replace"))
        return rtt, None, None
    return request


def per_request(cpu, n):
    """CPU ms per request per component, and the requests/s one core of it would carry."""
    out = {}
    for name, s in cpu.items():
        ms = 1000.0 * s / n if n else None
        out[name] = {"cpu_s": round(s, 3), "cpu_ms_per_request": ms,
                     "per_core_per_s": (1000.0 / ms) if ms else None}
    return out


def strip_values(r):
    r = dict(r)
    r.pop("values", None)
    return r


# ---- (e) operations ----

def run_ops(bench_ops, n, threads, store_url, queue_url, pg_pid, redis_pid):
    cmd = [bench_ops, "--store=" + store_url, "--queue=" + queue_url, "--n=%d" % n,
           "--threads=%d" % threads, "--store-pid=%d" % pg_pid, "--queue-pid=%d" % redis_pid]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("%s: exit status %d: %s" % (" ".join(cmd), r.returncode, r.stderr.strip()[-2000:]))
    doc = json.loads(r.stdout)
    doc["command"] = " ".join(cmd)
    return doc


def cpu_bound_summary(rounds):
    """(b)'s rounds summed up: runs/s with 1 and 2 workers, their ratio, the machine's."""
    cpu = {"rounds": rounds}
    for n in ("1", "2"):
        ok = sum(r[n]["ok"] for r in rounds)
        el = sum(r[n]["elapsed_s"] for r in rounds)
        cpu[n] = {"ok": ok, "failures": sum(r[n]["failures"] for r in rounds), "elapsed_s": el,
                  "runs_per_s": ok / el if el else None,
                  "first_failure": next((r[n]["first_failure"] for r in rounds if r[n]["first_failure"]), None),
                  "cpu_time_p50_ms": bench_api.percentile(
                      [r[n]["cpu_time"]["p50_ms"] for r in rounds if r[n]["cpu_time"]["p50_ms"]], 50),
                  "workers_cores": bench_api.percentile([r[n]["workers_cores"] for r in rounds], 50)}
        # Runs per CPU-second the workers got: equal for 1 and 2 workers when nothing but the
        # CPU the machine gives them limits the cluster (a busy machine gives less than 2 cores).
        used = sum(r[n]["workers_cores"] * r[n]["elapsed_s"] for r in rounds)
        cpu[n]["runs_per_worker_cpu_s"] = ok / used if used else None
    cpu["ratio"] = cpu["2"]["runs_per_s"] / cpu["1"]["runs_per_s"] if cpu["1"]["runs_per_s"] else None
    cpu["round_ratios"] = [r["2"]["per_s"] / r["1"]["per_s"] for r in rounds if r["1"]["per_s"]]
    cpu["machine_ratios"] = [r["machine"]["ratio"] for r in rounds]
    cpu["machine_ratio"] = bench_api.percentile(cpu["machine_ratios"], 50)
    return cpu


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--cli", help="the coderunner binary (default: <build>/coderunner)")
    ap.add_argument("--warmup", type=int, default=10, help="warm-up rounds of (a) (default 10)")
    ap.add_argument("--rounds", type=int, default=200, help="recorded rounds of (a) (default 200)")
    ap.add_argument("--cpu-rounds", type=int, default=3, help="rounds of (b), each 1 then 2 workers (default 3)")
    ap.add_argument("--cpu-clients", type=int, default=8, help="clients of (b) (default 8)")
    ap.add_argument("--cpu-submissions", type=int, default=60,
                    help="CPU-bound submissions per round and worker count in (b) (default 60)")
    ap.add_argument("--clients", type=int, default=32, help="clients of (c) and (d) (default 32)")
    ap.add_argument("--submissions", type=int, default=1000, help="submissions of (c) (default 1000)")
    ap.add_argument("--api-clients", type=int, default=8, help="clients of (d) (default 8)")
    ap.add_argument("--api-requests", type=int, default=4000, help="requests of each kind in (d) (default 4000)")
    ap.add_argument("--ops", type=int, default=5000, help="operations of each kind in (e) (default 5000)")
    ap.add_argument("--ops-threads", type=int, default=4, help="driver threads of (e) (default 4)")
    ap.add_argument("--pg-synchronous-commit", default="on",
                    help="PostgreSQL synchronous_commit of the cluster (default on, PostgreSQL's default)")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results", "latest-cluster.json"),
                    help="where to write the results (default: bench/results/latest-cluster.json)")
    args = ap.parse_args()

    args.build = os.path.abspath(args.build)
    cli = os.path.abspath(args.cli or os.path.join(args.build, "coderunner"))
    bench_ops = os.path.join(args.build, "bench", "bench-ops")
    for path in (cli, bench_ops):
        if not os.access(path, os.X_OK):
            print("bench_cluster.py: %s not found; build first (make build)" % path, file=sys.stderr)
            return 1
    if os.geteuid() != 0:
        print("bench_cluster.py: workers and serve need root (the sandbox supervisor)", file=sys.stderr)
        return 1
    if not shutil.which("redis-server") or bench_api.Postgres.find_bindir() is None:
        print("bench_cluster.py: needs redis-server and PostgreSQL's server programs (make deps-test)",
              file=sys.stderr)
        return 1
    pwd.getpwnam("nobody")

    doc = bench_api.begin_run("cluster", cli,
                              "sudo python3 bench/bench_cluster.py --build " + os.path.relpath(args.build, REPO))
    max_queue = max(100000, 2 * args.api_requests)
    serve_args = ["--workers=0", "--max-queue-size=%d" % max(100, 4 * args.clients)]
    started = []
    with tempfile.TemporaryDirectory(prefix="coderunner-bench-cluster-") as tmp:
        os.chmod(tmp, 0o755)
        try:
            redis = Redis(tmp).start()
            started.append(redis)
            pg = bench_api.Postgres(tmp, args.pg_synchronous_commit)
            pg.start()
            started.append(pg)
            doc["redis"], doc["postgres"] = redis.version(), pg.version()
            doc["synchronous_commit"] = args.pg_synchronous_commit
            cluster = Cluster(cli, tmp, "cluster", create_database(pg, "cluster"), redis.url, "coderunner", 2,
                              max_queue)
            started.append(cluster)
            cluster.start()
            # The same topology on a database whose commits do not wait for the WAL's fsync
            # (SQLite's synchronous=NORMAL in WAL mode does not fsync a commit either).
            async_url = create_database(pg, "cluster_async", synchronous_commit="off")
            cluster_async = Cluster(cli, tmp, "async", async_url, redis.url, "async", 1, max_queue)
            started.append(cluster_async)
            cluster_async.start()
            serves = {}
            for name, extra in (("serve-sqlite", []), ("serve-pg", ["--store=" + create_database(pg, "serve")]),
                                ("serve-pg-async", ["--store=" + create_database(pg, "serve_async", "off")])):
                s = bench_api.Server(cli, os.path.join(tmp, name, "data"), serve_args + extra)
                os.makedirs(os.path.dirname(s.data_dir))
                started.append(s)
                serves[name] = s.start()
            meter = CpuMeter({"redis": lambda: [redis.proc.pid], "postgres": lambda: [pg.proc.pid],
                              "api": lambda: [cluster.api.proc.pid],
                              "workers": lambda: [w.proc.pid for w in cluster.workers
                                                  if w.proc and w.proc.poll() is None]})

            # (a)
            targets = [(name, s.port) for name, s in serves.items()]
            targets += [("cluster", cluster.port), ("cluster-async", cluster_async.port)]
            print("(a) wait=true round trips: 1 client, %d warm-up + %d rounds, %s interleaved"
                  % (args.warmup, args.rounds, ", ".join(n for n, _ in targets)))
            sys.stdout.flush()
            doc["round_trips"] = round_trips(targets, args.warmup, args.rounds)
            for x in [*serves.values(), cluster_async]:
                x.stop()
                started.remove(x)

            # (b)
            print("(b) CPU-bound throughput: %d clients, %d submissions of ~50 ms CPU per round, 1 worker vs 2,"
                  " %d rounds; and the machine's own 2-vs-1 on the bare program" % (
                      args.cpu_clients, args.cpu_submissions, args.cpu_rounds))
            sys.stdout.flush()
            spin_bin = os.path.join(tmp, "spin")
            with open(spin_bin + ".c", "w") as f:
                f.write(C_SPIN)
            subprocess.run(["gcc", "-O2", "-o", spin_bin, spin_bin + ".c"], check=True)
            spin = submit_req(C_SPIN)
            c = Client(cluster.port)
            for _ in range(4):  # both workers compile it once (their caches are their own)
                c.submit_wait(C_SPIN, C_ID)
            c.close()
            rounds = []
            for r in range(args.cpu_rounds):
                row = {"machine": machine_parallelism(spin_bin, 16)}
                for n in ((1, 2) if r % 2 == 0 else (2, 1)):
                    cluster.set_workers(n)
                    meter.start()
                    res = load(cluster.port, args.cpu_clients, args.cpu_submissions, spin)
                    used = meter.stop()
                    times = [float(s["time"]) for s in res["values"] if s and s.get("time") is not None]
                    res = strip_values(res)
                    res["cpu_time"] = stats_ms(times)
                    res["workers_cores"] = used["workers"] / res["elapsed_s"]
                    row[str(n)] = res
                rounds.append(row)
            doc["cpu_bound"] = cpu_bound_summary(rounds)
            cluster.set_workers(2)

            # (c)
            print("(c) trivial throughput through the cluster: %d clients, %d submissions, 2 workers"
                  % (args.clients, args.submissions))
            sys.stdout.flush()
            meter.start()
            res = load(cluster.port, args.clients, args.submissions, submit_req(C_TRIVIAL))
            cost = meter.stop()
            tokens = [s["token"] for s in res["values"] if s]
            if not tokens:
                raise RuntimeError("(c): no submission succeeded: %s" % res["first_failure"])
            res = strip_values(res)
            res["cost"] = per_request(cost, res["ok"])
            doc["trivial"] = res

            # (d)
            print("(d) the API node: POST without wait (workers frozen), GET /submissions/:token; %d clients,"
                  " %d requests each" % (args.api_clients, args.api_requests))
            sys.stdout.flush()
            cluster.freeze(True)
            api = {}
            for kind, request in (("post", post_nowait), ("get", get_req(tokens))):
                meter.start()
                res = strip_values(load(cluster.port, args.api_clients, args.api_requests, request))
                res["cost"] = per_request(meter.stop(), res["ok"])
                api[kind] = res
            doc["api_node"] = api
            cluster.stop()
            started.remove(cluster)

            # (e)
            print("(e) operations: bench-ops, %d of each, with %d threads and with 1 (synchronous_commit %s), and"
                  " with 1 on a database with synchronous_commit off" % (args.ops, args.ops_threads,
                                                                         args.pg_synchronous_commit))
            sys.stdout.flush()
            doc["ops"] = run_ops(bench_ops, args.ops, args.ops_threads, create_database(pg, "ops"),
                                 redis.url + "/1?stream=ops", pg.proc.pid, redis.proc.pid)
            doc["ops_sequential"] = run_ops(bench_ops, max(1, args.ops // 5), 1, create_database(pg, "ops1"),
                                            redis.url + "/1?stream=ops1", pg.proc.pid, redis.proc.pid)
            doc["ops_sequential_async"] = run_ops(
                bench_ops, max(1, args.ops // 5), 1, create_database(pg, "ops_async", synchronous_commit="off"),
                redis.url + "/1?stream=ops2", pg.proc.pid, redis.proc.pid)
        finally:
            for x in reversed(started):
                try:
                    x.stop()
                except Exception as e:  # keep stopping the others
                    print("bench_cluster.py: stopping: %s" % e, file=sys.stderr)

    load_after = os.getloadavg()
    doc["load_average"]["after"] = list(load_after)
    report(doc, args)
    bench_api.write_results(doc, args.out)
    print("cluster results: %s" % os.path.relpath(args.out))
    return 0


def report(doc, args):
    print()
    rt = doc["round_trips"]
    print("== (a) wait=true round trips (1 client, sequential, interleaved; ms) ==")
    print("  %-14s %5s %6s | %8s %8s | %8s | %8s %8s" % ("target", "ok", "failed", "rtt p50", "rtt p99", "wall p50",
                                                        "ovh p50", "ovh p99"))
    for name in ("serve-sqlite", "serve-pg", "serve-pg-async", "cluster", "cluster-async"):
        r = rt[name]
        print("  %-14s %5d %6d | %8s %8s | %8s | %8s %8s" % (
            name, r["ok"], r["failures"], fmt(r["round_trip"]["p50_ms"]), fmt(r["round_trip"]["p99_ms"]),
            fmt(r["wall_time"]["p50_ms"]), fmt(r["overhead"]["p50_ms"]), fmt(r["overhead"]["p99_ms"])))
        if r["first_failure"]:
            print("    first failure: %s" % r["first_failure"])
    print()
    cpu = doc["cpu_bound"]
    print("== (b) CPU-bound submissions (~50 ms CPU each; %d clients) ==" % args.cpu_clients)
    print("  %-10s %6s %6s %9s %9s %12s %14s %16s" % ("workers", "ok", "failed", "seconds", "runs/s",
                                                     "cpu p50 ms", "workers' cores", "runs/worker-CPU-s"))
    for n in ("1", "2"):
        r = cpu[n]
        print("  %-10s %6d %6d %9.2f %9s %12s %14s %16s" % (n, r["ok"], r["failures"], r["elapsed_s"],
                                                           fmt(r["runs_per_s"]), fmt(r["cpu_time_p50_ms"]),
                                                           fmt(r["workers_cores"]), fmt(r["runs_per_worker_cpu_s"])))
        if r["first_failure"]:
            print("    first failure: %s" % r["first_failure"])
    print("  per-round ratios: %s; the machine's own 2-vs-1 on the bare program, same rounds: %s" % (
        ", ".join("%.2f" % x for x in cpu["round_ratios"]), ", ".join("%.2f" % x for x in cpu["machine_ratios"])))
    print()
    t = doc["trivial"]
    print("== (c) trivial C through the cluster (%d clients, 2 workers) ==" % t["clients"])
    print("  %d ok, %d failed in %.2f s: %.1f runs/s; rtt p50 %s ms, p99 %s ms" % (
        t["ok"], t["failures"], t["elapsed_s"], t["per_s"] or 0, fmt(t["round_trip"]["p50_ms"]),
        fmt(t["round_trip"]["p99_ms"])))
    if t["first_failure"]:
        print("    first failure: %s" % t["first_failure"])
    print_cost(t["cost"], "submission")
    print()
    print("== (d) the API node alone (%d clients) ==" % args.api_clients)
    for kind, label in (("post", "POST /submissions (no wait)"), ("get", "GET /submissions/:token")):
        r = doc["api_node"][kind]
        print("  %-28s %d ok, %d failed: %.0f req/s (client-bound: the client used %.1f s CPU in %.1f s);"
              " rtt p50 %s ms" % (label, r["ok"], r["failures"], r["per_s"] or 0, r["client_cpu_s"], r["elapsed_s"],
                                  fmt(r["round_trip"]["p50_ms"])))
        if r["first_failure"]:
            print("    first failure: %s" % r["first_failure"])
        print_cost(r["cost"], "request")
    print()
    for key, label in (("ops", "%d threads" % doc["ops"]["threads"]), ("ops_sequential", "1 thread"),
                       ("ops_sequential_async", "1 thread, synchronous_commit off")):
        ops = doc[key]
        print("== (e) operations (bench-ops: %d of each, %s) ==" % (ops["n"], label))
        print("  %-14s %10s %10s %10s %14s %14s" % ("operation", "ops/s", "p50 us", "p99 us", "server CPU us",
                                                   "ops/s per core"))
        for o in ops["ops"]:
            print("  %-14s %10.0f %10.1f %10.1f %14s %14s" % (
                o["name"], o["per_s"], o["p50_us"], o["p99_us"], fmt(o["server_cpu_us"]),
                "%.0f" % (1e6 / o["server_cpu_us"]) if o["server_cpu_us"] else "-"))
        for h in ops.get("hops", []):
            print("  hop %-30s p50 %8.1f us   p99 %8.1f us   (%d, one at a time, 2 ms apart)" % (
                h["name"], h["p50_us"], h["p99_us"], h["n"]))
        print("  rerun: %s" % ops["command"])
        print()

    targets = []

    def add(target, met, detail, info=False):
        targets.append({"table": "cluster", "target": target, "met": met, "detail": detail, "info": info})

    base, cl = rt["serve-sqlite"]["round_trip"]["p50_ms"], rt["cluster"]["round_trip"]["p50_ms"]
    pgp = rt["serve-pg"]["round_trip"]["p50_ms"]
    failed = rt["serve-sqlite"]["failures"] or rt["cluster"]["failures"]
    extra = cl - base if cl is not None and base is not None else None
    add("cluster round trip <= serve + %.1f ms p50" % RTT_EXTRA_P50_MAX_MS,
        None if extra is None or failed else extra <= RTT_EXTRA_P50_MAX_MS,
        "+%s ms (cluster %s ms, serve/SQLite %s ms, serve/PostgreSQL %s ms)" % (fmt(extra), fmt(cl), fmt(base),
                                                                               fmt(pgp)))
    def diff(a, b):
        x, y = rt[a]["round_trip"]["p50_ms"], rt[b]["round_trip"]["p50_ms"]
        return None if x is None or y is None else x - y

    add("cluster vs serve on the same PostgreSQL", None,
        "+%s ms synchronous_commit %s, +%s ms off (the queue, pub/sub and process hops)" % (
            fmt(diff("cluster", "serve-pg")), doc["synchronous_commit"], fmt(diff("cluster-async", "serve-pg-async"))),
        info=True)
    add("serve on PostgreSQL vs serve on SQLite", None,
        "+%s ms synchronous_commit %s, +%s ms off (the store)" % (
            fmt(diff("serve-pg", "serve-sqlite")), doc["synchronous_commit"], fmt(diff("serve-pg-async", "serve-sqlite"))),
        info=True)
    add("cluster (synchronous_commit off) vs serve/SQLite", None, "+%s ms (%s ms vs %s ms)" % (
        fmt(diff("cluster-async", "serve-sqlite")), fmt(rt["cluster-async"]["round_trip"]["p50_ms"]), fmt(base)),
        info=True)
    ratio = cpu["ratio"]
    add("2 workers >= %.1fx 1 worker, CPU-bound" % SCALE_MIN,
        None if ratio is None or cpu["1"]["failures"] or cpu["2"]["failures"] else ratio >= SCALE_MIN,
        "%sx (%s vs %s runs/s; rounds %s; the bare machine's 2-vs-1: %sx; the 2 workers got %s cores)" % (
            fmt(ratio), fmt(cpu["2"]["runs_per_s"]), fmt(cpu["1"]["runs_per_s"]),
            " ".join("%.2f" % x for x in cpu["round_ratios"]), fmt(cpu["machine_ratio"]),
            fmt(cpu["2"]["workers_cores"])))
    add("trivial submissions/s through the cluster", None, "%.1f runs/s (%d clients, 2 workers of 1 slot)" % (
        t["per_s"] or 0, t["clients"]), info=True)
    doc["targets"] = targets
    print("== cluster targets ==")
    for x in targets:
        print("  %-50s %-8s %s" % (x["target"], bench_api.verdict(x), x["detail"]))
    print("load average after: %.2f %.2f %.2f" % tuple(doc["load_average"]["after"]))
    print()


def print_cost(cost, what):
    print("  CPU per %s: %s" % (what, ", ".join(
        "%s %.3f ms" % (name, c["cpu_ms_per_request"] or 0) for name, c in cost.items())))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError) as e:
        print("bench_cluster.py: %s" % e, file=sys.stderr)
        sys.exit(1)
