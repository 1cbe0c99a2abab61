#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The HTTP API benchmark: `coderunner serve` measured through its Judge0 API, in one run.

  (a) wait=true round trips, one client, one request at a time: a trivial C program (its
      compile cached by a first submission) and Python `print`, interleaved. For each: the
      round trip the client sees, the run's wall_time as the submission reports it (the
      sandbox's measure of the run), and the server overhead = round trip - wall_time (HTTP,
      JSON, store writes, queue hand-off, the judge pipeline around the run): p50 and p99.
  (b) throughput: CLIENTS concurrent clients (threads), each submitting trivial C runs
      (compile cached) with wait=true until SUBMISSIONS are done; runs per second, on the
      embedded SQLite store.
  (c) the same on PostgreSQL, when its server programs are installed: a PostgreSQL started
      for the run on loopback, as an unprivileged user, in a temporary directory; stopped after.

The client is Python's http.client, one keep-alive connection per client thread (connections
opened are counted and printed), so Python's connection setup is not measured; the client
threads share the machine (and the GIL) with the server and the sandbox. Prints a table and
the issue's targets (overhead p50 <= 2 ms; >= 300 trivial runs/s on this 2-core machine)
with MET / NOT MET, and writes bench/results/latest-api.json.

A benchmark, not a test: the exit status says whether the benchmark ran, never whether a
target was met. Needs root (the server starts the sandbox supervisor).

    sudo python3 bench/bench_api.py --build build
"""

import argparse
import datetime
import glob
import http.client
import json
import os
import platform
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

C_ID = 50
PY_ID = 71
C_TRIVIAL = "int main(void) { return 0; }\n"
C_HELLO = '#include <stdio.h>\nint main(void) { puts("hi"); return 0; }\n'
PY_PRINT = 'print("hi")\n'
FIELDS = "token,status,stdout,stderr,compile_output,message,time,wall_time"

OVERHEAD_P50_MAX_MS = 2.0
THROUGHPUT_MIN = 300.0

START_DEADLINE = 60
REQUEST_TIMEOUT = 180


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    v = sorted(values)
    k = (len(v) - 1) * p / 100.0
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


class Conn(http.client.HTTPConnection):
    """A keep-alive connection that counts how often it (re)connects."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.connects = 0

    def connect(self):
        self.connects += 1
        super().connect()


class Client:
    def __init__(self, port, headers=None):
        self.conn = Conn("127.0.0.1", port, timeout=REQUEST_TIMEOUT)
        self.headers = dict(headers or {})  # sent with every request (a key, a credential)

    def request(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        headers = dict(self.headers)
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=data, headers=headers)
                r = self.conn.getresponse()
                payload = r.read()
                return r.status, payload
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server closed an idle keep-alive connection: reconnect once (counted).
                self.conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def submit_wait(self, source, language_id):
        """POST /submissions?wait=true; returns (round trip s, submission dict or None, error)."""
        body = {"source_code": source, "language_id": language_id}
        t0 = time.perf_counter()
        status, payload = self.request("POST", "/submissions?wait=true&fields=" + FIELDS, body)
        rtt = time.perf_counter() - t0
        if status != 201:
            return rtt, None, "HTTP %d: %s" % (status, payload[:200].decode(errors="replace"))
        sub = json.loads(payload)
        if sub.get("status", {}).get("id") != 3:
            return rtt, sub, "status %s: %s" % (sub.get("status"), {k: sub.get(k) for k in
                                                                    ("stderr", "compile_output", "message")})
        return rtt, sub, None

    def close(self):
        self.conn.close()


