"""deploy/compose checked offline, in every `make test` (tests/deploy runs it for real,
with Docker, in `make test-deploy`): the worker's privileges are the sandbox's measured
set; CODERUNNER_* names are real options of their role; every service has init, a restart
policy and (but the workers) a health check and no privilege; only the edge publishes a
port, on loopback; the data stores are on the internal network only, with volumes; the
default subnets are in 198.18.0.0/15; the edge's configuration is render.py's."""

import ipaddress
import re
import subprocess

import pytest

from conftest import REPO
from deploy_helpers import SANDBOX_CAPS, env_option, role_options

yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed (make deps-test installs it)")

COMPOSE = REPO / "deploy" / "compose"
ROLE_OF = {"gateway": "gateway", "api-1": "api", "api-2": "api", "worker-1": "worker", "worker-2": "worker"}
DATA_STORES = {"redis": "/data", "postgres": "/var/lib/postgresql/data", "mongo": "/data"}
TESTS_RANGE = ipaddress.ip_network("198.18.0.0/15")


def services():
    return yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())["services"]


def test_the_topology():
    assert set(services()) == {"edge", "code-client", "gateway", "api-1", "api-2", "worker-1", "worker-2", "redis",
                               "postgres", "mongo"}


def test_the_worker_has_the_sandboxs_privileges_and_no_more():
    for name in ("worker-1", "worker-2"):
        w = services()[name]
        assert not w.get("privileged") and w["cap_drop"] == ["ALL"]
        assert {"CAP_" + c for c in w["cap_add"]} == SANDBOX_CAPS
        assert "seccomp:unconfined" in w["security_opt"]
        assert w["volumes"][1] == "box-uids:/run/coderunner"  # one registry of box uids per host
        assert "healthcheck" not in w and "ports" not in w and w["networks"] == ["internal"]
        assert int(w["stop_grace_period"].rstrip("s")) > int(w["environment"]["CODERUNNER_SHUTDOWN_GRACE"])
    start = (COMPOSE / "worker-start").read_text()
    assert 'mount -o remount,bind,rw "$m"' in start and "exec coderunner worker --data-dir=" in start


def test_every_other_service_is_unprivileged_with_a_health_check():
    for name, s in services().items():
        assert s["init"] is True and s["restart"] == "unless-stopped", name
        if name.startswith("worker"):
            continue
        assert s["cap_drop"] == ["ALL"] and "cap_add" not in s, name
        assert s["security_opt"] == ["no-new-privileges:true"] and s["read_only"] is True, name
        assert s["healthcheck"]["test"][0] == "CMD", name


def test_only_the_edge_publishes_a_port_on_loopback():
    for name, s in services().items():
        if name == "edge":
            assert s["ports"] == ["127.0.0.1:${CODERUNNER_COMPOSE_PORT:-8443}:8443"]
        else:
            assert "ports" not in s, name


def test_networks():
    doc = yaml.safe_load((COMPOSE / "docker-compose.yml").read_text())
    assert doc["networks"]["internal"]["internal"] is True
    nets = {name: set(s["networks"]) for name, s in doc["services"].items()}
    assert {n for n, v in nets.items() if "public" in v} == {"edge", "code-client", "gateway"}
    for store, path in DATA_STORES.items():
        s = doc["services"][store]
        assert nets[store] == {"internal"}, store
        assert any(v.split(":")[1] == path and v.split(":")[0] in doc["volumes"] for v in s["volumes"]), store
    # make-context's default subnets: in the range reserved for tests and benchmarks
    text = (COMPOSE / "make-context").read_text()
    subnets = re.findall(r"CODERUNNER_COMPOSE_(?:PUBLIC|INTERNAL)_SUBNET:-([0-9./]+)\}", text)
    assert len(subnets) == 2
    for net in subnets:
        assert ipaddress.ip_network(net).subnet_of(TESTS_RANGE), net


@pytest.mark.parametrize("service", sorted(ROLE_OF))
def test_environment_names_are_real_options(service):
    options = role_options(ROLE_OF[service])
    s = services()[service]
    for name in s.get("environment", {}):
        assert env_option(name) in options, (service, name)


def test_the_edge_configuration_is_render_pys_output(tmp_path):
    """make-context renders deploy/nginx's template for the services' names."""
    text = (COMPOSE / "make-context").read_text()
    assert "--gateway=gateway:2358 --code-client=code-client:3000" in text
    out = tmp_path / "edge.conf"
    subprocess.run([REPO / "deploy" / "nginx" / "render.py", "--gateway=gateway:2358",
                    "--code-client=code-client:3000", "--https-listen=8443", "--http-listen=8080",
                    "--cert=/etc/coderunner-tls/cert.pem", "--key=/etc/coderunner-tls/key.pem",
                    "--access-log=/dev/stdout", f"--output={out}"], check=True)
    conf = out.read_text()
    assert "server gateway:2358 " in conf and "listen 8443 ssl http2;" in conf
