"""SIGTERM and SIGINT (issue 15, item 3): the server stops accepting, answers every waiting
wait=true client with its token and the current status (as a wait that timed out), finishes
or hands back the running work within the grace period, and exits 0; what it handed back
is judged after a restart, nothing is lost."""

import signal
import socket
import threading
import time

import pytest
import requests

from api_helpers import PY_ID, Server

SLOW = "import time\ntime.sleep(6)\nprint('done')\n"  # longer than the grace period
DEADLINE = 60


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_answers_every_waiting_client(tmp_path, sig):
    data = tmp_path / "data"
    s = Server(data, args=["--workers=1", "--wait-timeout=600", "--shutdown-grace=1"]).start()
    n = 4
    answers = [None] * n

    def client(i):
        try:
            answers[i] = s.submit({"source_code": SLOW, "language_id": PY_ID}, {"wait": "true"}, timeout=DEADLINE)
        except requests.RequestException as e:
            answers[i] = e

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    end = time.monotonic() + DEADLINE
    while s.metric("coderunner_http_waiting_requests") < n:
        assert time.monotonic() < end, "the clients did not all wait"
        time.sleep(0.05)

    s.proc.send_signal(sig)
    for t in threads:
        t.join(DEADLINE)
    tokens, statuses = [], []
    for a in answers:
        assert isinstance(a, requests.Response), f"a waiting client got no answer: {a!r}"
        assert a.status_code == 201, a.text
        body = a.json()
        tokens.append(body["token"])
        statuses.append(body["status"]["id"])
    assert len(set(tokens)) == n
    # answered at once, as they were: the one running (one worker) and the others queued
    assert sorted(statuses) == [1] * (n - 1) + [2], statuses
    # stopped accepting: a new client is refused (not held)
    with pytest.raises(OSError):
        for _ in range(100):
            socket.create_connection(("127.0.0.1", s.port), timeout=5).close()
            time.sleep(0.05)
    s.proc.wait(DEADLINE)
    assert s.proc.returncode == 0, s.read_log()
    log = s.read_log()
    s.log.close()
    assert "handed_back=true" in log, log[-3000:]

    # handed back, not lost: every token is judged after a restart
    again = Server(data, args=["--workers=2"], port=s.port).start()
    try:
        for t in tokens:
            sub = again.wait_final(t, deadline=DEADLINE * 2)
            assert sub["status"]["id"] == 3 and sub["stdout"] == "done\n", sub
    finally:
        again.stop()
