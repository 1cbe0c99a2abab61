#!/usr/bin/env python3
"""What a networked run (`box run --net`) costs against one without network, side by side.

    sudo python3 bench/bench_net.py [--build build] [--runs 40]

Builds a throwaway "host" network namespace (198.18.0.2, default route to 198.18.0.1 in a
second namespace) so that pasta has an uplink to copy, runs `/bin/true` interleaved with
and without --net, through the CLI (each run makes its own context: new namespace, nft,
pasta) and through a supervisor (the slot's namespace is made on its first networked run
and reused), and prints medians and the difference."""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def ip(*args):
    subprocess.run(["ip", *args], check=True, capture_output=True)


def timed(cmd):
    t = time.perf_counter()
    cp = subprocess.run(cmd, capture_output=True)
    elapsed = time.perf_counter() - t
    if cp.returncode != 0:
        sys.exit(f"failed: {cmd}\n{cp.stderr.decode()}")
    return elapsed * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    exe = str(Path(args.build).resolve() / "coderunner")
    tag = f"crb{os.getpid() % 100000}"
    inet, host = f"{tag}i", f"{tag}h"
    ip("netns", "add", inet)
    ip("netns", "add", host)
    daemon = None
    try:
        ip("link", "add", f"{tag}a", "netns", host, "type", "veth", "peer", "name", f"{tag}b", "netns", inet)
        ip("-n", host, "addr", "add", "198.18.0.2/24", "dev", f"{tag}a")
        ip("-n", inet, "addr", "add", "198.18.0.1/24", "dev", f"{tag}b")
        for ns, dev in ((host, f"{tag}a"), (inet, f"{tag}b")):
            ip("-n", ns, "link", "set", dev, "up")
        ip("-n", host, "route", "add", "default", "via", "198.18.0.1")
        inside = ["ip", "netns", "exec", host]
        with tempfile.TemporaryDirectory() as tmp:
            sock = f"{tmp}/box.sock"
            daemon = subprocess.Popen([*inside, exe, "box", "daemon", f"--socket={sock}", "--slots=2"],
                                      stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while not os.path.exists(sock) and time.monotonic() < deadline:
                time.sleep(0.01)
            modes = {
                "cli": [*inside, exe, "box", "run", "--quiet", "--", "/bin/true"],
                "cli --net": [*inside, exe, "box", "run", "--quiet", "--net", "--", "/bin/true"],
                "supervisor": [exe, "box", "run", "--quiet", f"--connect={sock}", "--", "/bin/true"],
                "supervisor --net": [exe, "box", "run", "--quiet", f"--connect={sock}", "--net", "--",
                                     "/bin/true"],
            }
            timed(modes["supervisor --net"])  # the slot's namespace, made once
            times = {m: [] for m in modes}
            for _ in range(args.runs):
                for m, cmd in modes.items():
                    times[m].append(timed(cmd))
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait()
        for ns in (inet, host):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    med = {m: statistics.median(v) for m, v in times.items()}
    for m, v in med.items():
        print(f"{m:18s} median {v:7.2f} ms  (p90 {sorted(times[m])[int(len(times[m]) * 0.9) - 1]:.2f})")
    print(f"network, CLI:        +{med['cli --net'] - med['cli']:.2f} ms per run")
    print(f"network, supervisor: +{med['supervisor --net'] - med['supervisor']:.2f} ms per run")


if __name__ == "__main__":
    main()
