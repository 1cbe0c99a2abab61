"""`coderunner gateway` in front of a real API node (`coderunner serve` configured to
refuse anything without the gateway's internal credential), with a SQLite metadata store:
keys, scopes, ceilings, quotas, rate limits, ownership, sessions, accounts, history, the
client configuration, a strict proxy's refusals, and what happens when the API node goes
away."""

import re
import sqlite3
import time

import pytest
import requests

from api_helpers import C_ID, PY_ID, free_port
from conftest import wait_for
from gateway_helpers import INTERNAL, Gateway, start_upstream

PY_HELLO = 'print("hello")\n'


@pytest.fixture(scope="module")
def tmp_module(tmp_path_factory):
    return tmp_path_factory.mktemp("gateway")


@pytest.fixture(scope="module")
def upstream(tmp_module):
    s = start_upstream(tmp_module)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def gw(tmp_module, upstream):
    g = Gateway(tmp_module, [upstream.url], args=["--accounts=true", "--ip-rate=1000", "--ip-burst=1000",
                                                 "--session-rate=1000", "--session-burst=1000"]).start()
    yield g
    g.stop()


@pytest.fixture(scope="module")
def key(gw):
    return gw.new_key("--scope=submit,read", "--rate=1000", "--burst=1000")


@pytest.fixture(scope="module")
def other_key(gw):
    return gw.new_key("--scope=submit,read", "--rate=1000", "--burst=1000")


@pytest.fixture(scope="module")
def admin_key(gw):
    return gw.new_key("--scope=submit,read,admin", "--rate=1000", "--burst=1000")


