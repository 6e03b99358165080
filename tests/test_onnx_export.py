"""ONNX export: onnxruntime's predictions equal anynn's NumPy predictions.

Every built-in activation and a corpus of user expressions (tests/onnx_cases.py), in
float32 and float64, at onnxruntime's default optimisation level and with optimisations
off, on pre-activations from 0 to +-1e4 and beyond, inf and NaN; trained networks for
every loss/output pair; the graph's structure, metadata and errors. Skipped where onnx
or onnxruntime is missing.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import sympy

import anynn as nn
from anynn import activations
from anynn.errors import ActivationError, AnynnTypeError, AnynnValueError

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from onnx_cases import USER_EXPRESSIONS, mismatches, sweep  # noqa: E402

LEVELS = {
    "default": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    "off": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
}
DTYPES = ["float32", "float64"]
NO_FLOAT64_KERNEL = {
    "Erf", "Softplus", "Softsign", "LeakyRelu", "Elu", "Selu", "HardSwish", "HardSigmoid",
    "Gelu", "Mish", "Swish", "Celu", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh",
    "Acosh", "Atanh",
}
"""Operators onnxruntime's CPU provider has no float64 kernel for (measured, 1.32)."""

ELEMENTWISE = {n: a for n, a in activations.BUILTINS.items() if a.elementwise}
ALL_ACTIVATIONS = {**ELEMENTWISE, **USER_EXPRESSIONS}


def run(model: onnx.ModelProto, X: np.ndarray, level: str = "default", output: int = 0):
    options = ort.SessionOptions()
    options.graph_optimization_level = LEVELS[level]
    session = ort.InferenceSession(
        model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return session.run(None, {"X": X})[output]


def exact_layer(spec: object, dtype: str, width: int = 1) -> nn.Network:
    """One layer computing ``z = x`` exactly (identity weights), then the activation."""
    net = nn.Network(width, [(width, True, spec)], dtype=dtype, seed=0)
    net.layers[0].weights = np.eye(width)
    net.layers[0].biases = np.zeros(width)
    return net


def numpy_output(net: nn.Network, X: np.ndarray) -> np.ndarray:
    """What anynn's NumPy path computes (``forward``: non-finite inputs allowed)."""
    with np.errstate(all="ignore"):
        return np.asarray(net.forward(X))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ALL_ACTIVATIONS))
def test_activation_matches_numpy_on_the_sweep(name: str, dtype: str) -> None:
    net = exact_layer(ALL_ACTIVATIONS[name], dtype)
    X = sweep(np.dtype(dtype).type)[:, None]
    expected = numpy_output(net, X)
    model = net.to_onnx(None)
    scale = np.maximum(1.0, np.nan_to_num(np.abs(X.astype(np.float64)), posinf=0.0))
    for level in LEVELS:
        got = run(model, X, level)
        assert got.dtype == expected.dtype
        assert not mismatches(got, expected, scale), (level, mismatches(got, expected, scale))
    assert np.isnan(got[np.isnan(X[:, 0]), 0]).all()  # NaN in, NaN out
    used = {name for node in model.graph.node for name in node.input}
    assert all(init.name in used for init in model.graph.initializer)
    if dtype == "float64":
        assert not {node.op_type for node in model.graph.node} & NO_FLOAT64_KERNEL


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_matches_numpy(dtype: str) -> None:
    net = exact_layer("softmax", dtype, width=3)
    points = sweep(np.dtype(dtype).type)
    finite = points[np.isfinite(points)]
    rng = np.random.default_rng(0)
    X = np.stack([finite, rng.permutation(finite), rng.permutation(finite)], axis=1)
    X = np.concatenate([X, [[np.nan, 0.0, 1.0], [1e4, 1e4 - 1, 1e4 - 2]]]).astype(dtype)
    expected = numpy_output(net, X)
    model = net.to_onnx(None)
    for level in LEVELS:
        assert not mismatches(run(model, X, level), expected), level
    assert [n.op_type for n in model.graph.node].count("Softmax") == 1


def _data(kind: str, n: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 4))
    if kind == "regression":
        return X, np.stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]], axis=1)
    if kind == "binary":
        return X, (X[:, 0] * X[:, 1] > 0).astype(float)
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 0).astype(int)


