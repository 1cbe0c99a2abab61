"""The command-line contract of `coderunner box run`: verdicts for the ways a program
ends, standard streams, the work directory, usage errors, sandbox failures, and
concurrent runs."""

import json
import secrets
import subprocess

import pytest

from conftest import (BOX_UIDS, CLI_TIMEOUT, CODERUNNER, describe, helper, run_box, run_cli,
                      run_two_at_once, wait_for)


# ---- how the program ended ----

def test_exit_code_is_passed_through():
    record, cp = run_box(["/bin/sh", "-c", "exit 3"], "--wall-time=5")
    assert record["status"] == "RE", record
    assert record["exit_code"] == 3 and record["signal"] is None, record


def test_clean_exit_is_ok():
    record, cp = run_box(["/bin/sh", "-c", "echo hi; echo err >&2"], "--wall-time=5")
    assert record["status"] == "OK" and record["exit_code"] == 0, record
    assert cp.stdout == b"hi\n" and cp.stderr == b"err\n"
    assert record["stdout_bytes"] == 3 and record["stderr_bytes"] == 4, record


@pytest.mark.parametrize("how, signo", [("segv", 11), ("abort", 6)])
def test_death_by_signal(how, signo):
    record, cp = run_box([helper("crash"), how], "--wall-time=5")
    assert record["status"] == "SG", record
    assert record["signal"] == signo and record["exit_code"] is None, record


def test_self_inflicted_sigkill_is_not_a_limit():
    record, cp = run_box(["/bin/sh", "-c", "kill -9 $$"], "--time=2", f"--mem={256 * 1024}",
                         "--wall-time=5")
    assert record["status"] == "SG" and record["signal"] == 9, record
    assert record["oom_killed"] is False, record


# ---- standard streams and the work directory ----

def test_stdin_file_is_read(tmp_path):
    data = secrets.token_bytes(100000)
    src = tmp_path / "in"
    src.write_bytes(data)
    out = tmp_path / "out"
    record, cp = run_box(["/bin/cat"], f"--stdin={src}", f"--stdout={out}", "--wall-time=5")
    assert record["status"] == "OK", record
    assert out.read_bytes() == data
    assert record["stdout_bytes"] == len(data), record


def test_default_stdin_is_empty_not_the_callers():
    record, cp = run_box(["/bin/cat"], "--wall-time=2", input=b"the caller's stdin\n")
    assert record["status"] == "OK", record
    assert cp.stdout == b""


def test_stderr_to_stdout(tmp_path):
    out = tmp_path / "out"
    record, cp = run_box(["/bin/sh", "-c", "echo one; echo two >&2; echo three"], "--stderr-to-stdout",
                         f"--stdout={out}", "--wall-time=5")
    assert record["status"] == "OK", record
    assert out.read_bytes() == b"one\ntwo\nthree\n"
    assert cp.stderr == b""


def test_workdir_files_persist(workdir):
    record, cp = run_box(["/bin/sh", "-c", "pwd; echo made > made.txt; mkdir sub && echo deep > sub/f"],
                         f"--workdir={workdir}", "--wall-time=5")
    assert record["status"] == "OK", record
    assert cp.stdout == b"/box\n"
    assert (workdir / "made.txt").read_text() == "made\n"
    assert (workdir / "sub" / "f").read_text() == "deep\n"


def test_workdir_is_seen_by_the_program(workdir):
    (workdir / "input.txt").write_text("from the host\n")
    record, cp = run_box(["/bin/cat", "/box/input.txt"], f"--workdir={workdir}", "--wall-time=5")
    assert record["status"] == "OK", record
    assert cp.stdout == b"from the host\n"


def test_box_without_workdir_is_fresh_each_run():
    record, cp = run_box(["/bin/sh", "-c", "ls -A /box /tmp; echo x > /box/left; echo y > /tmp/left"],
                         "--wall-time=5")
    assert record["status"] == "OK" and cp.stdout == b"/box:\n\n/tmp:\n", (record, cp.stdout)
    record, cp = run_box(["/bin/sh", "-c", "ls -A /box /tmp"], "--wall-time=5")
    assert record["status"] == "OK" and cp.stdout == b"/box:\n\n/tmp:\n", (record, cp.stdout)


