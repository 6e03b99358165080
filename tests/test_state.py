"""NetworkState and the model file's bytes API: round trips without files, and the layering."""

from __future__ import annotations

import ast
import copy
import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import strict_namespace
import sympy

import anynn as nn
from anynn import ModelFileError, activations, io, network
from anynn.state import NetworkState, generator_from_state, parameter_name, rng_state

ROOT = Path(__file__).resolve().parent.parent
X = np.random.default_rng(3).normal(size=(24, 3))
Y = np.sin(X[:, :1]) + X[:, 1:2]
FIT: dict[str, Any] = {"optimizer": "adam", "lr": 0.01, "batch_size": 8, "verbose": 0}
CUSTOM = sympy.Symbol("x") * sympy.tanh(sympy.Symbol("x"))


def trained(backend: Any, epochs: int = 2) -> nn.Network:
    net = nn.Network(
        3, [(5, True, CUSTOM), nn.Dropout(0.25), (4, False, "tanh"), (1, True, "identity")],
        backend=backend, dtype="float64", seed=4,
    )
    net.fit(X, Y, epochs=epochs, **FIT)
    return net


def predictions(net: nn.Network) -> np.ndarray:
    return np.asarray(nn.to_numpy(net.predict(X)))


def test_state_is_a_host_snapshot(backend: str) -> None:
    net = trained(backend)
    state = net.state()
    assert (state.inputs, state.dtype, state.seed, state.training) == (3, "float64", 4, None)
    assert [(s.length, s.bias, s.dropout) for s in state.layers] == [
        (5, True, 0.25), (4, False, 0.0), (1, True, 0.0)
    ]
    assert list(state.parameters()) == [p.name for p in net.parameters()]
    assert all(type(a) is np.ndarray for a in state.parameters().values())
    before = predictions(net)
    state.layers[0].weights[...] = 0.0  # a snapshot: the network is untouched
    np.testing.assert_array_equal(predictions(net), before)


def test_state_round_trip_resumes_training_exactly(backend: str) -> None:
    state = trained(backend).state(include_training=True)
    assert state.training is not None and state.training.optimizer["name"] == "adam"
    resumed = nn.Network.from_state(state, backend)
    resumed.fit(X, Y, epochs=2, batch_size=8, verbose=0)
    straight = trained(backend, epochs=4)
    np.testing.assert_array_equal(predictions(resumed), predictions(straight))
    assert resumed.history.history == straight.history.history


def test_bytes_round_trip_is_exact_and_reads_like_the_file(backend: str, tmp_path: Path) -> None:
    net = trained(backend)
    data = io.to_bytes(net.state(include_training=True))
    state = io.from_bytes(data)
    assert isinstance(state, NetworkState) and state.training is not None
    again = nn.Network.from_state(state, backend)
    np.testing.assert_array_equal(predictions(again), predictions(net))
    assert again.dropout == net.dropout and again.optimizer is not None
    path = tmp_path / "m.anynn"
    io.write(path, net.state(include_training=True))
    from_file = io.from_bytes(path.read_bytes())  # a file's bytes are model bytes
    assert from_file.training is not None and from_file.training.optimizer is not None
    for name, array in io.read_state(path).parameters().items():
        np.testing.assert_array_equal(array, state.parameters()[name])
        np.testing.assert_array_equal(from_file.parameters()[name], array)


def test_from_bytes_rejects_bad_data() -> None:
    good = io.to_bytes(trained("numpy").state())
    with pytest.raises(ModelFileError, match="model bytes.*truncated"):
        io.from_bytes(good[:5])
    corrupted = bytearray(good)
    corrupted[-1] ^= 0xFF
    with pytest.raises(ModelFileError, match="digest"):
        io.from_bytes(bytes(corrupted))
    with pytest.raises(ModelFileError, match="must be bytes"):
        io.from_bytes("not bytes")  # type: ignore[arg-type]


