"""The Kubernetes manifests of deploy/k8s, checked offline (no cluster, no schemas: a
Python check with Debian's python3-yaml): every object's apiVersion, kind and required
fields; selectors that select something; probes and Service ports on declared container
ports; the NetworkPolicies allowing exactly the firewall table's flows; the worker's
security context the sandbox's measured needs; CODERUNNER_* names real options; the
edge's configuration the output of deploy/nginx/render.py; KEDA on the real stream."""

import re
import shlex
import subprocess

import pytest

from conftest import REPO
from deploy_helpers import SANDBOX_CAPS, env_option, role_options

yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed (make deps-test installs it)")

K8S = REPO / "deploy" / "k8s"
NAMESPACE = "coderunner"
KINDS = {
    "Namespace": "v1", "ConfigMap": "v1", "Service": "v1", "Deployment": "apps/v1", "StatefulSet": "apps/v1",
    "NetworkPolicy": "networking.k8s.io/v1", "HorizontalPodAutoscaler": "autoscaling/v2",
    "ScaledObject": "keda.sh/v1alpha1",
}
WORKLOADS = ("Deployment", "StatefulSet")
# The firewall table (docs/DEPLOYMENT.md): (from, to, port); "public" is anyone outside.
FLOWS = {
    ("public", "edge", 8443), ("public", "edge", 8080),
    ("edge", "code-client", 3000), ("edge", "gateway", 2358),
    ("code-client", "gateway", 2358),
    ("gateway", "api", 2358), ("gateway", "mongo", 27017), ("gateway", "redis", 6379),
    ("api", "postgres", 5432), ("api", "redis", 6379),
    ("worker", "postgres", 5432), ("worker", "redis", 6379),
}
ROLE_OF_COMMAND = {"api", "worker", "gateway", "serve"}


def load():
    objs = []
    for f in sorted(K8S.glob("*.yaml")):
        if f.name == "kustomization.yaml":
            continue
        for doc in yaml.safe_load_all(f.read_text()):
            assert isinstance(doc, dict), f"{f.name}: a document that is not an object"
            objs.append((f.name, doc))
    return objs


OBJECTS = load()


def of_kind(kind):
    return [o for _, o in OBJECTS if o.get("kind") == kind]


def workloads():
    return [o for _, o in OBJECTS if o.get("kind") in WORKLOADS]


def containers(w):
    return w["spec"]["template"]["spec"]["containers"]


def matches(selector, labels):
    """A label selector (matchLabels only: the manifests use nothing else) against labels."""
    assert set(selector) <= {"matchLabels"}, selector
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def selected(selector):
    """The workloads whose pods a podSelector picks."""
    return [w for w in workloads() if matches(selector, w["spec"]["template"]["metadata"]["labels"])]


