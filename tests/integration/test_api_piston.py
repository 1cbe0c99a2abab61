"""The Piston v2 routes of `coderunner serve` (GET /api/v2/runtimes, POST /api/v2/execute)
against Piston's behaviour (engineer-man/piston, api/src/api/v2.js and job.js): its shapes,
its 400 messages and its 415, through the real queue, worker and sandbox."""

import base64

import pytest

from api_helpers import Server

MAX_MEMORY_KIB = 256000  # the server's max_memory_limit below


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = Server(tmp_path_factory.mktemp("piston") / "data", args=["--workers=2"],
               env={"CODERUNNER_MAX_MEMORY_LIMIT": str(MAX_MEMORY_KIB)}).start()
    yield s
    s.stop()


def execute(server, body, **kw):
    return server.post("/api/v2/execute", json=body, **kw)


def ok(server, body):
    r = execute(server, body)
    assert r.status_code == 200, r.text
    return r.json()


def refused(server, body, message, status=400):
    r = execute(server, body)
    assert r.status_code == status, r.text
    assert r.json() == {"message": message}


STAGE_KEYS = {"stdout", "stderr", "output", "code", "signal", "message", "status", "cpu_time",
              "wall_time", "memory"}


def test_runtimes(server):
    r = server.get("/api/v2/runtimes")
    assert r.status_code == 200, r.text
    rts = r.json()
    assert isinstance(rts, list) and rts
    for rt in rts:
        assert {"language", "version", "aliases"} <= set(rt) <= {"language", "version", "aliases", "runtime"}
        assert isinstance(rt["aliases"], list) and all(isinstance(a, str) for a in rt["aliases"])
    by_name = {(rt["language"], rt.get("runtime")): rt for rt in rts}
    py = by_name[("python", None)]
    assert py["aliases"] == ["py", "py3", "python3"]
    assert py["version"].startswith("3.")
    c = by_name[("c", "gcc")]
    assert c["aliases"] == ["gcc"] and c["version"][0].isdigit()
    # The same catalogue as /languages: one runtime per served language (89 has no Piston
    # form; Judge0's aliases 48, 49, 52, 53 are GCC's runtimes already).
    served = [l for l in server.get("/languages").json() if l["id"] not in (89, 48, 49, 52, 53)]
    assert len(rts) == len(served)


def test_python_stdin_args(server):
    res = ok(server, {"language": "python", "version": "3.x",
                      "files": [{"name": "main.py",
                                 "content": "import sys\nprint(input(), sys.argv[1:])\n"
                                            "print('err', file=sys.stderr)"}],
                      "stdin": "hello", "args": ["a b", "it's", ""]})
    assert set(res) == {"language", "version", "run"}  # no compile stage for Python
    assert res["language"] == "python" and res["version"].startswith("3.")
    run = res["run"]
    assert set(run) == STAGE_KEYS
    assert run["stdout"] == "hello ['a b', \"it's\", '']\n"
    assert run["stderr"] == "err\n"
    assert run["output"] == run["stdout"] + run["stderr"]
    assert run["code"] == 0 and run["signal"] is None and run["status"] is None and run["message"] is None
    assert isinstance(run["cpu_time"], int) and isinstance(run["wall_time"], int)
    assert isinstance(run["memory"], int) and run["memory"] > 0


@pytest.mark.parametrize("language,version", [("py", "*"), ("py3", "3"), ("python3", "x")])
def test_aliases_and_versions(server, language, version):
    res = ok(server, {"language": language, "version": version, "files": [{"content": "print(7)"}]})
    assert res["language"] == "python" and res["run"]["stdout"] == "7\n"


