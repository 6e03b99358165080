"""CuPy fast path: one fused ``cupy.ElementwiseKernel`` per activation and direction.

The kernels are generated from the same verified (possibly rewritten) :class:`Form` as
the standard path, through SymPy's C99 printer with anynn's rules: ``float`` and
``double`` variants (float literals carry an ``F`` suffix and math functions their
``f`` variants, so a float kernel never computes in double), numeric subtrees folded to
literals, small integer powers expanded, ``Max``/``Min``/``Heaviside``/``sign``/
``Piecewise`` printed as ternaries that propagate NaN (C's ``fmaxf(0, NaN)`` is 0), and
the same kink convention as :mod:`anynn.symbolic`.

- forward: ``out = f(x)``;
- backward: ``out = g * f'(x)``, or ``out = g * f'(y)`` from the stored output when the
  form has a verified ``df_from_output``.

Generating the source needs no GPU (:func:`anynn.symbolic.kernel_source`);
:func:`cupy_kernels` builds
the kernels (compiled by CuPy on first call). The standard Array API path stays the
reference and the fallback.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy

from .symbolic import Form, kernel_params, kernel_source

Array = Any


@dataclass(frozen=True)
class CupyKernels:
    """Fused activation kernels for one form and dtype.

    Attributes
    ----------
    forward : callable
        ``forward(z) -> f(z)``.
    backward : callable
        ``backward(g, z, y) -> g * f'(z)`` (from ``y`` when verified, else from ``z``).
    uses_output : bool
        Whether ``backward`` reads ``y`` instead of ``z``.
    """

    forward: Callable[[Array], Array]
    backward: Callable[[Array, Array, Array], Array]
    uses_output: bool


_KERNELS: dict[tuple[str, str], CupyKernels] = {}


def _kernel(form: Form, direction: str, dtype: str) -> Any:
    import cupy

    source = kernel_source(form, direction, dtype)
    digest = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()[:12]
    inputs, outputs = kernel_params(direction, dtype)
    return cupy.ElementwiseKernel(inputs, outputs, source, f"anynn_{direction}_{digest}")


def cupy_kernels(form: Form, dtype: str) -> CupyKernels:
    """The fused kernels of ``form`` for ``dtype`` (cached; compiled by CuPy on first use)."""
    key = (form.key or sympy.srepr((form.f, form.df)), dtype)
    cached = _KERNELS.get(key)
    if cached is not None:
        return cached
    forward = _kernel(form, "forward", dtype)
    if form.df_from_output is not None:
        from_output = _kernel(form, "backward_from_output", dtype)

        def backward(g: Array, z: Array, y: Array) -> Array:
            return from_output(g, y)
    else:
        from_input = _kernel(form, "backward", dtype)

        def backward(g: Array, z: Array, y: Array) -> Array:
            return from_input(g, z)

    kernels = CupyKernels(
        forward=forward, backward=backward, uses_output=form.df_from_output is not None
    )
    _compile_now(kernels, dtype)
    _KERNELS[key] = kernels
    return kernels


def _compile_now(kernels: CupyKernels, dtype: str) -> None:
    """Run each kernel once on one element, so compile errors surface here.

    CuPy compiles an ElementwiseKernel on its first call; doing it at construction lets
    the caller fall back to the standard path instead of failing mid-training.
    """
    import cupy

    one = cupy.ones((1,), dtype=dtype)
    kernels.backward(one, one, kernels.forward(one))
    cupy.cuda.get_current_stream().synchronize()
