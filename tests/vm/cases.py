"""The verdict cases compared between this host's cgroup path and the guest's pure v2 one.

Each case is one `coderunner box run` of a helper of tests/helpers (or /bin/sh) under
limits; its outcome is the verdict (status and limit) and what the program printed that
decides it (the helpers' RESULT lines). test_vm.py runs them here and reads the guest's run
of the same list; the two tables must agree on every row.

    python3 tests/vm/cases.py OUT.json    (as root; $CODERUNNER_BUILD names the build)
"""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MIB = 1024

# name: (options, argv). Time limits are far from the programs' needs in both directions,
# so that the verdict never depends on how fast the machine (or the emulator) is.
CASES = {
    "exit 0": (["--wall-time=20"], ["/bin/true"]),
    "exit 3": (["--wall-time=20"], ["/bin/sh", "-c", "exit 3"]),
    "segfault": (["--wall-time=20"], ["/h/crash", "segv"]),
    "abort": (["--wall-time=20"], ["/h/crash", "abort"]),
    "busy loop, cpu limit": (["--time=0.3", "--wall-time=30"], ["/h/busy"]),
    "cpu limit, 2 processes": (["--time=0.3", "--wall-time=30"], ["/h/busy", "-p", "2"]),
    "cpu limit, children that exit": (["--time=0.3", "--wall-time=30"],
                                      ["/bin/sh", "-c", "while :; do /h/busy 0.05 >/dev/null; done"]),
    "sleep, wall limit": (["--wall-time=0.5", "--time=5"], ["/bin/sleep", "30"]),
    "stopped, wall limit": (["--wall-time=0.5"], ["/bin/sh", "-c", "kill -STOP $$"]),
    "alloc 100 MiB in 256": ([f"--mem={256 * MIB}", "--wall-time=30"], ["/h/alloc", "100"]),
    "alloc 1 GiB in 64 MiB": ([f"--mem={64 * MIB}", "--wall-time=30"], ["/h/alloc", "1024"]),
    "thread bomb in 64 MiB": ([f"--mem={64 * MIB}", "--processes=64", "--wall-time=30"], ["/h/threadbomb", "16"]),
    "tmpfs fill in 64 MiB": ([f"--mem={64 * MIB}", "--tmp-size=1048576", "--wall-time=30"], ["/h/tmpfill", "/tmp", "4"]),
    "oom with a sleeping sibling": ([f"--mem={64 * MIB}", "--wall-time=20"],
                                    ["/bin/sh", "-c", "/bin/sleep 30 & /h/alloc 1024; wait"]),
    "fork bomb, count": (["--processes=16", "--wall-time=20"], ["/h/forkbomb", "count"]),
    "fork bomb": (["--processes=16", "--wall-time=0.5", "--time=5"], ["/h/forkbomb"]),
    "output flood": (["--output-limit=64", "--wall-time=20"], ["/h/flood", "stdout"]),
    "file size": (["--fsize=100", "--wall-time=20"], ["/h/bigfile", "/tmp/big", "200"]),
    "open files": (["--open-files=16", "--wall-time=20"], ["/h/probe", "open-many"]),
    "unshare user": (["--wall-time=20"], ["/h/probe", "unshare-user"]),
}


def result_words(stdout):
    """The RESULT lines' name, outcome and errno: what a helper decided, without counts."""
    words = []
    for line in stdout.decode(errors="replace").splitlines():
        w = line.split()
        if len(w) >= 3 and w[0] == "RESULT":
            words.append(" ".join(w[1:4] if len(w) > 3 and not "=" in w[3] else w[1:3]))
    return words


def run_case(coderunner, helpers, options, argv):
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        cmd = [str(coderunner), "box", "run", f"--result={result}", "--quiet", f"--dir={helpers}:/h",
               *options, "--", *argv]
        cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
        record = json.loads(result.read_text()) if result.exists() and result.stat().st_size else {}
    return {
        "status": record.get("status", f"no record (exit {cp.returncode})"),
        "limit": record.get("limit"),
        "signal": record.get("signal"),
        "oom_killed": record.get("oom_killed"),
        "unenforced": record.get("unenforced"),
        "result": result_words(cp.stdout),
        # informative only: not compared
        "cpu_time": record.get("cpu_time"),
        "wall_time": record.get("wall_time"),
        "memory": record.get("memory"),
    }


# What must be equal between the two hosts.
COMPARED = ("status", "limit", "signal", "oom_killed", "unenforced", "result")


def run_all():
    build = Path(os.environ.get("CODERUNNER_BUILD", REPO / "build")).resolve()
    coderunner, helpers = build / "coderunner", build / "tests" / "helpers"
    info = subprocess.run([str(coderunner), "box", "info"], capture_output=True, text=True).stdout.strip()
    return {"box_info": info,
            "cases": {name: run_case(coderunner, helpers, options, argv) for name, (options, argv) in CASES.items()}}


def verdict(row):
    text = row["status"] + (f"/{row['limit']}" if row["limit"] else "")
    if row["signal"]:
        text += f" sig{row['signal']}"
    if row["oom_killed"]:
        text += " oom"
    if row["unenforced"]:
        text += " unenforced:" + ",".join(row["unenforced"])
    if row["result"]:
        text += " [" + "; ".join(row["result"]) + "]"
    return text


def table(left, right, left_name, right_name):
    """The two runs side by side, one row per case, '!=' where the verdicts differ."""
    rows = [("case", left_name, right_name, "")]
    for name in CASES:
        a, b = left["cases"].get(name), right["cases"].get(name)
        va = verdict(a) if a else "missing"
        vb = verdict(b) if b else "missing"
        same = a and b and all(a[k] == b[k] for k in COMPARED)
        rows.append((name, va, vb, "" if same else "!="))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [f"{left_name}: {left.get('box_info', '')}", f"{right_name}: {right.get('box_info', '')}"]
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(3)) + ("  " + r[3] if r[3] else ""))
    return "\n".join(lines)


if __name__ == "__main__":
    Path(sys.argv[1]).write_text(json.dumps(run_all(), indent=1) + "\n")
