"""Compilation in `coderunner run`: compilation errors, the compile time limit, one
compilation for many test cases, and the compile cache (hits, misses, and runs that try
to tamper with what the cache holds).

How often the compiler ran is counted, not timed: the tests judge through a copy of the
catalogue whose compile command also writes "compiled" to a probe FIFO (judge_helpers.Probe),
and the programs write their own runs there."""

import json
import os
import stat
import subprocess
import time

import pytest

from judge_helpers import (ACCEPTED, C, COMPILATION_ERROR, JUDGE_TIMEOUT, NZEC, PYTHON, WRONG_ANSWER,
                           CODERUNNER, assert_status, check_result, derived_catalogue, describe, judge,
                           make_zip, probe, require_language, shorten, status_of)

# ---- compilation errors ----


def test_compilation_error(tmp_path):
    source = "#include <stdio.h>\nint main(void) {\n    printf(\"missing semicolon\")\n    return 0;\n}\n"
    result, cp = judge(tmp_path, source, C, stdin="1\n", expected="1\n")
    assert_status(result, COMPILATION_ERROR, cp)
    out = result["compile_output"]
    assert out and "error:" in out and "main.c" in out, ("gcc's own message", shorten(result))
    assert "expected" in out, ("gcc's message says what it expected", out)
    for key in ("stdout", "stderr", "time", "wall_time", "memory", "exit_code", "exit_signal", "message"):
        assert result[key] is None, (f"{key} is null on a compilation error (Judge0)", shorten(result))
    assert result["compiled"] is False and result["cache_hit"] is False, result


def test_link_error_is_a_compilation_error(tmp_path):
    source = "int helper(void);\nint main(void) { return helper(); }\n"
    result, cp = judge(tmp_path, source, C)
    assert_status(result, COMPILATION_ERROR, cp)
    assert "undefined reference" in result["compile_output"] and "helper" in result["compile_output"], result


def test_warnings_are_kept_in_compile_output_of_an_accepted_program(tmp_path):
    source = '#include <stdio.h>\n#warning "a warning from the source"\nint main(void) { puts("ok"); return 0; }\n'
    result, cp = judge(tmp_path, source, C, expected="ok\n")
    assert_status(result, ACCEPTED, cp)
    assert "a warning from the source" in (result["compile_output"] or ""), result
    assert result["stderr"] is None, ("the compiler's output is not the program's stderr", result)


def test_compiler_options_reach_the_compiler(tmp_path):
    source = '#include <stdio.h>\nint main(void) { printf("%d\\n", VALUE); return 0; }\n'
    result, cp = judge(tmp_path, source, C, "--compiler-options=-DVALUE=41+1 -O2", expected="42\n")
    assert_status(result, ACCEPTED, cp)
    result, cp = judge(tmp_path, source, C, expected="42\n")
    assert_status(result, COMPILATION_ERROR, cp, "without -DVALUE the source does not compile")
    assert "VALUE" in result["compile_output"], result


def test_compiler_options_lose_judge0s_forbidden_characters(tmp_path):
    """Judge0 strips $ & ; < > | ` from compiler_options: no second command reaches the shell."""
    source = '#include <stdio.h>\nint main(void) { puts("fine"); return 0; }\n'
    result, cp = judge(tmp_path, source, C, "--compiler-options=-O2; echo INJECTED >&2",
                       expected="fine\n")
    # what is left ("-O2 echo INJECTED 2") is one gcc command line: gcc fails on the words
    # as file names, or compiles; in no case does the shell run `echo`
    assert "INJECTED" not in (result["compile_output"] or "").splitlines(), ("echo ran", result)
    if status_of(result) == COMPILATION_ERROR:
        assert "echo" in result["compile_output"] or "INJECTED" in result["compile_output"], result
    else:
        assert_status(result, ACCEPTED, cp)


# ---- the compile time limit ----

