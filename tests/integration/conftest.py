"""Shared machinery of the sandbox integration tests.

Every test runs the real `coderunner box run` on a real program (mostly the small C helpers
of tests/helpers, bound read-only at /h inside the box) and reads the JSON record it writes
with --result. The binary comes from $CODERUNNER_BUILD (default: build/ at the top of the
repository). The sandbox needs root, so without it every test here is skipped.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
BUILD = Path(os.environ.get("CODERUNNER_BUILD", REPO / "build")).resolve()
CODERUNNER = BUILD / "coderunner"
HELPERS = BUILD / "tests" / "helpers"

# uid_base 60000 + slot: every uid a box program may run as on the host (supervisor slots
# 0-1023, then the slots of concurrent `box run` commands).
BOX_UIDS = range(60000, 60000 + 2048)

# How long the test waits for the command itself, far above any limit a test sets: a hung
# sandbox fails the test instead of hanging the suite.
CLI_TIMEOUT = 30

STATUSES = {"OK", "RE", "SG", "TO", "ML", "OL", "XX"}
LIMITS = {"cpu", "wall", "memory", "output", None}

NEEDS_ROOT = "the sandbox integration tests need root (run pytest as root, e.g. with sudo)"


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason=NEEDS_ROOT)
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(skip)


def helper(name):
    """Path of a helper program as the box sees it (run_box binds HELPERS at /h)."""
    return f"/h/{name}"


def check_record(record):
    """Assert that a result record has every documented key with the documented type."""
    assert isinstance(record, dict), record
    assert record.get("status") in STATUSES, record
    assert record.get("limit", "missing") in LIMITS, record
    for key in ("exit_code", "signal"):
        assert key in record and (record[key] is None or isinstance(record[key], int)), (key, record)
    for key in ("cpu_time", "wall_time"):
        assert isinstance(record.get(key), (int, float)) and record[key] >= 0, (key, record)
    for key in ("memory", "stdout_bytes", "stderr_bytes"):
        value = record.get(key)
        assert isinstance(value, int) and not isinstance(value, bool) and value >= 0, (key, record)
    assert isinstance(record.get("message"), str), record
    assert isinstance(record.get("oom_killed"), bool), record
    unenforced = record.get("unenforced")
    assert isinstance(unenforced, list) and all(isinstance(u, str) for u in unenforced), record
    # The verdict and its details agree with each other.
    status = record["status"]
    if status == "OK":
        assert record["exit_code"] == 0 and record["signal"] is None, record
    if status == "RE":
        assert isinstance(record["exit_code"], int) and record["exit_code"] != 0, record
    if status == "SG":
        assert isinstance(record["signal"], int) and record["signal"] > 0, record
    if status in ("OK", "RE", "SG"):
        assert record["limit"] is None, record
    if status == "TO":
        assert record["limit"] in ("cpu", "wall"), record
    if status == "ML":
        assert record["limit"] == "memory", record
    if status == "OL":
        assert record["limit"] == "output", record


def describe(cp, record=None):
    """Everything worth seeing when a test fails."""
    return (
        f"command: {' '.join(map(str, cp.args))}\n"
        f"exit: {cp.returncode}\n"
        f"record: {record}\n"
        f"stdout: {cp.stdout[:2000]!r}\n"
        f"stderr: {cp.stderr[:2000]!r}"
    )


def run_cli(args, *, input=b"", timeout=CLI_TIMEOUT, prefix=()):
    """Run `coderunner ARGS` and return the CompletedProcess (stdout/stderr as bytes)."""
    return subprocess.run([*prefix, str(CODERUNNER), *args], input=input, capture_output=True,
                          timeout=timeout)


def run_box(argv, *options, connect=None, expect_exit=0, input=b"", timeout=CLI_TIMEOUT,
            prefix=(), result_dir=None):
    """Run `coderunner box run --result=F --quiet --dir=HELPERS:/h OPTIONS -- ARGV`.

    Returns (record, completed_process). The command's exit status must be expect_exit
    (None: anything) and the record must exist and be well-formed (usage errors, which
    write none, are tested with run_cli). `connect` runs through a resident supervisor;
    `prefix` wraps the command (setpriv for the rootless tests), in which case result_dir
    must be writable by that user."""
    if connect is None and not prefix:
        # CODERUNNER_TEST_CONNECT=SOCKET: the same tests through a running `box daemon`.
        connect = os.environ.get("CODERUNNER_TEST_CONNECT") or None
    with tempfile.TemporaryDirectory(dir=result_dir) as tmp:
        if result_dir is not None:
            os.chmod(tmp, 0o777)
        result = Path(tmp) / "result.json"
        args = ["box", "run", f"--result={result}", "--quiet", f"--dir={HELPERS}:/h"]
        if connect is not None:
            args.append(f"--connect={connect}")
        args += [*options, "--", *argv]
        cp = run_cli(args, input=input, timeout=timeout, prefix=prefix)
        record = None
        if result.exists() and result.stat().st_size > 0:
            try:
                record = json.loads(result.read_text())
            except ValueError:
                pytest.fail(f"the record is not JSON: {result.read_text()!r}\n{describe(cp)}")
    if expect_exit is not None:
        assert cp.returncode == expect_exit, describe(cp, record)
    assert record is not None, "no record written\n" + describe(cp)
    check_record(record)
    return record, cp


# Run in the box by run_two_at_once: write our uid under our name, then wait (up to 4 s)
# until the other run has written its own.
_RENDEZVOUS = """
    id -u > "/sync/$1"
    i=0
    while [ "$(ls /sync | wc -l)" -lt 2 ]; do
        i=$((i + 1)); [ $i -gt 400 ] && exit 9
        sleep 0.01
    done