LOSS_OUTPUTS = [
    ("mse", "identity", "regression", 2),
    ("mse", "tanh", "regression", 2),
    ("mse", "sigmoid", "binary", 1),
    ("bce", "sigmoid", "binary", 1),
    ("cce", "softmax", "multiclass", 3),
]
"""Every loss with the outputs it is used with (bce/sigmoid and cce/softmax train
through the fused logits form; the export still outputs probabilities)."""


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("loss", "output", "kind", "width"), LOSS_OUTPUTS)
def test_trained_network_matches_numpy(
    loss: str, output: str, kind: str, width: int, dtype: str
) -> None:
    X, y = _data(kind)
    net = nn.Network(
        4, [(8, True, "tanh"), (6, False, "gelu"), (5, True, "softplus"), (width, True, output)],
        dtype=dtype, seed=0,
    )
    net.fit(X, y, epochs=3, batch_size=16, loss=loss, optimizer="adam", lr=0.01)
    rng = np.random.default_rng(2)
    # Rows of growing magnitude: pre-activations from ~1 to beyond 1e4.
    big = rng.normal(size=(40, 4)) * np.geomspace(1.0, 1e5, 40)[:, None]
    X_test = np.concatenate([X, big, [[np.nan, 0, 0, 0]]]).astype(dtype)
    expected = numpy_output(net, X_test)
    model = net.to_onnx(None, outputs=("Y", "logits"))
    scale = np.maximum(1.0, np.max(np.abs(np.nan_to_num(expected)), axis=0))
    for level in LEVELS:
        got = run(model, X_test, level)
        assert not mismatches(got, expected, scale), (level, mismatches(got, expected, scale))
        assert np.isnan(got[-1]).all()
    logits = run(model, X_test, "off", output=1)
    last = net.layers[-1]
    with np.errstate(all="ignore"):
        hidden = X_test
        for layer in net.layers[:-1]:
            hidden = layer.forward(hidden)
        expected_logits = np.asarray(last.pre_activation(hidden))
    scale = np.maximum(1.0, np.max(np.abs(np.nan_to_num(expected_logits)), axis=0))
    assert not mismatches(logits, expected_logits, scale)


def test_graph_structure_and_metadata(tmp_path: object) -> None:
    net = nn.Network(3, [(4, True, "relu"), (2, False, lambda x: x * sympy.tanh(x))], seed=0)
    path = os.path.join(str(tmp_path), "net.onnx")
    model = net.to_onnx(path)
    loaded = onnx.load(path)
    assert loaded == model
    import anynn.onnx as anynn_onnx
    from anynn.io import read_state

    net.save(os.path.join(str(tmp_path), "net.anynn"))
    from_file = anynn_onnx.export(read_state(os.path.join(str(tmp_path), "net.anynn")), None)
    assert from_file == model  # a NetworkState (what the CLI reads) exports the same model
    onnx.checker.check_model(loaded, full_check=True)
    graph = model.graph
    assert [i.name for i in graph.input] == ["X"] and [o.name for o in graph.output] == ["Y"]
    dims = graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "N" and dims[1].dim_value == 3
    ops = [n.op_type for n in graph.node]
    assert ops.count("MatMul") == 2 and ops.count("Add") == 1  # no Add without bias
    assert {i.name for i in graph.initializer} >= {
        "layers.0.weight", "layers.0.bias", "layers.1.weight"
    }
    assert {i.data_type for i in graph.initializer if i.data_type != onnx.TensorProto.BOOL} == {
        onnx.TensorProto.FLOAT
    }
    props = {p.key: p.value for p in model.metadata_props}
    assert model.producer_name == "anynn" and props["anynn.version"] == nn.__version__
    assert props["anynn.layers.0.activation"] == "relu"
    assert props["anynn.layers.1.expression"] == "x*tanh(x)"
    assert model.opset_import[0].version == 17 and model.ir_version == 8
    for n in (0, 1, 37):  # dynamic batch, empty batch included
        X = np.ones((n, 3), np.float32)
        assert run(model, X).shape == (n, 2)
    with pytest.raises(Exception, match="(?i)type"):
        run(model, np.ones((2, 3), np.float64))


def test_float64_export_of_a_float32_network() -> None:
    net = nn.Network(2, [(3, True, "gelu"), (1, True, "sigmoid")], seed=0)
    model = net.to_onnx(None, dtype="float64")
    types = {i.data_type for i in model.graph.initializer} - {onnx.TensorProto.BOOL}
    assert types == {onnx.TensorProto.DOUBLE}
    X = np.linspace(-50, 50, 40).reshape(20, 2)
    expected = numpy_output(net.to(dtype="float64"), X)
    assert not mismatches(run(model, X), expected)


@pytest.mark.parametrize("opset", [13, 18, 20])
def test_other_opsets(opset: int) -> None:
    if opset > onnx.defs.onnx_opset_version():
        pytest.skip("onnx too old")
    net = nn.Network(2, [(3, True, "mish"), (3, True, "softmax")], seed=0)
    model = net.to_onnx(None, opset=opset)
    assert model.opset_import[0].version == opset
    X = np.linspace(-30, 30, 40, dtype=np.float32).reshape(20, 2)
    assert not mismatches(run(model, X), numpy_output(net, X))


