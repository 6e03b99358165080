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
one :class:`~anynn.errors.ModelFileError`. A file may hold at most
:data:`MAX_EXPRESSIONS` distinct expression activations, so that a small hostile file
cannot demand minutes of stability verification. Saving is atomic (:mod:`anynn.atomic`).

The container is read by :mod:`anynn.container`, the training state is encoded by
:mod:`anynn.trainstate`; this module holds the model description and the public API.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from . import activations, exprtree
from .atomic import write_atomic
from .backend import Backend, normalize_dtype_name
from .container import (
    DTYPES,
    Table,
    bad,
    checked_int,
    digest,
    little_endian,
    mapping,
    read_container,
    strict_json,
    to_arrays,
    to_bytes,
)
from .errors import ActivationError, AnynnError, AnynnTypeError, AnynnValueError, ModelFileError
from .trainstate import decode_training, encode_training

if TYPE_CHECKING:
    from .network import Network

__all__ = ["FORMAT_VERSION", "ModelFile", "inspect", "load", "read", "save", "strict_json",
           "write_atomic"]

FORMAT_NAME = "anynn"
FORMAT_VERSION = 1
"""The newest file version this anynn writes and reads."""

MAX_LAYERS = 10_000
MAX_WIDTH = 2**31 - 1
MAX_EXPRESSIONS = 64
"""Most distinct expression activations in one file (built-ins by name do not count):
each one is verified against mpmath when loaded, which takes up to a second or so."""

