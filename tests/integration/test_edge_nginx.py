"""The public edge (deploy/nginx) under Debian's nginx, run unprivileged on loopback with a
CA and a server certificate made by the test, driven end to end over TLS.

Behind it: the real `coderunner gateway` (SQLite metadata) in front of a real API node
(`coderunner serve` refusing whatever lacks the gateway's credential), and a small Python
HTTP server standing in for the code-client (`next start` would need a Next build; the
stand-in answers every request with what it received, so the test sees the headers the
edge adds and which paths reached it)."""

import http.client
import json
import re
import shutil
import socket
import ssl
import subprocess
import time

import pytest
import requests

from api_helpers import PY_ID
from conftest import REPO, wait_for
from edge_helpers import NGINX, RENDER, CodeClientStandIn, Edge, StaticStandIn
from gateway_helpers import Gateway, start_upstream
from sse_helpers import EventStream
from ws_helpers import WebSocket


SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def body_cap():
    """MAX_REQUEST_BODY of the API node and of serve, from the source."""
    caps = set()
    for f in ("api-main.c", "serve-main.c"):
        m = re.search(r"#define MAX_REQUEST_BODY \((\d+)u \* 1024 \* 1024\)",
                      (REPO / "src" / "programs" / f).read_text())
        assert m, f"no MAX_REQUEST_BODY in {f}"
        caps.add(int(m.group(1)) * 1024 * 1024)
    assert len(caps) == 1, caps
    return caps.pop()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    if NGINX is None:
        pytest.skip("nginx is not installed (make deps-test installs it)")
    tmp = tmp_path_factory.mktemp("edge")
    api = start_upstream(tmp)
    # The edge is the gateway's trusted proxy: its X-Forwarded-For names the client.
    gw = Gateway(tmp, [api.url], args=["--trusted-proxies=127.0.0.1", "--cookie-secure=true"])
    client = CodeClientStandIn().start()
    edge = Edge(gateway=f"127.0.0.1:{gw.port}", code_client=f"127.0.0.1:{client.port}")
    try:
        gw.start()
        gw.key = gw.new_key("--scope=submit,read", "--rate=1000", "--burst=1000")
        edge.start()
        if edge.user:  # the master runs unprivileged (and so do its workers)
            uids = open(f"/proc/{edge.proc.pid}/status").read().split("\nUid:")[1].split()[:4]
            assert uids == [str(edge.user.pw_uid)] * 4, uids
        yield gw, client, edge
    finally:
        edge.stop()
        client.stop()
        gw.stop()
        api.stop()


@pytest.fixture
def gateway(stack):
    return stack[0]


@pytest.fixture
def client(stack):
    return stack[1]


@pytest.fixture
def edge(stack):
    return stack[2]


def get(edge, path, key=None, **kw):
    kw.setdefault("timeout", 30)
    if key:
        kw["headers"] = {"X-Auth-Token": key, **kw.get("headers", {})}
    return requests.get(edge.https + path, verify=str(edge.ca), **kw)


def post(edge, path, key=None, **kw):
    kw.setdefault("timeout", 150)
    if key:
        kw["headers"] = {"X-Auth-Token": key, **kw.get("headers", {})}
    return requests.post(edge.https + path, verify=str(edge.ca), **kw)


def gateway_4xx(gateway):
    """The gateway's count of 4xx answers (read from it directly, not through the edge)."""
    text = gateway.get("/metrics").text
    m = re.search(r'^coderunner_gateway_requests_total\{class="4xx"\} (\d+)$', text, re.M)
    assert m, text
    return int(m.group(1))


def assert_security_headers(r):
    for k, v in SECURITY_HEADERS.items():
        assert r.headers.get(k) == v, (k, r.headers)
    csp = r.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert r.headers["Server"] == "nginx", "the edge must not name its version"
    assert "X-Powered-By" not in r.headers
    assert re.fullmatch(r"[0-9a-f]{32}", r.headers["X-Request-Id"])


def test_submit_and_wait_through_the_edge(edge, gateway):
    key = gateway.key
    r = post(edge, "/submissions", key, params={"wait": "true"},
             json={"source_code": "print(input() * 2)", "language_id": PY_ID, "stdin": "ab"})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["status"]["id"] == 3 and sub["stdout"] == "abab\n", sub
    assert_security_headers(r)
    again = get(edge, f"/submissions/{sub['token']}", key)
    assert again.status_code == 200 and again.json()["stdout"] == "abab\n"
    # The other Judge0 and Piston routes reach the gateway too; without a key it refuses.
    assert get(edge, "/statuses", key).json()[2] == {"id": 3, "description": "Accepted"}
    assert get(edge, "/version", key).text == "1.13.1"
    assert any(rt["language"] == "python" for rt in get(edge, "/api/v2/runtimes", key).json())
    assert get(edge, "/statuses").status_code == 401


