"""Building an ONNX graph by computing on traced tensors.

:class:`GraphBuilder` collects nodes and initializers of one graph in one float dtype;
:class:`Traced` is a tensor of that graph with Python operators (``a + 1.0``,
``x < 0.0``) and an ``__array_namespace__`` (:class:`TracingNamespace`), so code written
against the Array API standard, such as :func:`anynn.backend.special.erf` or the decompositions
in :mod:`anynn.onnx.elementary`, runs on it unchanged and emits the same computation as
ONNX nodes. Python numbers become scalar initializers of the graph dtype, as they become
values of the array dtype in the Array API (a Python float never upcasts float32).

Only this module imports ``onnx``; it is imported lazily by :mod:`anynn.onnx`.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from onnx import NodeProto, TensorProto, helper, numpy_helper


class GraphBuilder:
    """Nodes and initializers of one ONNX graph computing in ``dtype``.

    Parameters
    ----------
    dtype : numpy.dtype
        ``float32`` or ``float64``: every float tensor and constant of the graph.
    opset : int
        The default-domain opset the nodes must exist in.
    """

    def __init__(self, dtype: np.dtype, opset: int) -> None:
        self.dtype = np.dtype(dtype)
        self.opset = opset
        self.nodes: list[NodeProto] = []
        self.initializers: list[TensorProto] = []
        self._constants: dict[tuple[str, float], str] = {}
        self._counts: dict[str, int] = {}
        self.scope = "act"
        """Prefix of the names of nodes and tensors emitted next."""

    def retyped(self, dtype: np.dtype) -> GraphBuilder:
        """A builder of the same graph whose constants have ``dtype``."""
        other = GraphBuilder(dtype, self.opset)
        other.nodes, other.initializers = self.nodes, self.initializers
        other._constants, other._counts, other.scope = self._constants, self._counts, self.scope
        return other

    def cast(self, x: Traced) -> Traced:
        """``x`` converted to this builder's dtype (a ``Cast`` node)."""
        return self.op("Cast", x, to=self.tensor_type)

    @property
    def tensor_type(self) -> int:
        """The ``TensorProto`` element type of the graph's floats."""
        return TensorProto.FLOAT if self.dtype == np.float32 else TensorProto.DOUBLE

    def _name(self, stem: str) -> str:
        key = f"{self.scope}/{stem}"
        count = self._counts.get(key, 0)
        self._counts[key] = count + 1
        return f"{key}_{count}"

    def constant(self, value: float | bool) -> Traced:
        """A scalar initializer holding ``value`` (a bool stays bool, numbers get ``dtype``)."""
        if isinstance(value, (bool, np.bool_)):
            key, array = ("bool", float(value)), np.asarray(bool(value))
        else:
            number = float(value)
            key = ("nan", 0.0) if math.isnan(number) else (self.dtype.name, number)
            array = np.asarray(number, dtype=self.dtype)
        name = self._constants.get(key)
        if name is None:
            name = f"const/{key[0]}_{len(self._constants)}"
            self._constants[key] = name
            self.initializers.append(numpy_helper.from_array(array, name))
        return Traced(self, name)

    def initializer(self, array: np.ndarray, name: str) -> Traced:
        """A named initializer holding ``array`` converted to the graph dtype."""
        self.initializers.append(numpy_helper.from_array(np.asarray(array, self.dtype), name))
        return Traced(self, name)

    def op(self, op_type: str, *inputs: Traced, output: str | None = None, **attrs: Any) -> Traced:
        """Emit one node of the default domain; returns its (single) output."""
        name = output if output is not None else self._name(op_type)
        self.nodes.append(
            helper.make_node(op_type, [t.name for t in inputs], [name], name=name, **attrs)
        )
        return Traced(self, name)

    def operand(self, value: Any) -> Traced:
        """``value`` as a tensor of this graph (numbers become constants)."""
        if isinstance(value, Traced):
            return value
        if isinstance(value, (bool, np.bool_)):
            return self.constant(bool(value))
        if isinstance(value, (int, float, np.floating, np.integer)):
            return self.constant(float(value))
        raise TypeError(f"cannot use {type(value).__name__} in an ONNX graph")


