"""Shared arrays, late divergence and edge-case inputs found in review."""

from __future__ import annotations

import numpy as np
import pytest

import anynn as nn
from anynn import to_numpy


def regression(n: int = 20, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    X = np.random.default_rng(seed).normal(size=(n, 2))
    return X, X.sum(axis=1)


def small(backend: str, **kwargs: object) -> nn.Network:
    return nn.Network(2, [(4, True, "tanh"), (1, True, "identity")], backend=backend, seed=0,
                      **kwargs)  # type: ignore[arg-type]


def test_assigned_weights_are_copied_not_shared(backend: str) -> None:
    net = small(backend)
    mine = np.ones((2, 4), dtype=np.float32)
    net.layers[0].weights = mine
    net.fit(*regression(), epochs=2, lr=0.1, verbose=0)
    np.testing.assert_array_equal(mine, np.ones((2, 4), dtype=np.float32))


def test_a_copy_on_the_same_backend_trains_independently(backend: str) -> None:
    net = small(backend)
    before = [to_numpy(p.value).copy() for p in net.parameters()]
    net.to().fit(*regression(), epochs=2, lr=0.1, verbose=0)
    for a, p in zip(before, net.parameters(), strict=True):
        np.testing.assert_array_equal(a, to_numpy(p.value))


def test_divergence_in_the_last_update_is_caught_and_rolled_back(backend: str) -> None:
    net = small(backend)
    before = [to_numpy(p.value).copy() for p in net.parameters()]
    with pytest.raises(nn.TrainingDiverged, match="weights became non-finite") as info:
        net.fit(*regression(), epochs=1, lr=1e300, batch_size=20, verbose=0)
    assert info.value.epoch == 0 and info.value.step == 0
    for a, p in zip(before, net.parameters(), strict=True):
        np.testing.assert_array_equal(a, to_numpy(p.value))
    assert net.history.epoch == [] and net.history.history["loss"] == []


@pytest.mark.parametrize("bad", [float("nan"), "fast", -1.0])
def test_a_schedule_returning_a_bad_rate_is_refused(backend: str, bad: object) -> None:
    with pytest.raises(nn.AnynnValueError, match="schedule returned"):
        small(backend).fit(*regression(), epochs=1, lr=lambda step: bad, verbose=0)


def test_cce_targets_must_be_distributions(backend: str) -> None:
    net = nn.Network(2, [(3, True, "softmax")], backend=backend, seed=0)
    X = np.zeros((2, 2))
    with pytest.raises(nn.AnynnValueError, match="rows sum to 1; row 1 sums to 0.5"):
        net.fit(X, [[1.0, 0.0, 0.0], [0.25, 0.25, 0.0]], loss="cce", verbose=0)


def test_validation_split_of_backend_arrays(backend: str) -> None:
    X, y = regression()
    xp = nn.Backend(backend).xp
    history = small(backend).fit(
        xp.asarray(X), xp.asarray(y[:, None]), epochs=1, validation_split=0.25, verbose=0
    )
    assert len(history.history["val_loss"]) == 1


def test_string_weights_are_a_type_error(backend: str) -> None:
    with pytest.raises(nn.AnynnTypeError, match="weights"):
        small(backend).layers[0].weights = [["a"] * 4] * 2


def test_nan_weights_are_refused(backend: str) -> None:
    with pytest.raises(nn.AnynnValueError, match="non-finite"):
        small(backend).layers[0].biases = [0.0, np.nan, 0.0, 0.0]


def test_numpy_integer_layer_lengths_are_accepted(backend: str) -> None:
    net = nn.Network(np.int64(2), [np.int64(3), (np.int64(1), True)], backend=backend)
    assert [layer.n_out for layer in net.layers] == [3, 1]


def test_numpy_float_class_weights_are_accepted(backend: str) -> None:
    X = np.random.default_rng(1).normal(size=(10, 2))
    y = (X[:, 0] > 0).astype(float)
    runs = []
    for weights in ({0: np.float32(1.0), 1: np.float32(2.0)}, {0: 1.0, 1: 2.0}):
        net = nn.Network(2, [(1, True, "sigmoid")], backend=backend, seed=0)
        history = net.fit(X, y, loss="bce", epochs=3, class_weight=weights, verbose=0)
        runs.append((dict(history.history), [to_numpy(p.value) for p in net.parameters()]))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(a, b)
    # the weights act: class 1 counted twice differs from unweighted training
    plain = nn.Network(2, [(1, True, "sigmoid")], backend=backend, seed=0)
    assert plain.fit(X, y, loss="bce", epochs=3, verbose=0).history["loss"] != runs[0][0]["loss"]


def test_data_on_device_must_be_a_flag(backend: str) -> None:
    with pytest.raises(nn.AnynnTypeError, match="data_on_device"):  # wrong type: TypeError
        small(backend).fit(*regression(), data_on_device=np.array([True, False]), verbose=0)


def test_validation_split_of_lists(backend: str) -> None:
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [1.0, 2.0]]
    history = small(backend).fit(X, [0.0, 1.0, 1.0, 0.0, 1.0], validation_split=0.4,
                                 sample_weight=[1, 1, 1, 2, 2], verbose=0)
    assert len(history.history["val_loss"]) == 1


