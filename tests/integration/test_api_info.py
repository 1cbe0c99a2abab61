"""The information endpoints and authentication of `coderunner serve`."""

import pytest

from api_helpers import C_HELLO, C_ID, Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("api-info") / "data", args=["--workers=2"]).start()
    yield s
    s.stop()


def test_languages(server):
    langs = server.get("/languages").json()
    assert all(set(l) == {"id", "name"} for l in langs)
    ids = {l["id"] for l in langs}
    assert 50 in ids and 71 in ids
    every = server.get("/languages/all").json()
    assert all(set(l) == {"id", "name", "is_archived"} for l in every)
    assert len(every) >= len(langs)
    one = server.get("/languages/50").json()
    assert set(one) == {"id", "name", "is_archived", "source_file", "compile_cmd", "run_cmd"}
    assert one["source_file"] == "main.c"
    assert server.get("/languages/9999").status_code == 404


def test_statuses(server):
    st = server.get("/statuses").json()
    assert [s["id"] for s in st] == list(range(1, 15))
    assert st[2] == {"id": 3, "description": "Accepted"}


@pytest.mark.conformance(
    behaviour='`/about`',
    judge0='version and URLs as strings',
    coderunner='version `1.13.1`; `homepage`, `source_code`, `maintainer` strings naming coderunner')
def test_about_version_isolate_license(server):
    about = server.get("/about").json()
    assert set(about) == {"version", "homepage", "source_code", "maintainer"}
    assert about["version"] == "1.13.1"
    # Strings, never null: Judge0's clients read them as strings (issue 10).
    assert about["homepage"] == "coderunner"
    assert about["source_code"].startswith("coderunner ") and about["source_code"] == about["maintainer"]
    r = server.get("/version")
    assert r.text == "1.13.1" and r.headers["Content-Type"].startswith("text/plain")
    assert "coderunner" in server.get("/isolate").text
    assert "MIT" in server.get("/license").text


def test_config_info(server):
    c = server.get("/config_info").json()
    assert len(c) == 39
    assert c["max_queue_size"] == 100 and c["cpu_time_limit"] == 5.0
    assert isinstance(c["allowed_languages_for_compile_options"], list)
    assert c["enable_submission_delete"] is False


def test_system_info_workers_health_metrics(server):
    si = server.get("/system_info").json()
    assert "CPU(s)" in si and all(isinstance(v, str) for v in si.values())
    w = server.get("/workers").json()
    assert w[0]["queue"] == "1.13.1" and w[0]["available"] == 2
    assert set(w[0]) == {"queue", "size", "available", "idle", "working", "paused", "failed"}
    h = server.get("/health").json()
    assert h["status"] == "ok" and h["store"] == "sqlite"
    server.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
    m = server.get("/metrics")
    assert m.headers["Content-Type"].startswith("text/plain")
    assert 'coderunner_judged_total{status_id="3",status="Accepted"}' in m.text
    assert "coderunner_queue_length 0" in m.text
    assert 'coderunner_judge_duration_seconds_bucket{le="+Inf"} 1' in m.text
    assert "coderunner_judge_duration_seconds_count 1" in m.text


@pytest.mark.conformance(
    behaviour='`/statistics` `last_30_days`',
    judge0='30 days, today excluded',
    coderunner='the same')
def test_statistics(server):
    import datetime
    before = server.get("/statistics", params={"invalidate_cache": "true"}).json()
    assert set(before) == {"created_at", "cached_until", "submissions", "languages", "statuses", "database"}
    fmt = "%Y-%m-%dT%H:%M:%S.%fZ"
    created = datetime.datetime.strptime(before["created_at"], fmt)
    until = datetime.datetime.strptime(before["cached_until"], fmt)
    assert until - created == datetime.timedelta(minutes=10)
    # Judge0 iterates (today-30...today), an exclusive range: the 30 days before today,
    # newest first; today's count is "today" only.
    days = list(before["submissions"]["last_30_days"])
    today = created.date()
    assert days == [(today - datetime.timedelta(days=k)).isoformat() for k in range(1, 31)]
    db = before["database"]
    assert isinstance(db["size_in_bytes"], int) and db["size_in_bytes"] > 0
    assert db["size_pretty"].endswith((" bytes", " kB", " MB", " GB"))

    r = server.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
    assert r.status_code == 201 and r.json()["status"]["id"] == 3, r.text
    # kept for 10 minutes: the same answer until asked to compute it again
    assert server.get("/statistics").json() == before
    after = server.get("/statistics.json", params={"invalidate_cache": "true"}).json()
    assert after["created_at"] >= before["created_at"]
    assert after["submissions"]["total"] == before["submissions"]["total"] + 1
    if datetime.datetime.strptime(after["created_at"], fmt).date() == today:
        assert after["submissions"]["today"] == before["submissions"]["today"] + 1
        assert after["submissions"]["last_30_days"] == before["submissions"]["last_30_days"]

    def counts(stats, key):
        return {e[key]["id"]: (e[key]["name"], e["count"]) for e in stats[key + "es" if key == "status" else "languages"]}

    langs_before, langs_after = counts(before, "language"), counts(after, "language")
    assert langs_after[C_ID][1] == langs_before.get(C_ID, ("", 0))[1] + 1
    assert langs_after[C_ID][0].startswith("C (")
    st_before, st_after = counts(before, "status"), counts(after, "status")
    assert st_after[3] == ("Accepted", st_before.get(3, ("Accepted", 0))[1] + 1)
    # most counted first
    assert [e["count"] for e in after["statuses"]] == sorted((e["count"] for e in after["statuses"]), reverse=True)
    assert sum(e["count"] for e in after["statuses"]) == after["submissions"]["total"]


