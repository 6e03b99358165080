"""The model description of a ``.anynn`` file: its keys, limits and consistency checks.

Every check here runs on the parsed JSON and the raw tensor table, before anything is
decoded or built; every failure is one :class:`~anynn.errors.ModelFileError`.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from .. import initializers, losses, metrics
from ..errors import ModelFileError
from ..initializers import LayerInit
from ..state import parameter_name
from . import activation_codec
from .container import DTYPES, Table, bad, checked_int, mapping

FORMAT_NAME = "anynn"
FORMAT_VERSION = 1
"""The newest file version this anynn writes and reads."""

MAX_LAYERS = 10_000
MAX_WIDTH = 2**31 - 1
MAX_EXPRESSIONS = 64
"""Most distinct expression activations in one file (built-ins by name do not count):
each one is verified against mpmath when loaded, which takes up to a second or so."""

DTYPE_CODE = {"float32": "F32", "float64": "F64"}
METADATA_KEYS = {"format", "format_version", "model", "model_sha256"}
MODEL_KEYS = {"inputs", "dtype", "seed", "layers", "tensors", "training"}
FIT_KEY = "fit"
"""Optional model key: ``{"loss": name, "metrics": [names]}`` of the last fit."""
TRAINING_KEYS = {"optimizer", "history", "rng"}
LAYER_KEYS = {"length", "bias", "activation"}
DROPOUT_KEY = "dropout"
INIT_KEY = "init"
OPTIONAL_LAYER_KEYS = {DROPOUT_KEY, INIT_KEY}


def check_version(where: str, metadata: dict[str, Any]) -> int:
    """The file's format version, checked to be one this anynn reads."""
    if metadata.get("format") != FORMAT_NAME:
        raise bad(
            where,
            "a safetensors file, but not an anynn model (its metadata format is "
            f"{str(metadata.get('format'))[:40]!r}, expected {FORMAT_NAME!r})",
        )
    text = metadata.get("format_version")
    if not isinstance(text, str) or not text.isdigit() or len(text) > 6:
        raise bad(where, f"invalid format_version {str(text)[:40]!r}")
    version = int(text)
    if version > FORMAT_VERSION:
        raise bad(
            where,
            f"written by a newer anynn (format version {version}); this anynn reads "
            f"versions up to {FORMAT_VERSION}: upgrade anynn to load it",
        )
    if version < 1:
        raise bad(where, f"invalid format_version {version}")
    return version


def check_metadata(where: str, metadata: dict[str, Any]) -> None:
    """The metadata holds exactly the expected strings and the model matches its digest."""
    if set(metadata) != METADATA_KEYS or not all(isinstance(v, str) for v in metadata.values()):
        raise bad(where, f"__metadata__ must hold exactly the strings {sorted(METADATA_KEYS)}")
    model_digest = hashlib.sha256(metadata["model"].encode("utf-8", "surrogatepass")).hexdigest()
    if model_digest != metadata["model_sha256"]:
        raise bad(where, "the model description does not match its digest (corrupted file)")


def check_model(where: str, model: Any) -> dict[str, Any]:
    """The model description, checked key by key (activations by shape only)."""
    model = mapping(model, f"{where}: the model description")
    if not MODEL_KEYS <= set(model) <= MODEL_KEYS | {FIT_KEY}:
        raise bad(where, f"the model description must have the keys {sorted(MODEL_KEYS)} "
                         f"and optionally {FIT_KEY!r}; got {sorted(model)[:20]}")
    fit_choice(model, where)
    checked_int(model["inputs"], f"{where}: inputs", 1, MAX_WIDTH)
    if model["dtype"] not in DTYPE_CODE:
        raise bad(where, f"dtype must be float32 or float64; got {str(model['dtype'])[:40]!r}")
    if model["seed"] is not None:
        checked_int(model["seed"], f"{where}: seed", 0, 2**128)
    layers = model["layers"]
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise bad(where, f"layers must be a list of 1 to {MAX_LAYERS} layers")
    for i, layer in enumerate(layers):
        at = f"{where}: layers[{i}]"
        layer = mapping(layer, at)
        if not LAYER_KEYS <= set(layer) <= LAYER_KEYS | OPTIONAL_LAYER_KEYS:
            raise ModelFileError(
                f"{at} must have the keys {sorted(LAYER_KEYS)} and optionally "
                f"{sorted(OPTIONAL_LAYER_KEYS)}; got {sorted(layer)[:20]}"
            )
        checked_int(layer["length"], f"{at} length", 1, MAX_WIDTH)
        if not isinstance(layer["bias"], bool):
            raise ModelFileError(f"{at}: bias must be true or false")
        activation_codec.check(layer["activation"], at)
        if dropout(layer, at) and i == len(layers) - 1:
            raise ModelFileError(f"{at}: the output layer cannot take dropout")
        init(layer, at)
    expressions = {activation_key(layer["activation"]) for layer in layers}
    expressions = {key for key in expressions if key.startswith('{"expression"')}
    if len(expressions) > MAX_EXPRESSIONS:
        raise bad(
            where,
            f"{len(expressions)} distinct activation expressions; at most {MAX_EXPRESSIONS} "
            "are accepted (each is verified when loaded)",
        )
    digests = mapping(model["tensors"], f"{where}: tensors")
    for name, text in digests.items():
        if not isinstance(text, str) or len(text) != 64:
            raise ModelFileError(f"{where}: the digest of {name[:80]!r} is not a SHA-256 hex")
    if model["training"] is not None:
        mapping(model["training"], f"{where}: training", TRAINING_KEYS)
    return model


