"""A qemu guest on a pure cgroup v2 kernel, for the tests of tests/vm.

The guest boots Debian's generic kernel (linux-image-amd64's current version, fetched with
`apt-get download` and unpacked with `dpkg -x` into the cache, never installed) under
`qemu-system-x86_64 -accel tcg` (never KVM: on some hosts /dev/kvm exists and hangs). Its
initramfs is busybox plus the kernel's 9p, virtio and overlay modules; /init mounts the host's
root read-only over 9p under a tmpfs overlay and `switch_root`s into it (a plain chroot
would forbid new user namespaces), so the guest runs the host's Python and the project's
build in place, at the same paths. The host's cgroup layout is not visible: the guest mounts
only cgroup2, with every controller, and the kernel has v1 switched off (cgroup_no_v1=all).

A second 9p share, writable, is the guest's /out: what the guest reports lands there.

Cache: $CODERUNNER_VM_CACHE, else $XDG_CACHE_HOME/coderunner/vm, else ~/.cache/coderunner/vm.
It holds the kernel package (~70 MB) unpacked (~400 MB) and the initramfs built from it.
"""

import hashlib
import io
import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
KERNEL_META = "linux-image-amd64"
QEMU = "qemu-system-x86_64"
BUSYBOX = "/bin/busybox"
# The modules /init loads, in this order after their dependencies.
MODULES = ["virtio_pci", "9pnet_virtio", "9p", "overlay"]


class Unavailable(Exception):
    """The guest cannot run on this machine; the message says why, in one line."""


def cache_dir():
    if os.environ.get("CODERUNNER_VM_CACHE"):
        path = Path(os.environ["CODERUNNER_VM_CACHE"])
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        path = base / "coderunner" / "vm"
    path.mkdir(parents=True, exist_ok=True)
    return path


def why_not():
    """None when the guest can be booted here, else the one-line reason it cannot."""
    if os.uname().machine != "x86_64":
        return f"the VM suite boots an x86_64 guest; this host is {os.uname().machine}"
    for tool in (QEMU, "apt-get", "apt-cache", "dpkg"):
        if not shutil.which(tool):
            return f"{tool} is not installed (make test-vm installs qemu-system-x86 and busybox-static)"
    if not os.access(BUSYBOX, os.X_OK):
        return f"{BUSYBOX} is missing (package busybox-static)"
    if not _is_static(BUSYBOX):
        return f"{BUSYBOX} is not statically linked (install busybox-static)"
    return None