class Server:
    """One `coderunner serve` on a free loopback port (as tests/integration/api_helpers.py)."""

    def __init__(self, cli, data_dir, args=(), headers=None):
        self.cli = cli
        self.data_dir = data_dir
        self.port = free_port()
        self.args = list(args)
        self.headers = dict(headers or {})  # what /health wants (a node behind a gateway: its credential)
        self.log_path = os.path.join(os.path.dirname(data_dir), "serve-%d.log" % self.port)
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [self.cli, "serve", "--port=%d" % self.port, "--bind=127.0.0.1",
             "--data-dir=" + self.data_dir, *self.args],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("serve exited with %d:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/health", headers=self.headers)
                r = c.getresponse()
                body = r.read()
                c.close()
                if r.status == 200:
                    self.health = json.loads(body)
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("serve did not answer /health in %ds:\n%s" % (START_DEADLINE, self.read_log()))
            time.sleep(0.05)

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Postgres:
    """A PostgreSQL for the run (as tests/unit/test-store-store.c): initdb in a temporary
    directory, listening on loopback only, run as `nobody` when we are root."""

    def __init__(self, tmp, synchronous_commit):
        self.bindir = self.find_bindir()
        self.dir = os.path.join(tmp, "pg")
        self.synchronous_commit = synchronous_commit
        self.proc = None

    @staticmethod
    def find_bindir():
        for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: [int(x) if x.isdigit() else 0
                                                                             for x in p.split("/")], reverse=True):
            if os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(os.path.join(d, "postgres"), os.X_OK):
                return d
        initdb, postgres = shutil.which("initdb"), shutil.which("postgres")
        if initdb and postgres and os.path.dirname(initdb) == os.path.dirname(postgres):
            return os.path.dirname(initdb)
        return None

    def version(self):
        return subprocess.run([os.path.join(self.bindir, "postgres"), "--version"], capture_output=True,
                              text=True).stdout.strip()

    def start(self):
        kw = {}
        os.mkdir(self.dir, 0o700)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            pw = pwd.getpwnam("nobody")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            kw = {"user": pw.pw_uid, "group": pw.pw_gid, "extra_groups": []}
        data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "log")
        with open(self.log_path, "wb") as log:
            os.chown(self.log_path, kw.get("user", -1), kw.get("group", -1))
            rc = subprocess.call([os.path.join(self.bindir, "initdb"), "-D", data, "-U", "coderunner",
                                  "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"],
                                 stdout=log, stderr=subprocess.STDOUT, cwd=self.dir, **kw)
        if rc != 0:
            raise RuntimeError("initdb failed (%d):\n%s" % (rc, self.read_log()))
        self.port = free_port()
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [os.path.join(self.bindir, "postgres"), "-D", data, "-p", str(self.port), "-k", self.dir,
             "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=100",
             "-c", "synchronous_commit=" + self.synchronous_commit],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir, **kw)
        self.url = "postgres://coderunner@127.0.0.1:%d/postgres" % self.port
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError("postgres exited with %d:\n%s" % (self.proc.returncode, self.read_log()))
            if os.path.exists(os.path.join(self.dir, ".s.PGSQL.%d" % self.port)):
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return self
                except OSError:
                    pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("postgres did not start in 30 s:\n" + self.read_log())
            time.sleep(0.05)

    def read_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()[-4000:]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()


def stats_ms(values_s):
    ms = [v * 1000.0 for v in values_s]
    return {"n": len(ms), "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99),
            "min_ms": min(ms) if ms else None, "mean_ms": sum(ms) / len(ms) if ms else None}


def round_trips(port, warmup, rounds):
    """(a): one client, interleaved C and Python wait=true submissions."""
    cases = {"c": (C_HELLO, C_ID, "hi\n"), "python": (PY_PRINT, PY_ID, "hi\n")}
    client = Client(port)
    samples = {name: {"rtt": [], "wall": [], "overhead": []} for name in cases}
    failures = {name: [] for name in cases}
    # The first C submission compiles; the next ones find the compile cached.
    for i in range(warmup):
        for name, (src, lang, _) in cases.items():
            _, _, err = client.submit_wait(src, lang)
            if err and i == 0:
                failures[name].append("warm-up: " + err)
    for _ in range(rounds):
        for name, (src, lang, want) in cases.items():
            rtt, sub, err = client.submit_wait(src, lang)
            if err is None and sub.get("stdout") != want:
                err = "stdout %r" % sub.get("stdout")
            if err is None and sub.get("wall_time") is None:
                err = "no wall_time"
            if err:
                failures[name].append(err)
                continue
            wall = float(sub["wall_time"])
            samples[name]["rtt"].append(rtt)
            samples[name]["wall"].append(wall)
            samples[name]["overhead"].append(rtt - wall)
    connects = client.conn.connects
    client.close()
    out = {}
    for name in cases:
        s = samples[name]
        out[name] = {"rounds": rounds, "ok": len(s["rtt"]), "failures": len(failures[name]),
                     "first_failure": failures[name][0] if failures[name] else None,
                     "round_trip": stats_ms(s["rtt"]), "wall_time": stats_ms(s["wall"]),
                     "overhead": stats_ms(s["overhead"])}
    out["connections_opened"] = connects
    return out


