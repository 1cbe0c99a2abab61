"""Networked runs (`box run --net`, the API's enable_network): egress to the internet only.

The test builds its own small world in network namespaces, with addresses in 198.18.0.0/15
only: an "internet" namespace serving TCP at 198.18.0.1, and a "host" namespace (198.18.0.2,
default route through the internet) in which the sandbox runs as it would on a server. The
box must reach the internet when the operator allows 198.18.0.1 (the benchmark range is on
the built-in deny list), and never the host's loopback, the host's own addresses, the host's
abstract unix sockets, or another box running at the same time."""

import json
import os
import select
import shutil
import signal
import subprocess

import pytest

from cluster_helpers import process_tree
from conftest import (CLI_TIMEOUT, CODERUNNER, box_daemon, check_record, helper, result_lines, run_box, run_cli,
                      wait_for)

INTERNET = "198.18.0.1"
HOST = "198.18.0.2"
PORT = 8080
NETWORK_ERRNOS = {"ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "EACCES", "EPERM"}

# A listener run in a namespace: tells "ready", then "accepted" for each connection.
LISTENER = r"""
import socket, sys
kind, addr = sys.argv[1], sys.argv[2]
if kind == "tcp":
    host, port = addr.rsplit(":", 1)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
else:
    s = socket.socket(socket.AF_UNIX)
    s.bind("\0" + addr)
s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    print("accepted", flush=True)
    c.close()
"""


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=CLI_TIMEOUT)


@pytest.fixture(scope="module")
def world():
    """{"internet": netns name, "host": netns name}; removed afterwards."""
    for tool, package in (("pasta", "passt"), ("nft", "nftables"), ("ip", "iproute2")):
        if not shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin"):
            pytest.fail(f"{tool} is missing (Debian package {package}: make deps-build)")
    tag = f"crt{os.getpid() % 100000}"
    inet, host = f"{tag}i", f"{tag}h"
    made = []
    try:
        for ns in (inet, host):
            ip("netns", "add", ns)
            made.append(ns)
        ip("link", "add", f"{tag}a", "netns", host, "type", "veth", "peer", "name", f"{tag}b", "netns", inet)
        ip("-n", host, "addr", "add", f"{HOST}/24", "dev", f"{tag}a")
        ip("-n", inet, "addr", "add", f"{INTERNET}/24", "dev", f"{tag}b")
        for ns, dev in ((host, f"{tag}a"), (inet, f"{tag}b")):
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "set", dev, "up")
        ip("-n", host, "route", "add", "default", "via", INTERNET)
        yield {"internet": inet, "host": host}
    finally:
        for ns in made:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=CLI_TIMEOUT)


