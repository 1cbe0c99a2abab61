"""Resource limits of `coderunner box run`, each held against a program that tries to
break it: CPU and wall time, memory (also through tmpfs and many threads), processes and
threads, output, file size, open files; and the accounting the record reports."""

import os
import re
from pathlib import Path

import pytest

from conftest import helper, host_processes, result_lines, run_box, wait_for, key_values

MIB = 1024  # in KiB, the unit of --mem and of the record's memory


# ---- CPU time and wall time ----

def test_busy_loop_stops_at_cpu_limit_plus_extra():
    record, cp = run_box([helper("busy")], "--time=0.3", "--extra-time=0.1", "--wall-time=5")
    assert record["status"] == "TO" and record["limit"] == "cpu", record
    assert 0.3 <= record["cpu_time"] <= 0.45, record
    assert record["exit_code"] is None, record


@pytest.mark.parametrize("spread", [["-p", "2"], ["-t", "2"], ["-p", "2", "-t", "2"]],
                         ids=["2-processes", "2-threads", "2x2"])
def test_cpu_limit_is_on_the_tree_total(spread, workdir):
    # Each process writes its CPU time to /box as it spins: what the tree really used is
    # known without trusting the record.
    record, cp = run_box([helper("busy"), "-r", "/box", *spread], "--time=0.3", "--extra-time=0.1",
                         "--wall-time=5", f"--workdir={workdir}")
    assert record["status"] == "TO" and record["limit"] == "cpu", record
    used = [float(f.read_text()) for f in workdir.glob("cpu.*")]
    processes = int(spread[spread.index("-p") + 1]) if "-p" in spread else 1
    assert len(used) == processes, used
    assert all(u > 0.05 for u in used), used  # every process really ran
    # The spinners together stopped near limit + extra, and the record says so.
    assert 0.3 <= sum(used) <= 0.5, used
    assert 0.3 <= record["cpu_time"] <= 0.5, record
    assert abs(record["cpu_time"] - sum(used)) <= 0.05, (record, used)


def test_cpu_limit_counts_children_that_already_exited():
    """Short-lived children, each far under the limit: only a tree total can stop them."""
    loop = f"while :; do {helper('busy')} 0.05 > /dev/null; done"
    record, cp = run_box(["/bin/sh", "-c", loop], "--time=0.3", "--extra-time=0.1", "--wall-time=5")
    assert record["status"] == "TO" and record["limit"] == "cpu", record
    assert 0.3 <= record["cpu_time"] <= 0.5, record


def test_stopped_program_still_hits_wall_limit():
    record, cp = run_box(["/bin/sh", "-c", "kill -STOP $$"], "--wall-time=0.3")
    assert record["status"] == "TO" and record["limit"] == "wall", record
    assert record["wall_time"] < 1, record


def test_sleep_stops_at_wall_limit():
    record, cp = run_box(["/bin/sleep", "5"], "--wall-time=0.3", "--time=2")
    assert record["status"] == "TO" and record["limit"] == "wall", record
    assert 0.3 <= record["wall_time"] < 1, record
    assert record["cpu_time"] < 0.1, record


def test_cpu_accounting_of_a_program_within_its_limit():
    record, cp = run_box([helper("busy"), "0.5"], "--time=2", "--wall-time=5")
    assert record["status"] == "OK", record
    assert 0.45 <= record["cpu_time"] <= 0.6, record
    assert record["wall_time"] >= 0.45, record


# ---- memory ----

def test_memory_accounting_of_100_mib():
    record, cp = run_box([helper("alloc"), "100"], f"--mem={256 * MIB}", "--wall-time=5")
    assert record["status"] == "OK", record
    assert cp.stdout.strip() == b"allocated 100"
    assert 95 * MIB <= record["memory"] <= 130 * MIB, record
    assert record["oom_killed"] is False, record


def test_memory_bomb_is_killed_at_the_limit():
    record, cp = run_box([helper("alloc"), "1024"], f"--mem={64 * MIB}", "--wall-time=5")
    assert record["status"] == "ML" and record["limit"] == "memory", record
    assert record["oom_killed"] is True, record
    assert record["signal"] in (None, 9), record
    assert b"allocated" not in cp.stdout
    # The peak shows it really went up to the limit, and not past it.
    assert 32 * MIB <= record["memory"] <= 64 * MIB + 1024, record


