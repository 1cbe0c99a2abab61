"""additional_files in `coderunner run` (--additional-files=ZIP, Judge0's additional_files)
and multi-file programs (language 89): the files a program needs next to its source, and
the zips that try to write outside the box, smuggle links, fill the disk or flood it with
entries. A hostile zip is rejected before anything runs: Internal Error (13), the message
naming the entry and the reason, nothing written outside."""

import os
import shutil
import struct
import threading
import time
import zipfile
from pathlib import Path

import pytest

from judge_helpers import (ACCEPTED, C, COMPILATION_ERROR, INTERNAL_ERROR, MIB, MULTI_FILE, PYTHON, assert_status,
                           judge, language_conf, make_zip, shorten, status_of, symlink_entry)


def judge_with_zip(tmp_path, source, lang, zip_path, *options, **kw):
    """Judge with the judge's work directory under tmp_path/work (TMPDIR), so that whatever
    escapes it lands where the test can look."""
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    env = dict(os.environ, TMPDIR=str(work))
    return judge(tmp_path, source, lang, f"--additional-files={zip_path}", *options, env=env, **kw)


def source_file_name(lang):
    found = language_conf(lang)
    return found[1].get("source") if found else None


# ---- files a program needs ----

def test_header_from_additional_files(tmp_path):
    zip_path = make_zip(tmp_path / "files.zip", [
        ("answer.h", "#define ANSWER 42\n"),
        ("include/deep/more.h", "#define MORE 1\n"),
    ])
    source = ('#include <stdio.h>\n#include "answer.h"\n#include "include/deep/more.h"\n'
              'int main(void) { printf("%d\\n", ANSWER + MORE); return 0; }\n')
    result, cp = judge_with_zip(tmp_path, source, C, zip_path, expected="43\n")
    assert_status(result, ACCEPTED, cp)


def test_data_file_and_module_from_additional_files(tmp_path):
    zip_path = make_zip(tmp_path / "files.zip", [
        ("helper.py", "def double(x):\n    return 2 * x\n"),
        ("data/input.txt", "21\n"),
    ])
    source = "import helper\nprint(helper.double(int(open('data/input.txt').read())))\n"
    result, cp = judge_with_zip(tmp_path, source, PYTHON, zip_path, expected="42\n")
    assert_status(result, ACCEPTED, cp)


def test_additional_files_cannot_replace_the_source(tmp_path):
    """Judge0 extracts with `unzip -n`: an entry named like the source file does not
    replace it. Rejecting the zip (13, naming the entry) is also safe; running the zip's
    version is not."""
    name = source_file_name(C) or "main.c"
    zip_path = make_zip(tmp_path / "files.zip",
                        [(name, '#include <stdio.h>\nint main(void) { puts("from the zip"); return 0; }\n')])
    source = '#include <stdio.h>\nint main(void) { puts("from the source"); return 0; }\n'
    result, cp = judge_with_zip(tmp_path, source, C, zip_path, expect_exit=None)
    if status_of(result) == INTERNAL_ERROR:
        assert name in (result["message"] or ""), shorten(result)
    else:
        assert_status(result, ACCEPTED, cp)
        assert result["stdout"] == "from the source\n", ("the zip replaced the source", shorten(result))


# ---- hostile zips ----

READ_EVIL = '#include <stdio.h>\nint main(void) { puts("ran"); return 0; }\n'


def escaped_files(tmp_path):
    """Files named evil* anywhere under tmp_path (the zips themselves are named otherwise)."""
    return [p for p in tmp_path.rglob("*") if p.name.startswith("evil")]


def assert_rejected(result, cp, entry):
    assert_status(result, INTERNAL_ERROR, cp, f"a zip with the entry {entry!r} must be rejected")
    assert entry in (result["message"] or ""), (f"the message names the entry {entry!r}", shorten(result))
    assert result["stdout"] is None, ("nothing ran", shorten(result))


@pytest.mark.parametrize("entry", ["../evil", "../../evil", "a/../../evil", "a/b/../../../../evil",
                                   "./../evil"])
def test_zip_entry_escaping_with_dotdot(tmp_path, entry):
    zip_path = make_zip(tmp_path / "hostile.zip", [("fine.h", "\n"), (entry, "escaped\n")])
    result, cp = judge_with_zip(tmp_path, READ_EVIL, C, zip_path, expect_exit=2)
    assert_rejected(result, cp, entry)
    assert escaped_files(tmp_path) == [], f"{entry!r} was written: {escaped_files(tmp_path)}"


