"""The resident supervisor: `coderunner box daemon --socket=PATH` serves runs that
`coderunner box run --connect=PATH` sends it. The same program must get the same verdict
both ways, and the daemon must stop cleanly on SIGTERM."""

import os
import shutil
import signal
import subprocess
import tempfile
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


def start_daemon(socket_path, log_path, slots=2, extra=(), prefix=()):
    """Start `coderunner box daemon` and wait (with a deadline) until its socket exists.
    Its output goes to log_path: a pipe nobody reads could fill and block it."""
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*prefix, str(CODERUNNER), "box", "daemon", f"--socket={socket_path}",
                                 f"--slots={slots}", *extra], stdout=log, stderr=subprocess.STDOUT)
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


# What a run may leave in its root, and what the next run on the same slot must not see.
LEAVE = """
import os, subprocess
for path in ("/tmp/left", "/box/left", "/dev/shm/left"):
    with open(path, "w") as f:
        f.write("left by the first run\\n")
os.mkdir("/tmp/dir")
subprocess.run(["/usr/bin/ipcmk", "-M", "4096"], check=True, stdout=subprocess.DEVNULL)
subprocess.run(["/usr/bin/ipcmk", "-Q"], check=True, stdout=subprocess.DEVNULL)
"""

LOOK = """
import os
print("mounts=" + " ".join(sorted(line.split()[4] for line in open("/proc/self/mountinfo"))))
print("files=" + " ".join(sorted(os.listdir("/tmp") + os.listdir("/box") + os.listdir("/dev/shm"))))
ipc = [line for f in ("/proc/sysvipc/shm", "/proc/sysvipc/msg") for line in open(f).readlines()[1:]]
print("ipc=%d" % len(ipc))
try:
    open("/planted", "w")
    print("root=writable")
except OSError as e:
    print("root=%d" % e.errno)
"""


def test_nothing_of_a_served_run_is_left_for_the_next_on_its_slot(tmp_path):
    """A slot prepares each run's root (a mount namespace of its own) and its cgroups while
    it is idle, and tears the last run's down after answering: two runs on one slot must
    share nothing. The first leaves files in /tmp, /box and /dev/shm, System V objects, and
    large CPU and memory use; the second must see the same mounts as a fresh run, none of
    the files or objects, a read-only root, and only its own accounting."""
    sock = str(tmp_path / "leak.sock")
    proc = start_daemon(sock, tmp_path / "daemon.log", slots=1)
    try:
        fresh, cp = run_box(["/usr/bin/python3", "-S", "-c", LOOK], "--wall-time=10", connect=sock)
        assert fresh["status"] == "OK", (fresh, cp.stderr)
        before = key_values(cp.stdout)
        assert before["files"] == "" and before["ipc"] == "0", before
        assert before["root"] == "30", before  # EROFS

        left, cp = run_box(["/usr/bin/python3", "-S", "-c", LEAVE], "--wall-time=10", connect=sock)
        assert left["status"] == "OK", (left, cp.stderr)
        burnt, _ = run_box([helper("busy"), "1"], "--wall-time=20", connect=sock)
        fat, _ = run_box([helper("alloc"), "96"], "--wall-time=10", connect=sock)
        assert burnt["status"] == "OK" and burnt["cpu_time"] >= 1, burnt
        assert fat["status"] == "OK" and fat["memory"] >= 96 * MIB, fat

        after, cp = run_box(["/usr/bin/python3", "-S", "-c", LOOK], "--wall-time=10", connect=sock)
        assert after["status"] == "OK", (after, cp.stderr)
        now = key_values(cp.stdout)
        assert now == before, (now, before)
        # Only its own use: the same program's fresh run plus far less than the second of CPU
        # and the 96 MiB of the runs before it (relative: under emulation Python's start
        # alone takes a quarter of a second).
        assert after["cpu_time"] < fresh["cpu_time"] + 0.5, (after, fresh)
        assert after["memory"] < fresh["memory"] + 48 * MIB, (after, fresh)
    finally:
        assert stop_daemon(proc) == 0


def test_served_binds_do_not_share_mount_events_with_the_host(tmp_path):
    """A served run attaches its binds (here one of a shared mount) as private copies made
    on the host: nothing mounted later on the host under the source may show in the box,
    and nothing of the box propagates out."""
    shared = tmp_path / "shared"
    shared.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "crtest", str(shared)], check=True)
    try:
        subprocess.run(["mount", "--make-shared", str(shared)], check=True)
        sock = str(tmp_path / "prop.sock")
        proc = start_daemon(sock, tmp_path / "daemon.log", slots=1)
        try:
            script = ("for line in open('/proc/self/mountinfo'):\n"
                      "    f = line.split()\n"
                      "    print('mount=%s %s' % (f[4], ' '.join(f[6:f.index('-')]) or 'private'))\n")
            for _ in range(2):  # a prepared root, then the next one
                record, cp = run_box(["/usr/bin/python3", "-S", "-c", script], f"--dir={shared}:/s",
                                     "--wall-time=10", connect=sock)
                assert record["status"] == "OK", (record, cp.stderr)
                lines = [line for line in cp.stdout.decode().splitlines() if line.startswith("mount=")]
                assert "mount=/s private" in lines, lines
                assert all(line.endswith(" private") for line in lines), lines
        finally:
            assert stop_daemon(proc) == 0
    finally:
        subprocess.run(["umount", str(shared)], check=True)


