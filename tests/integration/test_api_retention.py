"""Retention (issue 15, item 5): `coderunner serve --retention-max-bytes / --retention-max-age`
purges the inputs and outputs of old finished submissions in the background while requests
keep flowing; a purged token reads as gone (410 with its token and status), not as unknown
(404); the SQLite file gives the pages back. The same against PostgreSQL."""

import sqlite3
import time

from api_helpers import PY_ID, Server
from test_api_postgres import postgres  # noqa: F401 (the fixture)

DEADLINE = 60
PAD = 20000  # bytes of comment in each source: the payload the size policy counts
LIMIT = 300000  # --retention-max-bytes
N = 60


def source(i):
    return f"print({i})\n#" + "x" * PAD + "\n"


class SqliteDb:
    def __init__(self, server):
        self.path = server.data_dir / "coderunner.db"

    def value(self, sql):
        with sqlite3.connect(self.path, timeout=30) as db:
            return db.execute(sql).fetchone()[0]

    def live_bytes(self):
        return self.value("SELECT coalesce(sum(payload_bytes), 0) FROM submissions")

    def purged(self):
        return self.value("SELECT count(*) FROM purged_submissions")


class PgDb:
    def __init__(self, pg, url):
        self.pg, self.url = pg, url

    def live_bytes(self):
        return int(self.pg.query(
            self.url, "SELECT coalesce(sum(payload_bytes), 0) FROM submissions"))

    def purged(self):
        return int(self.pg.query(self.url, "SELECT count(*) FROM purged_submissions"))


def wait_for(cond, what):
    end = time.monotonic() + DEADLINE
    while not cond():
        assert time.monotonic() < end, f"not within {DEADLINE}s: {what}"
        time.sleep(0.05)


def flow_and_purge(server, db):
    """Submit N while the purger runs; every request answers; the oldest become tombstones."""
    tokens = []
    for i in range(N):
        r = server.submit({"source_code": source(i), "language_id": PY_ID}, {"wait": "true"})
        assert r.status_code == 201, r.text
        assert r.json()["status"]["id"] == 3, r.text
        tokens.append(r.json()["token"])
        # reads interleave with the purge: the submission or its tombstone, nothing else
        g = server.get(f"/submissions/{tokens[i // 2]}")
        assert g.status_code in (200, 410), g.text

    wait_for(lambda: db.live_bytes() <= LIMIT, "the live payload under the limit")
    # everything over the limit, oldest first, and no more than that
    assert N - LIMIT // PAD - 2 <= db.purged() < N, db.purged()

    gone = server.get(f"/submissions/{tokens[0]}")
    assert gone.status_code == 410, gone.text
    body = gone.json()
    assert body["token"] == tokens[0]
    assert body["status"]["id"] == 3
    assert body["purged_at"] and body["finished_at"]
    assert "purged" in body["error"]

    kept = server.get(f"/submissions/{tokens[-1]}", params={"fields": "source_code,stdout"})
    assert kept.status_code == 200, kept.text
    assert kept.json()["source_code"] == source(N - 1)
    assert kept.json()["stdout"] == f"{N - 1}\n"

    # unknown stays unknown
    unknown = server.get("/submissions/00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
    return tokens


def test_purge_by_size_sqlite(tmp_path):
    s = Server(tmp_path / "data", args=["--workers=2", f"--retention-max-bytes={LIMIT}",
                                        "--retention-interval=0.1"]).start()
    try:
        db = SqliteDb(s)
        flow_and_purge(s, db)
        # the pages of what was purged went back: far below what was submitted
        size = db.value("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")
        assert size < N * PAD // 2, size
        assert db.value("PRAGMA freelist_count") < 64
        assert "retention: purged=" in s.read_log()
    finally:
        s.stop()


def test_purge_by_size_postgres(postgres, tmp_path):
    url = postgres.create_database()
    s = Server(tmp_path / "data", args=["--workers=2", f"--store={url}", f"--retention-max-bytes={LIMIT}",
                                        "--retention-interval=0.1"]).start()
    try:
        flow_and_purge(s, PgDb(postgres, url))
    finally:
        s.stop()


def test_purge_by_age(tmp_path):
    s = Server(tmp_path / "data", args=["--workers=1", "--retention-max-age=1",
                                        "--retention-interval=0.1"]).start()
    try:
        tokens = []
        for i in range(3):
            r = s.submit({"source_code": source(i), "language_id": PY_ID}, {"wait": "true"})
            assert r.status_code == 201 and r.json()["status"]["id"] == 3, r.text
            tokens.append(r.json()["token"])
        for t in tokens:
            wait_for(lambda: s.get(f"/submissions/{t}").status_code == 410, f"{t} purged by age")
        db = SqliteDb(s)
        assert db.purged() == 3
        assert db.live_bytes() == 0
    finally:
        s.stop()


def test_retention_off_by_default(tmp_path):
    s = Server(tmp_path / "data", args=["--workers=1"]).start()
    try:
        r = s.submit({"source_code": source(0), "language_id": PY_ID}, {"wait": "true"})
        assert r.status_code == 201, r.text
        assert "retention" not in s.read_log()
        assert SqliteDb(s).purged() == 0
        assert s.get(f"/submissions/{r.json()['token']}").status_code == 200
    finally:
        s.stop()
