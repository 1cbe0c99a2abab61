"""coderunner cluster up --hosts: each role in a network namespace of its own on the cluster's
bridge, with an address in 198.18.0.0/24 and an nftables filter. A submission goes in through
the public entry on 127.0.0.1 and is judged; then every pair of hosts is probed (a TCP connect
from inside one namespace to the other's service, with a short timeout): exactly the flows of
docs/DEPLOYMENT.md's --hosts table connect, every other one is refused. down (also after every
process was killed) leaves no namespace, link or process. Root only."""

import json
import os
import pwd
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
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
SUBNET = "198.18.0."
DOC = Path(__file__).resolve().parents[2] / "docs" / "DEPLOYMENT.md"
# The ports of the roles on their hosts (the firewall table's).
PORTS = {"gateway": 2358, "api": 2358, "redis": 6379, "postgres": 5432, "mongo": 27017}


pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="--hosts makes network namespaces: root only"),
    pytest.mark.skipif(not (shutil.which("ip") or os.access("/usr/sbin/ip", os.X_OK)),
                       reason="ip (iproute2) is not installed"),
    pytest.mark.skipif(not (shutil.which("nft") or os.access("/usr/sbin/nft", os.X_OK)),
                       reason="nft (nftables) is not installed"),
    pytest.mark.skipif(not shutil.which("nsenter"), reason="nsenter (util-linux) is not installed"),
    pytest.mark.skipif(not roles_available(), reason="this build has no `coderunner api` role"),
    pytest.mark.skipif(not find_redis_server(), reason="redis-server is not installed"),
    pytest.mark.skipif(not find_bindir(), reason="the PostgreSQL server programs are not installed"),
]

IP = shutil.which("ip") or "/usr/sbin/ip"

# Run in a namespace: connect to each (name, address, port) with a short timeout; what happened.
PROBE = r"""
import json, socket, sys
out = {}
for name, address, port in json.loads(sys.argv[1]):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((address, port))
        out[name] = "connected"
    except OSError as e:
        out[name] = type(e).__name__
    finally:
        s.close()
print(json.dumps(out))
"""


# Run in a host: print "ready", then the IPv4 sources of the UDP datagrams to PORT that cross
# eth0, until one from LAST came (JSON).
SNIFF = r"""
import json, socket, struct, sys
port, last = int(sys.argv[1]), sys.argv[2]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800))
s.bind(("eth0", 0))
s.settimeout(60)
print("ready", flush=True)
seen = []
while not seen or seen[-1] != last:
    ip = s.recv(65535)[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] == 17 and struct.unpack("!H", ip[ihl + 2:ihl + 4])[0] == port:
        seen.append(socket.inet_ntoa(ip[12:16]))
print(json.dumps(seen))
"""

# Run in a host: send a UDP datagram to DST:PORT from each source address given, in order, as
# raw IPv4 (no address of the host's needed: a forged source).
FORGE = r"""
import socket, struct, sys
dst, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for src in sys.argv[3:]:
    udp = struct.pack("!HHHH", 40000, port, 8 + 4, 0) + b"spam"
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    s.sendto(ip + udp, (dst, 0))
"""


@pytest.fixture(autouse=True)
def no_leftover_box_processes():
    """Overrides conftest's check (other users' boxes on a shared machine): the tests here
    check their own cluster's processes."""
    yield


def ns_id(path):
    st = os.stat(path)
    return st.st_dev, st.st_ino


def processes_in(ids):
    """The pids whose network namespace is one of ids."""
    found = []
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                st = os.stat(p / "ns" / "net")
            except OSError:
                continue
            if (st.st_dev, st.st_ino) in ids:
                found.append(int(p.name))
    return found


def kill_all(pids):
    """SIGKILL, then wait (with a deadline) until none is left, not even as a zombie (a
    PostgreSQL whose old postmaster's pid still exists refuses its data directory): a crash
    of everything."""
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 60
    while any(Path(f"/proc/{p}").exists() for p in pids):
        assert time.monotonic() < deadline, "killed processes are still there"
        time.sleep(0.05)


def our_netns(net_id):
    return sorted(p.name for p in Path("/run/netns").glob(f"coderunner-{net_id}-*")) if net_id else []


