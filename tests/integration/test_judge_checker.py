"""Checkers and interactors (testlib's conventions) through `coderunner run`.

A checker runs after each test with input.txt, output.txt (the program's) and answer.txt
as its arguments; its exit code decides: 0 accepted, 1 wrong answer, 2 presentation error,
3 (or a crash, or its own limits) the checker's failure, 7 partial points. An interactor
talks with the program through two pipes and decides the same way."""

import pytest

from judge_helpers import (ACCEPTED, C, INTERNAL_ERROR, PYTHON, SIGABRT_STATUS, TIME_LIMIT,
                           WRONG_ANSWER, judge)

SUM = "a, b = map(int, input().split())\nprint(a + b + 0.0000001)\n"

# Accepts within 1e-3 of the answer; testlib's messages on stderr.
TOLERANT = """import sys
out = open(sys.argv[2]).read().split()
ans = float(open(sys.argv[3]).read().split()[0])
if not out:
    print("wrong answer: empty output", file=sys.stderr); sys.exit(1)
if abs(float(out[0]) - ans) < 1e-3:
    print("ok the sum is right", file=sys.stderr); sys.exit(0)
print("wrong answer expected %s, found %s" % (ans, out[0]), file=sys.stderr); sys.exit(1)
"""


def helper(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(source)
    return path


def run_checked(tmp_path, source, checker, *options, checker_name="check.py", **kw):
    path = helper(tmp_path, checker_name, checker)
    result, cp = judge(tmp_path, source, PYTHON, f"--checker={path}", *options, check=False, **kw)
    assert result is not None, cp.stderr
    return result


def test_tolerant_checker_accepts(tmp_path):
    r = run_checked(tmp_path, SUM, TOLERANT, stdin="1 2\n", expected="3\n")
    assert r["status"]["id"] == ACCEPTED, r
    assert r["message"] == "ok the sum is right"
    assert r["score"] == 1
    # The same output fails the default comparison: the checker decided.
    plain, _ = judge(tmp_path, SUM, PYTHON, stdin="1 2\n", expected="3\n")
    assert plain["status"]["id"] == WRONG_ANSWER


def test_wrong_answer_checker(tmp_path):
    r = run_checked(tmp_path, SUM, TOLERANT, stdin="1 2\n", expected="4\n")
    assert r["status"]["id"] == WRONG_ANSWER, r
    assert r["message"] == "wrong answer expected 4.0, found 3.0000001"
    assert r["score"] == 0


def test_presentation_error(tmp_path):
    r = run_checked(tmp_path, SUM, "import sys\nprint('extra spaces', file=sys.stderr)\nsys.exit(2)\n",
                    stdin="1 2\n", expected="3\n")
    assert r["status"]["id"] == WRONG_ANSWER, r
    assert r["message"] == "Presentation error: extra spaces"


@pytest.mark.parametrize("body, why", [
    ("import os\nos.abort()\n", "Caught fatal signal 6"),
    ("import sys\nprint('bad answer file', file=sys.stderr)\nsys.exit(3)\n", "bad answer file"),
    ("import sys\nsys.exit(42)\n", "exit code 42"),
    ("import sys\nprint('points 1.5', file=sys.stderr)\nsys.exit(7)\n", "points X"),
    # a flood of messages is stopped at the helper's small output cap
    ("import sys\nwhile True:\n    sys.stderr.write('x' * 65536)\n", "Output limit exceeded (stderr)"),
])
def test_crashing_checker_is_internal_error(tmp_path, body, why):
    r = run_checked(tmp_path, SUM, body, stdin="1 2\n", expected="3\n", expect_exit=2)
    assert r["status"]["id"] == INTERNAL_ERROR, r
    assert r["message"].startswith("Checker failed: ") and why in r["message"], r["message"]


def test_checker_over_its_time_limit(tmp_path):
    r = run_checked(tmp_path, SUM, "while True:\n    pass\n", "--checker-time=0.3",
                    stdin="1 2\n", expected="3\n", expect_exit=2)
    assert r["status"]["id"] == INTERNAL_ERROR, r
    assert r["message"] == "Checker failed: Time limit exceeded", r
    # The program's own run is reported as it was.
    assert r["stdout"] == "3.0000001\n" and r["exit_code"] == 0


def test_checker_over_its_memory_limit(tmp_path):
    r = run_checked(tmp_path, SUM, "x = bytearray(400 * 1024 * 1024)\nx[::4096] = b'x' * len(x[::4096])\n",
                    "--checker-mem=65536", stdin="1 2\n", expected="3\n", expect_exit=2)
    assert r["status"]["id"] == INTERNAL_ERROR, r
    assert r["message"].startswith("Checker failed: "), r
    assert "emory" in r["message"], r


def test_checker_that_does_not_compile(tmp_path):
    r = run_checked(tmp_path, SUM, "int main( {", checker_name="check.c", stdin="1 2\n",
                    expected="3\n", expect_exit=2)
    assert r["status"]["id"] == INTERNAL_ERROR, r
    assert r["message"].startswith("Checker failed: it does not compile"), r


PARTIAL = """import sys
out = open(sys.argv[2]).read().split()
ans = open(sys.argv[3]).read().split()
right = sum(1 for a, b in zip(out, ans) if a == b)
if right == len(ans):
    sys.exit(0)
print("points %g %d of %d right" % (right / len(ans), right, len(ans)), file=sys.stderr)
sys.exit(7)
"""


def test_partial_points_and_score(tmp_path):
    # A C checker, compiled once for all the tests.
    c_partial = r"""
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    FILE *o = fopen(argv[2], "r"), *a = fopen(argv[3], "r");
    char x[64], y[64];
    int right = 0, n = 0;
    while (fscanf(a, "%63s", y) == 1) {
        n++;
        if (fscanf(o, "%63s", x) == 1 && strcmp(x, y) == 0)
            right++;
    }
    if (right == n)
        return 0;
    fprintf(stderr, "points %g %d of %d right\n", (double) right / n, right, n);
    return 7;
}
"""
    prog = "print(*input().split()[:2], 0, 0)\n"
    tests = {"t1": ("1 2 3 4\n", "1 2 3 4\n"), "t2": ("1 2 0 0\n", "1 2 0 0\n"),
             "t3": ("5 6 7 8\n", "5 6 7 8\n")}
    for name, checker in (("check.c", c_partial), ("check.py", PARTIAL)):
        r = run_checked(tmp_path, prog, checker, checker_name=name, tests=tests)
        got = [(t["status"]["id"], t["points"], t["message"]) for t in r["tests"]]
        assert got == [(WRONG_ANSWER, 0.5, "2 of 4 right"), (ACCEPTED, 1, None),
                       (WRONG_ANSWER, 0.5, "2 of 4 right")], (name, got)
        assert r["score"] == 2, r
        assert r["status"]["id"] == WRONG_ANSWER


GUESSER = """lo, hi = 1, 100
while True:
    mid = (lo + hi) // 2
    print(mid, flush=True)
    r = input().strip()
    if r == "=":
        break
    if r == "<":
        hi = mid - 1
    else:
        lo = mid + 1
"""

# The secret is the test's input; at most 7 queries (binary search over 1..100).
INTERACTOR = """import sys
secret = int(open(sys.argv[1]).read())
for q in range(1, 8):
    line = sys.stdin.readline()
    if not line:
        print("wrong answer: the program stopped asking", file=sys.stderr); sys.exit(1)
    g = int(line)
    if g == secret:
        print("=", flush=True)
        print("ok %d in %d queries" % (secret, q), file=sys.stderr); sys.exit(0)
    print("<" if secret < g else ">", flush=True)
print("wrong answer: too many queries", file=sys.stderr); sys.exit(1)
"""


def run_interactive(tmp_path, source, interactor, *options, **kw):
    path = helper(tmp_path, "interactor.py", interactor)
    result, cp = judge(tmp_path, source, PYTHON, f"--interactor={path}", *options, check=False, **kw)
    assert result is not None, cp.stderr
    return result


def test_interactor_guessing_game(tmp_path):
    secrets = [1, 37, 64, 100]
    r = run_interactive(tmp_path, GUESSER, INTERACTOR,
                        tests={f"s{n:03}": (f"{n}\n", None) for n in secrets})
    assert [t["status"]["id"] for t in r["tests"]] == [ACCEPTED] * 4, r
    assert [t["message"] for t in r["tests"]] == ["ok 1 in 6 queries", "ok 37 in 3 queries",
                                                  "ok 64 in 7 queries", "ok 100 in 7 queries"]
    assert r["score"] == 4


def test_interactor_wrong_answer(tmp_path):
    linear = "i = 1\nwhile True:\n    print(i, flush=True)\n    if input() == '=':\n        break\n    i += 1\n"
    r = run_interactive(tmp_path, linear, INTERACTOR, stdin="50\n")
    assert r["status"]["id"] == WRONG_ANSWER, r
    assert r["message"] == "wrong answer: too many queries"


def test_interactive_crash_and_time_limit_are_the_programs(tmp_path):
    crash = "print(50, flush=True)\ninput()\nimport os\nos.abort()\n"
    r = run_interactive(tmp_path, crash, INTERACTOR, stdin="10\n")
    assert r["status"]["id"] == SIGABRT_STATUS, r
    spin = "print(50, flush=True)\ninput()\nwhile True:\n    pass\n"
    r = run_interactive(tmp_path, spin, INTERACTOR, "--time=0.3", stdin="10\n")
    assert r["status"]["id"] == TIME_LIMIT, r
    assert r["message"] == "Time limit exceeded"


def test_deadlocked_pair_ends_at_the_wall_limit(tmp_path):
    # Both read first: nobody writes.
    r = run_interactive(tmp_path, "print(input())\n", "import sys\nsys.stdin.readline()\n",
                        "--wall-time=1", stdin="5\n")
    assert r["status"]["id"] == TIME_LIMIT, r
    assert "deadlock" in r["message"], r
    assert float(r["wall_time"]) >= 1


def test_failing_interactor_is_internal_error(tmp_path):
    r = run_interactive(tmp_path, GUESSER, "import sys\nprint('no secret', file=sys.stderr)\nsys.exit(3)\n",
                        stdin="5\n", expect_exit=2)
    assert r["status"]["id"] == INTERNAL_ERROR, r
    assert r["message"] == "Interactor failed: no secret"


# testlib's interactive problems: the interactor copies what it learns to its output file
# (tout), then the checker judges that file against the answer.
TOUT_INTERACTOR = """import sys
tout = open(sys.argv[2], "w")
for q in open(sys.argv[1]).read().split():
    print(q, flush=True)
    tout.write(sys.stdin.readline())
"""
DOUBLER = "import sys\nfor line in sys.stdin:\n    print(int(line) * 2, flush=True)\n"


def test_interactor_then_checker(tmp_path):
    interactor = helper(tmp_path, "interactor.py", TOUT_INTERACTOR)
    checker = helper(tmp_path, "check.py", TOLERANT.replace("ans = float(", "ans = 2 * float("))
    r, cp = judge(tmp_path, DOUBLER, PYTHON, f"--interactor={interactor}", f"--checker={checker}",
                  tests={"good": ("21\n", "21\n"), "bad": ("21\n", "22\n")}, check=False)
    assert r is not None, cp.stderr
    got = [(t["name"], t["status"]["id"], t["message"]) for t in r["tests"]]
    assert got == [("bad", WRONG_ANSWER, "wrong answer expected 44.0, found 42"),
                   ("good", ACCEPTED, "ok the sum is right")], got
    assert r["score"] == 1
    # What the interactor left is read as hostile: a symlink is not followed.
    sneaky = helper(tmp_path, "sneaky.py", TOUT_INTERACTOR.replace(
        'tout = open(sys.argv[2], "w")', 'import os\nos.symlink("/etc/passwd", sys.argv[2])\ntout = sys.stderr'))
    r, cp = judge(tmp_path, DOUBLER, PYTHON, f"--interactor={sneaky}", f"--checker={checker}",
                  stdin="21\n", expected="21\n", check=False, expect_exit=2)
    assert r["status"]["id"] == INTERNAL_ERROR, r
    assert r["message"] == "Interactor failed: its output.txt cannot be read: not a regular file", r


def test_c_program_with_c_interactor(tmp_path):
    program = r"""
#include <stdio.h>
int main(void) {
    int lo = 1, hi = 100;
    for (;;) {
        int mid = (lo + hi) / 2;
        char r[8];
        printf("%d\n", mid);
        fflush(stdout);
        if (scanf("%7s", r) != 1 || r[0] == '=')
            return 0;
        if (r[0] == '<') hi = mid - 1; else lo = mid + 1;
    }
}
"""
    interactor = r"""
#include <stdio.h>
int main(int argc, char **argv) {
    int secret, g;
    FILE *in = fopen(argv[1], "r");
    if (!in || fscanf(in, "%d", &secret) != 1) { fprintf(stderr, "no secret\n"); return 3; }
    for (int q = 1; q <= 7; q++) {
        if (scanf("%d", &g) != 1) { fprintf(stderr, "wrong answer: no guess\n"); return 1; }
        if (g == secret) { printf("=\n"); fflush(stdout); fprintf(stderr, "ok %d\n", q); return 0; }
        printf("%s\n", secret < g ? "<" : ">");
        fflush(stdout);
    }
    fprintf(stderr, "wrong answer: too many queries\n");
    return 1;
}
"""
    path = helper(tmp_path, "interactor.c", interactor)
    r, cp = judge(tmp_path, program, C, f"--interactor={path}", stdin="77\n", check=False)
    assert r is not None, cp.stderr
    assert r["status"]["id"] == ACCEPTED, r
    assert r["message"] == "ok 7" and r["score"] == 1


def test_checker_compiled_once_and_cached(tmp_path):
    """A compiled checker is built once per submission (one cache entry besides the
    program's), and the next submission takes it from the cache."""
    cache = tmp_path / "cache"
    checker = "#include <stdio.h>\nint main(void) { fputs(\"ok fine\\n\", stderr); return 0; }\n"
    program = '#include <stdio.h>\nint main(void) { puts("x"); return 0; }\n'
    path = helper(tmp_path, "check.c", checker)
    tests = {f"t{i}": ("\n", "y\n") for i in range(3)}

    def entries():
        return sorted(p.name for p in cache.iterdir() if p.is_dir() and len(p.name) == 64)

    first, cp = judge(tmp_path, program, C, f"--checker={path}", cache=cache, tests=tests, check=False)
    assert first is not None, cp.stderr
    assert [t["message"] for t in first["tests"]] == ["ok fine"] * 3, first
    assert len(entries()) == 2, entries()  # the program's and the checker's
    before = entries()
    second, _ = judge(tmp_path, program, C, f"--checker={path}", cache=cache, tests=tests, check=False)
    assert second["cache_hit"] and entries() == before
    assert [t["status"]["id"] for t in second["tests"]] == [ACCEPTED] * 3


def test_interactor_over_its_limits_is_internal_error(tmp_path):
    spin = "import sys\nsys.stdin.readline()\nwhile True:\n    pass\n"
    r = run_interactive(tmp_path, GUESSER, spin, "--checker-time=0.3", stdin="5\n", expect_exit=2)
    assert r["status"]["id"] == INTERNAL_ERROR, r
    assert r["message"] == "Interactor failed: Time limit exceeded", r


def test_interactor_writes_its_output_file(tmp_path):
    """testlib's interactors write what they read to the output file (tout): it must be
    theirs to create in their /box."""
    echo = "import sys\nfor line in sys.stdin:\n    print(int(line) * 2, flush=True)\n"
    interactor = """import sys
tout = open(sys.argv[2], "w")
for q in open(sys.argv[1]).read().split():
    print(q, flush=True)
    tout.write(sys.stdin.readline())
tout.close()
print("ok %d queries, tout written" % len(open(sys.argv[2]).read().split()), file=sys.stderr)
"""
    r = run_interactive(tmp_path, echo, interactor, stdin="1 2 3\n")
    assert r["status"]["id"] == ACCEPTED, r
    assert r["message"] == "ok 3 queries, tout written"


def test_interactive_channel_is_not_capped_by_the_file_size(tmp_path):
    """What the program and the interactor say to each other is not stored: more than the
    submission's max_file_size (1024 KiB by default) passes both ways."""
    program = """import sys
n = 0
for line in sys.stdin:
    if line.strip() == "end":
        break
    n += 1
out = sys.stdout
for i in range(150000):
    out.write("%08d\\n" % i)
out.write("%d\\n" % n)
out.flush()
"""
    interactor = """import sys
for i in range(150000):
    sys.stdout.write("%08d\\n" % i)
sys.stdout.write("end\\n")
sys.stdout.flush()
for i in range(150000):
    if sys.stdin.readline() != "%08d\\n" % i:
        print("wrong answer at line %d" % i, file=sys.stderr); sys.exit(1)
n = int(sys.stdin.readline())
print("ok %d lines each way" % n, file=sys.stderr)
sys.exit(0 if n == 150000 else 1)
"""
    r = run_interactive(tmp_path, program, interactor, stdin="\n")
    assert r["status"]["id"] == ACCEPTED, r
    assert r["message"] == "ok 150000 lines each way"
