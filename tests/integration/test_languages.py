"""Every language of the catalogue proves itself: its test program, judged through the
real pipeline (compile in the sandbox, run in a fresh sandbox), must print OK.

A language whose toolchain is not installed is skipped with the Debian packages that
would provide it (`make languages` installs them all; `make test` does too)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import CODERUNNER

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ROOT / "languages"


def parse_conf(path):
    conf = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        conf.setdefault(key.strip(), value.strip())
    return conf


def catalogue():
    entries = []
    for conf_path in sorted(LANGUAGES.glob("*/language.conf")):
        conf = parse_conf(conf_path)
        if conf.get("test"):
            entries.append(pytest.param(conf_path.parent, conf, id=f"{conf['id']}-{conf_path.parent.name}"))
    return entries


def installed_ids():
    cp = subprocess.run([str(CODERUNNER), "languages", "--json"], capture_output=True, timeout=120)
    if cp.returncode != 0:
        return None
    return {entry["id"] for entry in json.loads(cp.stdout)}


@pytest.fixture(scope="module")
def installed():
    if os.geteuid() != 0:
        pytest.skip("the sandbox tests run as root")
    ids = installed_ids()
    if ids is None:
        pytest.skip("coderunner languages --json failed")
    return ids


def test_catalogue_is_large_enough():
    """The catalogue covers at least 30 languages with a test program."""
    assert len(catalogue()) >= 30, [p.id for p in catalogue()]


@pytest.mark.parametrize("directory,conf", catalogue())
def test_language_test_program_prints_ok(directory, conf, installed, tmp_path):
    if int(conf["id"]) not in installed:
        pytest.skip(f"not installed (Debian packages: {conf.get('packages', '?')})")
    test_file = directory / conf["test"]
    cp = subprocess.run(
        [str(CODERUNNER), "run", str(test_file), f"--lang={conf['id']}", "--json",
         f"--cache-dir={tmp_path / 'cache'}", "--time=10", "--wall-time=30"],
        capture_output=True, timeout=180)
    assert cp.returncode == 0, (cp.returncode, cp.stderr.decode(errors="replace"))
    result = json.loads(cp.stdout)
    assert result["status"]["id"] == 3, result
    assert result["stdout"] == "OK\n", result


def registry_toolchains():
    """The languages whose toolchain comes from a registry (languages/*/install) and the
    release each pins (its VERSION= line)."""
    out = []
    for script in sorted(LANGUAGES.glob("*/install")):
        version = [line.split("=", 1)[1] for line in script.read_text().splitlines() if line.startswith("VERSION=")]
        conf = parse_conf(script.parent / "language.conf")
        out.append(pytest.param(conf, version[0] if version else None, id=script.parent.name))
    return out


@pytest.mark.parametrize("conf,version", registry_toolchains())
def test_registry_toolchain_is_detected_at_its_pinned_version(conf, version):
    # `make languages` runs the install script; the catalogue then detects that release
    # (not Debian's older one) and names the language with it.
    assert version, "the install script pins no VERSION="
    cp = subprocess.run([str(CODERUNNER), "languages", "--json"], capture_output=True, timeout=120)
    assert cp.returncode == 0, cp.stderr
    entry = next(e for e in json.loads(cp.stdout) if e["id"] == int(conf["id"]))
    if not entry["installed"]:
        pytest.skip(f"not installed (make languages runs languages/{entry['slug']}/install)")
    assert entry["version"] == version, entry
    assert entry["name"] == conf["name"].replace("{version}", version), entry
