"""The submission endpoints of `coderunner serve` against Judge0 CE 1.13.1's behaviour."""

import base64
import socket
import threading

import pytest
import requests

from api_helpers import C_HELLO, C_ID, PY_ECHO, PY_ID, Server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("api") / "data", args=["--workers=4"],
               env={"CODERUNNER_ENABLE_SUBMISSION_DELETE": "true"}).start()
    yield s
    s.stop()


def test_c_wait_true(server):
    r = server.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
    assert r.status_code == 201, r.text
    sub = r.json()
    # Judge0's 8 default fields, decimals as strings.
    assert set(sub) == {"stdout", "time", "memory", "stderr", "token", "compile_output", "message", "status"}
    assert sub["status"] == {"id": 3, "description": "Accepted"}
    assert sub["stdout"] == "hello, world\n"
    assert isinstance(sub["time"], str) and float(sub["time"]) >= 0
    assert isinstance(sub["memory"], int)
    assert sub["stderr"] is None and sub["compile_output"] is None


def test_python_polling(server):
    r = server.submit({"source_code": PY_ECHO, "language_id": PY_ID, "stdin": "abc", "expected_output": "abc"})
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert set(r.json()) == {"token"} and len(token) == 36
    sub = server.wait_final(token)
    assert sub["status"]["id"] == 3 and sub["stdout"] == "abc\n" and sub["token"] == token


def test_wrong_answer_and_compile_error(server):
    r = server.submit({"source_code": PY_ECHO, "language_id": PY_ID, "stdin": "a", "expected_output": "b"},
                      {"wait": "true"})
    assert r.json()["status"] == {"id": 4, "description": "Wrong Answer"}
    r = server.submit({"source_code": "int main( {", "language_id": C_ID}, {"wait": "true"})
    sub = r.json()
    assert sub["status"]["id"] == 6 and sub["compile_output"]


def test_base64_round_trip(server):
    src = base64.b64encode(b"import sys\nsys.stdout.buffer.write(bytes([0xe3, 0x81, 0x82, 0xff]))\n").decode()
    r = server.submit({"source_code": src, "language_id": PY_ID},
                      {"wait": "true", "base64_encoded": "true", "fields": "stdout,source_code,status_id"})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert set(sub) == {"stdout", "source_code", "status_id"}
    assert base64.b64decode(sub["stdout"]) == b"\xe3\x81\x82\xff"
    # Ruby's Base64.encode64: newline-terminated.
    assert sub["source_code"].endswith("\n")
    assert base64.b64decode(sub["source_code"]) == base64.b64decode(src)
    # Input with embedded newlines (60-column wrapping) is accepted.
    wrapped = "\n".join(src[i:i + 60] for i in range(0, len(src), 60)) + "\n"
    r = server.submit({"source_code": wrapped, "language_id": PY_ID}, {"wait": "true", "base64_encoded": "true"})
    assert base64.b64decode(r.json()["stdout"]) == b"\xe3\x81\x82\xff"


def test_fields_star_and_bad_field(server):
    token = server.submit({"source_code": C_HELLO, "language_id": C_ID}).json()["token"]
    server.wait_final(token)
    sub = server.get(f"/submissions/{token}", params={"fields": "*"}).json()
    assert len(sub) == 35
    assert sub["language"]["id"] == C_ID and sub["cpu_time_limit"] == "5.0"
    assert sub["created_at"].endswith("Z")
    r = server.get(f"/submissions/{token}", params={"fields": "stdout,nope,bad"})
    assert r.status_code == 400
    assert r.json() == {"error": "invalid fields: [nope, bad]"}
    r = server.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true", "fields": "x"})
    assert r.status_code == 400 and r.json() == {"error": "invalid fields: [x]"}


def test_validation_errors(server):
    r = server.submit({"source_code": "x"})
    assert r.status_code == 422
    assert "language_id" in r.json() and "can't be blank" in r.json()["language_id"]
    r = server.submit({"source_code": "x", "language_id": C_ID, "memory_limit": 1})
    assert r.status_code == 422
    msgs = r.json()["memory_limit"]
    assert any("greater than or equal to" in m for m in msgs), msgs
    r = server.submit({"source_code": "x", "language_id": C_ID, "memory_limit": 10**9})
    assert r.status_code == 422 and "memory_limit" in r.json()
    # Without Content-Type: application/json the body is ignored, as in Rails.
    r = server.post("/submissions", data='{"source_code":"x","language_id":50}')
    assert r.status_code == 422 and "source_code" in r.json()
    # Malformed JSON: 400, and a JSON body that says why (test_api_parity.py).
    r = server.post("/submissions", data="{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"].startswith("malformed JSON")


