"""A softmax output trained with categorical cross-entropy, in one pass per training step.

The step needs the probabilities ``a = softmax(z)``, the mean loss ``-sum(y log a) / n``
and ``dL/dz = (a - y) / n``. Computed together they share the row maximum ``peak`` and
the row sum ``total`` of ``exp(z - peak)``: ``log a = (z - peak) - log(total)``, so the
loss is exact for any logits (no logarithm of an underflowed probability) in 12 array
operations instead of 17, or in 5 launches where the backend compiles kernels (CuPy).
``Loss.fused_value`` / ``fused_delta`` stay the reference (``evaluate`` uses them).
"""

from __future__ import annotations

from typing import Any

from .backend import Backend, Kernel
from .symbolic import C_TYPES

Array = Any

_EXP_BODY = "e = EXP(z - peak);"
_FINISH_BODY = (
    "a = e / total;\n"
    "terms = y * (LOG(total) - (z - peak)) * scale;\n"
    "delta = (a - y) * scale;"
)


def kernel_sources(dtype: str) -> list[tuple[str, str, str, str]]:
    """``(name, in_params, out_params, body)`` of the two kernels, for ``dtype``."""
    suffix = "f" if C_TYPES[dtype] == "float" else ""

    def body(text: str) -> str:
        return text.replace("EXP(", f"exp{suffix}(").replace("LOG(", f"log{suffix}(")

    return [
        (f"anynn_softmax_exp_{dtype}", f"{dtype} z, {dtype} peak", f"{dtype} e",
         body(_EXP_BODY)),
        (f"anynn_softmax_cce_{dtype}",
         f"{dtype} z, {dtype} y, {dtype} e, {dtype} peak, {dtype} total, {dtype} scale",
         f"{dtype} a, {dtype} terms, {dtype} delta", body(_FINISH_BODY)),
    ]


class SoftmaxCrossEntropy:
    """``(a, mean loss, dL/dz)`` of a softmax output layer under cce, from its logits.

    Parameters
    ----------
    backend : Backend
        Where it runs; its kernels are used when it compiles them (unweighted batches).
    """

    def __init__(self, backend: Backend) -> None:
        self.xp = backend.xp
        self._kernels: tuple[Kernel, Kernel] | None = None
        if backend.compiles_kernels:
            built = [
                backend.elementwise_kernel(in_params, out_params, body, name,
                                           description=f"softmax with cce ({name})")
                for name, in_params, out_params, body in kernel_sources(backend.dtype_name)
            ]
            if built[0] is not None and built[1] is not None:
                self._kernels = (built[0], built[1])

    def __call__(
        self, z: Array, y: Array, weights: Array | None = None
    ) -> tuple[Array, Array, Array]:
        """``(a, value, delta)`` for logits ``z`` ``(n, k)`` and targets ``y``; ``weights``
        ``(n, 1)`` scale each sample's loss and gradient. ``value`` is a 0-d array."""
        xp = self.xp
        scale = 1.0 / z.shape[0]
        peak = xp.max(z, axis=-1, keepdims=True)
        if self._kernels is not None and weights is None:
            exp_shift, finish = self._kernels
            e = exp_shift(z, peak)
            total = xp.sum(e, axis=-1, keepdims=True)
            a, terms, delta = finish(z, y, e, peak, total, scale)
            return a, xp.sum(terms), delta
        shifted = z - peak
        e = xp.exp(shifted)
        total = xp.sum(e, axis=-1, keepdims=True)
        a = e / total
        terms = y * (xp.log(total) - shifted)
        delta = a - y
        delta *= scale
        if weights is not None:
            terms, delta = terms * weights, delta * weights
        return a, xp.sum(terms) * scale, delta
