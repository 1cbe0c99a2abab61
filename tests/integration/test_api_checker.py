"""Checkers and interactors through the API of `coderunner serve`: the "checker" and
"interactor" extension objects, per-test "points" and the submission's "score", stored and
read back (GET), Judge0-style 422s naming the field."""

import base64

import pytest

from api_helpers import C_ID, PY_ID, Server
from test_judge_checker import DOUBLER, GUESSER, INTERACTOR, PARTIAL, SUM, TOLERANT, TOUT_INTERACTOR

FIELDS = {"fields": "status,message,score,tests,checker,interactor,stdout"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    # One worker thread: the interactor needs the worker's second sandbox slot.
    s = Server(tmp_path_factory.mktemp("api-checker") / "data", args=["--workers=1"]).start()
    yield s
    s.stop()


def submit_wait(server, body, params=None):
    params = {"wait": "true", "fields": "token," + FIELDS["fields"], **(params or {})}
    r = server.submit(body, params)
    assert r.status_code == 201, r.text
    sub = r.json()
    stored = server.get(f"/submissions/{sub['token']}",
                        params={k: v for k, v in params.items() if k != "wait"})
    assert stored.status_code == 200, stored.text
    assert stored.json() == sub  # the store keeps the checker, the points and the score
    return sub


def test_tolerant_checker_and_wrong_answer(server):
    body = {"source_code": SUM, "language_id": PY_ID, "stdin": "1 2\n", "expected_output": "3\n",
            "checker": {"source_code": TOLERANT, "language_id": PY_ID}}
    sub = submit_wait(server, body)
    assert sub["status"]["id"] == 3 and sub["message"] == "ok the sum is right", sub
    assert sub["score"] == 1
    assert sub["checker"]["language_id"] == PY_ID and sub["checker"]["source_code"] == TOLERANT
    assert sub["checker"]["cpu_time_limit"] == "5.0" and sub["checker"]["memory_limit"] == 256000
    assert sub["interactor"] is None
    body["expected_output"] = "4\n"
    sub = submit_wait(server, body)
    assert sub["status"]["id"] == 4 and sub["message"] == "wrong answer expected 4.0, found 3.0000001"
    assert sub["score"] == 0


def test_checker_failure_and_limits_are_internal_errors(server):
    body = {"source_code": SUM, "language_id": PY_ID, "stdin": "1 2\n", "expected_output": "3\n",
            "checker": {"source_code": "import os\nos.abort()\n", "language_id": PY_ID}}
    sub = submit_wait(server, body)
    assert sub["status"]["id"] == 13 and sub["message"].startswith("Checker failed: "), sub
    body["checker"] = {"source_code": "while True:\n    pass\n", "language_id": PY_ID, "cpu_time_limit": 0.3}
    sub = submit_wait(server, body)
    assert sub["status"]["id"] == 13 and sub["message"] == "Checker failed: Time limit exceeded", sub
    assert sub["checker"]["cpu_time_limit"] == "0.3"


def test_c_checker_partial_points_base64(server):
    c_checker = r"""
#include <stdio.h>
int main(int argc, char **argv) {
    FILE *o = fopen(argv[2], "r"), *a = fopen(argv[3], "r");
    long x, y;
    if (fscanf(o, "%ld", &x) != 1 || fscanf(a, "%ld", &y) != 1) return 1;
    if (x == y) return 0;
    if (x / 10 == y / 10) { fprintf(stderr, "points 0.25 close\n"); return 7; }
    fprintf(stderr, "far off\n");
    return 1;
}
"""
    b64 = lambda s: base64.b64encode(s.encode()).decode()  # noqa: E731
    body = {"source_code": b64("print(int(input()) + 1)\n"), "language_id": PY_ID,
            "tests": [{"stdin": b64("41\n"), "expected_output": b64("42\n")},
                      {"stdin": b64("41\n"), "expected_output": b64("43\n")},
                      {"stdin": b64("41\n"), "expected_output": b64("99\n")}],
            "checker": {"source_code": b64(c_checker), "language_id": C_ID}}
    sub = submit_wait(server, body, {"base64_encoded": "true"})
    got = [(t["status"]["id"], t["points"]) for t in sub["tests"]]
    assert got == [(3, 1), (4, 0.25), (4, 0)], sub
    assert [base64.b64decode(t["message"]).decode() if t["message"] else None for t in sub["tests"]] == \
        [None, "close", "far off"]
    assert sub["score"] == 1.25
    # The same checker again: compiled once, from the cache; the same verdicts.
    again = submit_wait(server, body, {"base64_encoded": "true"})
    assert [(t["status"]["id"], t["points"]) for t in again["tests"]] == got


def test_python_partial_checker(server):
    body = {"source_code": "print(*input().split()[:2], 0, 0)\n", "language_id": PY_ID,
            "tests": [{"stdin": "1 2 3 4\n", "expected_output": "1 2 3 4\n"}],
            "checker": {"source_code": PARTIAL, "language_id": PY_ID}}
    sub = submit_wait(server, body)
    assert sub["tests"][0]["points"] == 0.5 and sub["tests"][0]["message"] == "2 of 4 right", sub
    assert sub["score"] == 0.5


def test_interactor_guessing_game_and_deadlock(server):
    body = {"source_code": GUESSER, "language_id": PY_ID,
            "tests": [{"stdin": "1\n"}, {"stdin": "64\n"}, {"stdin": "100\n"}],
            "interactor": {"source_code": INTERACTOR, "language_id": PY_ID}}
    sub = submit_wait(server, body)
    assert [t["status"]["id"] for t in sub["tests"]] == [3, 3, 3], sub
    assert sub["score"] == 3 and sub["tests"][1]["message"] == "ok 64 in 7 queries"
    dead = {"source_code": "print(input())\n", "language_id": PY_ID, "stdin": "5\n", "wall_time_limit": 1,
            "interactor": {"source_code": "import sys\nsys.stdin.readline()\n", "language_id": PY_ID}}
    sub = submit_wait(server, dead)
    assert sub["status"]["id"] == 5 and "deadlock" in sub["message"], sub


def test_interactor_then_checker(server):
    checker = TOLERANT.replace("ans = float(", "ans = 2 * float(")
    body = {"source_code": DOUBLER, "language_id": PY_ID,
            "tests": [{"stdin": "21\n", "expected_output": "21\n"}, {"stdin": "21\n", "expected_output": "22\n"}],
            "interactor": {"source_code": TOUT_INTERACTOR, "language_id": PY_ID},
            "checker": {"source_code": checker, "language_id": PY_ID}}
    sub = submit_wait(server, body)
    assert [(t["status"]["id"], t["message"]) for t in sub["tests"]] == [
        (3, "ok the sum is right"), (4, "wrong answer expected 44.0, found 42")], sub
    assert sub["score"] == 1 and sub["interactor"]["language_id"] == PY_ID and sub["checker"]["language_id"] == PY_ID


@pytest.mark.parametrize("extra, errors", [
    ({"checker": "x"}, {"checker": ["is not an object"]}),
    ({"checker": {"language_id": PY_ID}}, {"checker.source_code": ["can't be blank"]}),
    ({"checker": {"source_code": "x", "language_id": 12345}},
     {"checker.language_id": ["language with id 12345 doesn't exist"]}),
    ({"interactor": {"source_code": "x", "language_id": PY_ID, "memory_limit": 100}},
     {"interactor.memory_limit": ["must be greater than or equal to 2048"]}),
])
def test_validation_errors_name_the_field(server, extra, errors):
    r = server.submit({"source_code": "print(1)", "language_id": PY_ID, **extra})
    assert r.status_code == 422, r.text
    assert r.json() == errors


def test_judge0_clients_see_nothing_new(server):
    r = server.submit({"source_code": "print(1)", "language_id": PY_ID}, {"wait": "true"})
    assert set(r.json()) == {"stdout", "time", "memory", "stderr", "token", "compile_output", "message", "status"}


def test_batch_items_carry_their_checkers(server):
    items = [{"source_code": SUM, "language_id": PY_ID, "stdin": "1 2\n", "expected_output": "3\n",
              "checker": {"source_code": TOLERANT, "language_id": PY_ID}},
             {"source_code": SUM, "language_id": PY_ID, "checker": {"language_id": PY_ID}}]
    r = server.post("/submissions/batch", json={"submissions": items})
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer[1] == {"checker.source_code": ["can't be blank"]}, answer
    token = answer[0]["token"]
    sub = server.wait_final(token, params={"fields": "status,message,score"})
    assert sub == {"status": {"id": 3, "description": "Accepted"}, "message": "ok the sum is right", "score": 1.0}