class Traced:
    """One tensor of a :class:`GraphBuilder`, with the operators of an Array API array."""

    __slots__ = ("builder", "name")

    def __init__(self, builder: GraphBuilder, name: str) -> None:
        self.builder = builder
        self.name = name

    def __repr__(self) -> str:
        return f"Traced({self.name})"

    @property
    def dtype(self) -> np.dtype:
        """The dtype of the tensor (the builder's)."""
        return self.builder.dtype

    def __array_namespace__(self, api_version: str | None = None) -> TracingNamespace:
        return NAMESPACE

    def _binary(self, op_type: str, other: Any, reverse: bool = False) -> Traced:
        right = self.builder.operand(other)
        pair = (right, self) if reverse else (self, right)
        return self.builder.op(op_type, *pair)

    def __add__(self, other: Any) -> Traced:
        return self._binary("Add", other)

    def __radd__(self, other: Any) -> Traced:
        return self._binary("Add", other, reverse=True)

    def __sub__(self, other: Any) -> Traced:
        return self._binary("Sub", other)

    def __rsub__(self, other: Any) -> Traced:
        return self._binary("Sub", other, reverse=True)

    def __mul__(self, other: Any) -> Traced:
        return self._binary("Mul", other)

    def __rmul__(self, other: Any) -> Traced:
        return self._binary("Mul", other, reverse=True)

    def __truediv__(self, other: Any) -> Traced:
        return self._binary("Div", other)

    def __rtruediv__(self, other: Any) -> Traced:
        return self._binary("Div", other, reverse=True)

    def __pow__(self, other: Any) -> Traced:
        return self._binary("Pow", other)

    def __neg__(self) -> Traced:
        return self.builder.op("Neg", self)

    def __lt__(self, other: Any) -> Traced:
        return self._binary("Less", other)

    def __le__(self, other: Any) -> Traced:
        return self._binary("LessOrEqual", other)

    def __gt__(self, other: Any) -> Traced:
        return self._binary("Greater", other)

    def __ge__(self, other: Any) -> Traced:
        return self._binary("GreaterOrEqual", other)

    def __eq__(self, other: object) -> Traced:  # type: ignore[override]
        return self._binary("Equal", other)

    def __ne__(self, other: object) -> Traced:  # type: ignore[override]
        return self.builder.op("Not", self._binary("Equal", other))

    def __and__(self, other: Traced) -> Traced:
        return self.builder.op("And", self, other)

    def __or__(self, other: Traced) -> Traced:
        return self.builder.op("Or", self, other)

    def __invert__(self) -> Traced:
        return self.builder.op("Not", self)

    __hash__ = None  # type: ignore[assignment]


def _unary(op_type: str) -> Any:
    def function(x: Traced) -> Traced:
        return x.builder.op(op_type, x)

    function.__name__ = op_type.lower()
    return function


class TracingNamespace:
    """The part of the Array API that anynn's decompositions use, emitting ONNX nodes."""

    __name__ = "anynn.onnx.tracing"
    float32 = np.dtype(np.float32)
    float64 = np.dtype(np.float64)

    exp = staticmethod(_unary("Exp"))
    log = staticmethod(_unary("Log"))
    sqrt = staticmethod(_unary("Sqrt"))
    abs = staticmethod(_unary("Abs"))
    sign = staticmethod(_unary("Sign"))
    floor = staticmethod(_unary("Floor"))
    sin = staticmethod(_unary("Sin"))
    cos = staticmethod(_unary("Cos"))
    tanh = staticmethod(_unary("Tanh"))
    isnan = staticmethod(_unary("IsNaN"))

    @staticmethod
    def astype(x: Traced, dtype: np.dtype) -> Traced:
        """``x`` cast to ``dtype``; what is computed from it gets constants of ``dtype``."""
        if x.dtype == dtype:
            return x
        return x.builder.retyped(dtype).cast(x)

    @staticmethod
    def isinf(x: Traced) -> Traced:
        """Whether ``x`` is infinite (either sign)."""
        return x.builder.op("IsInf", x)

    @staticmethod
    def where(condition: Traced, x1: Any, x2: Any) -> Traced:
        """``Where``; at least one of the three must be a tensor."""
        builder = _builder_of(condition, x1, x2)
        return builder.op(
            "Where", builder.operand(condition), builder.operand(x1), builder.operand(x2)
        )

    @staticmethod
    def maximum(x1: Any, x2: Any) -> Traced:
        """Elementwise maximum (``Max``, which propagates NaN like ``numpy.maximum``)."""
        builder = _builder_of(x1, x2)
        return builder.op("Max", builder.operand(x1), builder.operand(x2))

    @staticmethod
    def minimum(x1: Any, x2: Any) -> Traced:
        """Elementwise minimum (``Min``, which propagates NaN like ``numpy.minimum``)."""
        builder = _builder_of(x1, x2)
        return builder.op("Min", builder.operand(x1), builder.operand(x2))

    @staticmethod
    def logical_and(x1: Traced, x2: Traced) -> Traced:
        """``And`` of two boolean tensors."""
        return x1.builder.op("And", x1, x2)

    @staticmethod
    def logical_or(x1: Traced, x2: Traced) -> Traced:
        """``Or`` of two boolean tensors."""
        return x1.builder.op("Or", x1, x2)


def _builder_of(*values: Any) -> GraphBuilder:
    for value in values:
        if isinstance(value, Traced):
            return value.builder
    raise TypeError("at least one operand must be a traced tensor")


NAMESPACE = TracingNamespace()
