"""Files edited by hand (digests recomputed) are refused at load, naming file and key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from safetensors.numpy import load_file
from safetensors.numpy import save as safetensors_save

import anynn as nn
from anynn import ModelFileError, io

Edit = Callable[[dict[str, Any], dict[str, np.ndarray]], None]


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    net = nn.Network(2, [(3, True, "tanh"), 1], seed=0)
    X = np.random.default_rng(0).normal(size=(16, 2))
    net.fit(X, X[:, :1], epochs=3, batch_size=4, optimizer=nn.optimizers.Adam(), verbose=0)
    path = tmp_path_factory.mktemp("good") / "trained.anynn"
    net.save(path, include_optimizer=True)
    return path


def edited(source: Path, target: Path, edit: Edit) -> Path:
    """A copy of ``source`` with the model description and tensors edited, and every
    digest recomputed: only the edit is wrong."""
    raw = source.read_bytes()
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])
    model = json.loads(header["__metadata__"]["model"])
    tensors = load_file(str(source))
    edit(model, tensors)
    model["tensors"] = {
        name: hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
        for name, array in sorted(tensors.items())
    }
    text = json.dumps(model)
    metadata = {"format": "anynn", "format_version": "1", "model": text,
                "model_sha256": hashlib.sha256(text.encode()).hexdigest()}
    target.write_bytes(safetensors_save(tensors, metadata))
    return target


def history(model: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = model["training"]["history"]
    return value


def optimizer_tensor(model: dict[str, Any], key: str) -> str:
    name: str = model["training"]["optimizer"]["arrays"][key]["__tensor__"]
    return name


def set_value(tensors: dict[str, np.ndarray], name: str, value: float) -> None:
    array = tensors[name].copy()
    array.reshape(-1)[0] = value
    tensors[name] = array


def test_the_unedited_copy_loads(trained_file: Path, tmp_path: Path) -> None:
    copy = edited(trained_file, tmp_path / "same.anynn", lambda m, t: None)
    assert nn.load(copy).history.epoch == [0, 1, 2]


def test_history_lists_disagreeing_in_length(trained_file: Path, tmp_path: Path) -> None:
    def shorter_epochs(model: dict[str, Any], _: Any) -> None:
        history(model)["epoch"] = [0, 1]

    path = edited(trained_file, tmp_path / "h.anynn", shorter_epochs)
    message = rf"{path}.*history\['loss'\] holds 3 value\(s\) but history epoch holds 2"
    with pytest.raises(ModelFileError, match=message):
        nn.load(path)
    with pytest.raises(ModelFileError, match="history"):
        io.inspect(path)


@pytest.mark.parametrize("epochs", [[5, 3, 4], [0, 0, 1], [-1, 0, 1]])
def test_history_epochs_that_do_not_increase(
    trained_file: Path, tmp_path: Path, epochs: list[int]
) -> None:
    def reorder(model: dict[str, Any], _: Any) -> None:
        history(model)["epoch"] = epochs

    path = edited(trained_file, tmp_path / "e.anynn", reorder)
    with pytest.raises(ModelFileError, match=rf"{path}.*history epoch must be increasing"):
        nn.load(path)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", ["layers.0.weight", "layers.1.bias"])
def test_non_finite_weights(trained_file: Path, tmp_path: Path, name: str, value: float) -> None:
    path = edited(trained_file, tmp_path / "w.anynn", lambda m, t: set_value(t, name, value))
    message = rf"{path}: the tensor {name} holds 1 non-finite value\(s\)"
    with pytest.raises(ModelFileError, match=message):
        nn.load(path)
    with pytest.raises(ModelFileError, match=name):
        io.inspect(path)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_optimizer_state(trained_file: Path, tmp_path: Path, value: float) -> None:
    key = "exp_avg_sq.layers.0.weight"
    seen: list[str] = []

    def poison(model: dict[str, Any], tensors: dict[str, np.ndarray]) -> None:
        seen.append(optimizer_tensor(model, key))
        set_value(tensors, seen[0], value)

    path = edited(trained_file, tmp_path / "o.anynn", poison)
    message = (rf"{path}: invalid training state: optimizer state arrays\['{key}'\] "
               rf"\(tensor {seen[0]}\) holds 1 non-finite")
    with pytest.raises(ModelFileError, match=message):
        nn.load(path)
