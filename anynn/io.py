"""The ``.anynn`` model file: save, load and inspect, safely.

A model file is one safetensors container: an 8-byte little-endian header length, a
JSON header, then the raw little-endian tensor data. Tensors are
``layers.{i}.weight`` / ``layers.{i}.bias`` (plus ``training.{n}`` arrays of a saved
optimizer state); ``__metadata__`` holds ``format`` (``"anynn"``), ``format_version``,
``model`` (the JSON model description) and ``model_sha256`` (its digest). The model
description holds the architecture, the dtype, a SHA-256 digest of every tensor and,
optionally, the training state (optimizer, history, RNG state).

A layer's ``dropout`` rate (a float in [0, 1), see :mod:`anynn.dropout`) is stored only
where it is non-zero; a layer without the key has none. Version 1 files written before
dropout existed therefore load unchanged, and a reader that does not know the key rejects
a file that uses dropout instead of silently training without it.

Loading executes nothing from the file: activations are JSON expression trees decoded by
a whitelist (:mod:`anynn.exprtree`) or built-in names; every check (sizes, offsets,
shapes, dtypes, digests, versions) runs before anything is built, and every failure is
one :class:`~anynn.errors.ModelFileError`. Saving is atomic: a temporary file in the
destination folder is written, flushed, fsynced and renamed over the destination.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from . import activations, exprtree, optimizers
from .backend import Backend, normalize_dtype_name, to_numpy
from .errors import (
    ActivationError,
    AnynnError,
    AnynnTypeError,
    AnynnValueError,
    ModelFileError,
)

if TYPE_CHECKING:
    from .network import Network

FORMAT_NAME = "anynn"
FORMAT_VERSION = 1
"""The newest file version this anynn writes and reads."""

MAX_HEADER_BYTES = 16 * 2**20
"""Largest JSON header accepted (checked before it is read)."""

MAX_JSON_INT_DIGITS = 40
"""Longest integer literal accepted in JSON (a 128-bit RNG state fits)."""

MAX_LAYERS = 10_000
MAX_WIDTH = 2**31 - 1
MAX_STATE_DEPTH = 16
"""Deepest nesting of a saved training state."""

_DTYPES: dict[str, np.dtype] = {
    "F32": np.dtype("<f4"),
    "F64": np.dtype("<f8"),
    "I32": np.dtype("<i4"),
    "I64": np.dtype("<i8"),
    "U32": np.dtype("<u4"),
    "U64": np.dtype("<u8"),
}
_DTYPE_CODE = {"float32": "F32", "float64": "F64"}
_METADATA_KEYS = {"format", "format_version", "model", "model_sha256"}
_MODEL_KEYS = {"inputs", "dtype", "seed", "layers", "tensors", "training"}
_TRAINING_KEYS = {"optimizer", "history", "rng"}
_LAYER_KEYS = {"length", "bias", "activation"}
_DROPOUT_KEY = "dropout"
_TENSOR_TAG, _FLOAT_TAG = "__tensor__", "__float__"
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_RNG_BIT_GENERATORS = {
    "PCG64": np.random.PCG64,
    "PCG64DXSM": np.random.PCG64DXSM,
    "MT19937": np.random.MT19937,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
}


# -- saving -----------------------------------------------------------------------------
def save(net: Network, path: Any, include_optimizer: bool = False) -> None:
    """Write ``net`` to ``path`` as one ``.anynn`` file, atomically.

    Parameters
    ----------
    net : Network
        The network; its parameters may live on any backend.
    path : str or os.PathLike
        Destination. An existing file is replaced only once the new one is complete.
    include_optimizer : bool
        Also store the optimizer of the last ``fit`` (``net.optimizer``), the training
        history (``net.history``) and the state of the network's random generator.

    Raises
    ------
    ActivationError
        If a layer's activation cannot be stored (an ``(f, df)`` pair that is not a
        built-in, or an expression outside the stored node set); nothing is written.
    """
    target = _check_path(path)
    tensors: dict[str, np.ndarray] = {}
    layers = []
    for i, (layer, rate) in enumerate(zip(net.layers, net.dropout, strict=True)):
        description = {"length": layer.n_out, "bias": layer.has_bias,
                       "activation": encode_activation(layer.activation, i)}
        if rate:
            description[_DROPOUT_KEY] = float(rate)
        layers.append(description)
        for short, host in layer.host_parameters().items():
            tensors[f"layers.{i}.{short}"] = _little_endian(host)
    training = _training_state(net, tensors) if include_optimizer else None
    model = {
        "inputs": net.inputs,
        "dtype": net.dtype,
        "seed": net.seed,
        "layers": layers,
        "tensors": {name: _digest(array) for name, array in sorted(tensors.items())},
        "training": training,
    }
    model_text = json.dumps(model, allow_nan=False, separators=(",", ":"))
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "model": model_text,
        "model_sha256": hashlib.sha256(model_text.encode("utf-8")).hexdigest(),
    }
    from safetensors.numpy import save as to_safetensors

    write_atomic(target, to_safetensors(tensors, metadata=metadata))


def _check_path(path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise AnynnTypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    return os.fspath(path)


def _little_endian(host: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(host, dtype=host.dtype.newbyteorder("<"))


def _digest(array: np.ndarray) -> str:
    return hashlib.sha256(_little_endian(array).reshape(-1).view(np.uint8).data).hexdigest()


def encode_activation(activation: activations.Activation, index: int) -> dict[str, Any]:
    """The JSON description of layer ``index``'s activation: a built-in or a tree.

    Raises
    ------
    ActivationError
        If the activation is an ``(f, df)`` pair other than a built-in, or its
        expression cannot be stored (and so could not be loaded back).
    """
    builtin = getattr(activation, "builtin", None)
    if builtin is not None:
        params = {str(k): float(v) for k, v in getattr(activation, "params", {}).items()}
        return {"builtin": builtin, "params": params}
    if activation.expr is None:
        raise ActivationError(
            f"layers[{index}]: the activation {activation.name!r} is an (f, df) pair of "
            "array functions, which cannot be stored in a model file (code is never "
            "saved); write it as a SymPy expression or use a built-in"
        )
    try:
        tree = exprtree.encode(activation.expr, activation.symbol)
        exprtree.decode(tree)  # anything saved must load back
    except AnynnError as exc:
        raise ActivationError(
            f"layers[{index}]: the activation {activation.name!r} cannot be stored: {exc}"
        ) from exc
    return {"expression": tree}


def _training_state(net: Network, tensors: dict[str, np.ndarray]) -> dict[str, Any]:
    optimizer = getattr(net, "optimizer", None)
    history = getattr(net, "history", None)
    return {
        "optimizer": None if optimizer is None else _encode_state(
            optimizer.state_dict(), tensors, "optimizer"
        ),
        "history": None if history is None else _encode_state(
            {"history": history.history, "epoch": history.epoch}, tensors, "history"
        ),
        "rng": _encode_state(net.rng.bit_generator.state, tensors, "rng"),
    }


def _encode_state(value: Any, tensors: dict[str, np.ndarray], where: str) -> Any:
    """JSON form of a state: arrays become tensors, non-finite floats become tags."""
    if isinstance(value, np.ndarray) or (
        hasattr(value, "__dlpack__") and not isinstance(value, np.generic)
    ):
        name = f"training.{sum(n.startswith('training.') for n in tensors)}"
        tensors[name] = _little_endian(np.asarray(to_numpy(value)))
        return {_TENSOR_TAG: name}
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {_FLOAT_TAG: repr(value)}
    if isinstance(value, Mapping):
        if len(value) == 1 and set(value) & {_TENSOR_TAG, _FLOAT_TAG}:
            raise AnynnValueError(f"{where}: the key {next(iter(value))!r} is reserved")
        return {str(k): _encode_state(v, tensors, where) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode_state(v, tensors, where) for v in value]
    raise AnynnValueError(
        f"{where} state holds a {type(value).__name__}, which cannot be saved"
    )


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


# -- reading the container ---------------------------------------------------------------
@dataclass(frozen=True)
class ModelFile:
    """A validated model file: its description and its verified host tensors.

    Attributes
    ----------
    version : int
        The file's format version.
    model : dict
        The validated JSON model description.
    tensors : dict of str to numpy.ndarray
        Every tensor, digest verified, in native byte order.
    """

    version: int
    model: dict[str, Any]
    tensors: dict[str, np.ndarray]


def _bad(path: str, message: str) -> ModelFileError:
    return ModelFileError(f"{path}: {message}")


def _read_bytes(path: str) -> tuple[bytes, bytes]:
    """Return ``(header, data)`` of the container, sizes checked before reading."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise _bad(path, "not a regular file")
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            if size < 8:
                raise _bad(path, f"truncated: {size} bytes, shorter than the 8-byte header length")
            n = int.from_bytes(file.read(8), "little")
            if n > MAX_HEADER_BYTES:
                raise _bad(path, f"header of {n} bytes exceeds the {MAX_HEADER_BYTES}-byte limit")
            if 8 + n > size:
                raise _bad(path, f"truncated: the header needs {n} bytes, {size - 8} remain")
            header = file.read(n)
            data = file.read(size - 8 - n)
            if len(header) != n or len(data) != size - 8 - n or file.read(1):
                raise _bad(path, "the file changed size while it was read")
    except OSError as exc:
        raise ModelFileError(f"cannot read the model file {path!r}: {exc}") from exc
    return header, data


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


