"""After start-up only the sandbox supervisor keeps root: `coderunner serve --user=NAME`
(and `coderunner worker --user=NAME`, in test_cluster.py) runs the process that talks HTTP,
to the store and to callback URLs as that user, and the runs still work. When that process
dies, however it dies, its supervisor and every box die with it: it cannot signal them
any more, so they watch a pipe it holds instead."""

import subprocess
from pathlib import Path

from api_helpers import C_HELLO, C_ID, PY_ID, Server
from cluster_helpers import NOBODY, process_children, process_tree, process_uid, wait_until

SLOW = "import time\ntime.sleep(30)\n"


def alive(pid):
    return Path(f"/proc/{pid}").exists() and "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()


def test_serve_drops_to_the_user(open_dir):
    data = open_dir / "data"
    s = Server(data, args=["--workers=2", "--user=nobody"]).start()
    try:
        assert process_uid(s.proc.pid) == NOBODY
        kids = process_children(s.proc.pid)
        assert kids and all(process_uid(k) == 0 for k in kids)  # the supervisor
        r = s.submit({"source_code": C_HELLO, "language_id": C_ID}, {"wait": "true"})
        assert r.json()["status"]["id"] == 3 and r.json()["stdout"] == "hello, world\n"
        r = s.submit({"source_code": "print(input())", "language_id": PY_ID, "stdin": "x"}, {"wait": "true"})
        assert r.json()["stdout"] == "x\n"
        # Everything of the service belongs to the user; nobody else may read it.
        for p in [data, *data.iterdir(), *(data / "cache").iterdir()]:
            assert p.lstat().st_uid == NOBODY, p
        assert data.stat().st_mode & 0o777 == 0o700
    finally:
        s.stop()  # asserts a clean exit: the supervisor was stopped through its pipe


def test_a_killed_server_takes_its_supervisor_and_boxes_along(open_dir):
    s = Server(open_dir / "data", args=["--workers=1", "--user=nobody"]).start()
    token = s.submit({"source_code": SLOW, "language_id": PY_ID, "wall_time_limit": 20}).json()["token"]
    wait_until(lambda: s.get(f"/submissions/{token}").json()["status"]["id"] == 2, 30, "running")
    # serve, the supervisor, the worker's two slots (its program's and an interactor's)
    # and at least one process of the box
    wait_until(lambda: len(process_tree(s.proc.pid)) >= 5, 30, "a box under the supervisor")
    pids = process_tree(s.proc.pid)[1:]
    s.kill9()
    wait_until(lambda: not [p for p in pids if alive(p)], 60, f"the supervisor, slots and box gone: {pids}")


def test_bad_users_are_one_clear_line(tmp_path):
    from conftest import CODERUNNER
    for user, says in (("no-such-user-here", 'no user "no-such-user-here"'),
                       ("nobody", "cannot reach the data directory")):  # tmp_path is root's
        p = subprocess.run([str(CODERUNNER), "serve", f"--data-dir={tmp_path}/d", "--port=1", f"--user={user}"],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 1 and says in p.stderr, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_the_ide_is_served_from_a_directory_the_user_cannot_open(open_dir):
    """`make run` serves the IDE from the source tree, which may be private to root (a
    clone in /root): the static files are read at start, before root is given up."""
    web = open_dir / "web"
    (web / "_next").mkdir(parents=True)
    (web / "index.html").write_text("<h1>the ide</h1>")
    (web / "_next" / "app.js").write_text("run()")
    (web / "leak.txt").symlink_to("/etc/shadow")
    web.chmod(0o700)
    s = Server(open_dir / "data", args=["--workers=1", "--user=nobody", f"--web-dir={web}"]).start()
    try:
        assert s.get("/").text == "<h1>the ide</h1>"
        assert s.get("/_next/app.js").text == "run()"
        assert s.get("/leak.txt").status_code == 404  # no symlink is followed
    finally:
        s.stop()


def test_a_bad_network_policy_is_refused(tmp_path):
    from conftest import CODERUNNER
    p = subprocess.run([str(CODERUNNER), "serve", f"--data-dir={tmp_path}/d", "--port=1", "--net-deny=10.0.0.0/99"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "net_deny: '10.0.0.0/99'" in p.stderr, p.stderr
