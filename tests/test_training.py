"""The fit loop: resume, reproducibility, streaming, divergence, interrupts, weights, clipping."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import anynn as nn
from anynn.backend import to_numpy
from anynn.history import History


def blobs(n: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    return X, (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int) + (X[:, 2] > 1).astype(int)


def make_net(backend: str = "numpy", dropout: float = 0.2, seed: int = 0) -> nn.Network:
    layers = [(8, True, "relu"), nn.Dropout(dropout), (3, True, "softmax")]
    if not dropout:
        layers.pop(1)
    return nn.Network(4, layers, backend=backend, dtype="float64", seed=seed)


def weights(net: nn.Network) -> list[np.ndarray]:
    return [to_numpy(p.value).copy() for p in net.parameters()]


FIT = {"loss": "cce", "batch_size": 8, "verbose": 0, "metrics": ["accuracy"]}


def test_resume_from_optimizer_state_is_exact(backend: str) -> None:
    X, y = blobs()
    whole = make_net(backend)
    whole.fit(X, y, epochs=4, optimizer="adam", lr=0.01, **FIT)
    first = make_net(backend)
    first.fit(X, y, epochs=2, optimizer="adam", lr=0.01, **FIT)
    # What a save/load with the optimizer does: weights, RNG, optimizer state, history.
    resumed = first.to()
    resumed.optimizer = nn.optimizers.from_state(first.optimizer.state_dict(), resumed.backend)
    resumed.history = History.from_dict(first.history.to_dict())
    resumed.fit(X, y, epochs=2, **FIT)  # optimizer=None: continue with net.optimizer
    assert resumed.history.history == whole.history.history
    assert resumed.history.epoch == [0, 1, 2, 3]
    for a, b in zip(weights(resumed), weights(whole), strict=True):
        np.testing.assert_array_equal(a, b)


def test_same_seed_same_history_across_backends() -> None:
    X, y = blobs()
    runs = []
    for backend in ("numpy", "array_api_strict"):
        net = make_net(backend)
        net.fit(X, y, epochs=3, optimizer="adam", lr=0.01, validation_split=0.25, **FIT)
        runs.append((net.history.history, weights(net)))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_streamed_and_resident_data_give_identical_results(backend: str, tmp_path) -> None:
    X, y = blobs(30)
    mm = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float64, shape=X.shape)
    mm[:] = X
    results = []
    for on_device, data in ((True, X), (False, X), (False, mm), ("auto", mm)):
        net = make_net(backend)
        net.fit(
            data,
            y,
            epochs=2,
            data_on_device=on_device,
            validation_data=(X, y),
            sample_weight=np.linspace(0.5, 1.5, 30),
            **FIT,
        )
        results.append((net.history.history, weights(net)))
    for other in results[1:]:
        assert other[0] == results[0][0]
        for a, b in zip(other[1], results[0][1], strict=True):
            np.testing.assert_array_equal(a, b)


def test_divergence_names_epoch_and_step_and_keeps_finite_weights(backend: str) -> None:
    X, y = blobs()
    X = X * 1e150
    reference = make_net(backend, dropout=0.0)
    net = make_net(backend, dropout=0.0)
    with pytest.raises(nn.TrainingDiverged) as info:
        net.fit(X, y, epochs=5, lr=1e10, loss="cce", batch_size=8, verbose=0)
    err = info.value
    assert err.epoch == 0 and 0 <= err.step < 5
    assert f"step {err.step}" in str(err) and "epoch 0" in str(err)
    for a, b in zip(weights(net), weights(reference), strict=True):
        np.testing.assert_array_equal(a, b)  # the state at the start of epoch 0
    assert net.optimizer.iterations == 0  # state reset


def test_divergence_in_a_later_epoch_keeps_the_last_finite_epoch() -> None:
    X = np.ones((4, 4))

    class Explode(nn.Callback):
        def on_epoch_end(self, epoch, logs):
            if epoch == 1:
                self.network.layers[0].weights = np.full((4, 8), 1e300)

    net = make_net(dropout=0.0)
    with pytest.raises(nn.TrainingDiverged) as info:
        net.fit(
            X,
            np.eye(3)[[0, 1, 2, 0]],
            epochs=4,
            loss="cce",
            batch_size=4,
            verbose=0,
            callbacks=[Explode()],
        )
    assert info.value.epoch in (2, 3) and info.value.step == info.value.epoch
    assert "start of epoch" in str(info.value)
    assert all(np.isfinite(w).all() for w in weights(net))
    assert net.history.epoch == list(range(info.value.epoch))


class InterruptAt(nn.Callback):
    def __init__(self, step: int, use_signal: bool) -> None:
        self.step, self.use_signal = step, use_signal

    def on_batch_end(self, step, logs):
        if step == self.step:
            if self.use_signal:
                os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C: handled after this step
            else:
                raise KeyboardInterrupt


@pytest.mark.parametrize("use_signal", [False, True])
def test_ctrl_c_stops_cleanly_after_the_current_step(backend: str, use_signal: bool) -> None:
    if use_signal and not hasattr(signal, "SIGINT"):
        pytest.skip("no SIGINT")
    X, y = blobs()
    net = make_net(backend, dropout=0.0)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        history = net.fit(
            X, y, epochs=5, shuffle=False, callbacks=[InterruptAt(6, use_signal)], **FIT
        )
    assert history.epoch == [0] and net.optimizer.iterations == 7
    stepped = make_net(backend, dropout=0.0)  # 7 steps of the same plan
    stepped.fit(X, y, epochs=1, shuffle=False, **FIT)
    stepped.fit(X[:16], y[:16], epochs=1, shuffle=False, **FIT)
    for a, b in zip(weights(net), weights(stepped), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_sample_and_class_weights(backend: str) -> None:
    X, y = blobs()
    losses = {}
    for name, kwargs in {
        "none": {},
        "ones": {"sample_weight": np.ones(len(y))},
        "twice": {"sample_weight": np.full(len(y), 2.0)},
        "class": {"class_weight": {0: 3.0, 2: 0.5}},
        "manual": {"sample_weight": np.array([3.0, 1.0, 0.5])[y]},
    }.items():
        net = make_net(backend, dropout=0.0)
        net.fit(X, y, epochs=2, batch_size=40, loss="cce", verbose=0, shuffle=False, **kwargs)
        losses[name] = (net.history["loss"], weights(net))
    assert losses["ones"][0] == losses["none"][0]
    np.testing.assert_allclose(losses["twice"][0][0], 2 * losses["none"][0][0], rtol=1e-12)
    assert losses["class"][0] == losses["manual"][0]


def test_fit_history_metrics_and_validation(backend: str) -> None:
    X, y = blobs()
    net = make_net(backend)
    history = net.fit(
        X,
        y,
        epochs=3,
        validation_split=0.25,
        optimizer="adam",
        lr=0.05,
        loss="cce",
        metrics=["accuracy", "mae"],
        verbose=0,
    )
    assert set(history.history) == {
        "loss",
        "accuracy",
        "mae",
        "val_loss",
        "val_accuracy",
        "val_mae",
    }
    assert all(len(v) == 3 for v in history.history.values())
    assert all(0 <= a <= 1 for a in history["val_accuracy"])
    val = net.evaluate(X[30:], y[30:], loss="cce", metrics=["accuracy"])
    assert val["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-12)
    assert val["accuracy"] == history["val_accuracy"][-1]


def test_optimizer_reuse_rules() -> None:
    X, y = blobs()
    net = make_net(dropout=0.0)
    net.fit(X, y, **FIT)
    assert isinstance(net.optimizer, nn.optimizers.SGD) and net.optimizer.lr == 0.01
    sgd = net.optimizer
    net.fit(X, y, lr=0.2, **FIT)
    assert net.optimizer is sgd and sgd.lr == 0.2 and sgd.iterations == 10
    net.fit(X, y, optimizer="adam", **FIT)
    assert isinstance(net.optimizer, nn.optimizers.Adam) and net.optimizer.iterations == 5
    mine = nn.optimizers.RMSprop(0.001)
    net.fit(X, y, optimizer=mine, **FIT)
    assert net.optimizer is mine and net.history.epoch == [0, 1, 2, 3]


def test_partial_fit_and_train(backend: str) -> None:
    X, y = blobs()
    net = make_net(backend, dropout=0.0)
    net.partial_fit(X[:20], y[:20], loss="cce")
    net.partial_fit(X[20:], y[20:], loss="cce")
    assert net.history.epoch == [0, 1] and net.optimizer.iterations == 2
    with pytest.raises(nn.AnynnValueError):
        net.partial_fit(X, y, epochs=3)
    net.train(X[:4], y[:4], epochs=1, loss="cce", optimizer=nn.optimizers.Adam(), verbose=0)
    assert net.optimizer.iterations == 4


def test_gradient_clipping_matches_manual_clipping(backend: str) -> None:
    torch = pytest.importorskip("torch")
    X, y = blobs()
    for kwargs in ({"clip_norm": 0.05}, {"clip_value": 0.01}):
        net = make_net(backend, dropout=0.0)
        probe = net.to()
        Xd, Yd = probe.backend.asarray(X), probe.prepare_targets(y, nn.losses.get("cce"), 40)
        head = nn.losses.LossHead(nn.losses.get("cce"), probe.layers[-1].activation)
        assert head.fused
        probe.loss_and_gradients(Xd, Yd, head)
        grads = [torch.tensor(to_numpy(p.grad)) for p in probe.parameters()]
        tparams = [torch.zeros_like(g, requires_grad=True) for g in grads]
        for t, g in zip(tparams, grads, strict=True):
            t.grad = g.clone()
        if "clip_norm" in kwargs:
            torch.nn.utils.clip_grad_norm_(tparams, kwargs["clip_norm"])
        else:
            torch.nn.utils.clip_grad_value_(tparams, kwargs["clip_value"])
        expected = [w - 0.5 * t.grad.numpy() for w, t in zip(weights(net), tparams, strict=True)]
        net.fit(X, y, lr=0.5, batch_size=40, loss="cce", verbose=0, shuffle=False, **kwargs)
        for a, b in zip(weights(net), expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-14)


def regression_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    X = rng.standard_normal((12, 3))
    return X, np.stack([X[:, 0] - X[:, 1], np.sin(X[:, 2])], axis=1) * 3.0


def tanh_net(backend: str) -> nn.Network:
    """Two float64 layers with random non-zero biases (tanh hidden, identity output)."""
    net = nn.Network(3, [(5, True, "tanh"), (2, True, "identity")], backend=backend,
                     dtype="float64", seed=7)
    rng = np.random.default_rng(11)
    for layer in net.layers:
        layer.biases = rng.standard_normal(layer.n_out) * 0.5
    return net


def numpy_parameters(net: nn.Network) -> tuple[list[np.ndarray], list[np.ndarray]]:
    return ([to_numpy(lay.weights).copy() for lay in net.layers],
            [to_numpy(lay.biases).copy() for lay in net.layers])


def interleave(Ws: list[np.ndarray], bs: list[np.ndarray]) -> list[np.ndarray]:
    return [p for pair in zip(Ws, bs, strict=True) for p in pair]


def numpy_reference_gradients(
    Ws: list[np.ndarray], bs: list[np.ndarray], X: np.ndarray, Y: np.ndarray,
    clip_backprop: float | None = None,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Backprop of mse through tanh -> identity, written out in NumPy.

    Returns the gradients (W1, b1, W2, b2) and dL/da1, the gradient passed from layer 2 to
    layer 1 before the optional clamp to ``[-clip_backprop, clip_backprop]``.
    """
    a1 = np.tanh(X @ Ws[0] + bs[0])
    a2 = a1 @ Ws[1] + bs[1]
    d2 = 2.0 * (a2 - Y) / Y.size  # mse: mean over all elements
    between = d2 @ Ws[1].T
    passed = between if clip_backprop is None else np.clip(between, -clip_backprop, clip_backprop)
    d1 = passed * (1.0 - a1**2)
    grads = [X.T @ d1, d1.sum(axis=0), a1.T @ d2, d2.sum(axis=0)]
    return grads, between