def throughput(port, clients, total):
    """(b)/(c): `clients` threads submitting trivial C runs with wait=true until `total` are done."""
    lock = threading.Lock()
    state = {"left": total, "ok": 0, "failures": 0, "first_failure": None}
    rtts = []
    conns = []
    start = threading.Barrier(clients + 1)

    def worker():
        c = Client(port)
        conns.append(c)
        # One warm request each before the clock starts: the connection is open.
        try:
            c.submit_wait(C_TRIVIAL, C_ID)
        except (OSError, http.client.HTTPException):
            pass  # counted below, when it fails again
        start.wait()
        mine = []
        while True:
            with lock:
                if state["left"] == 0:
                    break
                state["left"] -= 1
            try:
                rtt, _, err = c.submit_wait(C_TRIVIAL, C_ID)
            except (OSError, http.client.HTTPException) as e:
                rtt, err = None, "%s: %s" % (type(e).__name__, e)
            with lock:
                if err:
                    state["failures"] += 1
                    state["first_failure"] = state["first_failure"] or err
                else:
                    state["ok"] += 1
            if rtt is not None and not err:
                mine.append(rtt)
        with lock:
            rtts.extend(mine)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    connects = sum(c.conn.connects for c in conns)
    for c in conns:
        c.close()
    return {"clients": clients, "submissions": total, "ok": state["ok"], "failures": state["failures"],
            "first_failure": state["first_failure"], "elapsed_s": elapsed,
            "runs_per_s": state["ok"] / elapsed if elapsed > 0 else None,
            "round_trip": stats_ms(rtts), "connections_opened": connects}


def begin_run(what, cli, command):
    """Print the machine's state before a benchmark; the results document's head."""
    load_before = os.getloadavg()
    busy_before = cpu_busy_percent()
    print("%s benchmark: %s, %d CPUs" % (what, cli, os.cpu_count()))
    print("before the run: CPUs %.0f%% busy over 1 s, load average %.2f %.2f %.2f" % ((busy_before,) + load_before))
    if busy_before > 10:
        print("warning: the machine is busy; the numbers will be noisy (interleaved, so ratios less so)")
    print()
    return {"generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "host": {"kernel": platform.release(), "machine": platform.machine(), "cpus": os.cpu_count()},
            "cli": cli, "client": "python http.client, keep-alive, one connection per thread",
            "load_average": {"before": list(load_before)}, "cpu_busy_percent_before": round(busy_before, 1),
            "command": command}