def _int(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ModelFileError(f"{what} must be an integer in [{low}, {high}]; got {value!r:.80}")
    return value


def _mapping(value: Any, what: str, keys: set[str] | None = None) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ModelFileError(f"{what} must be a JSON object; got {type(value).__name__}")
    if keys is not None and set(value) != keys:
        raise ModelFileError(
            f"{what} must have the keys {sorted(keys)}; got {sorted(value)[:20]}"
        )
    return value


def _tensor_table(
    path: str, header: dict[str, Any], data: bytes
) -> dict[str, tuple[np.dtype, tuple[int, ...], memoryview]]:
    """Check every tensor entry against the data size; return its dtype, shape and bytes."""
    table = {}
    spans = []
    view = memoryview(data)
    for name, entry in header.items():
        where = f"{path}: tensor {name[:80]!r}"
        entry = _mapping(entry, where, {"dtype", "shape", "data_offsets"})
        dtype = _DTYPES.get(entry["dtype"]) if isinstance(entry["dtype"], str) else None
        if dtype is None:
            raise ModelFileError(f"{where} has the unsupported dtype {entry['dtype']!r:.40}")
        shape = entry["shape"]
        if not isinstance(shape, list) or len(shape) > 8:
            raise ModelFileError(f"{where} has an invalid shape")
        shape = tuple(_int(s, f"{where} shape", 0, len(data)) for s in shape)
        offsets = entry["data_offsets"]
        if not isinstance(offsets, list) or len(offsets) != 2:
            raise ModelFileError(f"{where} has invalid data_offsets")
        begin, end = (_int(o, f"{where} offset", 0, len(data)) for o in offsets)
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


def _version(path: str, metadata: dict[str, Any]) -> int:
    if metadata.get("format") != FORMAT_NAME:
        raise _bad(
            path,
            "a safetensors file, but not an anynn model (its metadata format is "
            f"{str(metadata.get('format'))[:40]!r}, expected {FORMAT_NAME!r})",
        )
    text = metadata.get("format_version")
    if not isinstance(text, str) or not text.isdigit() or len(text) > 6:
        raise _bad(path, f"invalid format_version {str(text)[:40]!r}")
    version = int(text)
    if version > FORMAT_VERSION:
        raise _bad(
            path,
            f"written by a newer anynn (format version {version}); this anynn reads "
            f"versions up to {FORMAT_VERSION}: upgrade anynn to load it",
        )
    if version < 1:
        raise _bad(path, f"invalid format_version {version}")
    return version


def read(path: Any) -> ModelFile:
    """Read and fully validate a model file without building the network.

    Raises
    ------
    ModelFileError
        If the file is missing, malformed, truncated, corrupted, foreign, from a newer
        format version or hostile.
    """
    path = _check_path(path)
    header_bytes, data = _read_bytes(path)
    header = _mapping(strict_json(header_bytes, f"{path}: the header"), f"{path}: the header")
    if "__metadata__" not in header:
        raise _bad(path, "a safetensors file without metadata: not an anynn model")
    metadata = _mapping(header.pop("__metadata__"), f"{path}: __metadata__")
    version = _version(path, metadata)
    if set(metadata) != _METADATA_KEYS or not all(isinstance(v, str) for v in metadata.values()):
        raise _bad(path, f"__metadata__ must hold exactly the strings {sorted(_METADATA_KEYS)}")
    digest = hashlib.sha256(metadata["model"].encode("utf-8", "surrogatepass")).hexdigest()
    if digest != metadata["model_sha256"]:
        raise _bad(path, "the model description does not match its digest (corrupted file)")
    model = _check_model(path, strict_json(metadata["model"], f"{path}: the model description"))
    table = _tensor_table(path, header, data)
    _check_tensors(path, model, table)
    tensors = {
        name: np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
        for name, (dtype, shape, raw) in table.items()
    }
    return ModelFile(version, model, tensors)


# -- the model description ---------------------------------------------------------------
def _check_model(path: str, model: Any) -> dict[str, Any]:
    model = _mapping(model, f"{path}: the model description", _MODEL_KEYS)
    _int(model["inputs"], f"{path}: inputs", 1, MAX_WIDTH)
    if model["dtype"] not in _DTYPE_CODE:
        raise _bad(path, f"dtype must be float32 or float64; got {str(model['dtype'])[:40]!r}")
    if model["seed"] is not None:
        _int(model["seed"], f"{path}: seed", 0, 2**128)
    layers = model["layers"]
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise _bad(path, f"layers must be a list of 1 to {MAX_LAYERS} layers")
    for i, layer in enumerate(layers):
        where = f"{path}: layers[{i}]"
        layer = _mapping(layer, where)
        if not _LAYER_KEYS <= set(layer) <= _LAYER_KEYS | {_DROPOUT_KEY}:
            raise ModelFileError(
                f"{where} must have the keys {sorted(_LAYER_KEYS)} and optionally "
                f"{_DROPOUT_KEY!r}; got {sorted(layer)[:20]}"
            )
        _int(layer["length"], f"{where} length", 1, MAX_WIDTH)
        if not isinstance(layer["bias"], bool):
            raise ModelFileError(f"{where}: bias must be true or false")
        _check_activation(layer["activation"], where)
        if _dropout(layer, where) and i == len(layers) - 1:
            raise ModelFileError(f"{where}: the output layer cannot take dropout")
    digests = _mapping(model["tensors"], f"{path}: tensors")
    for name, digest in digests.items():
        if not isinstance(digest, str) or len(digest) != 64:
            raise ModelFileError(f"{path}: the digest of {name[:80]!r} is not a SHA-256 hex")
    if model["training"] is not None:
        _mapping(model["training"], f"{path}: training", _TRAINING_KEYS)
    return model


def _dropout(layer: dict[str, Any], where: str) -> float:
    """The layer's checked dropout rate: a float in [0, 1), 0.0 where the key is absent."""
    rate = layer.get(_DROPOUT_KEY, 0.0)
    if not isinstance(rate, float) or not 0.0 <= rate < 1.0:
        raise ModelFileError(f"{where}: dropout must be a float in [0, 1); got {rate!r:.40}")
    return rate


def _check_activation(spec: Any, where: str) -> None:
    if not isinstance(spec, dict) or set(spec) not in ({"builtin", "params"}, {"expression"}):
        raise ModelFileError(
            f"{where}: activation must be {{'builtin', 'params'}} or {{'expression'}}"
        )
    if "builtin" in spec:
        if not isinstance(spec["builtin"], str) or spec["builtin"] not in activations.BUILTINS:
            raise ModelFileError(
                f"{where}: unknown built-in activation {str(spec['builtin'])[:40]!r} "
                f"(known: {', '.join(sorted(activations.BUILTINS))}); saved by a newer anynn?"
            )
        params = _mapping(spec["params"], f"{where} params")
        if len(params) > 16 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in params.values()
        ):
            raise ModelFileError(f"{where}: activation params must be at most 16 numbers")