def test_browser_session_through_the_edge(edge):
    s = requests.Session()
    ca = str(edge.ca)  # per request: a Session's verify gives way to $REQUESTS_CA_BUNDLE
    r = s.post(edge.https + "/session", verify=ca, timeout=30)
    assert r.status_code == 201, r.text
    cookie = r.headers["Set-Cookie"]
    assert "coderunner_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie, cookie
    assert_security_headers(r)
    assert s.get(edge.https + "/session", verify=ca, timeout=30).status_code == 200
    assert s.get(edge.https + "/client-config", verify=ca, timeout=30).status_code == 200
    assert s.get(edge.https + "/history", verify=ca, timeout=30).json()["items"] == []


def test_the_certificate_is_checked_against_the_test_ca(edge):
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(edge.https + "/statuses", timeout=10)  # the system's CAs do not know it


def tls_handshake(edge, **ctx_settings):
    ctx = ssl.create_default_context(cafile=str(edge.ca))
    for k, v in ctx_settings.items():
        if k == "ciphers":
            ctx.set_ciphers(v)
        elif k == "alpn":
            ctx.set_alpn_protocols(v)
        else:
            setattr(ctx, k, v)
    with socket.create_connection(("127.0.0.1", edge.https_port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
            return s.version(), s.selected_alpn_protocol(), s.cipher()[0]


def test_tls_modern_protocols_and_ciphers_only(edge):
    assert tls_handshake(edge, minimum_version=ssl.TLSVersion.TLSv1_3)[0] == "TLSv1.3"
    version, _, cipher = tls_handshake(edge, maximum_version=ssl.TLSVersion.TLSv1_2)
    assert version == "TLSv1.2" and ("GCM" in cipher or "CHACHA20" in cipher), cipher
    # A TLS 1.2 client offering only CBC suites (no AEAD) finds no common cipher.
    with pytest.raises(ssl.SSLError):
        tls_handshake(edge, maximum_version=ssl.TLSVersion.TLSv1_2,
                      ciphers="ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-ECDSA-AES128-SHA256")


def test_http2(edge):
    assert tls_handshake(edge, alpn=["h2", "http/1.1"])[1] == "h2"
    curl = shutil.which("curl")
    if curl is None or "HTTP2" not in subprocess.run([curl, "-V"], capture_output=True, text=True).stdout:
        return  # the ALPN check above stands alone
    out = subprocess.run([curl, "-sS", "--http2", "--cacert", str(edge.ca), "-o", "/dev/null",
                          "-w", "%{http_version} %{http_code}", edge.https + "/statuses"],
                         capture_output=True, text=True, timeout=30)
    assert out.stdout == "2 401", (out.stdout, out.stderr)  # the gateway's answer, over HTTP/2


def test_body_cap_matches_the_api(edge, gateway):
    cap = body_cap()
    conf = edge.conf.read_text()
    assert f"client_max_body_size {cap // (1024 * 1024)}m;" in conf
    # One byte over: 413 from the edge, and the gateway never sees the request.
    before = gateway_4xx(gateway)
    conn = http.client.HTTPSConnection("127.0.0.1", edge.https_port, timeout=30,
                                       context=ssl.create_default_context(cafile=str(edge.ca)))
    conn.putrequest("POST", "/submissions")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("X-Auth-Token", gateway.key)
    conn.putheader("Content-Length", str(cap + 1))
    conn.endheaders()
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status == 413 and json.loads(body) == {"error": "request body is too large"}
    assert r.getheader("X-Content-Type-Options") == "nosniff"
    assert gateway_4xx(gateway) == before
    # Exactly the cap: the edge forwards it; the gateway refuses the body itself (not JSON).
    r = post(edge, "/submissions", gateway.key, data=b"x" * cap, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, (r.status_code, r.text[:200])
    assert gateway_4xx(gateway) == before + 1


@pytest.mark.parametrize("path", [
    "/metrics", "/health", "/openapi.json", "/metrics/", "/submissions/../metrics", "/%6detrics",
    "/submissionsx", "/languages/abc", "/api/v2/packages", "/workers/1", "/history/a/b", "/auth/forgot",
    "/index.html", "/.env"])
def test_routes_not_on_the_list_are_404_at_the_edge(edge, gateway, client, path):
    assert gateway.get("/metrics").status_code == 200  # the gateway has it; the edge hides it
    seen = len(client.paths)
    before = gateway_4xx(gateway)
    r = get(edge, path, gateway.key)
    assert r.status_code == 404 and r.json() == {"error": "Not Found"}, (r.status_code, r.text[:200])
    assert_security_headers(r)
    assert len(client.paths) == seen, f"{path} reached the code-client: {client.paths[seen:]}"
    assert gateway_4xx(gateway) == before, f"{path} reached the gateway"


def raw_get(edge, path, key):
    """GET with the path sent as it is (no client-side normalisation)."""
    conn = http.client.HTTPSConnection("127.0.0.1", edge.https_port, timeout=30,
                                       context=ssl.create_default_context(cafile=str(edge.ca)))
    conn.request("GET", path, headers={"X-Auth-Token": key})
    r = conn.getresponse()
    body = r.read()
    conn.close()
    return r.status, body


@pytest.mark.parametrize("path", ["/metrics/..%2Fstatuses", "/health/%2E%2E/statuses", "/metrics/../statuses",
                                  "/x/%2e%2e/statuses"])
def test_the_gateway_gets_the_path_the_edge_checked(edge, gateway, path):
    """A raw path that resolves to an allowed route reaches the gateway as that route,
    never as the raw text (the gateway would read "/metrics/..%2Fstatuses" its own way)."""
    status, body = raw_get(edge, path, gateway.key)
    assert status == 200 and json.loads(body)[2] == {"id": 3, "description": "Accepted"}, (status, body[:200])


def test_code_client_routes(edge, client):
    for path in ["/", "/?share=abc", "/_next/static/chunks/main.js", "/icon.svg", "/api/submissions"]:
        r = get(edge, path)
        assert r.status_code == 200 and r.json()["code_client"] and r.json()["path"] == path, (path, r.text)
        assert_security_headers(r)


def test_forwarded_headers_are_the_edges(edge):
    r = get(edge, "/", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "http",
                                "X-Request-Id": "forged"})
    seen = r.json()["headers"]
    assert seen["x-forwarded-for"] == "127.0.0.1"  # replaced, never appended to
    assert seen["x-forwarded-proto"] == "https"
    assert seen["x-request-id"] == r.headers["X-Request-Id"] != "forged"
    assert seen["host"] == f"127.0.0.1:{edge.https_port}" or seen["host"] == "127.0.0.1"


def test_plain_http_redirects_to_https(edge, gateway):
    before = gateway_4xx(gateway)
    for method in ("GET", "POST"):
        r = requests.request(method, edge.http + "/submissions?wait=true", allow_redirects=False, timeout=10)
        assert r.status_code == 301
        assert r.headers["Location"] == f"https://127.0.0.1:{edge.https_port}/submissions?wait=true"
        assert "Strict-Transport-Security" not in r.headers  # HSTS is for HTTPS answers only
    assert gateway_4xx(gateway) == before


def test_sign_in_is_rate_limited_at_the_edge(edge, gateway):
    codes = [post(edge, "/auth/login", json={"username": "ann", "password": "x"}, timeout=30)
             for _ in range(20)]
    assert codes[0].status_code != 429
    limited = [r for r in codes if r.status_code == 429]
    assert limited, [r.status_code for r in codes]
    for r in limited:
        assert r.json() == {"error": "too many requests"} and r.headers["Retry-After"] == "1"
        assert_security_headers(r)
    # Sign-in has its own zone: the API routes still answer.
    assert get(edge, "/statuses", gateway.key).status_code == 200


def test_timeouts_outlast_a_wait_true_request():
    """The edge waits for the upstream longer than the gateway does (as configured in
    deploy/), which waits longer than an API node's default wait_timeout: a wait=true
    answer comes from the API, not from a proxy's timeout."""
    conf = (REPO / "deploy" / "nginx" / "coderunner-edge.conf.in").read_text()
    edge_read = int(re.search(r"proxy_read_timeout (\d+)s;", conf).group(1))
    src = (REPO / "src" / "programs" / "server-conf.c").read_text()
    api_wait = int(re.search(r'A\(wait_timeout, CONF_SECONDS, "(\d+)"', src).group(1))
    k8s = (REPO / "deploy" / "k8s" / "gateway.yaml").read_text()
    env = (REPO / "deploy" / "systemd" / "gateway.env.example").read_text()
    gw = {int(re.search(r"CODERUNNER_UPSTREAM_TIMEOUT, value: \"(\d+)\"", k8s).group(1)),
          int(re.search(r"^CODERUNNER_UPSTREAM_TIMEOUT=(\d+)$", env, re.M).group(1))}
    assert all(api_wait < g < edge_read for g in gw), (api_wait, gw, edge_read)


def render(*args):
    base = {"--gateway": "10.1.2.3:2358", "--code-client": "code-client:3000", "--cert": "/etc/c.pem",
            "--key": "/etc/k.pem"}
    for a in args:
        base[a.split("=", 1)[0]] = a.split("=", 1)[1]
    return subprocess.run(["python3", str(RENDER), *(f"{k}={v}" for k, v in base.items())],
                          capture_output=True, text=True, timeout=30)


def test_render_fills_every_placeholder():
    r = render("--gateway=10.1.2.3:2358,[fd00::5]:2358,gw.internal:2358", "--public-port=443")
    assert r.returncode == 0, r.stderr
    assert not re.search(r"@[A-Z_]+@", r.stdout)
    assert "server [fd00::5]:2358 max_fails=3 fail_timeout=10s;" in r.stdout
    assert "server gw.internal:2358 " in r.stdout and "server code-client:3000 " in r.stdout
    assert "return 301 https://$host$request_uri;" in r.stdout  # no :443 in the redirect


@pytest.mark.parametrize("arg", [
    "--gateway=10.1.2.3:2358; include /etc/passwd",
    "--gateway=10.1.2.3:2358\n}",
    "--gateway=10.1.2.3",
    "--gateway=10.1.2.3:70000",
    "--gateway=10.1.2.3:\uff18\uff10",  # full-width digits are digits to Python, not to nginx
    "--gateway=[zz::1]:80",
    "--gateway=10.1.2.3:80,",
    "--gateway=",
    "--code-client=a b:80",
    "--cert=relative.pem",
    "--key=/etc/k.pem;",
    "--access-log=/var/log/$x",
    "--server-name=a;b",
    "--https-listen=name.example:443",
    "--http-listen=0",
])
def test_render_refuses_what_could_break_the_file(arg):
    arg = arg.encode().decode("unicode_escape")
    r = render(arg)
    assert r.returncode == 2 and r.stdout == "", (arg, r.stdout[:200])
    assert r.stderr.startswith("render.py: " + arg.split("=")[0]), r.stderr


def test_the_gateways_429_passes_unchanged(edge, gateway):
    """A key over its own rate: the gateway's 429, its Retry-After (once: the edge adds its
    own only to the 429s it makes) and RateLimit-* headers reach the client."""
    key = gateway.new_key("--scope=submit,read", "--rate=0.01/s", "--burst=1")
    assert get(edge, "/statuses", key).status_code == 200
    r = get(edge, "/statuses", key)
    assert r.status_code == 429 and r.json() != {"error": "too many requests"}, r.text
    assert len(r.raw.headers.getlist("Retry-After")) == 1 and int(r.headers["Retry-After"]) > 1
    assert r.headers["RateLimit-Limit"] == "1" and r.headers["RateLimit-Remaining"] == "0"
    assert_security_headers(r)


def test_connections_per_address_are_limited(edge, gateway):
    """64 requests at once from one address: the 65th is refused (429) at the edge. Each
    held request has sent its headers and is still sending its body, which nginx counts
    as a request in progress (the gateway sees none of them: nginx buffers a body first)."""
    limit = int(re.search(r"limit_conn coderunner_conn (\d+);", edge.conf.read_text()).group(1))
    ctx = ssl.create_default_context(cafile=str(edge.ca))
    held = []
    try:
        for _ in range(limit):
            s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", edge.https_port), timeout=30),
                                server_hostname="127.0.0.1")
            s.sendall(b"POST /submissions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      b"Content-Length: 1000\r\n\r\n{")
            held.append(s)
        # nginx counts a request once it has read its headers: wait until all are counted.
        deadline = time.monotonic() + 30
        while True:
            r = get(edge, "/statuses", gateway.key)
            if r.status_code == 429:
                break
            assert r.status_code == 200, r.text
            assert time.monotonic() < deadline, f"never refused past {limit} requests in progress"
        assert r.json() == {"error": "too many requests"} and r.headers["Retry-After"] == "1"
        held.pop().close()  # one fewer in progress: the next is served again
        deadline = time.monotonic() + 30
        while get(edge, "/statuses", gateway.key).status_code != 200:
            assert time.monotonic() < deadline, "the limit did not let go"
    finally:
        for s in held:
            s.close()


WEB_OUT = REPO / "web" / "out"
CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make deps-web-e2e installs it)")
@pytest.mark.skipif(not (WEB_OUT / "index.html").exists(), reason="the IDE is not built (make web)")
def test_the_ide_runs_under_the_edges_content_security_policy(gateway, tmp_path):
    """The IDE's page and scripts (its static export, which has the same inline scripts as
    `next start`) through the edge in headless Chromium: CodeMirror's editor appears, so
    the scripts ran, and the browser reports no Content-Security-Policy violation."""
    ide = StaticStandIn(WEB_OUT).start()
    edge = Edge(gateway=f"127.0.0.1:{gateway.port}", code_client=f"127.0.0.1:{ide.port}")
    try:
        edge.start()
        r = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path}",
             # The test CA is not the browser's: TLS is checked by the tests above.
             "--ignore-certificate-errors", "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
             "--dump-dom", edge.https + "/"],
            capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        violations = [l for l in r.stderr.splitlines() if "Content Security Policy" in l]
        assert not violations, "\n".join(violations)
        assert 'class="cm-content' in r.stdout, r.stdout[:2000]
    finally:
        edge.stop()
        ide.stop()


