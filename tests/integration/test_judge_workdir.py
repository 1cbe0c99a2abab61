"""The judge's work directories on the host (`coderunner run`, TMPDIR pointing the work
base into the test's directory): private to the service, bounded per run, emptied at any
depth, and what dead instances left is reclaimed at the next start."""

import fcntl
import os
import stat
import zipfile

from judge_helpers import ACCEPTED, INTERNAL_ERROR, MULTI_FILE, PYTHON, assert_status, judge

DEEP_PY = """
import os
os.makedirs("/".join(["d"] * {depth}))
open("/".join(["d"] * {depth}) + "/bottom", "w").write("x")
os.chmod("d/d", 0)
print("made")
"""


def work_env(tmp_path):
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return work, dict(os.environ, TMPDIR=str(work))


def base_of(work):
    return work / f"coderunner-{os.geteuid()}"


def leftovers(work):
    """Everything under the work directory but the base and its lock file."""
    found = []
    for root, dirs, files in os.walk(work):
        found += [os.path.join(root, n) for n in dirs + files
                  if n != ".lock" and os.path.join(root, n) != str(base_of(work))]
    return found


def test_deep_tree_left_by_a_program_is_removed(tmp_path):
    work, env = work_env(tmp_path)
    result, cp = judge(tmp_path, DEEP_PY.format(depth=300), PYTHON, expected="made\n", env=env)
    assert_status(result, ACCEPTED, cp)
    assert leftovers(work) == []


def test_deep_tree_of_several_runs_is_removed(tmp_path):
    """Each run works in a copy of the compiled directory; every copy goes."""
    work, env = work_env(tmp_path)
    tests = {f"t{i}": ("", "made\n") for i in range(3)}
    result, cp = judge(tmp_path, DEEP_PY.format(depth=200), PYTHON, env=env, tests=tests)
    assert_status(result, ACCEPTED, cp)
    assert leftovers(work) == []


def test_deep_zip_without_running_anything_is_removed(tmp_path):
    """A multi-file program whose zip nests deep and has no run script: rejected before
    anything runs, and what was extracted is gone."""
    work, env = work_env(tmp_path)
    zip_path = tmp_path / "deep.zip"
    with zipfile.ZipFile(zip_path, "w") as z:
        z.writestr("/".join(["d"] * 120) + "/f", "x")
    result, cp = judge(tmp_path, zip_path.read_bytes(), MULTI_FILE, expect_exit=2, env=env)
    assert_status(result, INTERNAL_ERROR, cp, "no run script")
    assert leftovers(work) == []


def test_stale_directories_of_dead_instances_are_reclaimed(tmp_path):
    work, env = work_env(tmp_path)
    base = base_of(work)
    base.mkdir(mode=0o700)
    # What a killed instance left: deep, with an unwritable directory.
    stale = base / "judge-stale1"
    deep = stale / "/".join(["d"] * 100)
    deep.mkdir(parents=True)
    (deep / "f").write_text("x")
    (stale / "d").chmod(0)
    # A live instance's directory: it holds its lock, so it stays.
    live = base / "judge-live01"
    live.mkdir()
    (live / "run-1").mkdir()
    fd = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result, cp = judge(tmp_path, "print('ok')\n", PYTHON, expected="ok\n", env=env)
        assert_status(result, ACCEPTED, cp)
        assert not stale.exists()
        assert (live / "run-1").is_dir()
    finally:
        os.close(fd)
    # Once its holder is gone, the next start reclaims it too.
    result, cp = judge(tmp_path, "print('ok')\n", PYTHON, expected="ok\n", env=env)
    assert_status(result, ACCEPTED, cp)
    assert leftovers(work) == []


def test_work_base_is_private(tmp_path):
    """The base is 0700 whatever it was; each run's /box lives on a tmpfs of the Judge's
    own: nosuid, nodev, bounded in size and inodes."""
    work, env = work_env(tmp_path)
    base = base_of(work)
    base.mkdir(mode=0o755)
    base.chmod(0o755)
    source = ("for line in open('/proc/self/mountinfo'):\n"
              "    f = line.split()\n"
              "    if f[4] == '/box':\n"
              "        sep = f.index('-')\n"
              "        print(f[5], f[sep + 1], f[sep + 3])\n")
    result, cp = judge(tmp_path, source, PYTHON, env=env)
    assert_status(result, ACCEPTED, cp)
    opts, fstype, super_opts = result["stdout"].split()
    assert "nosuid" in opts.split(",") and "nodev" in opts.split(","), result["stdout"]
    assert fstype == "tmpfs", result["stdout"]
    assert "size=524288k" in super_opts and "nr_inodes=32768" in super_opts, result["stdout"]
    assert stat.S_IMODE(base.stat().st_mode) == 0o700


