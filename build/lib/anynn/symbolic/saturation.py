"""Saturating mpmath evaluation: the per-call context and the functions of the node table.

Arguments with ``mag(a) > MAX_ARGUMENT_MAG`` (|a| beyond about ``2**1100``) are not passed
to mpmath's exp-like or periodic functions: the cost grows with the argument's magnitude,
and ``exp(exp(exp(x)))`` would ask for ``ln 2`` to ~10**4343 bits.

``exp``, ``sinh``, ``cosh``, ``expm1`` and powers whose ``|exponent * log(base)|`` is that
large *saturate*: they return ``±inf`` (or ``0`` / ``-1`` on the underflow side) and mark
the evaluation. Since ``e**(2**1099)`` is far beyond any float, a saturated value that
reaches the result unchanged in sign is the right float reference (``±inf`` or ``0``).
Where a saturated value meets an operation that could bring it back into range (``log``,
``log1p``, ``asinh``, ``acosh``, a tiny power, a periodic function, ``inf - inf``,
``inf * 0``), the reference at that point is unknown (:class:`UnverifiableError`).

Every function here takes the :class:`Evaluation` first: it carries a private mpmath
context (so the caller's global ``mpmath.mp.dps`` never matters) and the saturation flag.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath

MAX_ARGUMENT_MAG = 1100
"""Magnitude (``mpmath.mag``) beyond which arguments saturate or are refused."""

MpFunction = Callable[..., Any]
"""``function(evaluation, *argument_values) -> value``."""


class UnverifiableError(Exception):
    """The reference at the current point cannot be computed within the cost bounds."""


class Evaluation:
    """State of one reference evaluation: a private mpmath context and the saturation flag.

    Parameters
    ----------
    digits : int
        Decimal digits of working precision.
    """

    def __init__(self, digits: int) -> None:
        self.mp = mpmath.MPContext()
        self.mp.dps = digits
        self.saturated = False
        self.tiny_power = self.mp.mpf(2) ** -900

    def is_huge(self, value: Any) -> bool:
        """Whether ``value`` is finite, nonzero and beyond ``2**MAX_ARGUMENT_MAG``."""
        mp = self.mp
        return bool(mp.isfinite(value)) and value != 0 and mp.mag(abs(value)) > MAX_ARGUMENT_MAG

    def saturate(self, positive: bool, overflow: Any, underflow: Any) -> Any:
        """Mark the evaluation saturated; return ``overflow`` or ``underflow``."""
        self.saturated = True
        return self.mp.mpf(overflow if positive else underflow)


def exp_like(name: str, overflow: float, underflow: float) -> MpFunction:
    """``mpmath.<name>``, saturating to ``overflow`` / ``underflow`` for huge arguments."""

    def value(ev: Evaluation, a: Any) -> Any:
        if ev.is_huge(a):
            if isinstance(a, ev.mp.mpc):
                raise UnverifiableError("an exp-like function of a huge complex argument")
            return ev.saturate(a > 0, overflow, underflow)
        return getattr(ev.mp, name)(a)

    return value


def bounded(name: str, limit: Callable[[Evaluation, Any], Any]) -> MpFunction:
    """A function with finite limits at ±inf, reached far below ``2**MAX_ARGUMENT_MAG``."""

    def value(ev: Evaluation, a: Any) -> Any:
        return limit(ev, a) if ev.is_huge(a) or ev.mp.isinf(a) else getattr(ev.mp, name)(a)

    return value


def sign_limit(scale: Callable[[Evaluation], Any]) -> Callable[[Evaluation, Any], Any]:
    """The limit ``sign(a) * scale`` of an odd bounded function."""
    return lambda ev, a: ev.mp.sign(a) * scale(ev)


def unbounded_input(name: str, periodic: bool = False) -> MpFunction:
    """``mpmath.<name>``, refusing a saturated argument (its true value is unknown).

    A periodic function also refuses a finite argument beyond ``2**MAX_ARGUMENT_MAG``:
    its argument reduction would need that many bits of pi.
    """

    def value(ev: Evaluation, a: Any) -> Any:
        if (ev.mp.isinf(a) and ev.saturated) or (periodic and ev.is_huge(a)):
            raise UnverifiableError(f"{name} of a value of magnitude 2**{ev.mp.mag(a)}")
        return getattr(ev.mp, name)(a)

    return value


def plain(name: str) -> MpFunction:
    """``mpmath.<name>`` of the evaluation's context, without saturation rules."""
    return lambda ev, *args: getattr(ev.mp, name)(*args)


def power(ev: Evaluation, base: Any, exponent: Any) -> Any:
    """``base ** exponent``, saturating where the result is astronomically large or small."""
    mp = ev.mp
    if mp.isinf(base) and ev.saturated and abs(exponent) < ev.tiny_power:
        raise UnverifiableError("a tiny power of a saturated value")
    if mp.isinf(base) or mp.isinf(exponent) or base == 0 or exponent == 0:
        return mp.power(base, exponent)
    with mp.workprec(64):
        scale = exponent * mp.log(abs(base))
    if not ev.is_huge(scale):
        return mp.power(base, exponent)
    if base > 0 or scale < 0:
        return ev.saturate(scale > 0, mp.inf, 0)
    if mp.isint(exponent):  # negative base, integer exponent: the sign is its parity
        return ev.saturate(True, -mp.inf if int(exponent) % 2 else mp.inf, 0)
    raise UnverifiableError("a non-integer power of a negative number, astronomically large")
