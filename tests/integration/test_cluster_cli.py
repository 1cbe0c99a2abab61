"""coderunner cluster up/status/down against the real roles: Redis, PostgreSQL, FerretDB (when
installed and the gateway speaks MongoDB), API nodes, workers and a gateway as local
processes. A submission goes through the gateway's public URL with a key made with the
configuration file `up` wrote, and is judged by a worker; the API nodes refuse whatever
does not come through the gateway; down stops everything; up again reuses the data, the keys
and the secrets, and the submission is still there. Skipped when this build has no `coderunner
api` role, or redis-server / PostgreSQL are not installed."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from api_helpers import free_port
from conftest import CODERUNNER
from cluster_cli_helpers import (  # noqa: F401 (cluster_dir: a fixture)
    DOWN_TIMEOUT, UP_TIMEOUT, cluster, cluster_dir, conf, roles_available, status)
from pg_helpers import find_bindir
from redis_helpers import find_redis_server
from sse_helpers import EventStream
from test_api_piston_connect import ECHO
from ws_helpers import WebSocket


def _meta():
    """mongo when FerretDB is installed and this gateway has a MongoDB backend, else sqlite."""
    ferretdb = os.environ.get("CODERUNNER_FERRETDB") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "coderunner/ferretdb-v1.24.2/ferretdb")
    if not os.access(ferretdb, os.X_OK) and not shutil.which("ferretdb"):
        return "sqlite"
    # A gateway without the backend refuses the URL at once; one with it tries to connect.
    r = subprocess.run([str(CODERUNNER), "gateway", "keys", "list", "--meta=mongodb://127.0.0.1:1/x"],
                       capture_output=True, text=True, timeout=120)
    return "sqlite" if "invalid metadata url" in r.stderr else "mongo"


META = _meta()

pytestmark = [
    pytest.mark.skipif(not roles_available(), reason="this build has no `coderunner api` role"),
    pytest.mark.skipif(not find_redis_server(), reason="redis-server is not installed"),
    pytest.mark.skipif(not find_bindir(), reason="the PostgreSQL server programs are not installed"),
]


@pytest.fixture(autouse=True)
def no_leftover_box_processes():
    """Overrides conftest's check: on a shared machine other users' boxes would fail it;
    test_down_stops_everything checks this cluster's own processes instead."""
    yield


