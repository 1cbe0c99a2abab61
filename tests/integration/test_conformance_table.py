"""docs/API.md's conformance table is what the tests' @pytest.mark.conformance markers say
(tools/conformance-table writes it)."""

import subprocess
import sys

from conftest import REPO

TOOL = REPO / "tools" / "conformance-table"


def run(*args, cwd=REPO):
    return subprocess.run([sys.executable, str(TOOL), *args], cwd=cwd, capture_output=True, text=True, timeout=60)


def test_table_is_current():
    r = run("--check")
    assert r.returncode == 0, r.stderr + "\n(run tools/conformance-table and commit docs/API.md)"
    # Every marked test is a row: the parity suite has at least its own.
    assert int(r.stdout.split("(")[1].split()[0]) >= 15, r.stdout


def test_a_stale_or_malformed_table_is_found(tmp_path):
    # The tool on a copy of the repository's files, changed: a row edited by hand is stale,
    # a marker without its three strings is an error.
    copy = tmp_path / "repo"
    (copy / "tools").mkdir(parents=True)
    (copy / "docs").mkdir()
    (copy / "tests" / "integration").mkdir(parents=True)
    (copy / "tools" / "conformance-table").write_text(TOOL.read_text())
    doc = (REPO / "docs" / "API.md").read_text()
    tests = {p.name: p.read_text() for p in (REPO / "tests" / "integration").glob("test_api_*.py")}
    for name, text in tests.items():
        (copy / "tests" / "integration" / name).write_text(text)
    tool = [sys.executable, str(copy / "tools" / "conformance-table")]

    (copy / "docs" / "API.md").write_text(doc.replace("| `fields=*,bogus` |", "| `fields=*,bogus!` |"))
    r = subprocess.run([*tool, "--check"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "stale" in r.stderr, r
    assert subprocess.run(tool, capture_output=True, text=True, timeout=60).returncode == 0
    assert (copy / "docs" / "API.md").read_text() == doc  # rewritten as the tests say

    parity = copy / "tests" / "integration" / "test_api_parity.py"
    parity.write_text(tests["test_api_parity.py"].replace("    judge0='a batch',\n", "", 1))
    r = subprocess.run([*tool, "--check"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "has no judge0" in r.stderr, r