def test_unknown_token_and_route(server):
    r = server.get("/submissions/00000000-0000-4000-8000-000000000000")
    assert r.status_code == 404
    assert server.get("/submissions/nope").status_code == 404
    assert server.get("/no/such/route").status_code == 404
    assert server.post("/languages").status_code == 404


def test_list_pagination(server):
    for _ in range(3):
        server.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
    # No authorization token configured: Judge0 answers 403 on list, always.
    assert server.get("/submissions").status_code == 403


def test_delete(server):
    token = server.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"}).json()["token"]
    # Needs authorization too.
    assert server.delete(f"/submissions/{token}").status_code == 403


def test_batch(server):
    body = {"submissions": [
        {"source_code": C_HELLO, "language_id": C_ID},
        {"source_code": "x"},
        {"source_code": PY_ECHO, "language_id": PY_ID, "stdin": "b"},
    ]}
    r = server.post("/submissions/batch", json=body)
    assert r.status_code == 201, r.text
    items = r.json()
    assert "token" in items[0] and "language_id" in items[1] and "token" in items[2]
    tokens = [items[0]["token"], items[2]["token"]]
    for t in tokens:
        server.wait_final(t)
    unknown = "00000000-0000-4000-8000-000000000000"
    r = server.get("/submissions/batch", params={"tokens": ",".join([tokens[0], unknown, tokens[1]])})
    assert r.status_code == 200
    subs = r.json()["submissions"]
    assert subs[0]["stdout"] == "hello, world\n" and subs[1] is None and subs[2]["stdout"] == "b\n"
    # tokens in a header
    r = server.get("/submissions/batch", headers={"tokens": tokens[0]})
    assert r.json()["submissions"][0]["token"] == tokens[0]
    # all invalid: 422
    r = server.post("/submissions/batch", json={"submissions": [{"source_code": "x"}]})
    assert r.status_code == 422
    r = server.post("/submissions/batch", json={"submissions": []})
    assert r.status_code == 400
    assert r.json() == {"error": "there should be at least one submission in a batch"}
    r = server.post("/submissions/batch", json={"submissions": [{"language_id": C_ID}] * 21})
    assert r.json() == {"error": "number of submissions in a batch should be less than or equal to 20"}


def test_json_suffix_and_cors(server):
    r = server.get("/statuses.json")
    assert r.status_code == 200 and len(r.json()) == 14
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    r = requests.options(server.url + "/submissions", headers={
        "Origin": "http://example.com", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in r.headers["Access-Control-Allow-Methods"]
    assert "content-type" in r.headers["Access-Control-Allow-Headers"]


def test_oversized_body(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall(b"POST /submissions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % (17 * 1024 * 1024))
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 413"), data
    assert b'{"error":' in data


def test_concurrent_clients(server):
    errors = []
    results = []

    def client():
        try:
            for _ in range(5):
                r = server.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
                assert r.status_code == 201, r.text
                results.append(r.json())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=client) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors[:3]
    assert len(results) == 80
    assert all(r["status"]["id"] == 3 and r["stdout"] == "hello, world\n" for r in results)
    assert len({r["token"] for r in results}) == 80


def test_many_tests_extension(server):
    body = {"source_code": PY_ECHO, "language_id": PY_ID, "tests": [
        {"stdin": "a", "expected_output": "a"},
        {"stdin": "b", "expected_output": "x"},
        {"stdin": "c", "expected_output": "c"},
    ]}
    r = server.submit(body, {"wait": "true"})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["status"]["id"] == 4  # the first failing test's
    assert [t["status"]["id"] if isinstance(t.get("status"), dict) else t.get("status_id")
            for t in sub["tests"]] == [3, 4, 3]
    assert "memory_limit_exceeded" in sub
    r = server.submit(dict(body, stop_on_failure=True), {"wait": "true"})
    assert r.json()["status"]["id"] == 4
    # A Judge0 client sending none of the extensions sees exactly Judge0's default fields.
    r = server.submit({"source_code": PY_ECHO, "language_id": PY_ID, "stdin": "z"}, {"wait": "true"})
    assert set(r.json()) == {"stdout", "time", "memory", "stderr", "token", "compile_output", "message", "status"}
