"""Shared machinery of the judge integration tests (tests/integration/test_judge_*.py).

Every test judges a real program for real with `coderunner run FILE --lang=ID --json` and
checks the Judge0-shaped object it prints. The language catalogue is the one the command
uses by default ($CODERUNNER_LANGUAGES, else languages/ of the source tree); a language
whose toolchain is not installed skips its tests, with the command's own reason.

Some tests must count what happened inside the sandbox (how many times the compiler ran,
how many runs a submission made) without looking at the clock. They use a Probe: a FIFO
in a host directory that a copy of the catalogue binds read-only into the box (a FIFO on
a read-only mount can still be written). The program, or the compile command of that
copied catalogue, writes one line per event; the test reads the lines back.
"""

import json
import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest

from conftest import BUILD, CODERUNNER, REPO

C = 50
CPP = 54
PYTHON = 71
EXECUTABLE = 44
MULTI_FILE = 89

# Source file names for `coderunner run FILE` (the judge writes the source under the
# language's own name; FILE's name does not matter with --lang).
FILE_NAMES = {C: "main.c", CPP: "main.cpp", PYTHON: "script.py", EXECUTABLE: "a.out",
              MULTI_FILE: "program.zip"}
LANG_LABELS = {C: "C", CPP: "C++", PYTHON: "Python", EXECUTABLE: "Executable",
               MULTI_FILE: "Multi-file program"}

# Judge0 CE's statuses (judge0-api.md §3.1).
STATUS = {
    1: "In Queue",
    2: "Processing",
    3: "Accepted",
    4: "Wrong Answer",
    5: "Time Limit Exceeded",
    6: "Compilation Error",
    7: "Runtime Error (SIGSEGV)",
    8: "Runtime Error (SIGXFSZ)",
    9: "Runtime Error (SIGFPE)",
    10: "Runtime Error (SIGABRT)",
    11: "Runtime Error (NZEC)",
    12: "Runtime Error (Other)",
    13: "Internal Error",
    14: "Exec Format Error",
}
ACCEPTED, WRONG_ANSWER, TIME_LIMIT, COMPILATION_ERROR = 3, 4, 5, 6
SIGSEGV_STATUS, SIGXFSZ_STATUS, SIGFPE_STATUS, SIGABRT_STATUS = 7, 8, 9, 10
NZEC, RUNTIME_OTHER, INTERNAL_ERROR, EXEC_FORMAT_ERROR = 11, 12, 13, 14
# The statuses Judge0 decides from the signal (judge0-api.md §3.2): 11, 25, 8, 6.
SIGNAL_OF_STATUS = {7: 11, 8: 25, 9: 8, 10: 6}

OUTCOME_KEYS = {"stdout", "stderr", "time", "wall_time", "memory", "message", "exit_code",
                "exit_signal", "memory_limit_exceeded"}
RESULT_KEYS = OUTCOME_KEYS | {"status", "compile_output", "language", "compiled", "cache_hit"}
TEST_KEYS = OUTCOME_KEYS | {"name", "status"}

# How long the test waits for one `coderunner run`: far above any limit a test sets, so a
# hung judge fails the test instead of hanging the suite. (Compiles may take up to the
# judge's compile limit: 20 s CPU, 40 s wall.)
JUDGE_TIMEOUT = 60

DECIMAL = re.compile(r"^\d+(\.\d+)?$")
MIB = 1024  # KiB


def languages_dir():
    """The catalogue `coderunner run` uses when not given --languages-dir."""
    env = os.environ.get("CODERUNNER_LANGUAGES")
    return Path(env) if env else REPO / "languages"


def read_conf(path):
    """{key: value} of a language.conf (repeatable keys: the last one)."""
    conf = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        conf[key.strip()] = value.strip()
    return conf


def language_conf(lang_id):
    """(directory, {key: value}) of the catalogue's language with this id, or None."""
    root = languages_dir()
    for conf_path in sorted(root.glob("*/language.conf")):
        try:
            conf = read_conf(conf_path)
        except OSError:
            continue
        if conf.get("id") == str(lang_id):
            return conf_path.parent, conf
    return None


def describe(cp, result=None):
    """Everything worth seeing when a test fails (the JSON in full: it is the report)."""
    out = cp.stdout.decode(errors="replace") if isinstance(cp.stdout, bytes) else cp.stdout
    err = cp.stderr.decode(errors="replace") if isinstance(cp.stderr, bytes) else cp.stderr
    shown = json.dumps(shorten(result)) if result is not None else out[:3000]
    return (f"command: {' '.join(map(str, cp.args))}\n"
            f"exit: {cp.returncode}\n"
            f"json: {shown}\n"
            f"stderr: {err[:2000]!r}")