class Listener:
    """A listener in namespace ns; stop() returns how many connections it accepted."""

    def __init__(self, ns, kind, addr):
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c", LISTENER, kind, addr],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        ready, _, _ = select.select([self.proc.stdout], [], [], CLI_TIMEOUT)
        line = self.proc.stdout.readline() if ready else b""
        if line != b"ready\n":
            self.proc.kill()
            pytest.fail(f"listener {kind} {addr} in {ns} did not start: {self.proc.stderr.read()!r}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=CLI_TIMEOUT)
        return out.decode().count("accepted")


@pytest.fixture
def listeners(world):
    started = []

    def start(where, kind, addr):
        started.append(Listener(world[where], kind, addr))
        return started[-1]

    yield start
    for lst in started:
        if lst.proc.poll() is None:
            lst.proc.kill()
            lst.proc.wait()


def in_host(world):
    return ("ip", "netns", "exec", world["host"])


def probe(world, name, arg, *options, connect=None):
    prefix = () if connect else in_host(world)
    record, cp = run_box([helper("probe"), name, arg], "--net", "--wall-time=10", *options, connect=connect,
                         prefix=prefix)
    assert record["status"] == "OK", (record, cp.stderr)
    return result_lines(cp.stdout).get(name)


@pytest.fixture
def daemon(world, tmp_path):
    """A supervisor (2 slots) serving from the host namespace, allowing the internet."""
    with box_daemon(tmp_path, f"--net-allow={INTERNET}/32", prefix=in_host(world)) as sock:
        yield sock


@pytest.mark.parametrize("through", ["cli", "supervisor"])
def test_internet_is_reachable_when_allowed(world, listeners, through, request):
    connect = request.getfixturevalue("daemon") if through == "supervisor" else None
    internet = listeners("internet", "tcp", f"{INTERNET}:{PORT}")
    # The same port on the host's loopback: if the gateway's address were mapped to it,
    # this one would answer instead.
    host_lo = listeners("host", "tcp", f"127.0.0.1:{PORT}")
    options = () if connect else (f"--net-allow={INTERNET}/32",)
    assert probe(world, "connect-tcp", f"{INTERNET}:{PORT}", *options, connect=connect) == ("ok", None)
    assert internet.stop() == 1
    assert host_lo.stop() == 0


def test_deny_list_refuses_the_benchmark_range_by_default(world, listeners):
    internet = listeners("internet", "tcp", f"{INTERNET}:{PORT}")
    outcome = probe(world, "connect-tcp", f"{INTERNET}:{PORT}")
    assert outcome and outcome[0] == "fail" and outcome[1] in NETWORK_ERRNOS, outcome
    assert internet.stop() == 0


def test_operator_deny_list_refuses_an_address(world, listeners):
    internet = listeners("internet", "tcp", f"{INTERNET}:{PORT}")
    # The operator's deny list wins over the operator's allow list.
    outcome = probe(world, "connect-tcp", f"{INTERNET}:{PORT}", "--net-allow=198.18.0.0/15",
                    f"--net-deny={INTERNET}/32")
    assert outcome and outcome[0] == "fail" and outcome[1] in NETWORK_ERRNOS, outcome
    assert internet.stop() == 0


@pytest.mark.parametrize("target", ["127.0.0.1", HOST])
def test_host_is_unreachable_even_when_allowed(world, listeners, target):
    """The host's loopback and the host's own addresses, with the whole test range and
    loopback allowed by the operator: the host's addresses are refused first."""
    lo = listeners("host", "tcp", f"127.0.0.1:{PORT}")
    any_addr = listeners("host", "tcp", f"0.0.0.0:{PORT + 1}")
    port = PORT if target == "127.0.0.1" else PORT + 1
    outcome = probe(world, "connect-tcp", f"{target}:{port}", "--net-allow=198.18.0.0/15",
                    "--net-allow=127.0.0.0/8")
    assert outcome and outcome[0] == "fail" and outcome[1] in NETWORK_ERRNOS, outcome
    assert lo.stop() == 0 and any_addr.stop() == 0


@pytest.mark.parametrize("through", ["cli", "supervisor"])
def test_host_abstract_socket_is_unreachable(world, listeners, through, request):
    connect = request.getfixturevalue("daemon") if through == "supervisor" else None
    name = f"coderunner-test-{os.getpid()}"
    lst = listeners("host", "abstract", name)
    assert probe(world, "connect-abstract", name, connect=connect) == ("fail", "ECONNREFUSED")
    assert lst.stop() == 0


# Box A listens on TCP (every address) and on an abstract socket, then waits for B; B tries
# to reach A's listeners. A reports whether anything arrived.
_PEER = r"""
import os, socket, sys, time
role, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + 8
def wait(path):
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            sys.exit(9)
        time.sleep(0.01)
if role == "a":
    t = socket.socket(); t.bind(("0.0.0.0", port)); t.listen(8); t.setblocking(False)
    u = socket.socket(socket.AF_UNIX); u.bind("\0" + name); u.listen(8); u.setblocking(False)
    open("/sync/a", "w").close()
    wait("/sync/b")
    got = 0
    for s in (t, u):
        try:
            s.accept(); got += 1
        except BlockingIOError:
            pass
    print("accepted", got)
else:
    wait("/sync/a")
    for target in ("127.0.0.1", "%s"):
        try:
            socket.create_connection((target, port), timeout=2); print("reached", target)
        except OSError as e:
            print("refused", target, e.errno)
    try:
        u = socket.socket(socket.AF_UNIX); u.connect("\0" + name); print("reached abstract")
    except OSError as e:
        print("refused abstract", e.errno)
    open("/sync/b", "w").close()
""" % HOST


@pytest.mark.parametrize("through", ["cli", "supervisor"])
def test_two_networked_boxes_cannot_reach_each_other(world, tmp_path, through, request):
    connect = request.getfixturevalue("daemon") if through == "supervisor" else None
    sync = tmp_path / "sync"
    sync.mkdir()
    sync.chmod(0o777)
    name = f"coderunner-peer-{os.getpid()}"
    runs = []
    for role in ("a", "b"):
        result = tmp_path / f"{role}.json"
        cmd = [str(CODERUNNER), "box", "run", f"--result={result}", "--quiet", f"--dir={sync}:/sync:rw", "--net",
               "--wall-time=10"]
        if connect:
            cmd.append(f"--connect={connect}")
        else:
            cmd = [*in_host(world), *cmd]
        cmd += ["--", "/usr/bin/python3", "-c", _PEER, role, str(PORT), name]
        runs.append((subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE), result))
    outs = []
    for proc, result in runs:
        out, err = proc.communicate(timeout=CLI_TIMEOUT)
        record = json.loads(result.read_text())
        check_record(record)
        assert record["status"] == "OK", (record, out, err)
        outs.append(out.decode())
    assert outs[0].split() == ["accepted", "0"], outs
    lines = outs[1].splitlines()
    assert len(lines) == 3 and all(line.startswith("refused ") for line in lines), outs


