"""Machinery of the edge test: a test CA and a server certificate (openssl CLI), a small
HTTP server standing in for the code-client (it answers every request with what it
received), and Debian's nginx run unprivileged on loopback with the rendered
deploy/nginx configuration, its own prefix, pid, temporary and log paths."""

import functools
import http.server
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from api_helpers import free_port
from conftest import REPO

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
RENDER = REPO / "deploy" / "nginx" / "render.py"
START_DEADLINE = 30


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def make_certificates(d):
    """A CA and a server certificate for 127.0.0.1 and localhost that the CA signed.
    Returns (ca.pem, server.pem, server.key)."""
    d = Path(d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run(["openssl", "req", "-x509", *ec, "-keyout", d / "ca.key", "-out", d / "ca.pem",
         "-subj", "/CN=coderunner edge test CA", "-days", "2",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    run(["openssl", "req", *ec, "-keyout", d / "server.key", "-out", d / "server.csr", "-subj", "/CN=localhost"])
    (d / "server.ext").write_text("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                                  "extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n")
    run(["openssl", "x509", "-req", "-in", d / "server.csr", "-CA", d / "ca.pem", "-CAkey", d / "ca.key",
         "-set_serial", "2", "-days", "2", "-extfile", d / "server.ext", "-out", d / "server.pem"])
    return d / "ca.pem", d / "server.pem", d / "server.key"


class CodeClientStandIn:
    """Answers every request with 200 and JSON {"code_client": true, "method", "path",
    "headers"}, and remembers the paths it was asked for."""

    def __init__(self):
        self.paths = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                outer.paths.append(self.path)
                body = json.dumps({"code_client": True, "method": self.command, "path": self.path,
                                   "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-Powered-By", "stand-in")  # the edge must hide it
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_HEAD = answer

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


class StaticStandIn:
    """Serves a directory (the IDE's static export) the way the code-client serves its page
    and assets."""

    def __init__(self, directory):
        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        handler = functools.partial(Quiet, directory=str(directory))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    start = CodeClientStandIn.start
    stop = CodeClientStandIn.stop


def unprivileged_user():
    """nobody when the test runs as root (nginx then runs as nobody), else the caller."""
    if os.geteuid() != 0:
        return None
    return pwd.getpwnam("nobody")


class Edge:
    """nginx with the rendered edge configuration in a directory of its own."""

    def __init__(self, gateway, code_client):
        self.user = unprivileged_user()
        # Under /tmp, not pytest's 0700 directory, so that nobody can reach it.
        self.dir = Path(tempfile.mkdtemp(prefix="coderunner-edge-"))
        self.dir.chmod(0o755)
        self.ca, self.cert, self.key = make_certificates(self.dir)
        self.https_port, self.http_port = free_port(), free_port()
        self.https = f"https://127.0.0.1:{self.https_port}"
        self.http = f"http://127.0.0.1:{self.http_port}"
        self.error_log = self.dir / "error.log"
        self.access_log = self.dir / "access.log"
        self.conf = self.dir / "edge.conf"
        subprocess.run([
            "python3", str(RENDER), f"--gateway={gateway}", f"--code-client={code_client}",
            f"--cert={self.cert}", f"--key={self.key}", f"--https-listen=127.0.0.1:{self.https_port}",
            f"--http-listen=127.0.0.1:{self.http_port}", f"--access-log={self.access_log}",
            f"--output={self.conf}"], check=True)
        # The main file Debian's /etc/nginx/nginx.conf would be, with every path in self.dir.
        self.main = self.dir / "nginx.conf"
        d = self.dir
        self.main.write_text(
            f"worker_processes 1;\npid {d}/nginx.pid;\nerror_log {self.error_log} info;\n"
            "events { worker_connections 256; }\n"
            "http {\n"
            f"    client_body_temp_path {d}/tmp/body;\n    proxy_temp_path {d}/tmp/proxy;\n"
            f"    fastcgi_temp_path {d}/tmp/fastcgi;\n    uwsgi_temp_path {d}/tmp/uwsgi;\n"
            f"    scgi_temp_path {d}/tmp/scgi;\n    access_log off;\n"
            f"    include {self.conf};\n}}\n")
        (d / "tmp").mkdir()
        if self.user:
            for p in [d, *d.rglob("*")]:
                os.chown(p, self.user.pw_uid, self.user.pw_gid)
        self.proc = None

    def start(self):
        kw = {}
        if self.user:
            kw = dict(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
        self.proc = subprocess.Popen(
            [NGINX, "-p", str(self.dir), "-c", str(self.main), "-e", str(self.error_log), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True, **kw)
        deadline = time.monotonic() + START_DEADLINE
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited with {self.proc.returncode}:\n{self.read_log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.https_port), timeout=1):
                    return self
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"nginx did not listen in {START_DEADLINE}s:\n{self.read_log()}")
            time.sleep(0.05)

    def read_log(self):
        return self.error_log.read_text(errors="replace") if self.error_log.exists() else ""

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: the master stops its workers
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