def test_memory_limit_kills_the_whole_tree():
    """One process runs out of memory while its sibling sleeps: the OOM kill takes the whole
    tree at once (v2: memory.oom.group; v1: the sandbox kills it when the cgroup's OOM
    notification arrives), so the run ends as ML long before its wall time, as on v2."""
    record, cp = run_box(["/bin/sh", "-c", f"/bin/sleep 60 & {helper('alloc')} 1024; wait"], f"--mem={64 * MIB}",
                         "--wall-time=30")
    assert record["status"] == "ML" and record["limit"] == "memory", record
    assert record["oom_killed"] is True, record
    assert record["wall_time"] < 15, record
    assert b"allocated" not in cp.stdout


def test_memory_bomb_from_many_threads():
    record, cp = run_box([helper("threadbomb"), "16"], f"--mem={64 * MIB}", "--processes=64",
                         "--wall-time=5")
    assert record["status"] == "ML" and record["limit"] == "memory", record
    assert record["oom_killed"] is True, record


def meminfo_kib(field):
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


@pytest.mark.parametrize("per_process", [(), ("--per-process-memory",)], ids=["tree", "per-process"])
@pytest.mark.parametrize("chunk_kib", ["1024", "4"], ids=["1MiB-writes", "4KiB-writes"])
def test_tmpfs_fill_is_contained_by_the_memory_limit(chunk_kib, per_process):
    """With 4 KiB writes the writer itself stays tiny: the OOM killer must still end up
    stopping the program, not the sandbox's own processes. The per-process mode (Judge0's
    enable_per_process_and_thread_memory_limit) limits each process inside the ceiling,
    never lifts it: tmpfs pages belong to no process."""
    host_tmp = os.statvfs("/tmp")
    shmem_before = meminfo_kib("Shmem")
    record, cp = run_box([helper("tmpfill"), "/tmp", chunk_kib], f"--mem={64 * MIB}",
                         f"--tmp-size={1024 * MIB}", "--wall-time=5", *per_process)
    found = result_lines(cp.stdout).get("tmpfill")
    # Either the kernel OOM-killed the writer (tmpfs pages are charged to the box) or the
    # file system refused it; never 1 GiB of the host's memory.
    if record["status"] == "ML":
        assert record["oom_killed"] is True, record
    else:
        assert record["status"] == "OK" and found and found[1] == "ENOSPC", (record, cp.stdout)
        written = int(re.search(rb"bytes=(\d+)", cp.stdout).group(1))
        assert written <= 64 * 1024 * 1024, record
    assert record["memory"] <= 64 * MIB + 1024, record
    # The host's /tmp was not the one filled, and the box's tmpfs pages were given back.
    after = os.statvfs("/tmp")
    assert (host_tmp.f_bfree - after.f_bfree) * after.f_frsize < 16 * 1024 * 1024
    assert wait_for(lambda: meminfo_kib("Shmem") - shmem_before < 16 * MIB, 3), \
        f"Shmem grew by {meminfo_kib('Shmem') - shmem_before} KiB after the run"


@pytest.mark.parametrize("where", ["/tmp", "/box"])
def test_tmp_size_caps_the_private_file_systems(where):
    record, cp = run_box([helper("tmpfill"), where], "--tmp-size=1024", f"--mem={256 * MIB}",
                         "--wall-time=5")
    assert record["status"] == "OK", record
    found = result_lines(cp.stdout).get("tmpfill")
    assert found == ("fail", "ENOSPC"), cp.stdout
    written = int(re.search(rb"bytes=(\d+)", cp.stdout).group(1))
    assert written <= 1024 * 1024, cp.stdout


@pytest.mark.parametrize("where", ["/tmp", "/box"])
def test_inode_exhaustion_is_bounded(where):
    """Empty files cost no bytes, only kernel memory: the count needs its own limit."""
    record, cp = run_box([helper("inodefill"), where], f"--mem={256 * MIB}", "--wall-time=3")
    assert record["status"] == "OK", record
    assert result_lines(cp.stdout).get("inodefill") == ("fail", "ENOSPC"), cp.stdout
    count = int(re.search(rb"count=(\d+)", cp.stdout).group(1))
    assert count <= 100000, count


# ---- processes and threads ----

def leftover_check():
    """Right after the command returned, nothing of the box may still run."""
    left = host_processes()
    assert not left, f"processes survived the run: {left}"


@pytest.mark.parametrize("bomb", ["forkbomb", "threadspray"])
def test_process_limit_counts_the_program_itself(bomb):
    record, cp = run_box([helper(bomb), "count"], "--processes=16", "--wall-time=5")
    assert record["status"] == "OK", record
    assert result_lines(cp.stdout).get(bomb) == ("fail", "EAGAIN"), cp.stdout
    count = int(re.search(rb"count=(\d+)", cp.stdout).group(1))
    # 16 processes + threads in all, the program included: 15 more.
    assert count == 15, f"{bomb} made {count} more tasks under --processes=16: {cp.stdout!r}"
    leftover_check()


