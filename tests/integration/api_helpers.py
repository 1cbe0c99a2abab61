"""Machinery of the API integration tests: start the real `coderunner serve` on a free
loopback port with a temporary data directory, wait until /health answers (with a
deadline), and talk HTTP to it with requests."""

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from conftest import CODERUNNER

START_DEADLINE = 60  # seconds: language detection and the sandbox supervisor start
RESULT_DEADLINE = 60

C_HELLO = '#include <stdio.h>\nint main(void) { printf("hello, world\\n"); return 0; }\n'
PY_ECHO = "print(input())\n"
C_ID = 50
PY_ID = 71


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `coderunner serve` process."""

    def __init__(self, data_dir, env=None, args=(), port=None, wrap=()):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.data_dir.parent / f"serve-{self.port}-{time.monotonic_ns()}.log"
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.args = list(args)
        self.wrap = list(wrap)  # a command that execs the rest (unshare, sh -c '... exec "$0" "$@"')
        self.proc = None

    def start(self):
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [*self.wrap, str(CODERUNNER), "serve", f"--port={self.port}", "--bind=127.0.0.1",
             f"--data-dir={self.data_dir}", *self.args],
            stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"serve exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"serve did not answer /health in {START_DEADLINE}s:\n{self.read_log()}")
            time.sleep(0.05)

    def read_log(self):
        if not self.log.closed:
            self.log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            # A clean stop (a sanitizer build exits non-zero on a leak or an error).
            assert self.proc.returncode == 0, f"serve exited with {self.proc.returncode}:\n{self.read_log()}"
        self.log.close()

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    # HTTP
    def get(self, path, **kw):
        kw.setdefault("timeout", 30)
        return requests.get(self.url + path, **kw)

    def post(self, path, **kw):
        kw.setdefault("timeout", 90)
        return requests.post(self.url + path, **kw)

    def delete(self, path, **kw):
        kw.setdefault("timeout", 30)
        return requests.delete(self.url + path, **kw)

    def metric(self, name):
        """The value of an unlabelled metric of GET /metrics."""
        text = self.get("/metrics").text
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError(f"no {name} in /metrics:\n{text}")

    def submit(self, body, params=None, **kw):
        return self.post("/submissions", json=body, params=params or {}, **kw)

    def wait_final(self, token, params=None, deadline=RESULT_DEADLINE, **kw):
        """Poll GET /submissions/:token until the status is final."""
        end = time.monotonic() + deadline
        while True:
            r = self.get(f"/submissions/{token}", params=params or {}, **kw)
            assert r.status_code == 200, r.text
            sub = r.json()
            if sub["status"]["id"] not in (1, 2):
                return sub
            assert time.monotonic() < end, f"{token} still {sub['status']} after {deadline}s"
            time.sleep(0.05)
