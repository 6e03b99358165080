"""Writing a user's file: destination checks, then an atomic replacement.

Every file anynn writes (model files, history plots) goes through :func:`write_atomic`,
with these semantics:

- The destination is checked before any work: a str or ``os.PathLike`` naming a file in
  an existing folder. A path that names an existing directory, FIFO, device node or
  socket is refused (:class:`~anynn.errors.AnynnValueError`): only regular files are
  ever replaced.
- A symbolic link is followed: its target is replaced atomically and the link stays (as
  ``numpy.save`` and ``torch.save`` write through links).
- An existing file keeps its permission bits (and, where the process may, its owner); a
  new file gets the usual ``0o666`` less the umask.
- The bytes go to a hidden temporary file of a short fixed-length name in the
  destination's folder, which is flushed, fsynced and renamed over the destination; the
  folder is then fsynced where the OS allows. A reader sees the old file or the new one,
  never a partial one. Operations are relative to the opened folder, so every name
  ``open()`` accepts (up to ``NAME_MAX``, paths near ``PATH_MAX``) can be saved.
- When the OS refuses (read-only or full file system, permissions), the error is a
  :class:`~anynn.errors.FileWriteError` (an ``OSError``) naming the user's path with the
  OS's reason and ``errno``; the previous file is intact and no temporary file is left.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from typing import IO, Any

from .errors import AnynnTypeError, AnynnValueError, FileWriteError

TEMP_PREFIX_CHARS = 32
"""How much of the destination's name the temporary file's name repeats (at most 4
bytes a character in UTF-8, so the temporary name stays far below ``NAME_MAX``)."""

_RELATIVE = all(f in os.supports_dir_fd for f in (os.open, os.stat, os.rename, os.unlink))
"""Whether this OS resolves names relative to an open folder (POSIX; not Windows).
``os.replace`` is not listed in ``supports_dir_fd`` but is ``renameat`` like ``rename``."""


def _write_payload(file: IO[bytes], data: bytes) -> None:
    """Write all of ``data`` (a seam for tests that interrupt a save)."""
    file.write(data)


def check_destination(path: Any, name: str = "path") -> str:
    """The file that writing ``path`` replaces, checked before any work.

    Returns ``path`` as a str, or the target of a symbolic link (followed to the end).

    Raises
    ------
    AnynnTypeError
        If ``path`` is not a str or os.PathLike.
    AnynnValueError
        If ``path`` is empty, ends with a separator, its folder does not exist, or it
        names an existing directory or other non-regular file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise AnynnTypeError(f"{name} must be a str or os.PathLike; got {type(path).__name__}")
    given = os.fspath(path)
    if not isinstance(given, str):
        raise AnynnTypeError(f"{name} must be a text path; got {type(given).__name__}")
    if not given:
        raise AnynnValueError(f"{name} must name a file; got an empty path ''")
    target = os.path.realpath(given) if os.path.islink(given) else given
    folder, base = os.path.split(target)
    if base in ("", ".", ".."):
        raise AnynnValueError(f"{name} must name a file, not a folder; got {given!r}")
    if not os.path.isdir(folder or os.curdir):
        raise AnynnValueError(
            f"{name}: the folder {os.path.abspath(folder or os.curdir)!r} does not exist; "
            f"create it before saving {given!r}"
        )
    try:
        mode = os.stat(target).st_mode
    except OSError:
        return target  # nothing there yet (or unreadable: the write reports it)
    if stat.S_ISDIR(mode):
        raise AnynnValueError(f"{name} {given!r} is a directory; give a file name inside it")
    if not stat.S_ISREG(mode):
        raise AnynnValueError(
            f"{name} {given!r} exists and is not a regular file (a {_kind(mode)}); anynn "
            "replaces only regular files"
        )
    return target


def _kind(mode: int) -> str:
    for test, kind in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return kind
    return "special file"


def write_atomic(path: Any, data: bytes, name: str = "path") -> None:
    """Replace the file at ``path`` by one holding ``data`` (see the module docstring).

    Raises
    ------
    AnynnTypeError, AnynnValueError
        If ``path`` is refused by :func:`check_destination`; nothing is written.
    FileWriteError
        If the OS fails the write; ``path`` is untouched and no temporary file remains.
    """
    target = check_destination(path, name)
    given = os.fspath(path)
    folder, base = os.path.split(target)
    folder = folder or os.curdir
    temp = f".{base[:TEMP_PREFIX_CHARS]}.{secrets.token_hex(6)}.tmp"
    try:
        folder_fd = _open_folder(folder) if _RELATIVE else None
    except OSError as exc:
        raise _failure(given, exc) from exc
    try:
        _replace(folder, folder_fd, base, temp, data, given)
    finally:
        if folder_fd is not None:
            os.close(folder_fd)


def _replace(folder: str, folder_fd: int | None, base: str, temp: str, data: bytes,
             given: str) -> None:
    """Write ``temp`` in the folder, then rename it over ``base``."""
    def where(entry: str) -> str:
        return entry if folder_fd is not None else os.path.join(folder, entry)

    try:
        previous = os.stat(where(base), dir_fd=folder_fd)
    except FileNotFoundError:
        previous = None
    except OSError as exc:
        raise _failure(given, exc) from exc
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(where(temp), flags, 0o666, dir_fd=folder_fd)
    except OSError as exc:
        raise _failure(given, exc) from exc
    try:
        with os.fdopen(fd, "wb") as file:
            if previous is not None:
                _keep_mode_and_owner(file.fileno(), previous)
            _write_payload(file, data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(where(temp), where(base), src_dir_fd=folder_fd, dst_dir_fd=folder_fd)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(where(temp), dir_fd=folder_fd)
        if isinstance(exc, OSError):
            raise _failure(given, exc) from exc
        raise
    if folder_fd is not None:
        with contextlib.suppress(OSError):
            os.fsync(folder_fd)


def _keep_mode_and_owner(fd: int, previous: os.stat_result) -> None:
    """Give the new file the replaced file's permission bits (and owner, if allowed)."""
    if hasattr(os, "fchown") and (previous.st_uid, previous.st_gid) != (
        os.geteuid(), os.getegid()
    ):
        with contextlib.suppress(OSError):  # only a privileged process may give files away
            os.fchown(fd, previous.st_uid, previous.st_gid)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(previous.st_mode))


def _open_folder(folder: str) -> int:
    """A descriptor of ``folder`` to resolve names against (read access not required)."""
    try:
        return os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except PermissionError:
        if not hasattr(os, "O_PATH"):
            raise
        return os.open(folder, os.O_PATH | os.O_DIRECTORY)


def _failure(given: str, exc: OSError) -> FileWriteError:
    reason = exc.strerror or str(exc)
    return FileWriteError(exc.errno, f"cannot save {given!r}: {reason}", given)
