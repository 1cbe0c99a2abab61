"""Judge0 CE 1.13.1 parity of requests and answers (issue 10): what a client sees at the
edges, checked against `coderunner serve`."""

import pytest

from api_helpers import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("parity") / "data", args=["--workers=1"]).start()
    yield s
    s.stop()


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
