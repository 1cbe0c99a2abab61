"""`coderunner run` as a command: bad input is refused with exit status 1 and one clear
line on stderr (and nothing on stdout), and several judgements at once, on different
programs and one shared cache, each get their own right verdict."""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from judge_helpers import (ACCEPTED, C, CODERUNNER, JUDGE_TIMEOUT, PYTHON, SUM, WRONG_ANSWER, check_result,
                           describe, require_language, shorten)


def run_command(args, env=None, prefix=()):
    return subprocess.run([*prefix, str(CODERUNNER), "run", *map(str, args)], capture_output=True,
                          timeout=JUDGE_TIMEOUT, env=env)


def assert_usage_error(cp, *words):
    """Exit 1, nothing on stdout, exactly one line on stderr that contains every word."""
    err = cp.stderr.decode(errors="replace")
    assert cp.returncode == 1, describe(cp)
    assert cp.stdout == b"", describe(cp)
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1 and lines[0].strip(), f"one line on stderr, got {err!r}"
    for word in words:
        assert word in lines[0], f"{word!r} not in {lines[0]!r}"


@pytest.fixture
def c_source(tmp_path):
    require_language(C)
    path = tmp_path / "main.c"
    path.write_text(SUM[C])
    return path


def test_unknown_language(tmp_path):
    src = tmp_path / "main.c"
    src.write_text(SUM[C])
    for lang in ("99999", "no-such-language"):
        cp = run_command([src, f"--lang={lang}", "--json", "--no-cache"])
        assert_usage_error(cp, lang)


def test_language_cannot_be_guessed(tmp_path):
    src = tmp_path / "program.unknown-extension"
    src.write_text("x\n")
    cp = run_command([src, "--json", "--no-cache"])
    assert_usage_error(cp, str(src))


def test_missing_source_file(tmp_path, c_source):
    missing = tmp_path / "does-not-exist.c"
    cp = run_command([missing, "--lang=50", "--json", "--no-cache"])
    assert_usage_error(cp, str(missing))


@pytest.mark.parametrize("option", ["--stdin", "--expected", "--additional-files"])
def test_missing_input_file(tmp_path, c_source, option):
    missing = tmp_path / "nope.txt"
    cp = run_command([c_source, "--lang=50", "--json", "--no-cache", f"{option}={missing}"])
    assert_usage_error(cp, str(missing))


def test_directory_instead_of_a_file(tmp_path, c_source):
    directory = tmp_path / "a-directory"
    directory.mkdir()
    cp = run_command([c_source, "--lang=50", "--json", "--no-cache", f"--stdin={directory}"])
    assert_usage_error(cp, str(directory))
    cp = run_command([directory, "--lang=50", "--json", "--no-cache"])
    assert_usage_error(cp, str(directory))


NOBODY = 65534
AS_NOBODY = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


def test_unreadable_source_file(c_source):
    """Root reads any file; the command run as another user must refuse the one it cannot."""
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is not installed")
    base = Path(tempfile.mkdtemp(prefix="coderunner-judge-unreadable-"))  # /tmp: searchable by all
    try:
        base.chmod(0o755)
        src = base / "secret.c"
        src.write_text(SUM[C])
        src.chmod(0o000)
        cp = run_command([src, "--lang=50", "--json", "--no-cache"], prefix=AS_NOBODY)
        if b"languages:" in cp.stderr or b"not installed" in cp.stderr:
            pytest.skip(f"uid {NOBODY} cannot use the catalogue here: {cp.stderr.decode().strip()}")
        assert_usage_error(cp, str(src))
        assert "ermission denied" in cp.stderr.decode(), describe(cp)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_tests_dir_without_inputs(tmp_path, c_source):
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "only.out").write_text("1\n")
    (tests / "notes.txt").write_text("not a test\n")
    cp = run_command([c_source, "--lang=50", "--json", "--no-cache", f"--tests={tests}"])
    assert_usage_error(cp, str(tests))


def test_tests_dir_missing(tmp_path, c_source):
    cp = run_command([c_source, "--lang=50", "--json", "--no-cache", f"--tests={tmp_path / 'nowhere'}"])
    assert_usage_error(cp, "nowhere")


@pytest.mark.parametrize("mode", ["fuzzy", "numbers:", "numbers:abc", "numbers:-1", "exact:1", "default:0.1", ""])
def test_bad_compare_mode(c_source, mode):
    cp = run_command([c_source, "--lang=50", "--json", "--no-cache", f"--compare={mode}"])
    assert_usage_error(cp, "--compare")


