"""The official Judge0 Python SDK (PyPI package `judge0`, version pinned in
tests/requirements.txt; `make deps-test` installs it) pointed at `coderunner serve`,
unchanged: its client for a self-hosted Judge0 CE (`judge0.Client(endpoint, headers)`, or
the implicit one from JUDGE0_CE_ENDPOINT / JUDGE0_CE_AUTH_HEADERS) runs its basic flows.

What the SDK reads from the server, and so what these tests depend on: on construction the
client GETs /languages and /config_info (parsed into its pydantic `Config`: every key, with
Judge0's JSON types); it maps language aliases (judge0.C, judge0.PYTHON) to ids by the
`version` of /about (a table per Judge0 version: "1.13.1" -> C 50, Python 71); it creates
with POST /submissions?base64_encoded=true&wait=false (or /submissions/batch) and polls
GET /submissions/:token (or /submissions/batch?tokens=...) with fields=* and
base64_encoded=true, parsing created_at/finished_at as %Y-%m-%dT%H:%M:%S.%fZ and time /
wall_time as floats. Authentication: the headers dict is sent with every request
(X-Auth-Token here). A failure of any of these is a compatibility bug of the server, not of
the test: the assertion messages say which request and what came back.
"""

import json

import pytest

from api_helpers import Server

judge0 = pytest.importorskip(
    "judge0", reason="the Judge0 Python SDK is not installed (make deps-test installs "
    "tests/requirements.txt: python3 -m pip install -r tests/requirements.txt)")

TOKEN = "sdk-secret-token"
C_HELLO = '#include <stdio.h>\nint main(void) { printf("hello, world\\n"); return 0; }\n'
C_SUM = ('#include <stdio.h>\nint main(void) { int a, b; if (scanf("%d %d", &a, &b) != 2) return 1;'
         ' printf("%d\\n", a + b); return 0; }\n')
C_BROKEN = "int main(void) { return x; }\n"
PY_ECHO = "print(input())\n"
# The SDK's wait() polls every 100 ms forever by default: bound it, so a submission the
# server never finishes fails the test instead of hanging the suite.
MAX_WAIT = 60


def describe(sub):
    """A submission as the SDK parsed it, for assertion messages."""
    return {k: getattr(sub, k, None) for k in ("token", "status", "stdout", "stderr", "compile_output",
                                                "message", "exit_code", "time", "wall_time", "memory")}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("api-sdk") / "data", args=["--workers=2"],
               env={"CODERUNNER_AUTHN_TOKEN": TOKEN}).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    return judge0.Client(server.url, {"X-Auth-Token": TOKEN},
                         retry_strategy=judge0.MaxWaitTime(MAX_WAIT))


def test_client_reads_about_config_languages_statuses(server, client):
    # Read on construction: /languages and /config_info.
    ids = {lang.id: lang for lang in client.languages}
    assert 50 in ids and 71 in ids, f"GET /languages: {sorted(ids)}"
    assert ids[50].name.startswith("C ("), ids[50]
    assert ids[71].name.startswith("Python ("), ids[71]
    assert isinstance(client.config, judge0.base_types.Config)
    assert client.config.max_submission_batch_size == 20, client.config
    assert client.config.enable_wait_result is True
    # /about picks the alias table.
    assert client.version == "1.13.1", client.get_about()
    assert client.get_language_id(judge0.C) == 50
    assert client.get_language_id(judge0.PYTHON) == 71
    assert client.is_language_supported(judge0.C) and client.is_language_supported(judge0.PYTHON)
    # judge0.CPP is 52 (C++ GCC 7.4.0) on 1.13.1: served as an alias of the installed GCC.
    assert client.get_language_id(judge0.CPP) == 52
    assert client.is_language_supported(judge0.CPP), f"GET /languages: {sorted(ids)}"
    lang = client.get_language(71)
    assert lang.id == 71 and lang.name == ids[71].name, lang
    statuses = client.get_statuses()
    assert [s["id"] for s in statuses] == list(range(1, 15)), statuses
    # The SDK's Status enum has the same ids, and Judge0's descriptions.
    assert {s["id"]: s["description"] for s in statuses}[3] == "Accepted"
    assert {s["id"]: s["description"] for s in statuses}[6] == "Compilation Error"
    for s in statuses:
        judge0.Status(s["id"])


