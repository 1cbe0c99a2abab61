"""What a box leaves in the workdir it was lent (`box run --workdir`, directly and through
the supervisor): no setuid or setgid file of the box uid at any depth (a local user could
otherwise run it and become the box uid), and the workdir's owner and mode as they were."""

import os
import stat

import pytest

from conftest import run_box
from test_box_supervisor import start_daemon, stop_daemon

PLANT = """
set -e
cp /bin/true /box/suid
chmod 4755 /box/suid
cp /bin/true /box/sgid
chmod 2755 /box/sgid
d=/box
for i in $(seq 1 200); do d="$d/d"; done
mkdir -p "$d"
cp /bin/true "$d/deep"
chmod 6755 "$d/deep"
chmod 2777 /box/d
chmod 0700 /box
"""


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("daemon")
    proc = start_daemon(str(tmp / "box.sock"), tmp / "daemon.log")
    yield str(tmp / "box.sock")
    stop_daemon(proc)


def setid_files(top):
    found = []
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            mode = os.lstat(os.path.join(root, name)).st_mode
            if mode & (stat.S_ISUID | stat.S_ISGID):
                found.append((os.path.join(root, name), oct(mode)))
    return found


@pytest.mark.parametrize("through", ["cli", "supervisor"])
def test_setid_files_and_mode_of_the_workdir(workdir, through, request):
    connect = request.getfixturevalue("daemon") if through == "supervisor" else None
    os.chmod(workdir, 0o755)
    before = workdir.stat()
    record, cp = run_box(["/bin/sh", "-c", PLANT], f"--workdir={workdir}", "--wall-time=10",
                         connect=connect)
    assert record["status"] == "OK", (record, cp.stderr)
    after = workdir.stat()
    assert (after.st_uid, after.st_gid) == (before.st_uid, before.st_gid)
    assert stat.S_IMODE(after.st_mode) == 0o755
    assert setid_files(workdir) == []
    # The files themselves stay, executable.
    assert os.access(workdir / "suid", os.X_OK)
    deep = workdir / "/".join(["d"] * 200) / "deep"
    assert stat.S_IMODE(deep.stat().st_mode) == 0o755