def test_history_lists_stay_aligned_across_fits(backend: str) -> None:
    X = np.random.default_rng(2).normal(size=(12, 2))
    y = (X[:, 0] > 0).astype(float)
    net = nn.Network(2, [(3, True, "tanh"), (1, True, "sigmoid")], backend=backend, seed=0)
    net.fit(X, y, epochs=2, loss="bce", metrics=["accuracy"], validation_split=0.25, verbose=0)
    history = net.fit(X, y, epochs=1, loss="bce", verbose=0)
    assert history.epoch == [0, 1, 2]
    assert all(len(v) == 3 for v in history.history.values())
    assert np.isnan(history.history["val_loss"][2]) and np.isfinite(history.history["loss"][2])


def test_gradcheck_of_an_exactly_zero_gradient_is_small(backend: str) -> None:
    # By symmetry the output bias gradient is exactly 0; numeric noise must not read as 1.0.
    net = nn.Network(2, [(1, True, "tanh"), 1], backend=backend, dtype="float64", seed=0)
    assert nn.gradcheck(net, [[1.0, 0.0], [-1.0, 0.0]], [[1.0], [0.0]]) < 1e-4


def test_single_sample_gradient_is_an_outer_product_built_on_demand(backend: str) -> None:
    net = nn.Network(3, [(4, True, "tanh"), (2, True, "identity")], backend=backend,
                     dtype="float64", seed=0)
    bk = net.backend
    x, y = bk.asarray([[0.5, -1.0, 2.0]]), bk.asarray([[1.0, -1.0]])
    head = nn.losses.LossHead(nn.losses.get("mse"), net.layers[-1].activation)
    assert not head.fused
    net.loss_and_gradients(x, y, head)
    weight = net.layers[0].weight
    column, row = weight.outer_factors
    expected = to_numpy(column) * to_numpy(row)
    np.testing.assert_allclose(to_numpy(weight.grad), expected, rtol=0, atol=0)
    assert weight.outer_factors is None  # built once, then an ordinary gradient
    # plain SGD updates from the factors exactly as from the built gradient
    a, b = net.to(), net.to()
    for clone in (a, b):
        clone.loss_and_gradients(x, y, head)
    for p in b.parameters():
        _ = p.grad  # force the built form
    nn.optimizers.SGD(0.1).step(a.parameters())
    nn.optimizers.SGD(0.1).step(b.parameters())
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_allclose(to_numpy(pa.value), to_numpy(pb.value), rtol=1e-15, atol=1e-15)