def test_zip_entry_with_absolute_path(tmp_path):
    target = tmp_path / "evil-absolute"
    zip_path = make_zip(tmp_path / "hostile.zip", [(str(target), "escaped\n")])
    result, cp = judge_with_zip(tmp_path, READ_EVIL, C, zip_path, expect_exit=2)
    assert_rejected(result, cp, str(target).lstrip("/"))
    assert not target.exists(), "an absolute path in the zip was written on the host"
    assert escaped_files(tmp_path) == [], escaped_files(tmp_path)


def test_zip_symlink_entry(tmp_path):
    zip_path = make_zip(tmp_path / "hostile.zip", [symlink_entry("passwd", "/etc/passwd")])
    source = ('#include <stdio.h>\nint main(void) { FILE *f = fopen("passwd", "r"); char l[256];\n'
              '  if (f && fgets(l, sizeof l, f)) fputs(l, stdout); return 0; }\n')
    result, cp = judge_with_zip(tmp_path, source, C, zip_path, expect_exit=2)
    assert_rejected(result, cp, "passwd")
    assert "root:" not in (result["stdout"] or ""), result


def test_zip_symlink_then_write_through_it(tmp_path):
    """The classic: a link to a host directory, then a file under the link's name."""
    outside = tmp_path / "outside"
    outside.mkdir()
    zip_path = make_zip(tmp_path / "hostile.zip", [symlink_entry("d", str(outside)), ("d/evil", "escaped\n")])
    result, cp = judge_with_zip(tmp_path, READ_EVIL, C, zip_path, expect_exit=2)
    assert_status(result, INTERNAL_ERROR, cp, "a symlink entry")
    assert "d" in (result["message"] or ""), result
    assert list(outside.iterdir()) == [], "a file was written through the link"


def test_zip_special_file_entries(tmp_path):
    fifo = zipfile.ZipInfo("pipe")
    fifo.create_system = 3
    fifo.external_attr = (0o010644 << 16)  # S_IFIFO
    zip_path = make_zip(tmp_path / "hostile.zip", [(fifo, "")])
    result, cp = judge_with_zip(tmp_path, READ_EVIL, C, zip_path, expect_exit=2)
    assert_rejected(result, cp, "pipe")


def test_not_a_zip(tmp_path):
    zip_path = tmp_path / "garbage.zip"
    zip_path.write_bytes(b"PK\x03\x04 this is not really a zip" + os.urandom(200))
    result, cp = judge_with_zip(tmp_path, READ_EVIL, C, zip_path, expect_exit=2)
    assert_status(result, INTERNAL_ERROR, cp, "bytes that are not a zip")
    assert "additional_files" in (result["message"] or ""), result


def test_too_many_files(tmp_path):
    entries = [(f"f{i:05d}.h", "") for i in range(5000)]
    zip_path = make_zip(tmp_path / "many.zip", entries, compression=zipfile.ZIP_STORED)
    started = time.monotonic()
    result, cp = judge_with_zip(tmp_path, READ_EVIL, C, zip_path, expect_exit=2)
    assert_status(result, INTERNAL_ERROR, cp, "5000 entries")
    assert "additional_files" in (result["message"] or ""), result
    assert time.monotonic() - started < 20, "rejected quickly"