def numpy_clipped(grads: list[np.ndarray], clip_norm: float | None,
                  clip_value: float | None) -> list[np.ndarray]:
    """torch's clip_grad_norm_ (factor min(1, c / (norm + 1e-6))), then an elementwise clamp."""
    if clip_norm is not None:
        norm = np.sqrt(sum(float(np.sum(g * g)) for g in grads))
        grads = [g * min(1.0, clip_norm / (norm + 1e-6)) for g in grads]
    if clip_value is not None:
        grads = [np.clip(g, -clip_value, clip_value) for g in grads]
    return grads


@pytest.mark.parametrize(
    "kwargs",
    [{"clip_norm": 0.05}, {"clip_value": 0.01}, {"clip_norm": 0.05, "clip_value": 0.005},
     {"clip_norm": 1e6}],
)
def test_gradient_clipping_matches_numpy_reference(backend: str, kwargs: dict) -> None:
    X, Y = regression_data()
    net = tanh_net(backend)
    Ws, bs = numpy_parameters(net)
    raw, _ = numpy_reference_gradients(Ws, bs, X, Y)
    flat = np.concatenate([g.ravel() for g in raw])
    if "clip_norm" in kwargs:  # the norm scaling is active unless the bound is huge
        assert (np.linalg.norm(flat) > kwargs["clip_norm"]) == (kwargs["clip_norm"] < 1)
    clipped = numpy_clipped(raw, kwargs.get("clip_norm"), kwargs.get("clip_value"))
    if "clip_value" in kwargs:
        assert np.abs(np.concatenate([g.ravel() for g in clipped])).max() == kwargs["clip_value"]
    expected = [w - 0.5 * g for w, g in zip(interleave(Ws, bs), clipped, strict=True)]
    net.fit(X, Y, lr=0.5, batch_size=len(X), shuffle=False, loss="mse", verbose=0, **kwargs)
    for a, b in zip(weights(net), expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_clip_backprop_clamps_the_gradient_between_layers(backend: str) -> None:
    X, Y = regression_data()
    for clip in (None, 0.02):
        net = tanh_net(backend)
        Ws, bs = numpy_parameters(net)
        grads, between = numpy_reference_gradients(Ws, bs, X, Y, clip_backprop=clip)
        if clip is not None:  # the clamp is active on some elements and not on others
            assert (np.abs(between) > clip).any() and (np.abs(between) < clip).any()
        net.fit(X, Y, lr=0.5, batch_size=len(X), shuffle=False, loss="mse", verbose=0,
                clip_backprop=clip)
        expected = [w - 0.5 * g for w, g in zip(interleave(Ws, bs), grads, strict=True)]
        for a, b in zip(weights(net), expected, strict=True):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_verbose_levels(capsys) -> None:
    X, y = blobs()
    make_net(dropout=0.0).fit(X, y, epochs=2, loss="cce", verbose=0)
    assert capsys.readouterr().out == ""
    make_net(dropout=0.0).fit(X, y, epochs=2, loss="cce", verbose=2, metrics=["accuracy"])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("epoch 2/2 - loss:") and "accuracy" in lines[1]
    make_net(dropout=0.0).fit(X, y, epochs=2, loss="cce", verbose="auto")  # not a TTY here
    assert capsys.readouterr().out == ""


def test_history_plot(tmp_path) -> None:
    pytest.importorskip("matplotlib")
    X, y = blobs()
    net = make_net(dropout=0.0)
    history = net.fit(
        X, y, epochs=2, loss="cce", validation_split=0.2, metrics=["accuracy"], verbose=0
    )
    path = history.plot(tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(nn.AnynnValueError):
        History().plot(tmp_path / "empty.png")


def test_snapshot_and_restore_round_trip(backend: str) -> None:
    net = nn.Network(3, [(4, True, "tanh"), (2, True, "identity")], backend=backend, seed=0)
    X = np.random.default_rng(1).normal(size=(6, 3))
    before = to_numpy(net.predict(X))
    saved = net.snapshot()
    net.fit(X, np.ones((6, 2)), epochs=3, lr=0.1, verbose=0)
    assert not np.array_equal(to_numpy(net.predict(X)), before)
    net.restore(saved)
    np.testing.assert_array_equal(to_numpy(net.predict(X)), before)
    # restore copies: training after it leaves the snapshot intact for a second restore
    net.fit(X, np.ones((6, 2)), epochs=1, lr=0.1, verbose=0)
    net.restore(saved)
    np.testing.assert_array_equal(to_numpy(net.predict(X)), before)
    other = nn.Network(3, [(5, True, "tanh"), (2, True, "identity")], backend=backend)
    with pytest.raises(nn.AnynnValueError, match="snapshot has shapes"):
        other.restore(saved)
