"""Callbacks: a PUT of the result to callback_url (Judge0's 8 default fields, base64),
signed when a secret is configured, refused to private addresses unless allowed."""

import base64
import hashlib
import hmac
import http.server
import json
import queue
import threading
import time

from api_helpers import C_HELLO, C_ID, Server


class Receiver:
    def __init__(self):
        self.received = queue.Queue()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.put((self.path, dict(self.headers), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_callback_delivered_and_signed(tmp_path):
    rcv = Receiver()
    s = Server(tmp_path / "data", args=["--workers=1", "--callbacks-allow-private", "--callbacks-secret=s3cret"]).start()
    try:
        r = s.submit({"source_code": C_HELLO, "language_id": C_ID, "callback_url": rcv.url})
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        path, headers, body = rcv.received.get(timeout=60)
        assert path == "/hook"
        assert headers["Content-Type"] == "application/json"
        sub = json.loads(body)
        assert sub["token"] == token and sub["status"]["id"] == 3
        assert set(sub) == {"stdout", "time", "memory", "stderr", "token", "compile_output", "message", "status"}
        assert base64.b64decode(sub["stdout"]) == b"hello, world\n"
        mac = hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
        assert headers["X-Coderunner-Signature"] == f"sha256={mac}"
        # Exactly one.
        assert rcv.received.empty()
    finally:
        s.stop()
        rcv.close()


def test_callback_to_loopback_refused_by_default(tmp_path):
    rcv = Receiver()
    s = Server(tmp_path / "data", args=["--workers=1"]).start()
    try:
        token = s.submit({"source_code": C_HELLO, "language_id": C_ID, "callback_url": rcv.url}).json()["token"]
        assert s.wait_final(token)["status"]["id"] == 3
        deadline = time.monotonic() + 30
        while f"callback token={token} delivered=false" not in s.read_log():
            assert time.monotonic() < deadline, s.read_log()
            time.sleep(0.05)
        assert "not a public address" in s.read_log()
        assert rcv.received.empty()
    finally:
        s.stop()
        rcv.close()
