"""Numerical safety of compiled activations: a probe against mpmath and a general rewrite.

The first time an expression is compiled, :func:`stable_form` evaluates the compiled
``f`` and ``f'`` (NumPy, float32 and float64) on :data:`PROBE_POINTS` — about 300 points
over [-1e4, 1e4], dense near 0 and around the float32/float64 overflow thresholds of
``exp`` (±88.7, ±709) — and compares them with mpmath at 40 digits.

Accuracy criterion, per dtype with machine epsilon ``eps``: a value ``y`` with reference
``r`` passes when ``|y - r| <= rtol * (|r| + floor)`` with ``rtol = 2048 eps`` and
``floor = 2**-6``: about 11 bits of slack relative to the value, and an absolute floor
of ``rtol * floor`` (3.9e-6 in float32, 7e-15 in float64) for values that are tiny, such
as a derivative rounding to 0. A reference beyond the dtype's range passes as an infinity
of the same sign; points where the true value is not finite (poles) are not checked.
NaN inputs must give NaN for ``f`` and ``f'``.

When the direct form fails, :func:`rewrite_stable` rewrites it with ``t = exp(-|x|)``
(DESIGN.md): every ``exp(k x)`` (including those inside ``tanh``, ``sinh``, ``cosh``)
becomes ``t**-k`` on ``x >= 0`` and ``t**k`` on ``x < 0``, each branch is simplified
(``log((1+t)/t) -> log1p(t) + x``), so no intermediate overflows; ``f'`` is
differentiated per branch. If that fails too, :class:`ActivationError` names the first
bad input and how to pass an ``(f, df)`` pair instead. The verdict is cached per
expression, so building many networks probes each expression once.

Where ``f'`` is verified (same probe, same criterion) to equal a function of the output
``y = f(x)`` alone (``y*(1-y)`` for sigmoid, ``1-y**2`` for tanh, ...), the form carries
it as ``df_from_output``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import Any

import mpmath
import numpy as np
import sympy
from sympy.codegen.cfunctions import expm1, log1p

from .backend import Backend
from .errors import ActivationError
from .symbolic import (
    Form,
    canonical_steps,
    check_supported,
    compile_form,
    differentiate,
    float_value,
)

REFERENCE_DIGITS = 40
RTOL_EPS_MULTIPLE = 2048
FLOOR = 2.0**-6
T = sympy.Symbol("t", positive=True)
"""The rewrite variable ``t = exp(-|x|)``."""
Y = sympy.Symbol("y", real=True)
"""The output variable of ``df_from_output``."""


def _probe_points() -> np.ndarray:
    exp_edges = [87.0, 88.0, 88.5, 88.7, 88.72, 89.0, 90.0, 103.0, 104.0, 105.0,
                 700.0, 708.0, 709.0, 709.7, 710.0, 711.0, 745.0, 746.0, 750.0]
    tiny = [1e-30, 1e-10, 1e-5, 1e-3]
    wide = list(np.geomspace(8.0, 1e4, 60))
    positive = np.array(tiny + wide + exp_edges)
    grid = np.concatenate([np.linspace(-8.0, 8.0, 129), positive, -positive])
    return np.unique(grid.astype(np.float32).astype(np.float64))


PROBE_POINTS = _probe_points()
"""The probe inputs, exactly representable in float32 (so one reference serves both)."""


# -- mpmath reference -------------------------------------------------------------------
MAX_ARGUMENT_MAG = 1100
"""Arguments with ``mpmath.mag(a) > MAX_ARGUMENT_MAG`` (|a| beyond about ``2**1100``) are
not passed to mpmath's exp-like or periodic functions: the cost grows with the argument's
magnitude, and ``exp(exp(exp(x)))`` would ask for ``ln 2`` to ~10**4343 bits.

