"""`coderunner serve` and its work base: removed under the running service (a tmp cleaner,
an operator), it is made again for the next submission instead of failing every later
one with 13 Internal Error."""

import os
import shutil
import subprocess

from api_helpers import PY_ID, Server


def mounts_under(path):
    """Mount points below path, deepest first."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            point = line.split()[4]
            if point.startswith(str(path) + "/"):
                found.append(point)
    return sorted(found, key=len, reverse=True)


def judged(server, source, expected):
    r = server.submit({"source_code": source, "language_id": PY_ID}, params={"wait": "true"})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["status"]["id"] == 3, sub
    assert sub["stdout"] == expected, sub


def test_work_base_removed_under_the_service(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    server = Server(tmp_path / "data", env={"TMPDIR": str(work)}, args=["--workers=1"]).start()
    try:
        judged(server, "print('first')\n", "first\n")
        base = work / f"coderunner-{os.geteuid()}"
        assert base.is_dir()
        # Everything goes: the Judge's tmpfs detached, the directories removed.
        for point in mounts_under(work):
            subprocess.run(["umount", "-l", point], check=True)
        shutil.rmtree(base)
        assert not base.exists()
        for i in range(2):
            judged(server, f"print('again {i}')\n", f"again {i}\n")
        assert base.is_dir()
    finally:
        server.stop()
    # A clean stop leaves nothing behind.
    assert mounts_under(work) == []
    assert sorted(os.listdir(base)) == [".lock"], os.listdir(base)


# 256 files of just under 1 MiB each (max_file_size defaults to 1024 KiB) in /box:
# pages of a tmpfs, which belong to no process.
FILL_BOX = """
import os
n = 0
try:
    for i in range(256):
        with open(f"f{i}", "wb") as f:
            f.write(b"x" * (1024 * 1024 - 1))
        n += 1
finally:
    print(n)
"""


def test_per_process_memory_keeps_the_ceiling(tmp_path):
    """enable_per_process_and_thread_memory_limit limits each process; the box's ceiling
    (memory_limit for the whole run) stays, so 256 MiB written into /box under a 64 MiB
    limit is never Accepted."""
    server = Server(tmp_path / "data", args=["--workers=1"]).start()
    try:
        for per_process in (False, True):
            r = server.submit({"source_code": FILL_BOX, "language_id": PY_ID, "memory_limit": 65536,
                               "enable_per_process_and_thread_memory_limit": per_process},
                              params={"wait": "true"})
            assert r.status_code == 201, r.text
            sub = r.json()
            assert sub["status"]["id"] != 3, (per_process, sub)
            assert int(sub["stdout"] or "0") < 64, (per_process, sub)
    finally:
        server.stop()
