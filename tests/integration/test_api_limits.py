"""Queue ceiling (503), the bounded wait=true, maintenance mode, configuration, IP lists,
and slow or half-open connections."""

import socket
import time

from api_helpers import C_HELLO, C_ID, PY_ID, Server

SLOW = "import time\ntime.sleep(1)\nprint('done')\n"


def test_queue_full_and_bounded_wait(tmp_path):
    s = Server(tmp_path / "data", args=["--workers=1", "--max-queue-size=1", "--wait-timeout=0.3"]).start()
    try:
        # The bounded wait: answered with the submission as it is, still unfinished.
        t0 = time.monotonic()
        r = s.submit({"source_code": SLOW, "language_id": PY_ID}, {"wait": "true"})
        assert r.status_code == 201, r.text
        assert r.json()["status"]["id"] in (1, 2)
        assert time.monotonic() - t0 < 0.9
        first = r.json()["token"]
        # One worker busy with it; one more fits in the queue, then it is full.
        until = time.monotonic() + 10
        while s.get(f"/submissions/{first}").json()["status"]["id"] == 1:
            assert time.monotonic() < until
            time.sleep(0.02)
        r = s.submit({"source_code": SLOW, "language_id": PY_ID})
        assert r.status_code == 201, r.text
        r = s.submit({"source_code": SLOW, "language_id": PY_ID})
        assert r.status_code == 503 and r.json() == {"error": "queue is full"}
        r = s.post("/submissions/batch", json={"submissions": [{"source_code": C_HELLO, "language_id": C_ID}]})
        assert r.status_code == 503 and r.json() == {"error": "queue is full"}
        assert s.wait_final(first)["stdout"] == "done\n"
    finally:
        s.stop()


def test_maintenance_and_wait_not_allowed(tmp_path):
    s = Server(tmp_path / "data", args=["--workers=1", "--maintenance-mode", "--enable-wait-result=false"]).start()
    try:
        r = s.submit({"source_code": C_HELLO, "language_id": C_ID})
        assert r.status_code == 503 and r.json() == {"error": "Judge0 is currently in maintenance."}
        assert s.get("/config_info").json()["maintenance_mode"] is True
    finally:
        s.stop()
    s = Server(tmp_path / "data2", args=["--workers=1", "--enable-wait-result=false", "--cpu-time-limit=2"],
               env={"CODERUNNER_MAX_MEMORY_LIMIT": "256000"}).start()
    try:
        r = s.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
        assert r.status_code == 400 and r.json() == {"error": "wait not allowed"}
        c = s.get("/config_info").json()
        assert c["cpu_time_limit"] == 2.0 and c["max_memory_limit"] == 256000
        assert c["enable_wait_result"] is False
        r = s.submit({"source_code": C_HELLO, "language_id": C_ID, "memory_limit": 300000})
        assert r.status_code == 422 and "memory_limit" in r.json()
        token = s.submit({"source_code": C_HELLO, "language_id": C_ID}).json()["token"]
        assert s.wait_final(token, params={"fields": "cpu_time_limit,status"})["cpu_time_limit"] == "2.0"
    finally:
        s.stop()


def test_print_config(tmp_path):
    import subprocess
    from conftest import CODERUNNER
    out = subprocess.run([str(CODERUNNER), "serve", "--print-config", "--port=1234"], capture_output=True,
                         text=True, env={"CODERUNNER_AUTHN_TOKEN": "tok-xyz", "PATH": "/usr/bin:/bin"}, check=True)
    assert "port=1234\n" in out.stdout
    assert "authn_token=(set)\n" in out.stdout and "tok-xyz" not in out.stdout
    r = subprocess.run([str(CODERUNNER), "serve", "--bogus"], capture_output=True, text=True)
    assert r.returncode == 1 and "unknown option '--bogus'" in r.stderr


def test_config_file(tmp_path):
    import subprocess
    from conftest import CODERUNNER
    conf = tmp_path / "serve.conf"
    conf.write_text("# coderunner serve\nport = 2400\nmax-queue-size = 7\nbind = 127.0.0.2\n")
    env = {"PATH": "/usr/bin:/bin", "CODERUNNER_MAX_QUEUE_SIZE": "8"}

    def config(*args, **extra):
        r = subprocess.run([str(CODERUNNER), "serve", "--print-config", *args], capture_output=True, text=True,
                           env={**env, **extra})
        return r.returncode, r.stdout, r.stderr

    # defaults < file < environment < flags
    rc, out, _ = config(f"--config={conf}", "--bind=127.0.0.3")
    assert rc == 0 and "port=2400\n" in out and "max_queue_size=8\n" in out and "bind=127.0.0.3\n" in out
    rc, out, _ = config(CODERUNNER_CONFIG=str(conf))
    assert rc == 0 and "port=2400\n" in out
    conf.write_text("port = 2400\nworkerz = 3\n")
    rc, _, err = config(f"--config={conf}")
    assert rc == 1 and f"{conf}:2: unknown key 'workerz'" in err
    rc, _, err = config(f"--config={tmp_path}/missing.conf")
    assert rc == 1 and "cannot read" in err and "missing.conf" in err
    r = subprocess.run([str(CODERUNNER), "serve", "--help"], capture_output=True, text=True)
    assert "--config=FILE" in r.stdout and "CODERUNNER_CONFIG" in r.stdout


def test_ip_filter(tmp_path):
    s = Server(tmp_path / "data", args=["--workers=1"], env={"CODERUNNER_DISALLOW_IP": "10.0.0.1 127.0.0.1"}).start()
    try:
        r = s.get("/languages")
        assert r.status_code == 403 and r.content == b""
        assert s.submit({"source_code": C_HELLO, "language_id": C_ID}).status_code == 403
    finally:
        s.stop()
    s = Server(tmp_path / "data2", args=["--workers=1", "--allow-ip=127.0.0.1"]).start()
    try:
        assert s.get("/languages").status_code == 200
    finally:
        s.stop()


def test_slow_and_half_open_connections_do_not_exhaust_the_server(tmp_path):
    """Slowloris: many clients that send half a request and stall. The server keeps
    answering others, and drops the stalled ones after the connection timeout."""
    server = Server(tmp_path / "data", args=["--workers=1", "--connection-timeout=1",
                                               "--max-connections-per-ip=64"]).start()
    stalled = []
    try:
        for _ in range(40):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            s.sendall(b"POST /submissions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"sou")
            stalled.append(s)
        # Others are still served while those wait.
        assert server.get("/health", timeout=5).status_code == 200
        assert server.get("/languages", timeout=5).status_code == 200
        # The stalled connections are closed by the server: a read sees EOF (or a reset)
        # well after the 1 s timeout, bounded here by a deadline.
        deadline = time.monotonic() + 20
        for s in stalled:
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                data = s.recv(4096)
            except ConnectionResetError:
                data = b""
            assert data == b"" or data.startswith(b"HTTP/1.1 4"), data[:100]
    finally:
        for s in stalled:
            s.close()
        server.stop()
