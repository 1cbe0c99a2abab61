"""deploy/compose run for real: a dockerd of the test's own (tests/deploy/dockerd.py), the
base image made with debootstrap, the project's images, the topology up, a smoke suite
through the public entry only, the topology down and the daemon's traces removed.

Skipped, with one line, where Docker cannot run (not root, packages missing: `make
test-deploy` installs them). Needs the build (CODERUNNER_BUILD, default build/), the IDE's
export (web/out) and FerretDB (tools/build-ferretdb)."""

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

import dockerd

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("CODERUNNER_BUILD", REPO / "build"))
COMPOSE_FILE = REPO / "deploy" / "compose" / "docker-compose.yml"
PROJECT = "crdeploy"
# The capabilities of deploy/systemd's worker unit (each measured there); the worker
# container must have exactly these.
WORKER_CAPS = set(re.search(r"^CapabilityBoundingSet=(.*)$",
                            (REPO / "deploy" / "systemd" / "coderunner-worker.service").read_text(), re.M)[1].split())
CAP_BITS = {"CAP_CHOWN": 0, "CAP_DAC_OVERRIDE": 1, "CAP_SETGID": 6, "CAP_SETUID": 7, "CAP_SETPCAP": 8,
            "CAP_NET_ADMIN": 12, "CAP_SYS_CHROOT": 18, "CAP_SYS_ADMIN": 21, "CAP_MKNOD": 27}
SERVICES = ["edge", "code-client", "gateway", "api-1", "api-2", "worker-1", "worker-2", "redis", "postgres", "mongo"]
INTERNAL_ONLY = {"api-1": 2358, "api-2": 2358, "redis": 6379, "postgres": 5432, "mongo": 27017}
HELLO_C = '#include <stdio.h>\nint main(void) { char n[32]; if (scanf("%31s", n) != 1) return 1; printf("hello, %s\\n", n); }\n'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except (requests.RequestException, subprocess.CalledProcessError) as e:
            last = e
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout} s (last error: {last})")