def test_dir_bind_is_read_only_unless_rw(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (shared / "data").write_text("data\n")
    script = "cat /s/data; if (: > /s/new) 2>/dev/null; then echo WROTE; fi"
    record, cp = run_box(["/bin/sh", "-c", script], f"--dir={shared}:/s", "--wall-time=5")
    assert record["status"] == "OK" and cp.stdout == b"data\n", (record, cp.stdout)
    assert not (shared / "new").exists()
    record, cp = run_box(["/bin/sh", "-c", script], f"--dir={shared}:/s:rw", "--wall-time=5")
    assert record["status"] == "OK" and cp.stdout == b"data\nWROTE\n", (record, cp.stdout)
    assert (shared / "new").exists()


# ---- errors ----

USAGE_ERRORS = {
    "unknown-option": ["--no-such-option"],
    "bad-time": ["--time=abc"],
    "time-trailing-bytes": ["--time=1.5x"],
    "negative-time": ["--time=-1"],
    "negative-mem": ["--mem=-1"],
    "empty-wall-time": ["--wall-time="],
    "processes-overflow": ["--processes=99999999999999999999999"],
}


@pytest.mark.parametrize("options", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_usage_error_is_one_line_and_exit_1(options, tmp_path):
    result = tmp_path / "result.json"
    cp = run_cli(["box", "run", f"--result={result}", *options, "--", "/bin/true"])
    assert cp.returncode == 1, describe(cp)
    lines = cp.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].strip(), describe(cp)
    assert cp.stdout == b"", describe(cp)


@pytest.mark.parametrize("args", [["box", "run", "--"], ["box", "run"], ["box", "run", "--time=1"]],
                         ids=["dashdash-only", "nothing", "options-only"])
def test_missing_program_is_a_usage_error(args):
    cp = run_cli(args)
    assert cp.returncode == 1, describe(cp)
    lines = cp.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].strip(), describe(cp)


def test_program_that_does_not_exist_is_a_sandbox_failure():
    record, cp = run_box(["/no/such/program"], "--wall-time=5", expect_exit=2)
    assert record["status"] == "XX", record
    assert record["message"], record
    assert record["exit_code"] is None or record["exit_code"] != 0, record


# ---- concurrency ----

def test_two_runs_at_once_both_succeed(tmp_path):
    records, uids = run_two_at_once(tmp_path)
    assert [r["status"] for r in records] == ["OK", "OK"], records


def test_two_runs_at_once_get_distinct_uids(tmp_path):
    """Two programs of the same uid could signal or ptrace each other and share files."""
    records, uids = run_two_at_once(tmp_path)
    assert [r["status"] for r in records] == ["OK", "OK"], records
    assert len(set(uids)) == 2 and set(uids) <= set(BOX_UIDS), uids


def test_a_neighbours_limits_do_not_touch_a_running_box(workdir):
    """While one run waits, others hit the CPU and memory limits next to it: the waiting
    run must end normally, with none of their CPU time or memory in its record."""
    script = "echo > /box/started; while [ ! -e /box/go ]; do sleep 0.01; done"
    result = workdir.parent / "waiting.json"
    cmd = [str(CODERUNNER), "box", "run", f"--result={result}", "--quiet", f"--workdir={workdir}",
           "--time=5", f"--mem={256 * 1024}", "--wall-time=10", "--", "/bin/sh", "-c", script]
    waiting = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert wait_for(lambda: (workdir / "started").exists() or waiting.poll() is not None, 10)
        assert waiting.poll() is None, waiting.communicate()
        cpu, _ = run_box([helper("busy")], "--time=0.2", "--wall-time=5")
        assert cpu["status"] == "TO", cpu
        mem, _ = run_box([helper("alloc"), "1024"], f"--mem={64 * 1024}", "--wall-time=5")
        assert mem["status"] == "ML", mem
        assert waiting.poll() is None, "the waiting run ended early: " + repr(waiting.communicate())
    finally:
        (workdir / "go").touch()
        out, err = waiting.communicate(timeout=CLI_TIMEOUT)
    assert waiting.returncode == 0, (out, err)
    record = json.loads(result.read_text())
    assert record["status"] == "OK", record
    assert record["oom_killed"] is False, record
    assert record["cpu_time"] < 0.15, record
    assert record["memory"] < 32 * 1024, record