def test_exact_version(server):
    rts = server.get("/api/v2/runtimes").json()
    version = next(rt["version"] for rt in rts if rt["language"] == "python")
    res = ok(server, {"language": "python", "version": version, "files": [{"content": "print(1)"}]})
    assert res["version"] == version
    major, minor = version.split(".")[:2]
    assert ok(server, {"language": "python", "version": f"{major}.{minor}.*",
                       "files": [{"content": "print(1)"}]})["version"] == version
    refused(server, {"language": "python", "version": "2", "files": [{"content": "print(1)"}]},
            "python-2 runtime is unknown")
    # node-semver's comparators, one at a time
    patch = int(version.split(".")[2])
    for sel in (f"^{major}", f"^{major}.{minor}", f"~{major}.{minor}", f"~{major}.{minor}.{patch}",
                f">={major}", f">{int(major) - 1}", f"<{int(major) + 1}", f"<={major}.{minor}", f"={version}",
                f"{major}.x.x", f"v{version}"):
        assert ok(server, {"language": "python", "version": sel, "files": [{"content": "print(1)"}]})["version"] \
            == version, sel
    for sel in (f"^{int(major) + 1}", f"~{major}.{int(minor) + 1}", f">{major}", f"<{major}",
                f">={major}.{int(minor) + 1}", f"^{major}.{minor}.{patch + 1}", f"{major}.x.1", "3 || 4", "latest"):
        refused(server, {"language": "python", "version": sel, "files": [{"content": "print(1)"}]},
                f"python-{sel} runtime is unknown")
    refused(server, {"language": "python", "version": f"{major}.{int(minor) + 1}", "files": [{"content": "x"}]},
            f"python-{major}.{int(minor) + 1} runtime is unknown")


def test_c_compile_and_args(server):
    src = '#include <stdio.h>\nint main(int c, char **v) { for (int i = 1; i < c; i++) printf("%s|", v[i]); return 0; }\n'
    res = ok(server, {"language": "c", "version": "*", "files": [{"name": "prog.c", "content": src}],
                      "args": ["x y", "z"]})
    assert set(res) == {"language", "version", "compile", "run"}
    assert set(res["compile"]) == STAGE_KEYS
    assert res["compile"]["code"] == 0 and res["compile"]["status"] is None
    assert res["run"]["stdout"] == "x y|z|" and res["run"]["code"] == 0


def test_compile_error(server):
    res = ok(server, {"language": "gcc", "version": "*", "files": [{"content": "int main( {"}]})
    comp = res["compile"]
    assert comp["code"] != 0 and comp["status"] == "RE"
    assert "error" in comp["stderr"] and comp["output"] == comp["stderr"]
    # As Piston does: a run that never started repeats the compile stage.
    assert res["run"] == comp


def test_runtime_error_code(server):
    run = ok(server, {"language": "python", "version": "*",
                      "files": [{"content": "import sys\nprint('x')\nsys.exit(3)"}]})["run"]
    assert run["code"] == 3 and run["status"] == "RE" and run["signal"] is None
    assert run["stdout"] == "x\n" and run["message"]


