"""coderunner cluster up/status/down against the real roles: Redis, PostgreSQL, API nodes and
workers as local processes. A submission goes through the public URL and is judged by a
worker; down stops everything; up again reuses the data and the submission is still there.
Skipped when this build has no `coderunner api` role, or redis-server / PostgreSQL are
not installed."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests

from api_helpers import free_port
from conftest import CODERUNNER, unmount_below
from pg_helpers import find_bindir
from redis_helpers import find_redis_server

UP_TIMEOUT = 300  # seconds: initdb, then every role healthy
DOWN_TIMEOUT = 180


def _roles_available():
    try:
        return subprocess.run([str(CODERUNNER), "api", "--help"], capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


pytestmark = [
    pytest.mark.skipif(not _roles_available(), reason="this build has no `coderunner api` role"),
    pytest.mark.skipif(not find_redis_server(), reason="redis-server is not installed"),
    pytest.mark.skipif(not find_bindir(), reason="the PostgreSQL server programs are not installed"),
]


@pytest.fixture(autouse=True)
def no_leftover_box_processes():
    """Overrides conftest's check: on a shared machine other users' boxes would fail it;
    test_down_stops_everything checks this cluster's own processes instead."""
    yield


def cluster(*args, timeout=60):
    return subprocess.run([str(CODERUNNER), "cluster", *args], capture_output=True, text=True, timeout=timeout)


