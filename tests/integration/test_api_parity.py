"""Judge0 CE 1.13.1 parity of requests and answers (issue 10): what a client sees at the
edges, checked against `coderunner serve`."""

import base64
import http.client
import shutil
import subprocess
from urllib.parse import quote_plus

import pytest

from api_helpers import C_HELLO, C_ID, PY_ECHO, PY_ID, Server


def serve(tmp_path_factory, env=None):
    s = Server(tmp_path_factory.mktemp("parity") / "data", args=["--workers=1"], env=env).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from serve(tmp_path_factory)


UNKNOWN = "00000000-0000-0000-0000-000000000000"


@pytest.mark.conformance(
    behaviour='`fields=*,bogus`',
    judge0='400 `invalid fields: [bogus]`, before the token or batch is looked at',
    coderunner='the same')
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


@pytest.mark.conformance(
    behaviour='`GET /submissions/batch` with batching disabled',
    judge0='400 `batched submissions are not allowed`, as `POST`',
    coderunner='the same')
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
@pytest.mark.conformance(
    behaviour='malformed JSON body, or a body that is not an object',
    judge0='empty 400 (or 422 `_json` for a non-object)',
    coderunner='400 `{"error":"malformed JSON: ..."}`, `application/json`')
def test_malformed_body_is_a_json_error(server, path, body, reason):
    # Never an empty 400: a client that parses every answer as JSON gets the reason.
    r = server.post(path, data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert set(r.json()) == {"error"} and r.json()["error"].startswith(reason), r.text


@pytest.mark.conformance(
    behaviour='`TRACE`, `PUT`, `PATCH`, a lowercase method',
    judge0='404',
    coderunner='405 `method not allowed` with `Allow`')
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


@pytest.mark.conformance(
    behaviour='a known method on a path that has only others (`POST /languages`)',
    judge0='404',
    coderunner='404 `{"status":404,"error":"Not Found"}`')
def test_wrong_method_of_a_route_stays_404(server):
    # A method the server has, on a path that has other methods: Rails' 404.
    r = server.post("/languages")
    assert r.status_code == 404 and r.json() == {"status": 404, "error": "Not Found"}
    assert server.delete("/statuses").status_code == 404


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.mark.conformance(
    behaviour='`application/x-www-form-urlencoded` body',
    judge0='read into the parameters, values cast by the model',
    coderunner="the same (Rack 2's nested keys)")
def test_form_body_is_read_like_json(server):
    # Rails reads a form body into the same parameters as a JSON one: values are strings,
    # cast by the model ("71" is a number, "true" a boolean).
    r = server.post("/submissions", params={"wait": "true"},
                    data={"source_code": PY_ECHO, "language_id": str(PY_ID), "stdin": "a b+c&d",
                          "expected_output": "a b+c&d", "redirect_stderr_to_stdout": "true"})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["status"]["id"] == 3 and sub["stdout"] == "a b+c&d\n", sub
    # Parameters Rails reads from the body: wait and fields here.
    r = server.post("/submissions", data={"source_code": C_HELLO, "language_id": C_ID, "wait": "true",
                                          "fields": "stdout,language_id"})
    assert r.status_code == 201 and r.json() == {"stdout": "hello, world\n", "language_id": C_ID}, r.text
    # Validation as for JSON.
    r = server.post("/submissions", data={"source_code": "x", "language_id": "abc"})
    assert r.status_code == 422 and "language_id" in r.json(), r.text


@pytest.mark.conformance(
    behaviour='form batch `submissions[][source_code]=...`',
    judge0='a batch',
    coderunner='the same')
def test_form_batch(server):
    body = "&".join([
        "submissions[][source_code]=" + quote_plus(C_HELLO), f"submissions[][language_id]={C_ID}",
        "submissions[][source_code]=" + quote_plus(PY_ECHO), f"submissions[][language_id]={PY_ID}",
        "submissions[][stdin]=z",
    ])
    r = server.post("/submissions/batch", data=body, headers=FORM)
    assert r.status_code == 201, r.text
    tokens = [t["token"] for t in r.json()]
    assert len(tokens) == 2
    outs = [server.wait_final(t)["stdout"] for t in tokens]
    assert outs == ["hello, world\n", "z\n"]


@pytest.mark.parametrize("body,reason", [
    ("source_code=%zz&language_id=71", "malformed form: invalid %-encoding"),
    ("source_code=%ff&language_id=71", "malformed form: the value of 'source_code' is not UTF-8"),
    ("submissions=1&submissions[]=2", "malformed form: expected an array for 'submissions'"),
])
@pytest.mark.conformance(
    behaviour='bad `%`-escape, non-UTF-8 or array/scalar clash in a form',
    judge0="Rack's parser error: 400 without a JSON reason",
    coderunner='400 `{"error":"malformed form: ..."}`')
def test_malformed_form_is_a_json_error(server, body, reason):
    r = server.post("/submissions", data=body, headers=FORM)
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"error": reason}


