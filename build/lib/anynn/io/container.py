"""The strict safetensors container: an 8-byte little-endian header length, a JSON
header (tensor table and ``__metadata__``), then the raw little-endian tensor data.

Reading checks every size before it reads, parses the header as strict JSON (bounded
numbers, no NaN/Infinity, no duplicate keys) and checks every tensor's dtype, shape and
offsets against the data. Every failure is one :class:`~anynn.errors.ModelFileError`.
Writing goes through ``safetensors.numpy`` (see :func:`to_bytes`).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
from typing import Any

import numpy as np
from safetensors.numpy import save as to_safetensors

from ..errors import ModelFileError

MAX_HEADER_BYTES = 16 * 2**20
"""Largest JSON header accepted (checked before it is read)."""

MAX_JSON_INT_DIGITS = 40
"""Longest integer literal accepted in JSON (a 128-bit RNG state fits)."""

DTYPES: dict[str, np.dtype] = {
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "U32": np.dtype("<u4"),
    "U64": np.dtype("<u8"),
}
"""The safetensors dtype codes accepted, as little-endian NumPy dtypes."""

Table = dict[str, tuple[np.dtype, tuple[int, ...], memoryview]]
"""Per tensor name: its dtype, its shape and its raw little-endian bytes."""


def little_endian(host: np.ndarray) -> np.ndarray:
    """A contiguous little-endian copy (or view) of ``host``, as stored in the container."""
    return np.ascontiguousarray(host, dtype=host.dtype.newbyteorder("<"))


def digest(array: np.ndarray) -> str:
    """SHA-256 hex digest of ``array``'s little-endian bytes."""
    return hashlib.sha256(little_endian(array).reshape(-1).view(np.uint8).data).hexdigest()


def bad(path: str, message: str) -> ModelFileError:
    """A :class:`ModelFileError` whose message starts with ``path``."""
    return ModelFileError(f"{path}: {message}")


def _check_header_length(where: str, n: int, size: int) -> None:
    """Check the declared header length ``n`` against the limit and the total ``size``."""
    if size < 8:
        raise bad(where, f"truncated: {size} bytes, shorter than the 8-byte header length")
    if n > MAX_HEADER_BYTES:
        raise bad(where, f"header of {n} bytes exceeds the {MAX_HEADER_BYTES}-byte limit")
    if 8 + n > size:
        raise bad(where, f"truncated: the header needs {n} bytes, {size - 8} remain")


def read_file(path: str) -> bytes:
    """The bytes of the container at ``path``, its header length checked before reading.

    Raises
    ------
    ModelFileError
        If the file is missing, not a regular file, truncated or declares a huge header.
    """
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise bad(path, "not a regular file")
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            start = file.read(8)
            _check_header_length(path, int.from_bytes(start, "little"), size)
            data = start + file.read(size - 8)
            if len(data) != size or file.read(1):
                raise bad(path, "the file changed size while it was read")
    except OSError as exc:
        raise ModelFileError(f"cannot read the model file {path!r}: {exc}") from exc
    return data


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_JSON_INT_DIGITS:
        raise ValueError(f"integer literal of {len(text)} digits")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > 64:
        raise ValueError(f"number literal of {len(text)} characters")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} overflows float64")
    return value


def _reject_constant(text: str) -> Any:
    raise ValueError(f"{text} is not allowed")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate keys in an object")
    return result


def strict_json(text: str | bytes, what: str) -> Any:
    """Parse JSON with bounded numbers, no NaN/Infinity and no duplicate keys.

    Raises
    ------
    ModelFileError
        For invalid JSON, too deep nesting, out-of-range numbers or duplicate keys.
    """
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except RecursionError:
        raise ModelFileError(f"{what} is nested too deeply") from None
    except (ValueError, TypeError) as exc:  # includes UnicodeDecodeError, JSONDecodeError
        raise ModelFileError(f"{what} is not valid JSON: {exc}") from None


