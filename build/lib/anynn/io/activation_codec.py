"""Activations in the model file: a built-in by name and parameters, or a JSON tree.

Three levels of trust: :func:`check` validates a description's shape, :func:`describe`
also parses it through the whitelist (:mod:`anynn.exprtree`) to name it, without building
or verifying anything, and :func:`decode` builds the activation (an expression is then
verified against mpmath, which may take up to a second).
"""

from __future__ import annotations

from typing import Any

from .. import activations
from ..errors import ActivationError, AnynnError, ModelFileError
from ..symbolic import exprtree
from .container import mapping


def encode(activation: activations.Activation, index: int) -> dict[str, Any]:
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


def check(spec: Any, where: str) -> None:
    """Check the shape of an activation description (nothing is parsed or built).

    Raises
    ------
    ModelFileError
        If it is neither ``{builtin, params}`` with a known name and at most 16 numbers,
        nor ``{expression}``.
    """
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


def describe(spec: dict[str, Any], index: int) -> str:
    """The name of a checked activation description, without building or verifying it.

    A built-in is named by its family's parameter check; an expression tree is parsed
    through the whitelist (bounded, no stability probe).

    Raises
    ------
    ModelFileError
        If the parameters do not fit the built-in, or the tree is invalid.
    """
    try:
        if "builtin" in spec:
            return activations.from_builtin(spec["builtin"], spec["params"]).name
        return str(exprtree.decode(spec["expression"]))
    except ModelFileError as exc:
        raise ModelFileError(f"layers[{index}]: {exc}") from None
    except Exception as exc:  # SymPy may fail in many ways on a hostile expression
        raise ModelFileError(f"layers[{index}]: invalid activation ({exc})") from exc


def decode(spec: dict[str, Any], index: int) -> activations.Activation:
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
