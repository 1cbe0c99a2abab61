"""The verdicts of `coderunner run`, each reached by a real C or Python program judged
for real: Accepted and Wrong Answer under Judge0's whitespace rule and the exact and
numbers modes, time limit, every signal status, NZEC, exec format error, the output and
memory limits, number_of_runs, and what reaches the program (stdin, arguments) and what
comes back (stdout, stderr, merged or not). judge0-api.md §3 is the reference."""

import pytest

from judge_helpers import (ACCEPTED, C, ECHO, EXEC_FORMAT_ERROR, EXECUTABLE, MIB, NZEC, PYTHON,
                           RUNTIME_OTHER, SIGXFSZ_STATUS, SUM, TIME_LIMIT, WRONG_ANSWER, assert_status, derived_catalogue,
                           judge, probe, shorten, status_of)

LANGS = pytest.mark.parametrize("lang", [C, PYTHON], ids=["c", "python"])


# ---- Accepted, Wrong Answer and the comparison modes ----

@LANGS
def test_accepted_with_stdin(tmp_path, lang):
    result, cp = judge(tmp_path, SUM[lang], lang, stdin="2 3\n", expected="5\n")
    assert_status(result, ACCEPTED, cp)
    assert result["stdout"] == "5\n", result
    assert result["stderr"] is None and result["message"] is None, result
    assert result["exit_code"] == 0 and result["exit_signal"] is None, result
    assert result["language"]["id"] == lang, result
    assert result["compiled"] is (lang == C), result
    assert result["cache_hit"] is False, result
    assert result["compile_output"] is None, result


@LANGS
def test_wrong_answer(tmp_path, lang):
    result, cp = judge(tmp_path, SUM[lang], lang, stdin="2 3\n", expected="6\n")
    assert_status(result, WRONG_ANSWER, cp)
    assert result["stdout"] == "5\n", result
    assert result["exit_code"] == 0, result


@LANGS
def test_no_expected_output_is_accepted(tmp_path, lang):
    result, cp = judge(tmp_path, SUM[lang], lang, stdin="40 2\n")
    assert_status(result, ACCEPTED, cp)
    assert result["stdout"] == "42\n", result


# (program output, expected output): Judge0 right-strips every line, then the whole text
# (judge0-api.md §3.2 "normalize").
WHITESPACE_ACCEPTED = {
    "no-final-newline": ("1 2\n", "1 2"),
    "final-newline-in-expected-only": ("1 2", "1 2\n"),
    "trailing-spaces-and-tabs": ("1 2  \t\n3 \n", "1 2\n3\n"),
    "trailing-spaces-in-expected": ("1 2\n3\n", "1 2   \n3\t\n"),
    "crlf": ("1 2\r\n3\r\n", "1 2\n3\n"),
    "trailing-blank-lines": ("1 2\n3\n\n\n\n", "1 2\n3"),
    "trailing-blank-lines-with-spaces": ("1 2\n3\n  \n\t\n", "1 2\n3\n"),
}
WHITESPACE_WRONG = {
    "leading-space": (" 1 2\n", "1 2\n"),
    "leading-tab-on-second-line": ("1 2\n\t3\n", "1 2\n3\n"),
    "blank-line-in-the-middle": ("1 2\n\n3\n", "1 2\n3\n"),
    "double-space-inside": ("1  2\n", "1 2\n"),
    "case": ("Hello\n", "hello\n"),
    "missing-line": ("1 2\n", "1 2\n3\n"),
    "extra-line": ("1 2\n3\n4\n", "1 2\n3\n"),
}


@LANGS
@pytest.mark.parametrize("case", sorted(WHITESPACE_ACCEPTED))
def test_judge0_whitespace_rule_accepts(tmp_path, lang, case):
    output, expected = WHITESPACE_ACCEPTED[case]
    result, cp = judge(tmp_path, ECHO[lang], lang, stdin=output, expected=expected)
    assert result["stdout"] == output, result
    assert_status(result, ACCEPTED, cp, f"{output!r} against {expected!r}")


@LANGS
@pytest.mark.parametrize("case", sorted(WHITESPACE_WRONG))
def test_judge0_whitespace_rule_rejects(tmp_path, lang, case):
    output, expected = WHITESPACE_WRONG[case]
    result, cp = judge(tmp_path, ECHO[lang], lang, stdin=output, expected=expected)
    assert_status(result, WRONG_ANSWER, cp, f"{output!r} against {expected!r}")