def _is_static(path):
    """An ELF file with no PT_INTERP program header (no dynamic loader)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return False
        phoff = int.from_bytes(head[32:40], "little")
        phentsize = int.from_bytes(head[54:56], "little")
        phnum = int.from_bytes(head[56:58], "little")
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(int.from_bytes(table[i * phentsize:i * phentsize + 4], "little") != 3 for i in range(phnum))


def _kernel_package():
    """The versioned package that linux-image-amd64 depends on now, e.g.
    linux-image-6.1.0-57-amd64."""
    out = subprocess.run(["apt-cache", "depends", KERNEL_META], capture_output=True, text=True)
    for line in out.stdout.splitlines():
        word = line.strip()
        if word.startswith("Depends:"):
            name = word.split()[1]
            if name.startswith("linux-image-"):
                return name
    raise Unavailable(f"apt-cache knows no dependency of {KERNEL_META} (run apt-get update)")


def kernel():
    """(vmlinuz, modules directory) of the current Debian generic kernel, downloaded and
    unpacked into the cache the first time."""
    cache = cache_dir()
    package = _kernel_package()
    tree = cache / package
    release = package[len("linux-image-"):]
    vmlinuz = tree / "boot" / f"vmlinuz-{release}"
    modules = tree / "lib" / "modules" / release
    if vmlinuz.exists() and (tree / ".complete").exists():
        return vmlinuz, modules
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        # apt's download sandbox user cannot write into a private directory: open this one.
        os.chmod(tmp, 0o777)
        got = subprocess.run(["apt-get", "download", "-q", package], cwd=tmp, capture_output=True, text=True)
        debs = list(Path(tmp).glob("*.deb"))
        if got.returncode != 0 or not debs:
            raise Unavailable(f"apt-get download {package} failed: {got.stderr.strip()[-300:]}")
        unpacked = Path(tmp) / "tree"
        subprocess.run(["dpkg", "-x", str(debs[0]), str(unpacked)], check=True)
        (unpacked / ".complete").write_text(debs[0].name + "\n")
        shutil.rmtree(tree, ignore_errors=True)
        unpacked.rename(tree)
    return vmlinuz, modules


def _module_paths(modules_dir):
    """{name: path} of every module file of the kernel (names with '-' read as '_')."""
    found = {}
    for path in modules_dir.joinpath("kernel").rglob("*.ko*"):
        name = path.name.split(".ko")[0].replace("-", "_")
        found[name] = path
    return found


def _depends(path):
    """The module's "depends=" from its .modinfo section (the kernel package ships no
    modules.dep: depmod writes it at install time)."""
    data = path.read_bytes()
    if path.suffix in (".xz", ".zst", ".gz"):
        raise Unavailable(f"compressed kernel modules are not supported: {path.name}")
    at = data.find(b"\0depends=")
    if at < 0:
        return []
    value = data[at + 9:data.index(b"\0", at + 1)].decode()
    return [d.replace("-", "_") for d in value.split(",") if d]


def _load_order(modules_dir, wanted):
    """The module files to insmod, dependencies first; names built into the kernel are
    dropped."""
    paths = _module_paths(modules_dir)
    builtin = {Path(line.strip()).name.split(".ko")[0].replace("-", "_")
               for line in (modules_dir / "modules.builtin").read_text().splitlines() if line.strip()}
    order = []

    def visit(name):
        if name in builtin or any(p.name.split(".ko")[0].replace("-", "_") == name for p in order):
            return
        if name not in paths:
            raise Unavailable(f"the kernel has no module {name}")
        for dep in _depends(paths[name]):
            visit(dep)
        order.append(paths[name])

    for name in wanted:
        visit(name)
    return order


class _Cpio:
    """A newc cpio archive (what the kernel unpacks as an initramfs)."""

    def __init__(self):
        self.out = io.BytesIO()
        self.ino = 1

    def _entry(self, name, mode, data=b""):
        name_b = name.encode() + b"\0"
        header = "070701" + "".join(f"{v:08x}" for v in (
            self.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name_b), 0))
        self.ino += 1
        self.out.write(header.encode() + name_b)
        self.out.write(b"\0" * (-(110 + len(name_b)) % 4))
        self.out.write(data)
        self.out.write(b"\0" * (-len(data) % 4))

    def dir(self, name):
        self._entry(name, stat.S_IFDIR | 0o755)

    def file(self, name, data, mode=0o644):
        self._entry(name, stat.S_IFREG | mode, data)

    def symlink(self, name, target):
        self._entry(name, stat.S_IFLNK | 0o777, target.encode())

    def finish(self):
        self._entry("TRAILER!!!", 0)
        return self.out.getvalue()


def initramfs(modules_dir):
    """The initramfs (busybox, the modules, /init and the guest's second stage), built once
    per kernel and per version of its inputs."""
    order = _load_order(modules_dir, MODULES)
    init = (HERE / "init.sh").read_bytes()
    stage2 = (HERE / "stage2.sh").read_bytes()
    busybox = Path(BUSYBOX).read_bytes()
    digest = hashlib.sha256()
    for part in (init, stage2, busybox, *(str(p).encode() for p in order)):
        digest.update(hashlib.sha256(part).digest())
    path = cache_dir() / f"initramfs-{modules_dir.name}-{digest.hexdigest()[:16]}.cpio"
    if path.exists():
        return path
    archive = _Cpio()
    for d in ("bin", "dev", "proc", "sys", "lower", "upper", "newroot", "modules"):
        archive.dir(d)
    archive.file("bin/busybox", busybox, 0o755)
    archive.symlink("bin/sh", "busybox")
    archive.file("init", init, 0o755)
    archive.file("stage2.sh", stage2, 0o755)
    names = []
    for i, module in enumerate(order):
        name = f"{i:02d}-{module.name}"
        archive.file(f"modules/{name}", module.read_bytes())
        names.append(name)
    archive.file("modules/order", ("\n".join(names) + "\n").encode())
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as tmp:
        tmp.write(archive.finish())
    os.replace(tmp.name, path)
    return path


def boot(command, out_dir, *, log_path, timeout, memory_mib=2048, cpus=2):
    """Boot the guest, run COMMAND (a shell command line, run as root by the guest's second
    stage with the host's root as its root and out_dir as /out) and power off. Returns the
    exit status COMMAND reported, or raises Unavailable/TimeoutError. The console goes to
    log_path."""
    vmlinuz, modules = kernel()
    initrd = initramfs(modules)
    Path(out_dir, "command").write_text(command + "\n")
    append = " ".join([
        "console=ttyS0", "panic=-1", "quiet", "loglevel=4",
        # a pure v2 host: no v1 hierarchy can be mounted, every controller is on v2
        "cgroup_no_v1=all", "systemd.unified_cgroup_hierarchy=1",
        # TCG: no need to stop on a slow TSC calibration or a missing RNG
        "tsc=unstable", "random.trust_cpu=on",
    ])
    argv = [
        QEMU, "-accel", "tcg", "-machine", "q35", "-cpu", "max", "-m", str(memory_mib), "-smp", str(cpus),
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-serial", f"file:{log_path}",
        "-kernel", str(vmlinuz), "-initrd", str(initrd), "-append", append,
        "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
        "-virtfs", f"local,path={out_dir},mount_tag=out,security_model=none,multidevs=remap",
        "-device", "virtio-rng-pci",
    ]
    # Its own process group, so that a timeout stops qemu and nothing else.
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"the guest did not power off within {timeout} s (console: {log_path})") from None
    finally:
        # Timed out or interrupted (Ctrl+C): qemu goes with us, never left running.
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    status = Path(out_dir, "status")
    if proc.returncode != 0:
        raise Unavailable(f"qemu failed ({proc.returncode}): {out.decode(errors='replace').strip()[-300:]}")
    if not status.exists():
        raise RuntimeError(f"the guest powered off without a status (console: {log_path}):\n"
                           + _tail(log_path))
    return int(status.read_text().strip())


def _tail(path, n=4000):
    try:
        return Path(path).read_text(errors="replace")[-n:]
    except OSError:
        return ""


def main():
    """`python3 tests/vm/vm.py 'COMMAND'`: boot, run COMMAND in the guest, print the console."""
    import sys
    reason = why_not()
    if reason:
        print(f"skipped: {reason}")
        return 0
    with tempfile.TemporaryDirectory(prefix="coderunner-vm-") as out:
        log = Path(out) / "console.log"
        start = time.monotonic()
        rc = boot(" ".join(sys.argv[1:]) or "true", out, log_path=log, timeout=600)
        print(log.read_text(errors="replace"))
        print(f"guest command exit {rc} after {time.monotonic() - start:.1f} s")
        return rc


if __name__ == "__main__":
    raise SystemExit(main())
