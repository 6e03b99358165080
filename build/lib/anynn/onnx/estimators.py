"""The scikit-learn estimators of :mod:`anynn.sklearn` as ONNX models.

The outputs are those skl2onnx gives scikit-learn's own MLPs (with ``zipmap=False``),
built from standard operators only (no ``ai.onnx.ml`` domain):

- ``MLPClassifier``: ``label`` (``(N,)``, the type of ``classes_``: ``Gather`` of
  ``classes_`` at the ``ArgMax`` of the probabilities, or at ``p > 0.5`` for one
  logistic output) and ``probabilities`` (``(N, n_classes)``, ``[1 - p, p]`` for one
  logistic output); for multilabel targets ``label`` is the ``(N, n_labels)`` int64
  indicator ``p > 0.5`` and ``probabilities`` the per-label probabilities. These equal
  ``predict`` and ``predict_proba``.
- ``MLPRegressor``: ``variable`` (``(N, n_outputs)``), equal to ``predict`` (reshaped).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto, numpy_helper

from ..errors import AnynnTypeError
from .graph_builder import GraphBuilder, Traced
from .model import emit_network, make_model


def is_estimator(obj: Any) -> bool:
    """Whether ``obj`` is a fitted estimator of :mod:`anynn.sklearn` (duck-typed)."""
    return hasattr(obj, "out_activation_") and "network_" in vars(obj)


def _classes(builder: GraphBuilder, classes: np.ndarray) -> tuple[Traced, int]:
    """``classes_`` as an initializer, and its ONNX element type."""
    values = np.asarray(classes)
    if values.dtype.kind in "USO":
        values = np.array([str(v) for v in values], dtype=object)
    tensor = numpy_helper.from_array(values, "classes")
    builder.initializers.append(tensor)
    return Traced(builder, "classes"), tensor.data_type


def estimator_model(estimator: Any, *, dtype: np.dtype, opset: int, native_ops: bool) -> Any:
    """The ONNX model of a fitted ``anynn.sklearn`` estimator (see the module docstring)."""
    if not is_estimator(estimator):
        raise AnynnTypeError(
            f"expected a fitted anynn.sklearn estimator; got {type(estimator).__name__}"
        )
    state = estimator.network_.state()
    builder = GraphBuilder(dtype, opset)
    output, _ = emit_network(builder, state, native_ops=native_ops)
    width = state.layers[-1].length
    doc = f"anynn.sklearn.{type(estimator).__name__}"
    if not hasattr(estimator, "classes_"):
        return make_model(builder, state, [("variable", output, builder.tensor_type,
                                            ["N", width])], doc)
    half = builder.constant(0.5)
    if estimator.out_activation_ == "logistic" and width > 1:  # multilabel indicators
        label = builder.op("Cast", builder.op("Greater", output, half), to=TensorProto.INT64)
        outputs = [("label", label, TensorProto.INT64, ["N", width]),
                   ("probabilities", output, builder.tensor_type, ["N", width])]
        return make_model(builder, state, outputs, doc)
    classes, label_type = _classes(builder, estimator.classes_)
    if estimator.out_activation_ == "logistic":  # binary: one unit, p of classes_[1]
        probabilities = builder.op("Concat", 1.0 - output, output, axis=1)
        index = builder.op("Cast", builder.op("Greater", output, half), to=TensorProto.INT64)
        index = builder.op("Squeeze", index, _squeeze_axes(builder))
    else:
        probabilities = output
        index = builder.op("ArgMax", output, axis=1, keepdims=0)
    label = builder.op("Gather", classes, index, axis=0)
    n_classes = len(estimator.classes_)
    outputs = [("label", label, label_type, ["N"]),
               ("probabilities", probabilities, builder.tensor_type, ["N", n_classes])]
    return make_model(builder, state, outputs, doc)


def _squeeze_axes(builder: GraphBuilder) -> Traced:
    """The int64 initializer ``[1]`` (``Squeeze``'s axes input from opset 13)."""
    name = "axes/1"
    if all(init.name != name for init in builder.initializers):
        builder.initializers.append(numpy_helper.from_array(np.array([1], np.int64), name))
    return Traced(builder, name)