def doc_flows():
    """The (from, to, port) rows of docs/DEPLOYMENT.md's table for cluster up --hosts."""
    text = DOC.read_text()
    start = text.index("<!-- cluster-hosts-flows")
    flows = set()
    for line in text[start:].splitlines()[1:]:
        if not line.startswith("|"):
            if flows:
                break
            continue
        cells = [c.strip().strip("`") for c in line.strip("|").split("|")]
        if cells[0] in ("from", "---"):
            continue
        flows.add((cells[0].split()[0], cells[1].split()[0], int(cells[2].split("/")[0])))
    assert flows, "no --hosts table in docs/DEPLOYMENT.md"
    return flows


def probe(netns, targets):
    r = subprocess.run(["nsenter", f"--net={netns}", sys.executable, "-c", PROBE, json.dumps(targets)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture
def public_ns():
    """A namespace of the test's own, "public": attached to a cluster's bridge by attach()."""
    name = f"crtest-{os.getpid()}-{secrets.token_hex(3)}"
    subprocess.run([IP, "netns", "add", name], check=True)
    yield name
    subprocess.run([IP, "netns", "del", name], check=False)


def attach(name, network, address):
    """A veth from the cluster's bridge (in its switch namespace) to the namespace name."""
    sw = Path(network["switch"]).name
    port = f"t{secrets.token_hex(3)}"
    for cmd in ([IP, "-n", sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", name],
                [IP, "-n", sw, "link", "set", port, "master", network["bridge"], "up"],
                [IP, "-n", name, "address", "add", f"{address}/24", "dev", "eth0"],
                [IP, "-n", name, "link", "set", "eth0", "up"]):
        subprocess.run(cmd, check=True, capture_output=True)


def up(d, port, *extra):
    r = cluster("up", f"--dir={d}", f"--port={port}", "--hosts", "--slots=1", *extra, timeout=UP_TIMEOUT)
    assert r.returncode == 0, f"cluster up --hosts failed: {r.stderr}\n" + "\n".join(
        f"== {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in sorted((d / "logs").glob("*.log")))
    m = re.search(r"a key: nsenter --net=(\S+) coderunner gateway keys create --config=(\S+) --name=NAME", r.stderr)
    assert m, r.stderr
    return r.stdout.strip(), m.group(1), m.group(2)


def make_key(netns, config):
    r = subprocess.run(["nsenter", f"--net={netns}", str(CODERUNNER), "gateway", "keys", "create",
                        f"--config={config}", "--name=hosts"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return {"X-Auth-Token": r.stdout.strip()}


def check_hosts(st, d, port):
    """Every role on its host: its namespace, its address, its processes in it, its
    configuration pointing at the others' addresses."""
    net = st["network"]
    assert net["subnet"] == "198.18.0.0/24" and re.fullmatch(r"[0-9a-f]{8}", net["id"]), net
    assert net["switch"] == f"/run/netns/coderunner-{net['id']}-switch"
    assert net["bridge"] == f"crbr{net['id']}"
    roles = {r["name"]: r for r in st["roles"]}
    addresses = [r["address"] for r in st["roles"]]
    assert len(set(addresses)) == len(addresses)
    for r in st["roles"]:
        assert r["netns"] == f"/run/netns/coderunner-{net['id']}-{r['name']}", r
        assert r["address"].startswith(SUBNET) and 0 < int(r["address"].split(".")[3]) < 100, r
        if r["role"] != "entry":  # the forwarder listens in ours first, then enters its host
            assert ns_id(f"/proc/{r['pid']}/ns/net") == ns_id(r["netns"]), r["name"]
        if r["role"] in PORTS:
            assert f"{r['address']}:{PORTS[r['role']]}" in r["url"], r
    entry = roles["entry"]
    assert entry["url"] == st["public_url"] == f"http://127.0.0.1:{port}"
    assert ns_id(f"/proc/{entry['pid']}/ns/net") == ns_id(entry["netns"])  # it entered
    uids = Path(f"/proc/{entry['pid']}/status").read_text().split("\nUid:")[1].split()[:3]
    assert {int(u) for u in uids} == {pwd.getpwnam("nobody").pw_uid}, uids  # and gave up root
    assert entry["address"] == SUBNET + "1"
    pg, redis = roles["postgres"]["address"], roles["redis"]["address"]
    for r in st["roles"]:
        if r["role"] in ("api", "worker"):
            c = conf(r["config"])
            assert c["store"] == f"postgres://coderunner@{pg}:5432/coderunner", c
            assert c["queue"] == f"redis://{redis}:6379", c
            if r["role"] == "api":
                assert c["bind"] == r["address"] and c["port"] == "2358", c
        if r["role"] == "gateway":
            c = conf(r["config"])
            assert c["bind"] == r["address"] and c["redis"] == f"redis://{redis}:6379", c
            assert c["upstream"] == ",".join(f"http://{a['address']}:2358" for a in st["roles"] if a["role"] == "api")
            if "mongo" in roles:
                assert c["meta"] == f"mongodb://{roles['mongo']['address']}:27017/coderunner", c
    # The filters DIR/net/NAME.nft are the ones loaded.
    for r in st["roles"]:
        assert (d / "net" / f"{r['name']}.nft").read_text().count("policy drop") == 2


def test_hosts_flows_and_down(cluster_dir, public_ns):
    d, port = cluster_dir, free_port()
    url, gw_ns, gw_conf = up(d, port, "--api=2", "--workers=1", "--gateways=2")
    assert url == f"http://127.0.0.1:{port}"
    st = status(d)
    net = st["network"]
    check_hosts(st, d, port)
    assert all(r["state"] == "running" for r in st["roles"]), st
    roles = {r["name"]: r for r in st["roles"]}
    assert gw_ns == roles["gateway-1"]["netns"]
    text = cluster("status", f"--dir={d}")
    assert text.returncode == 0, text.stderr
    for r in st["roles"]:  # the text status says where each role is too
        assert f" netns {r['netns']} address {r['address']}\n" in text.stdout, text.stdout
    # Nothing of the cluster in this machine's own network: no link, no address, no route.
    for what in ("link", "address", "route"):
        mine = subprocess.run([IP, "-o", what], capture_output=True, text=True, check=True).stdout
        assert net["bridge"] not in mine and net["id"] not in mine and "198.18.0." not in mine, (what, mine)

    # A submission through the public entry, judged by the worker.
    key = make_key(gw_ns, gw_conf)
    r = requests.post(f"{url}/submissions?wait=true", timeout=120, headers=key,
                      json={"source_code": "print(6 * 7)", "language_id": 71})
    assert r.status_code == 201, r.text
    assert r.json()["status"]["id"] == 3 and r.json()["stdout"] == "42\n", r.json()
    assert requests.post(f"{url}/submissions", timeout=30, json={"source_code": "1", "language_id": 71}
                         ).status_code == 401

    # Every pair: from each host (and the test's public one) to each role's service.
    attach(public_ns, net, SUBNET + "200")
    allowed = {(f, t) for f, t, _ in doc_flows()}
    assert {(f, t, p) for f, t, p in doc_flows()} == {(f, t, PORTS[t]) for f, t in allowed}
    targets = [[r["name"], r["address"], PORTS[r["role"]]] for r in st["roles"] if r["role"] in PORTS]
    sources = [(r["name"], "public" if r["role"] == "entry" else r["role"], r["netns"]) for r in st["roles"]]
    sources.append(("test-public", "public", f"/run/netns/{public_ns}"))
    seen = {}
    for name, role, netns in sources:
        got = probe(netns, [t for t in targets if t[0] != name])
        for target, result in got.items():
            want = (role, roles[target]["role"]) in allowed
            seen[(name, target)] = result
            if want:
                assert result == "connected", (name, target, result)
            else:
                # Refused at once: a reset from the target's filter or from our own.
                assert result == "ConnectionRefusedError", (name, target, result)
    # Each of the table's flows was seen connecting, and only those.
    connected = {(roles[s]["role"] if s in roles else "public", roles[t]["role"])
                 for (s, t), res in seen.items() if res == "connected"}
    connected = {("public" if f == "entry" else f, t) for f, t in connected}
    assert connected == {(f, t) for f, t in allowed if t != "mongo" or "mongo" in roles}, connected

    # Forged sources die at the switch: from the test's host, a datagram to Redis "from"
    # gateway-1, then one from its own address; Redis's host sees only the second (the
    # bridge keeps order: had the first crossed, it would be seen first).
    sniff = subprocess.Popen(["nsenter", f"--net={roles['redis']['netns']}", sys.executable, "-c", SNIFF, "9",
                              SUBNET + "200"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert sniff.stdout.readline().strip() == "ready", sniff.stderr.read()
        forge = subprocess.run(["nsenter", f"--net=/run/netns/{public_ns}", sys.executable, "-c", FORGE,
                                roles["redis"]["address"], "9", roles["gateway-1"]["address"], SUBNET + "200"],
                               capture_output=True, text=True, timeout=60)
        assert forge.returncode == 0, forge.stderr
        out, err = sniff.communicate(timeout=60)
        assert sniff.returncode == 0, err
        assert json.loads(out) == [SUBNET + "200"], out
    finally:
        if sniff.poll() is None:
            sniff.kill()
            sniff.wait()

    # Root in a worker's host (its sandbox supervisor keeps root) can drop the host's own
    # filter: it then reaches the gateways, as anyone does, and still nothing else.
    worker = roles["worker-1"]
    r = subprocess.run(["nsenter", f"--net={worker['netns']}", "nft", "delete", "table", "inet", "coderunner"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    got = probe(worker["netns"], targets)
    for target, result in got.items():
        role = roles[target]["role"]
        want = role in ("redis", "postgres", "gateway")
        assert (result == "connected") == want, (target, result)

    # down: no namespace, no link, no process of the cluster is left.
    ids = {ns_id(r["netns"]) for r in st["roles"]} | {ns_id(net["switch"])}
    assert processes_in(ids)
    r = cluster("down", f"--dir={d}", timeout=DOWN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert our_netns(net["id"]) == []
    assert processes_in(ids) == []
    st = status(d)
    assert all(r["state"] == "stopped" for r in st["roles"]), st
    # The bridge goes with its namespace, and so does the test's veth, whose other end was on
    # it (the kernel frees a namespace in the background: wait for it, with a deadline).
    deadline = time.monotonic() + 60
    while True:
        left = subprocess.run([IP, "-n", public_ns, "-o", "link"], capture_output=True, text=True,
                              check=True).stdout
        if "eth0" not in left:
            break
        assert time.monotonic() < deadline, f"the switch's veth is still there: {left}"
        time.sleep(0.1)
    # down again: nothing to do, fine.
    r = cluster("down", f"--dir={d}", timeout=DOWN_TIMEOUT)
    assert r.returncode == 0, r.stderr


def test_down_and_up_after_a_crash(cluster_dir):
    """Every process of the cluster killed (up's too, as a crash would): down still removes
    the namespaces; and an up on a DIR whose cluster crashed removes what it left first."""
    d, port = cluster_dir, free_port()
    up(d, port, "--api=1", "--workers=0", "--meta=sqlite")
    st = status(d)
    first = st["network"]["id"]
    ids = {ns_id(r["netns"]) for r in st["roles"]}
    kill_all(processes_in(ids) + [r["pid"] for r in st["roles"]])
    assert our_netns(first) != []
    # up on the crashed DIR: the old namespaces go, new ones come.
    up(d, port, "--api=1", "--workers=0", "--meta=sqlite")
    second = status(d)["network"]["id"]
    assert second != first and our_netns(first) == [] and our_netns(second) != []
    # Killed again, then down: still all removed, and a second down is fine.
    st = status(d)
    ids = {ns_id(r["netns"]) for r in st["roles"]}
    kill_all([r["pid"] for r in st["roles"]])
    for _ in range(2):
        r = cluster("down", f"--dir={d}", timeout=DOWN_TIMEOUT)
        assert r.returncode == 0, r.stderr
        assert our_netns(second) == [] and processes_in(ids) == []
    assert processes_in({ns_id(f"/proc/{os.getpid()}/ns/net")}) != []  # the scan itself works


def test_two_clusters_at_once(cluster_dir):
    """Two clusters on the same addresses (each bridge in a namespace of its own): both
    answer on their entries; one's down leaves the other whole."""
    other = Path(str(cluster_dir) + "-other")
    other.mkdir(mode=0o755)
    try:
        ports = free_port(), free_port()
        for d, port in zip((cluster_dir, other), ports):
            up(d, port, "--api=1", "--workers=0", "--meta=sqlite")
        a, b = status(cluster_dir), status(other)
        assert a["network"]["id"] != b["network"]["id"]
        assert [r["address"] for r in a["roles"]] == [r["address"] for r in b["roles"]]
        for port in ports:
            assert requests.get(f"http://127.0.0.1:{port}/health", timeout=30).status_code == 200
        r = cluster("down", f"--dir={other}", timeout=DOWN_TIMEOUT)
        assert r.returncode == 0, r.stderr
        assert our_netns(b["network"]["id"]) == []
        assert len(our_netns(a["network"]["id"])) == len(a["roles"]) + 1  # and the switch
        assert all(r["state"] == "running" for r in status(cluster_dir)["roles"])
        assert requests.get(f"http://127.0.0.1:{ports[0]}/health", timeout=30).status_code == 200
    finally:
        if (other / "cluster.state").exists():
            cluster("down", f"--dir={other}", timeout=DOWN_TIMEOUT)
        shutil.rmtree(other, ignore_errors=True)


def test_foreground_comes_down(cluster_dir):
    """make cluster CLUSTER_ARGS=--hosts: up stays; SIGTERM brings the cluster down, its
    namespaces with it."""
    d, port = cluster_dir, free_port()
    p = subprocess.Popen([str(CODERUNNER), "cluster", "up", f"--dir={d}", f"--port={port}", "--hosts", "--api=1",
                          "--workers=0", "--slots=1", "--meta=sqlite", "--foreground"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == f"http://127.0.0.1:{port}"
        net_id = status(d)["network"]["id"]
        assert our_netns(net_id) != []
        assert requests.get(f"http://127.0.0.1:{port}/health", timeout=30).status_code == 200
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=DOWN_TIMEOUT) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert our_netns(net_id) == []
    assert all(r["state"] == "stopped" for r in status(d)["roles"])


def test_errors_are_one_line(cluster_dir):
    d = cluster_dir
    d.chmod(0o777)
    cases = [
        (["status", f"--dir={d}", "--hosts"], 1, "takes no --hosts"),
        (["down", f"--dir={d}", "--hosts"], 1, "takes no --hosts"),
        (["forward", "--port=1"], 1, "--netns=PATH and --to=ADDRESS:PORT"),
        (["forward", "--port=1", "--netns=/x", "--to=198.18.0.1"], 1, "--to=ADDRESS:PORT"),
        (["forward", "--port=1", "--netns=/x", "--to=nowhere:80"], 1, "IPv4 address"),
        (["forward", "--port=1", "--netns=/x", "--to=198.18.0.1:99999"], 1, "--to=ADDRESS:PORT"),
        (["forward", f"--dir={d}", "--netns=/x", "--to=198.18.0.1:1"], 1, "takes no --dir"),
        (["forward", f"--port={free_port()}", "--netns=/nonexistent", "--to=198.18.0.1:1"], 2,
         "cannot enter the network namespace"),
    ]
    for args, code, words in cases:
        r = cluster(*args)
        assert r.returncode == code, (args, r.returncode, r.stderr)
        assert words in r.stderr and r.stderr.count("\n") == 1, (args, r.stderr)
    # Not root: refused before anything is made.
    r = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", str(CODERUNNER),
                        "cluster", "up", f"--dir={d}", f"--port={free_port()}", "--hosts"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--hosts needs root" in r.stderr and r.stderr.count("\n") == 1, r.stderr
    assert not (d / "cluster.state").exists()


@pytest.mark.parametrize("tool,package", [("ip", "iproute2"), ("nft", "nftables")])
def test_a_missing_tool_is_one_line(cluster_dir, tool, package):
    """ip or nft not installed (hidden, in a mount namespace of the test's, under /dev/null,
    which nobody may execute): refused in one line before anything is made."""
    d = cluster_dir
    places = {os.path.realpath(p) for p in (shutil.which(tool), f"/usr/sbin/{tool}", f"/sbin/{tool}")
              if p and os.path.exists(p)}
    script = " && ".join(f"mount --bind /dev/null {shlex.quote(p)}" for p in sorted(places)) + ' && exec "$@"'
    r = subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", str(CODERUNNER), "cluster", "up",
                        f"--dir={d}", f"--port={free_port()}", "--hosts"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and f"--hosts needs {tool}" in r.stderr and package in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1, r.stderr
    assert not (d / "cluster.state").exists()