def start_time(pid):
    """Field 22 of /proc/PID/stat, or None when the pid is gone or a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return None if fields[0] in ("Z", "X") else int(fields[19])


def up(d, port, *extra, meta=META):
    """cluster up: the public URL, and the gateway configuration it says to make keys with."""
    r = cluster("up", f"--dir={d}", f"--port={port}", "--slots=1", f"--meta={meta}", *extra, timeout=UP_TIMEOUT)
    assert r.returncode == 0, f"cluster up failed: {r.stderr}\n" + "\n".join(
        f"== {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in sorted((d / "logs").glob("*.log")))
    m = re.search(r"coderunner gateway keys create --config=(\S+) --name=NAME", r.stderr)
    assert m, r.stderr
    return r.stdout.strip(), m.group(1)


def n_roles(n_api, n_workers, n_gateways=1, meta=META):
    return 2 + (meta == "mongo") + n_api + n_workers + n_gateways


def check_shape(st, d, port, n_api, n_workers, n_gateways=1, meta=META):
    assert list(st) == ["public_url", "meta", "roles"]
    assert st["public_url"] == f"http://127.0.0.1:{port}"
    if meta == "mongo":
        assert st["meta"].startswith("mongodb://127.0.0.1:"), st
    else:
        assert st["meta"] == f"sqlite:{d}/gateway/meta.db", st
    names = [r["name"] for r in st["roles"]]
    assert names == ["redis", "postgres"] + (["mongo"] if meta == "mongo" else []) + \
        [f"api-{i + 1}" for i in range(n_api)] + [f"worker-{i + 1}" for i in range(n_workers)] + \
        [f"gateway-{i + 1}" for i in range(n_gateways)]
    scheme = {"redis": "redis://127.0.0.1:", "postgres": "postgres://", "mongo": "mongodb://127.0.0.1:",
              "api": "http://127.0.0.1:", "gateway": "http://127.0.0.1:"}
    for r in st["roles"]:
        if r["role"] == "worker":
            assert list(r) == ["name", "role", "pid", "config", "state"], r
        elif r["role"] in ("api", "gateway"):
            assert list(r) == ["name", "role", "pid", "url", "config", "state"], r
        else:
            assert list(r) == ["name", "role", "pid", "url", "state"], r
        if "url" in r:
            assert r["url"].startswith(scheme[r["role"]]), r
        if "config" in r:
            # Its own file, written by up, readable by root alone (the secrets are there).
            assert r["config"] == str(d / "config" / f"{r['name']}.conf"), r
            assert os.stat(r["config"]).st_mode & 0o777 == 0o600, r
        assert isinstance(r["pid"], int) and r["pid"] > 0
        assert r["role"] == r["name"].split("-")[0]
    gw1 = next(r for r in st["roles"] if r["name"] == "gateway-1")
    assert gw1["url"] == st["public_url"]
    assert all(r["url"] != st["public_url"] for r in st["roles"] if r["role"] == "api")
    assert st["meta"] == next((r["url"] for r in st["roles"] if r["role"] == "mongo"), st["meta"])
    assert len({r["pid"] for r in st["roles"]}) == len(st["roles"])


def make_key(config, name="test"):
    r = subprocess.run([str(CODERUNNER), "gateway", "keys", "create", f"--config={config}", f"--name={name}"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    key = r.stdout.strip()
    assert key.startswith("cr_"), r.stdout
    return {"X-Auth-Token": key}


def test_up_submit_down_up_again(cluster_dir):
    d, port = cluster_dir, free_port()
    url, gw_conf = up(d, port)
    assert url == f"http://127.0.0.1:{port}"
    st = status(d)
    check_shape(st, d, port, 2, 2)
    assert [r["state"] for r in st["roles"]] == ["running"] * n_roles(2, 2)
    key = make_key(gw_conf)
    internal = {"X-Coderunner-Internal": conf(gw_conf)["internal_secret"]}
    starts = {r["name"]: start_time(r["pid"]) for r in st["roles"]}
    assert None not in starts.values()

    # A second up on a running cluster is refused, in one line.
    again = cluster("up", f"--dir={d}", f"--port={free_port()}")
    assert again.returncode != 0
    assert "already running" in again.stderr and again.stderr.count("\n") == 1, again.stderr

    # A submission through the public URL, judged by a worker, readable from the other API node.
    r = requests.post(f"{url}/submissions?wait=true", timeout=120, headers=key,
                      json={"source_code": "print(6 * 7)", "language_id": 71})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"]["description"] == "Accepted", body
    assert body["stdout"] == "42\n"
    token = body["token"]
    api2 = next(r for r in st["roles"] if r["name"] == "api-2")["url"]
    other = requests.get(f"{api2}/submissions/{token}", timeout=30, headers=internal).json()
    assert other["status"]["id"] == 3 and other["stdout"] == "42\n"
    # Its events through the public URL (the gateway relays an API node's stream).
    events = EventStream(url, token, headers=key).all()
    assert [name for name, _ in events] == ["status", "result"] and events[1][1]["stdout"] == "42\n", events

    # An interactive run (Piston's WebSocket) on an API node: its worker reached through Redis;
    # then the same through the public URL, the gateway relaying it to an API node.
    for base, headers in ((api2, internal), (url, key)):
        ws = WebSocket(base, headers=headers)
        assert ws.status == 101
        ws.send({"type": "init", "language": "python", "version": "*", "files": [{"content": ECHO}]})
        assert [ws.recv()["type"], ws.recv()] == ["runtime", {"type": "stage", "stage": "run"}]
        ws.send({"type": "data", "stream": "stdin", "data": "hi\n"})
        assert ws.recv() == {"type": "data", "stream": "stdout", "data": "got hi\n"}
        ws.send({"type": "data", "stream": "stdin", "data": "bye\n"})
        msgs, code = ws.messages_until_close()
        assert code == 4999 and msgs[-1]["type"] == "exit" and msgs[-1]["code"] == 0, (base, msgs)

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
    assert [r["state"] for r in st["roles"]] == ["stopped"] * n_roles(2, 2)
    for role in st["roles"]:
        assert start_time(role["pid"]) != starts[role["name"]], f"{role['name']} still runs"
    assert (d / "postgres" / "PG_VERSION").exists()

    # up again on the same data: the earlier submission, the key and the secrets are still there.
    url, gw_conf2 = up(d, port)
    assert gw_conf2 == gw_conf and conf(gw_conf)["internal_secret"] == internal["X-Coderunner-Internal"]
    st = status(d)
    check_shape(st, d, port, 2, 2)
    assert [r["state"] for r in st["roles"]] == ["running"] * n_roles(2, 2)
    again = requests.get(f"{url}/submissions/{token}", timeout=30, headers=key).json()
    assert again["status"]["id"] == 3 and again["stdout"] == "42\n" and again["token"] == token
    r = cluster("down", f"--dir={d}", "--purge", timeout=DOWN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in d.iterdir()) == []


@pytest.mark.parametrize("meta", ["sqlite", "mongo"])
def test_the_gateway_is_the_door(cluster_dir, meta):
    """The public URL is the gateway's: a key made with the configuration file up printed
    submits and reads through it; the API nodes refuse whatever lacks the gateway's
    credential, and no secret is on a command line. With its metadata in SQLite, and in
    FerretDB."""
    if meta == "mongo" and META != "mongo":
        pytest.skip("FerretDB is not installed, or this gateway has no MongoDB backend")
    d, port = cluster_dir, free_port()
    url, gw_conf = up(d, port, "--api=2", "--workers=1", "--gateways=2", meta=meta)
    st = status(d)
    check_shape(st, d, port, 2, 1, 2, meta=meta)
    gateways = [r for r in st["roles"] if r["role"] == "gateway"]
    apis = [r for r in st["roles"] if r["role"] == "api"]
    assert gw_conf == gateways[0]["config"]
    gw = conf(gw_conf)
    assert gw["upstream"] == ",".join(a["url"] for a in apis)
    assert gw["meta"] == st["meta"]
    assert gw["redis"] == next(r["url"] for r in st["roles"] if r["role"] == "redis")
    secret, session = gw["internal_secret"], gw["session_secret"]
    assert re.fullmatch(r"[0-9a-f]{64}", secret) and re.fullmatch(r"[0-9a-f]{64}", session) and secret != session
    for a in apis:
        c = conf(a["config"])
        assert c["authn_token"] == secret and c["authz_token"] == secret, c
    for r in st["roles"]:
        cmdline = Path(f"/proc/{r['pid']}/cmdline").read_bytes().decode(errors="replace")
        assert secret not in cmdline and session not in cmdline, (r["name"], cmdline)
        if "config" in r:
            assert f"--config={r['config']}\0" in cmdline, (r["name"], cmdline)
    # The text status says where the metadata is.
    text = cluster("status", f"--dir={d}")
    assert text.returncode == 0 and f"gateway metadata: {st['meta']}" in text.stdout, text.stdout

    key = make_key(gw_conf)
    src = {"source_code": "print(6 * 7)", "language_id": 71}
    r = requests.post(f"{url}/submissions?wait=true", timeout=120, headers=key, json=src)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"]["id"] == 3 and body["stdout"] == "42\n", body
    token = body["token"]
    # The other gateway shares the store, the key and the ownership.
    got = requests.get(f"{gateways[1]['url']}/submissions/{token}", timeout=30, headers=key)
    assert got.status_code == 200 and got.json()["stdout"] == "42\n", got.text
    # Without a key, the gateway refuses; so does every API node without the credential,
    # and it answers with it (what only the gateway has).
    assert requests.post(f"{url}/submissions", timeout=30, json=src).status_code == 401
    for a in apis:
        assert requests.post(f"{a['url']}/submissions", timeout=30, json=src).status_code == 401
        assert requests.get(f"{a['url']}/submissions/{token}", timeout=30).status_code == 401
        assert requests.get(f"{a['url']}/submissions/{token}", timeout=30, headers=key).status_code == 401
        direct = requests.get(f"{a['url']}/submissions/{token}", timeout=30,
                              headers={"X-Coderunner-Internal": secret})
        assert direct.status_code == 200 and direct.json()["stdout"] == "42\n", direct.text

    # down: nothing answers on the public port any more.
    r = cluster("down", f"--dir={d}", timeout=DOWN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert [r["state"] for r in status(d)["roles"]] == ["stopped"] * n_roles(2, 1, 2, meta=meta)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/health", timeout=5)


def test_a_queued_submission_survives_down_and_up(cluster_dir):
    """Accepted while no worker runs, across a down and an up (Redis's append-only file and
    PostgreSQL's data in DIR), judged once a worker comes."""
    d, port = cluster_dir, free_port()
    url, gw_conf = up(d, port, "--api=1", "--workers=1")
    key = make_key(gw_conf)
    # The worker dies (a crash: its record, with its languages, stays until its heartbeat
    # is stale; a worker that drains takes it away).
    worker = next(r for r in status(d)["roles"] if r["role"] == "worker")
    os.kill(worker["pid"], signal.SIGKILL)
    deadline = time.monotonic() + DOWN_TIMEOUT
    while start_time(worker["pid"]) is not None:
        assert time.monotonic() < deadline, "the worker did not stop"
        time.sleep(0.05)
    r = requests.post(f"{url}/submissions", timeout=30, headers=key,
                      json={"source_code": "print('later')", "language_id": 71})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert requests.get(f"{url}/submissions/{token}", timeout=30, headers=key).json()["status"]["id"] == 1
    r = cluster("down", f"--dir={d}", timeout=DOWN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    url, _ = up(d, port, "--api=1", "--workers=1")
    body = {}
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = requests.get(f"{url}/submissions/{token}", timeout=30, headers=key).json()
        if body["status"]["id"] > 2:
            break
        time.sleep(0.1)
    assert body["status"]["id"] == 3 and body["stdout"] == "later\n", body


@pytest.mark.parametrize("how", ["sigterm", "down-elsewhere"])
def test_foreground_comes_down(cluster_dir, how):
    """make cluster's mode: up stays until SIGTERM (then brings the cluster down), or until
    a `cluster down` from another terminal (which the foreground up must not block). The
    operator's CODERUNNER_* environment, which the roles inherit, does not override what up
    configures them with."""
    d, port = cluster_dir, free_port()
    env = {**os.environ, "CODERUNNER_PORT": "1", "CODERUNNER_STORE": "postgres://nobody@127.0.0.1:1/none",
           "CODERUNNER_UPSTREAM": "http://127.0.0.1:1"}
    p = subprocess.Popen([str(CODERUNNER), "cluster", "up", f"--dir={d}", f"--port={port}", "--api=1",
                          "--workers=1", "--slots=1", f"--meta={META}", "--foreground"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert p.stdout.readline().strip() == f"http://127.0.0.1:{port}"
        st = status(d)
        check_shape(st, d, port, 1, 1)
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
    assert [r["state"] for r in status(d)["roles"]] == ["stopped"] * n_roles(1, 1)


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
        (["up", f"--dir={d}", "--gateways=0"], 1, "--gateways"),
        (["up", f"--dir={d}/a b"], 2, "has blanks"),
        (["up", f"--dir={d}", "--meta=mysql"], 1, "--meta"),
        (["status", f"--dir={d}", "--meta=sqlite"], 1, "takes no --meta"),
        (["down", f"--dir={d}", "--gateways=2"], 1, "takes no --gateways"),
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

    # --meta=mongo without FerretDB: refused before anything starts (auto would use SQLite).
    r = subprocess.run([str(CODERUNNER), "cluster", "up", f"--dir={d}", f"--port={free_port()}", "--meta=mongo"],
                       capture_output=True, text=True, timeout=60,
                       env={**os.environ, "CODERUNNER_FERRETDB": str(d / "no-ferretdb")})
    assert r.returncode == 2 and "FerretDB is not installed" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (d / "cluster.state").exists() and not (d / "config").exists()

    # A public port in use: refused before anything starts.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = cluster("up", f"--dir={d}", f"--port={s.getsockname()[1]}", timeout=UP_TIMEOUT)
    assert r.returncode == 2 and "in use" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (d / "cluster.state").exists()
    assert not list((d / "logs").glob("*.log"))