# ---- live streams through the edge ----

def past_the_edges_limit(send):
    """send() again while the edge answers 429 (the tests before flood it on purpose; a 429
    of the edge was never forwarded, so sending again is safe): the first other answer."""
    return wait_for(lambda: (lambda r: r if r.status_code != 429 else None)(send()), 60, 0.2)


def test_live_events_through_the_edge_unbuffered(edge, gateway):
    """The first event reaches the client while the program still runs: the edge passes
    each event on as it comes (a buffering proxy would hold them to the end)."""
    key = gateway.key
    r = past_the_edges_limit(lambda: post(edge, "/submissions", key, json={
        "source_code": "import time\ntime.sleep(6)\nprint('done')\n", "language_id": PY_ID}))
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    es = EventStream(edge.https, token, headers={"X-Auth-Token": key}, verify=str(edge.ca))
    assert es.status_code == 200 and es.response.headers["Content-Type"].startswith("text/event-stream")
    it = es.events()
    assert next(it)[0] == "status"
    assert get(edge, f"/submissions/{token}", key).json()["status"]["id"] in (1, 2)
    rest = list(it)
    assert rest[-1][0] == "result" and '"stdout":"done\\n"' in rest[-1][1], rest
    es.close()


def test_interactive_runs_through_the_edge(edge, gateway):
    """Piston's WebSocket over TLS through the edge, at /api/v2/connect (API clients) and at
    /api/api/v2/connect (the IDE's API prefix), line by line."""
    ctx = ssl.create_default_context(cafile=str(edge.ca))

    def handshake(path, headers):
        def once():
            ws = WebSocket(edge.https, path=path, headers=headers, ssl_context=ctx)
            if ws.status != 429:
                return ws
            ws.sock.close()
            return None
        return wait_for(once, 60, 0.2)

    for path in ("/api/v2/connect", "/api/api/v2/connect"):
        ws = handshake(path, {"X-Auth-Token": gateway.key})
        assert ws.status == 101, path
        ws.send({"type": "init", "language": "python", "version": "*",
                 "files": [{"content": "import sys\nfor line in sys.stdin:\n    print('got', line.strip(), flush=True)\n"}]})
        assert [ws.recv()["type"], ws.recv()] == ["runtime", {"type": "stage", "stage": "run"}]
        ws.send({"type": "data", "stream": "stdin", "data": "hi\n"})
        assert ws.recv() == {"type": "data", "stream": "stdout", "data": "got hi\n"}
        ws.send({"type": "data", "stream": "stdin", "data": "bye\n", "eof": True})
        msgs, code = ws.messages_until_close()
        assert code == 4999 and msgs[-1]["type"] == "exit" and msgs[-1]["code"] == 0, (path, msgs)
    # Without credentials the gateway refuses the handshake.
    assert handshake("/api/v2/connect", None).status == 401


def test_short_share_links_through_the_edge(edge, gateway):
    r = past_the_edges_limit(lambda: post(edge, "/shares", gateway.key, json={"data": "z=abc"}))
    assert r.status_code == 201, r.text
    assert get(edge, "/shares/" + r.json()["id"], gateway.key).json()["data"] == "z=abc"