def _bomb(path, size, lie=False, entries=1):
    """A zip of `entries` files of zeros totalling `size` bytes. With lie, every header
    says each file is 1 KiB."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        chunk = bytes(1 << 20)
        each = size // entries
        for i in range(entries):
            info = zipfile.ZipInfo(f"zeros{i}.bin", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with z.open(info, "w", force_zip64=False) as f:
                left = each
                while left:
                    n = min(left, len(chunk))
                    f.write(chunk[:n])
                    left -= n
    if lie:
        data = bytearray(Path(path).read_bytes())
        # local headers: uncompressed size at +22; central directory entries: at +24
        for sig, off in ((b"PK\x03\x04", 22), (b"PK\x01\x02", 24)):
            pos = data.find(sig)
            while pos >= 0:
                struct.pack_into("<I", data, pos + off, 1024)
                pos = data.find(sig, pos + 4)
        Path(path).write_bytes(bytes(data))
    return Path(path)


class DiskWatch:
    """Samples, while a judgement runs, the bytes under a directory and the free space
    of its filesystem."""

    def __init__(self, directory):
        self.directory = directory
        self.max_bytes = 0
        self.min_free = shutil.disk_usage(directory).free
        self.start_free = self.min_free
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            total = 0
            for root, dirs, files in os.walk(self.directory):
                for name in files:
                    try:
                        total += os.lstat(os.path.join(root, name)).st_blocks * 512
                    except OSError:
                        pass
            self.max_bytes = max(self.max_bytes, total)
            self.min_free = min(self.min_free, shutil.disk_usage(self.directory).free)
            time.sleep(0.005)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


@pytest.mark.parametrize("kind", ["honest", "lying-sizes", "many-files"])
def test_zip_bomb(tmp_path, kind):
    size = 200 * 1024 * 1024
    zip_path = _bomb(tmp_path / "bomb.zip", size, lie=(kind == "lying-sizes"),
                     entries=200 if kind == "many-files" else 1)
    assert zip_path.stat().st_size < 2 * 1024 * 1024, "the bomb itself is small"
    work = tmp_path / "work"
    work.mkdir()
    started = time.monotonic()
    with DiskWatch(work) as watch:
        result, cp = judge_with_zip(tmp_path, READ_EVIL, C, zip_path, expect_exit=2)
    elapsed = time.monotonic() - started
    assert_status(result, INTERNAL_ERROR, cp, f"200 MiB of zeros ({kind})")
    assert "additional_files" in (result["message"] or ""), result
    assert elapsed < 20, f"rejected quickly: took {elapsed:.1f} s"
    # The judge may write up to its extraction cap (64 MiB) before it stops; never the bomb.
    assert watch.max_bytes < 100 * MIB * 1024, f"{watch.max_bytes} bytes written under the work directory"
    dropped = watch.start_free - watch.min_free
    assert dropped < 150 * MIB * 1024, f"free space dropped by {dropped} bytes while judging"


def test_large_but_legitimate_additional_files(tmp_path):
    """Under the caps: 8 MiB of data in 20 files is extracted and read."""
    entries = [(f"d/part{i:02d}.bin", bytes([i]) * (400 * 1024)) for i in range(20)]
    zip_path = make_zip(tmp_path / "data.zip", entries)
    source = ("import os\ntotal = sum(os.path.getsize('d/' + n) for n in os.listdir('d'))\n"
              "print(len(os.listdir('d')), total)\n")
    result, cp = judge_with_zip(tmp_path, source, PYTHON, zip_path, expected=f"20 {20 * 400 * 1024}\n")
    assert_status(result, ACCEPTED, cp)


# ---- multi-file programs (89) ----

MAIN_C = '#include <stdio.h>\nint twice(int);\nint main(int c, char **v) { (void) v; printf("%d %d\\n", twice(21), c - 1); return 0; }\n'
UTIL_C = "int twice(int x) { return 2 * x; }\n"


def test_multi_file_program(tmp_path):
    zip_path = make_zip(tmp_path / "program.zip", [
        ("compile", "gcc -O2 -o prog main.c util.c\n"),
        ("run", './prog "$@"\n'),
        ("main.c", MAIN_C),
        ("util.c", UTIL_C),
    ])
    result, cp = judge(tmp_path, zip_path.read_bytes(), MULTI_FILE, "--args=x y", expected="42 2\n")
    assert_status(result, ACCEPTED, cp)
    assert result["compiled"] is True, result
    assert result["language"]["id"] == MULTI_FILE, result


def test_multi_file_program_without_compile_script(tmp_path):
    zip_path = make_zip(tmp_path / "program.zip", [
        ("run.sh", "python3 main.py\n"),
        ("main.py", "import util\nprint(util.VALUE)\n"),
        ("util.py", "VALUE = 'hello'\n"),
    ])
    result, cp = judge(tmp_path, zip_path.read_bytes(), MULTI_FILE, expected="hello\n")
    assert_status(result, ACCEPTED, cp)


def test_multi_file_program_without_run_script(tmp_path):
    zip_path = make_zip(tmp_path / "program.zip", [
        ("compile", "gcc -o prog main.c util.c\n"),
        ("main.c", MAIN_C),
        ("util.c", UTIL_C),
    ])
    result, cp = judge(tmp_path, zip_path.read_bytes(), MULTI_FILE, expect_exit=2)
    assert_status(result, INTERNAL_ERROR, cp, "a multi-file program needs a run script")
    assert "run" in (result["message"] or ""), result


def test_multi_file_program_compile_script_fails(tmp_path):
    zip_path = make_zip(tmp_path / "program.zip", [
        ("compile", "gcc -o prog main.c\n"),  # util.c missing: a link error
        ("run", "./prog\n"),
        ("main.c", MAIN_C),
    ])
    result, cp = judge(tmp_path, zip_path.read_bytes(), MULTI_FILE)
    assert_status(result, COMPILATION_ERROR, cp)
    assert "twice" in (result["compile_output"] or ""), result


def test_multi_file_program_hostile_zip(tmp_path):
    zip_path = make_zip(tmp_path / "program.zip", [("run", "cat ../evil\n"), ("../evil", "x")])
    work = tmp_path / "work"
    work.mkdir()
    result, cp = judge(tmp_path, zip_path.read_bytes(), MULTI_FILE, expect_exit=2,
                       env=dict(os.environ, TMPDIR=str(work)))
    assert_rejected(result, cp, "../evil")
    assert escaped_files(tmp_path) == [], escaped_files(tmp_path)