@pytest.mark.conformance(
    behaviour="the official Python SDK's language constants (its 1.13.1 table)",
    judge0='every id listed; `judge0.CPP` is 52 (C++ GCC 7.4.0)',
    coderunner='every id listed: supported where served, else archived; `judge0.CPP` runs on the installed GCC')
def test_every_language_constant_of_the_sdk(server, client):
    # The SDK's alias table for 1.13.1 hard-codes Judge0's ids (judge0.CPP is 52, C++ GCC
    # 7.4.0): each resolves to an id /languages/all has; those this host serves are
    # supported, and the rest are archived, never unknown.
    table = judge0.clients.LANGUAGE_TO_LANGUAGE_ID["1.13.1"]
    every = {lang["id"]: lang for lang in server.get("/languages/all", headers={"X-Auth-Token": TOKEN}).json()}
    served = {lang.id for lang in client.languages}
    for alias in judge0.LanguageAlias:
        if alias not in table:
            continue
        language_id = client.get_language_id(alias)
        assert language_id in every, (alias, language_id)
        assert client.is_language_supported(alias) == (not every[language_id]["is_archived"]), (alias, every[language_id])
        assert client.is_language_supported(alias) == (language_id in served), alias
    # The constants of the C++ family run (52 by the installed GCC).
    for alias in (judge0.CPP, judge0.CPP_GCC, judge0.C_GCC):
        sub = judge0.run(client=client, source_code='#include <stdio.h>\nint main(void) { puts("OK"); }\n',
                         language=alias)
        assert sub.status == judge0.Status.ACCEPTED and sub.stdout == "OK\n", (alias, describe(sub))


def test_run_c(client):
    sub = judge0.run(client=client, source_code=C_HELLO, language=judge0.C)
    assert sub.status == judge0.Status.ACCEPTED, describe(sub)
    assert sub.stdout == "hello, world\n", describe(sub)
    assert sub.exit_code == 0, describe(sub)
    assert isinstance(sub.time, float) and isinstance(sub.wall_time, float), describe(sub)
    assert sub.memory is not None and sub.memory > 0, describe(sub)
    assert sub.created_at is not None and sub.finished_at is not None
    assert sub.finished_at >= sub.created_at, (sub.created_at, sub.finished_at)
    assert sub.token is not None


def test_run_c_with_stdin(client):
    sub = judge0.run(client=client, source_code=C_SUM, language=judge0.C, stdin="40 2")
    assert sub.status == judge0.Status.ACCEPTED and sub.stdout == "42\n", describe(sub)


def test_run_python(client):
    sub = judge0.run(client=client, source_code=PY_ECHO, language=judge0.PYTHON, stdin="from the SDK\n")
    assert sub.status == judge0.Status.ACCEPTED, describe(sub)
    assert sub.stdout == "from the SDK\n", describe(sub)


def test_run_by_language_id(client):
    sub = judge0.run(client=client, source_code="print(6 * 7)", language=71)
    assert sub.status == judge0.Status.ACCEPTED and sub.stdout == "42\n", describe(sub)


def test_compilation_and_runtime_errors(client):
    sub = judge0.run(client=client, source_code=C_BROKEN, language=judge0.C)
    assert sub.status == judge0.Status.COMPILATION_ERROR, describe(sub)
    assert "error" in (sub.compile_output or ""), describe(sub)
    assert sub.stdout is None, describe(sub)

    sub = judge0.run(client=client, source_code="import sys\nsys.stderr.write('bad\\n')\nsys.exit(3)\n",
                     language=judge0.PYTHON)
    assert sub.status == judge0.Status.RUNTIME_ERROR_NZEC, describe(sub)
    assert sub.exit_code == 3 and sub.stderr == "bad\n", describe(sub)


def test_time_limit(client):
    sub = judge0.run(client=client, source_code="while True:\n    pass\n", language=judge0.PYTHON,
                     cpu_time_limit=0.5, wall_time_limit=2)
    assert sub.status == judge0.Status.TIME_LIMIT_EXCEEDED, describe(sub)


