"""Live answers through `coderunner gateway`, in front of a real `coderunner serve` (which
serves interactive runs): GET /submissions/:token/events relayed event by event (with the
GET's ownership rules and the gateway's stream limits), and Piston's WebSocket
GET /api/v2/connect relayed frame by frame after the gateway checked its init as it checks
POST /api/v2/execute."""

import signal
import time

import pytest
import requests

from api_helpers import PY_ID
from conftest import wait_for
from gateway_helpers import INTERNAL, Gateway, start_upstream
from sse_helpers import EventStream
# ECHO answers each line as it comes: a test waits for each answer before it sends the next.
from test_api_piston_connect import ECHO, init, stdin
from ws_helpers import Closed, WebSocket

# Long enough that a stream read while it runs sees it unfinished.
SLOW = "import time\ntime.sleep(6)\nprint('done')\n"
NODE_HEADERS = {"X-Coderunner-Internal": INTERNAL, "X-Coderunner-Admin": INTERNAL}
DEADLINE = 60


@pytest.fixture(scope="module")
def tmp_module(tmp_path_factory):
    return tmp_path_factory.mktemp("gateway-stream")


@pytest.fixture(scope="module")
def upstream(tmp_module):
    s = start_upstream(tmp_module, args=["--workers=2"])
    yield s
    s.stop()


@pytest.fixture(scope="module")
def gw(tmp_module, upstream):
    g = Gateway(tmp_module, [upstream.url], args=["--ip-rate=1000", "--ip-burst=1000"]).start()
    yield g
    g.stop()


def new_key(gw, *opts):
    return gw.new_key("--scope=submit,read", "--rate=1000", "--burst=1000", *opts)


@pytest.fixture(scope="module")
def key(gw):
    return new_key(gw)


def submit(gw, key, source):
    r = gw.post("/submissions", key, json={"source_code": source, "language_id": PY_ID})
    assert r.status_code == 201, r.text
    return r.json()["token"]


def wait_final(gw, key, token):
    """Until the submission has ended (no run outlives its test)."""
    assert wait_for(lambda: gw.get(f"/submissions/{token}", key).json()["status"]["id"] > 2, DEADLINE, 0.05)


def events(gw, key, token):
    return EventStream(gw.url, token, headers={"X-Auth-Token": key} if key else None)


def node_metric(upstream, name):
    text = requests.get(upstream.url + "/metrics", headers=NODE_HEADERS, timeout=10).text
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} in /metrics:\n{text}")


# ---- Server-Sent Events ----

def test_events_arrive_as_they_happen(gw, key):
    token = submit(gw, key, SLOW)
    es = events(gw, key, token)
    assert es.status_code == 200, es.response.text
    assert es.response.headers["Content-Type"].startswith("text/event-stream")
    it = es.events()
    name, data = next(it)
    assert name == "status"
    # The first event came while the program still runs: the gateway passed it on when the
    # API node sent it, not when the stream ended.
    r = gw.get(f"/submissions/{token}", key)
    assert r.status_code == 200 and r.json()["status"]["id"] in (1, 2), r.text
    rest = [(n, d) for n, d in it]
    assert rest[-1][0] == "result"
    assert '"stdout":"done\\n"' in rest[-1][1] and '"id":3' in rest[-1][1], rest[-1]
    assert all(n == "status" for n, _ in rest[:-1]), rest
    es.close()


def test_events_of_another_keys_token_are_404(gw, key):
    token = submit(gw, key, 'print("x")\n')
    other = new_key(gw)
    es = events(gw, other, token)
    get = gw.get(f"/submissions/{token}", other)
    assert es.status_code == 404 and get.status_code == 404
    assert es.response.json() == get.json() == {"status": 404, "error": "Not Found"}
    assert events(gw, key, "not-a-token").status_code == 404