EXACT = {
    "identical": ("1 2\n", "1 2\n", ACCEPTED),
    "trailing-newline-missing": ("1 2", "1 2\n", WRONG_ANSWER),
    "trailing-newline-extra": ("1 2\n", "1 2", WRONG_ANSWER),
    "trailing-space": ("1 2 \n", "1 2\n", WRONG_ANSWER),
    "crlf": ("1 2\r\n", "1 2\n", WRONG_ANSWER),
}


@LANGS
@pytest.mark.parametrize("case", sorted(EXACT))
def test_compare_exact(tmp_path, lang, case):
    output, expected, status = EXACT[case]
    result, cp = judge(tmp_path, ECHO[lang], lang, "--compare=exact", stdin=output, expected=expected)
    assert_status(result, status, cp, f"--compare=exact: {output!r} against {expected!r}")


NUMBERS = {
    "within-1e-6": ("0.3333333\n", "0.33333334\n", "numbers", ACCEPTED),
    "too-far": ("0.34\n", "0.33333334\n", "numbers", WRONG_ANSWER),
    "layout-does-not-matter": ("1 2\n3\n", "1\n2 3", "numbers", ACCEPTED),
    "exponent-notation": ("1e3 2.50\n", "1000 2.5\n", "numbers", ACCEPTED),
    "count-differs": ("1 2\n", "1 2 3\n", "numbers", WRONG_ANSWER),
    "words-compared-exactly": ("yes 1\n", "YES 1\n", "numbers", WRONG_ANSWER),
    "words-equal": ("case 1: 0.5\n", "case 1: 0.5000001\n", "numbers", ACCEPTED),
    "custom-tolerance-accepts": ("0.34\n", "0.33333334\n", "numbers:0.01", ACCEPTED),
    "custom-tolerance-rejects": ("0.35\n", "0.33333334\n", "numbers:0.01", WRONG_ANSWER),
}


@LANGS
@pytest.mark.parametrize("case", sorted(NUMBERS))
def test_compare_numbers(tmp_path, lang, case):
    output, expected, mode, status = NUMBERS[case]
    result, cp = judge(tmp_path, ECHO[lang], lang, f"--compare={mode}", stdin=output, expected=expected)
    assert_status(result, status, cp, f"--compare={mode}: {output!r} against {expected!r}")


# ---- time limit ----

BUSY = {
    C: "int main(void) { volatile unsigned long x = 0; for (;;) x++; }\n",
    PYTHON: "x = 0\nwhile True:\n    x += 1\n",
}


@LANGS
def test_time_limit(tmp_path, lang):
    result, cp = judge(tmp_path, BUSY[lang], lang, "--time=0.5", "--extra-time=0.1", "--wall-time=5")
    assert_status(result, TIME_LIMIT, cp)
    assert result["message"] == "Time limit exceeded", result
    assert float(result["time"]) >= 0.5, result
    assert float(result["time"]) < 2, result
    assert result["exit_code"] == 0, ("Judge0 reports exit_code 0 when isolate has none", result)


SLEEP = {
    C: "#include <unistd.h>\nint main(void) { sleep(30); return 0; }\n",
    PYTHON: "import time\ntime.sleep(30)\n",
}


@LANGS
def test_wall_time_limit(tmp_path, lang):
    result, cp = judge(tmp_path, SLEEP[lang], lang, "--time=2", "--wall-time=0.5")
    assert_status(result, TIME_LIMIT, cp)
    assert result["message"] == "Time limit exceeded (wall clock)", result
    assert float(result["wall_time"]) >= 0.5 and float(result["wall_time"]) < 3, result
    assert float(result["time"]) < 0.5, result


# ---- signals ----

