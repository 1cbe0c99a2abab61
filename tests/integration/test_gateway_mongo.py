"""The gateway on MongoDB (a real MongoDB-wire server, FerretDB), and what it does while
that server is down: /health says so; keys read before keep working from the cache; new
submissions go through, their history waiting in the outbox until the server is back;
what needs the store and has no cached answer gets 503. Nothing is lost."""

import pytest
import requests

from api_helpers import PY_ID
from conftest import wait_for
from ferretdb_helpers import FerretDB, ferretdb_binary
from gateway_helpers import Gateway, start_upstream

PY_HELLO = 'print("hello")\n'


@pytest.fixture(scope="module")
def ferret():
    binary, why = ferretdb_binary()
    if not binary:
        pytest.skip(f"no FerretDB: {why}")
    f = FerretDB(binary).start()
    yield f
    f.remove()


@pytest.fixture(scope="module")
def stack(tmp_path_factory, ferret):
    tmp = tmp_path_factory.mktemp("gateway-mongo")
    up = start_upstream(tmp)
    g = Gateway(tmp, [up.url], meta=ferret.url, args=["--accounts=true"]).start()
    yield g
    g.stop()
    up.stop()


def history_tokens(g, key):
    return [i["token"] for i in g.get("/history", key, params={"limit": "100"}).json()["items"]]


def test_keys_sessions_and_history_live_in_mongodb(stack):
    g = stack
    key = g.new_key("--rate=1000", "--burst=1000")
    r = g.post("/submissions", key, params={"wait": "true"}, json={"source_code": PY_HELLO, "language_id": PY_ID})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert wait_for(lambda: token in history_tokens(g, key), 30)
    s = requests.Session()
    assert s.post(g.url + "/session", timeout=10).status_code == 201
    assert s.post(g.url + "/auth/register", json={"username": "mongo-user", "password": "long enough"},
                  timeout=30).status_code == 201
    assert s.get(g.url + "/session", timeout=10).json()["session"]["user"] == {"name": "mongo-user"}
    assert requests.get(g.url + "/health", timeout=10).json()["meta"] == "up"


def test_an_outage_of_the_store_loses_nothing(stack, ferret):
    g = stack
    key = g.new_key("--rate=1000", "--burst=1000")
    assert g.get("/statuses", key).status_code == 200  # read once: now in the cache
    before = g.post("/submissions", key, params={"wait": "true"},
                    json={"source_code": PY_HELLO, "language_id": PY_ID}).json()["token"]
    assert wait_for(lambda: before in history_tokens(g, key), 30)
    unseen = g.new_key()  # created, never used: not in the gateway's cache

    ferret.stop()
    try:
        assert wait_for(lambda: requests.get(g.url + "/health", timeout=10).json()["meta"] == "down", 30), \
            "the gateway never noticed the store was down"
        h = requests.get(g.url + "/health", timeout=10)
        assert h.status_code == 200 and h.json()["status"] == "degraded"
        # the cached key still works, and runs a submission; its history waits in the outbox
        assert g.get("/statuses", key).status_code == 200
        r = g.post("/submissions", key, params={"wait": "true"}, json={"source_code": PY_HELLO, "language_id": PY_ID})
        assert r.status_code == 201, r.text
        during = r.json()["token"]
        assert g.metric("coderunner_gateway_outbox_entries") >= 1
        assert g.get(f"/submissions/{during}", key).status_code == 200  # its owner is known from the outbox
        # what needs the store and has nothing cached: 503, said plainly
        r = g.get("/statuses", unseen)
        assert r.status_code == 503 and "metadata store" in r.json()["error"]
        # a token whose owner this gateway has seen: served (owners never change)
        assert g.get(f"/submissions/{before}", key).status_code == 200
        # one it has not: only the store could say whose it is
        r = g.get("/submissions/00000000-0000-4000-8000-000000000000", key)
        assert r.status_code == 503
        assert g.get("/history", key).status_code == 503
    finally:
        ferret.start()

    assert wait_for(lambda: requests.get(g.url + "/health", timeout=10).json()["meta"] == "up", 30)
    assert wait_for(lambda: during in history_tokens(g, key), 30), "the outbox was not written back"
    assert g.metric("coderunner_gateway_outbox_entries") == 0
    assert g.metric("coderunner_gateway_history_lost_total") == 0
    assert g.get("/statuses", unseen).status_code == 200
