"""ONNX export of the anynn.sklearn estimators: label/probabilities (classifier) and
variable (regressor) outputs equal predict / predict_proba."""

from __future__ import annotations

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
anynn_sklearn = pytest.importorskip("anynn.sklearn")

import anynn.onnx as anynn_onnx  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

rng = np.random.default_rng(0)
X = rng.normal(size=(120, 4))
TARGETS = {
    "strings": np.array(["ant", "bee", "cat"])[(X[:, 0] > 0).astype(int) + (X[:, 1] > 0)],
    "integers": (X[:, 0] > 0).astype(int) * 5 + 1,
    "binary": np.array(["no", "yes"])[(X[:, 0] > 0).astype(int)],
    "multilabel": np.stack([X[:, 0] > 0, X[:, 1] > 0], axis=1).astype(int),
}


def run(model: onnx.ModelProto, X: np.ndarray) -> list[np.ndarray]:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"X": X})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_classifier_label_and_probabilities(target: str, dtype: type) -> None:
    Xd = X.astype(dtype)
    clf = anynn_sklearn.MLPClassifier(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    clf.fit(Xd, TARGETS[target])
    model = anynn_onnx.export(clf, None)
    assert [o.name for o in model.graph.output] == ["label", "probabilities"]
    ops = {node.domain for node in model.graph.node}
    assert ops <= {""}  # standard operators only (no ai.onnx.ml)
    label, probabilities = run(model, Xd)
    np.testing.assert_array_equal(label, clf.predict(Xd))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(probabilities, clf.predict_proba(Xd), rtol=rtol, atol=rtol / 64)


@pytest.mark.parametrize("outputs", [1, 2])
def test_regressor_variable(outputs: int) -> None:
    y = X[:, :outputs] * 2 + 1
    reg = anynn_sklearn.MLPRegressor(hidden_layer_sizes=(8,), max_iter=20, random_state=0)
    reg.fit(X, y[:, 0] if outputs == 1 else y)
    model = anynn_onnx.export(reg, None)
    assert [o.name for o in model.graph.output] == ["variable"]
    (variable,) = run(model, X)
    assert variable.shape == (len(X), outputs)
    np.testing.assert_allclose(variable.reshape(reg.predict(X).shape), reg.predict(X), rtol=1e-12)


def test_poisson_regressor_and_user_activation() -> None:
    import sympy

    y = np.exp(X[:, 0] / 2)
    reg = anynn_sklearn.MLPRegressor(
        loss="poisson", hidden_layer_sizes=(8,), activation="tanh", max_iter=20, random_state=0
    ).fit(X.astype(np.float32), y)
    (variable,) = run(anynn_onnx.export(reg, None), X.astype(np.float32))
    np.testing.assert_allclose(variable[:, 0], reg.predict(X.astype(np.float32)), rtol=1e-5)
    x = sympy.Symbol("x")
    clf = anynn_sklearn.MLPClassifier(
        hidden_layer_sizes=(8,), activation=x * sympy.tanh(x), max_iter=20, random_state=0
    )
    try:
        clf.fit(X, TARGETS["strings"])
    except (TypeError, ValueError) as exc:  # the estimator may take built-in names only
        pytest.skip(f"activation= takes no expression: {exc}")
    label, probabilities = run(anynn_onnx.export(clf, None), X)
    np.testing.assert_array_equal(label, clf.predict(X))
    np.testing.assert_allclose(probabilities, clf.predict_proba(X), rtol=1e-12, atol=1e-14)
