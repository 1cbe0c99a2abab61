"""A full disk (issue 15, item 1): the data directory on a small tmpfs the test mounts in
the server's own mount namespace, filled while a submission runs, then freed. The result
that cannot be written is kept and written once space returns, never lost nor left
Processing; its wait=true client gets it; new submissions get 503 with a JSON error saying
why; /health says 503 while the store fails and recovers by itself."""

import errno
import os
import signal
import threading
import time

import requests

from api_helpers import PY_ID, Server

DEADLINE = 60
OUT = 800000
BIG = f"import time, sys\ntime.sleep(2)\nsys.stdout.write('x' * {OUT})\n"


def wait_for(cond, what):
    end = time.monotonic() + DEADLINE
    while True:
        v = cond()
        if v:
            return v
        assert time.monotonic() < end, f"not within {DEADLINE}s: {what}"
        time.sleep(0.05)


def fill(path):
    """Write until the file system is full, to the last page."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 4096):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError as e:
                    assert e.errno == errno.ENOSPC, e
                    break
    finally:
        os.close(fd)


class FullDisk:
    """A server whose data directory is a 32 MiB tmpfs in its own mount namespace, with a
    wait=true client whose result could not be written because the disk filled while it
    ran: /health already says so."""

    def __init__(self, tmp_path):
        data = tmp_path / "data"
        data.mkdir()
        mount = f'mount -t tmpfs -o size=32m tmpfs "{data}" && exec "$0" "$@"'
        self.s = Server(data, args=["--workers=1", "--wait-timeout=300", "--shutdown-grace=1"],
                        env={"CODERUNNER_AUTHZ_TOKEN": "admin"},
                        wrap=["unshare", "--mount", "--propagation", "private", "sh", "-c", mount]).start()
        # the data directory as the server sees it: its own mount of the tmpfs
        self.inside = f"/proc/{self.s.proc.pid}/root{data}"
        self.answer = {}
        self.client = threading.Thread(target=self.wait_big)

    def wait_big(self):
        try:
            self.answer["r"] = self.s.submit({"source_code": BIG, "language_id": PY_ID}, {"wait": "true"},
                                             timeout=DEADLINE * 3)
        except requests.RequestException as e:
            self.answer["r"] = e

    def fill_while_running(self):
        s = self.s
        r = s.submit({"source_code": "print('ok')\n", "language_id": PY_ID}, {"wait": "true"})
        assert r.status_code == 201 and r.json()["status"]["id"] == 3, r.text
        self.client.start()
        self.token = wait_for(lambda: next((x["token"] for x in s.get(
            "/submissions", headers={"X-Auth-User": "admin"}, params={"per_page": 1}).json()["submissions"]
            if x["status"]["id"] == 2), None), "the big one running")
        # the disk fills while it runs: its result cannot be written
        fill(f"{self.inside}/filler")
        # (a Response is false when its status is 4xx or 5xx: wrap it)
        health = wait_for(lambda: (lambda h: [h] if h.status_code == 503 else None)(s.get("/health")),
                          "/health saying the store fails")[0]
        assert health.json()["store_error"] == "No space left on device", health.text
        assert s.metric("coderunner_store_failing") == 1

    def answered(self):
        self.client.join(DEADLINE)
        assert not self.client.is_alive()
        r = self.answer["r"]
        assert isinstance(r, requests.Response) and r.status_code == 201, r
        assert r.json()["token"] == self.token
        return r.json()


def test_full_disk_keeps_the_result_and_recovers(tmp_path):
    fd = FullDisk(tmp_path)
    s = fd.s
    try:
        fd.fill_while_running()
        assert fd.client.is_alive(), f"the waiting client was answered while the result is not stored: {fd.answer}"
        sub = s.get(f"/submissions/{fd.token}").json()
        assert sub["status"]["id"] == 2, sub  # kept, not lost, not final yet

        # new submissions: 503 and why
        r = s.submit({"source_code": "print(1)\n", "language_id": PY_ID})
        assert r.status_code == 503, r.text
        assert "No space left on device" in r.json()["error"], r.text

        # space returns: everything recovers by itself
        os.unlink(f"{fd.inside}/filler")
        wait_for(lambda: s.get("/health").status_code == 200, "/health recovering")
        assert s.metric("coderunner_store_failing") == 0
        assert s.metric("coderunner_store_failed_writes_total") >= 1
        assert fd.answered()["status"]["id"] == 3
        final = s.get(f"/submissions/{fd.token}").json()
        assert final["status"]["id"] == 3 and len(final["stdout"]) == OUT
        r = s.submit({"source_code": "print(2)\n", "language_id": PY_ID}, {"wait": "true"})
        assert r.status_code == 201 and r.json()["stdout"] == "2\n", r.text
        log = s.read_log()
        assert "cannot store the result" in log and "result written after" in log, log[-3000:]
    except BaseException:
        print(s.read_log()[-5000:])
        raise
    finally:
        s.stop()


def test_a_wait_answered_before_its_kept_result_says_why(tmp_path):
    """A waiting client answered while its result is kept (here: the server is stopped) gets
    its token, the status as it is and a message saying why; the submission is handed back."""
    fd = FullDisk(tmp_path)
    s = fd.s
    try:
        fd.fill_while_running()
        s.proc.send_signal(signal.SIGTERM)
        sub = fd.answered()
        assert sub["status"]["id"] == 2, sub
        assert "the store cannot take writes (No space left on device)" in sub["message"], sub
        assert f"GET /submissions/{fd.token}" in sub["message"], sub
        s.proc.wait(DEADLINE)
        assert s.proc.returncode == 0
        assert f"worker token={fd.token} handed_back=true" in s.read_log()
    except BaseException:
        print(s.read_log()[-5000:])
        raise
    finally:
        s.stop()