def test_signals(server):
    res = ok(server, {"language": "c", "version": "*",
                      "files": [{"content": "int main(void) { volatile int *p = 0; return *p; }"}]})
    run = res["run"]
    assert run["status"] == "SG" and run["signal"] == "SIGSEGV" and run["code"] is None
    run = ok(server, {"language": "python", "version": "*",
                      "files": [{"content": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"}]})["run"]
    assert run["status"] == "SG" and run["signal"] == "SIGKILL" and run["code"] is None


def test_timeout(server):
    run = ok(server, {"language": "python", "version": "*", "files": [{"content": "while True: pass"}],
                      "run_timeout": 1000, "run_cpu_time": 500})["run"]
    assert run["status"] == "TO" and run["signal"] == "SIGKILL" and run["code"] is None
    # The limit asked is the one applied: not the server's default of 5 s of CPU.
    assert run["wall_time"] < 4000, run


def test_memory_limit_applies(server):
    prog = "x = bytearray(200 * 1024 * 1024)\nprint('allocated')"
    run = ok(server, {"language": "python", "version": "*", "files": [{"content": prog}],
                      "run_memory_limit": 64 * 1024 * 1024})["run"]
    assert run["stdout"] == "" and run["status"] in ("RE", "SG"), run
    # -1 (Piston's "no limit") is this server's maximum, enough for it.
    run = ok(server, {"language": "python", "version": "*", "files": [{"content": prog}],
                      "run_memory_limit": -1})["run"]
    assert run["stdout"] == "allocated\n", run


def test_base64_and_hex_files(server):
    prog = ("import sys\nsys.stdout.write(open('a.bin', 'rb').read().hex() + ' ' + "
            "open('b.bin', 'rb').read().hex())")
    res = ok(server, {"language": "python", "version": "*", "files": [
        {"name": "a.bin", "content": base64.b64encode(b"\x00\xff\x10").decode(), "encoding": "base64"},
        {"name": "main.py", "content": prog},
        {"name": "b.bin", "content": "cafe00", "encoding": "hex"}]})
    assert res["run"]["stdout"] == "00ff10 cafe00", res
    # the main file itself in base64 is not a code file: the utf8 one is run
    res = ok(server, {"language": "python", "version": "*", "files": [
        {"content": base64.b64encode(b"print('b64')").decode(), "encoding": "base64", "name": "x.py"},
        {"content": "print(open('x.py').read())"}]})
    assert res["run"]["stdout"] == "print('b64')\n"


def test_multi_file(server):
    res = ok(server, {"language": "python", "version": "*", "files": [
        {"name": "main.py", "content": "import helper\nfrom pkg import mod\nprint(helper.f(), mod.G)"},
        {"name": "helper.py", "content": "def f():\n    return 41 + 1\n"},
        {"name": "pkg.py", "content": "class mod:\n    G = 'g'\n"}]})
    assert res["run"]["stdout"] == "42 g\n", res
    res = ok(server, {"language": "c", "version": "*", "files": [
        {"name": "main.c", "content": '#include <stdio.h>\n#include "util.h"\nint main(void) { printf("%d\\n", twice(21)); }'},
        {"name": "util.h", "content": "static int twice(int x) { return 2 * x; }\n"}]})
    assert res["compile"]["code"] == 0 and res["run"]["stdout"] == "42\n", res


def test_messages_in_piston_order(server):
    good = [{"content": "print(1)"}]
    refused(server, {}, "language is required as a string")
    refused(server, [], "language is required as a string")
    refused(server, {"language": 1, "version": "*", "files": good}, "language is required as a string")
    refused(server, {"language": "python"}, "version is required as a string")
    refused(server, {"language": "python", "version": 3}, "version is required as a string")
    refused(server, {"language": "python", "version": "*"}, "files is required as an array")
    refused(server, {"language": "python", "version": "*", "files": "print(1)"}, "files is required as an array")
    refused(server, {"language": "python", "version": "*", "files": [{"content": "a"}, {"name": "b"}]},
            "files[1].content is required as a string")
    refused(server, {"language": "cobol-85", "version": "*", "files": good}, "cobol-85-* runtime is unknown")
    refused(server, {"language": "python", "version": "*", "files": []},
            "files must include at least one utf8 encoded file")
    refused(server, {"language": "python", "version": "*",
                     "files": [{"content": "AA==", "encoding": "base64"}]},
            "files must include at least one utf8 encoded file")
    refused(server, {"language": "python", "version": "*", "files": good, "run_timeout": "5"},
            "If specified, run_timeout must be a number")
    refused(server, {"language": "python", "version": "*", "files": good, "compile_cpu_time": -1},
            "compile_cpu_time must be non-negative")
    refused(server, {"language": "python", "version": "*", "files": good, "run_memory_limit": -5},
            "run_memory_limit must be non-negative")


def test_limits_above_maxima(server):
    good = {"language": "python", "version": "*", "files": [{"content": "print(1)"}]}
    # the server's maxima: max_wall_time_limit 20 s, max_cpu_time_limit 15 s, max_memory_limit
    refused(server, {**good, "run_timeout": 20001}, "run_timeout cannot exceed the configured limit of 20000")
    refused(server, {**good, "compile_timeout": 20001},
            "compile_timeout cannot exceed the configured limit of 20000")
    refused(server, {**good, "run_cpu_time": 15001}, "run_cpu_time cannot exceed the configured limit of 15000")
    most = MAX_MEMORY_KIB * 1024
    refused(server, {**good, "run_memory_limit": most + 1},
            f"run_memory_limit cannot exceed the configured limit of {most}")
    refused(server, {**good, "compile_memory_limit": most + 1},
            f"compile_memory_limit cannot exceed the configured limit of {most}")
    # at the maxima: accepted
    res = ok(server, {**good, "run_timeout": 20000, "run_cpu_time": 15000, "run_memory_limit": most})
    assert res["run"]["stdout"] == "1\n"
    refused(server, {**good, "run_memory_limit": 1024}, "run_memory_limit must be at least 2097152")


def test_our_refusals(server):
    base = {"language": "python", "version": "*"}
    refused(server, {**base, "files": [{"content": "x", "name": "../escape.py"}]},
            "files[0].name must be a file name (no '/', not '.' or '..', at most 255 bytes)")
    refused(server, {**base, "files": [{"content": "x"}, {"content": "y", "name": "script.py"}]},
            "files[1].name \"script.py\" is the name this runtime gives the main file (files[0])")
    refused(server, {**base, "files": [{"content": "x"}, {"content": "!", "encoding": "base64"}]},
            "files[1].content is not valid base64")
    refused(server, {**base, "files": [{"content": "x"}, {"content": "0g", "encoding": "hex"}]},
            "files[1].content is not valid hex")
    refused(server, {**base, "files": [{"content": "x"}], "args": ["$HOME"]},
            "args[0] holds one of $&;<>|` which this server cannot pass")
    # the judge's bound on the command line: 512 bytes with the quotes, a space between
    refused(server, {**base, "files": [{"content": "x"}], "args": ["a" * 511]},
            "args are too long (at most 512 bytes once quoted)")
    refused(server, {**base, "files": [{"content": "x"}], "args": ["a" * 254, "b'" + "c" * 249]},
            "args are too long (at most 512 bytes once quoted)")
    prog = "import sys\nprint([len(a) for a in sys.argv[1:]])"
    res = ok(server, {**base, "files": [{"content": prog}], "args": ["a" * 510]})
    assert res["run"]["stdout"] == "[510]\n", res
    res = ok(server, {**base, "files": [{"content": prog}], "args": ["a" * 254, "b'" + "c" * 248]})
    assert res["run"]["stdout"] == "[254, 250]\n", res


def test_not_json(server):
    r = server.post("/api/v2/execute", data='{"language":"python"}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 415 and r.json() == {"message": "requests must be of type application/json"}
    r = server.post("/api/v2/execute", data="language=python")  # a form
    assert r.status_code == 415 and r.json() == {"message": "requests must be of type application/json"}
    r = server.post("/api/v2/execute", data="{nope", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["message"].startswith("malformed JSON")


def test_judge0_unchanged(server):
    """The waiter's new hook leaves wait=true answers in Judge0's shape."""
    r = server.submit({"source_code": "print(5)", "language_id": 71}, {"wait": "true"})
    assert r.status_code == 201, r.text
    assert set(r.json()) == {"stdout", "time", "memory", "stderr", "token", "compile_output", "message", "status"}
    assert r.json()["stdout"] == "5\n"


def test_the_languages_header_narrows_the_runtimes(server):
    """X-Coderunner-Languages (what a gateway sends for a key limited to some Judge0 ids):
    only the listed ids' runtimes run; a list that does not parse runs nothing."""
    body = {"language": "python", "version": "*", "files": [{"content": 'print("ok")'}]}
    for header, allowed in (("71", True), ("50,71", True), ("50,54", False), ("71x", False), ("", True)):
        r = execute(server, body, headers={"X-Coderunner-Languages": header})
        if allowed:
            assert r.status_code == 200 and r.json()["run"]["stdout"] == "ok\n", (header, r.text)
        else:
            assert r.status_code == 400, (header, r.text)
            assert r.json()["message"].startswith("python-") and \
                r.json()["message"].endswith(" runtime is not allowed for this API key"), r.text
