"""Affine tails: where the true ``f`` is affine to float64 precision, compute it so.

Far from 0 most activations are affine to within rounding (``x*tanh(exp(x))`` is ``x``
for ``x > 4``, ``1 - exp(-exp(x))`` is ``1`` for ``x > 4``, ``log(1+exp(x)) + tanh(x)``
is ``x + 1`` for ``x > 40``), while the formula overflows in an intermediate
(``exp(exp(x))``, ``inf - inf``, ``0 * inf``). From the mpmath reference,
:func:`affine_tails` finds the innermost probe points ``p`` beyond which ``f`` equals
``f(p) + f'(p) (x - p)`` and ``f'`` equals ``f'(p)`` to the float64 criterion at every
probe point (and at the midpoints between them, :func:`between` / :func:`holds`);
:func:`with_tails` replaces the expression there by that line. The
constants are the reference's own values, and the result is probed like any other form,
so a tail is only kept where it is verified.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import sympy

TAIL_RTOL = 256 * float(np.finfo(np.float64).eps)
"""Relative agreement with the line required at every probe point of a tail."""

MIN_TAIL_START = 1.0
"""Tails start at ``|x| >= 1`` (the shape near 0 is the activation's own)."""

MIN_TAIL_POINTS = 4
"""A tail must hold at this many probe points at least (evidence, not one point)."""


@dataclass(frozen=True)
class Tail:
    """One affine tail: beyond ``start`` (away from 0), ``f = value + slope*(x - start)``."""

    start: float
    value: float
    slope: float


def _close(values: np.ndarray, reference: np.ndarray | float) -> np.ndarray:
    return np.abs(values - reference) <= TAIL_RTOL * (np.abs(reference) + 2.0**-6)


def _tail_from(
    points: np.ndarray, f: np.ndarray, df: np.ndarray, order: np.ndarray
) -> Tail | None:
    """The tail over ``points[order]`` (outermost last), starting as close to 0 as fits."""
    best: Tail | None = None
    for count in range(1, order.size + 1):
        inner = order[order.size - count]
        outer = order[order.size - count :]
        start, value, slope = points[inner], f[inner], df[inner]
        if not (np.isfinite(value) and np.isfinite(slope)):
            break
        line = value + slope * (points[outer] - start)
        if not (np.all(_close(line, f[outer])) and np.all(_close(df[outer], slope))):
            break
        if abs(start) >= MIN_TAIL_START and count >= MIN_TAIL_POINTS:
            best = Tail(float(start), float(value), float(slope))
    return best


def affine_tails(
    points: np.ndarray, f_reference: np.ndarray, df_reference: np.ndarray
) -> tuple[Tail | None, Tail | None]:
    """``(left, right)`` affine tails of the reference, each None where there is none."""
    positive = np.flatnonzero(points > 0)  # increasing: outermost last
    negative = np.flatnonzero(points < 0)[::-1]  # decreasing: outermost last
    return (
        _tail_from(points, f_reference, df_reference, negative),
        _tail_from(points, f_reference, df_reference, positive),
    )


def between(points: np.ndarray, tails: tuple[Tail | None, Tail | None]) -> np.ndarray:
    """Geometric midpoints of consecutive probe points inside the tails, where
    :func:`holds` double-checks the lines."""
    extra = []
    for tail, sign in zip(tails, (-1.0, 1.0), strict=True):
        if tail is None:
            continue
        magnitudes = np.sort(np.abs(points[points * sign >= abs(tail.start)]))
        extra.append(sign * np.sqrt(magnitudes[:-1] * magnitudes[1:]))
    return np.concatenate(extra) if extra else np.zeros(0)


def holds(
    tails: tuple[Tail | None, Tail | None],
    points: np.ndarray,
    f_reference: np.ndarray,
    df_reference: np.ndarray,
) -> bool:
    """Whether every point in a tail has the tail's line as its reference value and slope."""
    for tail in tails:
        if tail is None:
            continue
        mine = points > tail.start if tail.start > 0 else points < tail.start
        line = tail.value + tail.slope * (points[mine] - tail.start)
        if not (np.all(_close(line, f_reference[mine]))
                and np.all(_close(df_reference[mine], tail.slope))):
            return False
    return True


def inside(points: np.ndarray, tails: tuple[Tail | None, Tail | None]) -> np.ndarray:
    """Mask of the points that are not in a tail."""
    left, right = tails
    mask = np.ones(points.shape, dtype=bool)
    if left is not None:
        mask &= points >= left.start
    if right is not None:
        mask &= points <= right.start
    return mask


def with_tails(
    expr: sympy.Expr,
    symbol: sympy.Symbol,
    tails: tuple[Tail | None, Tail | None],
    derivative: bool,
) -> sympy.Expr:
    """``expr`` with its tails replaced by their lines (their slopes if ``derivative``)."""
    left, right = tails
    pieces = []
    for tail, condition in ((right, symbol > (right.start if right else 0)),
                            (left, symbol < (left.start if left else 0))):
        if tail is None:
            continue
        line = (
            sympy.Float(tail.slope)
            if derivative
            else sympy.Float(tail.value) + sympy.Float(tail.slope) * (symbol - tail.start)
        )
        pieces.append((line, condition))
    if not pieces:
        return expr
    return sympy.Piecewise(*pieces, (expr, True))
