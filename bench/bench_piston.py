#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Piston's route against Judge0's on `coderunner serve`: the round trip of
POST /api/v2/execute against POST /submissions?wait=true for the same program, one client,
one request at a time, the two interleaved (a Piston run, then a Judge0 one, each round), on
one keep-alive connection each. Medians and p99 of each, and the ratio of the medians
(Piston / Judge0; the target: within 10%, i.e. at most 1.10). Both routes store, queue and
judge a submission the same way; what differs is the JSON in and out, and Piston's runtime
lookup.

    sudo python3 bench/bench_piston.py --build build [--rounds 200] [--out FILE]

A benchmark, not a test: the exit status says whether it ran, never whether the target was
met. Needs root (the server starts the sandbox supervisor)."""

import argparse
import json
import os
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))

from bench_api import PY_ID, PY_PRINT, Client, Server, begin_run, stats_ms, verdict, write_results  # noqa: E402

TARGET_RATIO = 1.10
PISTON_BODY = {"language": "python", "version": "*", "files": [{"content": PY_PRINT}]}


def piston_round(client):
    """POST /api/v2/execute: (round trip s, error or None)."""
    t0 = time.perf_counter()
    status, payload = client.request("POST", "/api/v2/execute", PISTON_BODY)
    rtt = time.perf_counter() - t0
    if status != 200:
        return rtt, "HTTP %d: %s" % (status, payload[:200].decode(errors="replace"))
    run = json.loads(payload).get("run", {})
    if run.get("stdout") != "hi\n" or run.get("code") != 0:
        return rtt, "run %s" % run
    return rtt, None


def judge0_round(client):
    rtt, sub, err = client.submit_wait(PY_PRINT, PY_ID)
    if err is None and sub.get("stdout") != "hi\n":
        err = "stdout %r" % sub.get("stdout")
    return rtt, err


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--cli", help="the coderunner binary (default: BUILD/coderunner)")
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=10)
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results", "latest-piston.json"))
    args = ap.parse_args()
    cli = args.cli or os.path.join(os.path.abspath(args.build), "coderunner")
    doc = begin_run("Piston vs Judge0 route", cli, " ".join(["bench/bench_piston.py", *sys.argv[1:]]))
    cases = {"piston": piston_round, "judge0": judge0_round}
    samples = {name: [] for name in cases}
    failures = {name: [] for name in cases}
    with tempfile.TemporaryDirectory(prefix="bench-piston-") as tmp:
        server = Server(cli, os.path.join(tmp, "data"), ["--workers=1"]).start()
        try:
            clients = {name: Client(server.port) for name in cases}
            for _ in range(args.warmup):
                for name, fn in cases.items():
                    fn(clients[name])
            for _ in range(args.rounds):
                for name, fn in cases.items():
                    rtt, err = fn(clients[name])
                    if err:
                        failures[name].append(err)
                    else:
                        samples[name].append(rtt)
            for c in clients.values():
                c.close()
        finally:
            server.stop()
    res = {name: {"ok": len(samples[name]), "failures": len(failures[name]),
                  "first_failure": failures[name][0] if failures[name] else None,
                  "round_trip": stats_ms(samples[name])} for name in cases}
    p, j = res["piston"]["round_trip"]["p50_ms"], res["judge0"]["round_trip"]["p50_ms"]
    ratio = p / j if p is not None and j else None
    res["ratio_p50"] = ratio
    print("== round trip of the same Python print (ms, %d rounds, interleaved) ==" % args.rounds)
    for name, title in (("piston", "POST /api/v2/execute"), ("judge0", "POST /submissions?wait=true")):
        r = res[name]["round_trip"]
        print("  %-30s p50 %7.2f   p99 %7.2f   failures %d" % (title, r["p50_ms"] or 0, r["p99_ms"] or 0,
                                                                 res[name]["failures"]))
        if res[name]["first_failure"]:
            print("    first failure: %s" % res[name]["first_failure"])
    targets = [{"table": "api", "target": "Piston execute within 10% of Judge0 wait=true (p50)",
                "met": None if ratio is None else ratio <= TARGET_RATIO,
                "detail": "-" if ratio is None else "%.2f ms vs %.2f ms (%.3fx)" % (p, j, ratio)}]
    for t in targets:
        print("  %-50s %-8s %s" % (t["target"], verdict(t), t["detail"]))
    doc.update({"rounds": args.rounds, "warmup": args.warmup, "results": res, "targets": targets})
    write_results(doc, args.out)
    print("results: %s" % os.path.relpath(args.out))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RuntimeError, OSError) as e:
        print("bench_piston.py: %s" % e, file=sys.stderr)
        sys.exit(1)
