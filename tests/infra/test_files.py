"""Atomic writes that happen only when the content changes."""
import os

import pytest

from infra.ensure.files import ensure_file, ensure_private_dir, remove_path


def test_ensure_file_created_unchanged_updated(tmp_path):
    path = tmp_path / "sub" / "a.txt"

    assert ensure_file(path, b"one") == "created"
    stamp = path.stat().st_mtime_ns
    assert ensure_file(path, b"one") == "unchanged"
    assert path.stat().st_mtime_ns == stamp  # not even rewritten
    assert ensure_file(path, b"two") == "updated"

    assert path.read_bytes() == b"two"
    assert path.stat().st_mode & 0o777 == 0o600


def test_ensure_file_repairs_a_loosened_mode(tmp_path):
    path = tmp_path / "secret"
    ensure_file(path, b"x")
    path.chmod(0o644)

    assert ensure_file(path, b"x") == "updated"
    assert path.stat().st_mode & 0o777 == 0o600


def test_failed_write_keeps_the_old_content_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "a.json"
    ensure_file(path, b"old")

    def crash(*_args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        ensure_file(path, b"new")

    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_private_dir(tmp_path):
    path = tmp_path / "keys"

    assert ensure_private_dir(path) == "created"
    assert path.stat().st_mode & 0o777 == 0o700
    assert ensure_private_dir(path) == "unchanged"
    path.chmod(0o755)
    assert ensure_private_dir(path) == "updated"
    assert path.stat().st_mode & 0o777 == 0o700


def test_remove_path(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("x")

    assert remove_path(tmp_path / "d") == "deleted"
    assert remove_path(tmp_path / "d") == "absent"
    assert not (tmp_path / "d").exists()


def test_create_exclusive_never_replaces_what_is_there(tmp_path):
    from infra.ensure.files import create_exclusive

    path = tmp_path / "fleet.key"

    assert create_exclusive(path, b"first") is True
    assert create_exclusive(path, b"second") is False

    assert path.read_bytes() == b"first"
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["fleet.key"]  # no temporary file left behind