def activation_key(spec: dict[str, Any]) -> str:
    """A canonical text of a checked activation description (equal specs, equal keys)."""
    return json.dumps(spec, sort_keys=True, separators=(",", ":"))


def dropout(layer: dict[str, Any], where: str) -> float:
    """The layer's checked dropout rate: a float in [0, 1), 0.0 where the key is absent."""
    rate = layer.get(DROPOUT_KEY, 0.0)
    if not isinstance(rate, float) or not 0.0 <= rate < 1.0:
        raise ModelFileError(f"{where}: dropout must be a float in [0, 1); got {rate!r:.40}")
    return rate


def init(layer: dict[str, Any], where: str) -> LayerInit | None:
    """The layer's checked initialisation, None where the key is absent (the defaults).

    Stored as ``{"weights": name or null, "biases": name}``; names are the schemes of
    :mod:`anynn.initializers` or ``"custom"`` (a callable, which is not stored).
    """
    if INIT_KEY not in layer:
        return None
    names = mapping(layer[INIT_KEY], f"{where}: init", {"weights", "biases"})
    known = set(initializers.SCHEMES) | {initializers.CUSTOM}
    for key, name in names.items():
        if not (name in known or (key == "weights" and name is None)):
            raise ModelFileError(
                f"{where}: init {key} must be one of {sorted(known)}; got {str(name)[:40]!r}"
            )
    return initializers.layer_init(names)


def fit_choice(model: dict[str, Any], where: str) -> tuple[str | None, list[str]]:
    """The checked loss and metric names of the last fit (None and [] where absent)."""
    if FIT_KEY not in model:
        return None, []
    fit = mapping(model[FIT_KEY], f"{where}: fit", {"loss", "metrics"})
    loss, names = fit["loss"], fit["metrics"]
    if loss is not None and not (isinstance(loss, str) and loss in losses.LOSSES):
        raise bad(where, f"fit loss must be one of {sorted(losses.LOSSES)}; got {str(loss)[:40]!r}")
    if not isinstance(names, list) or not all(
        isinstance(n, str) and n in metrics.METRICS for n in names
    ):
        raise bad(where, f"fit metrics must be a list of {sorted(metrics.METRICS)}")
    return loss, list(names)


def expected_tensors(model: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The shape of every parameter tensor the architecture calls for, by name."""
    shapes: dict[str, tuple[int, ...]] = {}
    width = model["inputs"]
    for i, layer in enumerate(model["layers"]):
        shapes[parameter_name(i, "weight")] = (width, layer["length"])
        if layer["bias"]:
            shapes[parameter_name(i, "bias")] = (layer["length"],)
        width = layer["length"]
    return shapes


def check_tensors(where: str, model: dict[str, Any], table: Table) -> None:
    """Names, shapes and dtypes against the architecture; digests against the data."""
    digests = model["tensors"]
    if set(table) != set(digests):
        missing = sorted(set(digests) - set(table))[:5]
        extra = sorted(set(table) - set(digests))[:5]
        raise bad(where, f"tensors do not match the description (missing {missing}, extra {extra})")
    training_names = {n for n in table if n.startswith("training.")}
    if training_names and model["training"] is None:
        raise bad(where, "training tensors without a training state")
    code = DTYPE_CODE[model["dtype"]]
    expected = expected_tensors(model)
    for name, shape in expected.items():
        if name not in table:
            raise bad(where, f"the tensor {name} is missing")
        dtype, seen, _ = table[name]
        if seen != shape or dtype != DTYPES[code]:
            raise bad(
                where,
                f"{name} must be {model['dtype']} of shape {shape}; got {dtype} of shape {seen}",
            )
    unknown = set(table) - set(expected) - training_names
    if unknown:
        raise bad(where, f"unexpected tensors {sorted(unknown)[:5]}")
    for name, (_, _, raw) in table.items():
        if hashlib.sha256(raw).hexdigest() != digests[name]:
            raise bad(where, f"the data of {name} does not match its digest (corrupted file)")


def check_finite_parameters(where: str, model: dict[str, Any], tensors: dict[str, Any]) -> None:
    """Every weight and bias is finite (a NaN written into a file by hand, digests redone)."""
    for name in expected_tensors(model):
        bad = int(np.count_nonzero(~np.isfinite(tensors[name])))
        if bad:
            first = tuple(int(i) for i in np.argwhere(~np.isfinite(tensors[name]))[0])
            raise ModelFileError(
                f"{where}: the tensor {name} holds {bad} non-finite value(s) (NaN or inf), "
                f"the first at index {first}"
            )