@pytest.mark.conformance(
    behaviour='`multipart/form-data` body (`curl -F`)',
    judge0='read into the parameters (a file part as an upload)',
    coderunner="the same; a file part's value is its content")
def test_multipart_body_is_read_like_json(server):
    # What curl -F sends: a file part's content is its value.
    r = server.post("/submissions", params={"wait": "true"},
                    files={"source_code": ("echo.py", PY_ECHO, "text/x-python"), "language_id": (None, str(PY_ID)),
                           "stdin": (None, "multi\r\n--part"), "fields": (None, "stdout,status")})
    assert r.status_code == 201, r.text
    assert r.json() == {"stdout": "multi\r\n", "status": {"id": 3, "description": "Accepted"}}
    # A batch.
    r = server.post("/submissions/batch", files=[
        ("submissions[][source_code]", (None, C_HELLO)), ("submissions[][language_id]", (None, str(C_ID))),
        ("submissions[][source_code]", (None, C_HELLO)), ("submissions[][language_id]", (None, str(C_ID)))])
    assert r.status_code == 201 and len(r.json()) == 2, r.text


@pytest.mark.parametrize("ct,body,reason", [
    ("multipart/form-data", "--x--", "malformed multipart body: the Content-Type has no boundary"),
    ("multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=a\r\n\r\nunended",
     "malformed multipart body: a part does not end"),
])
@pytest.mark.conformance(
    behaviour='multipart without boundary, or an unended part',
    judge0="no parameters (then 422), or Rack's parser error: 400 without a JSON reason",
    coderunner='400 `{"error":"malformed multipart body: ..."}`')
def test_malformed_multipart_is_a_json_error(server, ct, body, reason):
    r = server.post("/submissions", data=body, headers={"Content-Type": ct})
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json() == {"error": reason}


@pytest.mark.conformance(
    behaviour='`/languages/all`, `/languages/1`',
    judge0='ids 1-89, archived ones included',
    coderunner='the same ids; those not served here archived, commands null')
def test_judge0_ce_catalogue(server):
    # Judge0 CE 1.13.1's 89 ids are all in /languages/all; those this host does not
    # serve are archived.
    served = {l["id"] for l in server.get("/languages").json()}
    every = server.get("/languages/all").json()
    by_id = {l["id"]: l for l in every}
    assert set(range(1, 90)) <= set(by_id)
    assert all(by_id[i]["is_archived"] == (i not in served) for i in by_id)
    assert by_id[1] == {"id": 1, "name": "Bash (4.4)", "is_archived": True}
    # One archived entry, in Judge0's shape: its commands are Judge0's container's, not
    # ours, so they are null here (a documented difference).
    r = server.get("/languages/1")
    assert r.status_code == 200 and r.json() == {
        "id": 1, "name": "Bash (4.4)", "is_archived": True, "source_file": "script.sh",
        "compile_cmd": None, "run_cmd": None}
    assert server.get("/languages/90000").status_code == 404


