"""The .anynn file: round trips, atomic saves, resume, and a hostile-file fuzz."""

from __future__ import annotations

import hashlib
import json
import os
import queue
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sympy
from repo_env import repo_env
from safetensors.numpy import load_file
from safetensors.numpy import save as safetensors_save

import anynn as nn
from anynn import ActivationError, ModelFileError, activations, files, io, optimizers
from anynn.cli import main

ROOT = Path(__file__).resolve().parent.parent
SUBPROCESS_TIMEOUT = 120  # well above the library's 30 s stability backstop

X_TEST = np.random.default_rng(7).uniform(-2.0, 2.0, size=(16, 2))


def small_net(fn: Any = "tanh", backend: str = "numpy", dtype: str = "float32") -> nn.Network:
    """inputs=2, layers [3, 2]: 17 parameters, loads in milliseconds."""
    net = nn.Network(2, [(3, True, "tanh"), (2, True, fn)], backend=backend, dtype=dtype, seed=1)
    for layer in net.layers:  # non-zero biases, so a lost bias would show
        if layer.has_bias:
            layer.biases = np.linspace(-0.5, 0.5, layer.n_out)
    return net


def predictions(net: nn.Network) -> np.ndarray:
    return np.asarray(nn.to_numpy(net.predict(X_TEST)), dtype=np.float64)


def assert_same_model(a: nn.Network, b: nn.Network, tol: float = 0.0) -> None:
    def shape(net: nn.Network) -> list[tuple[int, int, bool, str]]:
        return [(x.n_in, x.n_out, x.has_bias, x.activation.name) for x in net.layers]

    assert shape(a) == shape(b)
    for la, lb in zip(a.layers, b.layers, strict=True):
        for key, value in la.host_parameters().items():
            np.testing.assert_array_equal(value, lb.host_parameters()[key].astype(value.dtype))
    np.testing.assert_allclose(predictions(a), predictions(b), rtol=tol, atol=tol)


# -- round trips ------------------------------------------------------------------------
CUSTOM = sympy.Symbol("z") * sympy.tanh(sympy.Symbol("z")) + sympy.Rational(1, 3)


@pytest.mark.parametrize("fn", [*activations.BUILTINS, "custom"])
def test_round_trip_every_activation(backend: str, fn: str, tmp_path: Path) -> None:
    act = CUSTOM if fn == "custom" else activations.BUILTINS[fn]
    net = small_net(act, backend)
    path = tmp_path / "m.anynn"
    net.save(path)
    same = nn.load(path, backend=backend)
    assert same.backend.name == backend and same.dtype == "float32"
    assert_same_model(net, same)
    other = "numpy" if backend != "numpy" else "array_api_strict"
    moved = nn.Network.load(path, backend=other)  # and back again, through a second file
    assert_same_model(net, moved, tol=1e-6)
    moved.export(tmp_path / "back.anynn")
    assert_same_model(net, nn.load(tmp_path / "back.anynn", backend=backend))


def test_parametrised_builtin_and_no_bias(tmp_path: Path) -> None:
    family = activations.BUILTINS["leaky_relu"]
    act = activations.from_builtin("leaky_relu", {"alpha": 0.2}) if family.params else family
    net = nn.Network(2, [(3, False, act), (1, True, "sigmoid")], seed=0)
    net.save(tmp_path / "m.anynn")
    loaded = nn.load(tmp_path / "m.anynn")
    assert loaded.layers[0].activation.params == act.params
    assert loaded.layers[0].biases is None
    assert_same_model(net, loaded)


def test_load_converts_dtype_and_file_is_standard_safetensors(tmp_path: Path) -> None:
    net = small_net(dtype="float64")
    path = tmp_path / "m.anynn"
    net.save(path)
    tensors = load_file(str(path))  # any safetensors reader can open it
    assert sorted(tensors) == [f"layers.{i}.{k}" for i in (0, 1) for k in ("bias", "weight")]
    assert tensors["layers.0.weight"].dtype == np.float64
    loaded = nn.load(path, dtype="float32")
    assert loaded.dtype == "float32"
    np.testing.assert_allclose(predictions(loaded), predictions(net), rtol=1e-5, atol=1e-6)