def test_cli_rejects_a_bad_cidr():
    for bad in ("10.0.0.0/33", "not-an-address", "::1/129", "/8", "1.2.3.4/"):
        cp = run_cli(["box", "run", f"--net-allow={bad}", "--", "/bin/true"])
        assert cp.returncode == 1 and b"--net-allow" in cp.stderr, (bad, cp.stderr)
        cp = run_cli(["box", "daemon", f"--net-deny={bad}"])
        assert cp.returncode == 1 and b"--net-deny" in cp.stderr, (bad, cp.stderr)


def test_policy_is_the_supervisors_with_connect(tmp_path):
    cp = run_cli(["box", "run", f"--connect={tmp_path}/none.sock", "--net-allow=198.18.0.1", "--", "/bin/true"])
    assert cp.returncode == 1 and b"box daemon" in cp.stderr, cp.stderr


def read_proc(pid, name):
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            return f.read()
    except OSError:
        return b""


def gone(pid):
    stat = read_proc(pid, "stat")
    return not stat or stat.rsplit(b")", 1)[1].split()[0] == b"Z"


def test_a_slot_whose_pasta_died_gets_a_new_one(world, listeners, tmp_path):
    internet = listeners("internet", "tcp", f"{INTERNET}:{PORT}")
    with box_daemon(tmp_path, f"--net-allow={INTERNET}/32", slots=1, prefix=in_host(world)) as sock:
        assert probe(world, "connect-tcp", f"{INTERNET}:{PORT}", connect=sock) == ("ok", None)
        pastas = [p for p in process_tree(os.getpid())[1:] if read_proc(p, "cmdline").split(b"\0")[0] == b"pasta"]
        assert len(pastas) == 1, pastas
        os.kill(pastas[0], signal.SIGKILL)  # started by this test's daemon
        assert wait_for(lambda: gone(pastas[0]), CLI_TIMEOUT)
        assert probe(world, "connect-tcp", f"{INTERNET}:{PORT}", connect=sock) == ("ok", None)
    assert internet.stop() == 2


def test_no_uplink_is_a_clear_sandbox_failure():
    """A host namespace with no route out: the run is not started, and the record says why."""
    ns = f"crt{os.getpid() % 100000}n"
    ip("netns", "add", ns)
    try:
        record, cp = run_box(["/bin/true"], "--net", "--wall-time=5", prefix=("ip", "netns", "exec", ns),
                             expect_exit=2)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=CLI_TIMEOUT)
    assert record["status"] == "XX", record
    assert record["message"].startswith("cannot set up the network: pasta: "), record


# Run in the host namespace: start `coderunner serve` on its loopback (and every address),
# submit a networked program that tries to reach the API, print the submission's result.
_THROUGH_API = r"""
import json, socket, subprocess, sys, time
import requests
exe, data, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
log = open(data + ".log", "wb")
serve = subprocess.Popen([exe, "serve", f"--port={port}", "--bind=0.0.0.0", f"--data-dir={data}", "--workers=1"],
                         stdout=log, stderr=subprocess.STDOUT)
try:
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url + "/health", timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        assert serve.poll() is None and time.monotonic() < deadline, "serve did not start"
        time.sleep(0.05)
    source = ("import socket\n"
              "for addr in ('127.0.0.1', '%s'):\n"
              "    try:\n"
              "        socket.create_connection((addr, %d), timeout=2); print('reached', addr)\n"
              "    except OSError as e:\n"
              "        print('refused', addr, e.errno)\n") % (sys.argv[4], port)
    r = requests.post(url + "/submissions", params={"wait": "true"}, timeout=90,
                      json={"source_code": source, "language_id": 71, "enable_network": True})
    print(json.dumps(r.json()))
finally:
    serve.terminate()
    serve.wait(timeout=60)
"""


def test_a_networked_submission_cannot_reach_the_api(world, tmp_path):
    """Through the whole service: serve listens on the host's loopback and on every
    address; a submission with enable_network tries both."""
    cp = subprocess.run([*in_host(world), "python3", "-c", _THROUGH_API, str(CODERUNNER), str(tmp_path / "data"),
                         str(PORT), HOST], capture_output=True, timeout=180)
    assert cp.returncode == 0, (cp.stdout, cp.stderr, (tmp_path / "data.log").read_bytes()[-3000:])
    sub = json.loads(cp.stdout.splitlines()[-1])
    assert sub["status"]["id"] == 3, sub  # Accepted: the program ran and ended normally
    lines = sub["stdout"].splitlines()
    assert [line.split()[:2] for line in lines] == [["refused", "127.0.0.1"], ["refused", HOST]], sub