@pytest.mark.conformance(
    behaviour='a submission to an archived id',
    judge0='422 `language with id 1 is archived and cannot be used anymore`',
    coderunner='the same (also for a toolchain not installed)')
@pytest.mark.parametrize("language_id", [1, 4, 47])
def test_archived_language_is_refused(server, language_id):
    r = server.submit({"source_code": "x", "language_id": language_id})
    assert r.status_code == 422, r.text
    assert r.json() == {"language_id": [f"language with id {language_id} is archived and cannot be used anymore"]}


CPP_HELLO = '#include <iostream>\nint main() { std::cout << "hi++" << std::endl; }\n'


@pytest.mark.parametrize("alias,target,source,out", [
    (48, 50, C_HELLO, "hello, world\n"), (49, 50, C_HELLO, "hello, world\n"),
    (52, 54, CPP_HELLO, "hi++\n"), (53, 54, CPP_HELLO, "hi++\n")])
@pytest.mark.conformance(
    behaviour='ids clients hard-code: C 48/49, C++ 52/53',
    judge0='older GCCs',
    coderunner='served by the installed GCC (50, 54), named with its true version')
def test_judge0_ids_clients_hard_code_are_aliases(server, alias, target, source, out):
    # Served when the target is, under the target's true name (not Judge0's GCC 7.4.0).
    served = {l["id"]: l["name"] for l in server.get("/languages").json()}
    assert target in served, "the test needs the catalogue's GCC"
    assert served[alias] == served[target]
    assert server.get(f"/languages/{alias}").json()["name"] == served[target]
    assert server.get(f"/languages/{alias}").json()["is_archived"] is False
    r = server.submit({"source_code": source, "language_id": alias},
                      {"wait": "true", "fields": "stdout,status,language_id"})
    assert r.status_code == 201, r.text
    assert r.json() == {"stdout": out, "status": {"id": 3, "description": "Accepted"}, "language_id": alias}


# Ruby's Base64.decode64 (what Judge0 decodes every base64 field with) on each input, as Ruby
# 3.1.2 answered, and whether we take it (None: refused with "is not valid base64", because
# Ruby drops a character that carries data or skips one outside the alphabet).
BASE64_CASES = [
    ("aGk=", b"hi", True),
    ("aGk", b"hi", True),  # no padding
    ("aA", b"h", True),
    ("aA=", b"h", True),  # short padding
    ("aGk==", b"hi", True),  # long padding
    ("aGVs\nbG8=\n", b"hello", True),
    ("=aGk", b"hi", True),  # a '=' in a group's first two places is skipped
    ("aGkA=aGk=", b"hi\0hi", True),
    ("", b"", True),
    ("====", b"", True),
    ("aGk=aGk=", b"hi", False),  # Ruby stops at the first '=': the second half is lost
    ("aA=x", b"h", False),
    ("aGkAx", b"hi\0", False),  # a lone last character: Ruby drops it
    ("a", b"", False),
    ("aG!k", b"hi", False),  # outside the alphabet: Ruby skips it
    ("aG-k", b"hi", False),  # the URL-safe alphabet
    ("print(1)", b"\xa6\xb8\xa7\xb7", False),  # text sent without encoding it
]


@pytest.mark.conformance(
    behaviour='base64: no, short or long padding; or a character outside the alphabet, data after the final `=`, a lone last character',
    judge0="Ruby's `decode64` decodes the former; skips or drops the latter's extra characters silently",
    coderunner='decodes the former the same; refuses the latter: 422 `is not valid base64`')
@pytest.mark.parametrize("text,ruby,taken", BASE64_CASES)
def test_base64_decodes_as_ruby_or_refuses(server, text, ruby, taken):
    r = server.submit({"source_code": base64.b64encode(PY_ECHO.encode()).decode(), "language_id": PY_ID,
                       "stdin": text}, {"base64_encoded": "true"})
    if not taken:
        assert r.status_code == 422 and r.json() == {"stdin": ["is not valid base64"]}, r.text
        return
    assert r.status_code == 201, r.text
    r = server.get(f"/submissions/{r.json()['token']}", params={"base64_encoded": "true", "fields": "stdin"})
    assert r.status_code == 200, r.text
    stdin = r.json()["stdin"]
    assert (base64.b64decode(stdin) if stdin else b"") == ruby


