"""Restart safety: what `coderunner serve` accepted before a kill -9 is judged after the
restart, and every submission gets exactly one result."""

import re

from api_helpers import PY_ID, Server

SLOW = "import time\ntime.sleep(1)\nprint('done')\n"


def test_kill9_and_restart(tmp_path):
    data = tmp_path / "data"
    first = Server(data, args=["--workers=2"]).start()
    tokens = []
    for _ in range(6):
        r = first.submit({"source_code": SLOW, "language_id": PY_ID})
        assert r.status_code == 201, r.text
        tokens.append(r.json()["token"])
    # Some are running, the others wait in the queue.
    statuses = {first.get(f"/submissions/{t}").json()["status"]["id"] for t in tokens}
    assert 1 in statuses, statuses
    first.kill9()
    first_log = first.read_log()

    second = Server(data, args=["--workers=2"], port=first.port).start()
    try:
        results = [second.wait_final(t) for t in tokens]
        for sub in results:
            assert sub["status"]["id"] == 3, sub
            assert sub["stdout"] == "done\n"
        log = second.read_log()
        assert re.search(r"requeued=\d+", log), log
        # Exactly one result written per token: the results of the first process and of the
        # second never both count, and a token is judged at most once per process.
        for t in tokens:
            written = [l for l in (first_log + log).splitlines()
                       if f"judged token={t}" in l and "already_final=true" not in l]
            assert len(written) == 1, (t, written)
        # Stable: finished_at does not change when read again.
        again = [second.get(f"/submissions/{t}", params={"fields": "finished_at"}).json() for t in tokens]
        assert again == [second.get(f"/submissions/{t}", params={"fields": "finished_at"}).json()
                         for t in tokens]
    finally:
        second.stop()