"""


def run_two_at_once(tmp_path, connect=None):
    """Start two runs together that can only both finish if they run at the same time.
    Returns ([record_a, record_b], [uid_a, uid_b]); a uid is None if that run wrote none."""
    sync = tmp_path / "sync"
    sync.mkdir()
    sync.chmod(0o777)
    runs = []
    for name in ("a", "b"):
        result = tmp_path / f"{name}.json"
        cmd = [str(CODERUNNER), "box", "run", f"--result={result}", "--quiet", f"--dir={sync}:/sync:rw",
               "--wall-time=8"]
        if connect is not None:
            cmd.append(f"--connect={connect}")
        cmd += ["--", "/bin/sh", "-c", _RENDEZVOUS, "sh", name]
        runs.append((subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE), result))
    records = []
    for proc, result in runs:
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
        assert proc.returncode == 0, (proc.args, proc.returncode, out, err)
        records.append(json.loads(result.read_text()))
        check_record(records[-1])
    uids = []
    for name in ("a", "b"):
        path = sync / name
        uids.append(int(path.read_text()) if path.exists() else None)
    return records, uids


def result_lines(stdout):
    """{name: (outcome, detail)} from the helpers' "RESULT <name> ok|fail [<ERRNO>]" lines."""
    found = {}
    for line in stdout.decode(errors="replace").splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "RESULT":
            found[words[1]] = (words[2], words[3] if len(words) > 3 else None)
    return found


def key_values(stdout):
    """{key: value} from "key=value" lines (the whoami helper)."""
    values = {}
    for line in stdout.decode(errors="replace").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key] = value
    return values


def mounts_under(path):
    """Mount points below path, deepest first."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if point.startswith(str(path) + "/"):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def unmount_below(path):
    """Take off the mounts below path: the Judges' tmpfs that a server which gave up root
    (or was killed) leaves until a next start on the same directory reclaims them."""
    for point in mounts_under(path):
        subprocess.run(["umount", "-l", point], check=False)


@pytest.fixture
def open_dir():
    """A directory the user nobody can reach (pytest's tmp_path is private to root),
    removed with whatever a test's servers left mounted in it."""
    d = Path(tempfile.mkdtemp(prefix="coderunner-open-"))
    d.chmod(0o755)
    yield d
    unmount_below(d)
    shutil.rmtree(d, ignore_errors=True)


def wait_for(predicate, timeout, interval=0.005):
    """Poll predicate() until it returns something true or timeout seconds pass; return
    its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def host_processes(uids=BOX_UIDS):
    """Host processes any of whose uids (real, effective, saved, fs) is in `uids`:
    a list of (pid, name, state, uids)."""
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue  # it exited meanwhile
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        ids = [int(u) for u in fields.get("Uid", "").split()]
        if any(u in uids for u in ids):
            found.append((int(entry.name), fields.get("Name", "").strip(),
                          fields.get("State", "").strip(), ids))
    return found


@pytest.fixture(autouse=True)
def no_leftover_box_processes():
    """Every test starts and ends with no process of a box uid on the host. Tests that
    check for survivors themselves do it right after the run; this catches the rest."""
    if not wait_for(lambda: not host_processes(), 2):
        pytest.fail(f"box processes left by an earlier test: {host_processes()}")
    yield
    assert wait_for(lambda: not host_processes(), 2), \
        f"box processes survived the test: {host_processes()}"


@pytest.fixture
def workdir(tmp_path):
    """A host directory for --workdir that any box uid may write."""
    path = tmp_path / "work"
    path.mkdir()
    path.chmod(0o777)
    return path


@pytest.fixture(scope="session", autouse=True)
def built():
    """Fail clearly, once, when the binaries are missing."""
    if os.geteuid() != 0:
        return
    missing = [str(p) for p in (CODERUNNER, HELPERS / "whoami") if not p.exists()]
    if missing:
        pytest.fail(f"not built: {', '.join(missing)} (run: meson setup build; ninja -C build)")


def pytest_configure(config):
    # test_judge_compile.py: the compile time limit can only be reached by spending it.
    config.addinivalue_line("markers", "slow: takes tens of seconds (deselect with -m 'not slow')")
    # tools/conformance-table: a row of docs/API.md's table of Judge0 conformance.
    config.addinivalue_line("markers", "conformance(behaviour, judge0, coderunner): a row of docs/API.md's "
                            "conformance table (tools/conformance-table)")


@contextlib.contextmanager
def box_daemon(directory, *options, slots=2, prefix=()):
    """`coderunner box daemon` serving on DIRECTORY/box.sock (OPTIONS added, PREFIX wrapping
    the command, e.g. `ip netns exec NS`), until the block ends. Yields the socket path. Its
    output goes to DIRECTORY/daemon.log: a pipe nobody reads could fill and block it."""
    sock, log_path = Path(directory) / "box.sock", Path(directory) / "daemon.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*prefix, str(CODERUNNER), "box", "daemon", f"--socket={sock}", f"--slots={slots}",
                                 *options], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: sock.exists() or proc.poll() is not None, CLI_TIMEOUT)
        if not sock.exists() or proc.poll() is not None:
            pytest.fail(f"the daemon did not create {sock}: {log_path.read_bytes()[-2000:]!r}")
        yield str(sock)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=CLI_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
