"""A network (its :class:`anynn.state.NetworkState`) as an ONNX model: MatMul + Add +
activation per layer.

The graph has one input ``X`` of shape ``(N, inputs)`` (``N`` is a dynamic batch
dimension) and the output ``Y`` of shape ``(N, outputs)``: what :meth:`Network.predict`
returns (probabilities after a sigmoid or softmax output, also for networks trained with
a fused logits loss). ``outputs=("Y", "logits")`` adds the last layer's pre-activation
``logits``. Weights and biases are initializers named like the parameters
(``layers.0.weight``); dropout is absent (inference). Every tensor and constant has the
graph's dtype. The metadata records the producer, the anynn version and, per layer, the
activation's name, its expression and the stable form that was translated.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper

from ..activation import Activation
from ..errors import AnynnValueError
from ..state import NetworkState, parameter_name
from .activation import emit_activation
from .graph_builder import GraphBuilder, Traced


def anynn_version() -> str:
    """The running anynn's ``__version__``, read from the already loaded package (an
    import of the package here would close an import cycle through ``anynn.network``)."""
    return str(sys.modules[__name__.split(".")[0]].__version__)


OUTPUT_NAMES = ("Y", "logits")
"""The outputs a model can have: the network's output and the last pre-activation."""


def check_outputs(outputs: Sequence[str]) -> tuple[str, ...]:
    """Validate ``outputs`` (a non-empty subset of :data:`OUTPUT_NAMES`)."""
    if isinstance(outputs, str) or not isinstance(outputs, Sequence) or not outputs:
        raise AnynnValueError(
            f"outputs must be a non-empty sequence of names from {OUTPUT_NAMES}; got {outputs!r}"
        )
    for name in outputs:
        if name not in OUTPUT_NAMES:
            raise AnynnValueError(
                f"outputs: unknown output {name!r}; expected one of {OUTPUT_NAMES}"
            )
    if len(set(outputs)) != len(outputs):
        raise AnynnValueError(f"outputs must not repeat a name; got {tuple(outputs)!r}")
    return tuple(outputs)


def _metadata(activations: Sequence[Activation]) -> dict[str, str]:
    props = {"anynn.version": anynn_version(), "anynn.layers": str(len(activations))}
    for i, activation in enumerate(activations):
        props[f"anynn.layers.{i}.activation"] = activation.name
        if activation.expr is not None:
            props[f"anynn.layers.{i}.expression"] = str(activation.expr)
            props[f"anynn.layers.{i}.stable_form"] = str(activation.form.f)
    return props


def emit_network(
    builder: GraphBuilder, state: NetworkState, *, native_ops: bool = False
) -> tuple[Traced, Traced]:
    """Emit the layers of ``state`` on the input ``X``; returns ``(output, logits)``."""
    x = Traced(builder, "X")
    logits = x
    for i, layer in enumerate(state.layers):
        builder.scope = f"layers.{i}"
        weight = builder.initializer(layer.weights, parameter_name(i, "weight"))
        z = builder.op("MatMul", x, weight)
        if layer.biases is not None:
            z = builder.op("Add", z, builder.initializer(layer.biases, parameter_name(i, "bias")))
        logits = z
        x = emit_activation(builder, layer.activation, z, native_ops=native_ops)
    builder.scope = "outputs"
    return x, logits


def make_model(
    builder: GraphBuilder,
    state: NetworkState,
    outputs: Sequence[tuple[str, Traced, int, list[Any]]],
    doc: str = "",
) -> onnx.ModelProto:
    """The checked model of ``builder``'s graph with input ``X`` and ``outputs``.

    Each output is ``(name, tensor, element type, shape)``; ``Identity`` nodes give the
    tensors their names. Constants no node reads (a ``Heaviside``'s value at 0, which
    anynn does not use) are left out.
    """
    for name, tensor, _, _ in outputs:
        builder.op("Identity", tensor, output=name)
    used = {name for node in builder.nodes for name in node.input}
    graph = helper.make_graph(
        builder.nodes,
        "anynn",
        [helper.make_tensor_value_info("X", builder.tensor_type, ["N", state.inputs])],
        [helper.make_tensor_value_info(n, kind, shape) for n, _, kind, shape in outputs],
        initializer=[i for i in builder.initializers if i.name in used],
        doc_string=doc,
    )
    opsets = [helper.make_opsetid("", builder.opset)]
    model = helper.make_model(
        graph,
        opset_imports=opsets,
        producer_name="anynn",
        producer_version=anynn_version(),
        doc_string=doc,
    )
    model.ir_version = helper.find_min_ir_version_for(opsets)
    helper.set_model_props(model, _metadata([layer.activation for layer in state.layers]))
    onnx.checker.check_model(model, full_check=True)
    return model


def build_model(
    state: NetworkState,
    *,
    dtype: np.dtype,
    opset: int,
    outputs: Sequence[str] = ("Y",),
    native_ops: bool = False,
    doc: str = "",
) -> onnx.ModelProto:
    """The ONNX model of the network ``state``.

    Parameters
    ----------
    state : NetworkState
        The network as plain data (host weights and biases, activations).
    dtype : numpy.dtype
        ``float32`` or ``float64``.
    opset : int
        Default-domain opset.
    outputs : sequence of str
        Names from :data:`OUTPUT_NAMES`, in the graph's output order.
    native_ops : bool
        Use ONNX's activation operators for built-ins (see :mod:`anynn.onnx.activation`).
    """
    builder = GraphBuilder(dtype, opset)
    output, logits = emit_network(builder, state, native_ops=native_ops)
    results = {"Y": output, "logits": logits}
    shape = ["N", state.layers[-1].length]
    return make_model(
        builder, state, [(n, results[n], builder.tensor_type, shape) for n in outputs], doc
    )