def dropout_net(backend: str = "numpy", dtype: str = "float32") -> nn.Network:
    """Dropout both ways: an ``nn.Dropout`` entry and a dict spec's ``dropout`` key."""
    layers = [(4, True, "tanh"), nn.Dropout(0.25), {"length": 3, "fn": "relu", "dropout": 0.5},
              (1, True, "sigmoid")]
    return nn.Network(2, layers, backend=backend, dtype=dtype, seed=2)


def _model_description(path: Path) -> dict[str, Any]:
    data = path.read_bytes()
    header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
    return json.loads(header["__metadata__"]["model"])


def test_round_trip_with_dropout(backend: str, tmp_path: Path) -> None:
    net = dropout_net(backend)
    assert net.dropout == [0.25, 0.5, 0.0]
    path = tmp_path / "m.anynn"
    net.save(path)
    assert [layer.get("dropout") for layer in _model_description(path)["layers"]] == [
        0.25, 0.5, None  # stored only where non-zero
    ]
    for target in (backend, "numpy"):
        loaded = nn.load(path, backend=target)
        assert loaded.dropout == [0.25, 0.5, 0.0]
        assert_same_model(net, loaded, tol=0.0 if target == backend else 1e-6)
    assert [layer["dropout"] for layer in io.inspect(path)["layers"]] == [0.25, 0.5, 0.0]


def test_file_without_dropout_key_loads_with_no_dropout(tmp_path: Path) -> None:
    path = tmp_path / "m.anynn"
    small_net().save(path)  # no dropout: the layer descriptions are those of before dropout
    assert all(set(layer) == {"length", "bias", "activation"}
               for layer in _model_description(path)["layers"])
    assert nn.load(path).dropout == [0.0, 0.0]


def test_pair_activation_cannot_be_saved(tmp_path: Path) -> None:
    pair = (activations.softmax_function, activations.softmax_jacobian)
    net = nn.Network(2, [(3, True, "tanh"), (2, True, pair)], seed=0)
    with pytest.raises(ActivationError, match=r"layers\[1\].*\(f, df\) pair"):
        net.save(tmp_path / "m.anynn")
    assert list(tmp_path.iterdir()) == []


def test_bad_path_and_backend_arguments(tmp_path: Path) -> None:
    with pytest.raises(nn.AnynnTypeError, match="path"):
        small_net().save(3)
    small_net().save(tmp_path / "m.anynn")
    with pytest.raises(nn.BackendUnavailableError):
        nn.load(tmp_path / "m.anynn", backend="nonsense")


