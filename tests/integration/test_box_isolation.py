"""Isolation of `coderunner box run`: who the program is, what it can see and touch, which
system calls it is refused, and that nothing it does reaches or outlives the box."""

import fcntl
import hashlib
import os
import secrets
import signal
import socket
import subprocess
import termios
from pathlib import Path

import pytest

from conftest import (BOX_UIDS, CLI_TIMEOUT, CODERUNNER, HELPERS, helper, host_processes, key_values,
                      result_lines, run_box, wait_for)


def sh(script, *args):
    """argv running a shell script in the box."""
    return ["/bin/sh", "-c", script, "sh", *args]


def marked(stdout, mark):
    """The words after `mark` on the lines of stdout that start with it."""
    return [line.split(None, 1)[1] if " " in line else ""
            for line in stdout.decode(errors="replace").splitlines() if line.split(" ", 1)[0] == mark]


# ---- identity ----

def test_identity_is_unprivileged():
    record, cp = run_box([helper("whoami")], "--wall-time=5")
    assert record["status"] == "OK", record
    me = key_values(cp.stdout)
    uid = int(me["uid"])
    assert uid in BOX_UIDS, me
    assert me["euid"] == me["uid"] and me["gid"] == me["uid"] and me["egid"] == me["uid"], me
    assert me["groups"] == "", me
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(me[cap], 16) == 0, (cap, me)
    assert me["NoNewPrivs"] == "1", me
    assert me["Seccomp"] == "2", me
    assert me["hostname"] == "coderunner", me
    # Its own pid namespace, in which it is not the init, and its own session.
    assert me["pid"] != "1", me
    assert len(me["NSpid"].split()) == 1, me
    assert me["sid"] == me["pid"], me
    assert me["tty"] != "ok", me
    assert me["fds"] == "0,1,2", me
    assert me["cwd"] == "/box", me


