"""deploy/monitoring against the real exporters: every metric the alert rules and the
Grafana dashboard name, with every label matcher they use, must select samples of a live
/metrics — `coderunner serve` (the API node's and workers' metrics) and, when the build
has it, `coderunner gateway`. Plus the files' structure, and promtool's own checks when a
promtool is on PATH (it is not a Debian package of its own)."""

import json
import re
import shutil
import subprocess

import pytest

from api_helpers import PY_ID, Server
from conftest import REPO
from deploy_helpers import role_options

yaml = pytest.importorskip("yaml", reason="python3-yaml is not installed (make deps-test installs it)")

MON = REPO / "deploy" / "monitoring"
SELECTOR = re.compile(r"\b(coderunner_[A-Za-z0-9_]+)\s*(\{[^}]*\})?")
MATCHER = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"([^"]*)"')
# Series Prometheus makes itself, not an exporter.
SYNTHETIC = {"up"}


def rules():
    doc = yaml.safe_load((MON / "coderunner-alerts.yml").read_text())
    return [r for g in doc["groups"] for r in g["rules"]]


def dashboard():
    return json.loads((MON / "grafana-dashboard.json").read_text())


def expressions():
    out = [(r["alert"], r["expr"]) for r in rules()]
    for p in dashboard()["panels"]:
        out += [(f"panel {p['title']}", t["expr"]) for t in p["targets"]]
    return out


