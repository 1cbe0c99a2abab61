"""`coderunner serve` and its work base (<data_dir>/work): removed under the running
service (a cleaner, an operator), it is made again for the next submission instead of
failing every later one with 13 Internal Error; another local user reads nothing of a
running submission; the per-process memory mode keeps the box's ceiling."""

import os
import shutil
import subprocess

import pytest

from api_helpers import PY_ID, Server
from conftest import mounts_under, wait_for


def judged(server, source, expected):
    r = server.submit({"source_code": source, "language_id": PY_ID}, params={"wait": "true"})
    assert r.status_code == 201, r.text
    sub = r.json()
    assert sub["status"]["id"] == 3, sub
    assert sub["stdout"] == expected, sub


@pytest.mark.parametrize("removed", ["base", "judge-dirs"])
@pytest.mark.parametrize("user", [None, "nobody"])
def test_work_base_removed_under_the_service(open_dir, user, removed):
    """As root, and after giving root up (--user): then what is missing is made again by
    the user, without a tmpfs. Either the whole base goes, or the Judges' directories
    only (the base and its lock file stay)."""
    data = open_dir / "data"
    server = Server(data, args=["--workers=1", *([f"--user={user}"] if user else [])]).start()
    base = data / "work"  # the service's work base
    try:
        judged(server, "print('first')\n", "first\n")
        assert base.is_dir()
        # Everything goes: the Judge's tmpfs detached, the directories removed.
        for point in mounts_under(base):
            subprocess.run(["umount", "-l", point], check=True)
        if removed == "base":
            shutil.rmtree(base)
            assert not base.exists()
        else:
            for judge_dir in base.glob("judge-*"):
                shutil.rmtree(judge_dir)
            assert sorted(os.listdir(base)) == [".lock"]
        for i in range(2):
            judged(server, f"print('again {i}')\n", f"again {i}\n")
        assert base.is_dir()
    finally:
        server.stop()
    # A clean stop leaves nothing behind (a service that gave up root cannot unmount).
    if user is None:
        assert mounts_under(base) == []
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


def test_other_local_users_cannot_read_a_running_submission(tmp_path):
    """While a submission runs, its source lies in the Judge's directory: another local
    user can neither list the work base nor read the file, even knowing its path (and even
    when the directories above it are open)."""
    tmp_path.chmod(0o755)
    data = tmp_path / "data"
    server = Server(data, args=["--workers=1"]).start()
    try:
        data.chmod(0o755)  # as an operator might leave it: the work base must hold alone
        base = data / "work"
        secret = "# secret 7f3a\nimport time\ntime.sleep(2)\nprint('done')\n"
        r = server.submit({"source_code": secret, "language_id": PY_ID})
        assert r.status_code == 201, r.text
        token = r.json()["token"]
        sources = lambda: [p for p in base.glob("judge-*/*/*.py") if "secret 7f3a" in p.read_text()]
        found = wait_for(sources, 20)
        assert found, "the source never appeared in the work base"
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        listing = subprocess.run([*as_nobody, "ls", str(base)], capture_output=True)
        assert listing.returncode != 0 and b"Permission denied" in listing.stderr, listing
        reading = subprocess.run([*as_nobody, "cat", str(found[0])], capture_output=True)
        assert reading.returncode != 0 and b"secret" not in reading.stdout, reading
        assert server.wait_final(token)["stdout"] == "done\n"
    finally:
        server.stop()