def test_callers_extra_descriptors_are_not_inherited(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("secret\n")
    with open(secret) as f:
        os.set_inheritable(f.fileno(), True)
        cmd = [str(CODERUNNER), "box", "run", "--quiet", f"--dir={HELPERS}:/h", "--", helper("whoami")]
        cp = subprocess.run(cmd, capture_output=True, pass_fds=(f.fileno(),), timeout=CLI_TIMEOUT)
    assert cp.returncode == 0, cp
    assert key_values(cp.stdout)["fds"] == "0,1,2", cp.stdout


def test_callers_terminal_is_not_reachable():
    """The command runs with a terminal as its stdin and controlling tty: the program must
    not get it (a TIOCSTI on it would type into the caller's shell)."""
    master, slave = os.openpty()

    def take_terminal():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    try:
        cmd = [str(CODERUNNER), "box", "run", "--quiet", f"--dir={HELPERS}:/h", "--", "/bin/sh", "-c",
               f"{helper('whoami')}; {helper('probe')} ioctl-tiocsti"]
        cp = subprocess.run(cmd, stdin=slave, capture_output=True, preexec_fn=take_terminal,
                            timeout=CLI_TIMEOUT)
        os.set_blocking(master, False)
        try:
            typed = os.read(master, 1024)
        except BlockingIOError:
            typed = b""
    finally:
        os.close(master)
        os.close(slave)
    assert cp.returncode == 0, cp
    me = key_values(cp.stdout)
    assert me["stdio_tty"] == "0,0,0", me
    assert me["tty"] != "ok", me
    assert result_lines(cp.stdout).get("ioctl-tiocsti", ("?",))[0] == "fail", cp.stdout
    assert typed == b"", typed


def test_cgroup_namespace_hides_host_paths():
    record, cp = run_box(["/bin/cat", "/proc/self/cgroup"], "--wall-time=5")
    assert record["status"] == "OK", record
    lines = cp.stdout.decode().splitlines()
    assert lines and all(line.endswith(":/") for line in lines), lines


def test_environment_is_scrubbed(monkeypatch):
    secret = secrets.token_hex(16)
    monkeypatch.setenv("CODERUNNER_TEST_SECRET", secret)
    record, cp = run_box(["/usr/bin/env"], "--wall-time=5")
    assert record["status"] == "OK", record
    assert secret.encode() not in cp.stdout
    names = {line.split("=", 1)[0] for line in cp.stdout.decode().splitlines()}
    assert names == {"PATH"}, cp.stdout


def test_env_options_pass_what_they_name(monkeypatch):
    secret = secrets.token_hex(16)
    monkeypatch.setenv("CODERUNNER_TEST_SECRET", secret)
    monkeypatch.setenv("CODERUNNER_TEST_OTHER", "not-asked-for")
    record, cp = run_box(["/usr/bin/env"], "--env=GREETING=hello world", "--env=CODERUNNER_TEST_SECRET",
                         "--wall-time=5")
    assert record["status"] == "OK", record
    lines = set(cp.stdout.decode().splitlines())
    assert "GREETING=hello world" in lines, lines
    assert f"CODERUNNER_TEST_SECRET={secret}" in lines, lines
    assert b"not-asked-for" not in cp.stdout


# ---- what it can see ----

def test_proc_shows_only_the_box():
    record, cp = run_box(sh("ls /proc"), "--wall-time=5")
    assert record["status"] == "OK", record
    pids = sorted(int(e) for e in cp.stdout.decode().split() if e.isdigit())
    assert pids, cp.stdout
    assert str(os.getpid()) not in cp.stdout.decode().split()
    # A fresh pid namespace: the box's init (maybe hidden), sh and ls.
    assert len(pids) <= 4 and max(pids) < 100, pids


def test_dev_has_only_the_minimal_set():
    script = """
        echo "LS $(ls -A /dev | tr '\\n' ' ')"
        for f in /dev/sda /dev/vda /dev/mem /dev/kmem /dev/port /dev/kmsg /dev/console /dev/tty \
                 /dev/vsock /dev/kvm /dev/fuse /dev/net/tun /dev/loop0 /dev/tty0; do
            [ -e "$f" ] && echo "EXISTS $f"
        done
        echo "URANDOM $(head -c 16 /dev/urandom | wc -c)"
        echo "ZERO $(head -c 16 /dev/zero | od -An -tx1 | tr -d ' \\n')"
        echo x > /dev/null && echo "NULL ok"
    """
    record, cp = run_box(sh(script), "--wall-time=5")
    assert record["status"] == "OK", record
    entries = set(marked(cp.stdout, "LS")[0].split())
    assert {"null", "zero", "random", "urandom"} <= entries, entries
    extra = entries - {"null", "zero", "random", "urandom", "full", "fd", "stdin", "stdout", "stderr",
                       "shm", "pts", "ptmx"}
    assert not extra, f"unexpected entries in /dev: {extra}"
    assert marked(cp.stdout, "EXISTS") == [], cp.stdout
    assert marked(cp.stdout, "URANDOM") == ["16"], cp.stdout
    assert marked(cp.stdout, "ZERO") == ["0" * 32], cp.stdout
    assert marked(cp.stdout, "NULL") == ["ok"], cp.stdout


# What a box root may hold; anything else must be an empty placeholder.
ALLOWED_ROOT = {"usr", "bin", "lib", "lib32", "lib64", "libx32", "sbin", "etc", "proc", "dev", "tmp",
                "box", "h"}


def test_root_holds_only_the_runtime():
    script = 'for e in $(ls -A /); do echo "ENTRY $e $(ls -A "/$e" 2>/dev/null | wc -l)"; done'
    record, cp = run_box(sh(script), "--wall-time=5")
    assert record["status"] == "OK", record
    entries = dict(e.split() for e in marked(cp.stdout, "ENTRY"))
    assert {"usr", "proc", "dev", "tmp", "box"} <= set(entries), entries
    non_empty = {e for e, n in entries.items() if e not in ALLOWED_ROOT and n != "0"}
    assert not non_empty, f"host directories visible in the box: {non_empty}"
    assert "home" not in entries and "root" not in entries, entries


def test_host_files_are_not_visible(tmp_path):
    token = secrets.token_hex(16)
    in_tmp = tmp_path / "secret.txt"
    in_tmp.write_text(token)
    in_root = Path("/root") / f"coderunner-secret-{secrets.token_hex(4)}"
    in_root.write_text(token)
    try:
        script = """
            for f in "$@"; do
                if cat "$f" 2>/dev/null; then echo "READ $f"; else echo "DENIED $f"; fi
            done
            [ -e /home ] && echo "HOME $(ls -A /home | tr '\\n' ' ')"
            [ -e /root ] && echo "ROOT"
            true
        """
        targets = [str(in_tmp), str(in_root), "/etc/shadow", "/etc/gshadow", "/proc/1/environ",
                   "/proc/1/root/etc/hostname", "/sys/kernel/notes"]
        record, cp = run_box(sh(script, *targets), "--wall-time=5")
    finally:
        in_root.unlink()
    assert record["status"] == "OK", record
    assert token.encode() not in cp.stdout + cp.stderr
    assert marked(cp.stdout, "READ") == [], cp.stdout
    assert sorted(marked(cp.stdout, "DENIED")) == sorted(targets), cp.stdout
    assert marked(cp.stdout, "HOME") == [], cp.stdout
    assert marked(cp.stdout, "ROOT") == [], cp.stdout


def test_read_only_everywhere_but_tmp_and_box():
    name = f"cr-{secrets.token_hex(6)}"
    # Path in the box -> the host file a write through a broken bind would create.
    creatable = {f"{d}/{name}": f"{d}/{name}" for d in ("/usr/bin", "/usr/lib", "/etc", "")}
    creatable[f"/h/{name}"] = str(HELPERS / name)
    denied = [*creatable, f"/dev/{name}", f"/proc/{name}", "/etc/passwd", "/usr/bin/env"]
    allowed = [f"/tmp/{name}", f"/box/{name}"]
    # ': >>' opens for appending and writes nothing: a broken sandbox changes no host file.
    script = """
        for f in "$@"; do
            if (: >> "$f") 2>/dev/null; then echo "WROTE $f"; else echo "DENIED $f"; fi
        done
        mkdir "/$NAME.d" 2>/dev/null && echo "WROTE mkdir"
        chmod 777 /etc/passwd 2>/dev/null && echo "WROTE chmod"
        true
    """.replace("$NAME", name)
    on_host = [*creatable.values(), f"/{name}.d"]
    try:
        record, cp = run_box(sh(script, *denied, *allowed), "--wall-time=5")
        assert record["status"] == "OK", record
        assert sorted(marked(cp.stdout, "WROTE")) == sorted(allowed), cp.stdout
        assert [p for p in on_host if os.path.lexists(p)] == [], "created on the host"
        assert os.stat("/etc/passwd").st_mode & 0o777 == 0o644
    finally:
        for path in on_host:
            if os.path.isdir(path):
                os.rmdir(path)
            elif os.path.lexists(path):
                os.unlink(path)


def test_dev_shm_is_private_to_the_run():
    name = f"cr-{secrets.token_hex(6)}"
    record, cp = run_box(["/bin/sh", "-c", f"echo x > /dev/shm/{name} && echo WROTE"], "--wall-time=5")
    assert record["status"] == "OK", record
    assert not Path("/dev/shm", name).exists(), "the box wrote into the host's /dev/shm"
    record, cp = run_box(["/bin/sh", "-c", f"cat /dev/shm/{name} 2>/dev/null || echo GONE"], "--wall-time=5")
    assert record["status"] == "OK" and cp.stdout == b"GONE\n", (record, cp.stdout)


def snapshot(path):
    st = os.lstat(path)
    digest = None
    if Path(path).is_file() and not Path(path).is_symlink():
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, digest)


