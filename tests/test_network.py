"""The Network: construction, prediction, fit/train/evaluate, reproducibility across
backends, and copies between backends."""

from __future__ import annotations

import numpy as np
import pytest

import anynn
from anynn.backend import cupy_available

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=float)


def small_net(backend: str = "numpy", dtype: str = "float64", seed: int = 0) -> anynn.Network:
    return anynn.Network(
        3, [(5, True, "tanh"), (4, False, "relu"), (2, True, "sigmoid")],
        backend=backend, dtype=dtype, seed=seed,
    )


def host_weights(net: anynn.Network) -> list[np.ndarray]:
    return [anynn.to_numpy(p.value) for p in net.parameters()]


def regression_data(seed: int = 0, n: int = 11) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, rng.uniform(0.1, 0.9, (n, 2))


# -- prediction ---------------------------------------------------------------------
def test_predict_returns_backend_array_of_right_shape(backend: str) -> None:
    net = small_net(backend)
    out = net.predict(np.zeros((6, 3)))
    assert net.backend.owns(out)
    assert tuple(out.shape) == (6, 2)


def test_call_is_predict(backend: str) -> None:
    net = small_net(backend)
    X, _ = regression_data()
    np.testing.assert_array_equal(anynn.to_numpy(net(X)), anynn.to_numpy(net.predict(X)))


def test_one_dimensional_input_is_one_sample(backend: str) -> None:
    net = small_net(backend)
    x = [0.1, -0.2, 0.3]
    single = net.predict(x)
    assert tuple(single.shape) == (2,)
    np.testing.assert_array_equal(anynn.to_numpy(single), anynn.to_numpy(net.predict([x]))[0])


def test_predict_accepts_lists_numpy_and_backend_arrays(backend: str) -> None:
    net = small_net(backend)
    X, _ = regression_data()
    want = anynn.to_numpy(net.predict(X))
    np.testing.assert_array_equal(anynn.to_numpy(net.predict(X.tolist())), want)
    np.testing.assert_array_equal(anynn.to_numpy(net.predict(net.backend.asarray(X))), want)