def shorten(value, limit=400):
    """The JSON with long strings cut, for messages."""
    if isinstance(value, str) and len(value) > limit:
        return value[:limit] + f"...[{len(value)} chars]"
    if isinstance(value, dict):
        return {k: shorten(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [shorten(v, limit) for v in value]
    return value


# ---- which languages are here ----

_availability = {}


def _listed_languages():
    """What `coderunner languages --json` says, if that command exists: {id: installed}."""
    if "listing" in _availability:
        return _availability["listing"]
    listing = None
    try:
        cp = subprocess.run([str(CODERUNNER), "languages", "--json"], capture_output=True,
                            timeout=JUDGE_TIMEOUT)
        if cp.returncode == 0:
            data = json.loads(cp.stdout)
            if isinstance(data, dict):
                data = data.get("languages", [])
            listing = {}
            for entry in data:
                if isinstance(entry, dict) and isinstance(entry.get("id"), int):
                    listing[entry["id"]] = entry.get("installed", True) is not False
    except (subprocess.TimeoutExpired, ValueError, TypeError, AttributeError):
        listing = None
    _availability["listing"] = listing
    return listing


def require_language(lang_id):
    """Skip the test when the language is not in the catalogue or its toolchain is not
    installed. Asks `coderunner languages --json` when it exists, else makes one probe
    judgement of an empty source (once per language per session) and reads the reason
    the command gives."""
    label = f"{LANG_LABELS.get(lang_id, 'language')} ({lang_id})"
    if lang_id in _availability:
        reason = _availability[lang_id]
    else:
        reason = None
        listing = _listed_languages()
        if listing is not None:
            if lang_id not in listing:
                reason = f"{label} is not in the language catalogue"
            elif not listing[lang_id]:
                reason = f"{label}: the toolchain is not installed"
        else:
            with tempfile.TemporaryDirectory(prefix="coderunner-judge-probe-") as tmp:
                probe = Path(tmp) / FILE_NAMES.get(lang_id, "probe")
                probe.write_bytes(b"")
                cp = subprocess.run([str(CODERUNNER), "run", str(probe), f"--lang={lang_id}",
                                     "--no-cache", "--json", "--time=1", "--wall-time=5"],
                                    capture_output=True, timeout=JUDGE_TIMEOUT)
            err = cp.stderr.decode(errors="replace").strip()
            if "unknown language" in err:
                reason = f"{label} is not in the language catalogue ({err})"
            elif "not installed" in err:
                reason = f"{label}: {err}"
            elif err.startswith("coderunner: languages:") or "languages:" in err.split("\n")[0]:
                pytest.fail(f"the language catalogue {languages_dir()} does not load: {err}")
        _availability[lang_id] = reason
    if reason:
        pytest.skip(reason)


# ---- judging ----

def judge(tmp_path, source, lang, *options, stdin=None, expected=None, cache=None,
          expect_exit=0, timeout=JUDGE_TIMEOUT, env=None, filename=None, tests=None,
          check=True):
    """Judge SOURCE (str or bytes) as language LANG with `coderunner run --json`.

    stdin/expected: str or bytes, written to files for --stdin/--expected. cache: None for
    --no-cache, else a directory for --cache-dir. tests: {name: (input, expected or None)}
    for --tests. Returns (result, completed_process); the command's exit status must be
    expect_exit (None: anything) and, when it printed JSON, the JSON must be well formed."""
    if lang is not None:
        require_language(lang)
    work = Path(tempfile.mkdtemp(prefix="submission-", dir=tmp_path))
    name = filename or FILE_NAMES.get(lang, "source")
    src = work / name
    src.write_bytes(source.encode() if isinstance(source, str) else source)
    args = ["run", str(src), "--json"]
    if lang is not None:
        args.append(f"--lang={lang}")
    for flag, data in (("--stdin", stdin), ("--expected", expected)):
        if data is not None:
            path = work / flag.strip("-")
            path.write_bytes(data.encode() if isinstance(data, str) else data)
            args.append(f"{flag}={path}")
    if tests is not None:
        tests_dir = work / "tests"
        tests_dir.mkdir()
        for test_name, (test_in, test_out) in tests.items():
            (tests_dir / f"{test_name}.in").write_bytes(
                test_in.encode() if isinstance(test_in, str) else test_in)
            if test_out is not None:
                (tests_dir / f"{test_name}.out").write_bytes(
                    test_out.encode() if isinstance(test_out, str) else test_out)
        args.append(f"--tests={tests_dir}")
    args.append("--no-cache" if cache is None else f"--cache-dir={cache}")
    args += [str(o) for o in options]
    cp = subprocess.run([str(CODERUNNER), *args], capture_output=True, timeout=timeout,
                        env=env)
    result = None
    if cp.stdout.strip():
        try:
            result = json.loads(cp.stdout)
        except ValueError:
            pytest.fail(f"the output is not JSON\n{describe(cp)}")
    if expect_exit is not None:
        assert cp.returncode == expect_exit, describe(cp, result)
    if check:
        assert result is not None, "no JSON printed\n" + describe(cp)
        check_result(result, with_tests=tests is not None, cp=cp)
    return result, cp


def check_outcome(o, where, with_status):
    """The fields of one run (the submission's or one test's) have Judge0's types."""
    full, o = o, shorten(o)
    where = f"{where}: {json.dumps(o)}"
    for key in ("stdout", "stderr", "message"):
        assert full[key] is None or isinstance(o[key], str), (where, key, o[key])
    # Judge0 stores empty output as null.
    assert full["stdout"] != "" and full["stderr"] != "", (where, "empty output must be null", o)
    for key in ("time", "wall_time"):
        assert o[key] is None or (isinstance(o[key], str) and DECIMAL.match(o[key])), \
            (where, f"{key} must be a decimal string or null", o[key])
    assert o["memory"] is None or (isinstance(o["memory"], int) and not isinstance(o["memory"], bool)
                                   and o["memory"] >= 0), (where, "memory", o["memory"])
    assert o["exit_code"] is None or (isinstance(o["exit_code"], int)
                                      and not isinstance(o["exit_code"], bool)), (where, o)
    assert o["exit_signal"] is None or (isinstance(o["exit_signal"], int) and o["exit_signal"] > 0), \
        (where, "exit_signal", o)
    assert isinstance(o["memory_limit_exceeded"], bool), (where, o)
    if with_status:
        status = o["status"]
        assert isinstance(status, dict) and set(status) == {"id", "description"}, (where, status)
        sid = status["id"]
        ran = o["time"] is not None
        if sid in STATUS:
            assert status["description"] == STATUS[sid], (where, "description of", status)
        if sid == COMPILATION_ERROR:
            for key in ("stdout", "stderr", "time", "wall_time", "memory", "exit_code", "exit_signal",
                        "message"):
                assert o[key] is None, (where, f"{key} must be null on a compilation error", o)
        if sid in (ACCEPTED, WRONG_ANSWER):
            assert ran and o["exit_code"] == 0 and o["exit_signal"] is None, (where, o)
        # (8 is also what too much output reads as; test_judge_verdicts checks that case)
        if sid in SIGNAL_OF_STATUS and sid != SIGXFSZ_STATUS:
            assert o["exit_signal"] == SIGNAL_OF_STATUS[sid], (where, "signal of the status", o)
        if sid == NZEC:
            assert isinstance(o["exit_code"], int) and o["exit_code"] != 0, (where, o)
        if ran:
            # Judge0: exit_code defaults to 0 when isolate reports none (a signal, a timeout)
            assert isinstance(o["exit_code"], int), (where, "exit_code after a run", o)
            assert isinstance(o["memory"], int), (where, "memory after a run", o)
        if o["memory_limit_exceeded"]:
            assert sid == RUNTIME_OTHER, (where, "memory_limit_exceeded goes with status 12", o)


def check_result(result, with_tests=False, cp=None):
    """Assert that the JSON of `coderunner run --json` has Judge0's shape."""
    ctx = describe(cp, result) if cp is not None else json.dumps(shorten(result))
    assert isinstance(result, dict), ctx
    expected_keys = RESULT_KEYS | ({"tests"} if with_tests else set())
    assert set(result) == expected_keys, \
        f"keys: missing {expected_keys - set(result)}, extra {set(result) - expected_keys}\n{ctx}"
    check_outcome(result, "submission", True)
    assert result["compile_output"] is None or isinstance(result["compile_output"], str), ctx
    assert isinstance(result["compiled"], bool) and isinstance(result["cache_hit"], bool), ctx
    assert not result["cache_hit"] or result["compiled"], ("a cache hit is a compilation", ctx)
    lang = result["language"]
    assert isinstance(lang, dict) and set(lang) == {"id", "name"}, ctx
    assert isinstance(lang["id"], int) and isinstance(lang["name"], str) and lang["name"], ctx
    if with_tests:
        assert isinstance(result["tests"], list) and result["tests"], ctx
        for i, t in enumerate(result["tests"]):
            assert isinstance(t, dict) and set(t) == TEST_KEYS, \
                (f"test {i} keys: missing {TEST_KEYS - set(t)}, extra {set(t) - TEST_KEYS}", ctx)
            # A test skipped by --stop-on-failure has no status (null) and no results.
            if t["status"] is None:
                assert t["time"] is None and t["stdout"] is None, (f"test {i} skipped", ctx)
                continue
            check_outcome(t, f"test {i} ({t.get('name')})", t["time"] is not None
                          or t["status"]["id"] in STATUS)


def status_of(result):
    return result["status"]["id"]


def assert_status(result, status_id, cp=None, why=""):
    """The submission's status is status_id (with a message that shows the JSON)."""
    got = result["status"]["id"]
    assert got == status_id, (
        f"expected status {status_id} ({STATUS.get(status_id)}), got {got} "
        f"({result['status']['description']}){': ' + why if why else ''}\n"
        + (describe(cp, result) if cp is not None else json.dumps(shorten(result))))


# ---- zips ----

def make_zip(path, entries, compression=zipfile.ZIP_DEFLATED):
    """Write a zip: entries is a list of (name, data) or (ZipInfo, data)."""
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in entries:
            if isinstance(name, zipfile.ZipInfo):
                if name.compress_type is None:
                    name.compress_type = compression
                z.writestr(name, data)
            else:
                # a fixed date: the same entries make the same bytes (the cache key)
                info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = compression
                info.external_attr = 0o644 << 16
                z.writestr(info, data)
    return Path(path)


def symlink_entry(name, target):
    """A zip entry that unzip would extract as a symlink (Unix mode 0120777)."""
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: external_attr carries st_mode
    info.external_attr = (0o120777 << 16)
    return info, target


# ---- the probe ----

class Probe:
    """FIFOs in a host directory the sandbox can see (through a derived catalogue's
    `bind`): `events`, where the box writes one line per event (a compile, a run), and
    `feed`, fixed-size records the test writes for the box to read one by one."""

    RECORD = 8

    def __init__(self):
        # Not under /tmp: the sandbox refuses binds there (it has its own /tmp).
        base = Path("/var/tmp") if Path("/var/tmp").is_dir() else BUILD
        self.dir = Path(tempfile.mkdtemp(prefix="coderunner-judge-probe-", dir=base))
        self.dir.chmod(0o755)
        self.events = self.dir / "events"
        self.feed = self.dir / "feed"
        for fifo in (self.events, self.feed):
            os.mkfifo(fifo)
            os.chmod(fifo, 0o666)
        # O_RDWR: the box's opens never block, and the box's reads of an empty feed would
        # block rather than see EOF (a wrong extra run shows as a timeout, not silently).
        self._events_fd = os.open(self.events, os.O_RDWR | os.O_NONBLOCK)
        self._feed_fd = os.open(self.feed, os.O_RDWR | os.O_NONBLOCK)
        self._pending = b""

    def lines(self):
        """The event lines written since the last call."""
        data = self._pending
        while True:
            try:
                chunk = os.read(self._events_fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
        *complete, self._pending = data.split(b"\n")
        return [line.decode(errors="replace") for line in complete]

    def write_records(self, values):
        for v in values:
            record = str(v).encode().ljust(self.RECORD - 1)[: self.RECORD - 1] + b"\n"
            os.write(self._feed_fd, record)

    def close(self):
        os.close(self._events_fd)
        os.close(self._feed_fd)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def probe():
    p = Probe()
    yield p
    p.close()


def derived_catalogue(tmp_path, probe, lang_ids, count_compiles=True):
    """A copy of the catalogue's languages lang_ids that binds probe.dir into the box and,
    with count_compiles, whose compile command writes "compiled" to the probe's events
    each time the compiler runs (whether or not it succeeds). Returns the directory for
    --languages-dir."""
    root = tmp_path / "languages"
    root.mkdir(exist_ok=True)
    for lang_id in lang_ids:
        require_language(lang_id)
        found = language_conf(lang_id)
        if found is None:
            pytest.skip(f"{LANG_LABELS.get(lang_id, lang_id)} ({lang_id}) is not in {languages_dir()}")
        src_dir, _ = found
        dst = root / src_dir.name
        shutil.copytree(src_dir, dst)
        conf_path = dst / "language.conf"
        lines = []
        for line in conf_path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if count_compiles and sep and key.strip() == "compile" and not line.lstrip().startswith("#"):
                line = (f"compile = {{ {value.strip()} ; }}; s=$?; "
                        f"echo compiled >> {probe.events}; exit $s")
            lines.append(line)
        lines.append(f"bind = {probe.dir}")
        conf_path.write_text("\n".join(lines) + "\n")
    return root


# ---- programs used by several files ----

C_ECHO = r"""
#include <stdio.h>
int main(void) {
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, stdin)) > 0)
        fwrite(buf, 1, n, stdout);
    return 0;
}
"""

PY_ECHO = """
import sys
sys.stdout.buffer.write(sys.stdin.buffer.read())
"""

ECHO = {C: C_ECHO, PYTHON: PY_ECHO}

C_SUM = r"""
#include <stdio.h>
int main(void) {
    long a, b;
    if (scanf("%ld %ld", &a, &b) != 2)
        return 2;
    printf("%ld\n", a + b);
    return 0;
}
"""

PY_SUM = """
a, b = map(int, input().split())
print(a + b)
"""

SUM = {C: C_SUM, PYTHON: PY_SUM}
