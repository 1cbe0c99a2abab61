"""The sandbox on a pure cgroup v2 host (the unified hierarchy only, as current Debian,
Ubuntu, Fedora and Kubernetes nodes have it): every limit comes from v2, the runs' cgroups
nest under the cgroup the caller runs in, an OOM kills the whole tree and shows in
memory.events, and nothing is left behind. As root, and as uid 65534 when the cgroup we
run in is delegated to it (as `systemd-run --user -p Delegate=yes` does).

This host has no such cgroups (memory, pids and cpu on v1 here): the module is skipped,
and `make test-vm` runs it in a qemu guest that has them (tests/vm)."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import CODERUNNER, helper, run_box, wait_for

MIB = 1024
NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
CGROUP = Path("/sys/fs/cgroup")


def own_v2_cgroup():
    """The directory of the cgroup we run in, on a pure v2 host; None elsewhere."""
    mounts = [line.split() for line in Path("/proc/self/mounts").read_text().splitlines()]
    if any(m[2] == "cgroup" for m in mounts) or not any(m[1] == str(CGROUP) and m[2] == "cgroup2" for m in mounts):
        return None
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            return CGROUP / line[3:].lstrip("/")
    return None


OWN = own_v2_cgroup()
pytestmark = pytest.mark.skipif(OWN is None, reason="not a pure cgroup v2 host (make test-vm runs this in one)")


def delegated_to_nobody():
    """Whether uid 65534 may make cgroups where we run (a delegated subtree)."""
    return OWN is not None and OWN.stat().st_uid == NOBODY


@pytest.fixture(params=["root", "rootless"])
def prefix(request, tmp_path):
    """How the CLI is started: as root, or as 65534 from the delegated cgroup we run in."""
    if request.param == "root":
        return ()
    if not delegated_to_nobody():
        pytest.skip(f"the cgroup we run in ({OWN}) is not delegated to uid {NOBODY}")
    return tuple(AS_NOBODY)


@pytest.fixture
def result_dir(prefix):
    """Where the rootless CLI may write its record (pytest's tmp_path is private to root)."""
    if not prefix:
        yield None
        return
    path = Path(tempfile.mkdtemp(prefix="coderunner-v2-"))
    path.chmod(0o755)
    os.chown(path, NOBODY, NOBODY)
    yield str(path)
    shutil.rmtree(path)


def box(argv, *options, prefix, result_dir, **kw):
    return run_box(argv, *options, prefix=prefix, result_dir=result_dir, **kw)


def test_every_limit_comes_from_v2(prefix):
    info = subprocess.run([*prefix, str(CODERUNNER), "box", "info"], capture_output=True, text=True)
    assert info.returncode == 0, info
    assert info.stdout.startswith("cgroups: memory v2, pids v2, cpu v2"), info.stdout


def test_nothing_is_unenforced(prefix, result_dir):
    record, cp = box([helper("whoami")], f"--mem={128 * MIB}", "--processes=32", "--time=5", "--wall-time=20",
                     prefix=prefix, result_dir=result_dir)
    assert record["status"] == "OK", record
    assert record["unenforced"] == [], record


def test_memory_of_100_mib(prefix, result_dir):
    record, cp = box([helper("alloc"), "100"], f"--mem={256 * MIB}", "--wall-time=20",
                     prefix=prefix, result_dir=result_dir)
    assert record["status"] == "OK" and record["oom_killed"] is False, record
    assert 100 * MIB <= record["memory"] <= 115 * MIB, record


def test_cpu_of_every_process_is_counted(prefix, result_dir):
    """Three processes of 0.2 s each: the tree's 0.6 s, not one process's 0.2 s (the upper
    bound leaves room for the emulator's slow start-up)."""
    record, cp = box([helper("busy"), "-p", "3", "0.2"], "--time=5", "--wall-time=30",
                     prefix=prefix, result_dir=result_dir)
    assert record["status"] == "OK", record
    assert 0.6 <= record["cpu_time"] <= 1.5, record


def test_process_limit(prefix, result_dir):
    record, cp = box([helper("forkbomb"), "count"], "--processes=16", "--wall-time=20",
                     prefix=prefix, result_dir=result_dir)
    assert record["status"] == "OK", record
    assert b"RESULT forkbomb fail EAGAIN count=15" in cp.stdout, cp.stdout


def cgroup_of(pid):
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        if line.startswith("0::"):
            return CGROUP / line[3:].lstrip("/")
    return None


RUN_CGROUP = re.compile(r"coderunner-[0-9]+-[0-9]+-p?[0-9]+")


def test_runs_nest_under_our_cgroup_and_go_away(prefix, result_dir):
    """While the program runs, its cgroup is below the one we run in, with the memory limit
    and memory.oom.group set; when the command ends, no cgroup of a run is left."""
    gate = Path(tempfile.mkdtemp(prefix="coderunner-gate-"))
    gate.chmod(0o777)
    cmd = [*prefix, str(CODERUNNER), "box", "run", "--quiet", f"--dir={gate}:/gate:rw", "--wall-time=60",
           f"--mem={64 * MIB}", "--", "/bin/sh", "-c", "echo $$ > /gate/started; while [ ! -e /gate/go ]; do sleep 0.05; done"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: (gate / "started").exists(), 60), proc.poll()
        # The box's shell, found by its command line (as root its uid is a box uid; rootless
        # it is 65534 outside).
        box_pids = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and b"/gate/go" in (entry / "cmdline").read_bytes() \
                        and int(entry.name) != proc.pid:
                    box_pids.append(int(entry.name))
            except OSError:
                pass
        box_pids = [p for p in box_pids if RUN_CGROUP.fullmatch(cgroup_of(p).name or "")]
        assert box_pids, "no process of the run found in a run's cgroup"
        for pid in box_pids:
            where = cgroup_of(pid)
            assert where is not None and OWN in where.parents, (pid, where, OWN)
            assert (where / "memory.max").read_text().strip() == str(64 * MIB * 1024), where
            assert (where / "memory.oom.group").read_text().strip() == "1", where
        run_cgroup = cgroup_of(box_pids[0])
    finally:
        (gate / "go").touch()
        out, err = proc.communicate(timeout=60)
        shutil.rmtree(gate)
    assert proc.returncode == 0, (out, err)
    assert not run_cgroup.exists(), run_cgroup
    left = [p.parent for p in OWN.parent.rglob("cgroup.procs") if RUN_CGROUP.fullmatch(p.parent.name)]
    assert not left, f"cgroups of runs are left: {left}"