def test_specs_is_a_synonym_of_layers() -> None:
    a = anynn.Network(2, layers=[3, 1], seed=4)
    b = anynn.Network(2, specs=[3, 1], seed=4)
    for wa, wb in zip(host_weights(a), host_weights(b), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_description() -> None:
    net = small_net()
    assert net.inputs == 3 and net.outputs == 2 and net.dtype == "float64"
    assert net.n_parameters == (3 * 5 + 5) + 5 * 4 + (4 * 2 + 2)
    assert "Network(inputs=3" in repr(net) and "relu" in repr(net)


# -- reproducibility -----------------------------------------------------------------
def test_same_seed_gives_same_initial_weights_on_every_backend(backend: str) -> None:
    reference = host_weights(small_net("numpy", "float32", seed=7))
    mine = host_weights(small_net(backend, "float32", seed=7))
    for want, got in zip(reference, mine, strict=True):
        np.testing.assert_array_equal(got, want)


def test_different_seeds_give_different_weights() -> None:
    a, b = host_weights(small_net(seed=1)), host_weights(small_net(seed=2))
    assert not np.array_equal(a[0], b[0])


def test_training_agrees_between_numpy_and_array_api_strict() -> None:
    pytest.importorskip("array_api_strict")
    X, Y = regression_data(3, n=12)
    results = []
    for name in ("numpy", "array_api_strict"):
        net = small_net(name, "float64", seed=5)
        history = net.fit(X, Y, epochs=5, lr=0.5, batch_size=3, loss="bce", shuffle=True)
        results.append((history.history["loss"], host_weights(net)))
    (loss_np, w_np), (loss_strict, w_strict) = results
    np.testing.assert_allclose(loss_strict, loss_np, rtol=0, atol=1e-12)
    for want, got in zip(w_np, w_strict, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)


def test_same_seed_gives_same_training_run(backend: str) -> None:
    X, Y = regression_data(4, n=12)
    runs = [small_net(backend, seed=9) for _ in range(2)]
    losses = [net.fit(X, Y, epochs=3, lr=0.2, batch_size=4).history["loss"] for net in runs]
    assert losses[0] == losses[1]
    for a, b in zip(host_weights(runs[0]), host_weights(runs[1]), strict=True):
        np.testing.assert_array_equal(a, b)


# -- fit / train / evaluate --------------------------------------------------------
def test_fit_returns_one_loss_per_epoch_and_learns(backend: str) -> None:
    X, Y = regression_data(5, n=32)
    net = small_net(backend)
    before = net.evaluate(X, Y)
    history = net.fit(X, Y, epochs=20, lr=0.5, batch_size=8)
    assert len(history.history["loss"]) == 20
    assert all(isinstance(v, float) for v in history.history["loss"])
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert net.evaluate(X, Y) < before


def test_fit_with_zero_epochs_changes_nothing(backend: str) -> None:
    X, Y = regression_data()
    net = small_net(backend)
    before = host_weights(net)
    history = net.fit(X, Y, epochs=0)
    assert history.history["loss"] == []
    for a, b in zip(before, host_weights(net), strict=True):
        np.testing.assert_array_equal(a, b)


def test_fit_uses_the_last_partial_batch(backend: str) -> None:
    """11 samples, batch 4, no shuffle == three consecutive steps on 4, 4 and 3 samples."""
    X, Y = regression_data(6)
    whole = small_net(backend, seed=3)
    whole.fit(X, Y, epochs=1, lr=0.3, batch_size=4, shuffle=False)
    stepped = small_net(backend, seed=3)
    for start in (0, 4, 8):
        part = slice(start, start + 4)
        stepped.fit(X[part], Y[part], epochs=1, lr=0.3, batch_size=len(X[part]), shuffle=False)
    for a, b in zip(host_weights(whole), host_weights(stepped), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-14)


def test_fit_with_batch_larger_than_the_data(backend: str) -> None:
    X, Y = regression_data(n=5)
    history = small_net(backend).fit(X, Y, epochs=2, batch_size=32)
    assert len(history.history["loss"]) == 2


def test_train_is_fit_with_one_sample_per_step(backend: str) -> None:
    X, Y = regression_data(7, n=6)
    a, b = small_net(backend, seed=2), small_net(backend, seed=2)
    ha = a.train(X, Y, epochs=3, lr=0.1)
    hb = b.fit(X, Y, epochs=3, lr=0.1, batch_size=1)
    assert ha.history["loss"] == hb.history["loss"]
    for wa, wb in zip(host_weights(a), host_weights(b), strict=True):
        np.testing.assert_array_equal(wa, wb)


def test_fit_accepts_backend_arrays(backend: str) -> None:
    X, Y = regression_data(8, n=12)
    a, b = small_net(backend, seed=1), small_net(backend, seed=1)
    ha = a.fit(X, Y, epochs=2, lr=0.1, batch_size=4)
    hb = b.fit(b.backend.asarray(X), b.backend.asarray(Y), epochs=2, lr=0.1, batch_size=4)
    np.testing.assert_allclose(hb.history["loss"], ha.history["loss"], rtol=1e-12)


def test_fit_accepts_one_dimensional_targets_for_one_output(backend: str) -> None:
    net = anynn.Network(2, [(3, True, "tanh"), (1, True, "sigmoid")], backend=backend, seed=0)
    history = net.fit(XOR_X, XOR_Y.ravel().tolist(), epochs=2, lr=0.1, batch_size=4)
    assert len(history.history["loss"]) == 2


def test_evaluate_returns_python_float_matching_the_mse(backend: str) -> None:
    X, Y = regression_data(9)
    net = small_net(backend)
    value = net.evaluate(X, Y, loss="mse")
    assert isinstance(value, float)
    assert value == pytest.approx(float(np.mean((anynn.to_numpy(net.predict(X)) - Y) ** 2)))


# -- copies ---------------------------------------------------------------------------
def test_to_copies_weights_to_another_backend(backend: str) -> None:
    X, _ = regression_data()
    net = small_net("numpy", seed=6)
    copy = net.to(backend)
    assert copy.backend.name == backend and copy is not net
    np.testing.assert_allclose(
        anynn.to_numpy(copy.predict(X)), anynn.to_numpy(net.predict(X)), rtol=1e-12
    )


def test_to_changes_dtype_without_touching_the_original(backend: str) -> None:
    net = small_net(backend, "float32")
    wide = net.to(dtype="float64")
    assert wide.dtype == "float64" and net.dtype == "float32"
    assert wide.layers[0].weights.dtype == wide.backend.xp.float64


# -- GPU ------------------------------------------------------------------------------
@pytest.mark.gpu
@pytest.mark.skipif(not cupy_available(), reason="needs CuPy and a CUDA GPU")
def test_cupy_matches_numpy_predictions_and_training() -> None:
    X, Y = regression_data(10, n=40)
    nets = {name: small_net(name, "float64", seed=12) for name in ("numpy", "cupy")}
    np.testing.assert_allclose(
        anynn.to_numpy(nets["cupy"].predict(X)),
        anynn.to_numpy(nets["numpy"].predict(X)),
        rtol=1e-12, atol=1e-12,
    )
    histories = {
        name: net.fit(X, Y, epochs=5, lr=0.3, batch_size=8, loss="bce").history["loss"]
        for name, net in nets.items()
    }
    np.testing.assert_allclose(histories["cupy"], histories["numpy"], rtol=1e-9)
    for a, b in zip(host_weights(nets["numpy"]), host_weights(nets["cupy"]), strict=True):
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-9)


def test_summary_lists_every_layer_and_the_parameter_count(backend: str) -> None:
    net = anynn.Network(3, [(8, True, "gelu"), anynn.Dropout(0.25), (2, False, "softmax")],
                     backend=backend)
    text = net.summary()
    assert "3 -> 8" in text and "gelu" in text and "0.25" in text
    assert "8 -> 2" in text and "softmax" in text
    assert f"{net.n_parameters} parameters (float32)" in text and net.n_parameters == 48
