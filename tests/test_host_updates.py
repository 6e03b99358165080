"""NumPy's fused optimizer updates (in-place ufuncs) equal the standard Array API path."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from anynn import optimizers
from anynn.backend import Backend, NumpyBackend
from anynn.layers import Parameter

CASES: dict[str, Callable[[], optimizers.Optimizer]] = {
    "momentum": lambda: optimizers.SGD(lr=0.1, momentum=0.9),
    "nesterov_wd": lambda: optimizers.SGD(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1),
    "adam": lambda: optimizers.Adam(lr=0.01),
    "adam_wd": lambda: optimizers.Adam(lr=0.01, weight_decay=0.1),
    "adamw": lambda: optimizers.AdamW(lr=0.01, weight_decay=0.1),
    "rmsprop": lambda: optimizers.RMSprop(lr=0.01),
    "rmsprop_momentum_wd": lambda: optimizers.RMSprop(lr=0.01, momentum=0.9, weight_decay=0.1),
}
TOLERANCE = {"float32": 1e-5, "float64": 1e-12}


def test_numpy_backend_binds_a_fused_update() -> None:
    assert isinstance(Backend("numpy"), NumpyBackend)
    optimizer = optimizers.Adam()
    optimizer.prepare([Parameter(np.zeros((2, 3), np.float32), "w")], Backend("numpy"))
    assert optimizer.fused_update is not None


def test_plain_sgd_keeps_the_standard_path_but_binds_the_rank_one_update() -> None:
    optimizer = optimizers.SGD(lr=0.1)
    optimizer.prepare([Parameter(np.zeros((2, 3), np.float32), "w")], Backend("numpy"))
    assert optimizer.fused_update is None and optimizer._outer_update is not None


@pytest.mark.parametrize("dtype", sorted(TOLERANCE))
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_host_update_equals_the_standard_path(case: str, dtype: str) -> None:
    rng = np.random.default_rng(3)
    values = [rng.standard_normal((6, 4)).astype(dtype), rng.standard_normal(4).astype(dtype)]
    reference, fused = CASES[case](), CASES[case]()
    standard = [Parameter(v.copy(), f"p{i}") for i, v in enumerate(values)]
    host = [Parameter(v.copy(), f"p{i}") for i, v in enumerate(values)]
    reference.prepare(standard)  # no backend: the standard path
    fused.prepare(host, Backend("numpy", dtype))
    assert reference.fused_update is None and fused.fused_update is not None
    for _ in range(4):
        grads = [rng.standard_normal(v.shape).astype(dtype) for v in values]
        for p, q, g in zip(standard, host, grads, strict=True):
            p.grad, q.grad = g, g.copy()
        reference.step(standard)
        fused.step(host)
        for q, g in zip(host, grads, strict=True):
            np.testing.assert_array_equal(q.grad, g)  # the gradient is left untouched
    tol = TOLERANCE[dtype] * 10
    for p, q in zip(standard, host, strict=True):
        assert q.value.dtype == np.dtype(dtype)
        np.testing.assert_allclose(q.value, p.value, rtol=tol, atol=tol)
    for slot in fused.slots:
        for state, ref in zip(fused._state[slot], reference._state[slot], strict=True):
            np.testing.assert_allclose(state, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", sorted(TOLERANCE))
def test_the_host_outer_product_sgd_equals_the_standard_path(dtype: str) -> None:
    rng = np.random.default_rng(4)
    column, row = (rng.standard_normal((5, 1)).astype(dtype),
                   rng.standard_normal((1, 3)).astype(dtype))
    start = rng.standard_normal((5, 3)).astype(dtype)
    standard, host = Parameter(start.copy(), "w"), Parameter(start.copy(), "w")
    reference, fused = optimizers.SGD(lr=0.1), optimizers.SGD(lr=0.1)
    reference.prepare([standard])
    fused.prepare([host], Backend("numpy", dtype))
    assert fused._outer_update is not None
    for p, optimizer in ((standard, reference), (host, fused)):
        p.set_outer_gradient(column, row)
        optimizer.step([p])
    np.testing.assert_allclose(host.value, standard.value, rtol=TOLERANCE[dtype],
                               atol=TOLERANCE[dtype])
    transposed = Parameter(np.asfortranarray(start), "w")  # BLAS then works on a copy
    fused._outer_update(column, row, 0.1, transposed.value)
    np.testing.assert_allclose(transposed.value, standard.value, rtol=TOLERANCE[dtype],
                               atol=TOLERANCE[dtype])


def test_a_subclass_that_redefines_the_update_keeps_its_rule() -> None:
    """A user's variant that overrides ``_update`` only is never replaced by a fused kernel."""
    import anynn

    class HalfStepAdam(anynn.optimizers.Adam):
        calls = 0

        def _update(self, params, lr):  # type: ignore[no-untyped-def]
            type(self).calls += 1
            super()._update(params, lr / 2)

    net = anynn.Network(3, [4, 1], backend="numpy", seed=0)
    X = np.linspace(-1, 1, 24).reshape(8, 3)
    net.fit(X, X[:, :1], epochs=2, batch_size=4, optimizer=HalfStepAdam(lr=0.01), verbose=0)
    assert HalfStepAdam.calls == 4
    plain = anynn.optimizers.Adam(lr=0.01)
    net2 = anynn.Network(3, [4, 1], backend="numpy", seed=0)
    net2.fit(X, X[:, :1], epochs=1, batch_size=8, optimizer=plain, verbose=0)
    assert plain.fused_update is not None  # the built-in keeps its fused update