``exp``, ``sinh``, ``cosh``, ``expm1`` and powers whose ``|exponent * log(base)|`` is that
large *saturate*: they return ``±inf`` (or ``0`` / ``-1`` on the underflow side) and mark
the evaluation. Since ``e**(2**1099)`` is far beyond any float, a saturated value that
reaches the result unchanged in sign is the right float reference (``±inf`` or ``0``).
Where a saturated value meets an operation that could bring it back into range (``log``,
``log1p``, ``asinh``, ``acosh``, a tiny power, a periodic function, ``inf - inf``,
``inf * 0``), the reference at that point is unknown and the expression is refused."""
REFERENCE_SECONDS = 30.0
"""Backstop on the time one :func:`reference_values` call may take."""
_TINY_POWER = mpmath.mpf(2) ** -900


class _UnverifiableError(Exception):
    """The reference at the current point cannot be computed within the cost bounds."""


class _Saturation:
    """Whether the point being evaluated saturated (not reentrant, like ``mpmath.mp``)."""

    hit = False


_SATURATION = _Saturation()


def _is_huge(value: Any) -> bool:
    return bool(mpmath.isfinite(value)) and value != 0 and mpmath.mag(abs(value)) > MAX_ARGUMENT_MAG


def _saturate(positive: bool, overflow: Any, underflow: Any) -> Any:
    _SATURATION.hit = True
    return overflow if positive else underflow


def _exp_like(mp: Callable[[Any], Any], overflow: Any, underflow: Any) -> Callable[[Any], Any]:
    def value(a: Any) -> Any:
        if _is_huge(a):
            if isinstance(a, mpmath.mpc):
                raise _UnverifiableError("an exp-like function of a huge complex argument")
            return _saturate(a > 0, overflow, underflow)
        return mp(a)

    return value


def _bounded(mp: Callable[[Any], Any], limit: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A function with finite limits at ±inf, reached far below ``2**MAX_ARGUMENT_MAG``."""

    def value(a: Any) -> Any:
        return limit(a) if _is_huge(a) or mpmath.isinf(a) else mp(a)

    return value


def _unbounded_input(name: str, periodic: bool) -> Callable[[Any], Any]:
    """``mpmath.<name>``, refusing a saturated argument (its true value is unknown).

    A periodic function also refuses a finite argument beyond ``2**MAX_ARGUMENT_MAG``:
    its argument reduction would need that many bits of pi.
    """
    mp = getattr(mpmath, name)

    def value(a: Any) -> Any:
        if (mpmath.isinf(a) and _SATURATION.hit) or (periodic and _is_huge(a)):
            raise _UnverifiableError(f"{name} of a value of magnitude 2**{mpmath.mag(a)}")
        return mp(a)

    return value


def _power(base: Any, exponent: Any) -> Any:
    """``base ** exponent``, saturating where the result is astronomically large or small."""
    if mpmath.isinf(base) and _SATURATION.hit and abs(exponent) < _TINY_POWER:
        raise _UnverifiableError("a tiny power of a saturated value")
    if mpmath.isinf(base) or mpmath.isinf(exponent) or base == 0 or exponent == 0:
        return mpmath.power(base, exponent)
    with mpmath.workprec(64):
        scale = exponent * mpmath.log(abs(base))
    if not _is_huge(scale):
        return mpmath.power(base, exponent)
    if base > 0 or scale < 0:
        return _saturate(scale > 0, mpmath.inf, mpmath.mpf(0))
    if mpmath.isint(exponent):  # negative base, integer exponent: the sign is its parity
        return _saturate(True, -mpmath.inf if int(exponent) % 2 else mpmath.inf, 0)
    raise _UnverifiableError("a non-integer power of a negative number, astronomically large")


def _sign_limit(scale: Any) -> Callable[[Any], Any]:
    return lambda a: mpmath.sign(a) * scale


_PERIODIC = (sympy.sin, sympy.cos, sympy.tan)
_MP_UNARY: dict[type, Callable[[Any], Any]] = {
    sympy.exp: _exp_like(mpmath.exp, mpmath.inf, mpmath.mpf(0)),
    sympy.sinh: _exp_like(mpmath.sinh, mpmath.inf, -mpmath.inf),
    sympy.cosh: _exp_like(mpmath.cosh, mpmath.inf, mpmath.inf),
    expm1: _exp_like(mpmath.expm1, mpmath.inf, mpmath.mpf(-1)),
    **{
        function: _unbounded_input(function.__name__, periodic=function in _PERIODIC)
        for function in (sympy.log, log1p, sympy.asinh, sympy.acosh, sympy.atanh, *_PERIODIC)
    },
    sympy.asin: mpmath.asin, sympy.acos: mpmath.acos,
    sympy.atan: _bounded(mpmath.atan, _sign_limit(mpmath.pi / 2)),
    sympy.tanh: _bounded(mpmath.tanh, _sign_limit(1)),
    sympy.erf: _bounded(mpmath.erf, _sign_limit(1)),
    sympy.erfc: _bounded(mpmath.erfc, lambda a: 1 - mpmath.sign(a)),
    sympy.Abs: abs, sympy.sign: mpmath.sign,
}
_MP_RELATIONS: dict[type, Callable[[Any, Any], bool]] = {
    sympy.StrictGreaterThan: lambda a, b: a > b, sympy.GreaterThan: lambda a, b: a >= b,
    sympy.StrictLessThan: lambda a, b: a < b, sympy.LessThan: lambda a, b: a <= b,
    sympy.Equality: lambda a, b: a == b, sympy.Unequality: lambda a, b: a != b,
}


