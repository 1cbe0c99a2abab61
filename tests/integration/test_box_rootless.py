"""Rootless: `coderunner box run` started by an unprivileged user (uid 65534, through
setpriv) runs the program isolated in a user namespace, and lists in the record's
"unenforced" the limits it could not enforce without a delegated cgroup."""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import CODERUNNER, HELPERS, helper, key_values, result_lines, run_box

NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def cgroup_delegated_to(uid):
    """Whether our cgroup v2 directory (where the CLI would make its own) belongs to uid.
    In a leaf an earlier coderunner moved us into, the CLI makes its runs beside it."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        hierarchy, _, path = line.split(":", 2)
        if hierarchy != "0":
            continue
        for root in (Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/unified")):
            if (root / "cgroup.controllers").exists():
                directory = root / path.lstrip("/")
                if directory.name.startswith("coderunner-supervisor-"):
                    directory = directory.parent
                return directory.exists() and directory.stat().st_uid == uid
    return False


@pytest.fixture(scope="module")
def nobody_dir():
    """A directory 65534 owns, for the work directory and the record; skips the module
    where the test cannot run as 65534 at all."""
    if Path("/proc/sys/user/max_user_namespaces").read_text().strip() == "0":
        pytest.skip("unprivileged user namespaces are disabled (user.max_user_namespaces = 0)")
    probe = subprocess.run([*AS_NOBODY, "unshare", "--user", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"uid {NOBODY} cannot create a user namespace here: {probe.stderr.decode().strip()}")
    reach = subprocess.run([*AS_NOBODY, "test", "-x", str(CODERUNNER), "-a", "-r", str(HELPERS / "whoami")])
    if reach.returncode != 0:
        pytest.skip(f"uid {NOBODY} cannot reach {CODERUNNER} or the helpers (directory permissions)")
    path = Path(tempfile.mkdtemp(prefix="coderunner-rootless-"))
    os.chown(path, NOBODY, NOBODY)
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.fixture
def nobody_workdir(nobody_dir, request):
    path = nobody_dir / request.node.name
    path.mkdir()
    os.chown(path, NOBODY, NOBODY)
    return path


def run_as_nobody(argv, *options, workdir, expect_exit=0):
    """run_box as uid 65534, with workdir as the work directory."""
    return run_box(argv, *options, f"--workdir={workdir}", prefix=AS_NOBODY, result_dir=workdir.parent,
                   expect_exit=expect_exit)


def test_rootless_run_is_isolated(nobody_workdir):
    record, cp = run_as_nobody([helper("whoami")], f"--mem={256 * 1024}", "--processes=64", "--time=2",
                               "--wall-time=5", workdir=nobody_workdir)
    assert record["status"] == "OK", record
    me = key_values(cp.stdout)
    for cap in ("CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(me[cap], 16) == 0, (cap, me)
    assert me["NoNewPrivs"] == "1" and me["Seccomp"] == "2", me
    assert me["hostname"] == "coderunner" and me["pid"] != "1", me
    assert me["fds"] == "0,1,2", me
    if not cgroup_delegated_to(NOBODY):
        # Processes are still bounded (RLIMIT_NPROC in the run's user namespace); memory
        # and the tree's CPU time need a cgroup.
        assert record["unenforced"] == ["memory", "cpu-tree"], record
    else:
        # From a delegated v2 cgroup (tests/vm runs this in one), every limit holds.
        assert record["unenforced"] == [], record


def test_rootless_files_belong_to_the_user_outside(nobody_workdir):
    """Whatever uid the program has inside, outside it is 65534, never root."""
    record, cp = run_as_nobody(["/bin/sh", "-c", "echo hi > /box/made"], "--wall-time=5",
                               workdir=nobody_workdir)
    assert record["status"] == "OK", record
    made = nobody_workdir / "made"
    assert made.read_text() == "hi\n"
    assert made.stat().st_uid == NOBODY, made.stat()


def test_rootless_wall_time_limit(nobody_workdir):
    record, cp = run_as_nobody(["/bin/sleep", "5"], "--wall-time=0.3", workdir=nobody_workdir)
    assert record["status"] == "TO" and record["limit"] == "wall", record
    assert record["wall_time"] < 1, record


def test_rootless_syscall_filter_still_applies(nobody_workdir):
    record, cp = run_as_nobody([helper("probe"), "unshare-user"], "--wall-time=5", workdir=nobody_workdir)
    assert record["status"] == "OK", record
    assert result_lines(cp.stdout).get("unshare-user") == ("fail", "EPERM"), cp.stdout


def test_rootless_fork_bomb_is_bounded(nobody_workdir):
    """Without a pids cgroup, --processes still holds through RLIMIT_NPROC in the run's own
    user namespace: the program makes 15 more tasks (16 with itself), then fork fails."""
    record, cp = run_as_nobody([helper("forkbomb"), "count"], "--processes=16", "--wall-time=5",
                               workdir=nobody_workdir)
    assert record["status"] == "OK", record
    assert result_lines(cp.stdout).get("forkbomb") == ("fail", "EAGAIN"), cp.stdout
    assert b"count=15" in cp.stdout, cp.stdout


def test_rootless_networked_run_is_refused_not_given_the_hosts_network(nobody_workdir):
    """Without root there is no namespace of ours for pasta and nftables: the run is
    refused with a clear message, never run in the host's network namespace."""
    record, cp = run_as_nobody([helper("probe"), "connect-loopback", "1"], "--net", "--wall-time=5",
                               workdir=nobody_workdir, expect_exit=2)
    assert record["status"] == "XX" and "need the root sandbox" in record["message"], record
    assert b"RESULT" not in cp.stdout