SIGNAL_PROGRAMS = {
    "sigsegv": (11, 7, {
        C: "int main(void) { volatile int *p = 0; *p = 1; return 0; }\n",
        PYTHON: "import ctypes\nctypes.string_at(0)\n",
    }),
    # SIGXFSZ's default action restored first (Python ignores it at start-up)
    "sigxfsz": (25, 8, {
        C: r"""
#include <signal.h>
#include <stdio.h>
#include <string.h>
int main(void) {
    static char block[4096];
    signal(SIGXFSZ, SIG_DFL);
    FILE *f = fopen("big", "w");
    if (!f) { perror("big"); return 1; }
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 64; i++) {         /* 256 KiB, past --fsize=64 */
        fwrite(block, 1, sizeof block, f);
        fflush(f);
    }
    puts("survived");
    return 0;
}
""",
        PYTHON: """
import signal
signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
with open("big", "wb", buffering=0) as f:
    for _ in range(64):
        f.write(b"x" * 4096)
print("survived")
""",
    }),
    "sigfpe": (8, 9, {
        # a real integer division by zero (the divisor is only known at run time)
        C: r"""
#include <stdio.h>
int main(int argc, char **argv) {
    (void) argv;
    volatile int zero = argc - 1;
    printf("%d\n", 10 / zero);
    return 0;
}
""",
        PYTHON: "import os, signal\nos.kill(os.getpid(), signal.SIGFPE)\n",
    }),
    "sigabrt": (6, 10, {
        C: "#include <stdlib.h>\nint main(void) { abort(); }\n",
        PYTHON: "import os\nos.abort()\n",
    }),
    "sigusr1": (10, 12, {
        C: "#include <signal.h>\nint main(void) { raise(SIGUSR1); return 0; }\n",
        PYTHON: "import os, signal\nos.kill(os.getpid(), signal.SIGUSR1)\n",
    }),
    "sigkill-self": (9, 12, {
        C: "#include <signal.h>\n#include <unistd.h>\nint main(void) { kill(getpid(), SIGKILL); return 0; }\n",
        PYTHON: "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
    }),
}


@LANGS
@pytest.mark.parametrize("case", list(SIGNAL_PROGRAMS))
def test_signal_status(tmp_path, lang, case):
    signal, status, programs = SIGNAL_PROGRAMS[case]
    result, cp = judge(tmp_path, programs[lang], lang, "--fsize=64", expected="anything\n")
    assert_status(result, status, cp, f"a program killed by signal {signal}")
    assert result["exit_signal"] == signal, result
    assert result["message"] == f"Caught fatal signal {signal}", result
    assert result["exit_code"] == 0, ("Judge0 reports exit_code 0 after a signal", result)
    assert result["stdout"] is None, result
    assert result["memory_limit_exceeded"] is False, result


# ---- non-zero exit ----

EXIT_3 = {
    C: "#include <stdlib.h>\n#include <stdio.h>\nint main(void) { puts(\"partial\"); exit(3); }\n",
    PYTHON: "import sys\nprint('partial')\nsys.exit(3)\n",
}


@LANGS
def test_nzec(tmp_path, lang):
    result, cp = judge(tmp_path, EXIT_3[lang], lang, expected="partial\n")
    assert_status(result, NZEC, cp, "a non-zero exit wins over the output comparison")
    assert result["exit_code"] == 3 and result["exit_signal"] is None, result
    assert result["message"] == "Exited with error status 3", result
    assert result["stdout"] == "partial\n", result


def test_python_exception_is_nzec(tmp_path):
    source = "def f():\n    raise ValueError('boom')\nprint('before')\nf()\n"
    result, cp = judge(tmp_path, source, PYTHON)
    assert_status(result, NZEC, cp)
    assert result["exit_code"] == 1, result
    assert result["message"] == "Exited with error status 1", result
    assert result["stdout"] == "before\n", result
    assert "ValueError: boom" in (result["stderr"] or ""), result
    assert "Traceback" in result["stderr"], result


def test_python_syntax_error_is_nzec_not_compilation_error(tmp_path):
    """Judge0 has no compile step for Python (71): a syntax error shows at run time."""
    result, cp = judge(tmp_path, "print('a'\n", PYTHON)
    assert_status(result, NZEC, cp)
    assert "SyntaxError" in (result["stderr"] or ""), result
    assert result["compiled"] is False and result["compile_output"] is None, result


# ---- exec format error ----

def test_exec_format_error_c_object_file(tmp_path):
    """`-c -o a.out` makes the compile step leave an object file (not executable, not a
    program) where the run step expects the program."""
    source = "int main(void) { return 0; }\n"
    result, cp = judge(tmp_path, source, C, "--compiler-options=-c -o a.out")
    assert result["compiled"] is True, result
    assert_status(result, EXEC_FORMAT_ERROR, cp, "the program the run step executes is not one")
    assert result["stdout"] is None, result


@pytest.mark.parametrize("content", [b"this is not a program\n", b"\x7fELF\x02\x01\x01\x00garbage" + bytes(64)],
                         ids=["text", "truncated-elf"])