# Both hostile compiles run at once (each on its own core where there are two), started
# when the first test of the two needs them: the module pays ~20 s once.
#
# The compile limit is 20 s of CPU (40 s wall) and cannot be lowered from the command line,
# so a compile that reaches it spends 20 s; no faster hostile compile exists (the limit is
# on the process tree's total CPU, and gcc compiles one file in one process at a time).
# The assembler is kept busy by nested .rept loops that cost CPU and no memory; preprocessor
# bombs (recursive #include, macro expansion trees) and `#include "/dev/random"` grow cc1's
# memory and end on the 1 GiB compile memory limit first.
HOSTILE = {
    "rept": '__asm__(".rept 1000\\n.rept 1000\\n.rept 1000\\n.rept 1000\\n.endr\\n.endr\\n.endr\\n.endr\\n");\n'
            "int main(void) { return 0; }\n",
    "dev-random": '#include "/dev/random"\nint main(void) { return 0; }\n',
}


@pytest.fixture(scope="module")
def hostile_compiles(tmp_path_factory):
    require_language(C)
    tmp = tmp_path_factory.mktemp("hostile")
    procs = {}
    for name, source in HOSTILE.items():
        src = tmp / f"{name}.c"
        src.write_text(source)
        start = time.monotonic()
        procs[name] = (subprocess.Popen([str(CODERUNNER), "run", str(src), "--lang=50", "--json", "--no-cache"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE), start)
    done = {}
    for name, (proc, start) in procs.items():
        try:
            out, err = proc.communicate(timeout=JUDGE_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        elapsed = time.monotonic() - start
        cp = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        result = json.loads(out) if out.strip() else None
        done[name] = (result, cp, elapsed)
    return done


@pytest.mark.slow
def test_compile_time_limit(hostile_compiles):
    result, cp, elapsed = hostile_compiles["rept"]
    assert cp.returncode == 0 and result is not None, describe(cp, result)
    check_result(result, cp=cp)
    assert_status(result, COMPILATION_ERROR, cp, "a compile that never ends")
    assert result["compile_output"] == "Compilation time limit exceeded.", shorten(result)
    assert result["time"] is None and result["stdout"] is None and result["exit_code"] is None, result
    # 20 s of CPU (the judge's compile limit), or 40 s of wall time on a loaded machine
    assert elapsed < 45, f"the compile took {elapsed:.1f} s"


@pytest.mark.slow
def test_compile_reading_dev_random(hostile_compiles):
    """`#include "/dev/random"`: an endless input. It must end in a Compilation Error,
    by the time limit (Judge0's message) or the compile memory limit (cc1 killed)."""
    result, cp, elapsed = hostile_compiles["dev-random"]
    assert cp.returncode == 0 and result is not None, describe(cp, result)
    check_result(result, cp=cp)
    assert_status(result, COMPILATION_ERROR, cp, "an endless #include")
    out = result["compile_output"] or ""
    assert out == "Compilation time limit exceeded." or "Killed" in out or "memory" in out, shorten(result)
    assert elapsed < 45, f"took {elapsed:.1f} s"


# ---- many test cases, one compilation ----

MULTI = r"""
#include <stdio.h>
#include <stdlib.h>
#warning "compiled here"
int main(void) {
    int n = 0;
    if (scanf("%d", &n) != 1)
        return 2;
    FILE *ev = fopen("EVENTS", "a");
    if (!ev) { perror("events"); return 1; }
    fprintf(ev, "run %d\n", n);
    fclose(ev);
    if (n == 3)
        exit(3);
    printf("%d\n", n == 2 ? 21 : n * 10);
    return 0;
}
"""

TESTS = {"a": ("1\n", "10\n"), "b": ("2\n", "20\n"), "c": ("3\n", "30\n")}


def multi_source(probe):
    return MULTI.replace("EVENTS", str(probe.events))


def test_tests_dir_compiles_once_and_reports_each_test(tmp_path, probe):
    langs = derived_catalogue(tmp_path, probe, [C])
    result, cp = judge(tmp_path, multi_source(probe), C, f"--languages-dir={langs}", tests=TESTS)
    events = probe.lines()
    assert events == ["compiled", "run 1", "run 2", "run 3"], \
        f"one compilation, then each test once: {events}"
    assert [t["name"] for t in result["tests"]] == ["a", "b", "c"], result["tests"]
    assert [status_of(t) for t in result["tests"]] == [ACCEPTED, WRONG_ANSWER, NZEC], shorten(result["tests"])
    assert [t["stdout"] for t in result["tests"]] == ["10\n", "21\n", None], shorten(result["tests"])
    assert result["tests"][2]["exit_code"] == 3, result["tests"][2]
    # overall: the first failing test's status, and its fields
    assert_status(result, WRONG_ANSWER, cp, "the first failing test's status")
    assert result["stdout"] == "21\n", result
    assert result["compiled"] is True and result["cache_hit"] is False, result
    assert result["compile_output"].count('warning: #warning "compiled here"') == 1, result["compile_output"]


def test_tests_dir_all_accepted(tmp_path, probe):
    langs = derived_catalogue(tmp_path, probe, [C])
    tests = {"t1": ("1\n", "10\n"), "t2": ("4\n", "40 \n\n"), "t3": ("5\n", None)}
    result, cp = judge(tmp_path, multi_source(probe), C, f"--languages-dir={langs}", "--runs=2", tests=tests)
    events = probe.lines()
    assert events == ["compiled", "run 1", "run 1", "run 4", "run 4", "run 5", "run 5"], \
        f"one compilation, then each test number_of_runs times: {events}"
    assert_status(result, ACCEPTED, cp)
    assert [status_of(t) for t in result["tests"]] == [ACCEPTED] * 3, shorten(result["tests"])
    assert [t["stdout"] for t in result["tests"]] == ["10\n", "40\n", "50\n"], shorten(result["tests"])


def test_tests_dir_stop_on_failure(tmp_path, probe):
    langs = derived_catalogue(tmp_path, probe, [C])
    result, cp = judge(tmp_path, multi_source(probe), C, f"--languages-dir={langs}", "--stop-on-failure",
                       tests=TESTS)
    events = probe.lines()
    assert events == ["compiled", "run 1", "run 2"], f"nothing runs after the first failure: {events}"
    assert_status(result, WRONG_ANSWER, cp)
    skipped = result["tests"][2]
    assert skipped["name"] == "c", skipped
    assert skipped["time"] is None and skipped["stdout"] is None and skipped["exit_code"] is None, skipped
    assert skipped["status"] is None or skipped["status"]["id"] not in (ACCEPTED, WRONG_ANSWER, NZEC), \
        ("a test that did not run has no verdict", skipped)


def test_tests_dir_compilation_error_fails_every_test_without_running(tmp_path, probe):
    langs = derived_catalogue(tmp_path, probe, [C])
    result, cp = judge(tmp_path, "int main(void) { return }\n", C, f"--languages-dir={langs}", tests=TESTS)
    events = probe.lines()
    assert events == ["compiled"], f"one failed compilation and no run: {events}"
    assert_status(result, COMPILATION_ERROR, cp)
    assert [status_of(t) for t in result["tests"]] == [COMPILATION_ERROR] * 3, shorten(result["tests"])
    assert "error" in result["compile_output"], result


def test_tests_dir_python(tmp_path, probe):
    langs = derived_catalogue(tmp_path, probe, [PYTHON], count_compiles=False)
    source = f"n = int(input())\nopen({str(probe.events)!r}, 'a').write('run %d\\n' % n)\nprint(n * 10)\n"
    result, cp = judge(tmp_path, source, PYTHON, f"--languages-dir={langs}",
                       tests={"x": ("1\n", "10\n"), "y": ("2\n", "21\n")})
    assert probe.lines() == ["run 1", "run 2"]
    assert [status_of(t) for t in result["tests"]] == [ACCEPTED, WRONG_ANSWER], shorten(result["tests"])
    assert_status(result, WRONG_ANSWER, cp)
    assert result["compiled"] is False, result


# ---- the compile cache ----

SIMPLE = '#include <stdio.h>\nint main(void) { int n; scanf("%d", &n); printf("%d\\n", n * 2); return 0; }\n'


def test_cache_hit_on_an_identical_submission(tmp_path, probe):
    langs = derived_catalogue(tmp_path, probe, [C])
    cache = tmp_path / "cache"
    first, cp1 = judge(tmp_path, SIMPLE, C, f"--languages-dir={langs}", stdin="21\n", expected="42\n", cache=cache)
    assert probe.lines() == ["compiled"]
    assert_status(first, ACCEPTED, cp1)
    assert first["compiled"] is True and first["cache_hit"] is False, first
    second, cp2 = judge(tmp_path, SIMPLE, C, f"--languages-dir={langs}", stdin="21\n", expected="42\n", cache=cache)
    assert probe.lines() == [], "the compiler must not run again for an identical submission"
    assert_status(second, ACCEPTED, cp2)
    assert second["compiled"] is True and second["cache_hit"] is True, second
    assert second["stdout"] == "42\n", second
    # another stdin is still the same compilation
    third, cp3 = judge(tmp_path, SIMPLE, C, f"--languages-dir={langs}", stdin="5\n", expected="10\n", cache=cache)
    assert probe.lines() == [] and third["cache_hit"] is True, third
    assert_status(third, ACCEPTED, cp3)


def test_cache_miss_on_other_compiler_options(tmp_path, probe):
    langs = derived_catalogue(tmp_path, probe, [C])
    cache = tmp_path / "cache"
    source = '#include <stdio.h>\nint main(void) { printf("%d\\n", V); return 0; }\n'
    a, cp = judge(tmp_path, source, C, f"--languages-dir={langs}", "--compiler-options=-DV=1", cache=cache)
    assert a["stdout"] == "1\n" and a["cache_hit"] is False, a
    b, cp = judge(tmp_path, source, C, f"--languages-dir={langs}", "--compiler-options=-DV=2", cache=cache)
    assert b["cache_hit"] is False, ("other compiler options are another compilation", b)
    assert b["stdout"] == "2\n", ("a stale binary from the cache", b)
    assert probe.lines() == ["compiled", "compiled"]
    c, cp = judge(tmp_path, source, C, f"--languages-dir={langs}", "--compiler-options=-DV=1", cache=cache)
    assert c["cache_hit"] is True and c["stdout"] == "1\n", c
    assert probe.lines() == []


def test_cache_miss_on_another_source(tmp_path, probe):
    langs = derived_catalogue(tmp_path, probe, [C])
    cache = tmp_path / "cache"
    for value in ("1", "2"):
        source = f'#include <stdio.h>\nint main(void) {{ puts("{value}"); return 0; }}\n'
        result, cp = judge(tmp_path, source, C, f"--languages-dir={langs}", cache=cache)
        assert result["cache_hit"] is False and result["stdout"] == f"{value}\n", result
    assert probe.lines() == ["compiled", "compiled"]


def test_cache_miss_on_other_additional_files(tmp_path, probe):
    """A header from additional_files is part of the compilation: another header, another
    binary (a cache keyed on the source alone would serve the old one)."""
    langs = derived_catalogue(tmp_path, probe, [C])
    cache = tmp_path / "cache"
    source = '#include <stdio.h>\n#include "value.h"\nint main(void) { printf("%d\\n", VALUE); return 0; }\n'
    outputs = []
    for value in (7, 8, 7):
        zip_path = make_zip(tmp_path / f"files-{value}.zip", [("value.h", f"#define VALUE {value}\n")])
        result, cp = judge(tmp_path, source, C, f"--languages-dir={langs}", f"--additional-files={zip_path}",
                           cache=cache)
        assert_status(result, ACCEPTED, cp)
        outputs.append((result["stdout"], result["cache_hit"]))
    assert outputs == [("7\n", False), ("8\n", False), ("7\n", True)], outputs
    assert probe.lines() == ["compiled", "compiled"]


def test_compilation_errors_are_not_served_as_success(tmp_path):
    cache = tmp_path / "cache"
    bad = "int main(void) { return }\n"
    for _ in range(2):
        result, cp = judge(tmp_path, bad, C, cache=cache)
        assert_status(result, COMPILATION_ERROR, cp)
        assert "error" in result["compile_output"], result


def test_python_never_hits_the_compile_cache(tmp_path):
    cache = tmp_path / "cache"
    for _ in range(2):
        result, cp = judge(tmp_path, "print(6 * 7)\n", PYTHON, cache=cache, expected="42\n")
        assert_status(result, ACCEPTED, cp)
        assert result["compiled"] is False and result["cache_hit"] is False, result


# The program tries to change what it was compiled into: it replaces its own a.out with a
# script, leaves a marker, and appends to every other file in /box. Whatever it manages to
# do to its own copy, the next run (from the cache, or the next of number_of_runs) must
# start from the compiled files as they were.
TAMPER = r"""
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
int main(void) {
    int tampered = access("tampered", F_OK) == 0;
    printf("%s\n", tampered ? "tampered" : "clean");
    fflush(stdout);
    /* a.out is busy (ETXTBSY) while it runs: replace it instead */
    int fd = open("a.out", O_WRONLY | O_TRUNC);
    if (fd >= 0) close(fd);
    unlink("a.out");
    FILE *f = fopen("a.out", "w");
    if (f) {
        fputs("#!/bin/sh\necho hijacked\n", f);
        fclose(f);
        chmod("a.out", 0755);
    }
    DIR *d = opendir(".");
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "a.out") == 0)
            continue;
        FILE *g = fopen(e->d_name, "a");
        if (g) { fputs("\n#error tampered\n", g); fclose(g); }
    }
    if (d) closedir(d);
    close(open("tampered", O_WRONLY | O_CREAT, 0644));
    return 0;
}
"""


def test_runs_cannot_change_the_cached_compilation(tmp_path):
    cache = tmp_path / "cache"
    first, cp = judge(tmp_path, TAMPER, C, cache=cache, expected="clean\n")
    assert_status(first, ACCEPTED, cp)
    assert first["cache_hit"] is False, first
    second, cp = judge(tmp_path, TAMPER, C, cache=cache, expected="clean\n")
    assert second["cache_hit"] is True, second
    assert_status(second, ACCEPTED, cp, "the second run from the cache must see the compiled files untouched")
    # nothing in the cache is writable by anyone but its owner
    for root, dirs, files in os.walk(cache):
        for name in dirs + files:
            mode = os.lstat(os.path.join(root, name)).st_mode
            assert not mode & (stat.S_IWGRP | stat.S_IWOTH), (os.path.join(root, name), oct(mode))


def test_runs_of_one_submission_do_not_see_each_other(tmp_path):
    result, cp = judge(tmp_path, TAMPER, C, "--runs=3", expected="clean\n")
    assert_status(result, ACCEPTED, cp, "each of number_of_runs starts from the compiled files")
    result, cp = judge(tmp_path, TAMPER, C, tests={"one": ("", "clean\n"), "two": ("", "clean\n")})
    assert [status_of(t) for t in result["tests"]] == [ACCEPTED, ACCEPTED], shorten(result["tests"])


def test_no_cache_writes_no_cache(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home), XDG_CACHE_HOME=str(home / "xdg"))
    result, cp = judge(tmp_path, SIMPLE, C, stdin="1\n", env=env)
    assert_status(result, ACCEPTED, cp)
    assert list(home.rglob("*")) == [], list(home.rglob("*"))


@pytest.mark.parametrize("layout", ["xdg-exists", "xdg-missing", "home-only"])
def test_default_cache_location(tmp_path, layout):
    """Without --cache-dir/--no-cache: $XDG_CACHE_HOME/coderunner, else ~/.cache/coderunner,
    made when missing (the XDG base directory spec: a missing directory is created)."""
    home = tmp_path / "home"
    home.mkdir()
    env = dict(os.environ, HOME=str(home))
    env.pop("XDG_CACHE_HOME", None)
    if layout == "xdg-exists":
        (home / "xdg").mkdir()
    if layout.startswith("xdg"):
        env["XDG_CACHE_HOME"] = str(home / "xdg")
        where = home / "xdg" / "coderunner"
    else:
        where = home / ".cache" / "coderunner"
    require_language(C)
    src = tmp_path / "main.c"
    src.write_text(SIMPLE)
    runs = []
    for _ in range(2):
        cp = subprocess.run([str(CODERUNNER), "run", str(src), "--lang=50", "--json"],
                            capture_output=True, env=env, timeout=JUDGE_TIMEOUT)
        assert cp.returncode == 0, describe(cp)
        runs.append(json.loads(cp.stdout))
    assert [r["cache_hit"] for r in runs] == [False, True], runs
    assert where.is_dir(), list(home.rglob("*"))