def test_async_submit_then_wait(client):
    sub = judge0.async_run(client=client, source_code=PY_ECHO, language=judge0.PYTHON, stdin="later")
    assert sub.token is not None
    # The create answers with the token only (wait=false): not finished yet as far as the
    # SDK knows.
    assert sub.status is None and sub.stdout is None, describe(sub)
    judge0.wait(client=client, submissions=sub)
    assert sub.status == judge0.Status.ACCEPTED, describe(sub)
    assert sub.stdout == "later\n", describe(sub)

    # Explicit polling through the client, a field at a time (fields=status,stdout).
    again = judge0.Submission()
    again.token = sub.token
    client.get_submission(again, fields=["status", "stdout"])
    assert again.status == judge0.Status.ACCEPTED and again.stdout == "later\n", describe(again)


def test_batch(client):
    subs = [judge0.Submission(source_code=f"print({i} * {i})", language=judge0.PYTHON) for i in range(4)]
    subs += [judge0.Submission(source_code=C_SUM, language=judge0.C, stdin=f"{i} 100") for i in range(4)]
    # Created with one POST /submissions/batch, polled with GET /submissions/batch?tokens=...
    done = judge0.run(client=client, submissions=subs)
    assert len(done) == 8
    got = [(s.status, s.stdout) for s in done]
    want = [(judge0.Status.ACCEPTED, f"{i * i}\n") for i in range(4)]
    want += [(judge0.Status.ACCEPTED, f"{i + 100}\n") for i in range(4)]
    assert got == want, [describe(s) for s in done]


def test_batch_larger_than_max_batch_size(client):
    # 23 submissions: the SDK splits by config_info's max_submission_batch_size (20).
    subs = [judge0.Submission(source_code=f"print({i})", language=judge0.PYTHON) for i in range(23)]
    done = judge0.async_run(client=client, submissions=subs)
    assert len(done) == 23 and len({s.token for s in done}) == 23
    judge0.wait(client=client, submissions=done)
    bad = [describe(s) for i, s in enumerate(done)
           if s.status != judge0.Status.ACCEPTED or s.stdout != f"{i}\n"]
    assert not bad, bad


def test_test_cases_and_expected_output(client):
    # One submission per test case, judged against expected_output.
    done = judge0.run(client=client, source_code=PY_ECHO, language=judge0.PYTHON,
                      test_cases=[("same", "same"), judge0.TestCase("other", "different")])
    assert [s.status for s in done] == [judge0.Status.ACCEPTED, judge0.Status.WRONG_ANSWER], \
        [describe(s) for s in done]
    assert [s.stdout for s in done] == ["same\n", "other\n"]


def test_implicit_client_from_environment(server, monkeypatch):
    # The SDK's documented way to use a self-hosted Judge0 CE: the endpoint and the
    # authentication headers in the environment, no client argument. Both flavors point
    # here, so nothing can fall through to a hosted Judge0.
    for flavor in ("CE", "EXTRA_CE"):
        monkeypatch.setenv(f"JUDGE0_{flavor}_ENDPOINT", server.url)
        monkeypatch.setenv(f"JUDGE0_{flavor}_AUTH_HEADERS", json.dumps({"X-Auth-Token": TOKEN}))
    monkeypatch.setattr(judge0, "JUDGE0_IMPLICIT_CE_CLIENT", None)
    monkeypatch.setattr(judge0, "JUDGE0_IMPLICIT_EXTRA_CE_CLIENT", None)
    client = judge0.get_client(judge0.CE)
    assert type(client) is judge0.Client and client.endpoint == server.url
    sub = judge0.run(source_code=C_HELLO, language=judge0.C)
    assert sub.status == judge0.Status.ACCEPTED and sub.stdout == "hello, world\n", describe(sub)


def test_authentication(server):
    # Without the token (or with a wrong one) the server answers 401 and the SDK's client
    # refuses to start, as against Judge0 with AUTHN_TOKEN set.
    for headers in (None, {"X-Auth-Token": "wrong"}):
        with pytest.raises(RuntimeError, match="Authentication failed") as info:
            judge0.Client(server.url, headers)
        assert info.value.__cause__.response.status_code == 401, info.value.__cause__
