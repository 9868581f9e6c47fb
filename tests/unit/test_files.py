"""engine.files: atomic file writes and the folder replacement that a reader never finds missing."""
import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from engine import files
from tests.unit.dying import PREAMBLE

REPO_ROOT = Path(__file__).resolve().parents[2]


def boom(*args, **kwargs):
    raise OSError(28, "No space left on device (simulated)")


def make_folder(path, text):
    path.mkdir(parents=True)
    (path / "a.txt").write_text(text)
    (path / "b.txt").write_text(text * 2)
    return path


def content(path):
    """The folder's text, checking that it is whole (both files there and agreeing)."""
    a, b = (path / "a.txt").read_text(), (path / "b.txt").read_text()
    assert b == a * 2, f"{path} is half written"
    return a


def names(folder):
    return sorted(p.name for p in folder.iterdir())


# ---- files ------------------------------------------------------------------------------------------------


def test_write_bytes_atomic_writes_a_shared_file(tmp_path):
    path = tmp_path / "deep" / "x.bin"
    files.write_bytes_atomic(path, b"\x00\x01")
    files.write_bytes_atomic(path, b"\x02")
    assert path.read_bytes() == b"\x02"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert names(path.parent) == ["x.bin"]


def test_write_json_atomic_leaves_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "json" / "x.json"
    files.write_json_atomic(path, {"b": 1, "a": [1, 2]})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}
    assert path.read_text().index('"a"') < path.read_text().index('"b"')        # sorted keys: stable diffs
    with monkeypatch.context() as m, pytest.raises(OSError, match="simulated"):
        m.setattr(files.os, "replace", boom)
        files.write_json_atomic(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": [1, 2], "b": 1}
    assert names(path.parent) == ["x.json"]


# ---- folders ----------------------------------------------------------------------------------------------


def test_replace_dir_into_a_new_place(tmp_path):
    final = tmp_path / "final"
    files.replace_dir(make_folder(tmp_path / "tmp", "new"), final)
    assert content(final) == "new" and names(tmp_path) == ["final"]
    assert files.copies(final) == [final]


def test_replace_dir_over_an_old_folder(tmp_path):
    final = make_folder(tmp_path / "final", "old")
    seen = []
    files.replace_dir(make_folder(tmp_path / "tmp", "new"), final,
                      commit=lambda: seen.append((content(final), content(files.aside(final)))))
    assert seen == [("new", "old")]                   # the old folder is kept until commit has run
    assert content(final) == "new" and names(tmp_path) == ["final"]


def test_stale_aside_folder_is_deleted_first(tmp_path):
    final = make_folder(tmp_path / "final", "current")
    make_folder(files.aside(final), "stale")
    assert files.copies(final) == [final, files.aside(final)]
    files.replace_dir(make_folder(tmp_path / "tmp", "new"), final)
    assert content(final) == "new" and names(tmp_path) == ["final"]


def test_lone_aside_folder_is_kept_until_the_new_one_is_in(tmp_path):
    final = tmp_path / "final"
    make_folder(files.aside(final), "only copy")
    assert files.copies(final) == [files.aside(final)]
    seen = []
    files.replace_dir(make_folder(tmp_path / "tmp", "new"), final,
                      commit=lambda: seen.append((content(final), content(files.aside(final)))))
    assert seen == [("new", "only copy")]
    assert content(final) == "new" and names(tmp_path) == ["final"]


def test_failed_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    final = make_folder(tmp_path / "final", "old")
    real_replace = os.replace
    calls = []

    def second_fails(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError("rename failed (simulated)")
        return real_replace(src, dst)

    with monkeypatch.context() as m, pytest.raises(OSError, match="simulated"):
        m.setattr(files.os, "replace", second_fails)
        files.replace_dir(make_folder(tmp_path / "tmp", "new"), final)
    assert len(calls) == 3 and content(final) == "old" and not files.aside(final).exists()


def test_failed_commit_keeps_both_folders(tmp_path):
    final = make_folder(tmp_path / "final", "old")
    with pytest.raises(OSError, match="simulated"):
        files.replace_dir(make_folder(tmp_path / "tmp", "new"), final, commit=boom)
    assert [content(p) for p in files.copies(final)] == ["new", "old"]


# A writer that SIGKILLs itself at its kill_at-th rename or delete (0: never), in place of making that call.
WRITER = PREAMBLE + """
from engine import files

tmp, final, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
files.replace_dir(tmp, final, commit=lambda: (final.parent / "committed").touch())
"""


def run_writer(tmp, final, kill_at):
    done = subprocess.run([sys.executable, "-c", WRITER, str(tmp), str(final), str(kill_at)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode in (0, -signal.SIGKILL), done.stderr
    return done.returncode == -signal.SIGKILL


# (leftover from an earlier writer, the steps it takes: renames and deletes, the commit between the last two)
SCENARIOS = {"over an old folder": (None, 3), "over nothing": ("nothing", 2),
             "with a stale aside copy": ("stale", 4), "with a lone aside copy": ("lone", 2)}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_reader_finds_a_whole_folder_whenever_the_writer_dies(tmp_path, scenario):
    leftover, steps = SCENARIOS[scenario]
    for kill_at in range(1, steps + 2):
        root = tmp_path / str(kill_at)
        final = root / "final"
        if leftover in (None, "stale"):
            make_folder(final, "old")
        if leftover == "stale":
            make_folder(files.aside(final), "stale")
        if leftover == "lone":
            make_folder(files.aside(final), "old")
        killed = run_writer(make_folder(root / "tmp", "new"), final, kill_at)
        assert killed == (kill_at <= steps)
        found = files.copies(final)
        if leftover == "nothing" and kill_at <= 1:
            assert found == []                             # nothing was there before the rename either
        else:
            assert found and content(found[0]) in ("old", "new"), kill_at
        if (root / "committed").exists():
            assert content(found[0]) == "new"              # what commit records is what a reader finds
        # The next writer recovers whatever was left and leaves no aside copy.
        run_writer(make_folder(root / "tmp2", "newer"), final, 0)
        assert content(final) == "newer" and files.copies(final) == [final]