@pytest.mark.parametrize("option", ["--time=abc", "--time=-1", "--mem=lots", "--runs=0x", "--runs=1000",
                                    "--processes=-2", "--wall-time=", "--output-limit=1e99"])
def test_bad_limit_values(c_source, option):
    cp = run_command([c_source, "--lang=50", "--json", "--no-cache", option])
    assert_usage_error(cp, option.split("=")[0])


def test_unknown_option(c_source):
    cp = run_command([c_source, "--lang=50", "--json", "--frobnicate"])
    assert_usage_error(cp, "--frobnicate")


def test_no_file_and_two_files(c_source):
    assert_usage_error(run_command(["--lang=50", "--json"]))
    assert_usage_error(run_command([c_source, c_source, "--lang=50", "--json"]), str(c_source))


def test_help_exits_zero():
    cp = run_command(["--help"])
    assert cp.returncode == 0 and b"Usage: coderunner run" in cp.stdout, describe(cp)


# ---- several judgements at once ----

PROGRAMS = [
    (C, "main.c", '#include <stdio.h>\nint main(void) { long a, b; scanf("%ld %ld", &a, &b); printf("%ld\\n", a * b); return 0; }\n',
     "6 7\n", "42\n"),
    (C, "main.c", '#include <stdio.h>\n#include <ctype.h>\nint main(void) { int c; while ((c = getchar()) != EOF) putchar(toupper(c)); return 0; }\n',
     "shout\n", "SHOUT\n"),
    (PYTHON, "script.py", "print(sum(map(int, input().split())))\n", "1 2 3 4\n", "10\n"),
    (PYTHON, "script.py", "import sys\nprint(sys.stdin.read()[::-1].strip())\n", "abc\n", "cba\n"),
]


def judge_at_once(tmp_path, programs, cache):
    procs = []
    for i, (lang, name, source, stdin, expected) in enumerate(programs):
        require_language(lang)
        d = tmp_path / f"p{i}"
        d.mkdir()
        (d / name).write_text(source)
        (d / "in").write_text(stdin)
        (d / "out").write_text(expected)
        cmd = [str(CODERUNNER), "run", str(d / name), f"--lang={lang}", f"--stdin={d / 'in'}",
               f"--expected={d / 'out'}", "--json", f"--cache-dir={cache}"]
        procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    results = []
    for proc, (lang, name, source, stdin, expected) in zip(procs, programs):
        out, err = proc.communicate(timeout=JUDGE_TIMEOUT)
        cp = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        assert proc.returncode == 0, describe(cp)
        result = json.loads(out)
        check_result(result, cp=cp)
        results.append((result, expected, cp))
    return results


def test_four_different_programs_at_once(tmp_path):
    results = judge_at_once(tmp_path, PROGRAMS, tmp_path / "cache")
    for result, expected, cp in results:
        assert result["status"]["id"] == ACCEPTED and result["stdout"] == expected, describe(cp, result)


def test_four_identical_compilations_at_once_share_the_cache(tmp_path):
    """Four judgements of one C source race to fill one cache entry: all must be right,
    and the entry they leave must serve a fifth."""
    programs = [PROGRAMS[0]] * 4
    cache = tmp_path / "cache"
    (tmp_path / "race").mkdir()
    (tmp_path / "after").mkdir()
    for result, expected, cp in judge_at_once(tmp_path / "race", programs, cache):
        assert result["status"]["id"] == ACCEPTED and result["stdout"] == expected, describe(cp, result)
    [(after, expected, cp)] = judge_at_once(tmp_path / "after", programs[:1], cache)
    assert after["status"]["id"] == ACCEPTED and after["stdout"] == expected, describe(cp, after)
    assert after["cache_hit"] is True, ("the raced entry serves the next submission", shorten(after))


def test_many_wrong_and_right_at_once(tmp_path):
    """Eight at once, half of them wrong: no verdict leaks to another judgement."""
    programs = []
    for i in range(8):
        expected = f"{i + 1}\n" if i % 2 == 0 else f"{i + 100}\n"
        programs.append((C, "main.c", f'#include <stdio.h>\nint main(void) {{ printf("%d\\n", {i} + 1); return 0; }}\n',
                         "", expected))
    results = judge_at_once(tmp_path, programs, tmp_path / "cache")
    for i, (result, expected, cp) in enumerate(results):
        assert result["stdout"] == f"{i + 1}\n", describe(cp, result)
        want = ACCEPTED if i % 2 == 0 else WRONG_ANSWER
        assert result["status"]["id"] == want, describe(cp, result)
