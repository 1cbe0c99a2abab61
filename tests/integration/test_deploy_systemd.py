"""The systemd units of deploy/systemd: `systemd-analyze verify` and `systemd-analyze
security --offline` on each, in a root directory made by the test (the host's own unit
files and the built coderunner at /usr/local/bin), so neither systemd as PID 1 nor an
installed coderunner is needed. Their flags and the CODERUNNER_* names of the example
environment files are checked against the real binary, and the worker's capability
bounding set is proven enough by running the sandbox under exactly that set."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from api_helpers import C_HELLO, C_ID, PY_ID, Server
from conftest import CODERUNNER, REPO
from deploy_helpers import SANDBOX_CAPS, env_option, role_options

UNITS = REPO / "deploy" / "systemd"
ROLES = ["api", "gateway", "worker", "serve"]
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (Debian's systemd package ships it)")


def unit_entries(role):
    """[(section, key, value)] of coderunner-ROLE.service, repeated keys kept."""
    section, out = None, []
    for line in (UNITS / f"coderunner-{role}.service").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        k, v = line.split("=", 1)
        out.append((section, k, v))
    return out


def setting(role, key):
    values = [v for s, k, v in unit_entries(role) if s == "Service" and k == key]
    assert values, f"{role}: no {key}"
    return values[-1]


@pytest.fixture(scope="module")
def root():
    """A root directory for --root: the host's units, the built binary, ours."""
    d = Path(tempfile.mkdtemp(prefix="coderunner-systemd-"))
    try:
        host_units = next(p for p in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
                          if (p / "multi-user.target").exists())
        shutil.copytree(host_units, d / "usr/lib/systemd/system", symlinks=True)
        (d / "usr/local/bin").mkdir(parents=True)
        shutil.copy2(CODERUNNER, d / "usr/local/bin/coderunner")
        (d / "etc/systemd/system").mkdir(parents=True)
        for role in ROLES:
            shutil.copy2(UNITS / f"coderunner-{role}.service", d / "etc/systemd/system")
        yield d
    finally:
        shutil.rmtree(d)


def verify(root, name):
    return subprocess.run([ANALYZE, "verify", f"--root={root}", str(root / "etc/systemd/system" / name)],
                          capture_output=True, text=True, timeout=60)


@needs_analyze
@pytest.mark.parametrize("role", ROLES)
def test_systemd_analyze_verify(root, role):
    r = verify(root, f"coderunner-{role}.service")
    # Not a word: an unknown key or a bad value is only a warning to systemd.
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", (r.returncode, r.stdout, r.stderr)


@needs_analyze
def test_verify_sees_a_broken_unit(root):
    """The check above can fail: verify reports an unknown key, a bad system-call group and a
    missing binary."""
    text = (UNITS / "coderunner-api.service").read_text()
    bad = text.replace("[Service]\n", "[Service]\nProtectSistem=strict\nSystemCallFilter=@no-such-group\n")
    bad = bad.replace("/usr/local/bin/coderunner", "/usr/local/bin/coderunner-missing")
    (root / "etc/systemd/system/coderunner-broken.service").write_text(bad)
    r = verify(root, "coderunner-broken.service")
    out = r.stdout + r.stderr
    assert "ProtectSistem" in out and "no-such-group" in out and "coderunner-missing" in out, out
    assert r.returncode != 0


