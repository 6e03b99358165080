"""Choosing a layer's initialisation: names, callables, per layer or per network, saved."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import anynn as nn
from anynn import initializers

FAN_IN, FAN_OUT = 400, 300


def weights(net: nn.Network, i: int = 0) -> np.ndarray:
    return np.asarray(nn.to_numpy(net.layers[i].weights), dtype=np.float64)


@pytest.mark.parametrize(
    "name,std",
    [
        ("he", math.sqrt(2 / FAN_IN)),
        ("he_uniform", math.sqrt(2 / FAN_IN)),
        ("glorot", math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("glorot_uniform", math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("lecun", math.sqrt(1 / FAN_IN)),
        ("lecun_uniform", math.sqrt(1 / FAN_IN)),
    ],
)
def test_each_scheme_has_its_spread(name: str, std: float) -> None:
    net = nn.Network(FAN_IN, [{"length": FAN_OUT, "init": name}], seed=0)
    w = weights(net)
    assert abs(w.std() / std - 1) < 0.02 and abs(w.mean()) < 0.05 * std
    if name.endswith("uniform"):  # bounded by sqrt(3) std, and flat
        assert np.abs(w).max() <= math.sqrt(3) * std * (1 + 1e-6)
        assert np.abs(w).max() > 0.99 * math.sqrt(3) * std
    else:
        assert np.abs(w).max() > 3 * std  # normal tails
    assert not nn.to_numpy(net.layers[0].biases).any()


def test_the_network_default_applies_where_a_spec_gives_none() -> None:
    net = nn.Network(3, [4, {"length": 2, "init": "zeros"}], init="he_uniform", seed=0)
    assert net.layers[0].init.weights is not None
    assert net.layers[0].init.weights.name == "he_uniform"
    assert not weights(net, 1).any()
    default = nn.Network(3, [(4, True, "relu"), 2], seed=0)
    chosen = nn.Network(3, [(4, True, "relu"), 2], init="he", seed=0)
    np.testing.assert_array_equal(weights(default), weights(chosen))  # relu: He by default


def test_aliases_are_keras_names() -> None:
    a = nn.Network(5, [{"length": 3, "init": "glorot_normal"}], seed=1)
    b = nn.Network(5, [{"length": 3, "init": "xavier"}], seed=1)
    c = nn.Network(5, [{"length": 3, "init": "glorot"}], seed=1)
    np.testing.assert_array_equal(weights(a), weights(c))
    np.testing.assert_array_equal(weights(b), weights(c))


def test_a_callable_gets_the_seeded_generator_and_the_shape() -> None:
    seen: list[tuple[Any, tuple[int, ...]]] = []

    def init(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        seen.append((rng, shape))
        return np.full(shape, 0.25)

    net = nn.Network(3, [(2, True, "tanh")], init={"weights": init, "biases": init}, seed=0)
    assert [shape for _, shape in seen] == [(3, 2), (2,)]
    assert seen[0][0] is net.rng
    np.testing.assert_array_equal(weights(net), np.full((3, 2), 0.25))
    np.testing.assert_array_equal(nn.to_numpy(net.layers[0].biases), [0.25, 0.25])


@pytest.mark.parametrize(
    "init,error,message",
    [
        ("kaiming_fancy", nn.AnynnValueError, "unknown initialisation 'kaiming_fancy'"),
        (3.0, nn.AnynnTypeError, "scheme name or a callable"),
        ({"weight": "he"}, nn.AnynnValueError, "unknown key"),
        (lambda rng, shape: np.zeros((1, 1)), nn.AnynnValueError, r"must return shape \(3, 2\)"),
        (lambda rng, shape: np.full(shape, np.nan), nn.AnynnValueError, "non-finite"),
        (lambda rng: 0, nn.AnynnValueError, "raised TypeError"),
    ],
)
def test_bad_initialisers_are_clear_errors(init: Any, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        nn.Network(3, [{"length": 2, "init": init}])
    with pytest.raises(error, match=message):
        nn.Network(3, [2], init=init)


def test_the_choice_is_saved_in_the_file(tmp_path: Path) -> None:
    def init(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
        return rng.normal(size=shape)

    net = nn.Network(3, [{"length": 4, "init": "lecun_uniform"},
                         {"length": 2, "init": {"weights": init, "biases": "glorot"}}, 1],
                     seed=0)
    net.save(tmp_path / "m.anynn")
    loaded = nn.load(tmp_path / "m.anynn")
    assert [layer.init.names() for layer in loaded.layers] == [
        {"weights": "lecun_uniform", "biases": "zeros"},
        {"weights": "custom", "biases": "glorot"},
        {"weights": None, "biases": "zeros"},
    ]
    for a, b in zip(net.layers, loaded.layers, strict=True):
        np.testing.assert_array_equal(nn.to_numpy(a.weights), nn.to_numpy(b.weights))
    plain = nn.Network(3, [2], seed=0)
    plain.save(tmp_path / "plain.anynn")  # defaults are not written: old readers read it
    assert b'"init"' not in (tmp_path / "plain.anynn").read_bytes()


def test_a_file_with_an_unknown_init_name_is_refused() -> None:
    with pytest.raises(nn.ModelFileError, match="init weights must be one of"):
        from anynn.io import schema

        schema.init({"init": {"weights": "os.system", "biases": "zeros"}}, "f: layers[0]")
    assert initializers.layer_init({"weights": "custom"}).weights is not None