# -- atomic saves -----------------------------------------------------------------------
def test_exception_mid_save_keeps_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "m.anynn"
    old = small_net()
    old.save(path)

    def broken_write(file: Any, data: bytes) -> None:
        file.write(data[: len(data) // 2])
        raise OSError("disk full (injected)")

    monkeypatch.setattr(files, "_write_payload", broken_write)
    with pytest.raises(OSError, match="injected"):
        small_net("sigmoid").save(path)
    assert [p.name for p in tmp_path.iterdir()] == ["m.anynn"]  # temp file removed
    assert_same_model(old, nn.load(path))


def test_killed_writer_keeps_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "m.anynn"
    old = small_net()
    old.save(path)
    script = textwrap.dedent(
        f"""
        import sys, time
        import anynn as nn
        from anynn import files

        def slow_write(file, data):
            file.write(data[: len(data) // 2])
            file.flush()
            print("writing", flush=True)
            time.sleep(60)

        files._write_payload = slow_write
        nn.Network(2, [(5, True, "relu"), (1, True, "sigmoid")], seed=3).save({str(path)!r})
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=repo_env()
    )
    try:
        stdout = proc.stdout
        assert stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        reader = threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True)
        reader.start()
        try:  # a reader thread: a child that hangs before printing fails the test, not pytest
            first = lines.get(timeout=SUBPROCESS_TIMEOUT)
        except queue.Empty:
            pytest.fail(f"the writer printed nothing within {SUBPROCESS_TIMEOUT} s")
        assert first.strip() == "writing", f"unexpected writer output {first!r}"
        assert len(list(tmp_path.iterdir())) == 2  # the half-written temporary file
    finally:
        proc.kill()
        proc.wait()
        if proc.stdout is not None:  # the reader sees end of file once the child is gone
            reader.join(timeout=SUBPROCESS_TIMEOUT)
            proc.stdout.close()
    assert_same_model(old, nn.load(path))


# -- resume -----------------------------------------------------------------------------
def _training_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(40, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(np.float64)


def _fit(net: nn.Network, epochs: int, optimizer: Any) -> None:
    """Fit; ``optimizer=None`` continues with ``net.optimizer`` (the restored one)."""
    X, y = _training_data()
    lr = {"lr": 0.1} if isinstance(optimizer, str) else {}
    net.fit(X, y, epochs=epochs, batch_size=8, optimizer=optimizer, loss="bce", verbose=0, **lr)


def _resume_matches(
    make_optimizer: Any, tmp_path: Path, layers: Any = ((4, True, "tanh"), (1, True, "sigmoid"))
) -> nn.Network:
    def fresh() -> nn.Network:
        return nn.Network(2, list(layers), dtype="float64", seed=5)

    reference = fresh()
    _fit(reference, 4, make_optimizer())
    first = fresh()
    _fit(first, 2, make_optimizer())
    first.save(tmp_path / "m.anynn", include_optimizer=True)
    resumed = nn.load(tmp_path / "m.anynn")
    assert resumed.optimizer is not None
    _fit(resumed, 2, None)
    assert_same_model(reference, resumed)
    assert resumed.history.epoch == reference.history.epoch == [0, 1, 2, 3]
    assert resumed.history.history["loss"] == reference.history.history["loss"]
    return resumed


def test_resume_with_sgd_equals_uninterrupted_training(tmp_path: Path) -> None:
    _resume_matches(lambda: "sgd", tmp_path)


def test_resume_with_adam_equals_uninterrupted_training(tmp_path: Path) -> None:
    adam = optimizers.Adam
    resumed = _resume_matches(lambda: adam(lr=0.05), tmp_path)
    assert isinstance(resumed.optimizer, adam)
    assert io.inspect(tmp_path / "m.anynn")["optimizer"] == "adam"


def test_resume_with_dropout_equals_uninterrupted_training(tmp_path: Path) -> None:
    layers = ((6, True, "tanh"), nn.Dropout(0.3), (1, True, "sigmoid"))
    resumed = _resume_matches(lambda: "sgd", tmp_path, layers)  # masks come from net.rng
    assert resumed.dropout == [0.3, 0.0]


def test_training_state_round_trip(tmp_path: Path) -> None:
    net = small_net()
    net.rng.standard_normal(3)
    net.history = nn.History(history={"loss": [0.5, float("nan")]}, epoch=[0, 1])
    net.save(tmp_path / "m.anynn", include_optimizer=True)
    loaded = nn.load(tmp_path / "m.anynn")
    assert loaded.rng.bit_generator.state == net.rng.bit_generator.state
    assert loaded.history.epoch == [0, 1] and loaded.history.history["loss"][0] == 0.5
    assert np.isnan(loaded.history.history["loss"][1])
    assert loaded.optimizer is None


# -- inspect and the command line -------------------------------------------------------
def test_inspect_and_info_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.anynn"
    small_net(CUSTOM).save(path)
    described = io.inspect(path)
    assert described["format_version"] == io.FORMAT_VERSION
    assert (described["inputs"], described["outputs"], described["dtype"]) == (2, 2, "float32")
    assert described["n_parameters"] == small_net().n_parameters == 17
    assert described["layers"][1]["activation"] == str(activations.get(CUSTOM).expr)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "format version 1" in out and "17 parameters (float32)" in out
    (tmp_path / "bad.anynn").write_bytes(b"garbage")
    assert main(["info", str(tmp_path / "bad.anynn")]) == 1
    assert "truncated" in capsys.readouterr().err


def test_python_m_anynn_info(tmp_path: Path) -> None:
    path = tmp_path / "m.anynn"
    small_net().save(path)
    done = subprocess.run(
        [sys.executable, "-m", "anynn", "info", str(path)],
        capture_output=True, text=True, env=repo_env(), timeout=SUBPROCESS_TIMEOUT, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "17 parameters" in done.stdout


# -- hostile and broken files -----------------------------------------------------------
@pytest.fixture(scope="module")
def good_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, nn.Network]:
    net = small_net()
    path = tmp_path_factory.mktemp("good") / "m.anynn"
    net.save(path)
    return path.read_bytes(), net


def _load_bytes(data: bytes, path: Path) -> nn.Network:
    path.unlink(missing_ok=True)  # a new file: truncating one is slow on some file systems
    path.write_bytes(data)
    return nn.load(path)


def test_truncated_at_every_offset(good_file: tuple[bytes, nn.Network], tmp_path: Path) -> None:
    data, _ = good_file
    for n in range(len(data)):
        with pytest.raises(ModelFileError):
            _load_bytes(data[:n], tmp_path / "t.anynn")


@pytest.mark.parametrize("flip", ["xor", "plus_one"])
def test_every_single_byte_flip(
    good_file: tuple[bytes, nn.Network], tmp_path: Path, flip: str
) -> None:
    data, net = good_file
    survived = 0
    for i in range(len(data)):
        broken = bytearray(data)
        broken[i] = broken[i] ^ 0xFF if flip == "xor" else (broken[i] + 1) % 256
        try:
            loaded = _load_bytes(bytes(broken), tmp_path / "f.anynn")
        except ModelFileError:
            continue
        survived += 1  # acceptable only if nothing about the model changed
        assert_same_model(net, loaded)
    assert survived == 0, "the digests (model description and tensors) catch every flip"


def test_random_garbage_and_special_paths(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    for size in (0, 1, 7, 8, 9, 100, 5000):
        with pytest.raises(ModelFileError):
            _load_bytes(rng.bytes(size), tmp_path / "g.anynn")
    with pytest.raises(ModelFileError, match="exceeds"):  # a 1 TiB header is never read
        _load_bytes((2**40).to_bytes(8, "little") + b"{}", tmp_path / "g.anynn")
    with pytest.raises(ModelFileError, match="cannot read"):
        nn.load(tmp_path / "missing.anynn")
    with pytest.raises(ModelFileError, match="regular file"):
        nn.load(tmp_path)
    if hasattr(os, "mkfifo"):  # a pipe would block a naive reader forever
        os.mkfifo(tmp_path / "fifo")
        with pytest.raises(ModelFileError, match="regular file"):
            nn.load(tmp_path / "fifo")


def test_foreign_safetensors_files(tmp_path: Path) -> None:
    tensors = {"layers.0.weight": np.ones((2, 3), np.float32)}
    with pytest.raises(ModelFileError, match="without metadata"):
        _load_bytes(safetensors_save(tensors), tmp_path / "f.anynn")
    with pytest.raises(ModelFileError, match="not an anynn model"):
        _load_bytes(safetensors_save(tensors, {"format": "pt"}), tmp_path / "f.anynn")


def forge(
    good: bytes, path: Path, edit_model: Any = None, version: str = "1", extra: Any = None
) -> Path:
    """Write a well-formed file (valid digests) whose content was edited: only the edit
    is wrong, so the loader must catch it on its own merits."""
    path.write_bytes(good)
    header = json.loads(good[8 : 8 + int.from_bytes(good[:8], "little")])
    tensors = load_file(str(path))
    model = json.loads(header["__metadata__"]["model"])
    if edit_model is not None:
        edit_model(model)
    if extra is not None:
        tensors.update(extra)
    text = json.dumps(model).replace('"DEEP"', _deep_tree_text(2_000))
    metadata = {
        "format": "anynn",
        "format_version": version,
        "model": text,
        "model_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }
    path.write_bytes(safetensors_save(tensors, metadata))
    return path


def test_forge_helper_writes_loadable_files(
    good_file: tuple[bytes, nn.Network], tmp_path: Path
) -> None:
    data, net = good_file
    assert_same_model(net, nn.load(forge(data, tmp_path / "ok.anynn")))


def _set_tree(tree: Any) -> Any:
    def edit(model: dict[str, Any]) -> None:
        model["layers"][1]["activation"] = {"expression": tree}

    return edit


def _deep_tree_text(depth: int) -> str:
    """JSON text of a tree nested ``depth`` deep (json.dumps would recurse too deeply)."""
    return '["tanh", ' * depth + '["Symbol", "x"]' + "]" * depth


CANARY_CODE = "__import__('os').environ.__setitem__('ANYNN_CANARY', '1')"

HOSTILE_EDITS = {
    "future_version": (None, "newer anynn"),
    "import_node": (_set_tree(["__import__", ["Symbol", "os"]]), "unknown node"),
    "eval_node": (_set_tree([CANARY_CODE, ["Symbol", "x"]]), "unknown node"),
    "symbol_code": (_set_tree(["Symbol", CANARY_CODE]), "only allowed symbol"),
    "huge_int": (_set_tree(["Integer", 10**39]), "out of bounds"),
    "huge_int_literal": (_set_tree(["Integer", 10**300]), "not valid JSON"),
    "huge_power": (_set_tree(["Pow", ["Integer", 10**15], ["Integer", 10**15]]), "finite"),
    "deep_tree": (_set_tree("DEEP"), "too deeply"),
    "builtin_unknown": (
        lambda m: m["layers"][1].update(activation={"builtin": "__import__", "params": {}}),
        "unknown built-in",
    ),
    "builtin_bad_params": (
        lambda m: m["layers"][1].update(activation={"builtin": "tanh", "params": {"a": 1}}),
        "parameters",
    ),
    "wrong_shape": (lambda m: m["layers"][0].update(length=4), "shape"),
    "wrong_dtype": (lambda m: m.update(dtype="float64"), "float64"),
    "missing_digest": (lambda m: m["tensors"].pop("layers.0.bias"), "do not match"),
    "bad_digest": (lambda m: m["tensors"].update({"layers.0.bias": "0" * 64}), "digest"),
    "huge_layer": (lambda m: m["layers"][0].update(length=2**40), "length"),
    "no_layers": (lambda m: m.update(layers=[]), "layers"),
    "extra_key": (lambda m: m.update(code="print(1)"), "keys"),
    "bias_not_bool": (lambda m: m["layers"][0].update(bias=1), "bias"),
    "not_an_object": (lambda m: m.clear() or m.update(x=1), "keys"),
    "dropout_negative": (lambda m: m["layers"][0].update(dropout=-0.1), "dropout"),
    "dropout_one": (lambda m: m["layers"][0].update(dropout=1.0), "dropout"),
    "dropout_above_one": (lambda m: m["layers"][0].update(dropout=1e300), "dropout"),
    "dropout_nan": (lambda m: m["layers"][0].update(dropout=float("nan")), "NaN"),
    "dropout_string": (lambda m: m["layers"][0].update(dropout="0.5"), "dropout"),
    "dropout_bool": (lambda m: m["layers"][0].update(dropout=True), "dropout"),
    "dropout_list": (lambda m: m["layers"][0].update(dropout=[0.1, 0.2]), "dropout"),
    "dropout_object": (lambda m: m["layers"][0].update(dropout={"rate": 0.1}), "dropout"),
    "dropout_on_output": (lambda m: m["layers"][1].update(dropout=0.5), "output layer"),
    "dropout_misspelt": (lambda m: m["layers"][0].update(drop_out=0.5), "keys"),
    "bad_rng": (
        lambda m: m.update(training={"optimizer": None, "history": None, "rng": {"a": 1}}),
        "bit generator",
    ),
    "bad_optimizer": (
        lambda m: m.update(
            training={
                "optimizer": {"name": "__import__"},
                "history": None,
                "rng": {"bit_generator": "PCG64", "state": {"state": 1, "inc": 1},
                        "has_uint32": 0, "uinteger": 0},
            }
        ),
        "training state",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_EDITS))
def test_hostile_and_inconsistent_files(
    case: str, good_file: tuple[bytes, nn.Network], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANYNN_CANARY", raising=False)
    edit, message = HOSTILE_EDITS[case]
    version = "2" if case == "future_version" else "1"
    path = forge(good_file[0], tmp_path / "h.anynn", edit, version)
    with pytest.raises(ModelFileError, match=message):
        nn.load(path)
    with pytest.raises(ModelFileError):
        io.inspect(path)
    assert "ANYNN_CANARY" not in os.environ


def test_deeply_nested_json_and_extra_tensors(
    good_file: tuple[bytes, nn.Network], tmp_path: Path
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    path = forge(good_file[0], tmp_path / "d.anynn", lambda m: m.update(seed=0))
    header_model = f'{{"inputs": {deep}}}'
    with pytest.raises(ModelFileError, match="too deeply"):
        nn.load(forge(good_file[0], path, None) if False else _with_model_text(path, header_model))
    extra = {"payload": np.zeros(4, np.float32)}

    def digest_payload(m: dict[str, Any]) -> None:
        m["tensors"]["payload"] = hashlib.sha256(bytes(16)).hexdigest()

    with pytest.raises(ModelFileError, match="unexpected tensors"):
        nn.load(forge(good_file[0], tmp_path / "e.anynn", digest_payload, extra=extra))


def _with_model_text(path: Path, text: str) -> Path:
    tensors = load_file(str(path))
    metadata = {
        "format": "anynn",
        "format_version": "1",
        "model": text,
        "model_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }
    path.write_bytes(safetensors_save(tensors, metadata))
    return path


# -- bounded verification work and clear path errors -------------------------------------
def test_save_into_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such"
    with pytest.raises(nn.AnynnValueError, match=r"folder .*no.*such.* does not exist"):
        small_net().save(missing / "m.anynn")
    assert list(tmp_path.iterdir()) == []


def _layers_with(trees: list[Any]) -> Any:
    def edit(model: dict[str, Any]) -> None:
        model["layers"] = [
            {"length": 1, "bias": False, "activation": {"expression": tree}} for tree in trees
        ]

    return edit


def test_too_many_distinct_expressions_are_refused(
    good_file: tuple[bytes, nn.Network], tmp_path: Path
) -> None:
    scaled = [["Mul", ["Integer", k], ["Symbol", "x"]] for k in range(2, io.MAX_EXPRESSIONS + 3)]
    path = forge(good_file[0], tmp_path / "many.anynn", _layers_with(scaled))
    with pytest.raises(ModelFileError, match=f"{io.MAX_EXPRESSIONS + 1} distinct activation"):
        nn.load(path)
    with pytest.raises(ModelFileError, match="distinct activation"):
        io.inspect(path)
    # The same expression repeated (and built-ins) do not count: the cap is passed and the
    # file fails later, on its tensors.
    repeated = [scaled[0]] * (io.MAX_EXPRESSIONS + 10)
    path = forge(good_file[0], tmp_path / "same.anynn", _layers_with(repeated))
    with pytest.raises(ModelFileError, match="must be float32 of shape"):
        nn.load(path)


def test_hostile_nested_exp_file_is_handled_quickly(
    good_file: tuple[bytes, nn.Network], tmp_path: Path
) -> None:
    """exp(exp(exp(x))) passes every tree bound; its probe once ran for minutes."""
    tree = ["exp", ["exp", ["exp", ["Symbol", "x"]]]]
    path = forge(good_file[0], tmp_path / "exp3.anynn", _set_tree(tree))
    script = textwrap.dedent(
        f"""
        import anynn as nn
        from anynn import ModelFileError, io
        for action in (nn.load, io.inspect):
            try:
                action({str(path)!r})
            except ModelFileError:
                pass
        print("done")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, env=repo_env(), timeout=SUBPROCESS_TIMEOUT, check=True,
    )
    assert result.stdout.strip() == "done"