def mp_function(expr: sympy.Basic, symbol: sympy.Symbol) -> Callable[[Any], Any]:
    """Turn a (supported) SymPy expression into an mpmath function of one argument.

    It walks the tree once and builds closures; no code is generated or executed.
    Heaviside is 0 at 0, like the compiled code (after ``canonical_steps``). Exp-like
    functions and powers saturate beyond :data:`MAX_ARGUMENT_MAG` (see there).
    """
    if isinstance(expr, sympy.Expr) and expr.is_number:
        value = mpmath.mpf(str(sympy.N(expr, REFERENCE_DIGITS + 5)))
        return lambda v: value
    if expr == symbol:
        return lambda v: v
    if expr == sympy.true or expr == sympy.false:
        flag = bool(expr)
        return lambda v: flag
    if isinstance(expr, sympy.Piecewise):
        pairs = [(mp_function(e, symbol), mp_function(c, symbol)) for e, c in expr.args]
        return lambda v: next(e(v) for e, c in pairs if c(v))
    parts = [mp_function(a, symbol) for a in expr.args]
    kind = type(expr)
    if isinstance(expr, sympy.Add):
        return lambda v: mpmath.fsum(p(v) for p in parts)
    if isinstance(expr, sympy.Mul):
        return lambda v: mpmath.fprod(p(v) for p in parts)
    if isinstance(expr, sympy.Pow):
        base, power = parts
        return lambda v: _power(base(v), power(v))
    if isinstance(expr, (sympy.Max, sympy.Min)):
        pick = max if isinstance(expr, sympy.Max) else min
        return lambda v: pick(p(v) for p in parts)
    if isinstance(expr, sympy.Heaviside):  # 0 at 0 (see canonical_steps)
        arg = parts[0]
        return lambda v: 1 if arg(v) > 0 else 0
    if isinstance(expr, sympy.DiracDelta):
        return lambda v: 0
    if isinstance(expr, (sympy.And, sympy.Or)):
        join = all if isinstance(expr, sympy.And) else any
        return lambda v: join(p(v) for p in parts)
    for relation, test in _MP_RELATIONS.items():
        if isinstance(expr, relation):
            left, right = parts

            def relation_value(v: Any, test: Callable[[Any, Any], bool] = test) -> bool:
                return test(left(v), right(v))  # noqa: B023 - returned at once

            return relation_value
    for function, mp in _MP_UNARY.items():
        if isinstance(expr, function):
            inner = parts[0]

            def unary_value(v: Any, mp: Callable[[Any], Any] = mp) -> Any:
                return mp(inner(v))  # noqa: B023 - returned at once

            return unary_value
    raise ActivationError(f"anynn cannot evaluate {kind.__name__} (in {expr})")


def _point_value(function: Callable[[Any], Any], expr: sympy.Expr, point: float) -> float:
    """``expr`` at ``point`` as float64: NaN at a pole, ``±inf`` beyond float64's range."""
    _SATURATION.hit = False
    try:
        value = function(mpmath.mpf(point))
    except (ZeroDivisionError, ValueError, OverflowError) as error:
        if _SATURATION.hit:
            raise _UnverifiableError(str(error) or type(error).__name__) from error
        return math.nan
    if isinstance(value, mpmath.mpc):
        if abs(value.imag) > abs(value.real) * 1e-30 + mpmath.mpf(10) ** -300:
            if _SATURATION.hit:
                raise _UnverifiableError("a complex value")
            raise ActivationError(
                f"the activation {expr} is not real at x = {point!r} "
                f"(value {complex(value)}); an activation must map reals to reals"
            )
        value = value.real
    if mpmath.isnan(value) and _SATURATION.hit:
        raise _UnverifiableError("an undefined combination (inf - inf or inf * 0)")
    if mpmath.isinf(value):  # only saturation is a value beyond range; else a pole
        return math.copysign(math.inf, value) if _SATURATION.hit else math.nan
    if not mpmath.isfinite(value):
        return math.nan
    return float(value)  # correctly rounded; beyond float64's range it is ±inf


