"""Dropout: specs, inverted masks from the seeded host RNG, inactive in predict/evaluate."""

from __future__ import annotations

import numpy as np
import pytest

import anynn as nn
from anynn.backend import to_numpy


def test_dropout_in_layer_list_and_dict_spec() -> None:
    a = nn.Network(
        3,
        [(5, True, "relu"), nn.Dropout(0.3), {"length": 4, "dropout": 0.1}, (1, True, "sigmoid")],
        seed=0,
    )
    assert a.dropout == [0.3, 0.1, 0.0]
    assert [type(layer) for layer in a.layers] == [nn.Dense] * 3  # indices count dense only
    assert a.layers[1].weights.shape == (5, 4)
    assert a.to().dropout == a.dropout


@pytest.mark.parametrize(
    "layers, pattern",
    [
        ([nn.Dropout(0.2), 3, 1], "must follow"),
        ([3, nn.Dropout(0.2), nn.Dropout(0.2), 1], "must follow"),
        ([3, 1, nn.Dropout(0.2)], "output layer"),
        ([3, {"length": 1, "dropout": 0.5}], "output layer"),
        ([{"length": 3, "dropout": 1.0}, 1], r"\[0, 1\)"),
    ],
)
def test_bad_dropout_specs(layers, pattern) -> None:
    with pytest.raises(nn.AnynnError, match=pattern):
        nn.Network(2, layers)


@pytest.mark.parametrize("rate", [-0.1, 1.0, "0.5", True])
def test_bad_rate(rate) -> None:
    with pytest.raises(nn.AnynnError):
        nn.Dropout(rate)


def test_masks_are_inverted_and_seeded(backend: str) -> None:
    net = nn.Network(
        4,
        [(64, True, "identity"), nn.Dropout(0.25), (2, True, "identity")],
        backend=backend,
        dtype="float64",
        seed=3,
    )
    from anynn.training.regularization import MaskSampler

    sampler = MaskSampler(net.dropout, [64, 2], np.random.default_rng(7), net.backend)
    masks = sampler.draw(500)
    assert masks[1] is None
    host = to_numpy(masks[0])
    assert set(np.unique(host)) == {0.0, 1 / 0.75}
    assert abs((host == 0).mean() - 0.25) < 0.02
    expected = (np.random.default_rng(7).random((500, 64)) >= 0.25) / 0.75
    np.testing.assert_array_equal(host, expected)


def test_dropout_changes_training_but_not_inference(backend: str) -> None:
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((32, 4)), rng.standard_normal(32)
    with_dropout = nn.Network(
        4,
        [(16, True, "tanh"), nn.Dropout(0.5), (1, True, "identity")],
        backend=backend,
        dtype="float64",
        seed=0,
    )
    plain = nn.Network(
        4, [(16, True, "tanh"), (1, True, "identity")], backend=backend, dtype="float64", seed=0
    )
    np.testing.assert_array_equal(to_numpy(with_dropout.predict(X)), to_numpy(plain.predict(X)))
    assert with_dropout.evaluate(X, y) == plain.evaluate(X, y)
    with_dropout.fit(X, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    plain.fit(X, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    assert with_dropout.history["loss"] != plain.history["loss"]
    p1, p2 = with_dropout.predict(X), with_dropout.predict(X)
    np.testing.assert_array_equal(to_numpy(p1), to_numpy(p2))  # deterministic at inference


def test_dropout_gradient_matches_masked_finite_differences() -> None:
    """Backprop through a fixed mask equals the numerical gradient of the masked network."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    net = nn.Network(
        3, [(5, True, "tanh"), nn.Dropout(0.4), (1, True, "identity")], dtype="float64", seed=1
    )
    mask = (rng.random((6, 5)) >= 0.4) / 0.6
    loss = nn.losses.get("mse")
    head = nn.losses.LossHead(loss, net.layers[-1].activation)
    assert not head.fused
    net.loss_and_gradients(X, y, head, masks=[mask, None])
    W = net.layers[0].weights
    grad = to_numpy(net.layers[0].weight.grad)

    def value(W0):
        h = np.tanh(X @ W0 + to_numpy(net.layers[0].biases)) * mask
        out = h @ net.layers[1].weights + net.layers[1].biases
        return float(np.mean((out - y) ** 2))

    numeric = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        d = np.zeros_like(W)
        d[idx] = 1e-6
        numeric[idx] = (value(W + d) - value(W - d)) / 2e-6
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