def test_planted_work_base_is_refused(tmp_path):
    """A base owned by someone else (planted in a shared /tmp by another local user) is
    never used."""
    work, env = work_env(tmp_path)
    base = base_of(work)
    base.mkdir(mode=0o777)
    os.chown(base, 65534, 65534)
    cp = judge(tmp_path, "print('ok')\n", PYTHON, env=env, expect_exit=None, check=False)[1]
    assert cp.returncode != 0, cp
    assert b"judge" in cp.stderr and b"not permitted" in cp.stderr, cp.stderr
    assert os.listdir(base) == []


def test_inodes_of_a_run_are_bounded(tmp_path):
    """A run cannot make more files than its tmpfs has inodes."""
    work, env = work_env(tmp_path)
    source = ("import os\nn = 0\ntry:\n    while n < 100000:\n"
              "        open(f'f{n}', 'w').close()\n        n += 1\n"
              "except OSError as e:\n    print(n, e.errno)\n")
    result, cp = judge(tmp_path, source, PYTHON, env=env)
    assert_status(result, ACCEPTED, cp)
    made, errno_ = map(int, result["stdout"].split())
    assert made < 32768 and errno_ == 28, result["stdout"]  # ENOSPC
    assert leftovers(work) == []


def test_sparse_files_of_a_compile_step_stay_sparse(tmp_path):
    """A compile step that makes a few large sparse files (800 MiB apparent, nothing
    real): each run's copy of the compiled directory, and the cache's, keep the holes;
    written out in full they would not even fit the Judge's 512 MiB tmpfs."""
    work, env = work_env(tmp_path)
    zip_path = tmp_path / "program.zip"
    with zipfile.ZipFile(zip_path, "w") as z:
        z.writestr("compile", "for i in 1 2 3 4; do truncate -s 200M big$i; done\n")
        z.writestr("run", "du -k big1 big2 big3 big4 | awk '{s += $1} END {print s < 1024}'\n")
    tests = {f"t{i}": ("", "1\n") for i in range(3)}
    cache = tmp_path / "cache"
    for _ in range(2):  # a compile, then a cache hit
        result, cp = judge(tmp_path, zip_path.read_bytes(), MULTI_FILE, env=env, tests=tests, cache=cache)
        assert_status(result, ACCEPTED, cp)
    assert result["cache_hit"] is True, result
    assert leftovers(work) == []


def test_compiled_tree_too_deep_to_copy_is_refused(tmp_path):
    """What cannot be copied within the bounds (here: nesting deeper than the copy goes)
    is answered 13 with the reason, and removed."""
    work, env = work_env(tmp_path)
    zip_path = tmp_path / "program.zip"
    with zipfile.ZipFile(zip_path, "w") as z:
        z.writestr("compile", "mkdir -p " + "/".join(["d"] * 100) + "\n")
        z.writestr("run", "echo ran\n")
    tests = {f"t{i}": ("", "ran\n") for i in range(2)}
    result, cp = judge(tmp_path, zip_path.read_bytes(), MULTI_FILE, env=env, tests=tests, expect_exit=None)
    assert_status(result, INTERNAL_ERROR, cp, "too deep to copy")
    assert "nest too deep" in (result["message"] or ""), result
    assert leftovers(work) == []


def test_compile_cache_entries_are_capped(tmp_path):
    """A compilation bigger than a cache entry may be (64 MiB) is used but not kept; a
    small one is kept."""
    work, env = work_env(tmp_path)
    cache = tmp_path / "cache"
    for size_mib, kept in ((1, True), (70, False)):
        zip_path = tmp_path / f"program-{size_mib}.zip"
        with zipfile.ZipFile(zip_path, "w") as z:
            z.writestr("compile", f"head -c {size_mib}M /dev/zero > blob\n")
            z.writestr("run", "wc -c < blob\n")
        expected = f"{size_mib * 1024 * 1024}\n"
        for _ in range(2):  # a compile, then a hit when it was kept
            result, cp = judge(tmp_path, zip_path.read_bytes(), MULTI_FILE, env=env, cache=cache,
                               expected=expected)
            assert_status(result, ACCEPTED, cp)
        assert result["cache_hit"] is kept, (size_mib, result)
    assert leftovers(work) == []