def test_planted_symlinks_are_not_followed(workdir, tmp_path):
    canary_dir = tmp_path / "canary"
    canary_dir.mkdir(mode=0o700)
    canary = canary_dir / "file"
    canary.write_text("canary\n")
    canary.chmod(0o600)
    watched = [Path("/etc/shadow"), Path("/etc"), Path("/"), canary, canary_dir]
    before = {p: snapshot(p) for p in watched}
    shadow = os.lstat("/etc/shadow")
    plant = """
        ln -s /etc/shadow /box/evil
        ln -s / /box/escape
        ln -s "$1" /box/canary
        ln -s "$2" /box/canarydir
        mkdir /box/sub && ln -s /etc /box/sub/etc
        ln -s /box/escape /box/loop
        mkfifo /box/fifo
        echo planted
    """
    try:
        record, cp = run_box(sh(plant, str(canary), str(canary_dir)), f"--workdir={workdir}",
                             "--wall-time=5")
        assert record["status"] == "OK" and cp.stdout.strip() == b"planted", record
        assert {p: snapshot(p) for p in watched} == before, "a host path changed after the run"
        # Preparing the same work directory again must not follow them either.
        record, cp = run_box(["/bin/ls", "-la", "/box"], f"--workdir={workdir}", "--wall-time=5")
        assert record["status"] == "OK", record
        assert {p: snapshot(p) for p in watched} == before, "a host path changed after a second run"
    finally:
        now = os.lstat("/etc/shadow")
        if (now.st_uid, now.st_gid, now.st_mode) != (shadow.st_uid, shadow.st_gid, shadow.st_mode):
            os.chown("/etc/shadow", shadow.st_uid, shadow.st_gid)
            os.chmod("/etc/shadow", shadow.st_mode & 0o7777)