def test_exec_format_error_executable_language(tmp_path, content):
    """Language 44 "Executable": the source is the binary; a non-ELF file cannot be executed."""
    result, cp = judge(tmp_path, content, EXECUTABLE)
    assert_status(result, EXEC_FORMAT_ERROR, cp, "a non-ELF file given to the Executable language")


def test_executable_language_runs_a_real_binary(tmp_path):
    import shutil
    true = shutil.which("true") or "/bin/true"
    result, cp = judge(tmp_path, open(true, "rb").read(), EXECUTABLE)
    assert_status(result, ACCEPTED, cp, f"{true} given to the Executable language")


# ---- output limit ----

FLOOD = {
    C: "#include <stdio.h>\nint main(void) { for (;;) puts(\"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\"); }\n",
    PYTHON: "while True:\n    print('y' * 39)\n",
}


def check_output_limit(result, cp, stream):
    """Judge0 has no output limit: stdout is a file bounded by max_file_size, so a flood
    ends in SIGXFSZ (8). Ours kills the program at the cap. Either status 8 (what Judge0
    would show) or 12 (Runtime Error (Other)) is defensible; the message must say why, and
    a status 8 must not contradict its own exit_signal (Judge0 reports 25 with 8)."""
    assert status_of(result) in (SIGXFSZ_STATUS, RUNTIME_OTHER), (
        f"output past --output-limit: expected status 8 or 12, got {status_of(result)}", shorten(result))
    assert result["message"] == f"Output limit exceeded ({stream})", shorten(result)
    if status_of(result) == SIGXFSZ_STATUS:
        assert result["exit_signal"] == 25, (
            "status 8 'Runtime Error (SIGXFSZ)' with exit_signal "
            f"{result['exit_signal']}: the fields contradict each other (Judge0 gives 25)", shorten(result))
    kept = result[stream]
    assert kept is not None and 0 < len(kept.encode()) <= 64 * 1024, len(kept or "")
    assert result["memory_limit_exceeded"] is False, shorten(result)


@LANGS
def test_output_limit(tmp_path, lang):
    result, cp = judge(tmp_path, FLOOD[lang], lang, "--output-limit=64", "--time=2", "--wall-time=5")
    check_output_limit(result, cp, "stdout")
    assert set(result["stdout"]) <= {"y", "\n"}, "the output kept is the program's own"


def test_output_limit_on_stderr(tmp_path):
    source = "#include <stdio.h>\nint main(void) { for (;;) fputs(\"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeee\\n\", stderr); }\n"
    result, cp = judge(tmp_path, source, C, "--output-limit=64", "--time=2", "--wall-time=5")
    check_output_limit(result, cp, "stderr")


def test_stdout_past_fsize_without_output_limit(tmp_path):
    """Without --output-limit the cap on stdout is --fsize, like Judge0's stdout file."""
    result, cp = judge(tmp_path, FLOOD[C], C, "--fsize=64", "--time=2", "--wall-time=5")
    check_output_limit(result, cp, "stdout")


# ---- memory limit ----

def test_memory_limit_c(tmp_path):
    source = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    size_t n = (size_t) 256 << 20;
    char *p = malloc(n);
    if (!p) { puts("malloc failed"); return 1; }
    memset(p, 1, n);
    printf("%d\n", p[n - 1]);
    return 0;
}
"""
    result, cp = judge(tmp_path, source, C, "--mem=65536")
    assert_status(result, RUNTIME_OTHER, cp, "256 MiB touched under --mem=65536")
    assert result["memory_limit_exceeded"] is True, result
    assert "memory limit" in (result["message"] or "").lower(), result
    assert result["stdout"] is None, result
    assert result["memory"] <= 65536 + 4 * MIB, result


def test_memory_limit_python(tmp_path):
    """Python either dies by the limit (status 12, like C) or gets a MemoryError
    (an exception: NZEC); both are right, the fields must say which."""
    source = "data = b'x' * (256 << 20)\nprint(len(data))\n"
    result, cp = judge(tmp_path, source, PYTHON, "--mem=65536")
    if result["memory_limit_exceeded"]:
        assert_status(result, RUNTIME_OTHER, cp)
        assert "memory limit" in (result["message"] or "").lower(), result
    else:
        assert_status(result, NZEC, cp, "without memory_limit_exceeded, a MemoryError is expected")
        assert "MemoryError" in (result["stderr"] or ""), result
    assert result["stdout"] is None, result


def test_memory_under_the_limit_is_reported(tmp_path):
    source = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(void) {
    size_t n = (size_t) 32 << 20;
    char *p = malloc(n);
    memset(p, 1, n);
    printf("%d\n", p[n / 2]);
    return 0;
}
"""
    result, cp = judge(tmp_path, source, C, "--mem=131072", expected="1\n")
    assert_status(result, ACCEPTED, cp)
    assert 32 * MIB <= result["memory"] < 48 * MIB, result
    assert result["memory_limit_exceeded"] is False, result