def parse_exposition(text):
    """{metric name: [label dicts]} of a Prometheus text exposition."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"([A-Za-z_:][A-Za-z0-9_:]*)(\{(.*)\})? \S+$", line)
        assert m, f"not a sample line: {line!r}"
        labels = dict((k, v) for k, v in re.findall(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
        samples.setdefault(m.group(1), []).append(labels)
    return samples


def unmatched(expr, samples, prefix):
    """The selectors of expr (metrics starting with prefix) that select no live sample."""
    bad = []
    for name, braces in SELECTOR.findall(expr):
        if not name.startswith(prefix):
            continue
        if name not in samples:
            bad.append(f"{name}: no such metric")
            continue
        for label, op, value in MATCHER.findall(braces or ""):
            def ok(labels):
                v = labels.get(label, "")
                return {"=": v == value, "!=": v != value, "=~": re.fullmatch(value, v) is not None,
                        "!~": re.fullmatch(value, v) is None}[op]
            if not any(ok(l) for l in samples[name]):
                bad.append(f"{name}{{{label}{op}\"{value}\"}}: no such sample")
    return bad


@pytest.fixture(scope="module")
def serve_metrics(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("monitoring") / "data", args=["--workers=1"]).start()
    try:
        # One judged submission, so that every series with a per-result label has a sample.
        r = s.submit({"source_code": "print(1)", "language_id": PY_ID}, params={"wait": "true"})
        assert r.status_code == 201 and r.json()["status"]["id"] == 3, r.text
        yield parse_exposition(s.get("/metrics").text)
    finally:
        s.stop()


def gateway_metrics(tmp_path):
    from gateway_helpers import Gateway, start_upstream

    up = start_upstream(tmp_path)
    gw = Gateway(tmp_path, [up.url])
    try:
        gw.start()
        return parse_exposition(gw.get("/metrics").text)
    finally:
        gw.stop()
        up.stop()


def test_rules_and_dashboard_name_real_api_metrics(serve_metrics):
    bad = [f"{where}: {b}" for where, expr in expressions()
           for b in unmatched(expr, serve_metrics, "coderunner_") if not b.startswith("coderunner_gateway_")]
    assert not bad, "\n".join(bad)
    # Something is checked here: the queue, worker, HTTP and judge metrics at least.
    used = {n for _, e in expressions() for n, _ in SELECTOR.findall(e)}
    assert {"coderunner_queue_length", "coderunner_queue_dead_letters", "coderunner_worker_pools",
            "coderunner_http_requests_total", "coderunner_judged_total"} <= used


def test_the_check_sees_a_wrong_name_or_label(serve_metrics):
    assert unmatched('rate(coderunner_http_requests_total{code="5xx"}[5m])', serve_metrics, "coderunner_") == []
    assert unmatched('rate(coderunner_http_requests_total{class="5xx"}[5m])', serve_metrics, "coderunner_")
    assert unmatched("coderunner_queue_lenght", serve_metrics, "coderunner_")
    assert unmatched('coderunner_judged_total{status_id="99"}', serve_metrics, "coderunner_")


def test_rules_and_dashboard_name_real_gateway_metrics(tmp_path):
    role_options("gateway")  # skipped while the build has no gateway
    samples = gateway_metrics(tmp_path)
    bad = [f"{where}: {b}" for where, expr in expressions()
           for b in unmatched(expr, samples, "coderunner_gateway_")]
    assert not bad, "\n".join(bad)


def test_rule_file_structure():
    names = set()
    for r in rules():
        assert set(r) <= {"alert", "expr", "for", "labels", "annotations"}, r
        assert re.fullmatch(r"Coderunner[A-Za-z]+", r["alert"]) and r["alert"] not in names
        names.add(r["alert"])
        assert r["labels"]["severity"] in ("warning", "critical")
        assert r["annotations"]["summary"]
        if "for" in r:
            assert re.fullmatch(r"\d+[smh]", r["for"]), r["for"]
        for name, _ in SELECTOR.findall(r["expr"]):
            assert name not in SYNTHETIC
    # The four: queue lag, dead letters, error rates, worker absence.
    assert {"CoderunnerQueueLag", "CoderunnerDeadLetters", "CoderunnerApiErrorRate", "CoderunnerGatewayErrorRate",
            "CoderunnerNoWorkers"} <= names


def test_scrape_config_matches_the_rules():
    conf = yaml.safe_load((MON / "prometheus.yml").read_text())
    assert conf["rule_files"] == ["coderunner-alerts.yml"]
    jobs = [j["job_name"] for j in conf["scrape_configs"]]
    assert jobs == ["coderunner-api", "coderunner-gateway", "coderunner-serve"]
    (down,) = [r for r in rules() if r["alert"] == "CoderunnerTargetDown"]
    pattern = re.search(r'job=~"([^"]+)"', down["expr"]).group(1)
    assert all(re.fullmatch(pattern, j) for j in jobs)
    api = conf["scrape_configs"][0]
    # The API node's credential, as the query parameter its guard also reads.
    assert list(api["params"]) == ["X-Coderunner-Internal"]


def test_dashboard_structure():
    d = dashboard()
    assert d["uid"] == "coderunner" and d["schemaVersion"] >= 36
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids))
    assert [v["name"] for v in d["templating"]["list"]] == ["datasource"]
    cells = set()
    for p in d["panels"]:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24 and g["h"] > 0
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"panel {p['title']} overlaps another"
                cells.add((x, y))
        refs = [t["refId"] for t in p["targets"]]
        assert refs and len(refs) == len(set(refs)) and all(t["expr"] for t in p["targets"])
        assert p["datasource"]["uid"] == "${datasource}"


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(PROMTOOL is None, reason="no promtool on PATH (Debian has it only in the prometheus server package)")
def test_promtool_checks(tmp_path):
    r = subprocess.run([PROMTOOL, "check", "rules", str(MON / "coderunner-alerts.yml")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run([PROMTOOL, "check", "config", str(MON / "prometheus.yml")], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    # The dashboard's expressions parse too: as recording rules of a throwaway file.
    exprs = [{"record": f"dashboard:panel{i}", "expr": t["expr"]}
             for i, p in enumerate(dashboard()["panels"]) for t in p["targets"]]
    f = tmp_path / "dashboard-rules.yml"
    f.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": exprs}]}))
    r = subprocess.run([PROMTOOL, "check", "rules", str(f)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_scraping_a_guarded_api_node(tmp_path):
    """An API node that requires the gateway's credential: the scrape job's query parameter
    carries it to /metrics, and /health (the Kubernetes probes' path) needs none."""
    import requests

    from gateway_helpers import INTERNAL, start_upstream

    conf = yaml.safe_load((MON / "prometheus.yml").read_text())
    (job,) = [j for j in conf["scrape_configs"] if j["job_name"] == "coderunner-api"]
    params = {k: [INTERNAL if v == "INTERNAL_SECRET" else v for v in vs] for k, vs in job["params"].items()}
    api = start_upstream(tmp_path)
    try:
        url = api.url + job["metrics_path"]
        assert requests.get(url, timeout=30).status_code == 401
        r = requests.get(url, params=params, timeout=30)
        assert r.status_code == 200 and "coderunner_queue_length" in parse_exposition(r.text)
        assert requests.get(api.url + "/health", timeout=30).status_code == 200
    finally:
        api.stop()