def test_events_need_a_key(gw, key):
    token = submit(gw, key, 'print("x")\n')
    es = events(gw, None, token)
    assert es.status_code == 401 and "missing credentials" in es.response.json()["error"]
    es = events(gw, "cr_" + "x" * 43, token)
    assert es.status_code == 401


def test_a_client_leaving_ends_the_upstream_stream(gw, key, upstream):
    token = submit(gw, key, SLOW)
    es = events(gw, key, token)
    assert next(es.events())[0] == "status"
    assert wait_for(lambda: node_metric(upstream, "coderunner_event_streams") == 1, DEADLINE, 0.05)
    es.close()
    # The gateway sees its client gone and ends its request to the node, whose stream goes.
    assert wait_for(lambda: node_metric(upstream, "coderunner_event_streams") == 0, DEADLINE, 0.05)
    wait_final(gw, key, token)


def test_a_keys_streams_are_bounded_by_its_concurrency_quota(gw):
    k = new_key(gw, "--concurrent=1")
    token = submit(gw, k, SLOW)
    first = events(gw, k, token)
    assert first.status_code == 200
    second = events(gw, k, token)
    assert second.status_code == 429
    body = second.response.json()
    assert body["quota"] == "concurrent_streams" and body["limit"] == 1, body
    first.close()
    # Its stream ended: another may open.
    def reopened():
        es = events(gw, k, token)
        es.close()
        return es.status_code == 200
    assert wait_for(reopened, DEADLINE, 0.05)
    wait_final(gw, k, token)


def test_the_gateways_stream_cap_is_a_clear_503(tmp_path, upstream):
    g = Gateway(tmp_path, [upstream.url], args=["--max-streams=1"]).start()
    try:
        k = new_key(g)
        token = submit(g, k, SLOW)
        first = events(g, k, token)
        assert first.status_code == 200
        assert g.metric("coderunner_gateway_live_streams") == 1
        second = events(g, k, token)
        assert second.status_code == 503 and second.response.headers["Retry-After"] == "5"
        assert "too many live streams" in second.response.json()["error"]
        ws = WebSocket(g.url, headers={"X-Auth-Token": k})
        assert ws.status == 503
        assert 'coderunner_gateway_live_stream_refusals_total{reason="max_streams"} 2' in g.get("/metrics").text
        first.close()
        assert wait_for(lambda: g.metric("coderunner_gateway_live_streams") == 0, DEADLINE, 0.05)
        wait_final(g, k, token)
    finally:
        g.stop()


# ---- the WebSocket ----

def connect(gw, key):
    return WebSocket(gw.url, headers={"X-Auth-Token": key} if key else None)


def test_an_interactive_run_line_by_line(gw, key):
    ws = connect(gw, key)
    assert ws.status == 101
    init(ws, "python", ECHO)
    assert ws.recv()["type"] == "runtime"
    assert ws.recv() == {"type": "stage", "stage": "run"}
    for word in ["one", "two", "three"]:
        stdin(ws, word + "\n")
        # The answer to this line comes before the next line is sent.
        assert ws.recv() == {"type": "data", "stream": "stdout", "data": f"got {word}\n"}
    stdin(ws, "bye\n")
    msgs, code = ws.messages_until_close()
    assert msgs == [{"type": "data", "stream": "stdout", "data": "got bye\n"},
                    {"type": "exit", "stage": "run", "code": 0, "signal": None, "status": None, "message": None}]
    assert code == 4999  # the node's close code, passed through


def test_the_websocket_needs_a_key_with_submit(gw):
    ws = connect(gw, None)
    assert ws.status == 401
    reader = gw.new_key("--scope=read")
    assert connect(gw, reader).status == 403


def test_not_a_websocket_is_400(gw, key):
    r = gw.get("/api/v2/connect", key)
    assert r.status_code == 400 and "WebSocket handshake" in r.json()["message"]


