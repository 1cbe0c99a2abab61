"""The sandbox on a pure cgroup v2 host, for real: a qemu guest (tests/vm/vm.py) runs the
focused suites of tests/vm/guest.py against this build, as root under a service's cgroup
and rootless from a delegated scope, and the verdict cases of tests/vm/cases.py, which
are also run here, on this host's cgroups, and compared row by row.

One boot serves every test of the module (about 5-8 minutes under TCG on 2 cores; see
the README). Skipped, with the reason, where qemu cannot run."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))

import cases  # noqa: E402
import vm  # noqa: E402

BUILD = Path(os.environ.get("CODERUNNER_BUILD", REPO / "build")).resolve()
GUEST_TIMEOUT = 30 * 60


@pytest.fixture(scope="module")
def guest():
    """Boot once; yields the directory the guest wrote its results to."""
    reason = vm.why_not()
    if reason:
        pytest.skip(reason)
    if not (BUILD / "coderunner").exists():
        pytest.fail(f"not built: {BUILD / 'coderunner'} (make build)")
    if BUILD != REPO / "build" and REPO not in BUILD.parents:
        pytest.fail(f"the guest sees the host's files at their paths, but runs {REPO}/build: "
                    f"CODERUNNER_BUILD={BUILD} is not it")
    out = Path(tempfile.mkdtemp(prefix="coderunner-vm-"))
    try:
        start = time.monotonic()
        try:
            rc = vm.boot(f"{sys.executable} {HERE / 'guest.py'}", out, log_path=out / "console.log",
                         timeout=GUEST_TIMEOUT)
        except vm.Unavailable as e:
            pytest.skip(str(e))
        print(f"\nguest: booted, ran and powered off in {time.monotonic() - start:.0f} s", flush=True)
        assert rc == 0, (out / "console.log").read_text(errors="replace")[-4000:]
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)


def junit(path):
    """(passed, skipped, [failed test ids with their message]) of a JUnit file."""
    root = ET.parse(path).getroot()
    passed, skipped, failed = 0, 0, []
    for case in root.iter("testcase"):
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}: {(bad.get('message') or '')[:400]}")
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, skipped, failed


def check_stage(guest, name, at_least):
    xml = guest / f"{name}.xml"
    log = (guest / f"{name}.log").read_text(errors="replace") if (guest / f"{name}.log").exists() else ""
    assert xml.exists(), f"the guest's {name} stage left no results:\n{log[-4000:]}"
    passed, skipped, failed = junit(xml)
    print(f"\nguest {name}: {passed} passed, {skipped} skipped, {len(failed)} failed", flush=True)
    assert not failed, "\n".join(failed) + "\n\n" + log[-6000:]
    assert passed >= at_least, f"only {passed} tests passed in the guest's {name} stage:\n{log[-4000:]}"


def test_guest_is_a_pure_v2_host(guest):
    info = json.loads((guest / "guest.json").read_text())
    assert not info["v1_mounted"], info
    assert {"cpu", "memory", "pids", "io"} <= set(info["controllers"]), info


def test_root_suite_passes_in_the_guest(guest):
    check_stage(guest, "root", at_least=60)


def test_judge_suite_passes_in_the_guest(guest):
    check_stage(guest, "judge", at_least=20)


def test_rootless_suite_passes_in_the_guest(guest):
    """Rootless from a delegated scope: the v2 tests' rootless half must have run (not
    skipped), so the delegation really worked."""
    check_stage(guest, "rootless", at_least=12)


def test_same_verdicts_here_and_in_the_guest(guest):
    if os.geteuid() != 0:
        pytest.skip("the sandbox needs root on this host to run the cases here")
    theirs = json.loads((guest / "verdicts.json").read_text())
    ours = cases.run_all()
    print("\n" + cases.table(ours, theirs, "this host", "v2 guest"), flush=True)
    assert theirs["box_info"].startswith("cgroups: memory v2, pids v2, cpu v2"), theirs["box_info"]
    different = [name for name in cases.CASES
                 if any(ours["cases"][name][k] != theirs["cases"].get(name, {}).get(k) for k in cases.COMPARED)]
    assert not different, f"verdicts differ: {different}"
