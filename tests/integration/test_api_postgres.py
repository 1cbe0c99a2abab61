"""`coderunner serve --store=postgres://...` against a PostgreSQL the test starts itself on
loopback (pg_helpers.py): a representative part of test_api_submissions.py (create and get,
wait=true, polling, base64, batch, concurrent clients), listing and deleting with
authorization, /statistics and /health, and restart safety with the queue in the shared
database. Skipped when PostgreSQL's server programs are not installed."""

import re

import pytest

from api_helpers import C_HELLO, C_ID, PY_ID, Server
from conftest import unmount_below
from pg_helpers import Postgres, find_bindir
# The same tests as against SQLite, run here with this module's `server` fixture.
from test_api_submissions import (  # noqa: F401
    test_base64_round_trip,
    test_batch,
    test_c_wait_true,
    test_concurrent_clients,
    test_python_polling,
)

SLOW = "import time\ntime.sleep(1)\nprint('done')\n"
AUTH = {"X-Auth-User": "admin"}  # list and delete need authorization


@pytest.fixture(scope="module")
def postgres():
    bindir = find_bindir()
    if not bindir:
        pytest.skip("PostgreSQL server programs (initdb, postgres) are not installed")
    pg = Postgres(bindir).start()
    yield pg
    pg.stop()


@pytest.fixture(scope="module")
def server(postgres, tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("api-pg") / "data",
               args=["--workers=4", f"--store={postgres.create_database()}"],
               env={"CODERUNNER_AUTHZ_TOKEN": "admin", "CODERUNNER_ENABLE_SUBMISSION_DELETE": "true"}).start()
    yield s
    s.stop()


def test_health_says_postgres(server):
    h = server.get("/health").json()
    assert h["status"] == "ok" and h["store"] == "postgres"
    # The SQLite file is not created: everything lives in PostgreSQL.
    assert not (server.data_dir / "coderunner.db").exists()


def test_list_and_delete(server):
    tokens = [server.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"}).json()["token"]
              for _ in range(3)]
    r = server.get("/submissions", headers=AUTH, params={"per_page": 2, "page": 1})
    assert r.status_code == 200, r.text
    body = r.json()
    total = body["meta"]["total_count"]
    assert total >= 3 and len(body["submissions"]) == 2
    assert [s["token"] for s in body["submissions"]] == tokens[:0:-1]  # newest first
    assert body["meta"]["current_page"] == 1 and body["meta"]["prev_page"] is None
    last = server.get("/submissions", headers=AUTH, params={"per_page": 2, "page": (total + 1) // 2}).json()
    assert last["meta"]["next_page"] is None and len(last["submissions"]) == 2 - total % 2

    r = server.delete(f"/submissions/{tokens[0]}", headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["token"] == tokens[0] and r.json()["stdout"] == "aGVsbG8sIHdvcmxkCg==\n"
    assert server.get(f"/submissions/{tokens[0]}").status_code == 404
    assert server.delete(f"/submissions/{tokens[0]}", headers=AUTH).status_code == 404
    after = server.get("/submissions", headers=AUTH, params={"per_page": 1}).json()
    assert after["meta"]["total_count"] == total - 1


def test_statistics(server):
    server.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
    st = server.get("/statistics", params={"invalidate_cache": "true"}).json()
    assert st["submissions"]["total"] >= 1 and st["submissions"]["today"] >= 1
    assert any(e["language"]["id"] == C_ID and e["count"] >= 1 for e in st["languages"])
    assert sum(e["count"] for e in st["statuses"]) == st["submissions"]["total"]
    assert st["database"]["size_in_bytes"] > 1_000_000  # a PostgreSQL database: several MB
    assert re.fullmatch(r"\d+ (kB|MB|GB)", st["database"]["size_pretty"])


def test_kill9_and_restart(postgres, tmp_path):
    store = f"--store={postgres.create_database()}"
    first = Server(tmp_path / "data", args=["--workers=2", store]).start()
    tokens = []
    for _ in range(6):
        r = first.submit({"source_code": SLOW, "language_id": PY_ID})
        assert r.status_code == 201, r.text
        tokens.append(r.json()["token"])
    statuses = {first.get(f"/submissions/{t}").json()["status"]["id"] for t in tokens}
    assert 1 in statuses, statuses
    first.kill9()
    first_log = first.read_log()

    # A new data directory: what survives is in PostgreSQL only.
    second = Server(tmp_path / "data2", args=["--workers=2", store], port=first.port).start()
    try:
        results = [second.wait_final(t) for t in tokens]
        assert all(sub["status"]["id"] == 3 and sub["stdout"] == "done\n" for sub in results), results
        log = second.read_log()
        assert re.search(r"requeued=\d+", log), log
        for t in tokens:
            written = [l for l in (first_log + log).splitlines()
                       if f"judged token={t}" in l and "already_final=true" not in l]
            assert len(written) == 1, (t, written)
    finally:
        second.stop()
        # The killed server's work tmpfs stay until a server starts on its data directory
        # again; none will here: take them off.
        unmount_below(tmp_path / "data")