@pytest.mark.parametrize("dtype", DTYPES)
def test_native_operators(dtype: str) -> None:
    """native_ops=True: ONNX's activation operators where onnxruntime has the kernel."""
    names = ["sigmoid", "silu", "softplus", "softsign", "logsigmoid", "elu", "leaky_relu",
             "selu", "gelu", "gelu_tanh", "mish"]
    for name in names:
        net = exact_layer(name, dtype)
        X = np.linspace(-20, 20, 401).astype(dtype)[:, None]
        model = net.to_onnx(None, opset=20, native_ops=True)
        ops = {node.op_type for node in model.graph.node}
        if dtype == "float64":
            assert not ops & NO_FLOAT64_KERNEL, name
        got, expected = run(model, X), numpy_output(net, X)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6, err_msg=name)


def test_errors(tmp_path: object) -> None:
    net = nn.Network(2, [(2, True, "tanh")], seed=0)
    with pytest.raises(AnynnValueError, match="director"):
        net.to_onnx(str(tmp_path))  # a folder, refused before any work
    with pytest.raises(AnynnValueError):
        net.to_onnx(os.path.join(str(tmp_path), "missing-folder", "m.onnx"))
    with pytest.raises(AnynnValueError, match="opset"):
        net.to_onnx(None, opset=12)
    with pytest.raises(AnynnTypeError, match="opset"):
        net.to_onnx(None, opset="17")
    with pytest.raises(AnynnValueError, match="dtype"):
        net.to_onnx(None, dtype="float16")
    with pytest.raises(AnynnValueError, match="outputs"):
        net.to_onnx(None, outputs=("probabilities",))
    with pytest.raises(AnynnTypeError, match="Network"):
        import anynn.onnx as anynn_onnx

        anynn_onnx.export("not a network", None)
    pair = (lambda z: z, lambda z: z * 0 + 1)
    with pytest.raises(ActivationError, match=r"\(f, df\) pair"):
        nn.Network(2, [(2, True, pair)], seed=0).to_onnx(None)


def test_missing_onnx_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import anynn.onnx as anynn_onnx

    monkeypatch.setitem(sys.modules, "onnx", None)
    net = nn.Network(2, [(2, True, "tanh")], seed=0)
    with pytest.raises(anynn_onnx.OnnxUnavailableError, match=r"anynn\[onnx\]"):
        net.to_onnx(None)
    with pytest.raises(ImportError):
        anynn_onnx.export(net, None)


def test_import_anynn_never_imports_onnx() -> None:
    code = (
        "import sys, anynn, anynn.onnx, anynn.cli\n"
        "import anynn as nn\n"
        "nn.Network(2, [(2, True, 'tanh')], seed=0).predict([[0.0, 1.0]])\n"
        "bad = [m for m in ('onnx', 'onnxruntime') if m in sys.modules]\n"
        "assert not bad, bad\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_cli_export_onnx(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    from anynn.cli import main

    folder = str(tmp_path)
    net = nn.Network(2, [(4, True, "selu"), (3, True, "softmax")], seed=0)
    source, target = os.path.join(folder, "m.anynn"), os.path.join(folder, "m.onnx")
    net.save(source)
    assert main(["export-onnx", source, target, "--dtype", "float64", "--opset", "18"]) == 0
    assert "opset 18" in capsys.readouterr().out
    model = onnx.load(target)
    assert model.opset_import[0].version == 18
    X = np.linspace(-20, 20, 40).reshape(20, 2)
    assert not mismatches(run(model, X), numpy_output(net.to(dtype="float64"), X))
    assert main(["export-onnx", os.path.join(folder, "missing.anynn"), target]) == 1
    assert "export-onnx" in capsys.readouterr().err
    assert main(["export-onnx", source, target, "--opset", "3"]) == 1
    assert "opset" in capsys.readouterr().err


def test_example_exports_and_agrees(tmp_path: object) -> None:
    from repo_env import repo_env

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, os.path.join(root, "examples", "export_onnx.py"), "--quick"],
        capture_output=True, text=True, env=repo_env(), timeout=300, check=False,
        cwd=str(tmp_path),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "predictions agree" in result.stdout and "onnxruntime" in result.stdout
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("opset", [13, 21, "latest"])
def test_every_builtin_at_other_opsets(opset: int | str) -> None:
    from packaging.version import Version

    runtime_limit = 28 if Version(ort.__version__) >= Version("1.32") else 21
    opset = min(onnx.defs.onnx_opset_version(), runtime_limit) if opset == "latest" else opset
    if opset > onnx.defs.onnx_opset_version():
        pytest.skip("onnx too old")
    for dtype in DTYPES:
        X = sweep(np.dtype(dtype).type)[:, None]
        scale = np.maximum(1.0, np.nan_to_num(np.abs(X.astype(np.float64)), posinf=0.0))
        for name, spec in ELEMENTWISE.items():
            net = exact_layer(spec, dtype)
            model = net.to_onnx(None, opset=opset)
            problems = mismatches(run(model, X), numpy_output(net, X), scale)
            assert not problems, (name, dtype, opset, problems)
