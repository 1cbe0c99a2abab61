"""Judge0 CE 1.13.1 parity of requests and answers (issue 10): what a client sees at the
edges, checked against `coderunner serve`."""

import http.client

import pytest

from api_helpers import Server


def serve(tmp_path_factory, env=None):
    s = Server(tmp_path_factory.mktemp("parity") / "data", args=["--workers=1"], env=env).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve(tmp_path_factory)


UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.mark.parametrize("path", [f"/submissions/{UNKNOWN}", "/submissions/batch"])
def test_star_does_not_hide_an_invalid_field(server, path):
    # Judge0 collects the invalid names before it looks for "*": a before_action, so the
    # answer comes before the token is looked up or the batch counted.
    r = server.get(path, params={"fields": "*,bogus"})
    assert r.status_code == 400, r.text
    assert r.json() == {"error": "invalid fields: [bogus]"}
    r = server.get(path, params={"fields": "stdout,*,x,y"})
    assert r.status_code == 400 and r.json() == {"error": "invalid fields: [x, y]"}
    # "*" alone is valid: the answer is the route's own (404 for the token, the batch's
    # "at least one submission").
    assert "invalid fields" not in server.get(path, params={"fields": "*"}).text


@pytest.fixture(scope="module")
def no_batch(tmp_path_factory):
    yield from serve(tmp_path_factory, {"CODERUNNER_ENABLE_BATCHED_SUBMISSIONS": "false"})


def test_batches_disabled_refuses_both_routes(no_batch):
    # Judge0's check_batched_submissions runs for batch_create and batch_show alike, before
    # the fields and the tokens are looked at.
    refused = {"error": "batched submissions are not allowed"}
    r = no_batch.get("/submissions/batch", params={"tokens": UNKNOWN})
    assert r.status_code == 400 and r.json() == refused, r.text
    r = no_batch.get("/submissions/batch", params={"tokens": UNKNOWN, "fields": "bogus"})
    assert r.status_code == 400 and r.json() == refused, r.text
    r = no_batch.post("/submissions/batch", json={"submissions": [{"source_code": "x", "language_id": 71}]})
    assert r.status_code == 400 and r.json() == refused, r.text
    # The single-submission routes are not batches.
    assert no_batch.get(f"/submissions/{UNKNOWN}").status_code == 404


@pytest.mark.parametrize("path", ["/submissions", "/submissions/batch"])
@pytest.mark.parametrize("body,reason", [
    ("{nope", "malformed JSON: "),
    ('{"source_code": "x",', "malformed JSON: "),
    ("[1, 2]", "the body is not a JSON object"),
    ('"text"', "the body is not a JSON object"),
])
def test_malformed_body_is_a_json_error(server, path, body, reason):
    # Never an empty 400: a client that parses every answer as JSON gets the reason.
    r = server.post(path, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert set(r.json()) == {"error"} and r.json()["error"].startswith(reason), r.text


@pytest.mark.parametrize("method", ["TRACE", "PUT", "PATCH", "CONNECT", "get"])
@pytest.mark.parametrize("path", ["/submissions", "/languages", "/no/such/route"])
def test_unsupported_method_is_405_with_allow(server, method, path):
    # A method no route answers: 405 and the methods that are, whatever the path.
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        c.request(method, path)
        r = c.getresponse()
        body = r.read()
    finally:
        c.close()
    assert r.status == 405, body
    assert r.getheader("Allow") == "GET, HEAD, POST, DELETE, OPTIONS"
    assert r.getheader("Content-Type").startswith("application/json")
    assert body == b'{"error":"method not allowed"}'


def test_wrong_method_of_a_route_stays_404(server):
    # A method the server has, on a path that has other methods: Rails' 404.
    r = server.post("/languages")
    assert r.status_code == 404 and r.json() == {"status": 404, "error": "Not Found"}
    assert server.delete("/statuses").status_code == 404