def run(gw, key, source=PY_HELLO, lang=PY_ID, **extra):
    r = gw.post("/submissions", key, params={"wait": "true"},
                json={"source_code": source, "language_id": lang, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def session(gw):
    s = requests.Session()
    r = s.post(gw.url + "/session", timeout=10)
    assert r.status_code == 201, r.text
    return s


# ---- the API node refuses what does not come through the gateway ----

def test_the_api_node_refuses_direct_requests(upstream):
    assert requests.get(upstream.url + "/languages", timeout=10).status_code == 401
    r = requests.post(upstream.url + "/submissions", json={"source_code": "x", "language_id": PY_ID}, timeout=10)
    assert r.status_code == 401
    # with the gateway's credential it answers
    assert requests.get(upstream.url + "/languages", headers={"X-Coderunner-Internal": INTERNAL},
                        timeout=10).status_code == 200


# ---- keys ----

def test_a_key_runs_a_submission_through_the_gateway(gw, key):
    sub = run(gw, key)
    assert sub["status"]["id"] == 3, sub
    assert sub["stdout"] == "hello\n"


def test_bearer_authorization_works_too(gw, key):
    r = gw.get("/languages", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200, r.text
    assert any(l["id"] == PY_ID for l in r.json())


def test_no_credentials_is_401_with_a_reason(gw):
    r = gw.get("/languages")
    assert r.status_code == 401
    assert "missing credentials" in r.json()["error"]
    assert r.headers.get("WWW-Authenticate", "").startswith("Bearer")


def test_an_unknown_key_is_401(gw):
    r = gw.get("/languages", "cr_" + "A" * 43)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid API key"


def test_a_revoked_key_is_refused(gw):
    k = gw.new_key(name="to-revoke")
    assert gw.get("/statuses", k).status_code == 200
    listing = gw.admin("keys", "list").stdout
    kid = next(line.split()[0] for line in listing.splitlines() if " to-revoke " in line)
    gw.admin("keys", "revoke", kid)
    r = gw.get("/statuses", k)
    assert r.status_code == 401
    assert "revoked" in r.json()["error"]


def test_keys_are_shown_once_and_stored_only_as_hashes(gw):
    k = gw.new_key(name="secret-check")
    listing = gw.admin("keys", "list").stdout
    assert "secret-check" in listing and k not in listing
    db = gw.dir / "meta.db"
    blob = b"".join(p.read_bytes() for p in gw.dir.iterdir() if p.name.startswith("meta.db"))
    assert k.encode() not in blob and db.exists()


def test_key_administration_refuses_bad_input(gw):
    cp = gw.admin("keys", "create", check=False)
    assert cp.returncode != 0 and "--name" in cp.stderr and len(cp.stderr.strip().splitlines()) == 1
    cp = gw.admin("keys", "create", "--name=x", "--scope=root", check=False)
    assert cp.returncode != 0 and "scopes are" in cp.stderr
    cp = gw.admin("keys", "revoke", "k_nosuchkey", check=False)
    assert cp.returncode != 0 and "no key" in cp.stderr
    cp = gw.admin("keys", "frobnicate", check=False)
    assert cp.returncode != 0 and "usage" in cp.stderr


# ---- scopes and admin routes ----

def test_scopes_are_enforced(gw):
    reader = gw.new_key("--scope=read")
    r = gw.post("/submissions", reader, json={"source_code": PY_HELLO, "language_id": PY_ID})
    assert r.status_code == 403 and "submit scope" in r.json()["error"]
    submitter = gw.new_key("--scope=submit")
    token = gw.post("/submissions", submitter, json={"source_code": PY_HELLO, "language_id": PY_ID}).json()["token"]
    r = gw.get(f"/submissions/{token}", submitter)
    assert r.status_code == 403 and "read scope" in r.json()["error"]


@pytest.mark.parametrize("path", ["/workers", "/system_info", "/statistics"])
def test_admin_routes_need_an_admin_key(gw, key, admin_key, path):
    r = gw.get(path, key)
    assert r.status_code == 403 and "admin scope" in r.json()["error"]
    assert gw.get(path, admin_key).status_code == 200


def test_delete_needs_an_admin_key(gw, key, admin_key):
    token = run(gw, key)["token"]
    assert gw.delete(f"/submissions/{token}", key).status_code == 403
    r = gw.delete(f"/submissions/{token}", admin_key)
    assert r.status_code == 200, r.text


# ---- ownership ----

def test_a_submission_is_visible_to_its_owner_only(gw, key, other_key, admin_key):
    token = run(gw, key)["token"]
    assert gw.get(f"/submissions/{token}", key).status_code == 200
    r = gw.get(f"/submissions/{token}", other_key)
    assert r.status_code == 404 and r.json()["error"] == "Not Found"
    assert gw.get(f"/submissions/{token}", admin_key).status_code == 200


def test_a_batch_read_shows_only_ones_own(gw, key, other_key):
    mine = run(gw, key)["token"]
    theirs = run(gw, other_key)["token"]
    r = gw.get("/submissions/batch", key, params={"tokens": f"{mine},{theirs}", "fields": "token,status"})
    assert r.status_code == 200, r.text
    subs = r.json()["submissions"]
    assert subs[0]["token"] == mine and subs[1] is None


def test_listing_shows_only_ones_own(gw, other_key):
    k = gw.new_key("--rate=1000", "--burst=1000")
    tokens = [run(gw, k)["token"] for _ in range(3)]
    run(gw, other_key)
    r = gw.get("/submissions", k, params={"per_page": "2"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [s["token"] for s in body["submissions"]] == tokens[::-1][:2]
    assert body["meta"]["total_count"] == 3 and body["meta"]["next_page"] == 2
    page2 = gw.get("/submissions", k, params={"per_page": "2", "page": "2"}).json()
    assert [s["token"] for s in page2["submissions"]] == tokens[:1]


# ---- ceilings, quotas, rates ----

def test_a_limit_beyond_the_keys_ceiling_is_422_in_judge0s_wording(gw):
    k = gw.new_key("--max-cpu-time-limit=1", "--max-memory-limit=64000")
    r = gw.post("/submissions", k, json={"source_code": PY_HELLO, "language_id": PY_ID, "cpu_time_limit": 2})
    assert r.status_code == 422
    assert r.json() == {"cpu_time_limit": ["must be less than or equal to 1.0"]}
    r = gw.post("/submissions", k, json={"source_code": PY_HELLO, "language_id": PY_ID, "memory_limit": 128000})
    assert r.status_code == 422 and "memory_limit" in r.json()


def test_a_limit_left_out_gets_the_keys_ceiling(gw):
    k = gw.new_key("--max-cpu-time-limit=1", "--max-memory-limit=64000")
    sub = run(gw, k, fields="*")
    sub = gw.get(f"/submissions/{sub['token']}", k, params={"fields": "cpu_time_limit,memory_limit,status"}).json()
    assert float(sub["cpu_time_limit"]) == 1.0 and sub["memory_limit"] == 64000, sub


def test_a_language_beyond_the_keys_ceiling_is_422(gw):
    k = gw.new_key(f"--languages={PY_ID}")
    r = gw.post("/submissions", k, json={"source_code": "int main(){}", "language_id": C_ID})
    assert r.status_code == 422
    assert "not allowed for this API key" in r.json()["language_id"][0]
    assert run(gw, k)["status"]["id"] == 3
    # a checker is a program the key runs too
    r = gw.post("/submissions", k, json={"source_code": PY_HELLO, "language_id": PY_ID,
                                         "checker": {"source_code": "int main(){}", "language_id": C_ID}})
    assert r.status_code == 422
    assert "not allowed for this API key" in r.json()["checker.language_id"][0]


def test_a_batch_with_one_item_beyond_a_ceiling_is_refused_whole(gw):
    k = gw.new_key("--max-cpu-time-limit=1")
    r = gw.post("/submissions/batch", k, json={"submissions": [
        {"source_code": PY_HELLO, "language_id": PY_ID},
        {"source_code": PY_HELLO, "language_id": PY_ID, "cpu_time_limit": 3}]})
    assert r.status_code == 422
    assert r.json() == [{}, {"cpu_time_limit": ["must be less than or equal to 1.0"]}]


def test_the_daily_quota_answers_429_naming_it(gw):
    k = gw.new_key("--quota-day=2", "--rate=1000", "--burst=1000")
    run(gw, k)
    run(gw, k)
    r = gw.post("/submissions", k, json={"source_code": PY_HELLO, "language_id": PY_ID})
    assert r.status_code == 429
    body = r.json()
    assert body["quota"] == "submissions_per_day" and body["limit"] == 2 and body["used"] == 2
    assert body["resets_at"].endswith("T00:00:00.000Z")
    assert int(r.headers["Retry-After"]) > 0


def test_the_concurrency_quota_counts_unfinished_submissions(gw):
    k = gw.new_key("--concurrent=1", "--rate=1000", "--burst=1000")
    # a program that sleeps keeps the first one unfinished while the second is refused
    r = gw.post("/submissions", k, json={"source_code": "import time\ntime.sleep(3)\n", "language_id": PY_ID})
    assert r.status_code == 201, r.text
    r2 = gw.post("/submissions", k, json={"source_code": PY_HELLO, "language_id": PY_ID})
    if r2.status_code == 201:
        pytest.fail("a second submission was admitted while the first was unfinished")
    assert r2.status_code == 429 and r2.json()["quota"] == "concurrent_submissions"
    # the first one ends, and is seen to (the history learns it): the quota admits again
    token = r.json()["token"]
    assert wait_for(lambda: gw.get(f"/submissions/{token}", k).json()["status"]["id"] == 3, 60)
    assert wait_for(lambda: gw.post("/submissions", k, params={"wait": "true"},
                                    json={"source_code": PY_HELLO, "language_id": PY_ID}).status_code == 201, 30)


def test_a_keys_rate_limit_answers_429_with_its_headers(gw):
    k = gw.new_key("--rate=0.001", "--burst=2")
    r1 = gw.get("/statuses", k)
    assert r1.status_code == 200
    assert r1.headers["RateLimit-Limit"] == "2" and r1.headers["RateLimit-Remaining"] == "1"
    assert gw.get("/statuses", k).status_code == 200
    r = gw.get("/statuses", k)
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) >= 1 and r.headers["RateLimit-Remaining"] == "0"
    assert "rate limit exceeded for this API key" in r.json()["error"]
    assert gw.metric('coderunner_gateway_ratelimit_decisions_total{decision="limited"}') >= 1


# ---- the strict proxy ----

def test_routes_off_the_list_are_404(gw, key):
    for path in ["/authenticate", "/admin", "/submissions/x/y", "/../etc/passwd"]:
        assert gw.get(path, key).status_code == 404, path
    assert gw.post("/authorize", key).status_code == 404


def test_malformed_and_oversized_bodies_are_refused_before_forwarding(gw, key):
    r = gw.post("/submissions", key, data="{bad", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["error"]
    r = gw.post("/submissions", key, data=b"x" * (17 * 1024 * 1024), headers={"Content-Type": "application/json"})
    assert r.status_code == 413


def test_internal_headers_from_clients_are_not_forwarded(gw, key):
    # a client posing as the gateway reaches nothing more: the admin header it sends is
    # dropped, the gateway adds it only for admin keys
    r = gw.get("/workers", key, headers={"X-Coderunner-Admin": INTERNAL, "X-Coderunner-Internal": INTERNAL})
    assert r.status_code == 403


def test_a_malformed_token_is_404(gw, key):
    assert gw.get("/submissions/not-a-token", key).status_code == 404


# ---- sessions, accounts, history ----

def test_a_session_cookie_is_signed_httponly_and_samesite(gw):
    r = requests.post(gw.url + "/session", timeout=10)
    assert r.status_code == 201
    cookie = r.headers["Set-Cookie"]
    assert cookie.startswith("coderunner_session=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    body = r.json()
    assert body["session"]["user"] is None and body["accounts"] is True


def test_a_forged_or_tampered_cookie_is_refused(gw):
    s = session(gw)
    value = s.cookies["coderunner_session"]
    forged = value[:-1] + ("0" if value[-1] != "0" else "1")
    r = requests.get(gw.url + "/languages", cookies={"coderunner_session": forged}, timeout=10)
    assert r.status_code == 401 and "session" in r.json()["error"]
    r = requests.get(gw.url + "/session", cookies={"coderunner_session": "x.y"}, timeout=10)
    assert r.status_code == 401


def test_a_session_runs_and_finds_its_history(gw):
    s = session(gw)
    r = s.post(gw.url + "/submissions", params={"wait": "true"},
               json={"source_code": PY_HELLO, "language_id": PY_ID, "stdin": "in"}, timeout=90)
    assert r.status_code == 201, r.text
    token = r.json()["token"]

    def listed():
        h = s.get(gw.url + "/history", timeout=10).json()
        return h if h["items"] and h["items"][0]["status"]["id"] == 3 else None
    h = wait_for(listed, 30)
    assert h, "the run never showed in the history as finished"
    item = h["items"][0]
    assert item["token"] == token and item["source_code"] == PY_HELLO and item["stdin"] == "in"
    assert item["language_id"] == PY_ID and item["status"]["description"] == "Accepted"
    # another session sees neither the history nor the submission
    other = session(gw)
    assert other.get(gw.url + "/history", timeout=10).json()["items"] == []
    assert other.get(gw.url + f"/submissions/{token}", timeout=10).status_code == 404
    # delete it from the history
    assert other.delete(gw.url + f"/history/{token}", timeout=10).status_code == 404
    assert s.delete(gw.url + f"/history/{token}", timeout=10).status_code == 204
    assert s.get(gw.url + "/history", timeout=10).json()["items"] == []


def test_history_pages_with_a_cursor(gw):
    k = gw.new_key("--rate=1000", "--burst=1000")
    tokens = [gw.post("/submissions", k, json={"source_code": PY_HELLO, "language_id": PY_ID}).json()["token"]
              for _ in range(5)]
    seen, cursor = [], None
    while True:
        params = {"limit": "2"} | ({"cursor": cursor} if cursor else {})
        page = gw.get("/history", k, params=params).json()
        seen += [i["token"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == tokens[::-1]
    assert gw.get("/history", k, params={"limit": "0"}).status_code == 400
    assert gw.get("/history", k, params={"limit": "abc"}).status_code == 400


# ---- short share links ----

SHARE = "2." + "eJyrVkrLz1eyUkpKLFKqBQAlKwSm" * 40


def test_share_links_round_trip(gw):
    """A session (the IDE) keeps a link's text under a short id; any key or session reads it
    back whole; nothing without credentials, and a read-only key cannot make one."""
    s = session(gw)
    r = s.post(gw.url + "/shares", json={"data": SHARE}, timeout=30)
    assert r.status_code == 201, r.text
    made = r.json()
    assert set(made) == {"id", "data", "created_at"} and made["data"] == SHARE
    assert re.fullmatch(r"[A-Za-z0-9_-]{12}", made["id"]), made
    other = session(gw)
    got = other.get(gw.url + "/shares/" + made["id"], timeout=30)
    assert got.status_code == 200 and got.json() == made, got.text
    assert "immutable" in got.headers["Cache-Control"]
    k = gw.new_key("--scope=read")
    assert gw.get("/shares/" + made["id"], k).json()["data"] == SHARE
    assert gw.post("/shares", k, json={"data": SHARE}).status_code == 403
    assert requests.get(gw.url + "/shares/" + made["id"], timeout=10).status_code == 401
    assert requests.post(gw.url + "/shares", json={"data": SHARE}, timeout=10).status_code == 401
    # two links of the same text are two ids
    assert s.post(gw.url + "/shares", json={"data": SHARE}, timeout=30).json()["id"] != made["id"]


def test_share_links_refuse_bad_input(gw):
    s = session(gw)
    for body, status, words in (
            ({}, 400, "data is missing"),
            ({"data": 5}, 400, "data is not a string"),
            ({"data": ""}, 422, "data is empty"),
            ({"data": "has space"}, 422, "printable ASCII"),
            ({"data": "é"}, 422, "printable ASCII"),
            ({"data": "x" * (64 * 1024 + 1)}, 422, "longer than 65536 bytes")):
        r = s.post(gw.url + "/shares", json=body, timeout=30)
        assert r.status_code == status and words in r.text, (body if len(str(body)) < 80 else "long", r.text)
    r = s.post(gw.url + "/shares", data=b"not json", headers={"Content-Type": "application/json"}, timeout=30)
    assert r.status_code == 400, r.text
    assert s.post(gw.url + "/shares", json={"data": "x" * (64 * 1024)}, timeout=30).status_code == 201
    for missing in ("AAAAAAAAAAAA", "short", "AAAA.AAAA.AA", "A" * 200):
        r = s.get(gw.url + "/shares/" + missing, timeout=30)
        assert r.status_code == 404 and "no such share link" in r.text, (missing, r.text)


def test_accounts_register_login_logout(gw):
    name = f"ann{time.monotonic_ns() % 10**9}"
    s = session(gw)
    r = s.post(gw.url + "/auth/register", json={"username": name, "password": "correct horse"}, timeout=30)
    assert r.status_code == 201, r.text
    assert r.json() == {"user": {"name": name}}
    assert s.get(gw.url + "/session", timeout=10).json()["session"]["user"] == {"name": name}
    token = s.post(gw.url + "/submissions", params={"wait": "true"},
                   json={"source_code": PY_HELLO, "language_id": PY_ID}, timeout=90).json()["token"]
    # the same name again
    s2 = session(gw)
    r = s2.post(gw.url + "/auth/register", json={"username": name, "password": "another one"}, timeout=30)
    assert r.status_code == 409
    # a wrong password, then the right one from another browser: the user's history follows
    r = s2.post(gw.url + "/auth/login", json={"username": name, "password": "wrong horse"}, timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "wrong username or password"
    r = s2.post(gw.url + "/auth/login", json={"username": "nobody-here", "password": "whatever1"}, timeout=30)
    assert r.status_code == 401 and r.json()["error"] == "wrong username or password"
    r = s2.post(gw.url + "/auth/login", json={"username": name, "password": "correct horse"}, timeout=30)
    assert r.status_code == 200, r.text
    assert s2.get(gw.url + f"/submissions/{token}", timeout=10).status_code == 200
    assert token in [i["token"] for i in s2.get(gw.url + "/history", timeout=10).json()["items"]]
    assert s2.post(gw.url + "/auth/logout", timeout=10).status_code == 204
    assert s2.get(gw.url + f"/submissions/{token}", timeout=10).status_code == 404


def test_account_input_is_checked(gw):
    s = session(gw)
    r = s.post(gw.url + "/auth/register", json={"username": "a b", "password": "long enough"}, timeout=10)
    assert r.status_code == 422 and "username" in r.json()
    r = s.post(gw.url + "/auth/register", json={"username": "abcdef", "password": "short"}, timeout=10)
    assert r.status_code == 422 and "password" in r.json()
    r = s.post(gw.url + "/auth/register", json={"username": 5, "password": "long enough"}, timeout=10)
    assert r.status_code == 400 and r.json()["error"] == "username is not a string"
    r = requests.post(gw.url + "/auth/register", json={"username": "abcdef", "password": "long enough"}, timeout=10)
    assert r.status_code == 401


def test_the_client_configuration_is_what_operators_set(gw):
    gw.admin("config", "set", "notice", "maintenance at 18:00")
    gw.admin("config", "set", "languages", f"{PY_ID},{C_ID}")
    gw.admin("config", "set", "editor.keymap", "vim")
    r = requests.get(gw.url + "/client-config", timeout=10)
    assert r.status_code == 200
    c = r.json()
    assert c["notice"] == "maintenance at 18:00" and c["languages"] == [PY_ID, C_ID]
    assert c["editor"]["keymap"] == "vim" and c["editor"]["tab_size"] is None
    assert "notice = maintenance at 18:00" in gw.admin("config", "list").stdout
    gw.admin("config", "unset", "notice")
    assert requests.get(gw.url + "/client-config", timeout=10).json()["notice"] is None
    cp = gw.admin("config", "set", "editor.keymap", "emacs", check=False)
    assert cp.returncode != 0 and "default or vim" in cp.stderr
    cp = gw.admin("config", "set", "colour", "red", check=False)
    assert cp.returncode != 0 and "unknown key" in cp.stderr


# ---- the official Judge0 SDK, unchanged, through the gateway ----

def test_the_judge0_sdk_works_through_the_gateway(gw, key):
    judge0 = pytest.importorskip("judge0")
    client = judge0.Client(gw.url, headers={"X-Auth-Token": key})
    result = judge0.run(client=client, source_code=PY_HELLO, language=PY_ID)
    assert result.stdout == "hello\n", result


# ---- health, metrics, and an API node that goes away ----

def test_health_and_metrics(gw):
    h = requests.get(gw.url + "/health", timeout=10).json()
    assert h["status"] == "ok" and h["meta"] == "up" and h["upstreams"][0]["healthy"] is True
    text = requests.get(gw.url + "/metrics", timeout=10).text
    for name in ["coderunner_gateway_requests_total", "coderunner_gateway_upstream_healthy",
                 "coderunner_gateway_quota_refusals_total", "coderunner_gateway_meta_seconds_count"]:
        assert name in text, name


def test_an_api_node_that_goes_away_is_ejected_and_the_answer_is_503(tmp_path):
    up = start_upstream(tmp_path)
    g = Gateway(tmp_path, [up.url]).start()
    try:
        k = g.new_key()
        assert g.get("/statuses", k).status_code == 200
        up.stop()
        assert wait_for(lambda: requests.get(g.url + "/health", timeout=5).status_code == 503, 30)
        r = g.get("/statuses", k)
        assert r.status_code == 503 and "no API node" in r.json()["error"]
        assert r.headers["Retry-After"] == "5"
    finally:
        g.stop()
        if up.proc.poll() is None:
            up.stop()


def test_an_upstream_that_speaks_garbage_is_502(tmp_path):
    """An API node that passes its health checks but answers a create with a body that is
    no submission, or with bytes that are not HTTP at all: 502 with a reason each time."""
    import socket
    import threading
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            with c:
                try:
                    request = c.recv(65536)
                    if request.startswith(b"GET /health"):
                        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                    elif request.startswith(b"POST /submissions"):
                        c.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot json!")
                    else:
                        c.sendall(b"NOT HTTP AT ALL\r\n\r\n")
                except OSError:
                    pass
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    g = Gateway(tmp_path, [f"http://127.0.0.1:{port}"]).start()
    try:
        k = g.new_key()
        r = g.post("/submissions", k, json={"source_code": PY_HELLO, "language_id": PY_ID})
        assert r.status_code == 502 and "not a submission" in r.json()["error"], r.text
        r = g.get("/statuses", k)
        assert r.status_code == 502 and "API node" in r.json()["error"], r.text
        # a token nobody owns is not even asked for
        r = g.get("/submissions/batch", k, params={"tokens": "00000000-0000-4000-8000-000000000000"})
        assert r.status_code == 200 and r.json() == {"submissions": [None]}
    finally:
        g.stop()
        stop.set()
        t.join()
        srv.close()


def test_the_gateway_refuses_to_start_without_what_it_needs(tmp_path):
    import subprocess
    from conftest import CODERUNNER
    cp = subprocess.run([str(CODERUNNER), "gateway", "--meta=sqlite::memory:"], capture_output=True, text=True,
                        timeout=30)
    assert cp.returncode != 0 and "--upstream" in cp.stderr
    cp = subprocess.run([str(CODERUNNER), "gateway", "--meta=sqlite::memory:", "--upstream=http://127.0.0.1:1"],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode != 0 and "--internal-secret" in cp.stderr
    cp = subprocess.run([str(CODERUNNER), "gateway", "--meta=sqlite::memory:", "--upstream=ftp://x",
                         "--internal-secret=s"], capture_output=True, text=True, timeout=30)
    assert cp.returncode != 0 and "http://" in cp.stderr
    cp = subprocess.run([str(CODERUNNER), "gateway", "--meta=sqlite::memory:", "--upstream=http://127.0.0.1:1",
                         "--internal-secret=s"], capture_output=True, text=True, timeout=30)
    assert cp.returncode != 0 and "does not run as root" in cp.stderr


def test_gateways_share_rate_limits_and_quotas_through_redis(tmp_path, upstream):
    from redis_helpers import Redis
    r = Redis().start()
    g1 = g2 = None
    try:
        g1 = Gateway(tmp_path, [upstream.url], args=[f"--redis={r.url}"]).start()
        # the second gateway shares the first one's metadata store (a file) and Redis
        g2 = Gateway(tmp_path, [upstream.url], args=[f"--redis={r.url}"], meta=g1.meta).start()
        k = g1.new_key("--rate=0.001", "--burst=2", "--quota-day=1")
        assert g1.get("/statuses", k).status_code == 200
        assert g2.get("/statuses", k).status_code == 200
        refused = g1.get("/statuses", k)
        assert refused.status_code == 429, "the second gateway's request did not count on the first"
        assert requests.get(g1.url + "/health", timeout=10).json()["limiter"] == "redis"
        # Redis gone: each gateway limits on its own meanwhile (and says so in /metrics)
        r.stop()
        k2 = g1.new_key("--rate=1000", "--burst=1000")
        assert g2.get("/statuses", k2).status_code == 200
        assert g2.metric("coderunner_gateway_ratelimit_fallbacks_total") >= 1
    finally:
        for g in (g1, g2):
            if g:
                g.stop()
        r.stop()


def test_a_slow_api_node_is_504(tmp_path):
    """An API node that accepts the connection and never answers: the gateway gives up
    after --upstream-timeout and says so."""
    import socket
    import threading
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    port = srv.getsockname()[1]
    stop = threading.Event()
    held = []

    def serve():
        while not stop.is_set():
            try:
                c, _ = srv.accept()
            except OSError:
                continue
            request = c.recv(65536)
            if request.startswith(b"GET /health"):
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                c.close()
            else:
                held.append(c)  # never answered
    t = threading.Thread(target=serve, daemon=True)
    t.start()
    g = Gateway(tmp_path, [f"http://127.0.0.1:{port}"], args=["--upstream-timeout=1"]).start()
    try:
        k = g.new_key()
        r = g.get("/statuses", k)
        assert r.status_code == 504 and "did not answer in time" in r.json()["error"], r.text
    finally:
        g.stop()
        stop.set()
        t.join()
        for c in held:
            c.close()
        srv.close()


@pytest.mark.parametrize("wait", [True, False])
def test_the_daily_cpu_quota_counts_results(gw, wait):
    """CPU seconds count as results come in: read with wait=true at once, otherwise by the
    gateway's reconciler, whether or not the client ever reads the result."""
    k = gw.new_key("--cpu-day=0.0001", "--rate=1000", "--burst=1000")
    src = "x = 0\nfor i in range(300000):\n    x += i\nprint(x)\n"
    r = gw.post("/submissions", k, params={"wait": "true" if wait else "false"},
                json={"source_code": src, "language_id": PY_ID})
    assert r.status_code == 201, r.text

    def refused():
        r = gw.post("/submissions", k, json={"source_code": PY_HELLO, "language_id": PY_ID})
        return r.json() if r.status_code == 429 else None
    body = wait_for(refused, 60, interval=0.5)
    assert body, "the CPU time of the first run was never counted"
    assert body["quota"] == "cpu_seconds_per_day" and body["used"] > 0.0001


def test_client_addresses_come_from_trusted_proxies_only(tmp_path, upstream):
    """Per-address limits key on the client: X-Forwarded-For is believed from the trusted
    proxies (addresses or networks), walked from the right past every trusted hop, and
    ignored from anyone else."""
    limits = ["--ip-rate=0.001", "--ip-burst=1"]
    trusting = Gateway(tmp_path, [upstream.url], args=[*limits, "--trusted-proxies=10.9.9.9 127.0.0.0/8"]).start()
    plain = Gateway(tmp_path, [upstream.url], args=limits).start()
    try:
        def get(g, xff):
            return requests.get(g.url + "/client-config", headers={"X-Forwarded-For": xff}, timeout=10).status_code
        assert get(trusting, "198.18.0.7") == 200
        assert get(trusting, "198.18.0.7") == 429  # the same client, by its address
        assert get(trusting, "198.18.0.8") == 200  # another client
        assert get(trusting, "198.18.0.9, 127.0.0.5") == 200  # past a trusted hop
        assert get(trusting, "198.18.0.9") == 429
        assert get(trusting, "not-an-address") == 200  # believed no further than the peer
        assert get(trusting, "198.18.0.10") == 200
        # not trusted: the header is the client's own word, and ignored
        assert get(plain, "198.18.0.7") == 200
        assert get(plain, "198.18.0.8") == 429
    finally:
        trusting.stop()
        plain.stop()


def test_a_bad_trusted_proxy_list_is_refused(tmp_path):
    import subprocess
    from conftest import CODERUNNER
    cp = subprocess.run([str(CODERUNNER), "gateway", "--meta=sqlite::memory:", "--upstream=http://127.0.0.1:1",
                         "--internal-secret=s", "--trusted-proxies=10.0.0.0/33", "--user=nobody"],
                        capture_output=True, text=True, timeout=30)
    assert cp.returncode != 0 and "--trusted-proxies" in cp.stderr
