#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The disk the retention settings need: `coderunner serve` on SQLite, N submissions of a
small C program that echoes its stdin (source 0.4 KB, stdin and stdout 40 bytes, the
compile cached), then the database's size (page_count * page_size: what the file holds once
checkpointed) per 1,000 submissions, three ways:

  kept       every submission kept (retention off, Judge0's default);
  tombstone  every submission purged (what retention_max_age / retention_max_bytes leave:
             one row per token, so that it reads as gone);
  payload    the inputs and outputs the by-size policy counts (retention_max_bytes bounds
             this sum, not the file; the file is about payload + tombstones + indexes).

A benchmark, not a test. Needs root (the server starts the sandbox supervisor).

    sudo python3 bench/bench_retention.py --build build [-n 1000]
"""

import argparse
import json
import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

C_ID = 50
SOURCE = ('#include <stdio.h>\n'
          '/* echo the first line of stdin: a typical small submission of a judge */\n'
          'int main(void) {\n'
          '        char line[256];\n'
          '        if (fgets(line, sizeof line, stdin))\n'
          '                fputs(line, stdout);\n'
          '        return 0;\n'
          '}\n').ljust(400, "\n")
STDIN = "the quick brown fox jumps over the dog\n"
CLIENTS = 8


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(url, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def db_size(path):
    with sqlite3.connect(path, timeout=30) as db:
        return db.execute("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").fetchone()[0]


def db_value(path, sql):
    with sqlite3.connect(path, timeout=30) as db:
        return db.execute(sql).fetchone()[0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-n", type=int, default=1000)
    args = ap.parse_args()
    cli = os.path.join(args.build, "coderunner")

    with tempfile.TemporaryDirectory(prefix="bench-retention-") as tmp:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        data = os.path.join(tmp, "data")
        log = open(os.path.join(tmp, "log"), "wb")
        # retention by age, one hour: nothing is purged while submitting; then a restart with
        # a one-byte limit purges everything
        proc = subprocess.Popen([cli, "serve", f"--port={port}", f"--data-dir={data}", "--workers=2",
                                 "--max-queue-size=100000"], stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if request(base + "/health")[0] == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline and proc.poll() is None, "serve did not start"
                time.sleep(0.05)
            db = os.path.join(data, "coderunner.db")
            empty = db_size(db)
            status, _ = request(base + "/submissions?wait=true", "POST",
                                {"source_code": SOURCE, "language_id": C_ID, "stdin": STDIN})
            assert status == 201
            count = [1]
            lock = threading.Lock()

            def client():
                while True:
                    with lock:
                        if count[0] >= args.n:
                            return
                        count[0] += 1
                    st, body = request(base + "/submissions?wait=true", "POST",
                                       {"source_code": SOURCE, "language_id": C_ID, "stdin": STDIN})
                    assert st == 201 and body["status"]["id"] == 3, body

            threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            proc.terminate()
            proc.wait()
        kept = db_size(db) - empty
        payload = db_value(db, "SELECT sum(payload_bytes) FROM submissions")

        # everything purged: a restart with the smallest size limit, until nothing is left
        proc = subprocess.Popen([cli, "serve", f"--port={port}", f"--data-dir={data}", "--workers=1",
                                 "--retention-max-bytes=1", "--retention-interval=0.1"],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while db_value(db, "SELECT count(*) FROM submissions") > 0:
                assert time.monotonic() < deadline and proc.poll() is None, "not purged"
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait()
        tombstone = db_size(db) - empty

    per = 1000 / args.n
    print(f"submissions: {args.n} (source {len(SOURCE)} B, stdin {len(STDIN)} B, stdout {len(STDIN)} B)")
    print(f"{'per 1,000 submissions':<24}{'KiB':>10}")
    print(f"{'kept (retention off)':<24}{kept * per / 1024:>10.0f}")
    print(f"{'tombstone (purged)':<24}{tombstone * per / 1024:>10.0f}")
    print(f"{'payload (counted)':<24}{payload * per / 1024:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
