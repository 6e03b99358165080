"""The training state of a model file: optimizer state, history and RNG state.

A state is stored as JSON: arrays become tensors named ``training.{n}`` (referenced as
``{"__tensor__": name}``, each used exactly once), non-finite floats become
``{"__float__": "nan" | "inf" | "-inf"}``. Decoding checks the nesting depth, every
tensor reference and the bit generator's name before anything is restored.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import optimizers
from ..backend import Backend, to_numpy
from ..errors import AnynnValueError, ModelFileError
from ..history import History
from ..state import TrainingState, generator_from_state
from .container import little_endian, mapping

MAX_STATE_DEPTH = 16
"""Deepest nesting of a saved training state."""

_TENSOR_TAG, _FLOAT_TAG = "__tensor__", "__float__"
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def encode_training(training: TrainingState, tensors: dict[str, np.ndarray]) -> dict[str, Any]:
    """JSON form of a training state; its arrays go into ``tensors`` as ``training.{n}``.

    Raises
    ------
    AnynnValueError
        If a state holds a value that cannot be saved, or uses a reserved key.
    """
    history = training.history
    return {
        "optimizer": None if training.optimizer is None else _encode_state(
            training.optimizer, tensors, "optimizer"
        ),
        "history": None if history is None else _encode_state(
            history.to_dict(), tensors, "history"
        ),
        "rng": _encode_state(training.rng, tensors, "rng"),
    }


def _encode_state(value: Any, tensors: dict[str, np.ndarray], where: str) -> Any:
    """JSON form of a state: arrays become tensors, non-finite floats become tags."""
    if isinstance(value, np.ndarray) or (
        hasattr(value, "__dlpack__") and not isinstance(value, np.generic)
    ):
        name = f"training.{sum(n.startswith('training.') for n in tensors)}"
        tensors[name] = little_endian(np.asarray(to_numpy(value)))
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


def decode_training(
    training: dict[str, Any], tensors: dict[str, np.ndarray], dtype: str,
    where: str = "training state",
) -> TrainingState:
    """The saved training state, each part validated.

    ``training`` is the checked ``training`` object of the model description (keys
    ``optimizer``, ``history``, ``rng``); ``tensors`` are the file's verified tensors;
    ``dtype`` is the file's parameter dtype (the optimizer state is checked against it);
    ``where`` names the file in error messages.

    Raises
    ------
    ModelFileError
        If a state is malformed, names a missing tensor, leaves one unused, holds a
        non-finite optimizer array, a history whose lists disagree in length or whose
        epochs do not increase, or is rejected by NumPy or the optimizer.
    """
    used: set[str] = set()
    try:
        state = {k: _decode_state(v, tensors, used, 0) for k, v in training.items()}
        unused = {n for n in tensors if n.startswith("training.")} - used
        if unused:
            raise ModelFileError(f"training tensors {sorted(unused)[:5]} are not referenced")
        rng = mapping(state["rng"], "rng state")
        generator_from_state(rng)
        optimizer = None
        if state["optimizer"] is not None:
            optimizer = mapping(state["optimizer"], "optimizer state")
            _check_finite_arrays(optimizer, training["optimizer"])
            optimizers.from_state(optimizer, Backend("numpy", dtype))  # validates only
        history = None
        if state["history"] is not None:
            history = _history(mapping(state["history"], "history", {"history", "epoch"}))
    except ModelFileError as exc:
        raise ModelFileError(f"{where}: invalid training state: {exc}") from None
    except Exception as exc:  # numpy / optimizer validation of the restored state
        raise ModelFileError(f"{where}: invalid training state: {exc}") from exc
    return TrainingState(rng=rng, optimizer=optimizer, history=history)


def _check_finite_arrays(optimizer: dict[str, Any], stored: Any) -> None:
    """Every optimizer state array is finite (a NaN moment would only surface later, as
    a diverged ``fit``); the message names the state key and the file's tensor."""
    arrays = optimizer.get("arrays")
    if not isinstance(arrays, dict):
        return  # the optimizer's own validation reports it
    stored_arrays = stored.get("arrays") if isinstance(stored, dict) else None
    for key, value in arrays.items():
        if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.floating):
            bad = int(np.count_nonzero(~np.isfinite(value)))
            if bad:
                tensor = (stored_arrays or {}).get(key, {}).get(_TENSOR_TAG, "?")
                raise ModelFileError(
                    f"optimizer state arrays[{key!r}] (tensor {tensor}) holds {bad} "
                    "non-finite value(s) (NaN or inf)"
                )


def _history(state: dict[str, Any]) -> History:
    values, epochs = state["history"], state["epoch"]
    if not isinstance(values, dict) or not all(
        isinstance(v, list) and all(isinstance(x, (int, float)) for x in v)
        for v in values.values()
    ):
        raise ModelFileError("history must map names to lists of numbers")
    if not isinstance(epochs, list) or not all(
        isinstance(e, int) and not isinstance(e, bool) for e in epochs
    ):
        raise ModelFileError("history epochs must be a list of integers")
    for key, series in values.items():
        if len(series) != len(epochs):
            raise ModelFileError(
                f"history[{str(key)[:40]!r}] holds {len(series)} value(s) but history "
                f"epoch holds {len(epochs)}: every list must have one value per epoch"
            )
    previous = -1
    for i, epoch in enumerate(epochs):
        if epoch <= previous:
            raise ModelFileError(
                f"history epoch must be increasing integers >= 0; epoch[{i}] is {epoch} "
                f"after {previous}"
            )
        previous = epoch
    return History.from_dict(state)
