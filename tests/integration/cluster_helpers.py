"""A cluster on loopback for the integration tests: a Redis server (append-only file on), a
PostgreSQL server (as `nobody`), API nodes (`coderunner api`, unprivileged) and workers
(`coderunner worker`), each a process of its own with its own log, any of which a test may
stop, kill -9 or start again."""

import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from api_helpers import START_DEADLINE, Server, free_port
from conftest import BOX_UIDS, CODERUNNER, unmount_below
from pg_helpers import Postgres
from redis_helpers import Redis

STOP_DEADLINE = 60


def wait_until(cond, deadline, what):
    end = time.monotonic() + deadline
    while True:
        v = cond()
        if v:
            return v
        assert time.monotonic() < end, f"not within {deadline}s: {what}"
        time.sleep(0.05)


class RestartablePostgres(Postgres):
    """A PostgreSQL server that can be stopped and started again on its port and data."""

    def pause(self):
        self.proc.send_signal(signal.SIGINT)  # fast shutdown
        self.proc.wait(timeout=STOP_DEADLINE)
        self.log.close()

    def resume(self):
        self.log = open(self.log_path, "ab")
        self.proc = self._run(["postgres", "-D", str(self.data), "-p", str(self.port), "-k", str(self.dir),
                               "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                               "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                              stdout=self.log)
        wait_until(lambda: subprocess.run([str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1",
                                           "-p", str(self.port), "-U", "coderunner"]).returncode == 0,
                   START_DEADLINE, "postgres ready again")


class Role(Server):
    """One `coderunner api` or `coderunner worker` process (Server's HTTP helpers for APIs)."""

    def __init__(self, cluster, role, name, args):
        self.cluster, self.role, self.name = cluster, role, name
        super().__init__(cluster.dir / name, port=free_port() if role == "api" else None)
        self.log_path = cluster.dir / f"{name}.log"
        self.args = args
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        argv = [str(CODERUNNER), self.role, f"--store={self.cluster.store_url}",
                f"--queue={self.cluster.redis.url}", *self.args]
        if self.role == "api":
            argv += [f"--port={self.port}", "--bind=127.0.0.1", "--user=nobody"]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        if wait and self.role == "api":
            wait_until(self._healthy, START_DEADLINE, f"{self.name} /health")
        return self

    def _healthy(self):
        if self.proc.poll() is not None:
            raise AssertionError(f"{self.name} exited with {self.proc.returncode}:\n{self.read_log()}")
        try:
            return requests.get(self.url + "/health", timeout=2).status_code == 200
        except requests.ConnectionError:
            return False

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            assert self.proc.returncode == 0, f"{self.name} exited with {self.proc.returncode}:\n{self.read_log()}"
        if not self.log.closed:
            self.log.close()


class Cluster:
    """Redis + PostgreSQL + API nodes + workers, all on loopback."""

    def __init__(self, pg_bindir, apis=2, workers=2, worker_args=(), api_args=()):
        self.dir = Path(tempfile.mkdtemp(prefix="coderunner-cluster-"))
        self.dir.chmod(0o755)  # the workers' unprivileged user reaches its data directory
        self.redis = Redis(aof=True)
        self.pg = RestartablePostgres(pg_bindir)
        self.n_apis, self.n_workers = apis, workers
        self.worker_args = ["--workers=1", "--lease=2", "--heartbeat=0.3", "--user=nobody", *worker_args]
        self.api_args = ["--worker-timeout=2", *api_args]
        self.apis, self.workers = [], []

    def start(self):
        self.redis.start()
        self.pg.start()
        self.store_url = self.pg.create_database()
        for i in range(self.n_apis):
            self.add_api()
        for i in range(self.n_workers):
            self.add_worker()
        self.wait_workers(self.n_workers)
        return self

    def add_api(self, args=()):
        a = Role(self, "api", f"api-{len(self.apis) + 1}", [*self.api_args, *args]).start()
        self.apis.append(a)
        return a

    def add_worker(self, args=()):
        name = f"worker-{len(self.workers) + 1}"
        w = Role(self, "worker", name, [f"--id={name}", f"--data-dir={self.dir / name}", *self.worker_args,
                                        *args]).start()
        self.workers.append(w)
        return w

    def live_workers(self, api=None):
        api = api or self.apis[0]
        h = api.get("/health").json()
        return h.get("worker_pools", 0)

    def wait_workers(self, n):
        wait_until(lambda: self.live_workers() == n, START_DEADLINE, f"{n} live workers")

    def judged_lines(self, token):
        """The workers' log lines that say token's result was written."""
        lines = []
        for w in self.workers:
            text = w.log_path.read_text(errors="replace") if w.log_path.exists() else ""
            lines += [ln for ln in text.splitlines() if f"judged token={token}" in ln]
        return lines

    def stop(self):
        for r in self.workers + self.apis:
            try:
                r.stop()
            except AssertionError:
                if r.proc and r.proc.poll() is None:
                    r.proc.kill()
                raise
        self.pg.stop()
        self.redis.stop()
        unmount_below(self.dir)  # the workers' tmpfs: they had given up root
        shutil.rmtree(self.dir, ignore_errors=True)


def process_children(pid):
    """The pids of pid's children (from /proc/PID/task/*/children)."""
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            kids += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            pass
    return kids


def process_tree(pid):
    """pid and all its descendants, parents first (processes that exit meanwhile are
    skipped)."""
    out, pending = [], [pid]
    while pending:
        p = pending.pop()
        out.append(p)
        try:
            pending += process_children(p)
        except OSError:
            pass
    return out


def process_uid(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    return None


def box_pids(worker):
    """The processes of a box uid that run under the worker now (a machine's other boxes,
    another cluster's or test's, are not counted)."""
    pids = []
    for pid in process_tree(worker.proc.pid)[1:]:
        try:
            if process_uid(pid) in BOX_UIDS:
                pids.append(pid)
        except OSError:
            pass
    return pids


NOBODY = pwd.getpwnam("nobody").pw_uid