@pytest.mark.parametrize("opts,init_kw,message", [
    (["--languages=50,54"], {}, "runtime is not allowed for this API key"),
    (["--max-wall-time-limit=2"], {"run_timeout": 5000}, "run_timeout cannot exceed the configured limit of 2000"),
    (["--max-memory-limit=64000"], {"run_memory_limit": -1},
     "run_memory_limit cannot exceed the configured limit of 65536000"),
])
def test_an_init_the_key_may_not_run_is_refused_as_execute_is(gw, opts, init_kw, message):
    k = new_key(gw, *opts)
    ws = connect(gw, k)
    init(ws, "python", ECHO, **init_kw)
    msgs, code = ws.messages_until_close()
    assert code == 4002 and len(msgs) == 1 and msgs[0]["type"] == "error", msgs
    assert message in msgs[0]["message"], msgs
    # POST /api/v2/execute refuses the same body in the same words.
    r = gw.post("/api/v2/execute", k, json={"language": "python", "version": "*",
                                            "files": [{"content": ECHO}], **init_kw})
    assert r.status_code == 400 and r.json() == {"message": msgs[0]["message"]}


def test_a_key_limited_to_some_languages_runs_those_through_piston(gw):
    """The API node, which knows a runtime's Judge0 id, applies the key's languages: python
    (71) runs for a key of 71, through execute and the WebSocket."""
    k = new_key(gw, "--languages=71")
    r = gw.post("/api/v2/execute", k, json={"language": "python", "version": "*",
                                            "files": [{"content": 'print("ok")'}]})
    assert r.status_code == 200 and r.json()["run"]["stdout"] == "ok\n", r.text
    r = gw.post("/api/v2/execute", k, json={"language": "c", "version": "*",
                                            "files": [{"content": "int main(void) { return 0; }"}]})
    assert r.status_code == 400 and r.json()["message"].endswith("runtime is not allowed for this API key")
    ws = connect(gw, k)
    init(ws, "python", ECHO)
    assert ws.recv()["type"] == "runtime"


def test_an_init_over_the_daily_quota_is_refused(gw):
    k = new_key(gw, "--quota-day=1")
    ws = connect(gw, k)
    init(ws, "python", 'print("hi")\n')
    msgs, code = ws.messages_until_close()
    assert code == 4999 and msgs[-1]["type"] == "exit", msgs
    ws = connect(gw, k)
    init(ws, "python", 'print("hi")\n')
    msgs, code = ws.messages_until_close()
    assert code == 4002 and msgs == [{"type": "error", "message": "daily submission quota exceeded"}]
    r = gw.post("/api/v2/execute", k, json={"language": "python", "version": "*",
                                            "files": [{"content": 'print("hi")\n'}]})
    assert r.status_code == 429 and r.json()["quota"] == "submissions_per_day"


def test_a_ceiling_below_the_default_is_applied_to_an_init_without_the_limit(gw):
    k = new_key(gw, "--max-wall-time-limit=1")
    ws = connect(gw, k)
    init(ws, "python", "import time\ntime.sleep(5)\n")
    msgs, code = ws.messages_until_close()
    assert code == 4999
    assert msgs[-1]["type"] == "exit" and msgs[-1]["status"] == "TO", msgs


def test_protocol_before_init_is_pistons(gw, key):
    ws = connect(gw, key)
    stdin(ws, "x\n")
    assert ws.messages_until_close() == ([], 4003)
    ws = connect(gw, key)
    ws.send_frame(0x1, b"{not json")
    msgs, code = ws.messages_until_close()
    assert code == 4002 and msgs[0]["message"].startswith("malformed JSON"), msgs
    ws = connect(gw, key)
    assert ws.messages_until_close() == ([], 4001)  # no init within a second
    ws = connect(gw, key)
    ws.send_frame(0x1, b'{"type":"init"}', mask=False)
    assert ws.messages_until_close() == ([], 1002)


