"""C sources of the fused optimizer updates: one elementwise kernel per parameter and step.

Each function returns an :class:`UpdateKernel` (the arguments of ``ElementwiseKernel``)
that reads the gradient ``g`` and the step's scalars and updates the parameter ``w`` and
its state (momentum buffer, moments) in place: on CuPy one launch instead of 2 to 12
array operations per parameter. The math is that of :mod:`anynn.optimizers`' standard
path, operation for operation, which stays the reference (``tests/test_fused_host_c.py``
runs these sources as host C against it). Scalars are kernel arguments, so a kernel is
compiled once per rule and dtype, not per learning rate.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .symbolic import C_TYPES


@dataclass(frozen=True)
class UpdateKernel:
    """The arguments of one ``ElementwiseKernel``.

    Attributes
    ----------
    name : str
        The C name (``anynn_update_<rule>_<digest>``).
    in_params : str
        Typed inputs: the gradient (or its outer-product factors), then the scalars
        named in :attr:`scalars`, in call order.
    out_params : str
        Typed in-out arrays: the parameter, then the optimizer's state slots.
    body : str
        The C body.
    scalars : tuple of str
        The names of the scalar inputs, in call order.
    rule : str
        The update rule (``"sgd"``, ``"sgd_momentum"``, ``"sgd_outer"``, ``"adam"``,
        ``"rmsprop"``): hosts without a compiler run it as NumPy ufuncs instead
        (:mod:`anynn.backend.host_updates`).
    flags : tuple of str
        The options the body was built with that are on (``"weight_decay"``,
        ``"decoupled"``, ``"nesterov"``, ``"momentum"``).
    """

    name: str
    in_params: str
    out_params: str
    body: str
    scalars: tuple[str, ...]
    rule: str = ""
    flags: tuple[str, ...] = ()


def _kernel(
    rule: str, dtype: str, arrays: tuple[str, ...], scalars: tuple[str, ...],
    outputs: tuple[str, ...], lines: list[str], **options: bool,
) -> UpdateKernel:
    if dtype not in C_TYPES:
        raise ValueError(f"dtype must be one of {sorted(C_TYPES)}; got {dtype!r}")
    ctype = C_TYPES[dtype]
    body = "\n".join(lines).replace("REAL", ctype).replace(
        "SQRT(", "sqrtf(" if ctype == "float" else "sqrt("
    )
    in_params = ", ".join(f"{dtype} {name}" for name in (*arrays, *scalars))
    out_params = ", ".join(f"{dtype} {name}" for name in outputs)
    digest = hashlib.sha1(
        f"{in_params}|{out_params}|{body}".encode(), usedforsecurity=False
    ).hexdigest()[:10]
    flags = tuple(sorted(name for name, on in options.items() if on))
    return UpdateKernel(f"anynn_update_{rule}_{digest}", in_params, out_params, body, scalars,
                        rule, flags)


def _gradient(weight_decay: bool) -> str:
    """The (L2-penalised) gradient, ``grad``."""
    return "const REAL grad = g + wd * w;" if weight_decay else "const REAL grad = g;"


def sgd(dtype: str, *, weight_decay: bool, momentum: bool, nesterov: bool) -> UpdateKernel:
    """SGD as ``torch.optim.SGD``; scalars ``lr, wd, mu``."""
    if not momentum:
        return _kernel("sgd", dtype, ("g",), ("lr", "wd"), ("w",),
                       [_gradient(weight_decay), "w = w - lr * grad;"],
                       weight_decay=weight_decay)
    step = "grad + mu * buf" if nesterov else "buf"
    return _kernel(
        "sgd_momentum", dtype, ("g",), ("lr", "wd", "mu"), ("w", "buf"),
        [_gradient(weight_decay), "buf = mu * buf + grad;", f"w = w - lr * ({step});"],
        weight_decay=weight_decay, nesterov=nesterov,
    )


def sgd_outer(dtype: str) -> UpdateKernel:
    """Plain SGD from a single sample's outer-product factors (``(n, 1)`` and ``(1, m)``),
    without building the gradient; scalar ``lr``."""
    return _kernel("sgd_outer", dtype, ("column", "row"), ("lr",), ("w",),
                   ["w = w - column * (lr * row);"])


def adam(dtype: str, *, weight_decay: bool, decoupled: bool) -> UpdateKernel:
    """Adam / AdamW with the bias corrections folded into ``step_size`` and
    ``eps_scaled``; scalars ``step_size, eps_scaled, b1, one_minus_b1, b2, one_minus_b2,
    wd, decay``."""
    lines = []
    if weight_decay and decoupled:
        lines += ["w = w * decay;", "const REAL grad = g;"]
    else:
        lines.append(_gradient(weight_decay))
    lines += [
        "m = b1 * m + one_minus_b1 * grad;",
        "v = b2 * v + one_minus_b2 * (grad * grad);",
        "w = w - step_size * (m / (SQRT(v) + eps_scaled));",
    ]
    scalars = ("step_size", "eps_scaled", "b1", "one_minus_b1", "b2", "one_minus_b2", "wd",
               "decay")
    return _kernel("adam", dtype, ("g",), scalars, ("w", "m", "v"), lines,
                   weight_decay=weight_decay, decoupled=decoupled)


def rmsprop(dtype: str, *, weight_decay: bool, momentum: bool) -> UpdateKernel:
    """RMSprop as ``torch.optim.RMSprop``; scalars ``lr, rho, one_minus_rho, eps, wd, mu``."""
    lines = [
        _gradient(weight_decay),
        "s = rho * s + one_minus_rho * (grad * grad);",
        "const REAL scaled = grad / (SQRT(s) + eps);",
    ]
    outputs: tuple[str, ...] = ("w", "s")
    if momentum:
        lines += ["buf = mu * buf + scaled;", "w = w - lr * buf;"]
        outputs += ("buf",)
    else:
        lines.append("w = w - lr * scaled;")
    scalars = ("lr", "rho", "one_minus_rho", "eps", "wd", "mu")
    return _kernel("rmsprop", dtype, ("g",), scalars, outputs, lines,
                   weight_decay=weight_decay, momentum=momentum)
