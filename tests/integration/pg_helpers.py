"""A throwaway PostgreSQL server for the integration tests: initdb in a temporary directory,
`postgres` listening on 127.0.0.1 on a free port, trust authentication for the user
`coderunner`, run as `nobody` when the tests run as root (PostgreSQL refuses root), as
tests/unit/test-store-store.c does. stop() shuts it down (fast shutdown) and removes it."""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from api_helpers import free_port

START_DEADLINE = 60  # seconds


def find_bindir():
    """The directory of initdb and postgres (PATH first, then Debian's versioned
    /usr/lib/postgresql/*/bin, newest first), or None when PostgreSQL is not installed."""
    def has_both(d):
        return all(os.access(os.path.join(d, p), os.X_OK) for p in ("initdb", "postgres", "pg_isready",
                                                                     "createdb"))
    for d in os.environ.get("PATH", "").split(os.pathsep):
        if d and has_both(d):
            return d
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: [int(x) if x.isdigit() else 0 for x in Path(p).parent.name.split(".")])
    for d in reversed(versions):
        if has_both(d):
            return d
    return None


class Postgres:
    """One PostgreSQL server on loopback with its data in a temporary directory."""

    def __init__(self, bindir):
        self.bindir = Path(bindir)
        self.port = free_port()
        self.proc = None
        self.user = None
        if os.geteuid() == 0:
            pw = pwd.getpwnam("nobody")
            self.user, self.group = pw.pw_uid, pw.pw_gid
        # Not under pytest's tmp_path: its parents are private to root, nobody cannot enter.
        self.dir = Path(tempfile.mkdtemp(prefix="coderunner-pg-"))
        if self.user is not None:
            os.chown(self.dir, self.user, self.group)
        self.data = self.dir / "data"
        self.log_path = self.dir / "log"
        self.n_databases = 0

    def _run(self, argv, **kw):
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.STDOUT)
        if self.user is not None:
            kw.update(user=self.user, group=self.group, extra_groups=[])
        return subprocess.Popen([str(self.bindir / argv[0]), *argv[1:]], cwd=self.dir, **kw)

    def _check(self, argv, timeout=60):
        p = self._run(argv)
        out, _ = p.communicate(timeout=timeout)
        assert p.returncode == 0, f"{argv[0]} failed:\n{out.decode(errors='replace')}"

    def start(self):
        self._check(["initdb", "-D", str(self.data), "-U", "coderunner", "--auth=trust", "-E", "UTF8",
                     "--no-locale", "--no-sync"])
        self.log = open(self.log_path, "wb")
        self.proc = self._run(["postgres", "-D", str(self.data), "-p", str(self.port), "-k", str(self.dir),
                               "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                               "-c", "synchronous_commit=off", "-c", "full_page_writes=off"],
                              stdout=self.log)
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"postgres exited with {self.proc.returncode}:\n{self.read_log()}")
            ready = subprocess.run([str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1",
                                    "-p", str(self.port), "-U", "coderunner"])
            if ready.returncode == 0:
                return self
            if time.monotonic() > deadline:
                raise AssertionError(f"postgres not ready in {START_DEADLINE}s:\n{self.read_log()}")
            time.sleep(0.05)

    def read_log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def create_database(self):
        """A new empty database; returns its URL for `coderunner serve --store=`."""
        self.n_databases += 1
        name = f"db{self.n_databases}"
        self._check(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "coderunner", name])
        return f"postgres://coderunner@127.0.0.1:{self.port}/{name}"

    def query(self, url, sql):
        """One value, as text, of a query run with psql on the database of url."""
        p = subprocess.run([str(self.bindir / "psql"), "-X", "-tA", "-c", sql, url],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
