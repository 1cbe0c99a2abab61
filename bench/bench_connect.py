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

    sudo python3 bench/bench_connect.py --build build [--rounds 300] [--cluster] [--out FILE]

--cluster adds the same session on a cluster's API node (Redis, PostgreSQL, one API node,
one worker, started with the integration tests' helpers), where the run's streams cross
Redis (two stream hops each way: write->XADD->XREAD on each side).

A benchmark, not a test: the exit status says whether it ran."""

import argparse
import contextlib
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


def ws_round(ws, i, rtt=None):
    """The write-to-frame latency (ms); the whole round trip (send to answer) appended to rtt."""
    t0 = time.monotonic_ns()
    ws.send({"type": "data", "stream": "stdin", "data": "%d\n" % i})
    m = ws.recv()
    now = time.monotonic_ns()
    assert m["type"] == "data" and m["stream"] == "stdout", m
    if rtt is not None:
        rtt.append((now - t0) / 1e6)
    return (now - int(m["data"])) / 1e6


def pipe_round(proc, i):
    proc.stdin.write(b"%d\n" % i)
    proc.stdin.flush()
    line = proc.stdout.readline()
    now = time.monotonic_ns()
    return (now - int(line)) / 1e6


def stats(v):
    return {"p50_ms": percentile(v, 50), "p99_ms": percentile(v, 99), "n": len(v)}


def open_session(url):
    ws = WebSocket(url)
    ws.send({"type": "init", "language": "python", "version": "*", "files": [{"content": PROGRAM}],
             "run_timeout": 20000})
    m = ws.recv()
    assert m["type"] == "runtime", m
    assert ws.recv()["type"] == "stage"
    return ws


def end_session(ws):
    ws.send({"type": "signal", "signal": "SIGKILL"})
    ws.messages_until_close()


@contextlib.contextmanager
def cluster_api(build):
    """A cluster's API node (Redis, PostgreSQL, one API node, one worker; the integration
    tests' helpers): its URL."""
    os.environ["CODERUNNER_BUILD"] = os.path.abspath(build)
    from cluster_helpers import Cluster
    from pg_helpers import find_bindir
    from redis_helpers import find_redis_server
    bindir = find_bindir()
    if not bindir or not find_redis_server():
        raise SystemExit("--cluster needs redis-server and the PostgreSQL server programs")
    c = Cluster(bindir, apis=1, workers=1).start()
    try:
        yield c.apis[0].url
    finally:
        c.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build")
    ap.add_argument("--cli", help="the coderunner binary (default: BUILD/coderunner)")
    ap.add_argument("--rounds", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--cluster", action="store_true",
                    help="also through a cluster's API node, the worker reached through Redis")
    ap.add_argument("--out", help="write the results as JSON here")
    args = ap.parse_args()
    cli = args.cli or os.path.join(os.path.abspath(args.build), "coderunner")
    paths = {"websocket": [], "pipe": []}
    rtts = {"websocket": [], "cluster": []}
    with tempfile.TemporaryDirectory(prefix="bench-connect-") as tmp, contextlib.ExitStack() as stack:
        server = Server(cli, os.path.join(tmp, "data"), ["--workers=1"]).start()
        stack.callback(server.stop)
        sessions = {"websocket": open_session("http://127.0.0.1:%d" % server.port)}
        if args.cluster:
            paths["cluster"] = []
            sessions["cluster"] = open_session(stack.enter_context(cluster_api(args.build)))
        proc = subprocess.Popen([sys.executable, "-c", PROGRAM], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        for i in range(args.warmup + args.rounds):
            for name, ws in sessions.items():
                v = ws_round(ws, i, rtts[name] if i >= args.warmup else None)
                if i >= args.warmup:
                    paths[name].append(v)
            v = pipe_round(proc, i)
            if i >= args.warmup:
                paths["pipe"].append(v)
        proc.stdin.close()
        proc.wait()
        for ws in sessions.values():
            end_session(ws)
    res = {name: stats(v) for name, v in paths.items()}
    res["ratio_p50"] = res["websocket"]["p50_ms"] / max(res["pipe"]["p50_ms"], 1e-9)
    labels = {"websocket": "WebSocket (sandbox, supervisor, API)", "cluster": "WebSocket via a cluster (+ Redis)",
              "pipe": "bare pipe (host subprocess)"}
    print("== interactive run: a program's write to the client (ms, %d rounds, interleaved) ==" % args.rounds)
    for name in ("websocket", "cluster", "pipe"):
        if name in res:
            print("  %-36s p50 %7.3f   p99 %7.3f" % (labels[name], res[name]["p50_ms"], res[name]["p99_ms"]))
    print("  ratio (p50): %.2fx; added by the path: %.3f ms" %
          (res["ratio_p50"], res["websocket"]["p50_ms"] - res["pipe"]["p50_ms"]))
    print("  round trip (stdin line to its answer): serve p50 %.3f p99 %.3f ms" %
          (percentile(rtts["websocket"], 50), percentile(rtts["websocket"], 99)))
    if "cluster" in res:
        res["cluster_rtt"] = stats(rtts["cluster"])
        print("  round trip via the cluster: p50 %.3f p99 %.3f ms" %
              (res["cluster_rtt"]["p50_ms"], res["cluster_rtt"]["p99_ms"]))
        print("  cluster / serve (p50): %.2fx; added by Redis: %.3f ms" %
              (res["cluster"]["p50_ms"] / max(res["websocket"]["p50_ms"], 1e-9),
               res["cluster"]["p50_ms"] - res["websocket"]["p50_ms"]))
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