def name_of(w):
    return w["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]


def ports_of(w):
    """{name or number: number} of the containers' declared ports."""
    out = {}
    for c in containers(w):
        for p in c.get("ports", []):
            out[p["containerPort"]] = p["containerPort"]
            if "name" in p:
                out[p["name"]] = p["containerPort"]
    return out


@pytest.mark.parametrize("where,obj", OBJECTS, ids=[f"{f}:{o.get('kind')}/{o.get('metadata', {}).get('name')}"
                                                    for f, o in OBJECTS])
def test_every_object_is_well_formed(where, obj):
    kind = obj.get("kind")
    assert kind in KINDS, f"{where}: unknown kind {kind}"
    assert obj.get("apiVersion") == KINDS[kind], f"{where}: {kind} is {KINDS[kind]}, not {obj.get('apiVersion')}"
    meta = obj.get("metadata") or {}
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", meta.get("name", "")), meta
    if kind != "Namespace":
        assert meta.get("namespace") == NAMESPACE, f"{where}: {kind}/{meta['name']} outside {NAMESPACE}"
    if kind in WORKLOADS:
        spec = obj["spec"]
        assert matches(spec["selector"], spec["template"]["metadata"]["labels"]), "the selector misses the pods"
        if kind == "StatefulSet":
            assert spec["serviceName"]
        for c in containers(obj):
            assert c["name"] and c["image"], c
            for p in c.get("ports", []):
                assert isinstance(p["containerPort"], int) and 0 < p["containerPort"] < 65536, p
                assert len(p.get("name", "")) <= 15, p  # the IANA_SVC_NAME limit
            declared = ports_of(obj)
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                pr = c.get(probe)
                if not pr:
                    continue
                handlers = [h for h in ("httpGet", "tcpSocket", "exec", "grpc") if h in pr]
                assert len(handlers) == 1, (c["name"], probe)
                if handlers[0] in ("httpGet", "tcpSocket"):
                    port = pr[handlers[0]]["port"]
                    assert port in declared, f"{meta['name']}/{c['name']} {probe} on undeclared port {port}"
    if kind == "Service":
        spec = obj["spec"]
        picked = [w for w in workloads() if all(w["spec"]["template"]["metadata"]["labels"].get(k) == v
                                                for k, v in spec["selector"].items())]
        assert len(picked) == 1, f"Service {meta['name']} selects {len(picked)} workloads"
        for p in spec["ports"]:
            assert p["targetPort"] in ports_of(picked[0]), (meta["name"], p)
    if kind == "HorizontalPodAutoscaler" or kind == "ScaledObject":
        ref = obj["spec"]["scaleTargetRef"]
        assert any(w["kind"] == ref.get("kind", "Deployment") and w["metadata"]["name"] == ref["name"]
                   for w in workloads()), ref


def test_kustomization_lists_every_file():
    k = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert k["kind"] == "Kustomization" and k["namespace"] == NAMESPACE
    assert sorted(k["resources"]) == sorted(f.name for f in K8S.glob("*.yaml") if f.name != "kustomization.yaml")
    images = {c["image"] for w in workloads() for c in containers(w)}
    assert {i["name"] for i in k["images"]} == {i for i in images if ":" not in i}


def policy_rules(policy, direction):
    """[(peers, ports)] of a policy's ingress or egress rules; peers None = anyone."""
    out = []
    for rule in policy["spec"].get(direction, []):
        peers = rule.get("from" if direction == "ingress" else "to")
        ports = [p["port"] for p in rule.get("ports", [])]
        out.append((peers, ports))
    return out


def peer_names(peer):
    """The workloads of this namespace a from/to entry names, or None for other namespaces."""
    if "namespaceSelector" in peer:
        return None
    assert set(peer) == {"podSelector"}, peer
    picked = selected(peer["podSelector"])
    assert picked, f"a NetworkPolicy peer selects no workload: {peer}"
    return [name_of(w) for w in picked]


def test_network_policy_selectors_select_workloads():
    for p in of_kind("NetworkPolicy"):
        sel = p["spec"]["podSelector"]
        if sel:
            assert selected(sel), f"NetworkPolicy {p['metadata']['name']} selects no workload"
        for direction in ("ingress", "egress"):
            for peers, _ in policy_rules(p, direction):
                for peer in peers or []:
                    peer_names(peer)


def test_network_policies_allow_exactly_the_firewall_table():
    policies = of_kind("NetworkPolicy")
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and set(p["spec"]["policyTypes"]) ==
            {"Ingress", "Egress"} and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    assert deny, "no default-deny policy"
    names = {name_of(w) for w in workloads()}
    ingress, egress = set(), set()  # (dst, src, port), (src, dst, port)
    for p in policies:
        sel = p["spec"]["podSelector"]
        targets = [name_of(w) for w in selected(sel)] if sel else sorted(names)
        for t in targets:
            for peers, ports in policy_rules(p, "ingress"):
                # An ingress port is one the selected pods declare.
                for port in ports:
                    assert any(port in ports_of(w).values() for w in selected(sel)), (p["metadata"]["name"], port)
                srcs = ["public"] if peers is None else [n for peer in peers for n in (peer_names(peer) or ["other"])]
                for s in srcs:
                    for port in ports:
                        ingress.add((t, s, port))
            for peers, ports in policy_rules(p, "egress"):
                for peer in peers or []:
                    for d in peer_names(peer) or ["other"]:
                        for port in ports:
                            egress.add((t, d, port))
    flows = set()
    for dst, src, port in ingress:
        if src == "public":
            flows.add(("public", dst, port))
        elif src != "other" and (src, dst, port) in egress:
            flows.add((src, dst, port))
    assert flows == FLOWS, f"extra: {flows - FLOWS}, missing: {FLOWS - flows}"
    # Egress a pod may use that no ingress lets in would mean a table out of step.
    for src, dst, port in egress:
        if dst != "other":
            assert (src, dst, port) in FLOWS, (src, dst, port)


def test_the_worker_has_the_sandboxs_privileges_and_no_more():
    worker = next(w for w in workloads() if w["metadata"]["name"] == "worker")
    (c,) = containers(worker)
    sc = c["securityContext"]
    assert sc["privileged"] is False and sc["runAsUser"] == 0
    assert sc["capabilities"]["drop"] == ["ALL"]
    assert {"CAP_" + x for x in sc["capabilities"]["add"]} == SANDBOX_CAPS
    # Kubernetes refuses allowPrivilegeEscalation: false beside SYS_ADMIN.
    assert sc["allowPrivilegeEscalation"] is True
    assert sc["seccompProfile"]["type"] in ("Unconfined", "Localhost")
    assert sc["procMount"] == "Default" and not worker["spec"]["template"]["spec"].get("hostUsers") is False
    assert sc["readOnlyRootFilesystem"] is True
    assert "ports" not in c and not any(p in c for p in ("readinessProbe", "livenessProbe", "startupProbe"))
    spec = worker["spec"]["template"]["spec"]
    assert not spec.get("hostNetwork") and not spec.get("hostPID") and not spec.get("hostIPC")
    # The delegated cgroup: remounted writable in the container's own mount namespace.
    script = c["command"][-1]
    assert c["command"][:2] == ["/bin/sh", "-c"] and script.startswith("mount -o remount,rw /sys/fs/cgroup && exec ")
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert f"--data-dir={mounts['data']}" in script and "emptyDir" in volumes["data"]
    # The node's registry of box uids is the node's, shared by every worker pod there.
    assert mounts["box-uids"] == "/run/coderunner" and volumes["box-uids"]["hostPath"]["path"] == "/run/coderunner"
    assert spec["terminationGracePeriodSeconds"] > int(env_of(c)["CODERUNNER_SHUTDOWN_GRACE"])


def test_every_other_pod_is_restricted():
    for w in workloads():
        if w["metadata"]["name"] == "worker":
            continue
        pod = w["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, w["metadata"]["name"]
        assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        assert pod["automountServiceAccountToken"] is False
        for c in containers(w):
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}, c["name"]


def env_of(c):
    return {e["name"]: e.get("value") for e in c.get("env", [])}


@pytest.mark.parametrize("role", ["api", "worker", "gateway"])
def test_environment_names_are_real_options(role):
    w = next(w for w in workloads() if w["metadata"]["name"] == role)
    (c,) = containers(w)
    command = " ".join(c["command"])
    assert re.search(rf"/usr/local/bin/coderunner {role}\b", command), command
    options = role_options(role)
    for name in env_of(c):
        assert env_option(name) in options, (role, name)
    for flag in re.findall(r"(--[a-z-]+)=", command):
        assert flag in options, (role, flag)


def test_keda_scales_workers_on_the_real_stream():
    (so,) = of_kind("ScaledObject")
    (trigger,) = so["spec"]["triggers"]
    assert trigger["type"] == "redis-streams"
    meta = trigger["metadata"]
    src = (REPO / "src" / "queue" / "queue-redis.c").read_text()
    default = re.search(r'snprintf\(b->stream, sizeof b->stream, "([^"]+)"\)', src).group(1)
    assert meta["stream"] == default
    # XLEN, not the group's pending entries (those never exceed the slots there are).
    assert "streamLength" in meta and "consumerGroup" not in meta and "pendingEntriesCount" not in meta
    assert meta["address"].split(":")[0].split(".")[0] == "redis"
    worker = next(w for w in workloads() if w["metadata"]["name"] == "worker")
    assert meta["streamLength"] == env_of(containers(worker)[0])["CODERUNNER_WORKERS"]


def test_the_edge_configuration_is_render_pys_output():
    text = (K8S / "edge.yaml").read_text()
    m = re.search(r"^# rendered by: (.+)$", text, re.M)
    assert m, "edge.yaml does not say how its configuration was rendered"
    argv = shlex.split(m.group(1))
    assert argv[0] == "deploy/nginx/render.py"
    r = subprocess.run(["python3", *argv], cwd=REPO, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    conf = next(o for o in of_kind("ConfigMap") if o["metadata"]["name"] == "edge-conf")
    assert conf["data"]["coderunner-edge.conf"] == r.stdout, "run the command in edge.yaml again"
    edge = next(w for w in workloads() if w["metadata"]["name"] == "edge")
    ports = ports_of(edge)
    assert "--https-listen=8443" in argv and ports["https"] == 8443 and ports["http"] == 8080
    assert "--gateway=gateway:2358" in argv and "--code-client=code-client:3000" in argv