def reference_values(expr: sympy.Expr, symbol: sympy.Symbol) -> np.ndarray:
    """``expr`` at :data:`PROBE_POINTS` in mpmath, as float64 (NaN where undefined).

    Each point costs a bounded amount of work (see :data:`MAX_ARGUMENT_MAG`), and the
    whole call is limited to :data:`REFERENCE_SECONDS` as a backstop.

    Raises
    ------
    ActivationError
        If the expression is not real at some probe point, if its value at some point
        cannot be computed within the cost bounds (an astronomically large intermediate
        brought back into range), or if the evaluation takes too long.
    """
    function = mp_function(expr, symbol)
    out = np.full(PROBE_POINTS.shape, np.nan)
    deadline = time.monotonic() + REFERENCE_SECONDS
    with mpmath.workdps(REFERENCE_DIGITS):
        for i, point in enumerate(PROBE_POINTS):
            try:
                out[i] = _point_value(function, expr, float(point))
            except _UnverifiableError as error:
                raise ActivationError(
                    f"the activation {expr} cannot be verified at x = {float(point)!r}: "
                    f"its exact value needs {error}, beyond the bounded reference evaluation "
                    "(intermediates over 2**2**1100); simplify the expression or pass "
                    "fn=(f, df)"
                ) from None
            if time.monotonic() > deadline:
                raise ActivationError(
                    f"verifying the activation {expr} against mpmath took more than "
                    f"{REFERENCE_SECONDS:g} s (stopped at x = {float(point)!r}); "
                    "simplify the expression or pass fn=(f, df)"
                )
    return out


# -- the probe ------------------------------------------------------------------------
def tolerance(dtype: np.dtype) -> tuple[float, float]:
    """``(rtol, floor)`` of the accuracy criterion for ``dtype``."""
    return RTOL_EPS_MULTIPLE * float(np.finfo(dtype).eps), FLOOR


def first_failure(values: np.ndarray, reference: np.ndarray, dtype: np.dtype) -> int | None:
    """Index of the first probe point where ``values`` misses ``reference``, or None."""
    rtol, floor = tolerance(dtype)
    values = values.astype(np.float64)
    checked = ~np.isnan(reference)
    big = np.abs(reference) > float(np.finfo(dtype).max)
    with np.errstate(all="ignore"):
        close = np.abs(values - reference) <= rtol * (np.abs(reference) + floor)
    overflow_ok = np.isinf(values) & (np.sign(values) == np.sign(reference))
    ok = np.where(big, overflow_ok, close & np.isfinite(values))
    bad = np.flatnonzero(checked & ~ok)
    return int(bad[0]) if bad.size else None


