#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The latency of an interactive run (GET /api/v2/connect): from a program's write to the
WebSocket frame that carries it, side by side with the same program on a bare pipe.

A Python program answers each line it reads with time.monotonic_ns() (CLOCK_MONOTONIC, the
host's clock inside the sandbox too: no time namespace) and flushes; the client sends a
line, waits for the answer and takes the difference with its own clock at the frame's
arrival. The path measured: the program's write -> the sandbox's output socket -> the
supervisor's copy -> the live channel -> the API's session thread -> JSON -> the
WebSocket frame -> the client. The baseline runs the same program as a host subprocess on
pipes (no sandbox, no WebSocket). Rounds interleave the two; medians and p99.

    sudo python3 bench/bench_connect.py --build build [--rounds 300] [--out FILE]

A benchmark, not a test: the exit status says whether it ran."""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from bench_api import Server, percentile  # noqa: E402
from ws_helpers import WebSocket  # noqa: E402

PROGRAM = ("import sys, time\n"
           "for line in sys.stdin:\n"
           "    sys.stdout.write('%d\\n' % time.monotonic_ns())\n"
           "    sys.stdout.flush()\n")


def ws_round(ws, i):
    ws.send({"type": "data", "stream": "stdin", "data": "%d\n" % i})
    m = ws.recv()
    now = time.monotonic_ns()
    assert m["type"] == "data" and m["stream"] == "stdout", m
    return (now - int(m["data"])) / 1e6


def pipe_round(proc, i):
    proc.stdin.write(b"%d\n" % i)
    proc.stdin.flush()
    line = proc.stdout.readline()
    now = time.monotonic_ns()
    return (now - int(line)) / 1e6


def stats(v):
    return {"p50_ms": percentile(v, 50), "p99_ms": percentile(v, 99), "n": len(v)}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--cli", help="the coderunner binary (default: BUILD/coderunner)")
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args()
    cli = args.cli or os.path.join(os.path.abspath(args.build), "coderunner")
    with tempfile.TemporaryDirectory(prefix="bench-connect-") as tmp:
        server = Server(cli, os.path.join(tmp, "data"), ["--workers=1"]).start()
        try:
            ws = WebSocket("http://127.0.0.1:%d" % server.port)
            ws.send({"type": "init", "language": "python", "version": "*", "files": [{"content": PROGRAM}],
                     "run_timeout": 20000})
            m = ws.recv()
            assert m["type"] == "runtime", m
            assert ws.recv()["type"] == "stage"
            proc = subprocess.Popen([sys.executable, "-c", PROGRAM], stdin=subprocess.PIPE,
                                    stdout=subprocess.PIPE)
            for i in range(args.warmup):
                ws_round(ws, i)
                pipe_round(proc, i)
            w, p = [], []
            for i in range(args.rounds):
                w.append(ws_round(ws, i))
                p.append(pipe_round(proc, i))
            proc.stdin.close()
            proc.wait()
            ws.send({"type": "signal", "signal": "SIGKILL"})
            ws.messages_until_close()
        finally:
            server.stop()
    res = {"websocket": stats(w), "pipe": stats(p)}
    res["ratio_p50"] = res["websocket"]["p50_ms"] / max(res["pipe"]["p50_ms"], 1e-9)
    print("== interactive run: a program's write to the client (ms, %d rounds, interleaved) ==" % args.rounds)
    print("  %-34s p50 %7.3f   p99 %7.3f" % ("WebSocket (sandbox, supervisor, API)", res["websocket"]["p50_ms"],
                                             res["websocket"]["p99_ms"]))
    print("  %-34s p50 %7.3f   p99 %7.3f" % ("bare pipe (host subprocess)", res["pipe"]["p50_ms"],
                                             res["pipe"]["p99_ms"]))
    print("  ratio (p50): %.2fx; added by the path: %.3f ms" %
          (res["ratio_p50"], res["websocket"]["p50_ms"] - res["pipe"]["p50_ms"]))
    targets = [{"table": "api", "target": "WebSocket write-to-frame latency p50 (info)", "met": None, "info": True,
                "detail": "%.3f ms (bare pipe %.3f ms, %.2fx)" % (res["websocket"]["p50_ms"], res["pipe"]["p50_ms"],
                                                                  res["ratio_p50"])}]
    if args.out:
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump({"results": res, "targets": targets}, f, indent=1)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
