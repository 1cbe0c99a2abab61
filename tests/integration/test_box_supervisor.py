"""The resident supervisor: `coderunner box daemon --socket=PATH` serves runs that
`coderunner box run --connect=PATH` sends it. The same program must get the same verdict
both ways, and the daemon must stop cleanly on SIGTERM."""

import os
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import CODERUNNER, helper, host_processes, key_values, run_box, run_two_at_once, wait_for

MIB = 1024  # KiB

# name: (argv, options, expected (status, limit, exit_code), expected command exit)
CASES = {
    "ok": (["/bin/sh", "-c", "echo hello"], [], ("OK", None, 0), 0),
    "exit-code": (["/bin/sh", "-c", "exit 3"], [], ("RE", None, 3), 0),
    "segv": ([helper("crash"), "segv"], [], ("SG", None, None), 0),
    "cpu": ([helper("busy")], ["--time=0.3", "--extra-time=0.1"], ("TO", "cpu", None), 0),
    "wall": (["/bin/sleep", "5"], ["--wall-time=0.3"], ("TO", "wall", None), 0),
    "memory": ([helper("alloc"), "1024"], [f"--mem={64 * MIB}"], ("ML", "memory", None), 0),
    "output": ([helper("flood"), "stdout"], ["--output-limit=64"], ("OL", "output", None), 0),
    "forkbomb": ([helper("forkbomb")], ["--processes=16", "--wall-time=0.5"], ("TO", "wall", None), 0),
    "daemon": ([helper("daemon"), "/tmp/daemon.pid"], [], ("OK", None, 0), 0),
    "int80": ([helper("probe"), "int80"], [], ("SG", None, None), 0),
    "missing-program": (["/no/such/program"], [], ("XX", None, None), 2),
}


def start_daemon(socket_path, log_path, slots=2):
    """Start `coderunner box daemon` and wait (with a deadline) until its socket exists.
    Its output goes to log_path: a pipe nobody reads could fill and block it."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(CODERUNNER), "box", "daemon", f"--socket={socket_path}",
                                 f"--slots={slots}"], stdout=log, stderr=subprocess.STDOUT)
    wait_for(lambda: os.path.exists(socket_path) or proc.poll() is not None, 10)
    if not os.path.exists(socket_path) or proc.poll() is not None:
        stop_daemon(proc)
        pytest.fail(f"the daemon did not create {socket_path} (exit {proc.returncode}): "
                    f"{Path(log_path).read_bytes()[-2000:]!r}")
    return proc


def stop_daemon(proc):
    """SIGTERM, then wait for it; returns its exit status (None if it had to be killed)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    return proc.returncode


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("daemon")
    proc = start_daemon(str(tmp / "box.sock"), tmp / "daemon.log")
    sock = str(tmp / "box.sock")
    yield sock
    stop_daemon(proc)


def verdict(record):
    return (record["status"], record["limit"], record["exit_code"], record["signal"])


@pytest.mark.parametrize("name", CASES)
def test_same_verdict_through_the_supervisor(name, daemon):
    argv, options, expected, cli_exit = CASES[name]
    if name == "int80" and os.uname().machine != "x86_64":
        pytest.skip("int $0x80 is an x86_64 probe")
    options = [*options, "--wall-time=5"] if not any(o.startswith("--wall-time") for o in options) \
        else options
    direct, _ = run_box(argv, *options, expect_exit=cli_exit)
    served, cp = run_box(argv, *options, connect=daemon, expect_exit=cli_exit)
    assert verdict(direct)[:3] == expected, direct
    assert verdict(served) == verdict(direct), (served, direct)
    assert not host_processes(), f"processes survived the served run: {host_processes()}"


def test_served_program_is_isolated_the_same_way(daemon):
    direct, cp_direct = run_box([helper("whoami")], "--wall-time=5")
    served, cp_served = run_box([helper("whoami")], "--wall-time=5", connect=daemon)
    a, b = key_values(cp_direct.stdout), key_values(cp_served.stdout)
    for key in ("CapEff", "CapBnd", "CapPrm", "NoNewPrivs", "Seccomp", "hostname", "fds", "groups", "cwd"):
        assert a[key] == b[key], (key, a, b)
    assert int(b["uid"]) != 0 and b["fds"] == "0,1,2", b


def test_served_runs_use_both_slots_at_once(daemon, tmp_path):
    """Two clients at once on a two-slot daemon: both run together, as different uids."""
    records, uids = run_two_at_once(tmp_path, connect=daemon)
    assert [r["status"] for r in records] == ["OK", "OK"], records
    assert len(set(uids)) == 2, uids


def test_daemon_stops_on_sigterm(tmp_path):
    sock = str(tmp_path / "own.sock")
    proc = start_daemon(sock, tmp_path / "daemon.log", slots=1)
    record, cp = run_box(["/bin/sh", "-c", "exit 0"], "--wall-time=5", connect=sock)
    assert record["status"] == "OK", record
    status = stop_daemon(proc)
    assert status is not None, "the daemon ignored SIGTERM for 10 s"
    assert status == 0, (status, (tmp_path / "daemon.log").read_bytes()[-2000:])
    assert not host_processes(), host_processes()


def test_each_served_run_gets_a_fresh_ipc_namespace(tmp_path):
    """A slot prepares the next run's IPC namespace while it is idle: a System V segment a
    run leaves behind must not be there for the next run on the same slot, nor for the
    slot's own process."""
    sock = str(tmp_path / "ipc.sock")
    proc = start_daemon(sock, tmp_path / "daemon.log", slots=1)
    try:
        first, cp = run_box(["/usr/bin/ipcmk", "-M", "4096"], "--wall-time=5", connect=sock)
        assert first["status"] == "OK" and b"Shared memory id" in cp.stdout, (first, cp.stdout)
        for _ in range(2):
            record, cp = run_box(["/usr/bin/ipcs", "-m"], "--wall-time=5", connect=sock)
            assert record["status"] == "OK", record
            segments = [line for line in cp.stdout.decode().splitlines() if line[:2] == "0x"]
            assert segments == [], cp.stdout.decode()
    finally:
        assert stop_daemon(proc) == 0
