"""Channels between two boxes that run at the same time, through `box run` (two CLI
processes) and through the supervisor (two slots): each kind of shared kernel object that
could carry a signal from one box to the other (docs/SANDBOX.md, threat model). The
helper `chan` is one end of a channel; the two ends meet in a shared /sync directory
only to take turns."""

import json
import subprocess

import pytest

from conftest import CLI_TIMEOUT, CODERUNNER, HELPERS, box_daemon, check_record, result_lines, run_box

# Every channel here must be closed: neither end may see the other. What each end reports
# when it is closed the way it is meant to be ("NONE": set up, nothing came through):
CLOSED = {
    # locks are no-ops that succeed (seccomp)
    "flock": ("NONE", "NONE"),
    "posix-lock": ("NONE", "NONE"),
    # inotify is refused (seccomp)
    "inotify": ("ENOSYS", "NONE"),
    # the network, IPC namespaces are the box's own
    "abstract": ("NONE", "ECONNREFUSED"),
    "sysv-shm": ("NONE", "ENOENT"),
    "mqueue": ("NONE", "ENOENT"),
    # eviction is a no-op and RWF_NOWAIT refused (seccomp); cachestat refused (seccomp; the
    # kernel refuses it too since 6.14 for files the caller cannot write)
    "pagecache-nowait": ("EOPNOTSUPP", "NONE"),
    "pagecache-cachestat": ("ENOSYS", "NONE"),
}


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with box_daemon(tmp_path_factory.mktemp("channels")) as sock:
        yield sock


def both_ends(tmp_path, argv_recv, argv_send, connect=None):
    """Run the two ends at once; returns ({name: (outcome, detail)}, [stdout_recv, stdout_send])."""
    sync = tmp_path / "sync"
    sync.mkdir()
    sync.chmod(0o777)
    runs = []
    for name, argv in (("recv", argv_recv), ("send", argv_send)):
        result = tmp_path / f"{name}.json"
        cmd = [str(CODERUNNER), "box", "run", f"--result={result}", "--quiet", f"--dir={HELPERS}:/h",
               f"--dir={sync}:/sync:rw", "--wall-time=10"]
        if connect is not None:
            cmd.append(f"--connect={connect}")
        runs.append((subprocess.Popen([*cmd, "--", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE),
                     result))
    found, outs = {}, []
    for proc, result in runs:
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
        assert proc.returncode == 0, (proc.args, out, err)
        record = json.loads(result.read_text())
        check_record(record)
        assert record["status"] == "OK", (record, out, err)
        found.update(result_lines(out))
        outs.append(out.decode())
    return found, outs


@pytest.mark.parametrize("through", ["cli", "supervisor"])
@pytest.mark.parametrize("channel", CLOSED)
def test_channel_between_concurrent_boxes_is_closed(channel, through, tmp_path, request):
    connect = request.getfixturevalue("daemon") if through == "supervisor" else None
    found, outs = both_ends(tmp_path, ["/h/chan", channel, "recv"], ["/h/chan", channel, "send"], connect)
    recv, send = found.get(f"{channel}-recv"), found.get(f"{channel}-send")
    assert recv and send, outs
    # "ok" on either side means a signal went through; another errno, that what closed
    # the channel changed.
    assert (recv, send) == (("fail", CLOSED[channel][0]), ("fail", CLOSED[channel][1])), outs


# Open, measured and documented (docs/SANDBOX.md, "Channels between concurrent runs"): a
# shared futex on a page of a shared read-only file (the key is the file's page), and the
# host-wide task count of /proc/loadavg and sysinfo(2). This pins the documentation to the
# facts: whoever closes one sees this fail, moves it to CLOSED and updates the threat model.
OPEN = ["futex", "loadavg", "sysinfo"]


@pytest.mark.parametrize("through", ["cli", "supervisor"])
@pytest.mark.parametrize("channel", OPEN)
def test_documented_open_channel_is_as_documented(channel, through, tmp_path, request):
    connect = request.getfixturevalue("daemon") if through == "supervisor" else None
    found, outs = both_ends(tmp_path, ["/h/chan", channel, "recv"], ["/h/chan", channel, "send"], connect)
    assert found.get(f"{channel}-recv") == ("ok", None), outs


@pytest.mark.parametrize("through", ["cli", "supervisor"])
def test_process_shared_futexes_still_work_inside_one_box(through, request):
    """What closing the futex channel must not break: semaphores shared by a parent and its
    child (anonymous shared memory, and sem_open in /dev/shm)."""
    connect = request.getfixturevalue("daemon") if through == "supervisor" else None
    record, cp = run_box(["/h/chan", "pshared"], "--wall-time=10", connect=connect)
    assert record["status"] == "OK", record
    assert result_lines(cp.stdout).get("pshared-box") == ("ok", None), cp.stdout
