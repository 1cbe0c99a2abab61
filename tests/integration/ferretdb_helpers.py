"""A real MongoDB-wire server for the tests: FerretDB 1.24 on SQLite, built from the Go
module proxy by tools/build-ferretdb (which `make deps-test` runs, and which caches the
binary), started on a free loopback port with its data in a temporary directory, stopped
by its pid; restartable on the same port and data (an outage and a recovery)."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from api_helpers import free_port

ROOT = Path(__file__).resolve().parents[2]


def ferretdb_binary():
    """The binary, or None (with the reason) when it cannot be had."""
    explicit = os.environ.get("CODERUNNER_FERRETDB")
    if explicit:
        return explicit, None
    cp = subprocess.run([str(ROOT / "tools" / "build-ferretdb")], capture_output=True, text=True, timeout=1800)
    if cp.returncode != 0:
        return None, cp.stderr.strip().splitlines()[-1] if cp.stderr.strip() else "tools/build-ferretdb failed"
    return cp.stdout.strip(), None


class FerretDB:
    def __init__(self, binary):
        self.binary = binary
        self.dir = Path(tempfile.mkdtemp(prefix="coderunner-ferretdb-"))
        (self.dir / "data").mkdir()
        self.port = free_port()
        self.url = f"mongodb://127.0.0.1:{self.port}/coderunner"
        self.proc = None

    def start(self):
        self.log = open(self.dir / "ferretdb.log", "ab")
        self.proc = subprocess.Popen(
            [self.binary, "--handler=sqlite", f"--sqlite-url=file:{self.dir}/data/",
             f"--listen-addr=127.0.0.1:{self.port}", f"--state-dir={self.dir}", "--telemetry=disable",
             "--debug-addr=-", "--log-level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, (self.dir / "ferretdb.log").read_text(errors="replace")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            except OSError:
                pass
            assert time.monotonic() < deadline, "FerretDB did not listen within 30 s"
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