# ---- what outlives the run ----

def processes_named(name):
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                if Path(entry.path, "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def test_double_forking_daemon_does_not_survive(workdir):
    record, cp = run_box([helper("daemon")], f"--workdir={workdir}", "--wall-time=3")
    assert record["status"] == "OK", record
    assert result_lines(cp.stdout).get("daemon") == ("ok", None), cp.stdout
    # The daemon was really set up (it wrote its pid), it kept stdout and stderr open, and
    # still the run ended with its main program.
    assert int((workdir / "daemon.pid").read_text()) > 0
    assert record["wall_time"] < 1, record
    assert not host_processes(), f"box processes survived: {host_processes()}"
    assert not processes_named("crdaemon"), processes_named("crdaemon")


@pytest.fixture
def canaries():
    """Processes outside the box that a program in it must not be able to kill: one of
    root, one of nobody, and one running as the very uid the box programs get."""
    record, cp = run_box([helper("whoami")], "--wall-time=5")
    box_uid = int(key_values(cp.stdout)["uid"])
    procs = [subprocess.Popen(["sleep", "60"])]
    for uid in (65534, box_uid):
        procs.append(subprocess.Popen(["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                                       "sleep", "60"]))
    # Wait until setpriv has become the target uid and exec'd sleep.
    assert wait_for(lambda: all(Path(f"/proc/{p.pid}/comm").read_text().strip() == "sleep"
                                for p in procs), 5)
    yield procs
    for p in procs:
        p.kill()
        p.wait()


@pytest.mark.parametrize("target", ["all", "parent"])
def test_kill_does_not_reach_outside(target, canaries):
    record, cp = run_box([helper("killer"), target], "--wall-time=5")
    assert record["status"] == "OK", record
    assert f"kill-{target}".encode() in cp.stdout, cp.stdout
    for p in canaries:
        assert p.poll() is None, f"canary {p.args} was killed"


def test_kill_of_own_process_group_stays_in_the_box(canaries):
    record, cp = run_box([helper("killer"), "pgrp"], "--wall-time=5")
    # It killed itself: a plain signal death, not a limit, and the command lived on.
    assert record["status"] == "SG" and record["signal"] == signal.SIGKILL, record
    for p in canaries:
        assert p.poll() is None, f"canary {p.args} was killed"


# ---- system calls ----

DENIED_EPERM = [
    "ptrace-traceme", "ptrace-attach-init", "ptrace-attach-child", "mount", "umount", "unshare-user",
    "unshare-mount", "unshare-net", "setns", "keyctl", "add_key", "bpf", "perf_event_open",
    "userfaultfd", "fanotify_init", "clone-newuser", "clone-newnet", "clone-newns", "ioctl-tiocsti", "ioctl-tioclinux",
    "chroot", "setuid0", "setgid0", "capset", "mknod", "pivot_root", "fsopen", "open_tree",
    "open_by_handle_at", "init_module", "kexec_load",
]


@pytest.mark.parametrize("name", DENIED_EPERM)
def test_syscall_is_denied_with_eperm(name):
    record, cp = run_box([helper("probe"), name], "--wall-time=5")
    assert record["status"] == "OK", record
    assert result_lines(cp.stdout).get(name) == ("fail", "EPERM"), cp.stdout


# Socket families outside unix/inet/inet6 (and netlink protocols other than route, which
# getaddrinfo uses and which sees only the box's empty network namespace).
DENIED_SOCKETS = ["socket-vsock", "socket-packet", "socket-netlink-uevent", "socket-netlink-audit",
                  "socket-netlink-diag"]


@pytest.mark.parametrize("name", DENIED_SOCKETS)
def test_socket_family_is_denied(name):
    record, cp = run_box([helper("probe"), name], "--wall-time=5")
    assert record["status"] == "OK", record
    outcome = result_lines(cp.stdout).get(name)
    assert outcome in (("fail", "EPERM"), ("fail", "EAFNOSUPPORT")), cp.stdout


@pytest.mark.parametrize("name", ["clone3", "io_uring_setup", "inotify_init1"])
def test_syscall_is_denied_with_enosys(name):
    # ENOSYS: so that libc falls back to clone(), and io_uring users to plain I/O.
    record, cp = run_box([helper("probe"), name], "--wall-time=5")
    assert record["status"] == "OK", record
    assert result_lines(cp.stdout).get(name) == ("fail", "ENOSYS"), cp.stdout


def test_proc1_environ_is_unreadable():
    record, cp = run_box([helper("probe"), "proc1-environ"], "--wall-time=5")
    assert record["status"] == "OK", record
    outcome = result_lines(cp.stdout).get("proc1-environ")
    assert outcome in {("fail", e) for e in ("ENOENT", "EACCES", "EPERM", "ESRCH")}, cp.stdout


@pytest.mark.parametrize("abi", ["int80", "x32"])
def test_foreign_abi_is_killed(abi):
    if os.uname().machine != "x86_64":
        pytest.skip("the foreign-ABI probes are x86_64 only")
    if abi == "int80":
        host = subprocess.run([str(HELPERS / "probe"), "int80"], capture_output=True)
        if host.returncode != 0:
            pytest.skip("this kernel has no i386 emulation (int $0x80 faults outside the box too)")
    record, cp = run_box([helper("probe"), abi], "--wall-time=5")
    assert record["status"] == "SG" and record["signal"] == signal.SIGSYS, (record, cp.stdout)
    assert b"RESULT" not in cp.stdout


# ---- network ----

NETWORK_ERRNOS = {"ENETUNREACH", "ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "EPERM", "EACCES",
                  "EADDRNOTAVAIL"}


@pytest.fixture
def listener():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(8)
        srv.setblocking(False)
        yield srv


def test_host_loopback_is_unreachable(listener):
    port = listener.getsockname()[1]
    record, cp = run_box([helper("probe"), "connect-loopback", str(port)], "--wall-time=5")
    assert record["status"] == "OK", record
    outcome = result_lines(cp.stdout).get("connect-loopback")
    assert outcome and outcome[0] == "fail" and outcome[1] in NETWORK_ERRNOS, cp.stdout
    with pytest.raises(BlockingIOError):
        listener.accept()  # no connection arrived


def test_public_address_is_unreachable():
    record, cp = run_box([helper("probe"), "connect-public"], "--wall-time=5")
    assert record["status"] == "OK", record
    outcome = result_lines(cp.stdout).get("connect-public")
    assert outcome and outcome[0] == "fail" and outcome[1] in NETWORK_ERRNOS, cp.stdout
    assert record["wall_time"] < 1.5, record  # it failed fast, or at the probe's own 1 s


def test_no_network_interface_is_up():
    record, cp = run_box(["/bin/cat", "/proc/net/dev"], "--wall-time=5")
    assert record["status"] == "OK", record
    names = [line.split(":")[0].strip() for line in cp.stdout.decode().splitlines() if ":" in line]
    assert set(names) <= {"lo"}, names