_DTYPE_CODE = {"float32": "F32", "float64": "F64"}
_METADATA_KEYS = {"format", "format_version", "model", "model_sha256"}
_MODEL_KEYS = {"inputs", "dtype", "seed", "layers", "tensors", "training"}
_TRAINING_KEYS = {"optimizer", "history", "rng"}
_LAYER_KEYS = {"length", "bias", "activation"}
_DROPOUT_KEY = "dropout"


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
    AnynnTypeError
        If ``path`` is not a str or os.PathLike.
    AnynnValueError
        If the folder of ``path`` does not exist (it is not created); nothing is written.
    ActivationError
        If a layer's activation cannot be stored (an ``(f, df)`` pair that is not a
        built-in, or an expression outside the stored node set); nothing is written.
    """
    target = _check_path(path)
    folder = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(folder):
        raise AnynnValueError(
            f"path: the folder {folder!r} does not exist; create it before saving {target!r}"
        )
    tensors: dict[str, np.ndarray] = {}
    layers = []
    for i, (layer, rate) in enumerate(zip(net.layers, net.dropout, strict=True)):
        description = {"length": layer.n_out, "bias": layer.has_bias,
                       "activation": encode_activation(layer.activation, i)}
        if rate:
            description[_DROPOUT_KEY] = float(rate)
        layers.append(description)
        for short, host in layer.host_parameters().items():
            tensors[f"layers.{i}.{short}"] = little_endian(host)
    training = encode_training(net, tensors) if include_optimizer else None
    model = {
        "inputs": net.inputs,
        "dtype": net.dtype,
        "seed": net.seed,
        "layers": layers,
        "tensors": {name: digest(array) for name, array in sorted(tensors.items())},
        "training": training,
    }
    model_text = json.dumps(model, allow_nan=False, separators=(",", ":"))
    metadata = {
        "format": FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "model": model_text,
        "model_sha256": hashlib.sha256(model_text.encode("utf-8")).hexdigest(),
    }
    write_atomic(target, to_bytes(tensors, metadata))


def _check_path(path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise AnynnTypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    return os.fspath(path)


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


# -- reading ---------------------------------------------------------------
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


def _version(path: str, metadata: dict[str, Any]) -> int:
    if metadata.get("format") != FORMAT_NAME:
        raise bad(
            path,
            "a safetensors file, but not an anynn model (its metadata format is "
            f"{str(metadata.get('format'))[:40]!r}, expected {FORMAT_NAME!r})",
        )
    text = metadata.get("format_version")
    if not isinstance(text, str) or not text.isdigit() or len(text) > 6:
        raise bad(path, f"invalid format_version {str(text)[:40]!r}")
    version = int(text)
    if version > FORMAT_VERSION:
        raise bad(
            path,
            f"written by a newer anynn (format version {version}); this anynn reads "
            f"versions up to {FORMAT_VERSION}: upgrade anynn to load it",
        )
    if version < 1:
        raise bad(path, f"invalid format_version {version}")
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
    metadata, table = read_container(path)
    version = _version(path, metadata)
    if set(metadata) != _METADATA_KEYS or not all(isinstance(v, str) for v in metadata.values()):
        raise bad(path, f"__metadata__ must hold exactly the strings {sorted(_METADATA_KEYS)}")
    model_digest = hashlib.sha256(metadata["model"].encode("utf-8", "surrogatepass")).hexdigest()
    if model_digest != metadata["model_sha256"]:
        raise bad(path, "the model description does not match its digest (corrupted file)")
    model = _check_model(path, strict_json(metadata["model"], f"{path}: the model description"))
    _check_tensors(path, model, table)
    return ModelFile(version, model, to_arrays(table))


# -- the model description ---------------------------------------------------------------
def _check_model(path: str, model: Any) -> dict[str, Any]:
    model = mapping(model, f"{path}: the model description", _MODEL_KEYS)
    checked_int(model["inputs"], f"{path}: inputs", 1, MAX_WIDTH)
    if model["dtype"] not in _DTYPE_CODE:
        raise bad(path, f"dtype must be float32 or float64; got {str(model['dtype'])[:40]!r}")
    if model["seed"] is not None:
        checked_int(model["seed"], f"{path}: seed", 0, 2**128)
    layers = model["layers"]
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise bad(path, f"layers must be a list of 1 to {MAX_LAYERS} layers")
    for i, layer in enumerate(layers):
        where = f"{path}: layers[{i}]"
        layer = mapping(layer, where)
        if not _LAYER_KEYS <= set(layer) <= _LAYER_KEYS | {_DROPOUT_KEY}:
            raise ModelFileError(
                f"{where} must have the keys {sorted(_LAYER_KEYS)} and optionally "
                f"{_DROPOUT_KEY!r}; got {sorted(layer)[:20]}"
            )
        checked_int(layer["length"], f"{where} length", 1, MAX_WIDTH)
        if not isinstance(layer["bias"], bool):
            raise ModelFileError(f"{where}: bias must be true or false")
        _check_activation(layer["activation"], where)
        if _dropout(layer, where) and i == len(layers) - 1:
            raise ModelFileError(f"{where}: the output layer cannot take dropout")
    expressions = {_activation_key(layer["activation"]) for layer in layers}
    expressions = {key for key in expressions if key.startswith('{"expression"')}
    if len(expressions) > MAX_EXPRESSIONS:
        raise bad(
            path,
            f"{len(expressions)} distinct activation expressions; at most {MAX_EXPRESSIONS} "
            "are accepted (each is verified when loaded)",
        )
    digests = mapping(model["tensors"], f"{path}: tensors")
    for name, text in digests.items():
        if not isinstance(text, str) or len(text) != 64:
            raise ModelFileError(f"{path}: the digest of {name[:80]!r} is not a SHA-256 hex")
    if model["training"] is not None:
        mapping(model["training"], f"{path}: training", _TRAINING_KEYS)
    return model


def _activation_key(spec: dict[str, Any]) -> str:
    """A canonical text of a checked activation description (equal specs, equal keys)."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


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
        params = mapping(spec["params"], f"{where} params")
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
    path: str, model: dict[str, Any], table: Table) -> None:
    """Names, shapes and dtypes against the architecture; digests against the data."""
    digests = model["tensors"]
    if set(table) != set(digests):
        missing = sorted(set(digests) - set(table))[:5]
        extra = sorted(set(table) - set(digests))[:5]
        raise bad(path, f"tensors do not match the description (missing {missing}, extra {extra})")
    training_names = {n for n in table if n.startswith("training.")}
    if training_names and model["training"] is None:
        raise bad(path, "training tensors without a training state")
    code = _DTYPE_CODE[model["dtype"]]
    for name, shape in _expected_tensors(model).items():
        if name not in table:
            raise bad(path, f"the tensor {name} is missing")
        dtype, seen, _ = table[name]
        if seen != shape or dtype != DTYPES[code]:
            raise bad(
                path,
                f"{name} must be {model['dtype']} of shape {shape}; got {dtype} of shape {seen}",
            )
    unknown = set(table) - set(_expected_tensors(model)) - training_names
    if unknown:
        raise bad(path, f"unexpected tensors {sorted(unknown)[:5]}")
    for name, (_, _, raw) in table.items():
        if hashlib.sha256(raw).hexdigest() != digests[name]:
            raise bad(path, f"the data of {name} does not match its digest (corrupted file)")


def decode_activation(spec: dict[str, Any], index: int) -> activations.Activation:
    """Rebuild layer ``index``'s activation from its checked JSON description.

    Raises
    ------
    ModelFileError
        If the built-in rejects its parameters or the expression tree is invalid.
    """
    try:
        if "builtin" in spec:
            return activations.from_builtin(spec["builtin"], spec["params"])
        return activations.from_expression(exprtree.decode(spec["expression"]), exprtree.X)
    except ModelFileError as exc:
        raise ModelFileError(f"layers[{index}]: {exc}") from None
    except Exception as exc:  # SymPy may fail in many ways on a hostile expression
        raise ModelFileError(f"layers[{index}]: invalid activation ({exc})") from exc


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
        key = _activation_key(layer["activation"])
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
        net.rng, net.optimizer, history = decode_training(
            model["training"], file.tensors, target
        )
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
        _, optimizer, history = decode_training(
            model["training"], file.tensors, Backend("numpy", model["dtype"])
        )
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
