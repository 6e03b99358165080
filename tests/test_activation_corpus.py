"""The corpus of published activations, written naively: expected verdicts, accuracy on
points the probe never saw, the array_api_strict path, and the acceptance rate."""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import sympy
from activation_corpus import CORPUS, x

import anynn
from anynn import activations
from anynn.errors import ActivationError, ActivationWarning
from anynn.stability import misses

KINKED = (sympy.Heaviside, sympy.Piecewise, sympy.Max, sympy.Min, sympy.Abs, sympy.sign)
_rng = np.random.default_rng(2024)
UNSEEN = np.unique(
    np.concatenate([
        _rng.uniform(-8.0, 8.0, 120),
        10.0 ** _rng.uniform(-4.0, 4.0, 60),
        -(10.0 ** _rng.uniform(-4.0, 4.0, 60)),
        [-1e4, 1e4],
    ]).astype(np.float32).astype(np.float64)
)
"""Test points off the probe's grid, float32-exact, over [-1e4, 1e4]."""


def verdict(expr: sympy.Expr) -> tuple[str, activations.Activation | None]:
    """``("accepted" | "warns" | "refused", activation)`` for ``expr``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            act = activations.get(expr)
        except ActivationError:
            return "refused", None
    warned = any(issubclass(w.category, ActivationWarning) for w in caught)
    return ("warns" if warned else "accepted"), act


def mp_values(expr: sympy.Expr, points: np.ndarray, side: int = 0) -> np.ndarray:
    """mpmath at 60 digits (lambdify is fine: the corpus is ours), at or beside points."""
    function = sympy.lambdify(x, expr, modules="mpmath")
    out = np.empty_like(points)
    with mpmath.workdps(60):
        for i, p in enumerate(points):
            at = mpmath.mpf(float(p)) * (1 + side * mpmath.mpf(2) ** -18)
            value = function(at if p else mpmath.mpf(side) * mpmath.mpf("1e-40"))
            finite = mpmath.isfinite(value) and abs(value) < 1e308
            out[i] = float(value) if finite else np.nan
    return out


def assert_accurate(act: activations.Activation, expr: sympy.Expr) -> None:
    f_ref = mp_values(expr, UNSEEN)
    derivative = sympy.diff(expr, x)
    df_refs = [mp_values(derivative, UNSEEN)]
    if derivative.has(*KINKED):  # a kink: either one-sided derivative is right
        df_refs += [mp_values(derivative, UNSEEN, side) for side in (-1, 1)]
    for dtype in (np.float32, np.float64):
        z = UNSEEN.astype(dtype)
        with np.errstate(all="ignore"):
            got = {"f": np.asarray(act(z)), "f'": np.asarray(act.derivative(z))}
        for what, refs in (("f", [f_ref]), ("f'", df_refs)):
            assert got[what].dtype == dtype
            bad = np.logical_and.reduce([misses(got[what], r, np.dtype(dtype)) for r in refs])
            first = np.flatnonzero(bad)
            assert first.size == 0, (
                f"{act.name}: {np.dtype(dtype).name} {what}({z[first[0]]}) = "
                f"{got[what][first[0]]}, expected {refs[0][first[0]]}"
            )


@pytest.mark.parametrize(("name", "expr", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_expression_behaves_as_expected(name: str, expr: sympy.Expr, expected: str) -> None:
    got, act = verdict(expr)
    assert got == expected, f"{name}: {got}, expected {expected}"
    if act is not None and got == "accepted":
        assert_accurate(act, expr)


def test_at_least_95_percent_of_published_activations_are_accepted() -> None:
    published = [(n, e) for n, e, expected in CORPUS if expected == "accepted"]
    assert len(CORPUS) >= 40 and len(published) >= 40
    accepted = [n for n, e in published if verdict(e)[0] == "accepted"]
    assert len(accepted) >= 0.95 * len(published), sorted({n for n, _ in published} - set(accepted))


ACCEPTED = [(n, e) for n, e, expected in CORPUS if expected != "refused"]


@pytest.mark.parametrize(("name", "expr"), ACCEPTED, ids=[n for n, _ in ACCEPTED])
def test_corpus_agrees_on_every_backend(backend: str, name: str, expr: sympy.Expr) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ActivationWarning)
        act = activations.get(expr)
    for dtype, tol in (("float32", 1e-6), ("float64", 1e-14)):
        bk = anynn.Backend(backend, dtype)
        z = UNSEEN.astype(dtype)
        with np.errstate(all="ignore"):
            expected = (np.asarray(act(z)), np.asarray(act.derivative(z)))
            on_backend = (act(bk.asarray(z)), act.derivative(bk.asarray(z)))
        for want, got in zip(expected, on_backend, strict=True):
            np.testing.assert_allclose(anynn.to_numpy(got), want, rtol=tol, atol=tol)