@needs_analyze
@pytest.mark.parametrize("role,ceiling", [("api", 2.0), ("gateway", 2.0), ("worker", 6.5), ("serve", 6.5)])
def test_exposure(root, role, ceiling):
    """systemd's own hardening score (0 best, 10 worst): the unprivileged roles stay "OK";
    the sandbox's hosts carry only what the sandbox needs."""
    r = subprocess.run([ANALYZE, "security", "--offline=true", f"--root={root}", "--no-pager",
                        f"--threshold={int(ceiling * 10)}", f"coderunner-{role}.service"],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= ceiling and r.returncode == 0, (m.group(0), r.returncode)


@pytest.mark.parametrize("role", ["api", "gateway"])
def test_unprivileged_roles(role):
    for key, want in [("DynamicUser", "yes"), ("CapabilityBoundingSet", ""), ("NoNewPrivileges", "yes"),
                      ("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                      ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"), ("SystemCallArchitectures", "native")]:
        assert setting(role, key) == want, (role, key)
    filters = [v for s, k, v in unit_entries(role) if k == "SystemCallFilter"]
    assert filters == ["@system-service", "~@privileged"], filters
    assert setting(role, "EnvironmentFile") == f"/etc/coderunner/{role}.env"


@pytest.mark.parametrize("role", ["worker", "serve"])
def test_sandbox_roles(role):
    assert setting(role, "Delegate") == "yes"
    assert set(setting(role, "CapabilityBoundingSet").split()) == SANDBOX_CAPS
    assert setting(role, "NoNewPrivileges") == "yes"
    # What systemd would take from the sandbox (each a cause of failed runs; the unit's
    # comment says why): never set.
    keys = {k for _, k, _ in unit_entries(role)}
    forbidden = {"DynamicUser", "ProtectHostname", "PrivateDevices", "ProtectControlGroups", "ProtectKernelTunables",
                 "ProtectProc", "ProcSubset", "RestrictNamespaces", "PrivateUsers", "SystemCallFilter",
                 "MemoryDenyWriteExecute"}
    assert not keys & forbidden, keys & forbidden
    assert setting(role, "EnvironmentFile") == f"/etc/coderunner/{role}.env"


@pytest.mark.parametrize("role", ROLES)
def test_flags_and_environment_names_are_real(role, tmp_path):
    """ExecStart's flags and every CODERUNNER_* of the example environment file are options
    of the role (the loader ignores an unknown CODERUNNER_* name, so a misspelt one would
    be silently lost), and the role accepts them all together."""
    options = role_options(role)
    env = {}
    for line in (UNITS / f"{role}.env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            k, v = line.split("=", 1)
            assert env_option(k) in options, (role, k)
            env[k] = v
    argv = setting(role, "ExecStart").split()
    assert argv[:2] == ["/usr/local/bin/coderunner", role]
    flags = [a.replace("/var/lib", str(tmp_path)) for a in argv[2:]]
    for f in flags:
        assert f.split("=")[0] in options, (role, f)
    r = subprocess.run([str(CODERUNNER), role, *flags, "--print-config"], capture_output=True, text=True,
                       timeout=30, env={"PATH": os.environ["PATH"], **env})
    assert r.returncode == 0, r.stderr


def test_sysusers_names_the_worker_user():
    line = (UNITS / "coderunner.sysusers.conf").read_text().splitlines()[-1].split()
    assert line[:2] == ["u", "coderunner"]
    for role in ("worker", "serve"):
        assert "CODERUNNER_USER=coderunner" in (UNITS / f"{role}.env.example").read_text()


@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox needs root")
@pytest.mark.parametrize("drop", [None, "CAP_SYS_CHROOT"])
def test_the_worker_bounding_set_is_enough(drop):
    """coderunner serve (the same sandbox as the worker) under exactly the unit's
    CapabilityBoundingSet and NoNewPrivileges, the network-facing part as nobody: C and
    Python, a networked run, a time limit over a forked child, a memory limit. Without
    CAP_SYS_CHROOT (speed only: entering roots prepared ahead) every run still works."""
    caps = [c for c in setting("worker", "CapabilityBoundingSet").split() if c != drop]
    # Under /tmp itself, not pytest's 0700 directory: nobody must reach the data directory.
    data = Path(tempfile.mkdtemp(prefix="coderunner-caps-"))
    data.chmod(0o755)
    bounding = "-all," + ",".join("+" + c[len("CAP_"):].lower() for c in caps)
    s = Server(data / "data", args=["--workers=1", "--user=nobody"],
               wrap=["setpriv", "--no-new-privs", f"--bounding-set={bounding}"]).start()
    try:
        cases = [
            ({"source_code": C_HELLO, "language_id": C_ID}, "Accepted", "hello, world\n"),
            ({"source_code": "print(6 * 7)", "language_id": PY_ID}, "Accepted", "42\n"),
            ({"source_code": "print(6 * 7)", "language_id": PY_ID, "enable_network": True}, "Accepted", "42\n"),
            ({"source_code": "import os\nos.fork()\nwhile True: pass", "language_id": PY_ID,
              "cpu_time_limit": 0.5, "wall_time_limit": 3}, "Time Limit Exceeded", None),
            ({"source_code": "x = bytearray(400 << 20)", "language_id": PY_ID, "memory_limit": 64000},
             "Runtime Error (Other)", None),
        ]
        for body, status, stdout in cases:
            r = s.submit(body, params={"wait": "true"})
            assert r.status_code == 201, r.text
            got = r.json()
            assert got["status"]["description"] == status, (body, got)
            if stdout is not None:
                assert got["stdout"] == stdout, got
            if status == "Time Limit Exceeded":
                assert "wall" not in (got["message"] or ""), got  # the CPU limit, from the cgroup
            if status.startswith("Runtime Error"):
                assert got["message"] == "Memory limit exceeded", got
    finally:
        s.stop()
        # serve --user=NAME leaves its judges' work tmpfs mounted when it stops (seen with
        # every bounding set, the full one too): detach what the serve started here left.
        left = [line.split()[1] for line in open("/proc/mounts") if line.split()[1].startswith(f"{data}/")]
        for m in sorted(left, reverse=True):
            subprocess.run(["umount", "-l", m], check=True)
        shutil.rmtree(data)
