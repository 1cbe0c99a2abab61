"""The supervisor against clients that hold its slots: a request announced and half sent,
a connection that never sends, and more connections than slots. Every read has a
time-out, and a connection that finds every slot taken is answered busy at once."""

import os
import socket
import struct
import subprocess
import time

import pytest

from conftest import CLI_TIMEOUT, CODERUNNER, run_cli, wait_for
from test_box_supervisor import stop_daemon

REQUEST_MAGIC = 0x31425243


def start(tmp_path, *options, slots=1):
    sock = str(tmp_path / "box.sock")
    log = open(tmp_path / "daemon.log", "wb")
    proc = subprocess.Popen([str(CODERUNNER), "box", "daemon", f"--socket={sock}", f"--slots={slots}",
                             *options], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    if not wait_for(lambda: os.path.exists(sock) or proc.poll() is not None, 10) or proc.poll() is not None:
        stop_daemon(proc)
        pytest.fail(f"the daemon did not start: {(tmp_path / 'daemon.log').read_bytes()[-2000:]!r}")
    return proc, sock


def run_through(sock):
    return run_cli(["box", "run", "--quiet", f"--connect={sock}", "--wall-time=5", "--", "/bin/true"])


def closed_by_peer(conn, deadline):
    """True when the supervisor closes conn (EOF) within deadline seconds."""
    conn.settimeout(deadline)
    try:
        return conn.recv(64) == b""
    except socket.timeout:
        return False


def connect(sock):
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(sock)
    return conn


@pytest.mark.parametrize("sent", ["header-and-part", "part-of-header", "nothing"])
def test_a_silent_client_does_not_hold_the_slot(tmp_path, sent):
    proc, sock = start(tmp_path, "--read-timeout=0.5", "--idle-timeout=1")
    try:
        conn = connect(sock)
        header = struct.pack("<IIII", REQUEST_MAGIC, 1000, 0, 0)
        if sent == "header-and-part":
            conn.sendall(header + b"x" * 10)
        elif sent == "part-of-header":
            conn.sendall(header[:7])
        # The slot gives up on it (the deadline is far above the time-outs)...
        assert closed_by_peer(conn, 20), "the supervisor still holds the connection"
        conn.close()
        # ...and serves the next client.
        cp = run_through(sock)
        assert cp.returncode == 0, cp.stderr
    finally:
        stop_daemon(proc)


def test_busy_answer_when_every_slot_is_taken(tmp_path):
    proc, sock = start(tmp_path, "--idle-timeout=600", slots=1)
    try:
        holder = connect(sock)  # takes the only slot (connections are handed out in order)
        started = time.monotonic()
        cp = run_through(sock)
        assert cp.returncode == 2, cp
        assert b"busy" in cp.stderr, cp.stderr
        assert time.monotonic() - started < CLI_TIMEOUT
        holder.close()
        # Once the holder is gone, the slot serves again.
        assert wait_for(lambda: run_through(sock).returncode == 0, 10), "the slot did not come back"
    finally:
        stop_daemon(proc)
