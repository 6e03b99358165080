"""Saving respects the file system: names, links, special files, permissions, OS errors."""

from __future__ import annotations

import errno
import os
import pickle
import stat
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import anynn as nn
from anynn import files

POSIX = os.name == "posix"


def small_net(seed: int = 1) -> nn.Network:
    return nn.Network(2, [(3, True, "tanh"), (1, True, "sigmoid")], seed=seed)


def same_weights(a: nn.Network, b: nn.Network) -> bool:
    return all(
        np.array_equal(x.host_parameters()[k], y.host_parameters()[k])
        for x, y in zip(a.layers, b.layers, strict=True) for k in x.host_parameters()
    )


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("length", [238, 250, 255])
def test_every_name_open_accepts_saves(tmp_path: Path, length: int) -> None:
    path = tmp_path / ("m" * (length - 6) + ".anynn")
    assert len(path.name) == length
    small_net().save(path)
    assert same_weights(nn.load(path), small_net())
    small_net(2).save(path)  # and replaces itself
    assert entries(tmp_path) == [path.name]


@pytest.mark.skipif(not POSIX, reason="PATH_MAX is a POSIX limit")
@pytest.mark.parametrize("name_length", [255, 7])
def test_a_path_near_path_max_saves(tmp_path: Path, name_length: int) -> None:
    path_max = os.pathconf(tmp_path, "PC_PATH_MAX")
    folder_length = path_max - 2 - name_length - 1  # room for the NUL, a slack byte, a "/"
    folder = tmp_path
    while len(os.fsencode(folder)) < folder_length:
        left = folder_length - len(os.fsencode(folder)) - 1
        folder = folder / ("d" * min(200, max(left, 1)))
    folder.mkdir(parents=True)
    path = folder / ("m" * name_length)
    # within a few bytes of PATH_MAX: the folder plus any longer name would not open
    assert path_max - 4 <= len(os.fsencode(path)) < path_max
    with open(path, "wb"):
        pass  # open() accepts it: so must save
    small_net().save(path)
    assert same_weights(nn.load(path), small_net())
    assert entries(folder) == [path.name]


@pytest.mark.skipif(not POSIX, reason="symbolic links")
def test_a_symlink_is_followed_and_its_target_replaced(tmp_path: Path) -> None:
    target = tmp_path / "run1.anynn"
    small_net(1).save(target)
    link = tmp_path / "latest.anynn"
    link.symlink_to(target.name)
    small_net(2).save(link)
    assert link.is_symlink() and os.readlink(link) == target.name
    assert same_weights(nn.load(target), small_net(2))
    dangling = tmp_path / "next.anynn"
    dangling.symlink_to("created.anynn")  # a link to a file not yet there creates it
    small_net(3).save(dangling)
    assert dangling.is_symlink() and same_weights(nn.load(tmp_path / "created.anynn"),
                                                  small_net(3))
    assert entries(tmp_path) == ["created.anynn", "latest.anynn", "next.anynn", "run1.anynn"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs")
def test_special_files_are_refused_and_left_alone(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.anynn"
    os.mkfifo(fifo)
    with pytest.raises(nn.AnynnValueError, match=r"pipe\.anynn.*not a regular file \(a FIFO\)"):
        small_net().save(fifo)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    link = tmp_path / "to_pipe.anynn"
    link.symlink_to(fifo)
    with pytest.raises(nn.AnynnValueError, match="FIFO"):
        small_net().save(link)
    assert entries(tmp_path) == ["pipe.anynn", "to_pipe.anynn"]


def test_a_directory_or_empty_path_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models").mkdir()
    parent_before = entries(tmp_path.parent)
    with pytest.raises(nn.AnynnValueError, match=r"'models' is a directory"):
        small_net().save("models")
    with pytest.raises(nn.AnynnValueError, match=r"must name a file.*not a folder"):
        small_net().save("models/")
    with pytest.raises(nn.AnynnValueError, match="empty path"):
        small_net().save("")
    assert entries(tmp_path) == ["models"] and entries(tmp_path / "models") == []
    assert entries(tmp_path.parent) == parent_before  # no temporary put beside the folder


@pytest.mark.skipif(not POSIX, reason="POSIX permission bits")
def test_permission_bits_are_kept_and_new_files_follow_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "private.anynn"
    small_net(1).save(path)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~umask
    os.chmod(path, 0o600)
    small_net(2).save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert same_weights(nn.load(path), small_net(2))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES])
def test_os_failures_are_a_clear_oserror_naming_the_users_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    path = tmp_path / "m.anynn"
    small_net(1).save(path)

    def failing_write(file: Any, data: bytes) -> None:
        file.write(data[:10])
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(files, "_write_payload", failing_write)
    with pytest.raises(nn.FileWriteError) as caught:
        small_net(2).save(path)
    error = caught.value
    assert isinstance(error, OSError) and isinstance(error, nn.AnynnError)
    assert error.errno == code and error.filename == str(path)
    assert str(error) == f"cannot save {str(path)!r}: {os.strerror(code)}"
    assert ".tmp" not in str(error)
    assert entries(tmp_path) == ["m.anynn"]  # no temporary left behind
    assert same_weights(nn.load(path), small_net(1))  # the previous file is intact


@pytest.mark.skipif(not POSIX or os.geteuid() == 0, reason="root ignores permission bits")
def test_a_read_only_folder_is_a_clear_oserror(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    small_net(1).save(folder / "m.anynn")
    folder.chmod(0o500)
    try:
        with pytest.raises(nn.FileWriteError, match=r"cannot save .*m\.anynn.*ermission"):
            small_net(2).save(folder / "m.anynn")
    finally:
        folder.chmod(0o700)
    assert entries(folder) == ["m.anynn"]
    assert same_weights(nn.load(folder / "m.anynn"), small_net(1))


def test_failure_creating_the_temporary_file_names_the_users_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = os.open

    def refusing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", refusing_open)
    with pytest.raises(nn.FileWriteError, match=r"cannot save .*m\.anynn': Permission denied$"):
        small_net().save(tmp_path / "m.anynn")
    assert entries(tmp_path) == []


def test_history_plot_into_a_missing_folder_is_the_same_error_as_save(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    net = small_net()
    history = net.fit(np.zeros((4, 2)), np.zeros((4, 1)), epochs=1, verbose=0)
    missing = tmp_path / "no" / "such" / "c.png"
    with pytest.raises(nn.AnynnValueError, match=r"folder .*no.*such.* does not exist") as plot:
        history.plot(missing)
    with pytest.raises(nn.AnynnValueError) as save:
        net.save(missing)
    assert str(plot.value) == str(save.value)
    written = history.plot(tmp_path / "c.png")
    assert written.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pickling_needs_no_temporary_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", "/nonexistent/anynn-no-tmp")
    net = small_net()
    assert same_weights(pickle.loads(pickle.dumps(net)), net)