def test_delete_disabled_by_default(server):
    # The authorization check comes first (no AUTHZ_TOKEN: 403), as in Judge0.
    assert server.delete("/submissions/00000000-0000-4000-8000-000000000000").status_code == 403


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("api-auth") / "data", args=["--workers=2"], env={
        "CODERUNNER_AUTHN_TOKEN": "tok1 tok2",
        "CODERUNNER_AUTHZ_TOKEN": "admin",
        "CODERUNNER_ENABLE_SUBMISSION_DELETE": "true",
    }).start()
    yield s
    s.stop()


def test_auth(auth_server):
    s = auth_server
    r = s.get("/languages")
    assert r.status_code == 401 and r.content == b""
    assert s.get("/languages", headers={"X-Auth-Token": "wrong"}).status_code == 401
    assert s.get("/languages", headers={"X-Auth-Token": "tok1"}).status_code == 200
    assert s.get("/languages", params={"X-Auth-Token": "tok2"}).status_code == 200
    assert s.post("/authenticate", headers={"X-Auth-Token": "tok2"}).status_code == 200
    assert s.post("/authenticate").status_code == 401
    r = s.post("/authorize", headers={"X-Auth-Token": "tok1"})
    assert r.status_code == 403 and r.content == b""
    assert s.post("/authorize", headers={"X-Auth-Token": "tok1", "X-Auth-User": "admin"}).status_code == 200
    assert s.get("/statistics").status_code == 401
    assert s.get("/statistics", headers={"X-Auth-Token": "tok1"}).status_code == 200
    # health is open (for load balancers and probes)
    assert s.get("/health").status_code == 200


def test_list_and_delete_authorized(auth_server):
    s = auth_server
    h = {"X-Auth-Token": "tok1", "X-Auth-User": "admin"}
    tokens = [s.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"}, headers=h).json()["token"]
              for _ in range(3)]
    assert s.get("/submissions", headers={"X-Auth-Token": "tok1"}).status_code == 403
    r = s.get("/submissions", headers=h, params={"per_page": 2, "page": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["submissions"]) == 2
    assert body["meta"] == {"current_page": 1, "next_page": 2, "prev_page": None, "total_pages": 2,
                            "total_count": 3}
    assert body["submissions"][0]["token"] == tokens[2]  # newest first
    r = s.get("/submissions", headers=h, params={"per_page": 2, "page": 2}).json()
    assert len(r["submissions"]) == 1 and r["meta"]["prev_page"] == 1 and r["meta"]["next_page"] is None
    r = s.get("/submissions", headers=h, params={"page": "x"})
    assert r.status_code == 400 and r.json() == {"error": "invalid page: 0"}
    r = s.get("/submissions", headers=h, params={"per_page": -1})
    assert r.status_code == 400 and r.json() == {"error": "invalid per_page: -1"}

    r = s.delete(f"/submissions/{tokens[0]}", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["token"] == tokens[0]
    assert r.json()["stdout"] == "aGVsbG8sIHdvcmxkCg==\n"  # always base64
    assert s.get(f"/submissions/{tokens[0]}", headers=h).status_code == 404
    assert s.delete(f"/submissions/{tokens[0]}", headers=h).status_code == 404


def test_openapi_matches_routes(server):
    import re
    from pathlib import Path
    doc = server.get("/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    table = (Path(__file__).resolve().parents[2] / "src" / "api" / "api.c").read_text()
    routes = set()
    for method, pattern in re.findall(r'\{"(GET|POST|DELETE)", "([^"]+)", api_\w+\}', table):
        path = re.sub(r":(\w+)", r"{\1}", pattern)
        routes.add((method.lower(), "/openapi.json" if path == "/openapi" else path))
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert routes and routes == documented, (routes - documented, documented - routes)
