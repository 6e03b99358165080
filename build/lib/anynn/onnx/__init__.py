"""ONNX export: a trained network runs in onnxruntime (or any ONNX runtime).

``anynn.onnx.export(net, "model.onnx")`` (or ``net.to_onnx("model.onnx")``, or the
command ``anynn export-onnx model.anynn model.onnx``) writes a model with one input
``X`` of shape ``(N, inputs)`` and the output ``Y``: MatMul + Add per layer, then the
activation translated from its verified stable form (:mod:`anynn.onnx.activation`), so
the graph computes what ``net.predict`` computes, as stably. Layout of the package:

- :mod:`~anynn.onnx.graph_builder`: the graph under construction and traced tensors;
- :mod:`~anynn.onnx.nodes`: the ONNX spelling of each supported SymPy node;
- :mod:`~anynn.onnx.elementary`: functions ONNX (or onnxruntime in float64) lacks;
- :mod:`~anynn.onnx.activation`: one layer's activation;
- :mod:`~anynn.onnx.model`: the whole network;
- :mod:`~anynn.onnx.estimators`: the scikit-learn estimators of :mod:`anynn.sklearn`.

``onnx`` is an optional dependency (``pip install "anynn[onnx]"``, which also installs
onnxruntime); importing anynn, or this package, never imports it.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import AnynnError, AnynnTypeError, AnynnValueError
from ..files import check_destination, write_atomic
from ..state import NetworkState

DEFAULT_OPSET = 17
"""The default opset: onnxruntime 1.13 and later load it (and IR version 8)."""
MIN_OPSET = 13
"""Oldest supported opset (per-axis ``Softmax``, ``Where`` and ``IsNaN`` in float64)."""


class OnnxUnavailableError(AnynnError, ImportError):
    """The ``onnx`` package (needed for export) is not installed."""


def require_onnx() -> Any:
    """Import and return the ``onnx`` module, or raise :class:`OnnxUnavailableError`."""
    try:
        return importlib.import_module("onnx")
    except ImportError as exc:
        raise OnnxUnavailableError(
            "ONNX export needs the 'onnx' package, which is not installed: "
            "pip install \"anynn[onnx]\" (installs onnx and onnxruntime)"
        ) from exc


def check_opset(opset: Any, latest: int) -> int:
    """Validate the opset number against what this exporter and ``onnx`` support."""
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise AnynnTypeError(f"opset must be an int; got {type(opset).__name__}: {opset!r}")
    if not MIN_OPSET <= int(opset) <= latest:
        raise AnynnValueError(
            f"opset must be between {MIN_OPSET} and {latest} (the newest the installed onnx "
            f"knows); got {opset}"
        )
    return int(opset)


def check_dtype(dtype: Any, default: str) -> np.dtype:
    """``float32`` or ``float64`` from a name or NumPy dtype; None means ``default``."""
    if dtype is None:
        dtype = default
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved is None or resolved not in (np.float32, np.float64):
        raise AnynnValueError(f"dtype must be 'float32' or 'float64'; got {dtype!r}")
    return resolved


def _state_of(net: Any) -> NetworkState:
    """The plain state of a Network (or ``net`` itself, already a NetworkState)."""
    if isinstance(net, NetworkState):
        return net
    state = getattr(net, "state", None)
    if not callable(state):
        raise AnynnTypeError(
            f"net must be an anynn.Network or a NetworkState; got {type(net).__name__}"
        )
    result = state()
    if not isinstance(result, NetworkState):
        raise AnynnTypeError(f"net.state() must return a NetworkState; got {type(result).__name__}")
    return result


def export(
    net: Any,
    path: str | os.PathLike[str] | None,
    *,
    opset: int = DEFAULT_OPSET,
    dtype: Any = None,
    outputs: Sequence[str] = ("Y",),
    native_ops: bool = False,
) -> Any:
    """Export ``net`` to an ONNX file and return the ``onnx.ModelProto``.

    Parameters
    ----------
    net : anynn.Network, anynn.state.NetworkState or a fitted anynn.sklearn estimator
        The network (any backend), its plain state (what a model file holds), or an
        ``MLPClassifier`` / ``MLPRegressor``, whose outputs are ``label`` and
        ``probabilities``, or ``variable`` (see :mod:`anynn.onnx.estimators`; ``outputs``
        does not apply).
    path : str or os.PathLike or None
        Where to write the model (atomically, checked before any work, as for
        :meth:`anynn.Network.save`); None writes nothing.
    opset : int, default 17
        ONNX opset of the default domain (13 up to the newest the installed onnx knows).
    dtype : {"float32", "float64"}, optional
        The graph's dtype; the network's by default.
    outputs : sequence of {"Y", "logits"}, default ("Y",)
        Graph outputs: ``Y`` is ``net.predict`` (probabilities after a sigmoid/softmax
        output layer), ``logits`` the last layer's pre-activation.
    native_ops : bool, default False
        Compute built-in activations with ONNX's own operators (Sigmoid, Softplus, Elu,
        Selu, LeakyRelu, Softsign, Gelu at opset 20, Mish at 18) where onnxruntime has a
        kernel for the dtype: smaller graphs, at onnxruntime's kernel accuracy.

    Raises
    ------
    OnnxUnavailableError
        If ``onnx`` is not installed.
    AnynnValueError, AnynnTypeError
        For a bad opset, dtype or outputs, or a layer whose activation is an ``(f, df)``
        pair of array functions (other than softmax).
    """
    onnx = require_onnx()
    if path is not None:
        check_destination(path)
    opset = check_opset(opset, onnx.defs.onnx_opset_version())
    from .estimators import estimator_model, is_estimator

    if is_estimator(net):
        resolved = check_dtype(dtype, net.network_.dtype)
        model = estimator_model(net, dtype=resolved, opset=opset, native_ops=bool(native_ops))
    else:
        state = _state_of(net)
        resolved = check_dtype(dtype, state.dtype)
        from .model import build_model, check_outputs

        model = build_model(
            state,
            dtype=resolved,
            opset=opset,
            outputs=check_outputs(outputs),
            native_ops=bool(native_ops),
            doc=f"anynn network: {state.inputs} inputs, layers "
            + ", ".join(f"{layer.length} {layer.activation.name}" for layer in state.layers),
        )
    if path is not None:
        write_atomic(path, model.SerializeToString())
    return model


__all__ = ["DEFAULT_OPSET", "OnnxUnavailableError", "export", "require_onnx"]
