"""``solver="lbfgs"``: full-batch L-BFGS on the network's parameters.

scikit-learn runs SciPy's L-BFGS-B; anynn keeps SciPy behind its device seam, so this is
a small L-BFGS of its own (two-loop recursion, memory 10, backtracking Armijo line search)
with SciPy's stopping rules as scikit-learn sets them: ``max_iter`` iterations,
``max_fun`` loss evaluations, the largest gradient component at most ``tol``
(``pgtol``), or a relative decrease of the loss below ``ftol`` (SciPy's default).
The search runs on a host float64 vector; each evaluation is one forward and backward
pass of the whole data set on the network's backend.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..backend import to_numpy
from ..losses import LossHead
from ..network import Network

MEMORY = 10
FTOL = 2.220446049250313e-09  # scipy.optimize.minimize(method="L-BFGS-B")'s default
ARMIJO = 1e-4
MAX_HALVINGS = 40

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


@dataclass
class LbfgsResult:
    """Where the search ended."""

    x: np.ndarray
    fun: float
    n_iter: int
    n_fun: int
    converged: bool


def _direction(g: np.ndarray, steps: deque[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """``-H g`` by the two-loop recursion over the stored ``(s, y, 1 / y.s)`` pairs."""
    q = g.copy()
    alphas = []
    for s, y, rho in reversed(steps):
        alpha = rho * float(s @ q)
        q -= alpha * y
        alphas.append(alpha)
    if steps:
        s, y, _ = steps[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), alpha in zip(steps, reversed(alphas), strict=True):
        q += (alpha - rho * float(y @ q)) * s
    return -q


def minimize(fun: Objective, x0: np.ndarray, *, max_iter: int, max_fun: int,
             gtol: float) -> LbfgsResult:
    """Minimise ``fun`` (returning the value and gradient) from ``x0``."""
    x = np.array(x0, dtype=np.float64)
    f, g = fun(x)
    n_fun, n_iter = 1, 0
    steps: deque[tuple[np.ndarray, np.ndarray, float]] = deque(maxlen=MEMORY)
    while n_iter < max_iter:
        if not g.size or float(np.max(np.abs(g))) <= gtol:
            return LbfgsResult(x, f, n_iter, n_fun, True)
        d = _direction(g, steps)
        slope = float(g @ d)
        if not slope < 0:  # not a descent direction: restart from steepest descent
            steps.clear()
            d, slope = -g, -float(g @ g)
        step = 1.0 if steps else min(1.0, 1.0 / float(np.linalg.norm(g)))
        for _ in range(MAX_HALVINGS):
            x_new = x + step * d
            f_new, g_new = fun(x_new)
            n_fun += 1
            if np.isfinite(f_new) and f_new <= f + ARMIJO * step * slope:
                break
            if n_fun >= max_fun:
                return LbfgsResult(x, f, n_iter, n_fun, False)
            step *= 0.5
        else:
            return LbfgsResult(x, f, n_iter, n_fun, False)
        s, y = x_new - x, g_new - g
        curvature = float(s @ y)
        if curvature > 1e-10:
            steps.append((s, y, 1.0 / curvature))
        decrease = (f - f_new) / max(abs(f), abs(f_new), 1.0)
        x, f, g = x_new, f_new, g_new
        n_iter += 1
        if decrease <= FTOL:
            return LbfgsResult(x, f, n_iter, n_fun, True)
        if n_fun >= max_fun:
            break
    return LbfgsResult(x, f, n_iter, n_fun, False)


def fit_lbfgs(net: Network, objective: Any, X: np.ndarray, targets: np.ndarray,
              weights: np.ndarray | None, *, max_iter: int, max_fun: int,
              tol: float) -> LbfgsResult:
    """Train ``net`` on all of ``(X, targets)`` by :func:`minimize` of ``objective``.

    The parameters end at the search's last accepted point.
    """
    backend = net.backend
    head = LossHead.checked(objective, net.layers[-1].activation, net.outputs)
    X_dev = backend.asarray(X)
    Y_dev = net.prepare_targets(targets, objective, X.shape[0])
    W_dev = None if weights is None else backend.asarray(weights[:, None])
    params = net.parameters()
    shapes = [tuple(p.value.shape) for p in params]
    ends = np.cumsum([math.prod(shape) for shape in shapes])

    def load(x: np.ndarray) -> None:
        for p, chunk, shape in zip(params, np.split(x, ends[:-1]), shapes, strict=True):
            p.value = backend.asarray(np.reshape(chunk, shape))

    def flat(arrays: list[Any]) -> np.ndarray:
        return np.concatenate([np.reshape(to_numpy(a), -1) for a in arrays]).astype(np.float64)

    def value_and_gradient(x: np.ndarray) -> tuple[float, np.ndarray]:
        load(x)
        with backend.overflow_allowed():
            value = net.loss_and_gradients(X_dev, Y_dev, head, weights=W_dev)
        objective.add_penalty_gradient()
        return float(value), flat([p.grad for p in params])

    try:
        result = minimize(value_and_gradient, flat([p.value for p in params]),
                          max_iter=max_iter, max_fun=max_fun, gtol=tol)
    finally:
        net.clear_training_state()
    load(result.x)
    return result