class Topology:
    def __init__(self, daemon, context, port):
        self.d = daemon
        self.context = context
        self.port = port
        self.base = f"https://127.0.0.1:{port}"
        self.cert = str(context / "tls" / "cert.pem")
        self.timings = {}

    def compose(self, *args, check=True, capture=True, timeout=1800):
        cmd = [dockerd.COMPOSE, "--project-name", PROJECT, "--env-file", str(self.context / "compose.env"),
               "-f", str(COMPOSE_FILE), *args]
        r = subprocess.run(cmd, env=self.d.env, capture_output=capture, text=True, timeout=timeout)
        if check and r.returncode:
            raise AssertionError(f"{' '.join(args)}: exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        return r

    def timed(self, name, fn):
        t = time.monotonic()
        out = fn()
        self.timings[name] = round(time.monotonic() - t, 1)
        return out

    def container(self, service):
        return f"{PROJECT}_{service}_1"

    def inspect(self, service):
        return json.loads(self.d.docker("inspect", self.container(service), capture=True).stdout)[0]

    def get(self, path, key=None, **kw):
        headers = {"X-Auth-Token": key} if key else {}
        return requests.get(self.base + path, headers=headers, verify=self.cert, timeout=30, **kw)

    def post(self, path, body, key=None):
        headers = {"X-Auth-Token": key} if key else {}
        return requests.post(self.base + path, json=body, headers=headers, verify=self.cert, timeout=150)


@pytest.fixture(scope="module")
def topo():
    why = dockerd.unavailable()
    if why:
        pytest.skip(f"Docker cannot run here: {why}")
    for f in (BUILD / "coderunner", BUILD / "coderunner-serve", REPO / "web" / "out" / "index.html"):
        if not f.exists():
            pytest.skip(f"{f} is missing (make build; make web)")
    d = dockerd.Dockerd()
    t = None
    try:
        started = time.monotonic()
        d.start()
        context = d.dir / "context"
        port = free_port()
        env = dict(os.environ, CODERUNNER_COMPOSE_PORT=str(port))
        subprocess.run([REPO / "deploy" / "compose" / "make-context", context, BUILD], env=env, check=True,
                       capture_output=True, text=True)
        t = Topology(d, context, port)
        t.timings["dockerd"] = round(time.monotonic() - started, 1)
        t.timed("base image", lambda: subprocess.run(
            [REPO / "deploy" / "compose" / "make-base-image", f"--docker={dockerd.DOCKER}"], env=d.env, check=True,
            capture_output=True, text=True, timeout=1800))
        t.timed("build", lambda: t.compose("build"))
        t.timed("up", lambda: t.compose("up", "-d"))
        # `up` returns once what others depend on is healthy; the edge is last.
        t.timed("edge ready", lambda: wait_for(
            "the edge healthy and answering",
            lambda: t.inspect("edge")["State"]["Health"]["Status"] == "healthy"
            and t.get("/statuses").status_code == 401, 120))
        yield t
        t.timed("down", lambda: t.compose("down", "--volumes"))
    finally:
        if t is not None and "down" not in t.timings:
            t.compose("logs", "--no-color", "--tail=30", check=False, capture=False)
            t.compose("down", "--volumes", check=False)
        problems = d.stop()
        if t is not None:
            print(f"\ncompose timings (s): {t.timings}")
        assert not problems, f"cleaning up after dockerd: {problems}"


@pytest.fixture(scope="module")
def key(topo):
    """An API key made the operator's way: the gateway's own command in its container."""
    r = topo.compose("exec", "-T", "gateway", "coderunner", "gateway", "keys", "create", "--name=smoke",
                     "--scope=submit,read")
    # (docker-compose exec -T mixes the command's stderr into its stdout: the key is the
    # line the gateway prints on stdout.)
    keys = [line for line in r.stdout.splitlines() if line.startswith("cr_")]
    assert len(keys) == 1, r.stdout + r.stderr
    return keys[0]


def test_every_service_runs(topo):
    ps = topo.compose("ps", "--services", "--filter", "status=running").stdout.split()
    assert sorted(ps) == sorted(SERVICES)
    for service in SERVICES:
        health = topo.inspect(service)["State"].get("Health")
        if service.startswith("worker"):
            assert health is None  # a worker listens on nothing
        else:
            assert health and health["Status"] == "healthy", (service, health)


def test_submit_wait_and_read_back_through_the_edge(topo, key):
    r = topo.post("/submissions", {"source_code": HELLO_C, "language_id": 50, "stdin": "compose"}, key)
    assert r.status_code == 201, r.text
    token = r.json()["token"]

    def finished():
        s = topo.get(f"/submissions/{token}", key).json()
        return s if s["status"]["id"] > 2 else None

    s = wait_for("the C submission judged", finished, 120)
    assert s["status"]["id"] == 3, s
    assert s["stdout"] == "hello, compose\n"
    # and Python, with wait=true, on the other route of the same entry
    r = topo.post("/submissions?wait=true", {"source_code": "print(6 * 7)", "language_id": 71}, key)
    assert r.status_code == 201, r.text
    assert r.json()["status"]["id"] == 3 and r.json()["stdout"] == "42\n", r.text


def test_the_sandbox_limits_hold_in_the_worker_container(topo, key):
    """The delegated cgroup works: the CPU time of a forked child is counted (a fallback to
    the wall clock would not kill it at the limit) and the memory limit is the cgroup's."""
    spin = {"source_code": "import os\nos.fork()\nwhile True: pass\n", "language_id": 71,
            "cpu_time_limit": 0.5, "cpu_extra_time": 0, "wall_time_limit": 10}
    r = topo.post("/submissions?wait=true", spin, key).json()
    assert r["status"]["id"] == 5, r
    assert float(r["time"]) < 2.0, r
    big = {"source_code": "x = bytearray(200 * 1024 * 1024)\nprint(len(x))\n", "language_id": 71,
           "memory_limit": 64000}
    r = topo.post("/submissions?wait=true", big, key).json()
    assert r["status"]["id"] != 3 and r["message"] == "Memory limit exceeded", r


def test_the_public_entry_wants_a_key_and_hides_internal_routes(topo, key):
    assert topo.get("/languages").status_code == 401
    assert topo.get("/languages", key).status_code == 200
    for path in ("/metrics", "/health", "/workers/../metrics"):
        assert topo.get(path, key).status_code == 404, path
    # the code-client's page, through the edge
    r = topo.get("/")
    assert r.status_code == 200 and "<html" in r.text.lower()


def test_only_the_edge_is_published(topo):
    for service in SERVICES:
        ports = topo.inspect(service)["HostConfig"]["PortBindings"] or {}
        if service == "edge":
            assert ports == {"8443/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(topo.port)}]}
        else:
            assert ports == {}, service


def test_internal_services_are_unreachable_from_the_public_network(topo):
    """A container on the public network alone (where the edge and the code-client are)
    can reach the gateway's front but neither resolve nor connect to what is internal."""
    internal = f"{PROJECT}_internal"
    addresses = {s: topo.inspect(s)["NetworkSettings"]["Networks"][internal]["IPAddress"] for s in INTERNAL_ONLY}
    lines = ["try() { timeout 5 bash -c \"</dev/tcp/$1/$2\" 2>/dev/null && echo open || echo closed; }",
             "echo gateway $(try gateway 2358)"]
    for service, port in INTERNAL_ONLY.items():
        lines.append(f"echo {service}-name $(getent hosts {service} >/dev/null && echo resolves || echo unknown)")
        lines.append(f"echo {service}-address $(try {addresses[service]} {port})")
    r = topo.d.docker("run", "--rm", "--network", f"{PROJECT}_public", "--entrypoint", "bash",
                      "coderunner-compose/edge", "-c", "\n".join(lines), capture=True)
    seen = dict(line.split(" ", 1) for line in r.stdout.splitlines())
    assert seen.pop("gateway") == "open", r.stdout  # the probe itself works
    assert seen == {k: v for s in INTERNAL_ONLY for k, v in ((f"{s}-name", "unknown"), (f"{s}-address", "closed"))}


def test_worker_has_the_sandbox_privileges_and_no_more(topo):
    w = topo.inspect("worker-1")
    hc = w["HostConfig"]
    assert hc["Privileged"] is False
    assert hc["CapDrop"] == ["ALL"]
    assert {"CAP_" + c if not c.startswith("CAP_") else c for c in hc["CapAdd"]} == WORKER_CAPS
    assert "seccomp=unconfined" in hc["SecurityOpt"] or "seccomp:unconfined" in hc["SecurityOpt"]
    status = topo.d.docker("exec", topo.container("worker-1"), "cat", "/proc/self/status", capture=True).stdout
    bnd = int(next(l.split()[1] for l in status.splitlines() if l.startswith("CapBnd:")), 16)
    assert bnd == sum(1 << CAP_BITS[c] for c in WORKER_CAPS), hex(bnd)


def test_every_other_service_is_unprivileged(topo):
    for service in SERVICES:
        if service.startswith("worker"):
            continue
        info = topo.inspect(service)
        hc = info["HostConfig"]
        assert info["Config"]["User"] not in ("", "0", "root"), service
        assert hc["CapDrop"] == ["ALL"] and not hc["CapAdd"], service
        assert "no-new-privileges:true" in hc["SecurityOpt"], service
        assert hc["ReadonlyRootfs"] is True, service


def test_init_restart_and_volumes(topo):
    for service in SERVICES:
        hc = topo.inspect(service)["HostConfig"]
        assert hc["Init"] is True, service
        assert hc["RestartPolicy"]["Name"] == "unless-stopped", service
    for service, path in (("redis", "/data"), ("postgres", "/var/lib/postgresql/data"), ("mongo", "/data")):
        mounts = {m["Destination"]: m for m in topo.inspect(service)["Mounts"]}
        assert mounts[path]["Type"] == "volume", service


def test_a_stopped_gateway_restarts_and_keys_survive_in_mongodb(topo, key):
    """The restart policy brings back a gateway whose process died, and its keys are in
    the MongoDB volume, not in the gateway."""
    # Every process of the container but its init (tini, PID 1), which then exits too.
    topo.compose("exec", "-T", "gateway", "sh", "-c", "kill -KILL -1", check=False)
    wait_for("the gateway restarted and healthy again",
             lambda: topo.inspect("gateway")["RestartCount"] >= 1
             and topo.inspect("gateway")["State"].get("Health", {}).get("Status") == "healthy", 120)
    assert wait_for("a key working again", lambda: topo.get("/statuses", key).status_code == 200, 60)


WORKER_RUN = ["--rm", "--cap-drop=ALL", *[f"--cap-add={c}" for c in sorted(WORKER_CAPS)], "--cgroupns=private",
              "coderunner-compose/worker", "worker-start", "coderunner", "box", "run", "--time=1", "--", "/bin/true"]


def test_the_worker_needs_seccomp_unconfined(topo):
    """Why the worker's seccomp is unconfined: with Docker's default profile the sandbox
    cannot start a box; with the compose file's settings it can."""
    ok = topo.d.docker("run", "--security-opt=seccomp=unconfined", *WORKER_RUN, check=False, capture=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    default = topo.d.docker("run", *WORKER_RUN, check=False, capture=True)
    assert default.returncode != 0, default.stdout + default.stderr
    print(f"\nwith Docker's default seccomp profile: {(default.stdout + default.stderr).strip()}")


def test_data_outlives_the_containers(topo, key):
    """down (without --volumes) and up again: the key (MongoDB's volume) and a finished
    submission (PostgreSQL's) are still there."""
    r = topo.post("/submissions?wait=true", {"source_code": "print('kept')", "language_id": 71}, key)
    logs = topo.compose("logs", "--no-color", "--tail=20", "worker-1", "worker-2", check=False).stdout
    assert r.status_code == 201 and r.json()["status"]["id"] == 3, r.text + "\n" + logs
    token = r.json()["token"]
    topo.compose("down")
    assert topo.compose("ps", "-q").stdout.strip() == ""
    topo.compose("up", "-d")
    wait_for("the edge healthy again", lambda: topo.inspect("edge")["State"]["Health"]["Status"] == "healthy", 120)
    s = wait_for("the submission read back", lambda: topo.get(f"/submissions/{token}", key).json(), 60)
    assert s["status"]["id"] == 3 and s["stdout"] == "kept\n", s