def checked_int(value: Any, what: str, low: int, high: int) -> int:
    """``value`` if it is an int (not a bool) in ``[low, high]``; else ModelFileError."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ModelFileError(f"{what} must be an integer in [{low}, {high}]; got {value!r:.80}")
    return value


def mapping(value: Any, what: str, keys: set[str] | None = None) -> dict[str, Any]:
    """``value`` if it is a JSON object (with exactly ``keys`` if given); else ModelFileError."""
    if not isinstance(value, dict):
        raise ModelFileError(f"{what} must be a JSON object; got {type(value).__name__}")
    if keys is not None and set(value) != keys:
        raise ModelFileError(
            f"{what} must have the keys {sorted(keys)}; got {sorted(value)[:20]}"
        )
    return value


def _tensor_table(path: str, header: dict[str, Any], data: memoryview) -> Table:
    """Check every tensor entry against the data size; return its dtype, shape and bytes."""
    table = {}
    spans = []
    view = data
    for name, entry in header.items():
        where = f"{path}: tensor {name[:80]!r}"
        entry = mapping(entry, where, {"dtype", "shape", "data_offsets"})
        dtype = DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
        if dtype is None:
            raise ModelFileError(f"{where} has the unsupported dtype {entry['dtype']!r:.40}")
        shape = entry["shape"]
        if not isinstance(shape, list) or len(shape) > 8:
            raise ModelFileError(f"{where} has an invalid shape")
        shape = tuple(checked_int(s, f"{where} shape", 0, len(data)) for s in shape)
        offsets = entry["data_offsets"]
        if not isinstance(offsets, list) or len(offsets) != 2:
            raise ModelFileError(f"{where} has invalid data_offsets")
        begin, end = (checked_int(o, f"{where} offset", 0, len(data)) for o in offsets)
        if end - begin != math.prod(shape) * dtype.itemsize:
            raise ModelFileError(
                f"{where}: shape {shape} of {entry['dtype']} needs "
                f"{math.prod(shape) * dtype.itemsize} bytes; its offsets span {end - begin}"
            )
        spans.append((begin, end))
        table[name] = (dtype, shape, view[begin:end])
    position = 0
    for begin, end in sorted(spans):
        if begin != position:
            raise ModelFileError(f"{path}: tensor data overlaps or has a gap at byte {begin}")
        position = end
    if position != len(data):
        raise ModelFileError(
            f"{path}: tensors cover {position} bytes of data, the file holds {len(data)}"
        )
    return table


def read_container(data: bytes, where: str) -> tuple[dict[str, Any], Table]:
    """Parse a safetensors container strictly: ``(metadata, tensor table)``, nothing decoded.

    The header length is checked before the header is parsed, the header is strict JSON,
    and every tensor's dtype, shape and offsets are checked against the data (no gap,
    no overlap, nothing left over). ``where`` (a path or a label) starts every message.

    Raises
    ------
    ModelFileError
        If the data are truncated or the header is invalid.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ModelFileError(f"{where}: model data must be bytes; got {type(data).__name__}")
    view = memoryview(data).cast("B")
    n = int.from_bytes(view[:8], "little")
    _check_header_length(where, n, len(view))
    header_bytes = bytes(view[8 : 8 + n])
    header = mapping(strict_json(header_bytes, f"{where}: the header"), f"{where}: the header")
    if "__metadata__" not in header:
        raise bad(where, "a safetensors file without metadata: not an anynn model")
    metadata = mapping(header.pop("__metadata__"), f"{where}: __metadata__")
    return metadata, _tensor_table(where, header, view[8 + n :])


def to_arrays(table: Table) -> dict[str, np.ndarray]:
    """The tensors of ``table`` as NumPy arrays in native byte order (copies)."""
    return {
        name: np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
        for name, (dtype, shape, raw) in table.items()
    }


def to_bytes(tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> bytes:
    """The container holding ``tensors`` (little-endian) and the string ``metadata``."""
    return to_safetensors(tensors, metadata=metadata)