@pytest.mark.skipif(shutil.which("ruby") is None, reason="ruby (make deps-test installs it) is not installed")
def test_base64_cases_are_rubys():
    # The table above is what Ruby's own Base64.decode64 answers, byte for byte.
    script = "require 'base64'; STDIN.each_line { |l| puts Base64.decode64(l.chomp.unpack1('m0')).unpack1('H*') }"
    lines = "".join(base64.b64encode(t.encode()).decode() + "\n" for t, _, _ in BASE64_CASES)
    out = subprocess.run(["ruby", "-e", script], input=lines, capture_output=True, text=True, check=True).stdout
    assert out.split("\n")[:-1] == [ruby.hex() for _, ruby, _ in BASE64_CASES]


@pytest.mark.conformance(
    behaviour='a JSON key holding `\\u0000`',
    judge0='a key of its own, not permitted: ignored',
    coderunner='the same (Piston route too)')
def test_nul_in_a_json_key_is_an_ignored_parameter(server):
    # Rails 5.2's JSON.parse keeps "stdin\u0000" as a key of its own, which no permitted
    # parameter matches: ignored, and the real "stdin" (or its absence) is what counts.
    body = ('{"source_code": "print(input())", "language_id": 71, "stdin\\u0000": "ignored",'
            ' "\\u0000": {"a\\u0000": 1}, "stdin": "x\\u0000y", "expected_output\\u0000x": "z"}')
    r = server.post("/submissions", data=body, headers={"Content-Type": "application/json"},
                    params={"wait": "true", "fields": "stdin,expected_output,stdout,status"})
    assert r.status_code == 201, r.text
    assert r.json() == {"stdin": "x\0y", "expected_output": None, "stdout": "x\0y\n",
                        "status": {"id": 3, "description": "Accepted"}}
    # A required parameter spelled with a NUL is missing, as in Rails.
    r = server.post("/submissions", data='{"source_code\\u0000": "x", "language_id": 71}',
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json() == {"source_code": ["can't be blank"]}, r.text
    # The same on the Piston route (Express's JSON.parse keeps the key too).
    r = server.post("/api/v2/execute", headers={"Content-Type": "application/json"},
                    data='{"language": "python", "version": "*", "files": [{"content": "print(1)",'
                         ' "name\\u0000": "x/y"}], "stdin\\u0000": 5}')
    assert r.status_code == 200 and r.json()["run"]["stdout"] == "1\n", r.text


PY_SILENT = "pass\n"
PY_NEWLINE = "print()\n"


@pytest.mark.parametrize("source,extra,status", [
    # Judge0 stores an empty stdout as null; null equals no expected output, not even "".
    (PY_SILENT, {"expected_output": ""}, 4),
    (PY_SILENT, {"expected_output": "\n"}, 4),
    (PY_SILENT, {}, 3),
    (PY_SILENT, {"expected_output": None}, 3),
    # A newline is output: stripped, it equals "".
    (PY_NEWLINE, {"expected_output": ""}, 3),
    # The extensions: "exact" compares bytes (empty is empty); the tests follow the default.
    (PY_SILENT, {"expected_output": "", "compare": "exact"}, 3),
    (PY_SILENT, {"tests": [{"expected_output": ""}]}, 4),
])
@pytest.mark.conformance(
    behaviour='`expected_output: ""` and a program that prints nothing',
    judge0='Wrong Answer (empty stdout is null)',
    coderunner='the same; `compare: exact` accepts it')
def test_empty_expected_output_with_empty_output(server, source, extra, status):
    r = server.submit({"source_code": source, "language_id": PY_ID, **extra},
                      {"wait": "true", "fields": "status,stdout"})
    assert r.status_code == 201, r.text
    assert r.json()["status"]["id"] == status, r.text