JAVA = 62

JAVA_LIVE = """
public class Main {
    public static void main(String[] args) {
        byte[][] keep = new byte[70][];
        for (int i = 0; i < keep.length; i++)
            keep[i] = new byte[1 << 20];
        System.out.println(Runtime.getRuntime().maxMemory() >> 20);
    }
}
"""


def test_jvm_heap_follows_the_memory_limit(tmp_path):
    """The catalogue passes each run's memory limit to the JVM ({memory_kib}): 70 MiB of
    live arrays fit under Judge0's default 128000 KiB (a heap sized from the host's RAM
    grows into the limit and is killed), and a larger limit gives a larger heap."""
    small, cp = judge(tmp_path, JAVA_LIVE, JAVA, "--mem=128000")
    assert_status(small, ACCEPTED, cp, "70 MiB of live data under 128000 KiB")
    heap_small = int(small["stdout"])
    assert 70 <= heap_small < 125, small
    large, cp = judge(tmp_path, JAVA_LIVE, JAVA, "--mem=512000")
    assert_status(large, ACCEPTED, cp)
    heap_large = int(large["stdout"])
    assert heap_large > 3 * heap_small, (heap_small, heap_large)
    assert heap_large < 500, large


# ---- number_of_runs ----

# Each run reads its own record from the probe's feed (how much memory to touch), reports
# itself on the probe's events, and prints the record: the test knows exactly how many runs
# happened and what each did, without a clock.
RUNS_PROGRAM = {
    C: r"""
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    char rec[9] = {0};
    int feed = open("%(feed)s", O_RDONLY);
    if (feed < 0 || read(feed, rec, 8) != 8) { perror("feed"); return 1; }
    FILE *ev = fopen("%(events)s", "a");
    if (!ev) { perror("events"); return 1; }
    int mib = atoi(rec);
    fprintf(ev, "run %%d\n", mib);
    fclose(ev);
    if (mib == 0) { puts("0"); return 1; }
    size_t n = (size_t) mib << 20;
    char *p = malloc(n);
    memset(p, 1, n);
    printf("%%d\n", mib + p[n - 1] - 1);
    return 0;
}
""",
    PYTHON: """
import os
with open("%(feed)s", "rb", buffering=0) as f:
    rec = f.read(8)
mib = int(rec)
with open("%(events)s", "a") as ev:
    ev.write("run %%d\\n" %% mib)
data = b"x" * (mib << 20)
print(mib + len(data) - (mib << 20))
if mib == 0:
    raise SystemExit(1)
""",
}


def runs_program(lang, probe):
    return RUNS_PROGRAM[lang] % {"feed": probe.feed, "events": probe.events}


@LANGS
def test_number_of_runs_averages_time_and_memory(tmp_path, lang, probe):
    langs = derived_catalogue(tmp_path, probe, [lang], count_compiles=False)
    probe.write_records([8, 8, 80])
    result, cp = judge(tmp_path, runs_program(lang, probe), lang, "--runs=3", f"--languages-dir={langs}",
                       "--mem=200000")
    assert probe.lines() == ["run 8", "run 8", "run 80"], "three runs, in order"
    assert_status(result, ACCEPTED, cp)
    assert result["stdout"] == "80\n", ("stdout comes from the last run", result)
    # (8 + 8 + 80) / 3 = 32 MiB touched on average, plus the runtime's own; the last
    # run alone (or the largest) would be 80 MiB and more.
    assert 30 * MIB <= result["memory"] < 56 * MIB, \
        ("memory must be the mean of the runs' (32 MiB touched on average)", result)
    assert isinstance(result["time"], str) and isinstance(result["wall_time"], str), result