def test_each_served_run_gets_its_own_limits_on_a_slot(tmp_path):
    """A slot makes the next run's cgroups ahead with the last run's limits: a run that
    asks for other limits (tighter, looser, or none) must get exactly its own."""
    sock = str(tmp_path / "limits.sock")
    proc = start_daemon(sock, tmp_path / "daemon.log", slots=1)
    try:
        for mem, procs, expected in ((64, 0, "ML"), (256, 0, "OK"), (256, 0, "OK"), (64, 0, "ML"),
                                     (0, 0, "OK"), (64, 0, "ML"), (256, 8, "OK")):
            options = ["--wall-time=10"] + ([f"--mem={mem * MIB}"] if mem else []) + \
                ([f"--processes={procs}"] if procs else [])
            record, _ = run_box([helper("alloc"), "96"], *options, connect=sock)
            assert record["status"] == expected, (mem, procs, record)
        for procs, expected in ((4, "RE"), (64, "OK"), (4, "RE")):
            record, _ = run_box(["/bin/sh", "-c", "for i in 1 2 3 4 5 6 7 8; do sleep 1 & done; wait"],
                                "--wall-time=10", f"--processes={procs}", connect=sock)
            assert record["status"] == expected, (procs, record)
    finally:
        assert stop_daemon(proc) == 0


# Exec the command with signals ignored as a careless parent leaves them: SIGINT, SIGUSR1,
# SIGPIPE, and 32, 33 and 40, real-time signals (glibc's sigaction() refuses 32 and 33: the
# system call is used, as a program's parent may).
IGNORE_AND_EXEC = ("/usr/bin/python3", "-c", """
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
class KernelSigaction(ctypes.Structure):
    _fields_ = [("handler", ctypes.c_void_p), ("flags", ctypes.c_ulong),
                ("restorer", ctypes.c_void_p), ("mask", ctypes.c_uint64)]
ignore = KernelSigaction(1, 0, None, 0)  # SIG_IGN
for sig in (2, 10, 13, 32, 33, 40):
    assert libc.syscall(13, sig, ctypes.byref(ignore), None, 8) == 0, sig  # rt_sigaction
os.execv(sys.argv[1], sys.argv[1:])
""")


def test_served_program_starts_with_default_signal_dispositions(daemon, tmp_path):
    """The slot ignores SIGPIPE and handles SIGTERM; its runs' init is cloned with every
    handler cleared and resets what the slot ignores: the program must start with nothing
    ignored or blocked, as it does without the supervisor; and so it must when whoever
    started the CLI or the daemon left signals ignored (real-time ones included)."""
    if os.uname().machine != "x86_64":
        pytest.skip("the wrapper calls rt_sigaction by its x86_64 number")
    careless = start_daemon(str(tmp_path / "box.sock"), tmp_path / "daemon.log", slots=1,
                            prefix=IGNORE_AND_EXEC)
    try:
        for connect, prefix in ((None, ()), (daemon, ()), (None, IGNORE_AND_EXEC),
                                (str(tmp_path / "box.sock"), ())):
            record, cp = run_box(["/bin/grep", "-E", "^Sig(Ign|Blk):", "/proc/self/status"],
                                 "--wall-time=5", connect=connect, prefix=prefix)
            assert record["status"] == "OK", record
            lines = cp.stdout.decode().split("\n")
            assert [line.split()[1] for line in lines if line] == ["0000000000000000"] * 2, \
                (connect, prefix != (), lines)
    finally:
        stop_daemon(careless)


def test_a_client_that_is_not_root_binds_only_what_it_can_reach(tmp_path):
    """A run that enters a prepared root copies its binds from the host with the client's
    own filesystem identity, as one that builds its root does: a directory the client
    cannot reach is refused, a workdir it owns is lent."""
    nobody = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups")
    hidden = tmp_path / "hidden"  # below the tests' own 0700 directory
    hidden.mkdir()
    base = Path(tempfile.mkdtemp(prefix="coderunner-peer-", dir="/tmp"))
    try:
        base.chmod(0o755)
        work = base / "work"
        work.mkdir()
        os.chown(work, 65534, 65534)
        sock = str(base / "box.sock")
        proc = start_daemon(sock, base / "daemon.log", slots=1, extra=("--client-uid=65534",))
        try:
            for _ in range(2):  # the first root and a prepared one
                record, _ = run_box(["/bin/ls", "/s"], f"--dir={hidden}:/s", connect=sock, prefix=nobody,
                                    result_dir=str(base), expect_exit=2)
                assert record["status"] == "XX" and "Permission denied" in record["message"], record
                record, cp = run_box(["/bin/sh", "-c", "echo made > /box/made; cat /box/made"],
                                     f"--workdir={work}", connect=sock, prefix=nobody, result_dir=str(base))
                assert record["status"] == "OK" and cp.stdout == b"made\n", (record, cp)
                record, _ = run_box(["/bin/ls", "/s"], f"--dir={hidden}:/s", connect=sock)
                assert record["status"] == "OK", record  # root may
        finally:
            assert stop_daemon(proc) == 0
    finally:
        shutil.rmtree(base)
