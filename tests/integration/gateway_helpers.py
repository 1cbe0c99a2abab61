"""Machinery of the gateway's integration tests: a real `coderunner serve` as the API node
(configured to refuse whatever lacks the internal credential), a real `coderunner gateway`
in front of it with a SQLite metadata store in a temporary directory, both on free
loopback ports, and the gateway's administration commands."""

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from api_helpers import Server, free_port
from conftest import CODERUNNER

INTERNAL = "test-internal-secret-0123456789"
SESSION_SECRET = "test-session-secret-0123456789"
START_DEADLINE = 30
# The unprivileged user the gateway becomes (it refuses to keep root).
GATEWAY_USER = "nobody"


def upstream_args():
    """What an API node behind the gateway is given: the gateway's credential is its
    authn token, and the admin header its authz token."""
    return ["--authn-header=X-Coderunner-Internal", f"--authn-token={INTERNAL}",
            "--authz-header=X-Coderunner-Admin", f"--authz-token={INTERNAL}"]


def start_upstream(tmp, args=()):
    data = Path(tmp) / "serve"
    data.mkdir()
    s = Server(data, args=[*upstream_args(), "--enable-submission-delete=true", *args])
    # Server.start() polls /health, which the credential guards: poll with it.
    s.env["CODERUNNER_TEST_DUMMY"] = "1"
    s.log = open(s.log_path, "wb")
    s.proc = subprocess.Popen(
        [str(CODERUNNER), "serve", f"--port={s.port}", "--bind=127.0.0.1", f"--data-dir={data}", *s.args],
        stdout=s.log, stderr=subprocess.STDOUT, env=s.env)
    deadline = time.monotonic() + 60
    while True:
        assert s.proc.poll() is None, f"serve exited:\n{s.read_log()}"
        try:
            if requests.get(s.url + "/health", headers={"X-Coderunner-Internal": INTERNAL},
                            timeout=2).status_code == 200:
                return s
        except requests.ConnectionError:
            pass
        assert time.monotonic() < deadline, f"serve did not start:\n{s.read_log()}"
        time.sleep(0.05)


class Gateway:
    """One `coderunner gateway` process."""

    def __init__(self, tmp, upstreams, args=(), meta=None, port=None):
        # pytest's tmp_path is root's alone (0700): the gateway's user gets a directory of
        # its own in /tmp, removed by stop().
        self.dir = Path(tempfile.mkdtemp(prefix="coderunner-gateway-"))
        shutil.chown(self.dir, GATEWAY_USER)
        self.meta = meta or f"sqlite:{self.dir}/meta.db"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.upstreams = upstreams
        self.args = list(args)
        self.log_path = Path(tmp) / f"gateway-{self.port}-{time.monotonic_ns()}.log"
        self.proc = None

    def base_args(self):
        return [f"--meta={self.meta}"]

    def start(self, wait_healthy=True):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [str(CODERUNNER), "gateway", f"--port={self.port}", "--bind=127.0.0.1",
             f"--upstream={','.join(self.upstreams)}", *self.base_args(), f"--user={GATEWAY_USER}",
             f"--internal-secret={INTERNAL}", f"--session-secret={SESSION_SECRET}",
             "--key-cache=0", "--health-interval=0.2", *self.args],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"gateway exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                r = requests.get(self.url + "/health", timeout=2)
                if r.status_code == 200 or (not wait_healthy and r.status_code == 503):
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"gateway did not answer /health in {START_DEADLINE}s:\n{self.read_log()}")
            time.sleep(0.05)

    def read_log(self):
        if self.log and not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            assert self.proc.returncode == 0, f"gateway exited with {self.proc.returncode}:\n{self.read_log()}"
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # administration, as an operator runs it
    def admin(self, *args, check=True):
        cp = subprocess.run([str(CODERUNNER), "gateway", *args, *self.base_args()],
                            capture_output=True, text=True, timeout=60, user=GATEWAY_USER)
        if check:
            assert cp.returncode == 0, f"gateway {' '.join(args)} failed: {cp.stderr}"
        return cp

    def new_key(self, *opts, name=None):
        cp = self.admin("keys", "create", f"--name={name or 'k' + str(time.monotonic_ns())}", *opts)
        key = cp.stdout.strip()
        assert key.startswith("cr_") and "\n" not in key, cp.stdout
        return key

    # HTTP
    def get(self, path, key=None, **kw):
        kw.setdefault("timeout", 30)
        return requests.get(self.url + path, headers=self._h(key, kw), **kw)

    def post(self, path, key=None, **kw):
        kw.setdefault("timeout", 90)
        return requests.post(self.url + path, headers=self._h(key, kw), **kw)

    def delete(self, path, key=None, **kw):
        kw.setdefault("timeout", 30)
        return requests.delete(self.url + path, headers=self._h(key, kw), **kw)

    @staticmethod
    def _h(key, kw):
        h = dict(kw.pop("headers", None) or {})
        if key:
            h["X-Auth-Token"] = key
        return h

    def metric(self, name):
        text = self.get("/metrics").text
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"no {name} in /metrics:\n{text}")