@LANGS
def test_number_of_runs_stops_at_the_first_failure(tmp_path, lang, probe):
    langs = derived_catalogue(tmp_path, probe, [lang], count_compiles=False)
    probe.write_records([0, 1, 1])  # run 1 exits 1; runs 2 and 3 would pass
    result, cp = judge(tmp_path, runs_program(lang, probe), lang, "--runs=3", f"--languages-dir={langs}",
                       "--wall-time=5")
    events = probe.lines()
    assert events == ["run 0"], f"Judge0 stops repeating at the first run not accepted: {events}"
    assert_status(result, NZEC, cp)
    assert result["exit_code"] == 1, result


@LANGS
def test_number_of_runs_stops_at_a_wrong_answer(tmp_path, lang, probe):
    langs = derived_catalogue(tmp_path, probe, [lang], count_compiles=False)
    probe.write_records([2, 1, 1])
    result, cp = judge(tmp_path, runs_program(lang, probe), lang, "--runs=3", f"--languages-dir={langs}",
                       "--wall-time=5", expected="1\n")
    events = probe.lines()
    assert events == ["run 2"], f"a wrong answer stops the repetitions too: {events}"
    assert_status(result, WRONG_ANSWER, cp)
    assert result["stdout"] == "2\n", result


# ---- what reaches the program, what comes back ----

ARGV = {
    C: "#include <stdio.h>\nint main(int argc, char **argv) { for (int i = 1; i < argc; i++) printf(\"[%s]\\n\", argv[i]); return 0; }\n",
    PYTHON: "import sys\nfor a in sys.argv[1:]:\n    print('[%s]' % a)\n",
}


@LANGS
def test_command_line_arguments(tmp_path, lang):
    result, cp = judge(tmp_path, ARGV[lang], lang, "--args=one 'two three' four")
    assert_status(result, ACCEPTED, cp)
    assert result["stdout"] == "[one]\n[two three]\n[four]\n", result


@LANGS
def test_command_line_arguments_lose_judge0s_forbidden_characters(tmp_path, lang):
    """Judge0 removes $ & ; < > | and ` from command_line_arguments."""
    result, cp = judge(tmp_path, ARGV[lang], lang, "--args=a;b c|d $HOME `id` >x")
    assert_status(result, ACCEPTED, cp)
    assert result["stdout"] == "[ab]\n[cd]\n[HOME]\n[id]\n[x]\n", result


@LANGS
def test_large_stdin_reaches_the_program_intact(tmp_path, lang):
    # every ASCII byte (NUL and \r included: they must neither cut nor change anything)
    text = bytes((i * 7 + i // 128) % 128 for i in range(1 << 20))
    result, cp = judge(tmp_path, ECHO[lang], lang, "--compare=exact", "--output-limit=2048",
                       stdin=text, expected=text)
    assert_status(result, ACCEPTED, cp, "1 MiB of stdin echoed back byte for byte")
    assert result["stdout"].encode() == text, "the JSON's stdout is the output, byte for byte"


BOTH_STREAMS = {
    C: r"""
#include <stdio.h>
int main(void) {
    setvbuf(stdout, NULL, _IONBF, 0);
    printf("out1\n");
    fprintf(stderr, "err1\n");
    printf("out2\n");
    fprintf(stderr, "err2\n");
    return 0;
}
""",
    PYTHON: """
import sys
print("out1", flush=True)
print("err1", file=sys.stderr, flush=True)
print("out2", flush=True)
print("err2", file=sys.stderr, flush=True)
""",
}


@LANGS
def test_stderr_is_captured_separately(tmp_path, lang):
    result, cp = judge(tmp_path, BOTH_STREAMS[lang], lang, expected="out1\nout2\n")
    assert_status(result, ACCEPTED, cp, "stderr does not count in the comparison")
    assert result["stdout"] == "out1\nout2\n", result
    assert result["stderr"] == "err1\nerr2\n", result


@LANGS
def test_stderr_to_stdout_merges(tmp_path, lang):
    result, cp = judge(tmp_path, BOTH_STREAMS[lang], lang, "--stderr-to-stdout",
                       expected="out1\nerr1\nout2\nerr2\n")
    assert_status(result, ACCEPTED, cp)
    assert result["stdout"] == "out1\nerr1\nout2\nerr2\n", result
    assert result["stderr"] is None, result


def test_non_utf8_output_survives_json(tmp_path):
    source = "#include <stdio.h>\nint main(void) { fwrite(\"a\\xff\\xfe b\\n\", 1, 6, stdout); return 0; }\n"
    result, cp = judge(tmp_path, source, C)
    assert_status(result, ACCEPTED, cp)
    assert result["stdout"] is not None and result["stdout"].startswith("a"), shorten(result)
