"""Layer specs: every form a user may write is normalised to one LayerSpecNBF."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import anynn
from anynn import activations
from anynn.specs import LayerSpecNBF, parse_layer_spec

DEFAULT = "tanh"


@pytest.mark.parametrize(
    "spec,expected",
    [
        (3, LayerSpecNBF(3, True, DEFAULT)),
        ((3, False), LayerSpecNBF(3, False, DEFAULT)),
        ((3, True, "relu"), LayerSpecNBF(3, True, "relu")),
        (anynn.LayerSpecNB(4, False), LayerSpecNBF(4, False, DEFAULT)),
        (anynn.LayerSpecNBF(4, True, "sigmoid"), LayerSpecNBF(4, True, "sigmoid")),
        ({"length": 5, "bias": False, "fn": "relu"}, LayerSpecNBF(5, False, "relu")),
        ({"length": 5}, LayerSpecNBF(5, True, DEFAULT)),
        ({"length": 5, "activation": "relu"}, LayerSpecNBF(5, True, "relu")),
    ],
    ids=["int", "tuple2", "tuple3", "NB", "NBF", "dict", "dict-length-only", "dict-activation"],
)
def test_parse_every_spec_form(spec: object, expected: LayerSpecNBF) -> None:
    assert parse_layer_spec(spec, DEFAULT, 0) == expected


def test_network_builds_every_spec_form(backend: str) -> None:
    net = anynn.Network(
        2,
        [
            3,
            (4, False),
            (5, True, "relu"),
            anynn.LayerSpecNB(2, True),
            anynn.LayerSpecNBF(3, False, activations.sigmoid),
            {"length": 1, "bias": True, "fn": "identity"},
        ],
        activation="tanh",
        backend=backend,
    )
    assert [layer.n_out for layer in net.layers] == [3, 4, 5, 2, 3, 1]
    assert [layer.has_bias for layer in net.layers] == [True, False, True, True, False, True]
    names = [layer.activation.name for layer in net.layers]
    assert names == ["tanh", "tanh", "relu", "tanh", "sigmoid", "identity"]
    assert tuple(net.predict([[0.5, -0.5]]).shape) == (1, 1)


def test_default_activation_is_the_identity() -> None:
    net = anynn.Network(2, [3, 1], seed=0)
    assert all(layer.activation.name == "identity" for layer in net.layers)
    X = np.array([[30.0, -40.0], [1.0, 2.0]])
    out = anynn.to_numpy(net.predict(X))
    expected = X @ anynn.to_numpy(net.layers[0].weights) @ anynn.to_numpy(net.layers[1].weights)
    np.testing.assert_allclose(out, expected, rtol=1e-5)  # not squashed into (0, 1)
    assert np.abs(out).max() > 1.0


def test_fn_is_the_articles_name_of_activation() -> None:
    by_keyword = anynn.Network(2, [3, (1, True, "sigmoid")], fn="tanh")
    positional = anynn.Network(2, [3, (1, True, "sigmoid")], lambda x: sympy.tanh(x))
    assert [layer.activation.name for layer in by_keyword.layers] == ["tanh", "sigmoid"]
    first = positional.layers[0].activation
    assert first.expr == sympy.tanh(first.symbol)
    with pytest.raises(anynn.AnynnValueError, match="fn= or activation=, not both"):
        anynn.Network(2, [3], fn="tanh", activation="relu")


@pytest.mark.parametrize(
    "fn",
    [activations.relu, "relu", "RELU"],
    ids=["object", "name", "name-any-case"],
)
def test_fn_as_builtin_object_or_name(fn: object) -> None:
    net = anynn.Network(1, [(2, True, fn)])
    assert net.layers[0].activation is activations.relu


def _host_activation(fn: object, z: np.ndarray, backend: str) -> np.ndarray:
    net = anynn.Network(1, [(z.size, False, fn)], backend=backend, dtype="float64")
    net.layers[0].weights = z[None, :]
    return anynn.to_numpy(net.predict([[1.0]]))[0]


def test_fn_as_lambda_of_sympy_expression(backend: str) -> None:
    z = np.linspace(-3.0, 3.0, 7)
    got = _host_activation(lambda x: x * sympy.tanh(x), z, backend)
    np.testing.assert_allclose(got, z * np.tanh(z), rtol=1e-12)


def test_fn_as_sympy_expression(backend: str) -> None:
    t = sympy.Symbol("t")
    z = np.linspace(-2.0, 2.0, 5)
    got = _host_activation(t**2 + 1, z, backend)
    np.testing.assert_allclose(got, z**2 + 1, rtol=1e-12)


def test_fn_as_function_pair(backend: str) -> None:
    """The article's non-elementwise form: an explicit (f, df) pair of array functions."""
    pair = (activations.softmax_function, activations.softmax_jacobian)
    z = np.array([1.0, 2.0, 3.0])
    got = _host_activation(pair, z, backend)
    np.testing.assert_allclose(got, np.exp(z) / np.exp(z).sum(), rtol=1e-12)


def test_lambda_activation_is_differentiated_symbolically() -> None:
    net = anynn.Network(1, [(1, True, lambda x: x**3)], dtype="float64")
    act = net.layers[0].activation
    np.testing.assert_allclose(
        anynn.to_numpy(act.derivative(np.array([2.0, -1.0]))), [12.0, 3.0]
    )


def test_specs_keyword_takes_article_call() -> None:
    from anynn.activations import sigmoid, tanh

    net = anynn.Network(
        inputs=2,
        specs=[
            anynn.LayerSpecNBF(2, True, tanh),
            anynn.LayerSpecNBF(2, True, tanh),
            anynn.LayerSpecNBF(1, True, sigmoid),
        ],
        seed=0,
    )
    assert [layer.n_out for layer in net.layers] == [2, 2, 1]