def test_a_message_over_the_bound_is_refused(gw, key):
    ws = connect(gw, key)
    init(ws, "python", "#" * (4 * 1024 * 1024 + 1))
    assert ws.messages_until_close() == ([], 1009)


def node_submissions(upstream):
    r = requests.get(upstream.url + "/submissions", params={"per_page": 100, "fields": "token,status"},
                     headers=NODE_HEADERS, timeout=10)
    assert r.status_code == 200, r.text
    return {s["token"]: s["status"]["id"] for s in r.json()["submissions"]}


def test_a_client_leaving_ends_the_run(gw, key, upstream):
    before = set(node_submissions(upstream))
    ws = connect(gw, key)
    # Without its client the program would wait for input for 20 s.
    init(ws, "python", ECHO, run_timeout=20000)
    assert ws.recv()["type"] == "runtime"
    assert ws.recv() == {"type": "stage", "stage": "run"}
    stdin(ws, "x\n")
    assert ws.recv()["data"] == "got x\n"
    new = set(node_submissions(upstream)) - before
    assert len(new) == 1
    token = new.pop()
    assert node_submissions(upstream)[token] in (1, 2)
    ws.close()
    # The gateway ends its session with the node, which ends the run well before its limit.
    end = time.monotonic() + 10
    while node_submissions(upstream)[token] in (1, 2):
        assert time.monotonic() < end, "the run outlived its client"
        time.sleep(0.05)


def test_stopping_the_gateway_ends_its_live_streams(tmp_path, upstream):
    g = Gateway(tmp_path, [upstream.url]).start()
    k = new_key(g)
    token = submit(g, k, SLOW)
    es = events(g, k, token)
    assert next(es.events())[0] == "status"
    ws = connect(g, k)
    init(ws, "python", ECHO)
    assert ws.recv()["type"] == "runtime"
    g.proc.send_signal(signal.SIGTERM)
    # The interactive run is closed as going away, the event stream ends; the gateway then
    # exits cleanly (stop() checks its status) without waiting for the run or the result.
    msgs, code = ws.messages_until_close()
    assert code == 1001, msgs
    assert all(name == "status" for name, _ in es.events())
    g.stop()
    assert wait_for(lambda: node_submissions(upstream)[token] > 2, DEADLINE, 0.05)


def test_an_api_node_going_away_ends_the_clients_streams(tmp_path):
    node = start_upstream(tmp_path, args=["--workers=1"])
    g = Gateway(tmp_path, [node.url]).start()
    try:
        k = new_key(g)
        ws = connect(g, k)
        init(ws, "python", ECHO)
        assert ws.recv()["type"] == "runtime"
        assert ws.recv() == {"type": "stage", "stage": "run"}
        token = submit(g, k, SLOW)
        es = events(g, k, token)
        assert next(es.events())[0] == "status"
        node.stop()
        # The node closes its session as shutting down: the code and reason come through.
        try:
            ws.recv()
            raise AssertionError("a message after the node stopped")
        except Closed as c:
            assert (c.code, c.reason) == (1001, "the server is shutting down")
        # Its event stream ended: so does the client's.
        assert all(name == "status" for name, _ in es.events())
        assert wait_for(lambda: g.metric("coderunner_gateway_live_streams") == 0, DEADLINE, 0.05)
    finally:
        g.stop()
        node.stop()


def test_a_node_refusing_the_handshake_is_an_error_then_4002(tmp_path):
    node = start_upstream(tmp_path, args=["--workers=1", "--maintenance-mode=true"])
    g = Gateway(tmp_path, [node.url]).start()
    try:
        ws = connect(g, new_key(g))
        assert ws.status == 101  # the gateway's side
        init(ws, "python", ECHO)
        msgs, code = ws.messages_until_close()
        assert code == 4002 and msgs == [
            {"type": "error", "message": "the API node refused the interactive run (HTTP 503): "
                                         "Judge0 is currently in maintenance."}], msgs
    finally:
        g.stop()
        node.stop()
