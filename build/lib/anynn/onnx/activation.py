"""One layer's activation as ONNX nodes: the verified stable form, or a native operator.

:func:`emit_activation` translates the activation's :class:`anynn.symbolic.Form` (the
expression the NumPy and CuPy paths run, after the stability rewrite) node by node with
:mod:`anynn.onnx.nodes`, the way :func:`anynn.symbolic.generate_source` prints it:
the same straight-line code (:func:`anynn.symbolic.form.straight_line`: the bindings
used, ``t = exp(-|x|)``, then common subexpressions), the result, and the form's NaN
guard (``Where(IsNaN(x), x, f)``).
Softmax, the one non-elementwise built-in, is the ``Softmax`` operator; any other
``(f, df)`` pair of array functions has no expression to translate and is refused.

With ``native_ops=True``, built-ins that have an ONNX operator at the graph's opset
and an onnxruntime CPU kernel in its dtype use it (:data:`NATIVE_OPERATORS`): a smaller
graph, at the accuracy of onnxruntime's kernels (its float32 ``Sigmoid`` is off by up
to 6.5e-5 relative, and 0 below -18; measured), so that is a choice, not the default.
``Tanh``, ``Relu``, ``Erf``, ``Exp``, ``Log`` and ``Softmax`` are used in every case:
they match NumPy to float32 rounding, NaN included.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..activation import Activation
from ..errors import ActivationError
from ..symbolic import Form
from ..symbolic.form import straight_line
from .graph_builder import NAMESPACE, GraphBuilder, Traced
from .nodes import Emitter


def emit_form(builder: GraphBuilder, form: Form, x: Traced) -> Traced:
    """Emit ``form.f`` applied to ``x`` (the same computation as the compiled ``f``)."""
    emitter = Emitter(builder, form.symbol, x)
    steps, reduced = straight_line([form.f], form.bindings, "_b", "_t")
    for _, temp, value in steps:
        emitter.bind(temp, emitter.emit(value))
    result = emitter.array(reduced[0])
    if form.nan_guard[0]:
        result = NAMESPACE.where(NAMESPACE.isnan(x), x, result)
    return result


@dataclass(frozen=True)
class NativeOperator:
    """A built-in activation computed by one ONNX operator (or a short chain of them).

    Attributes
    ----------
    since : int
        The first opset with the operator.
    float64 : bool
        Whether onnxruntime's CPU provider has a float64 kernel for it.
    emit : callable
        ``emit(builder, x, params) -> tensor``.
    """

    since: int
    float64: bool
    emit: Callable[[GraphBuilder, Traced, dict[str, float]], Traced]


def _simple(op_type: str, **attrs: Any) -> Callable[[GraphBuilder, Traced, dict], Traced]:
    return lambda b, x, params: b.op(op_type, x, **attrs)


def _alpha(op_type: str) -> Callable[[GraphBuilder, Traced, dict], Traced]:
    return lambda b, x, params: b.op(op_type, x, alpha=float(params["alpha"]))


NATIVE_OPERATORS: dict[str, NativeOperator] = {
    "sigmoid": NativeOperator(13, True, _simple("Sigmoid")),
    "silu": NativeOperator(13, True, lambda b, x, p: x * b.op("Sigmoid", x)),
    "softplus": NativeOperator(1, False, _simple("Softplus")),
    "softsign": NativeOperator(1, False, _simple("Softsign")),
    "logsigmoid": NativeOperator(1, False, lambda b, x, p: -b.op("Softplus", -x)),
    "elu": NativeOperator(6, False, _alpha("Elu")),
    "leaky_relu": NativeOperator(16, False, _alpha("LeakyRelu")),
    "selu": NativeOperator(6, False, _simple("Selu")),
    "gelu": NativeOperator(20, False, _simple("Gelu")),
    "gelu_tanh": NativeOperator(20, False, _simple("Gelu", approximate="tanh")),
    "mish": NativeOperator(18, False, _simple("Mish")),
}
"""Built-ins with an ONNX operator, used when ``native_ops=True`` where available."""


def emit_activation(
    builder: GraphBuilder, activation: Activation, x: Traced, *, native_ops: bool = False
) -> Traced:
    """Emit ``activation`` applied to ``x``.

    Raises
    ------
    ActivationError
        For an ``(f, df)`` pair of array functions other than the built-in softmax.
    """
    if activation.builtin == "softmax":
        return builder.op("Softmax", x, axis=-1)
    if not activation.elementwise:
        raise ActivationError(
            f"the activation {activation.name!r} is an (f, df) pair of array functions: "
            "it has no expression to translate to ONNX; write it as a SymPy expression "
            "(or use the built-in 'softmax')"
        )
    native = NATIVE_OPERATORS.get(activation.builtin or "") if native_ops else None
    if (
        native is not None
        and builder.opset >= native.since
        and (native.float64 or not _is_float64(builder))
    ):
        return native.emit(builder, x, activation.params)
    return emit_form(builder, activation.form, x)


def _is_float64(builder: GraphBuilder) -> bool:
    return builder.dtype.itemsize == 8