def _evaluate(function: Callable[[Any], Any], points: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.asarray(function(points))


def _numpy() -> Any:
    return Backend("numpy", "float64").xp  # the namespace training on NumPy uses


def probe(
    form: Form, f_reference: np.ndarray, df_reference: np.ndarray
) -> dict[str, str]:
    """Check ``f`` and ``f'`` of ``form`` in float32 and float64.

    Returns
    -------
    dict
        ``{"f": detail, "f'": detail}`` for each function that fails somewhere; the
        detail names the dtype, the first bad input, the value and the reference.
    """
    compiled = compile_form(form, _numpy())
    failures: dict[str, str] = {}
    for dtype in (np.float32, np.float64):
        points = PROBE_POINTS.astype(dtype)
        for what, function, reference in (
            ("f", compiled.f, f_reference),
            ("f'", compiled.df, df_reference),
        ):
            values = _evaluate(function, points)
            if values.dtype != dtype:
                raise ActivationError(
                    f"{what} of {form.f} returned {values.dtype} for {np.dtype(dtype)} input"
                )
            index = first_failure(values, reference, np.dtype(dtype))
            if index is not None and what not in failures:
                failures[what] = (
                    f"{np.dtype(dtype).name} {what}({float(points[index])!r}) = "
                    f"{float(values[index])!r}, expected {float(reference[index])!r}"
                )
    return failures


def needs_nan_guard(form: Form) -> tuple[bool, bool]:
    """Whether ``f`` and whether ``f'`` of ``form`` lose a NaN input."""
    compiled = compile_form(form, _numpy())
    nan = np.full((2,), np.nan)
    f, df = (_evaluate(g, nan) for g in (compiled.f, compiled.df))
    return (not bool(np.all(np.isnan(f))), not bool(np.all(np.isnan(df))))


# -- the t = exp(-|x|) rewrite ----------------------------------------------------------
def _linear_coefficient(arg: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr | None:
    coefficient = sympy.diff(arg, symbol)
    if coefficient.is_number and sympy.simplify(arg - coefficient * symbol) == 0:
        return coefficient
    return None


def _exp_linear(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr:
    """Rewrite hyperbolic functions as exponentials where all of them are ``exp(k x)``."""

    def rewrite(node: sympy.Expr) -> sympy.Expr:
        candidate = node.rewrite(sympy.exp)
        linear = all(
            _linear_coefficient(e.args[0], symbol) is not None
            for e in candidate.atoms(sympy.exp)
        )
        return candidate if linear else node

    hyperbolic = (sympy.tanh, sympy.sinh, sympy.cosh)
    return expr.replace(lambda n: isinstance(n, hyperbolic), rewrite)


def _simplify_branch(branch: sympy.Expr, symbol: sympy.Symbol, log_t: sympy.Expr) -> sympy.Expr:
    """Cancel a branch written in ``t``; split logs so ``log(t)`` becomes ``-|x|``."""
    branch = branch.replace(sympy.log, lambda a: sympy.log(sympy.factor(sympy.cancel(a))))
    branch = sympy.expand_log(branch, force=True).subs(sympy.log(T), log_t)

    def as_log1p(arg: sympy.Expr) -> sympy.Expr:
        return log1p(arg - 1) if arg.subs(T, 0) == 1 else sympy.log(arg)

    branch = branch.replace(sympy.log, as_log1p)
    logs = branch.atoms(log1p, sympy.log, sympy.erf, sympy.erfc)
    if not logs:
        return sympy.factor(sympy.cancel(branch))
    return branch


def rewrite_stable(expr: sympy.Expr, symbol: sympy.Symbol) -> Form | None:
    """The ``t = exp(-|x|)`` two-branch form of ``expr``, or None if it has no ``exp(k x)``."""
    rewritten = _exp_linear(expr, symbol)
    coefficients = {
        e: _linear_coefficient(e.args[0], symbol) for e in rewritten.atoms(sympy.exp)
    }
    linear = {e: k for e, k in coefficients.items() if k is not None and k != 0}
    if not linear:
        return None
    branches = []
    for sign, log_t, dt in ((1, -symbol, -T), (-1, symbol, T)):
        substituted = rewritten.xreplace({e: T ** (-sign * k) for e, k in linear.items()})
        value = _simplify_branch(substituted, symbol, log_t)
        derivative = differentiate(value, symbol) + sympy.diff(value, T) * dt
        branches.append((value, derivative))
    (f_pos, df_pos), (f_neg, df_neg) = branches
    condition = symbol >= 0
    return Form(
        symbol=symbol,
        f=sympy.Piecewise((f_pos, condition), (f_neg, True)),
        df=sympy.Piecewise((df_pos, condition), (df_neg, True)),
        bindings=((T, sympy.exp(-sympy.Abs(symbol))),),
    )


# -- derivative from the output --------------------------------------------------------
GENERIC_OUTPUT_DERIVATIVES: tuple[sympy.Expr, ...] = (
    sympy.Integer(1),
    Y * (1 - Y),
    1 - Y**2,
    Y,
    -expm1(-Y),
    -expm1(Y),
    sympy.Heaviside(Y),
)
"""Candidates for ``f'`` as a function of ``y = f(x)``; each is verified before use."""


def _piecewise_output_candidate(expr: sympy.Expr, symbol: sympy.Symbol) -> sympy.Expr | None:
    """For ``Piecewise((c x, x > 0), (h(x), True))``: ``f'`` in terms of ``y`` per branch."""
    if not isinstance(expr, sympy.Piecewise) or len(expr.args) != 2:
        return None
    (first, condition), (default, _) = expr.args
    if condition != (symbol > 0) or first.diff(symbol).free_symbols or first.subs(symbol, 0) != 0:
        return None
    slope = first.diff(symbol)
    derivative = sympy.diff(default, symbol)
    if not derivative.free_symbols:
        return sympy.Piecewise((slope, Y > 0), (derivative, True))
    try:
        solutions = sympy.solve(sympy.Eq(Y, default.rewrite(sympy.exp)), symbol)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if len(solutions) != 1:
        return None
    in_y = sympy.simplify(derivative.rewrite(sympy.exp).subs(symbol, solutions[0]))
    return sympy.Piecewise((slope, Y > 0), (in_y, True))


def _output_candidates(
    expr: sympy.Expr, symbol: sympy.Symbol, hints: Sequence[sympy.Expr]
) -> Iterator[sympy.Expr]:
    yield from hints
    piecewise = _piecewise_output_candidate(expr, symbol)
    if piecewise is not None:
        yield piecewise
    yield from GENERIC_OUTPUT_DERIVATIVES


def find_output_derivative(
    form: Form, expr: sympy.Expr, df_reference: np.ndarray, hints: Sequence[sympy.Expr] = ()
) -> sympy.Expr | None:
    """The first candidate ``g(y)`` with ``g(f(x)) == f'(x)`` verified on the probe.

    The check runs the compiled ``f`` then the compiled ``g`` in float32 and float64
    and applies the accuracy criterion against the mpmath derivative; NaN must stay NaN.
    """
    compiled_f = compile_form(form, _numpy()).f
    for candidate in _output_candidates(expr, form.symbol, hints):
        trial = replace(
            form, output_symbol=Y, df_from_output=candidate,
            key=f"{form.key}|output|{sympy.srepr(candidate)}",
        )
        from_output = compile_form(trial, _numpy()).df_from_output
        assert from_output is not None
        ok = True
        for dtype in (np.float32, np.float64):
            outputs = _evaluate(compiled_f, PROBE_POINTS.astype(dtype))
            values = _evaluate(from_output, outputs)
            wrong = first_failure(values, df_reference, np.dtype(dtype)) is not None
            if values.dtype != dtype or wrong:
                ok = False
                break
            nan = _evaluate(from_output, np.full((1,), np.nan, dtype=dtype))
            if not np.isnan(nan[0]):
                ok = False
                break
        if ok:
            return candidate
    return None


# -- entry point ------------------------------------------------------------------------
_FORMS: dict[str, Form] = {}


def _advice(expr: sympy.Expr, detail: str) -> str:
    return (
        f"the activation {expr} is not numerically stable: {detail}, and the automatic "
        "rewrite in t = exp(-|x|) did not fix it. Rewrite the expression (log1p, expm1, "
        "branches with Piecewise), or pass an explicit pair of array functions "
        "fn=(f, df), where f(z) and df(z) take and return arrays of the layer's backend"
    )


def stable_form(
    expr: sympy.Expr, symbol: sympy.Symbol, output_hints: Sequence[sympy.Expr] = ()
) -> Form:
    """Return the verified form of ``expr`` to compile (cached per expression).

    Parameters
    ----------
    expr : sympy.Expr
        The activation ``f`` in the single free symbol ``symbol``.
    symbol : sympy.Symbol
        The input variable.
    output_hints : sequence of sympy.Expr
        Extra candidates for ``f'`` in terms of :data:`Y` (verified like the others).

    Raises
    ------
    ActivationError
        If ``expr`` uses unsupported functions, is not real, or is not stable even after
        the rewrite (the message names the first bad input).
    """
    key = sympy.srepr((expr, symbol))
    cached = _FORMS.get(key)
    if cached is not None:
        return cached
    check_supported(expr)
    expr = canonical_steps(expr, symbol)
    for constant in expr.atoms(sympy.Number):
        float_value(constant)
    derivative = differentiate(expr, symbol)
    f_reference = reference_values(expr, symbol)
    df_reference = reference_values(derivative, symbol)
    form = Form(symbol=symbol, f=expr, df=derivative, key=key + "|direct")
    failures = probe(form, f_reference, df_reference)
    if failures:
        rewritten = rewrite_stable(expr, symbol)
        if rewritten is None:
            raise ActivationError(_advice(expr, next(iter(failures.values()))))
        form = replace(  # rewrite only what failed: the direct form is usually cheaper
            rewritten,
            f=rewritten.f if "f" in failures else expr,
            df=rewritten.df if "f'" in failures else derivative,
            key=f"{key}|rewritten{sorted(failures)}",
        )
        failures = probe(form, f_reference, df_reference)
        if failures:
            raise ActivationError(_advice(expr, next(iter(failures.values()))))
    guard = needs_nan_guard(form)
    if any(guard):
        form = replace(form, nan_guard=guard, key=f"{form.key}|nan{guard}")
    output = find_output_derivative(form, expr, df_reference, output_hints)
    if output is not None:
        form = replace(form, output_symbol=Y, df_from_output=output, key=form.key + "|output")
    _FORMS[key] = form
    return form
