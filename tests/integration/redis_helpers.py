"""A throwaway redis-server for the integration tests: on 127.0.0.1 on a free port, its data
in a temporary directory, append-only file on when asked (`--appendonly yes --appendfsync
everysec`, so a restart keeps what was written). restart() stops it and starts it again on
the same port with the same data; stop() shuts it down and removes the directory. command()
is a minimal RESP client, for tests that look into the queue's keys.

    redis = Redis(aof=True).start()
    url = redis.url            # redis://127.0.0.1:PORT
    redis.command("XLEN", "coderunner")
    redis.restart()
    redis.stop()
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from api_helpers import free_port

START_DEADLINE = 30  # seconds
STOP_DEADLINE = 30


def find_redis_server():
    """The path of redis-server, or None when it is not installed."""
    return shutil.which("redis-server")


class RedisError(Exception):
    """An error reply of the server (its text)."""


class Redis:
    """One redis-server on loopback with its data in a temporary directory."""

    def __init__(self, aof=False, port=None):
        self.binary = find_redis_server()
        assert self.binary, "redis-server is not installed"
        self.aof = aof
        self.port = port or free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="coderunner-redis-"))
        self.log_path = self.dir / "redis.log"
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        argv = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
                "--save", "", "--daemonize", "no", "--logfile", str(self.log_path)]
        argv += ["--appendonly", "yes", "--appendfsync", "everysec"] if self.aof else ["--appendonly", "no"]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"redis-server exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                if self.command("PING") == "PONG":
                    return self
            except (OSError, RedisError):
                pass  # not listening yet, or still loading its data
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server not ready in {START_DEADLINE}s:\n{self.read_log()}")
            time.sleep(0.02)

    def read_log(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def kill(self, sig=signal.SIGTERM):
        """Stop the server (SIGTERM: it writes its append-only file; SIGKILL: a crash),
        keeping its port and data for start()."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=STOP_DEADLINE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, sig=signal.SIGTERM):
        self.kill(sig)
        return self.start()

    def stop(self):
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def command(self, *args, timeout=5):
        """Send one command, return its answer: str, int, None, or a list of those."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            out = b"*%d\r\n" % len(args)
            for a in args:
                a = a if isinstance(a, bytes) else str(a).encode()
                out += b"$%d\r\n%s\r\n" % (len(a), a)
            s.sendall(out)
            return _read_reply(s.makefile("rb"))


def _read_reply(f):
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise OSError("redis-server closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode()
    if kind == b"-":
        raise RedisError(rest.decode())
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode(errors="replace")
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise OSError(f"redis-server sent {line!r}")
