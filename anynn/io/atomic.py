"""Atomic file replacement: a reader sees the old file or the new one, never a partial one.

The bytes go to a new temporary file in the destination folder, which is flushed,
fsynced and renamed over the destination (``os.replace``); the folder is then fsynced
where the OS allows, so the rename itself survives a crash.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from typing import IO


def _write_payload(file: IO[bytes], data: bytes) -> None:
    """Write all of ``data`` (a seam for tests that interrupt a save)."""
    file.write(data)


def write_atomic(path: str, data: bytes) -> None:
    """Replace ``path`` by a file holding ``data``, never leaving a partial file there.

    The bytes go to a new temporary file in the same folder, which is flushed, fsynced
    and renamed over ``path`` (``os.replace``); the folder is then fsynced where the OS
    allows. On any failure the temporary file is removed and ``path`` is untouched.
    """
    folder = os.path.dirname(os.path.abspath(path))
    temp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            _write_payload(file, data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: str) -> None:
    if not hasattr(os, "O_DIRECTORY"):
        return  # Windows: folders cannot be opened for fsync
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