def write_results(doc, path):
    """Write the results document atomically (a temporary file, then rename)."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(path + ".tmp", path)


def fmt(v, unit=""):
    return "-" if v is None else "%.2f%s" % (v, unit)


def verdict(t):
    return "INFO" if t.get("info") else {True: "MET", False: "NOT MET", None: "UNKNOWN"}[t["met"]]


def cpu_busy_percent(interval=1.0):
    """Share of CPU time not idle (nor iowait) over the next interval, from /proc/stat."""
    def sample():
        with open("/proc/stat", encoding="ascii") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    total0, idle0 = sample()
    time.sleep(interval)
    total1, idle1 = sample()
    return 100.0 * (1 - (idle1 - idle0) / max(1, total1 - total0))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build", help="meson build directory (default: build)")
    ap.add_argument("--cli", help="the coderunner binary (default: <build>/coderunner)")
    ap.add_argument("--warmup", type=int, default=10, help="warm-up rounds of (a) (default 10)")
    ap.add_argument("--rounds", type=int, default=200, help="recorded rounds of (a) (default 200)")
    ap.add_argument("--clients", type=int, default=32, help="concurrent clients of (b)/(c) (default 32)")
    ap.add_argument("--submissions", type=int, default=2000,
                    help="submissions per throughput run (default 2000)")
    ap.add_argument("--workers", type=int, default=0, help="serve --workers (default 0: one per CPU)")
    ap.add_argument("--no-postgres", action="store_true", help="skip (c)")
    ap.add_argument("--pg-synchronous-commit", default="on",
                    help="PostgreSQL synchronous_commit for (c) (default on, PostgreSQL's default)")
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results", "latest-api.json"),
                    help="where to write the results (default: bench/results/latest-api.json)")
    args = ap.parse_args()

    cli = os.path.abspath(args.cli or os.path.join(args.build, "coderunner"))
    if not os.access(cli, os.X_OK):
        print("bench_api.py: %s not found; build first (make build)" % cli, file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("bench_api.py: coderunner serve needs root (it starts the sandbox supervisor)", file=sys.stderr)
        return 1

    load_before = os.getloadavg()
    busy_before = cpu_busy_percent()
    print("API benchmark: %s serve, --workers=%d (%s), %d CPUs" % (
        cli, args.workers, "one per CPU" if args.workers == 0 else "set", os.cpu_count()))
    print("before the run: CPUs %.0f%% busy over 1 s, load average %.2f %.2f %.2f"
          % ((busy_before,) + load_before))
    if busy_before > 10:
        print("warning: the machine is busy; the numbers will be noisy")
    print("client: Python http.client, one keep-alive connection per client thread, in this process")
    print()

    serve_args = ["--workers=%d" % args.workers, "--max-queue-size=%d" % max(100, 4 * args.clients)]
    doc = {"generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "host": {"kernel": platform.release(), "machine": platform.machine(), "cpus": os.cpu_count()},
           "cli": cli, "serve_args": serve_args,
           "client": "python http.client, keep-alive, one connection per thread",
           "load_average": {"before": list(load_before)}, "cpu_busy_percent_before": round(busy_before, 1)}
    with tempfile.TemporaryDirectory(prefix="coderunner-bench-api-") as tmp:
        os.chmod(tmp, 0o755)
        # (a) and (b) on one server with the embedded store.
        server = Server(cli, os.path.join(tmp, "sqlite", "data"), serve_args)
        os.makedirs(os.path.dirname(server.data_dir))
        server.start()
        try:
            doc["workers"] = server.health.get("workers")
            print("(a) wait=true round trips: 1 client, %d warm-up + %d rounds, C and Python interleaved, SQLite store"
                  % (args.warmup, args.rounds))
            sys.stdout.flush()
            doc["round_trips"] = round_trips(server.port, args.warmup, args.rounds)
            print("(b) throughput: %d client threads, %d trivial C submissions (wait=true, compile cached), SQLite store"
                  % (args.clients, args.submissions))
            sys.stdout.flush()
            doc["throughput_sqlite"] = throughput(server.port, args.clients, args.submissions)
        finally:
            server.stop()

        # (c) on PostgreSQL.
        pg_result = None
        if args.no_postgres:
            pg_result = {"skipped": "--no-postgres"}
        elif Postgres.find_bindir() is None:
            pg_result = {"skipped": "PostgreSQL server programs (initdb, postgres) not installed"}
        else:
            pg = Postgres(tmp, args.pg_synchronous_commit)
            print("(c) throughput: the same on PostgreSQL (%s, on loopback, synchronous_commit=%s)"
                  % (pg.version(), args.pg_synchronous_commit))
            sys.stdout.flush()
            try:
                pg.start()
                server = Server(cli, os.path.join(tmp, "postgres", "data"), serve_args + ["--store=" + pg.url])
                os.makedirs(os.path.dirname(server.data_dir))
                server.start()
                try:
                    pg_result = throughput(server.port, args.clients, args.submissions)
                    pg_result["postgres"] = pg.version()
                    pg_result["synchronous_commit"] = args.pg_synchronous_commit
                finally:
                    server.stop()
            except RuntimeError as e:
                print("bench_api.py: the PostgreSQL run failed: %s" % e, file=sys.stderr)
                pg_result = {"error": str(e)}
            finally:
                pg.stop()
        doc["throughput_postgres"] = pg_result

    load_after = os.getloadavg()
    doc["load_average"]["after"] = list(load_after)
    print()

    # The table.
    rt = doc["round_trips"]
    print("== wait=true round trips (1 client, sequential; ms) ==")
    print("  %-8s %6s %6s | %9s %9s | %9s %9s | %9s %9s" % ("program", "ok", "failed", "rtt p50", "rtt p99",
                                                            "wall p50", "wall p99", "ovh p50", "ovh p99"))
    for name in ("c", "python"):
        r = rt[name]
        print("  %-8s %6d %6d | %9s %9s | %9s %9s | %9s %9s" % (
            name, r["ok"], r["failures"], fmt(r["round_trip"]["p50_ms"]), fmt(r["round_trip"]["p99_ms"]),
            fmt(r["wall_time"]["p50_ms"]), fmt(r["wall_time"]["p99_ms"]),
            fmt(r["overhead"]["p50_ms"]), fmt(r["overhead"]["p99_ms"])))
        if r["first_failure"]:
            print("    first failure: %s" % r["first_failure"])
    print("  (wall = the submission's wall_time, the sandbox's measure of the run, which the API rounds to"
          " the nearest ms, so each ovh sample is +-0.5 ms; ovh = rtt - wall; connections opened: %d)"
          % rt["connections_opened"])
    print()
    print("== throughput (trivial C, compile cached, wait=true; %d client threads) ==" % args.clients)
    print("  %-10s %6s %6s %9s %10s %9s %9s %6s" % ("store", "ok", "failed", "seconds", "runs/s", "rtt p50",
                                                    "rtt p99", "conns"))
    for label, key in (("sqlite", "throughput_sqlite"), ("postgres", "throughput_postgres")):
        r = doc[key]
        if not r or "runs_per_s" not in r:
            print("  %-10s %s" % (label, (r or {}).get("skipped") or (r or {}).get("error", "?")[:200]))
            continue
        print("  %-10s %6d %6d %9.2f %10.1f %9s %9s %6d" % (
            label, r["ok"], r["failures"], r["elapsed_s"], r["runs_per_s"], fmt(r["round_trip"]["p50_ms"]),
            fmt(r["round_trip"]["p99_ms"]), r["connections_opened"]))
        if r["first_failure"]:
            print("    first failure: %s" % r["first_failure"])
    print()

    # The targets.
    targets = []

    def add(target, met, detail, info=False):
        targets.append({"table": "api", "target": target, "met": met, "detail": detail, "info": info})

    c = rt["c"]
    ovh = c["overhead"]["p50_ms"]
    add("overhead p50 <= %.0f ms (trivial C, wait=true)" % OVERHEAD_P50_MAX_MS,
        None if ovh is None or c["failures"] else ovh <= OVERHEAD_P50_MAX_MS,
        "%s ms (round trip %s ms - wall_time %s ms; p99 %s ms)%s" % (
            fmt(ovh), fmt(c["round_trip"]["p50_ms"]), fmt(c["wall_time"]["p50_ms"]), fmt(c["overhead"]["p99_ms"]),
            "; %d failures" % c["failures"] if c["failures"] else ""))
    py = rt["python"]
    add("overhead p50 on Python print", None,
        "%s ms (round trip %s ms - wall_time %s ms; p99 %s ms)" % (
            fmt(py["overhead"]["p50_ms"]), fmt(py["round_trip"]["p50_ms"]), fmt(py["wall_time"]["p50_ms"]),
            fmt(py["overhead"]["p99_ms"])), info=True)
    for label, key in (("SQLite", "throughput_sqlite"), ("PostgreSQL", "throughput_postgres")):
        r = doc[key] or {}
        target = ">= %.0f trivial runs/s, %d clients, %s" % (THROUGHPUT_MIN, args.clients, label)
        if "runs_per_s" not in r:
            add(target, None, r.get("skipped") or r.get("error", "not measured")[:200])
            continue
        add(target, None if r["failures"] else r["runs_per_s"] >= THROUGHPUT_MIN,
            "%.1f runs/s (%d in %.2f s, %d CPUs, %s workers)%s" % (
                r["runs_per_s"], r["ok"], r["elapsed_s"], os.cpu_count(), doc.get("workers"),
                "; %d failures" % r["failures"] if r["failures"] else ""))
    doc["targets"] = targets
    print("== API targets ==")
    for t in targets:
        print("  %-50s %-8s %s" % (t["target"], verdict(t), t["detail"]))
    print("load average after: %.2f %.2f %.2f" % load_after)
    print()

    write_results(doc, args.out)
    print("API results: %s" % os.path.relpath(args.out))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError) as e:
        print("bench_api.py: %s" % e, file=sys.stderr)
        sys.exit(1)
