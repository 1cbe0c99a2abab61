"""What the deploy/ tests share: the options a role of the built binary really has, so
that a unit's flags, an environment file's or a manifest's CODERUNNER_* names are checked
against the code (the loader ignores an unknown CODERUNNER_* name: a misspelt one would
be lost without a word)."""

import functools
import re
import subprocess

import pytest

from conftest import CODERUNNER

# The capabilities the sandbox needs (deploy/systemd/coderunner-worker.service says why,
# one by one; test_deploy_systemd.py runs the sandbox under exactly these).
SANDBOX_CAPS = {"CAP_SYS_ADMIN", "CAP_SYS_CHROOT", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_CHOWN", "CAP_DAC_OVERRIDE",
                "CAP_MKNOD", "CAP_NET_ADMIN"}


@functools.lru_cache(maxsize=None)
def _help(role):
    r = subprocess.run([str(CODERUNNER), role, "--help"], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def role_options(role):
    """The --options of `coderunner ROLE` (the test is skipped for the gateway while the
    build has none)."""
    rc, out, err = _help(role)
    if role == "gateway" and rc != 0:
        pytest.skip("this build has no `coderunner gateway` yet")
    assert rc == 0, err
    return set(re.findall(r"^\s+(--[a-z0-9-]+)", out, re.M))


def env_option(name):
    """CODERUNNER_MAX_QUEUE_SIZE -> --max-queue-size."""
    assert name.startswith("CODERUNNER_"), name
    return "--" + name[len("CODERUNNER_"):].lower().replace("_", "-")
