"""One vocabulary of argument checks with one policy.

A value of the wrong type raises :class:`~anynn.errors.AnynnTypeError`; a value of the
right type but outside its allowed range raises :class:`~anynn.errors.AnynnValueError`.
Both messages name the argument, what was expected and what was seen. Integers are any
:class:`numbers.Integral` except ``bool`` (so ``np.int64`` is accepted everywhere); real
numbers are any :class:`numbers.Real` except ``bool``.

The ``Int``/``Float``/... constraint objects describe an argument declaratively (as
scikit-learn's ``_parameter_constraints``); each one's ``check(value, name)`` applies the
matching function below.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from .errors import AnynnTypeError, AnynnValueError


def _seen(value: Any) -> str:
    return f"{type(value).__name__}: {value!r}"


def check_int(value: Any, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an ``int`` in ``[low, high]`` (a bound of None is open).

    Raises
    ------
    AnynnTypeError
        If ``value`` is not an integer (``bool`` is refused).
    AnynnValueError
        If it lies outside the bounds.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise AnynnTypeError(f"{name} must be an int; got {_seen(value)}")
    number = int(value)
    if low is not None and number < low:
        raise AnynnValueError(f"{name} must be >= {low}; got {number}")
    if high is not None and number > high:
        raise AnynnValueError(f"{name} must be <= {high}; got {number}")
    return number


def check_float(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    open_low: bool = False,
    open_high: bool = False,
) -> float:
    """Return ``value`` as a finite ``float`` between ``low`` and ``high``.

    ``open_low`` / ``open_high`` exclude the bound itself; a bound of None is unbounded.

    Raises
    ------
    AnynnTypeError
        If ``value`` is not a real number (``bool`` is refused).
    AnynnValueError
        If it is NaN, infinite or outside the bounds.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise AnynnTypeError(f"{name} must be a real number; got {_seen(value)}")
    number = float(value)
    above = low is None or (number > low if open_low else number >= low)
    below = high is None or (number < high if open_high else number <= high)
    if not (math.isfinite(number) and above and below):
        left = "(-inf" if low is None else ("(" if open_low else "[") + f"{low}"
        right = "inf)" if high is None else f"{high}" + (")" if open_high else "]")
        raise AnynnValueError(f"{name} must lie in {left}, {right}; got {number}")
    return number


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is ``True`` or ``False``, else raise AnynnTypeError."""
    if not isinstance(value, bool):
        raise AnynnTypeError(f"{name} must be True or False; got {_seen(value)}")
    return value


def check_str(value: Any, name: str) -> str:
    """Return ``value`` if it is a ``str``, else raise AnynnTypeError."""
    if not isinstance(value, str):
        raise AnynnTypeError(f"{name} must be a str; got {_seen(value)}")
    return value


def check_choice(value: Any, name: str, choices: Collection[Any]) -> Any:
    """Return ``value`` if it is one of ``choices`` (compared by type and value).

    Raises
    ------
    AnynnTypeError
        If no choice has the type of ``value`` (``True`` is not ``1``).
    AnynnValueError
        If the type fits but the value is not among ``choices``.
    """
    listed = ", ".join(repr(c) for c in choices)
    if not any(type(value) is type(c) for c in choices):
        raise AnynnTypeError(f"{name} must be one of {listed}; got {_seen(value)}")
    if not any(type(value) is type(c) and value == c for c in choices):
        raise AnynnValueError(f"{name} must be one of {listed}; got {value!r}")
    return value


def check_pair(value: Any, name: str) -> tuple[Any, Any] | None:
    """None, or ``value`` as a 2-tuple if it is a tuple or list of two items."""
    if value is not None and not (isinstance(value, (tuple, list)) and len(value) == 2):
        raise AnynnTypeError(f"{name} must be a pair (a tuple of two); got {_seen(value)}")
    return None if value is None else (value[0], value[1])


def either(ours: Any, default: Any, theirs: Any, names: str) -> Any:
    """An argument given under our name (``ours``, whose default is ``default``) or another
    library's (``theirs``, None when absent); both given: AnynnTypeError naming ``names``."""
    if theirs is None:
        return ours
    if ours != default:
        raise AnynnTypeError(f"give {names}, not both")
    return theirs


# -- declarative constraints ------------------------------------------------------------
class Constraint:
    """One argument's rule: ``check(value, name)`` returns the normalised value or raises."""

    def check(self, value: Any, name: str) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class Int(Constraint):
    """An integer in ``[low, high]``."""

    low: int | None = None
    high: int | None = None

    def check(self, value: Any, name: str) -> int:
        return check_int(value, name, low=self.low, high=self.high)


@dataclass(frozen=True)
class Float(Constraint):
    """A finite real number between ``low`` and ``high`` (see :func:`check_float`)."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False

    def check(self, value: Any, name: str) -> float:
        return check_float(
            value, name, low=self.low, high=self.high,
            open_low=self.open_low, open_high=self.open_high,
        )


@dataclass(frozen=True)
class Bool(Constraint):
    """``True`` or ``False``."""

    def check(self, value: Any, name: str) -> bool:
        return check_bool(value, name)


@dataclass(frozen=True)
class Choice(Constraint):
    """One of a fixed set of values."""

    choices: tuple[Any, ...]

    def check(self, value: Any, name: str) -> Any:
        return check_choice(value, name, self.choices)


@dataclass(frozen=True)
class Optional(Constraint):
    """None, or a value satisfying ``inner``."""

    inner: Constraint

    def check(self, value: Any, name: str) -> Any:
        return None if value is None else self.inner.check(value, name)