def status(d):
    r = cluster("status", f"--dir={d}", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def start_time(pid):
    """Field 22 of /proc/PID/stat, or None when the pid is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


@pytest.fixture
def cluster_dir():
    # Not under pytest's tmp_path: PostgreSQL runs as nobody, who cannot enter root's dirs.
    d = Path(tempfile.mkdtemp(prefix="coderunner-cluster-"))
    d.chmod(0o755)
    yield d
    if (d / "cluster.state").exists():
        cluster("down", f"--dir={d}", timeout=DOWN_TIMEOUT)
    # The workers' tmpfs mounts stay after they stop (they had given up root): a next `up`
    # or `down --purge` takes them off; this test's own directory goes now.
    unmount_below(d)
    shutil.rmtree(d, ignore_errors=True)


def up(d, port, *extra):
    r = cluster("up", f"--dir={d}", f"--port={port}", "--slots=1", *extra, timeout=UP_TIMEOUT)
    assert r.returncode == 0, f"cluster up failed: {r.stderr}\n" + "\n".join(
        f"== {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in sorted((d / "logs").glob("*.log")))
    return r.stdout.strip()


def check_shape(st, port, n_api, n_workers):
    assert list(st) == ["public_url", "roles"]
    assert st["public_url"] == f"http://127.0.0.1:{port}"
    names = [r["name"] for r in st["roles"]]
    assert names == ["redis", "postgres"] + [f"api-{i + 1}" for i in range(n_api)] + \
        [f"worker-{i + 1}" for i in range(n_workers)]
    for r in st["roles"]:
        if r["role"] == "worker":
            assert list(r) == ["name", "role", "pid", "state"], r
        else:
            assert list(r) == ["name", "role", "pid", "url", "state"], r
            scheme = {"redis": "redis://127.0.0.1:", "postgres": "postgres://", "api": "http://127.0.0.1:"}
            assert r["url"].startswith(scheme[r["role"]]), r
        assert isinstance(r["pid"], int) and r["pid"] > 0
        assert r["role"] == r["name"].split("-")[0]
    api1 = next(r for r in st["roles"] if r["name"] == "api-1")
    assert api1["url"] == st["public_url"]
    assert len({r["pid"] for r in st["roles"]}) == len(st["roles"])


def test_up_submit_down_up_again(cluster_dir):
    d, port = cluster_dir, free_port()
    url = up(d, port)
    assert url == f"http://127.0.0.1:{port}"
    st = status(d)
    check_shape(st, port, 2, 2)
    assert [r["state"] for r in st["roles"]] == ["running"] * 6
    starts = {r["name"]: start_time(r["pid"]) for r in st["roles"]}
    assert None not in starts.values()

    # A second up on a running cluster is refused, in one line.
    again = cluster("up", f"--dir={d}", f"--port={free_port()}")
    assert again.returncode != 0
    assert "already running" in again.stderr and again.stderr.count("\n") == 1, again.stderr

    # A submission through the public URL, judged by a worker, readable from the other API node.
    r = requests.post(f"{url}/submissions?wait=true", timeout=120,
                      json={"source_code": "print(6 * 7)", "language_id": 71})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"]["description"] == "Accepted", body
    assert body["stdout"] == "42\n"
    token = body["token"]
    api2 = next(r for r in st["roles"] if r["name"] == "api-2")["url"]
    other = requests.get(f"{api2}/submissions/{token}", timeout=30).json()
    assert other["status"]["id"] == 3 and other["stdout"] == "42\n"

    # A role that dies by itself shows as exited.
    w2 = next(r for r in st["roles"] if r["name"] == "worker-2")
    os.kill(w2["pid"], signal.SIGKILL)
    states = {}
    for _ in range(200):
        states = {r["name"]: r["state"] for r in status(d)["roles"]}
        if states["worker-2"] == "exited":
            break
        time.sleep(0.05)
    assert states["worker-2"] == "exited" and states["worker-1"] == "running", states

    # down: every process we started is gone, the data stays.
    r = cluster("down", f"--dir={d}", timeout=DOWN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    st = status(d)
    assert [r["state"] for r in st["roles"]] == ["stopped"] * 6
    for role in st["roles"]:
        assert start_time(role["pid"]) != starts[role["name"]], f"{role['name']} still runs"
    assert (d / "postgres" / "PG_VERSION").exists()

    # up again on the same data: the earlier submission is still there.
    url = up(d, port)
    st = status(d)
    check_shape(st, port, 2, 2)
    assert [r["state"] for r in st["roles"]] == ["running"] * 6
    again = requests.get(f"{url}/submissions/{token}", timeout=30).json()
    assert again["status"]["id"] == 3 and again["stdout"] == "42\n" and again["token"] == token
    r = cluster("down", f"--dir={d}", "--purge", timeout=DOWN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in d.iterdir()) == []


def test_a_queued_submission_survives_down_and_up(cluster_dir):
    """Accepted while no worker runs, across a down and an up (Redis's append-only file and
    PostgreSQL's data in DIR), judged once a worker comes."""
    d, port = cluster_dir, free_port()
    url = up(d, port, "--api=1", "--workers=1")
    # The worker dies (a crash: its record, with its languages, stays until its heartbeat
    # is stale; a worker that drains takes it away).
    worker = next(r for r in status(d)["roles"] if r["role"] == "worker")
    os.kill(worker["pid"], signal.SIGKILL)
    deadline = time.monotonic() + DOWN_TIMEOUT
    while start_time(worker["pid"]) is not None:
        assert time.monotonic() < deadline, "the worker did not stop"
        time.sleep(0.05)
    r = requests.post(f"{url}/submissions", timeout=30, json={"source_code": "print('later')", "language_id": 71})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert requests.get(f"{url}/submissions/{token}", timeout=30).json()["status"]["id"] == 1
    r = cluster("down", f"--dir={d}", timeout=DOWN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    url = up(d, port, "--api=1", "--workers=1")
    body = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = requests.get(f"{url}/submissions/{token}", timeout=30).json()
        if body["status"]["id"] > 2:
            break
        time.sleep(0.1)
    assert body["status"]["id"] == 3 and body["stdout"] == "later\n", body


@pytest.mark.parametrize("how", ["sigterm", "down-elsewhere"])
def test_foreground_comes_down(cluster_dir, how):
    """make cluster's mode: up stays until SIGTERM (then brings the cluster down), or until
    a `cluster down` from another terminal (which the foreground up must not block)."""
    d, port = cluster_dir, free_port()
    p = subprocess.Popen([str(CODERUNNER), "cluster", "up", f"--dir={d}", f"--port={port}", "--api=1",
                          "--workers=1", "--slots=1", "--foreground"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == f"http://127.0.0.1:{port}"
        st = status(d)
        check_shape(st, port, 1, 1)
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=30).status_code == 200
        if how == "sigterm":
            p.send_signal(signal.SIGTERM)
        else:
            r = cluster("down", f"--dir={d}", timeout=DOWN_TIMEOUT)
            assert r.returncode == 0, r.stderr
        assert p.wait(timeout=DOWN_TIMEOUT) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert [r["state"] for r in status(d)["roles"]] == ["stopped"] * 4


def test_errors_are_one_line(cluster_dir):
    d = cluster_dir
    cases = [
        (["status", f"--dir={d}"], 2, "no cluster in"),
        (["down", f"--dir={d}"], 2, "no cluster in"),
        (["status", "--dir=/nonexistent/cluster"], 2, "/nonexistent/cluster"),
        (["up"], 1, "--dir=DIR is required"),
        (["up", f"--dir={d}", "--api=0"], 1, "--api"),
        (["up", f"--dir={d}", "--workers=17"], 1, "--workers"),
        (["up", f"--dir={d}", "--port=70000"], 1, "--port"),
        (["up", f"--dir={d}", "--purge"], 1, "takes no --purge"),
        (["down", f"--dir={d}", "--json"], 1, "takes no --json"),
        (["sideways", f"--dir={d}"], 1, "unknown command"),
        (["up", f"--dir={d}", "--bogus"], 1, "unknown option"),
    ]
    for args, code, words in cases:
        r = cluster(*args)
        assert r.returncode == code, (args, r.returncode, r.stderr)
        assert words in r.stderr and r.stderr.count("\n") == 1, (args, r.stderr)
    (d / "cluster.state").write_text("not a state file\n")
    r = cluster("status", f"--dir={d}")
    assert r.returncode == 2 and "not a cluster state file" in r.stderr
    (d / "cluster.state").unlink()

    # A public port in use: refused before anything starts.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = cluster("up", f"--dir={d}", f"--port={s.getsockname()[1]}", timeout=UP_TIMEOUT)
    assert r.returncode == 2 and "in use" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (d / "cluster.state").exists()
    assert not list((d / "logs").glob("*.log"))