def test_from_state_changes_backend_and_dtype() -> None:
    state = trained("numpy").state()
    narrow = nn.Network.from_state(state, "array_api_strict", "float32")
    assert narrow.backend.name == "array_api_strict" and narrow.dtype == "float32"
    wide = nn.Network.from_state(state)
    with pytest.raises(nn.AnynnTypeError, match="state must be a NetworkState; got dict"):
        nn.Network.from_state({"inputs": 3})  # type: ignore[arg-type]
    np.testing.assert_allclose(predictions(narrow), predictions(wide), rtol=1e-5, atol=1e-6)


def test_parameter_names_and_rng_state() -> None:
    assert parameter_name(2, "bias") == "layers.2.bias"
    rng = np.random.default_rng(9)
    rng.normal(size=3)
    again = generator_from_state(rng_state(rng))
    assert again.normal() == rng.normal()
    with pytest.raises(nn.AnynnValueError, match="bit generator"):
        generator_from_state({"bit_generator": "os.system"})


def test_inspect_never_builds_or_verifies_an_activation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.anynn"
    trained("numpy").save(path, include_optimizer=True)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("inspect built an activation")

    monkeypatch.setattr(activations, "from_expression", refuse)
    described = io.inspect(path)
    assert described["layers"][0]["activation"] == str(CUSTOM)
    assert (described["optimizer"], described["epochs"], described["n_parameters"]) == (
        "adam", 2, 3 * 5 + 5 + 5 * 4 + 4 + 1
    )


# -- pickling on a generic namespace module ---------------------------------------------
def test_generic_namespace_pickles_and_deep_copies_exactly() -> None:
    net = trained(strict_namespace)
    assert net.backend.name == "strict_namespace"
    for clone in (pickle.loads(pickle.dumps(net)), copy.deepcopy(net)):
        assert clone.backend == net.backend and clone is not net
        np.testing.assert_array_equal(predictions(clone), predictions(net))
        assert clone.history.history == net.history.history


def test_generic_namespace_training_continues_exactly_after_unpickling() -> None:
    resumed = pickle.loads(pickle.dumps(trained(strict_namespace)))
    copied = copy.deepcopy(trained(strict_namespace))
    straight = trained(strict_namespace, epochs=4)
    for net in (resumed, copied):
        net.fit(X, Y, epochs=2, batch_size=8, verbose=0)
        np.testing.assert_array_equal(predictions(net), predictions(straight))
        assert net.history.history["loss"] == straight.history.history["loss"]


class _OldPickle:
    """Pickles as anynn 0.1 did: ``_unpickle(file bytes, backend name, dtype)``."""

    def __init__(self, data: bytes, name: str) -> None:
        self.data, self.name = data, name

    def __reduce__(self) -> tuple[Any, tuple[bytes, str, str]]:
        return (network._unpickle, (self.data, self.name, "float64"))


def test_pickles_of_the_old_format_still_load(backend: str) -> None:
    net = trained(backend)
    data = io.to_bytes(net.state(include_training=True))
    again = pickle.loads(pickle.dumps(_OldPickle(data, backend)))
    assert again.backend == net.backend
    np.testing.assert_array_equal(predictions(again), predictions(net))


def test_an_old_pickle_of_a_missing_backend_says_so() -> None:
    data = io.to_bytes(trained("numpy").state())
    with pytest.raises(nn.BackendUnavailableError, match="no_such_namespace"):
        pickle.loads(pickle.dumps(_OldPickle(data, "no_such_namespace")))


def test_the_file_package_never_imports_the_network() -> None:
    for path in (ROOT / "anynn" / "io").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [alias.name for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            assert not any(n.split(".")[-1] == "network" for n in names), path.name
            if isinstance(node, ast.ImportFrom) and node.level == 2 and node.module is None:
                for alias in node.names:  # submodules only, never a name of the package root
                    assert (ROOT / "anynn" / f"{alias.name}.py").exists(), path.name
