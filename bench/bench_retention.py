#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The disk the retention settings need: `coderunner serve` with N submissions of a small C
program that echoes its stdin (source 0.4 KB, stdin and stdout 39 bytes, the compile
cached), then the space per 1,000 submissions, three ways, on SQLite and (when its server
programs are installed) PostgreSQL:

  kept       every submission kept (retention off, Judge0's default);
  tombstone  every submission purged (what retention_max_age / retention_max_bytes leave:
             one small row per token, so that it reads as gone);
  payload    the inputs and outputs the by-size policy counts (retention_max_bytes bounds
             this sum; the database is about payload + rows and indexes + tombstones).

SQLite: page_count * page_size of the database (what the file holds once checkpointed).
PostgreSQL: pg_total_relation_size() of the three tables (tables, TOAST and indexes); the
tombstones are purged_submissions' (the submissions table keeps its pages for reuse).

A benchmark, not a test. Needs root (the server starts the sandbox supervisor).

    sudo python3 bench/bench_retention.py --build build [-n 1000]
"""

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from bench_api import Postgres, Server

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
TABLES = ("submissions", "submission_tests", "purged_submissions")


def submit(port):
    body = json.dumps({"source_code": SOURCE, "language_id": C_ID, "stdin": STDIN}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/submissions?wait=true", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        sub = json.loads(r.read())
        assert r.status == 201 and sub["status"]["id"] == 3, sub


def submit_all(port, n):
    submit(port)  # the compile cached first
    left = [n - 1]
    lock = threading.Lock()

    def client():
        while True:
            with lock:
                if left[0] <= 0:
                    return
                left[0] -= 1
            submit(port)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


class SqliteSize:
    def __init__(self, data):
        self.path = os.path.join(data, "coderunner.db")

    def value(self, sql):
        with sqlite3.connect(self.path, timeout=30) as db:
            return db.execute(sql).fetchone()[0] or 0

    def size(self):
        return self.value("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")

    def tombstones(self):
        return self.size()


class PgSize:
    def __init__(self, pg):
        self.pg = pg

    def psql(self, sql):
        return subprocess.run([os.path.join(self.pg.bindir, "psql"), "-X", "-tA", "-c", sql, self.pg.url],
                              capture_output=True, text=True, check=True).stdout.strip()

    def value(self, sql):
        return int(self.psql(sql) or 0)

    def size(self):
        return self.value("SELECT " + " + ".join(f"pg_total_relation_size('{t}')" for t in TABLES))

    def tombstones(self):
        self.psql("VACUUM")
        return self.value("SELECT pg_total_relation_size('purged_submissions')")


def measure(cli, tmp, n, store_args, db):
    data = os.path.join(tmp, "data")
    base = ["--workers=2", "--max-queue-size=100000", *store_args]
    s = Server(cli, data, base).start()
    try:
        empty = db.size()
        submit_all(s.port, n)
        kept = db.size() - empty
        payload = db.value("SELECT sum(payload_bytes) FROM submissions")
    finally:
        s.stop()
    s = Server(cli, data, [*base, "--retention-max-bytes=1", "--retention-interval=0.1"]).start()
    try:
        deadline = time.monotonic() + 300
        while db.value("SELECT count(*) FROM submissions") > 0:
            assert time.monotonic() < deadline, "not purged in 300 s"
            time.sleep(0.1)
    finally:
        s.stop()
    return kept, db.tombstones(), payload


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-n", type=int, default=1000)
    args = ap.parse_args()
    cli = os.path.abspath(os.path.join(args.build, "coderunner"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-retention-") as tmp:
        os.chmod(tmp, 0o755)  # PostgreSQL runs as nobody
        os.mkdir(os.path.join(tmp, "sqlite"))
        rows.append(("SQLite", measure(cli, os.path.join(tmp, "sqlite"), args.n, [],
                                       SqliteSize(os.path.join(tmp, "sqlite", "data")))))
        pg = Postgres(tmp, "on")
        if pg.bindir:
            pg.start()
            try:
                os.mkdir(os.path.join(tmp, "pg-serve"))
                rows.append(("PostgreSQL", measure(cli, os.path.join(tmp, "pg-serve"), args.n,
                                                   [f"--store={pg.url}"], PgSize(pg))))
            finally:
                pg.stop()
    per = 1000 / args.n
    print(f"{args.n} submissions (source {len(SOURCE)} B, stdin {len(STDIN)} B, stdout {len(STDIN)} B); "
          "KiB per 1,000 submissions")
    print(f"{'':<12}{'kept':>10}{'tombstone':>11}{'payload':>10}")
    for name, (kept, tomb, payload) in rows:
        print(f"{name:<12}{kept * per / 1024:>10.0f}{tomb * per / 1024:>11.0f}{payload * per / 1024:>10.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