@pytest.mark.parametrize("bomb", ["forkbomb", "threadspray"])
def test_bomb_is_contained_and_nothing_survives(bomb):
    record, cp = run_box([helper(bomb)], "--processes=16", "--wall-time=0.5", "--time=5")
    assert record["status"] == "TO" and record["limit"] == "wall", record
    assert record["wall_time"] < 1.5, record
    leftover_check()


# ---- output ----

@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_output_flood_to_file_is_capped(stream, tmp_path):
    out = tmp_path / "out"
    record, cp = run_box([helper("flood"), stream], "--output-limit=64", f"--{stream}={out}",
                         "--wall-time=5")
    assert record["status"] == "OL" and record["limit"] == "output", record
    assert record[f"{stream}_bytes"] <= 64 * 1024, record
    assert 0 < out.stat().st_size <= 64 * 1024
    assert record["wall_time"] < 1, record


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_output_flood_passed_through_is_capped(stream):
    record, cp = run_box([helper("flood"), stream], "--output-limit=64", "--wall-time=5")
    assert record["status"] == "OL" and record["limit"] == "output", record
    assert 0 < len(getattr(cp, stream)) <= 64 * 1024, len(getattr(cp, stream))
    assert record[f"{stream}_bytes"] <= 64 * 1024, record


def test_output_flood_merged_into_stdout(tmp_path):
    out = tmp_path / "out"
    record, cp = run_box([helper("flood"), "stderr"], "--output-limit=64", "--stderr-to-stdout",
                         f"--stdout={out}", "--wall-time=5")
    assert record["status"] == "OL" and record["limit"] == "output", record
    assert 0 < out.stat().st_size <= 64 * 1024


def test_output_exactly_at_the_limit_is_fine(tmp_path):
    out = tmp_path / "out"
    record, cp = run_box([helper("flood"), "stdout", "64"], "--output-limit=64", f"--stdout={out}",
                         "--wall-time=5")
    assert record["status"] == "OK", record
    assert record["stdout_bytes"] == 64 * 1024, record
    assert out.stat().st_size == 64 * 1024


def test_output_just_past_the_limit_is_caught(tmp_path):
    """The program exits by itself right after passing the cap: still OL."""
    out = tmp_path / "out"
    record, cp = run_box([helper("flood"), "stdout", "65"], "--output-limit=64", f"--stdout={out}",
                         "--wall-time=5")
    assert record["status"] == "OL" and record["limit"] == "output", record
    assert out.stat().st_size <= 64 * 1024


# ---- files ----

def test_file_larger_than_fsize_is_stopped(workdir):
    record, cp = run_box([helper("bigfile"), "/box/big", "200"], "--fsize=100", f"--workdir={workdir}",
                         "--wall-time=5")
    found = result_lines(cp.stdout).get("bigfile")
    if record["status"] == "SG":
        assert record["signal"] == 25, record  # SIGXFSZ
    else:
        assert record["status"] == "OK" and found and found[:2] == ("fail", "EFBIG"), (record, cp.stdout)
    assert (workdir / "big").stat().st_size <= 100 * 1024


def test_file_size_limit_with_sigxfsz_ignored(workdir):
    record, cp = run_box([helper("bigfile"), "/tmp/big", "200", "ignore"], "--fsize=100",
                         "--wall-time=5")
    assert record["status"] == "OK", record
    assert result_lines(cp.stdout).get("bigfile") == ("fail", "EFBIG"), cp.stdout
    assert b"bytes=102400" in cp.stdout


def test_open_files_limit():
    record, cp = run_box([helper("probe"), "open-many"], "--open-files=16", "--wall-time=5")
    assert record["status"] == "OK", record
    assert result_lines(cp.stdout).get("open-many") == ("fail", "EMFILE"), cp.stdout
    count = int(re.search(rb"count=(\d+)", cp.stdout).group(1))
    assert count == 16 - 3, cp.stdout  # 0, 1 and 2 are already open


def test_stack_limit_is_applied():
    record, cp = run_box([helper("whoami")], "--stack=4096", "--wall-time=5")
    assert record["status"] == "OK", record
    assert key_values(cp.stdout).get("rlimit_stack") == str(4096 * 1024), cp.stdout
