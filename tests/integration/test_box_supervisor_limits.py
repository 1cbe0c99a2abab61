"""The supervisor against clients that hold its slots: a request announced and half sent,
a connection that never sends, and more connections than slots. Every read has a
time-out, and a connection that finds every slot taken is answered busy at once. And two
supervisors on one host never share a box uid."""

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import time

import pytest

from conftest import CLI_TIMEOUT, CODERUNNER, helper, key_values, run_box, run_cli, wait_for
from test_box_supervisor import stop_daemon

REQUEST_MAGIC = 0x31425243


def start(tmp_path, *options, slots=1, name="box"):
    sock = str(tmp_path / f"{name}.sock")
    log_path = tmp_path / f"{name}.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([str(CODERUNNER), "box", "daemon", f"--socket={sock}", f"--slots={slots}",
                             *options], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    if not wait_for(lambda: os.path.exists(sock) or proc.poll() is not None, 10) or proc.poll() is not None:
        stop_daemon(proc)
        pytest.fail(f"the daemon did not start: {log_path.read_bytes()[-2000:]!r}")
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


def uid_range(log_path):
    """The box uids a daemon claimed, from its log line "box uids FIRST-LAST"."""
    found = wait_for(lambda: re.search(rb"box uids (\d+)-(\d+)", log_path.read_bytes()), 10)
    assert found, log_path.read_bytes()
    return range(int(found.group(1)), int(found.group(2)) + 1)


def box_uid(sock):
    record, cp = run_box([helper("whoami")], "--wall-time=5", connect=sock)
    assert record["status"] == "OK", record
    return int(key_values(cp.stdout)["uid"])


def test_each_supervisor_has_its_own_uids(tmp_path):
    procs = []
    try:
        # A configured range...
        proc, fixed = start(tmp_path, "--uid-base=63000", slots=2, name="fixed")
        procs.append(proc)
        # ...is refused to anyone overlapping it, with the reason.
        cp = subprocess.run([str(CODERUNNER), "box", "daemon", f"--socket={tmp_path / 'clash.sock'}",
                             "--slots=2", "--uid-base=63001"], capture_output=True, timeout=CLI_TIMEOUT)
        assert cp.returncode != 0, cp
        assert b"63001-63002" in cp.stderr and b"another coderunner service" in cp.stderr, cp.stderr
        # Services that choose none get ranges of their own.
        proc, auto1 = start(tmp_path, slots=2, name="auto1")
        procs.append(proc)
        proc, auto2 = start(tmp_path, slots=2, name="auto2")
        procs.append(proc)
        ranges = [uid_range(tmp_path / f"{n}.log") for n in ("fixed", "auto1", "auto2")]
        assert ranges[0] == range(63000, 63002), ranges
        for i, a in enumerate(ranges):
            for b in ranges[i + 1:]:
                assert not set(a) & set(b), ranges
        # And their boxes run as those uids.
        for sock, uids in zip((fixed, auto1, auto2), ranges):
            assert box_uid(sock) in uids
    finally:
        for proc in procs:
            stop_daemon(proc)


@pytest.mark.parametrize("kind", ["pipe", "socket"])
def test_a_stdout_nobody_reads_does_not_hold_the_slot(tmp_path, kind):
    """A client passes a pipe (or a socket) as the program's stdout and never reads it:
    the slot gives it up after a bounded stall, the run ends at its wall-time limit, and
    the slot serves the next client."""
    proc, sock = start(tmp_path, slots=1)
    stalled = None
    pair = socket.socketpair() if kind == "socket" else None
    try:
        result = tmp_path / "stalled.json"
        stalled = subprocess.Popen([str(CODERUNNER), "box", "run", "--quiet", f"--connect={sock}",
                                    f"--result={result}", "--wall-time=2", "--", "/usr/bin/yes"],
                                   stdout=pair[0].fileno() if pair else subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)
        stalled.wait(timeout=CLI_TIMEOUT)  # never reading its stdout
        assert stalled.returncode == 0
        record = json.loads(result.read_text())
        assert record["status"] == "TO" and record["limit"] == "wall", record
        cp = run_through(sock)
        assert cp.returncode == 0, cp.stderr
    finally:
        if stalled is not None and stalled.poll() is None:
            stalled.kill()
            stalled.wait()
        if stalled is not None and stalled.stdout is not None:
            stalled.stdout.close()
        for end in pair or ():
            end.close()
        stop_daemon(proc)


def test_socket_removed_under_the_supervisor_is_made_again(tmp_path):
    """Clients connect by path (again after an idle connection was closed): a socket a tmp
    cleaner or an operator removed, directory and all, is put back."""
    sub = tmp_path / "sub"
    sub.mkdir()
    proc, sock = start(sub, slots=1)
    try:
        assert run_through(sock).returncode == 0
        shutil.rmtree(sub)
        assert wait_for(lambda: run_through(sock).returncode == 0, 20), "the socket did not come back"
    finally:
        stop_daemon(proc)


def test_socket_in_a_directory_others_can_write_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)  # not sticky: anyone could swap the socket for theirs
    cp = subprocess.run([str(CODERUNNER), "box", "daemon", f"--socket={shared / 'box.sock'}", "--slots=1"],
                        capture_output=True, timeout=CLI_TIMEOUT)
    assert cp.returncode != 0, cp
    assert b"cannot listen" in cp.stderr and b"not permitted" in cp.stderr, cp.stderr
