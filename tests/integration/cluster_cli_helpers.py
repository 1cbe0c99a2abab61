"""What the tests of `coderunner cluster` (test_cluster_cli.py, test_cluster_hosts.py) share:
running the command, its status, the configuration files it writes."""

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import CODERUNNER, unmount_below

UP_TIMEOUT = 300  # seconds: initdb, then every role healthy
DOWN_TIMEOUT = 180


def roles_available():
    """Whether this build has the `coderunner api` role (and so the others)."""
    try:
        return subprocess.run([str(CODERUNNER), "api", "--help"], capture_output=True, timeout=30).returncode == 0
    except OSError:
        return False


def cluster(*args, timeout=60):
    return subprocess.run([str(CODERUNNER), "cluster", *args], capture_output=True, text=True, timeout=timeout)


def status(d):
    r = cluster("status", f"--dir={d}", "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def conf(path):
    """A configuration file's key = value lines."""
    out = {}
    for line in Path(path).read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            k, v = line.split("=", 1)
            out[k.strip()] = v.strip()
    return out


@pytest.fixture
def cluster_dir():
    """A cluster's DIR, brought down and removed after the test. Not under pytest's tmp_path:
    PostgreSQL runs as nobody, who cannot enter root's dirs."""
    d = Path(tempfile.mkdtemp(prefix="coderunner-cluster-"))
    d.chmod(0o755)
    yield d
    if (d / "cluster.state").exists():
        cluster("down", f"--dir={d}", timeout=DOWN_TIMEOUT)
    # The workers' tmpfs mounts stay after they stop (they had given up root): a next `up`
    # or `down --purge` takes them off; this test's own directory goes now.
    unmount_below(d)
    shutil.rmtree(d, ignore_errors=True)
