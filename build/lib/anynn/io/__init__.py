"""The ``.anynn`` model file: a :class:`~anynn.state.NetworkState` as bytes or a file.

A model file is one safetensors container: an 8-byte little-endian header length, a
JSON header, then the raw little-endian tensor data. Tensors are ``layers.{i}.weight`` /
``layers.{i}.bias`` (:func:`~anynn.state.parameter_name`, plus ``training.{n}`` arrays of
a saved optimizer state); ``__metadata__`` holds ``format`` (``"anynn"``),
``format_version``, ``model`` (the JSON model description) and ``model_sha256`` (its
digest). The description holds the architecture, the dtype, a SHA-256 digest of every
tensor and, optionally, the training state (optimizer, history, RNG state).

A layer's ``dropout`` rate is stored only where it is non-zero, so version 1 files
written before dropout existed load unchanged, and a reader that does not know the key
rejects a file that uses dropout instead of silently training without it.

Reading executes nothing from the file: activations are JSON expression trees decoded by
a whitelist (:mod:`anynn.exprtree`) or built-in names; every check (sizes, offsets,
shapes, dtypes, digests, versions) runs before anything is built, and every failure is
one :class:`~anynn.errors.ModelFileError`. A file may hold at most
:data:`MAX_EXPRESSIONS` distinct expression activations, so that a small hostile file
cannot demand minutes of stability verification. Writing is atomic and respects the file
system (links followed, special files refused, permission bits kept: :mod:`anynn.files`).

This package sits below :mod:`anynn.network` and never imports it: it reads and writes
:class:`~anynn.state.NetworkState`; ``Network.state`` / ``Network.from_state`` convert.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ..errors import AnynnTypeError
from ..files import check_destination, write_atomic
from ..state import LayerState, NetworkState, parameter_name
from . import activation_codec, schema
from .container import digest, little_endian, read_container, read_file, strict_json, to_arrays
from .container import to_bytes as container_bytes
from .schema import FORMAT_VERSION, MAX_EXPRESSIONS
from .trainstate import decode_training, encode_training

__all__ = ["FORMAT_VERSION", "MAX_EXPRESSIONS", "ModelFile", "from_bytes", "inspect", "load",
           "read", "read_state", "save", "strict_json", "to_bytes", "write", "write_atomic"]

BYTES_LABEL = "<model bytes>"
"""Where errors about in-memory model data say they come from."""


# -- writing ---------------------------------------------------------------------------
def to_bytes(state: NetworkState) -> bytes:
    """The ``.anynn`` file holding ``state``, as bytes.

    Raises
    ------
    ActivationError
        If a layer's activation cannot be stored (an ``(f, df)`` pair that is not a
        built-in, or an expression outside the stored node set).
    AnynnValueError
        If the training state holds a value that cannot be saved.
    """
    tensors = {name: little_endian(host) for name, host in state.parameters().items()}
    layers = []
    for i, layer in enumerate(state.layers):
        description = {"length": layer.length, "bias": layer.bias,
                       "activation": activation_codec.encode(layer.activation, i)}
        if layer.dropout:
            description[schema.DROPOUT_KEY] = float(layer.dropout)
        if layer.init is not None and layer.init.chosen:
            description[schema.INIT_KEY] = layer.init.names()
        layers.append(description)
    training = None if state.training is None else encode_training(state.training, tensors)
    model = {
        "inputs": state.inputs,
        "dtype": state.dtype,
        "seed": state.seed,
        "layers": layers,
        "tensors": {name: digest(array) for name, array in sorted(tensors.items())},
        "training": training,
    }
    if state.loss is not None or state.metrics:
        model[schema.FIT_KEY] = {"loss": state.loss, "metrics": list(state.metrics)}
    model_text = json.dumps(model, allow_nan=False, separators=(",", ":"))
    metadata = {
        "format": schema.FORMAT_NAME,
        "format_version": str(FORMAT_VERSION),
        "model": model_text,
        "model_sha256": hashlib.sha256(model_text.encode("utf-8")).hexdigest(),
    }
    return container_bytes(tensors, metadata)


def write(path: Any, state: NetworkState) -> None:
    """Write ``state`` to ``path`` as one ``.anynn`` file, atomically.

    Raises
    ------
    AnynnTypeError
        If ``path`` is not a str or os.PathLike.
    AnynnValueError
        If ``path`` is empty, its folder does not exist (it is not created) or it names
        an existing directory or non-regular file; nothing is written.
    ActivationError
        If an activation cannot be stored (see :func:`to_bytes`); nothing is written.
    FileWriteError
        If the OS fails the write (read-only or full file system, permissions): the
        previous file is intact and no temporary file remains.
    """
    check_destination(path)
    write_atomic(path, to_bytes(state))


class HasState(Protocol):
    """Anything that describes itself as a :class:`NetworkState` (a ``Network``)."""

    def state(self, *, include_training: bool = False) -> NetworkState: ...


def save(net: HasState, path: Any, include_optimizer: bool = False) -> None:
    """Write ``net`` to ``path`` (:meth:`anynn.Network.save`; ``include_optimizer`` also
    stores the optimizer, the history and the RNG state)."""
    check_destination(path)
    write(path, net.state(include_training=include_optimizer))


def _check_path(path: Any) -> str:
    if not isinstance(path, (str, os.PathLike)):
        raise AnynnTypeError(f"path must be a str or os.PathLike; got {type(path).__name__}")
    return os.fspath(path)


# -- reading ---------------------------------------------------------------------------
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
    source : str
        Where the data came from (the path, or a label for bytes), for messages.
    """

    version: int
    model: dict[str, Any]
    tensors: dict[str, np.ndarray]
    source: str = BYTES_LABEL


