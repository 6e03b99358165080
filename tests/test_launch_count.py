"""Device launches per training step and per predict: the CPU-side proxy of GPU speed.

On a GPU a small step is launch-bound (CuPy spends 5-10 us of host time per operation),
so the number of device operations, not FLOPs, decides its speed. These tests count them
deterministically through :mod:`counting_namespace` (every array operation) and
:class:`counting_namespace.KernelCountingBackend` (plus one per fused kernel, as the CuPy
backend would launch them), on the network of issue 9: 784-256-128-10 relu/relu/softmax,
loss cce, batch 128.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import counting_namespace
import numpy as np
import pytest
from counting_namespace import COUNTS, DeviceCountingBackend, KernelCountingBackend

import anynn
from anynn import optimizers
from anynn.backend import Backend, nan_propagating_sign, sign_for

LAYERS = [(256, True, "relu"), (128, True, "relu"), (10, True, "softmax")]
STEP_BUDGET = 30
"""Device launches per training step at batch 128 (CuPy path), every optimizer."""
PREDICT_BUDGET = {"kernels": 12, "standard": 13}
"""Device launches of one predict of 128 rows of a device array (CuPy path: issue 9;
the standard path runs the bias add and relu as two operations each)."""
STANDARD_STEP_CEILING = {"sgd": 46, "momentum": 58, "nesterov": 70, "adam": 106,
                         "adamw": 112, "rmsprop": 88}
"""Array operations per batch-128 step on the standard path (NumPy, no kernels): a
regression ceiling (51 / 63 / 111 / 117 / 93 for SGD / momentum / Adam / AdamW / RMSprop
before issue 9)."""
SINGLE_SAMPLE_BUDGET = 24
"""Device launches per batch-1 step (CuPy path), every optimizer (44 SGD, 104 Adam before)."""

OPTIMIZERS: dict[str, Callable[[], optimizers.Optimizer]] = {
    "sgd": lambda: optimizers.SGD(lr=0.01),
    "momentum": lambda: optimizers.SGD(lr=0.01, momentum=0.9),
    "nesterov": lambda: optimizers.SGD(lr=0.01, momentum=0.9, nesterov=True),
    "adam": lambda: optimizers.Adam(lr=1e-3),
    "adamw": lambda: optimizers.AdamW(lr=1e-3),
    "rmsprop": lambda: optimizers.RMSprop(lr=1e-3),
}


def kernel_backend() -> Backend:
    return KernelCountingBackend(counting_namespace)


def network(backend: Any) -> anynn.Network:
    return anynn.Network(784, LAYERS, backend=backend, seed=0)


def per_step(
    backend: Any, make_optimizer: Callable[[], optimizers.Optimizer], batch: int = 128,
    shuffle: bool = False,
) -> tuple[float, float, float]:
    """``(launches, syncs, host-to-device copies)`` per step, per-fit costs removed.

    Two fits of 2 and 4 steps on resident data differ by exactly two steps.
    """
    rng = np.random.default_rng(0)
    counts = []
    for steps in (2, 4):
        net = network(backend)
        X = net.backend.asarray(rng.random((batch * steps, 784)))
        y = rng.integers(0, 10, batch * steps)
        COUNTS.reset()
        net.fit(X, y, epochs=1, batch_size=batch, loss="cce", optimizer=make_optimizer(),
                verbose=0, shuffle=shuffle)
        counts.append(COUNTS.snapshot())
    return tuple((b - a) / 2 for a, b in zip(*counts, strict=True))  # type: ignore[return-value]


def predict_counts(backend: Any) -> tuple[int, int, int]:
    net = network(backend)
    X = net.backend.asarray(np.random.default_rng(0).random((128, 784)))
    COUNTS.reset()
    net.predict(X)
    return COUNTS.snapshot()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_training_step_fits_the_launch_budget(name: str) -> None:
    launches, syncs, copies = per_step(kernel_backend(), OPTIMIZERS[name])
    assert syncs == 0 and copies == 0, "the step loop must not wait for the device"
    assert launches <= STEP_BUDGET, dict(COUNTS.by_name)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_shuffled_step_fits_the_launch_budget(name: str) -> None:
    """fit's default: each batch gathered from resident data (two gathers, no copy of the
    data per epoch)."""
    launches, syncs, copies = per_step(kernel_backend(), OPTIMIZERS[name], shuffle=True)
    assert syncs == 0 and copies == 0
    assert launches <= STEP_BUDGET, dict(COUNTS.by_name)


def test_a_shuffled_epoch_gathers_batches_never_the_whole_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gathered: list[int] = []
    take = counting_namespace.take

    def recording_take(x: Any, rows: Any, /, *, axis: int = 0) -> Any:
        gathered.append(rows.shape[0])
        return take(x, rows, axis=axis)

    monkeypatch.setitem(counting_namespace._RESOLVED, "take", recording_take)
    net = network(counting_namespace)
    rng = np.random.default_rng(0)
    X = net.backend.asarray(rng.random((512, 784)))
    COUNTS.reset()
    net.fit(X, rng.integers(0, 10, 512), epochs=2, batch_size=128, loss="cce", verbose=0)
    assert gathered and max(gathered) == 128  # X and y per batch, never 512 rows
    assert COUNTS.host_to_device <= 2 * 2 + 2  # per epoch: the permutation (+ fit's own)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_a_single_sample_step_fits_the_launch_budget(name: str) -> None:
    launches, syncs, copies = per_step(kernel_backend(), OPTIMIZERS[name], batch=1)
    assert syncs == 0 and copies == 0
    assert launches <= SINGLE_SAMPLE_BUDGET, dict(COUNTS.by_name)


@pytest.mark.parametrize("path", ["standard", "kernels"])
def test_predict_fits_the_budget_without_synchronising(path: str) -> None:
    launches, syncs, copies = predict_counts(
        kernel_backend() if path == "kernels" else DeviceCountingBackend(counting_namespace)
    )
    assert syncs == 0 and copies == 0, "predict of a device array must not wait for it"
    assert launches <= PREDICT_BUDGET[path], dict(COUNTS.by_name)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_the_standard_path_step_does_not_regress(name: str) -> None:
    launches, syncs, copies = per_step(counting_namespace, OPTIMIZERS[name])
    assert syncs == 0 and copies == 0
    assert launches <= STANDARD_STEP_CEILING[name], dict(COUNTS.by_name)


def test_predict_of_a_device_array_with_nan_gives_nan_rows_without_raising() -> None:
    net = network(DeviceCountingBackend(counting_namespace))
    rows = np.random.default_rng(0).random((4, 784))
    rows[2, 5] = np.nan
    out = net.predict(net.backend.asarray(rows)).data
    assert np.isnan(out[2]).all() and np.isfinite(np.delete(out, 2, axis=0)).all()
    with pytest.raises(anynn.AnynnValueError, match="non-finite"):
        net.predict(rows)  # host data is checked (no device to wait for)


def test_the_counting_namespace_counts_operations_not_views() -> None:
    xp = counting_namespace
    a = xp.asarray(np.ones((4, 3), dtype=np.float32))
    assert COUNTS.host_to_device >= 1
    COUNTS.reset()
    view = a[1:3, ...].T
    b = xp.reshape(view, (6,))
    assert COUNTS.launches == 0
    c = a @ a.T + 1.0
    c -= 2.0
    assert COUNTS.launches == 3 and COUNTS.syncs == 0
    assert float(xp.sum(c)) == pytest.approx(4 * 4 * 2.0) and COUNTS.syncs == 1
    assert b.shape == (6,) and not hasattr(a, "mT")  # CuPy 13 arrays lack .mT


def test_training_needs_no_matrix_transpose_attribute() -> None:
    """CuPy 13 has no ``ndarray.mT``: the counting arrays have none either, and train."""
    net = network(counting_namespace)
    rng = np.random.default_rng(1)
    history = net.fit(rng.random((64, 784)), rng.integers(0, 10, 64), epochs=1,
                      batch_size=32, loss="cce", optimizer="adam", verbose=0)
    assert np.isfinite(history.history["loss"][0])
    single = net.fit(rng.random((2, 784)), rng.integers(0, 10, 2), epochs=1, batch_size=1,
                     loss="cce", verbose=0)
    assert np.isfinite(single.history["loss"][0])


def test_the_sign_of_compiled_activations_never_waits_for_the_device() -> None:
    """CuPy's ``sign`` maps NaN to 0 and array-api-compat patches it with a boolean-mask
    assignment (a host synchronisation per call): the seam's CuPy sign is built from
    ``where`` and ``sign`` instead, shown here on the counting namespace."""
    sign = nan_propagating_sign(counting_namespace)
    x = counting_namespace.asarray(np.array([-2.0, 0.0, 3.0, np.nan], dtype=np.float32))
    COUNTS.reset()
    out = sign(x)
    assert COUNTS.syncs == 0 and "setitem" not in COUNTS.by_name and COUNTS.launches == 3
    np.testing.assert_array_equal(out.data, [-1.0, 0.0, 1.0, np.nan])
    assert sign_for(np) is np.sign


@pytest.mark.parametrize("name", ["relu", "leaky_relu", "elu", "selu"])
def test_kinked_activations_propagate_nan_without_synchronising(name: str) -> None:
    compiled = anynn.activations.get(name).compiled(counting_namespace)
    z = counting_namespace.asarray(np.array([-1.0, 0.0, 2.0, np.nan], dtype=np.float32))
    COUNTS.reset()
    outputs = [compiled.f(z), compiled.df(z)]
    if compiled.df_from_output is not None:
        outputs.append(compiled.df_from_output(outputs[0]))
    assert COUNTS.syncs == 0 and "setitem" not in COUNTS.by_name, dict(COUNTS.by_name)
    for out in outputs:
        assert np.isnan(out.data[-1])  # NaN in, NaN out
