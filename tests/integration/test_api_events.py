"""GET /submissions/:token/events (Server-Sent Events, an extension) on `coderunner serve`:
status changes in order, each test case as it finishes, the result equal to GET's body, the
stream's end; a token already final, an unknown one; heartbeats; a client that leaves
mid-stream leaves nothing behind; the cap on streams open at once."""

import time

import pytest

from api_helpers import PY_ECHO, PY_ID, Server
from sse_helpers import EventStream

MAX_STREAMS = 2
# Holds the only worker while a stream is opened on the next submission (its In Queue).
BLOCKER = "import time\ntime.sleep(2)\n"
# Keeps a stream open while a test looks at it (ended early by the test's own close).
SLOW = "import time\ntime.sleep(5)\nprint('done')\n"
DEADLINE = 30


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("events") / "data",
               args=["--workers=1", f"--max-event-streams={MAX_STREAMS}", "--event-heartbeat=0.2"]).start()
    yield s
    s.stop()


def submit(server, body):
    r = server.submit(body)
    assert r.status_code == 201, r.text
    return r.json()["token"]


def wait_metric(server, name, value):
    end = time.monotonic() + DEADLINE
    while server.metric(name) != value:
        assert time.monotonic() < end, f"{name} is {server.metric(name)}, not {value}, after {DEADLINE}s"
        time.sleep(0.05)


def statuses(events):
    return [d["status"]["id"] for n, d in events if n == "status"]


def events_in_order(submitter, streamer):
    """A 3-test submission sent to submitter (behind a blocker on the only worker), its
    events read from streamer (another process in a cluster): every step, in order."""
    submit(submitter, {"source_code": BLOCKER, "language_id": PY_ID})
    token = submit(submitter, {"source_code": PY_ECHO, "language_id": PY_ID, "tests": [
        {"stdin": "a", "expected_output": "a"},
        {"stdin": "b", "expected_output": "x"},
        {"stdin": "c", "expected_output": "c"},
    ]})
    params = {"base64_encoded": "true", "fields": "*"}
    s = EventStream(streamer.url, token, params)
    assert s.status_code == 200, s.response.text
    assert s.response.headers["Content-Type"].startswith("text/event-stream")
    events = s.all()
    names = [n for n, _ in events]
    assert names == ["status", "status", "test", "test", "test", "status", "result"], events
    assert statuses(events) == [1, 2, 4]
    assert events[0][1] == {"token": token, "status": {"id": 1, "description": "In Queue"}}
    tests = [d for n, d in events if n == "test"]
    assert [t["index"] for t in tests] == [0, 1, 2]
    assert [t["status"]["id"] for t in tests] == [3, 4, 3]
    assert all(t["token"] == token and t["exit_code"] == 0 and float(t["time"]) >= 0 for t in tests)
    get = streamer.get(f"/submissions/{token}", params=params)
    assert get.status_code == 200
    assert events[-1][1] == get.json()
    # The stream ended with the result: nothing stays open.
    wait_metric(streamer, "coderunner_event_streams", 0)


def disconnect_leaves_nothing(submitter, streamer):
    token = submit(submitter, {"source_code": SLOW, "language_id": PY_ID})
    s = EventStream(streamer.url, token)
    assert s.next_event()[0] == "status"
    wait_metric(streamer, "coderunner_event_streams", 1)
    s.close()
    wait_metric(streamer, "coderunner_event_streams", 0)
    submitter.wait_final(token)


def test_events_in_order_with_tests(server):
    events_in_order(server, server)


def test_final_token_at_once(server):
    token = submit(server, {"source_code": PY_ECHO, "language_id": PY_ID, "stdin": "z"})
    final = server.wait_final(token)
    events = EventStream(server.url, token).all()
    assert [n for n, _ in events] == ["status", "result"]
    assert statuses(events) == [final["status"]["id"]] == [3]
    assert events[-1][1] == server.get(f"/submissions/{token}").json()
    assert events[-1][1]["stdout"] == "z\n"
    # fields and base64_encoded as GET honours them
    events = EventStream(server.url, token, {"fields": "stdout,status_id", "base64_encoded": "true"}).all()
    assert events[-1][1] == {"stdout": "ego=\n", "status_id": 3}  # Ruby's encode64


def test_unknown_token_and_bad_fields(server):
    r = server.get("/submissions/no-such-token/events")
    assert r.status_code == 404 and r.json() == {"status": 404, "error": "Not Found"}
    token = submit(server, {"source_code": PY_ECHO, "language_id": PY_ID, "stdin": "q"})
    r = server.get(f"/submissions/{token}/events", params={"fields": "bogus"})
    assert r.status_code == 400 and r.json() == {"error": "invalid fields: [bogus]"}
    server.wait_final(token)


def test_heartbeats_disconnect_and_cap(server):
    tokens = [submit(server, {"source_code": SLOW, "language_id": PY_ID}) for _ in range(MAX_STREAMS)]
    streams = [EventStream(server.url, t) for t in tokens]
    for s in streams:
        assert s.status_code == 200
        assert s.next_event()[0] == "status"
    wait_metric(server, "coderunner_event_streams", MAX_STREAMS)
    # Past the cap: a clear 503, the streams open untouched.
    r = server.get(f"/submissions/{tokens[0]}/events")
    assert r.status_code == 503, r.text
    assert r.headers["Retry-After"] == "1"
    assert r.json() == {"error": f"too many event streams (max_event_streams = {MAX_STREAMS}): retry later"}
    # Heartbeats (SSE comments) while nothing happens: wait for two.
    it = streams[0].events()
    end = time.monotonic() + DEADLINE
    seen = []
    while streams[0].comments < 2:
        assert time.monotonic() < end, "no heartbeats"
        seen.append(next(it))  # status 2 may come meanwhile; the comments are counted
    assert all(n == "status" for n, _ in seen)
    # A client that leaves mid-stream: its stream is dropped, a new one fits.
    streams[1].close()
    wait_metric(server, "coderunner_event_streams", MAX_STREAMS - 1)
    again = EventStream(server.url, tokens[1])
    assert again.status_code == 200
    again.close()
    streams[0].close()
    wait_metric(server, "coderunner_event_streams", 0)
    for t in tokens:
        server.wait_final(t)