def _parse(data: bytes, where: str) -> ModelFile:
    metadata, table = read_container(data, where)
    version = schema.check_version(where, metadata)
    schema.check_metadata(where, metadata)
    model = schema.check_model(where, strict_json(metadata["model"],
                                                  f"{where}: the model description"))
    schema.check_tensors(where, model, table)
    tensors = to_arrays(table)
    schema.check_finite_parameters(where, model, tensors)
    return ModelFile(version, model, tensors, where)


def read(path: Any) -> ModelFile:
    """Read and fully validate a model file without decoding activations.

    Raises
    ------
    ModelFileError
        If the file is missing, malformed, truncated, corrupted, foreign, from a newer
        format version or hostile.
    """
    target = _check_path(path)
    return _parse(read_file(target), target)


def _state(file: ModelFile) -> NetworkState:
    """Decode a validated file into a state (expression activations are verified)."""
    model, tensors = file.model, file.tensors
    cache: dict[str, Any] = {}
    layers = []
    for i, layer in enumerate(model["layers"]):
        key = schema.activation_key(layer["activation"])
        if key not in cache:
            cache[key] = activation_codec.decode(layer["activation"], i)
        layers.append(LayerState(
            length=layer["length"],
            activation=cache[key],
            dropout=schema.dropout(layer, f"layers[{i}]"),
            weights=tensors[parameter_name(i, "weight")],
            biases=tensors[parameter_name(i, "bias")] if layer["bias"] else None,
            init=schema.init(layer, f"layers[{i}]"),
        ))
    training = model["training"]
    loss, metric_names = schema.fit_choice(model, file.source)
    return NetworkState(
        loss=loss,
        metrics=metric_names,
        inputs=model["inputs"],
        dtype=model["dtype"],
        seed=model["seed"],
        layers=layers,
        training=None if training is None else decode_training(
            training, tensors, model["dtype"], file.source
        ),
    )


def from_bytes(data: bytes) -> NetworkState:
    """The state held by ``.anynn`` file bytes (:func:`to_bytes`), fully validated.

    Raises
    ------
    ModelFileError
        If the data are malformed, truncated, corrupted, foreign, newer or hostile.
    """
    return _state(_parse(data, BYTES_LABEL))


def read_state(path: Any) -> NetworkState:
    """The state saved in the ``.anynn`` file at ``path``, fully validated.

    Raises
    ------
    ModelFileError
        If the file is missing, malformed, corrupted, foreign, newer or hostile.
    """
    return _state(read(path))


_loaders: list[Callable[[Any, Any, Any], Any]] = []


def register_loader(loader: Callable[[Any, Any, Any], Any]) -> None:
    """Set what :func:`load` calls: ``anynn.network`` registers ``Network.load`` on import
    (this package sits below the network and never imports it)."""
    _loaders[:] = [loader]


def load(path: Any, backend: Any = "numpy", dtype: Any = None) -> Any:
    """Rebuild a saved network on ``backend``: the same as :func:`anynn.load`."""
    return _loaders[0](path, backend, dtype)


def inspect(path: Any) -> dict[str, Any]:
    """Describe a model file without building the network or verifying activations.

    The file is fully checked and expression trees are parsed through the whitelist,
    but no activation is built, so no stability probe runs.

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
    labels: dict[str, str] = {}
    layers = []
    for i, layer in enumerate(model["layers"]):
        key = schema.activation_key(layer["activation"])
        if key not in labels:
            labels[key] = activation_codec.describe(layer["activation"], i)
        layers.append({"length": layer["length"], "bias": layer["bias"],
                       "activation": labels[key],
                       "dropout": schema.dropout(layer, f"layers[{i}]")})
    training = None
    if model["training"] is not None:
        training = decode_training(model["training"], file.tensors, model["dtype"], file.source)
    optimizer = None if training is None else training.optimizer
    history = None if training is None else training.history
    return {
        "format_version": file.version,
        "inputs": model["inputs"],
        "outputs": model["layers"][-1]["length"],
        "dtype": model["dtype"],
        "layers": layers,
        "n_parameters": sum(int(file.tensors[n].size) for n in schema.expected_tensors(model)),
        "seed": model["seed"],
        "optimizer": None if optimizer is None else optimizer["name"],
        "epochs": 0 if history is None else len(history.epoch),
    }