def _expected_tensors(model: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    width = model["inputs"]
    for i, layer in enumerate(model["layers"]):
        shapes[f"layers.{i}.weight"] = (width, layer["length"])
        if layer["bias"]:
            shapes[f"layers.{i}.bias"] = (layer["length"],)
        width = layer["length"]
    return shapes


def _check_tensors(
    path: str, model: dict[str, Any], table: dict[str, tuple[np.dtype, tuple[int, ...], Any]]
) -> None:
    """Names, shapes and dtypes against the architecture; digests against the data."""
    digests = model["tensors"]
    if set(table) != set(digests):
        missing = sorted(set(digests) - set(table))[:5]
        extra = sorted(set(table) - set(digests))[:5]
        raise _bad(path, f"tensors do not match the description (missing {missing}, extra {extra})")
    training_names = {n for n in table if n.startswith("training.")}
    if training_names and model["training"] is None:
        raise _bad(path, "training tensors without a training state")
    code = _DTYPE_CODE[model["dtype"]]
    for name, shape in _expected_tensors(model).items():
        if name not in table:
            raise _bad(path, f"the tensor {name} is missing")
        dtype, seen, _ = table[name]
        if seen != shape or dtype != _DTYPES[code]:
            raise _bad(
                path,
                f"{name} must be {model['dtype']} of shape {shape}; got {dtype} of shape {seen}",
            )
    unknown = set(table) - set(_expected_tensors(model)) - training_names
    if unknown:
        raise _bad(path, f"unexpected tensors {sorted(unknown)[:5]}")
    for name, (_, _, raw) in table.items():
        if hashlib.sha256(raw).hexdigest() != digests[name]:
            raise _bad(path, f"the data of {name} does not match its digest (corrupted file)")


def decode_activation(spec: dict[str, Any], index: int) -> activations.Activation:
    """Rebuild layer ``index``'s activation from its checked JSON description.

    Raises
    ------
    ModelFileError
        If the built-in rejects its parameters or the expression tree is invalid.
    """
    try:
        if "builtin" in spec:
            return _builtin(spec["builtin"], spec["params"])
        return activations.from_expression(exprtree.decode(spec["expression"]), exprtree.X)
    except ModelFileError as exc:
        raise ModelFileError(f"layers[{index}]: {exc}") from None
    except Exception as exc:  # SymPy may fail in many ways on a hostile expression
        raise ModelFileError(f"layers[{index}]: invalid activation ({exc})") from exc


def _builtin(name: str, params: dict[str, float]) -> activations.Activation:
    """A built-in activation from its family name and parameters."""
    from_builtin = getattr(activations, "from_builtin", None)
    if from_builtin is not None:
        return from_builtin(name, params)
    if params:
        raise ModelFileError(f"the built-in {name!r} takes no parameters; got {params}")
    return activations.get(name)


# -- training state ----------------------------------------------------------------------
def _decode_state(value: Any, tensors: dict[str, np.ndarray], used: set[str], depth: int) -> Any:
    if depth > MAX_STATE_DEPTH:
        raise ModelFileError(f"the training state is nested deeper than {MAX_STATE_DEPTH}")
    if isinstance(value, list):
        return [_decode_state(v, tensors, used, depth + 1) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {_TENSOR_TAG}:
        name = value[_TENSOR_TAG]
        if not isinstance(name, str) or not name.startswith("training.") or name not in tensors:
            raise ModelFileError(f"the training state names an unknown tensor {str(name)[:80]!r}")
        if name in used:
            raise ModelFileError(f"the training state uses the tensor {name} twice")
        used.add(name)
        return tensors[name]
    if set(value) == {_FLOAT_TAG}:
        if value[_FLOAT_TAG] not in _NON_FINITE:
            raise ModelFileError(f"invalid float tag {str(value[_FLOAT_TAG])[:20]!r}")
        return _NON_FINITE[value[_FLOAT_TAG]]
    return {k: _decode_state(v, tensors, used, depth + 1) for k, v in value.items()}


def _decode_training(
    file: ModelFile, backend: Backend
) -> tuple[np.random.Generator, Any, Any]:
    """The saved ``(rng, optimizer or None, history or None)``, each validated."""
    training = file.model["training"]
    used: set[str] = set()
    state = {k: _decode_state(v, file.tensors, used, 0) for k, v in training.items()}
    unused = {n for n in file.tensors if n.startswith("training.")} - used
    if unused:
        raise ModelFileError(f"training tensors {sorted(unused)[:5]} are not referenced")
    try:
        rng = _mapping(state["rng"], "rng state")
        name = rng.get("bit_generator")
        if not isinstance(name, str) or name not in _RNG_BIT_GENERATORS:
            raise ModelFileError(f"unknown bit generator {str(name)[:40]!r}")
        bit_generator = _RNG_BIT_GENERATORS[name]()
        bit_generator.state = rng
        optimizer = None
        if state["optimizer"] is not None:
            optimizer = optimizers.from_state(
                _mapping(state["optimizer"], "optimizer state"), backend
            )
        history = None
        if state["history"] is not None:
            history = _history(_mapping(state["history"], "history", {"history", "epoch"}))
    except ModelFileError as exc:
        raise ModelFileError(f"invalid training state: {exc}") from None
    except Exception as exc:  # numpy / optimizer validation of the restored state
        raise ModelFileError(f"invalid training state: {exc}") from exc
    return np.random.Generator(bit_generator), optimizer, history


def _history(state: dict[str, Any]) -> Any:
    from . import History

    values, epochs = state["history"], state["epoch"]
    if not isinstance(values, dict) or not all(
        isinstance(v, list) and all(isinstance(x, (int, float)) for x in v)
        for v in values.values()
    ):
        raise ModelFileError("history must map names to lists of numbers")
    if not isinstance(epochs, list) or not all(isinstance(e, int) for e in epochs):
        raise ModelFileError("history epochs must be a list of integers")
    return History(history={k: [float(x) for x in v] for k, v in values.items()}, epoch=epochs)


# -- loading and inspecting --------------------------------------------------------------
def load(path: Any, backend: Any = "numpy", dtype: Any = None) -> Network:
    """Rebuild a network saved with :func:`save` on ``backend``.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.anynn`` file.
    backend : str, module or Backend
        Where to build the network (any backend, whichever one saved it).
    dtype : {"float32", "float64"}, optional
        Convert the parameters to this dtype; the file's dtype by default.

    Raises
    ------
    ModelFileError
        If the file is missing, malformed, corrupted, foreign, newer or hostile.
    BackendUnavailableError, AnynnValueError
        If ``backend`` or ``dtype`` is invalid (checked before the file is read).
    """
    from .network import Network

    target = Backend(backend, "float32" if dtype is None else normalize_dtype_name(dtype))
    file = read(path)
    model = file.model
    cache: dict[str, activations.Activation] = {}
    specs = []
    for i, layer in enumerate(model["layers"]):
        key = json.dumps(layer["activation"], sort_keys=True)
        if key not in cache:
            cache[key] = decode_activation(layer["activation"], i)
        specs.append({"length": layer["length"], "bias": layer["bias"], "fn": cache[key],
                      "dropout": _dropout(layer, f"layers[{i}]")})
    if dtype is None:
        target = target.with_dtype(model["dtype"])
    try:
        net = Network(model["inputs"], specs, backend=target, dtype=target.dtype_name,
                      seed=model["seed"])
    except Exception as exc:  # an activation that decodes but cannot compile
        raise ModelFileError(f"{path}: the network cannot be built: {exc}") from exc
    for i, layer in enumerate(net.layers):
        layer.weights = file.tensors[f"layers.{i}.weight"]
        if layer.has_bias:
            layer.biases = file.tensors[f"layers.{i}.bias"]
    if model["training"] is not None:
        net.rng, net.optimizer, history = _decode_training(file, target)
        if history is not None:
            net.history = history
    return net


def inspect(path: Any) -> dict[str, Any]:
    """Describe a model file without building the network (the file is fully checked).

    Returns
    -------
    dict
        ``format_version``, ``inputs``, ``outputs``, ``dtype``, ``layers`` (each with
        ``length``, ``bias``, ``activation`` as text and ``dropout``, its rate or 0.0),
        ``n_parameters``, ``seed``,
        ``optimizer`` (its name, or None) and ``epochs`` (recorded history length).
    """
    file = read(path)
    model = file.model
    layers = []
    for i, layer in enumerate(model["layers"]):
        label = decode_activation(layer["activation"], i).name
        layers.append({"length": layer["length"], "bias": layer["bias"], "activation": label,
                       "dropout": _dropout(layer, f"layers[{i}]")})
    optimizer = history = None
    if model["training"] is not None:
        _, optimizer, history = _decode_training(file, Backend("numpy", model["dtype"]))
    return {
        "format_version": file.version,
        "inputs": model["inputs"],
        "outputs": model["layers"][-1]["length"],
        "dtype": model["dtype"],
        "layers": layers,
        "n_parameters": sum(
            int(a.size) for n, a in file.tensors.items() if n.startswith("layers.")
        ),
        "seed": model["seed"],
        "optimizer": None if optimizer is None else optimizer.name,
        "epochs": 0 if history is None else len(history.epoch),
    }
