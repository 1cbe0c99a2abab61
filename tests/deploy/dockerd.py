"""A Docker daemon of the test's own: everything it makes lives under one temporary
directory (data root, exec root, pid file, socket) or one cgroup nested under the test's
own, and `stop()` removes all of it. It changes no iptables rule (--iptables=false), makes
no default bridge (--bridge=none), and its networks come from 198.18.0.0/15 only (the
compose file names its subnets; the default pool is there for anything else).

Used by tests/deploy/test_compose.py; also runnable by hand:
    python3 tests/deploy/dockerd.py    (prints DOCKER_HOST=..., stops at the end of its input: Ctrl+D)
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DOCKERD = "/usr/sbin/dockerd"
# Debian's client (docker.io), never another docker found earlier on PATH.
DOCKER = "/usr/bin/docker"
COMPOSE = "/usr/bin/docker-compose"
CGROUP_ROOT = Path("/sys/fs/cgroup")
# Networks the daemon may make by itself (the compose file names its own subnets).
ADDRESS_POOL = "base=198.19.128.0/18,size=24"


def unavailable():
    """Why this machine cannot run the test's dockerd, or None."""
    for path, pkg in ((DOCKERD, "docker.io"), (DOCKER, "docker.io"), (COMPOSE, "docker-compose"),
                      ("/usr/sbin/debootstrap", "debootstrap")):
        if not os.access(path, os.X_OK):
            return f"{path} is missing (Debian's {pkg}: make test-deploy installs it)"
    if os.geteuid() != 0:
        return "dockerd needs root"
    return None


def own_cgroups():
    """(mount point, path) of every hierarchy this process is in, from /proc/self/cgroup."""
    out = []
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controllers == "":
            mount = CGROUP_ROOT / "unified" if (CGROUP_ROOT / "unified").is_dir() else CGROUP_ROOT
        else:
            name = controllers.replace("name=", "")
            mount = CGROUP_ROOT / name
        if mount.is_dir():
            out.append((mount, path))
    return out


def _mounts_under(root):
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        target = line.split()[4].replace("\\040", " ")
        if target == str(root) or target.startswith(str(root) + "/"):
            found.append(target)
    return sorted(found, key=len, reverse=True)


def _rmdir_tree(path):
    """Remove a cgroup directory and its children (cgroup directories are removed with
    rmdir, deepest first; their files cannot be unlinked)."""
    if not path.is_dir():
        return
    for child in sorted((p for p in path.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        child.rmdir()
    path.rmdir()


class Dockerd:
    def __init__(self, log=sys.stderr):
        self.dir = Path(tempfile.mkdtemp(prefix="crdeploy-", dir="/tmp"))
        self.sock = self.dir / "docker.sock"
        # Relative: runc makes it below its own cgroup in every hierarchy, i.e. below ours.
        self.cgroup_parent = f"coderunner-deploy-{secrets.token_hex(4)}"
        self.proc = None
        self.log = log
        self.env = dict(os.environ, DOCKER_HOST=f"unix://{self.sock}", DOCKER_CONFIG=str(self.dir / "client"),
                        COMPOSE_INTERACTIVE_NO_CLI="1")
        self.env.pop("DOCKER_CONTEXT", None)

    def start(self, timeout=120):
        (self.dir / "client").mkdir()
        config = self.dir / "daemon.json"
        config.write_text(json.dumps({}))
        args = [
            DOCKERD,
            f"--config-file={config}",
            f"--data-root={self.dir / 'data'}",
            f"--exec-root={self.dir / 'exec'}",
            f"--pidfile={self.dir / 'dockerd.pid'}",
            f"--host=unix://{self.sock}",
            f"--cgroup-parent={self.cgroup_parent}",
            "--exec-opt=native.cgroupdriver=cgroupfs",
            # Each container in a cgroup namespace of its own, on cgroup v1 too (v2's
            # default): the worker then sees its own cgroup as the root of each hierarchy.
            "--default-cgroupns-mode=private",
            "--iptables=false",
            "--ip6tables=false",
            "--ip-masq=false",
            "--ip-forward=false",
            "--bridge=none",
            f"--default-address-pool={ADDRESS_POOL}",
            "--storage-driver=overlay2",
            "--log-level=warn",
        ]
        self.logfile = open(self.dir / "dockerd.log", "wb")
        self.proc = subprocess.Popen(args, stdout=self.logfile, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited with {self.proc.returncode}:\n{self.tail()}")
            if self.sock.exists() and self.docker("version", check=False, capture=True).returncode == 0:
                return self
            time.sleep(0.2)
        raise RuntimeError(f"dockerd did not answer within {timeout} s:\n{self.tail()}")

    def tail(self, n=40):
        try:
            return "\n".join((self.dir / "dockerd.log").read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def docker(self, *args, check=True, capture=False, input=None, timeout=600):
        return subprocess.run([DOCKER, *args], env=self.env, check=check, input=input, timeout=timeout,
                              capture_output=capture, text=True)

    def stop(self):
        """Stop the daemon (by its pid) and remove what it made: mounts, cgroups, files."""
        problems = []
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.proc:
            self.logfile.close()
        # The managed containerd and its shims are in the daemon's session; anything left
        # of it after dockerd's own shutdown goes too.
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for target in _mounts_under(self.dir):
            r = subprocess.run(["umount", "--lazy", target], capture_output=True, text=True)
            if r.returncode:
                problems.append(f"umount {target}: {r.stderr.strip()}")
        for mount, path in own_cgroups():
            try:
                _rmdir_tree(mount / path.lstrip("/") / self.cgroup_parent)
            except OSError as e:
                problems.append(f"cgroup {mount}{path}/{self.cgroup_parent}: {e}")
        shutil.rmtree(self.dir, ignore_errors=True)
        if self.dir.exists():
            problems.append(f"{self.dir} is left")
        return problems


if __name__ == "__main__":
    why = unavailable()
    if why:
        sys.exit(f"dockerd.py: {why}")
    d = Dockerd().start()
    print(f"DOCKER_HOST=unix://{d.sock}", flush=True)
    try:
        sys.stdin.read()
    finally:
        print("\n".join(d.stop()) or "stopped, cleaned up")
