"""NumPy's fused optimizer updates: each rule as ufuncs writing in place (``out=``).

The standard Array API path of :mod:`anynn.optimizers` allocates a temporary array per
intermediate (``lr * grad``, ``g * g``, ``sqrt(v)`` ...): on a host, fresh megabyte-sized
arrays cost page faults on every step. Here each rule runs the same operations into one
scratch array per parameter shape, kept for the optimizer's lifetime, and updates the
parameter and its state in place. The call convention is that of the CuPy kernels
(:mod:`anynn.update_kernels`): ``update(g, *scalars, w, *state)``, scalars in the
kernel's order. Plain SGD has none (its standard path, one product and one in-place
subtraction, is as fast, and tiny networks would pay for the bookkeeping), except from a
single sample's outer-product factors: one BLAS rank-one update (``?ger``, from SciPy
where installed), which the standard path calls. The standard path stays the reference
(``tests/test_host_updates.py``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import cache
from typing import Any, Protocol

import numpy as np

Kernel = Callable[..., Any]


class UpdateSpec(Protocol):
    """What a host update is chosen by (an :class:`anynn.update_kernels.UpdateKernel`)."""

    rule: str
    flags: tuple[str, ...]


class _Scratch:
    """Scratch arrays of the parameters' shapes and dtypes, made once and reused."""

    def __init__(self) -> None:
        self._arrays: dict[tuple[tuple[int, ...], str, int], np.ndarray] = {}

    def like(self, w: np.ndarray, slot: int = 0) -> np.ndarray:
        key = (w.shape, w.dtype.char, slot)
        array = self._arrays.get(key)
        if array is None:
            array = self._arrays[key] = np.empty_like(w)
        return array

    def gradient(self, g: np.ndarray, wd: float, w: np.ndarray, weight_decay: bool) -> np.ndarray:
        """``g + wd * w`` (into scratch slot 1) with an L2 penalty, else ``g`` itself."""
        if not weight_decay:
            return g
        out = self.like(w, 1)
        np.multiply(w, wd, out=out)
        out += g
        return out


def _sgd_momentum(flags: tuple[str, ...]) -> Kernel:
    scratch, weight_decay, nesterov = _Scratch(), "weight_decay" in flags, "nesterov" in flags

    def update(g: np.ndarray, lr: float, wd: float, mu: float, w: np.ndarray,
               buf: np.ndarray) -> None:
        grad = scratch.gradient(g, wd, w, weight_decay)
        buf *= mu
        buf += grad
        step = scratch.like(w)
        if nesterov:
            np.multiply(buf, mu, out=step)
            step += grad
            step *= lr
        else:
            np.multiply(buf, lr, out=step)
        w -= step

    return update


@cache
def _blas_rank_one(dtype_char: str) -> Kernel | None:
    """BLAS ``?ger`` (``a += alpha * x y^T`` in place, one pass) from SciPy, or None
    (``dtype_char``: NumPy's type character, ``"f"`` float32, ``"d"`` float64)."""
    name = {"f": "sger", "d": "dger"}.get(dtype_char)
    try:
        blas = importlib.import_module("scipy.linalg.blas")
    except ImportError:  # SciPy is optional: the two-ufunc update serves
        return None
    return getattr(blas, name) if name is not None else None


def _sgd_outer(flags: tuple[str, ...]) -> Kernel:  # noqa: ARG001 - one variant
    scratch = _Scratch()

    def update(column: np.ndarray, row: np.ndarray, lr: float, w: np.ndarray) -> None:
        rank_one = _blas_rank_one(w.dtype.char)
        if rank_one is not None:  # on w.T (column-major): w += (-lr) * column row
            transposed = w.T
            out = rank_one(-lr, np.reshape(row, -1), np.reshape(column, -1), a=transposed,
                           overwrite_a=True)
            if out is not transposed:  # BLAS worked on a copy (w not contiguous)
                w[...] = out.T
            return
        step = scratch.like(w)
        np.multiply(column, row * lr, out=step)
        w -= step

    return update


def _root_mean_square(grad: np.ndarray, mean_square: np.ndarray, decay: float,
                      one_minus_decay: float, eps: float, out: np.ndarray) -> None:
    """Update ``mean_square`` to ``decay * it + (1 - decay) * grad**2`` in place, and write
    ``sqrt(mean_square) + eps`` (the denominator of Adam and RMSprop) into ``out``."""
    np.multiply(grad, grad, out=out)
    out *= one_minus_decay
    mean_square *= decay
    mean_square += out
    np.sqrt(mean_square, out=out)
    out += eps


def _adam(flags: tuple[str, ...]) -> Kernel:
    scratch = _Scratch()
    decoupled = "weight_decay" in flags and "decoupled" in flags
    weight_decay = "weight_decay" in flags and not decoupled

    def update(g: np.ndarray, step_size: float, eps_scaled: float, b1: float,
               one_minus_b1: float, b2: float, one_minus_b2: float, wd: float, decay: float,
               w: np.ndarray, m: np.ndarray, v: np.ndarray) -> None:
        if decoupled:
            w *= decay
        grad = scratch.gradient(g, wd, w, weight_decay)
        step = scratch.like(w)
        np.multiply(grad, one_minus_b1, out=step)
        m *= b1
        m += step
        _root_mean_square(grad, v, b2, one_minus_b2, eps_scaled, out=step)
        np.divide(m, step, out=step)
        step *= step_size
        w -= step

    return update


def _rmsprop(flags: tuple[str, ...]) -> Kernel:
    scratch, weight_decay, momentum = _Scratch(), "weight_decay" in flags, "momentum" in flags

    def update(g: np.ndarray, lr: float, rho: float, one_minus_rho: float, eps: float,
               wd: float, mu: float, w: np.ndarray, s: np.ndarray, *buf: np.ndarray) -> None:
        grad = scratch.gradient(g, wd, w, weight_decay)
        step = scratch.like(w)
        _root_mean_square(grad, s, rho, one_minus_rho, eps, out=step)
        np.divide(grad, step, out=step)
        if momentum:
            momentum_buffer = buf[0]
            momentum_buffer *= mu
            momentum_buffer += step
            np.multiply(momentum_buffer, lr, out=step)
        else:
            step *= lr
        w -= step

    return update


HOST_UPDATES: dict[str, Callable[[tuple[str, ...]], Kernel]] = {
    "sgd_momentum": _sgd_momentum, "sgd_outer": _sgd_outer,
    "adam": _adam, "rmsprop": _rmsprop,
}


def host_update(spec: UpdateSpec) -> Kernel | None:
    """A fresh NumPy update (with its own scratch) for ``spec``'s rule, or None."""
    make = HOST_UPDATES.get(spec.rule)
    return make(spec.flags) if make is not None else None
