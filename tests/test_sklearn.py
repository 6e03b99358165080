"""anynn.sklearn: labels, outputs, scikit-learn tooling, reproducibility, objective."""

from __future__ import annotations

import inspect
import io
import pickle
import subprocess
import sys
from functools import partial

import numpy as np
import pytest
from repo_env import repo_env

pytest.importorskip("sklearn")

import joblib  # noqa: E402
from sklearn import neural_network  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_iris,
    make_multilabel_classification,
    make_regression,  # noqa: E402
)
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import anynn  # noqa: E402
from anynn.sklearn import MLPClassifier, MLPRegressor  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# scikit-learn's own MLP takes sample_weight and loss="poisson" from 1.7 (anynn's from 1.6)
needs_sklearn_weights_and_poisson = pytest.mark.skipif(
    "sample_weight" not in inspect.signature(neural_network.MLPClassifier.fit).parameters,
    reason="the reference scikit-learn MLP has no sample_weight / loss='poisson' (< 1.7)",
)

FAST = {"hidden_layer_sizes": (16,), "max_iter": 60, "learning_rate_init": 1e-2,
        "random_state": 0}


@pytest.fixture(scope="module")
def iris() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize(
    "labels", [np.array(["setosa", "versicolor", "virginica"]), np.array([1, 2, 3]),
               np.array([-5, 0, 7])],
)
def test_any_labels_come_back_as_labels(iris, labels):
    X, y = iris
    clf = MLPClassifier(**FAST).fit(X, labels[y])
    np.testing.assert_array_equal(clf.classes_, labels)
    predicted = clf.predict(X)
    assert predicted.dtype == labels.dtype
    assert set(predicted) <= set(labels)
    assert clf.score(X, labels[y]) > 0.85
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(predicted, labels[np.argmax(proba, axis=1)])
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba))


def test_binary_boolean_labels(iris):
    X, y = iris
    clf = MLPClassifier(**FAST).fit(X, y == 0)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 1
    np.testing.assert_array_equal(clf.classes_, [False, True])
    assert clf.predict_proba(X).shape == (150, 2)
    assert clf.predict(X).dtype == bool
    assert clf.score(X, y == 0) > 0.95


def test_multilabel():
    X, Y = make_multilabel_classification(200, 10, n_classes=4, random_state=0)
    clf = MLPClassifier(**FAST).fit(X, Y)
    np.testing.assert_array_equal(clf.classes_, np.arange(4))
    assert clf.predict(X).shape == (200, 4) and clf.predict_proba(X).shape == (200, 4)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 4
    assert clf.score(X, Y) > 0.3  # subset accuracy


@pytest.mark.parametrize("n_targets", [1, 3])
def test_regression_outputs(n_targets):
    X, y = make_regression(200, 6, n_targets=n_targets, noise=1.0, random_state=0)
    reg = MLPRegressor(**{**FAST, "max_iter": 200}).fit(X, y / 100)
    assert reg.predict(X).shape == y.shape
    assert reg.predict(X).dtype == np.float64
    assert reg.score(X, y / 100) > 0.9
    assert reg.n_outputs_ == n_targets and reg.out_activation_ == "identity"


def test_fitted_attributes_match_sklearn_shapes(iris):
    X, y = iris
    ours = MLPClassifier(hidden_layer_sizes=(8, 5), max_iter=5, random_state=0).fit(X, y)
    theirs = neural_network.MLPClassifier(hidden_layer_sizes=(8, 5), max_iter=5,
                                          random_state=0).fit(X, y)
    for name in ("n_features_in_", "n_outputs_", "n_layers_", "out_activation_", "n_iter_",
                 "t_"):
        assert getattr(ours, name) == getattr(theirs, name), name
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    assert len(ours.loss_curve_) == 5 and ours.loss_ == ours.loss_curve_[-1]
    assert ours.best_loss_ == min(ours.loss_curve_)
    assert ours.validation_scores_ is None and ours.best_validation_score_ is None
    assert isinstance(ours.network_, anynn.Network)


def test_verbose_prints_scikit_learns_lines(iris, capsys):
    X, y = iris
    MLPClassifier(**{**FAST, "max_iter": 2}, verbose=True).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Iteration 1, loss = ") and len(lines) == 2


def test_early_stopping_keeps_the_best_validation_score(iris):
    X, y = iris
    clf = MLPClassifier(**{**FAST, "max_iter": 300}, early_stopping=True,
                        n_iter_no_change=5).fit(X, y)
    assert clf.best_loss_ is None
    assert len(clf.validation_scores_) == clf.n_iter_ < 300
    assert clf.best_validation_score_ == max(clf.validation_scores_)


def test_convergence_stops_before_max_iter(iris):
    X, y = iris
    clf = MLPClassifier(**{**FAST, "max_iter": 2000}, tol=1e-2, n_iter_no_change=3).fit(X, y)
    assert clf.n_iter_ < 2000


def test_unfitted_and_partial_fit_rules(iris):
    X, y = iris
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(X)
    assert not hasattr(MLPClassifier(), "coefs_")
    clf = MLPClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X, y)
    clf.partial_fit(X[:50], y[:50], classes=[0, 1, 2])  # one class seen, three declared
    losses = [clf.partial_fit(X, y).loss_ for _ in range(20)]
    assert losses[-1] < losses[0] and clf.t_ == 50 + 20 * 150
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X, y + 1)
    with pytest.raises(ValueError, match="early_stopping"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=[0, 1, 2])


def test_warm_start_continues_from_the_fitted_weights(iris):
    X, y = iris
    clf = MLPClassifier(**{**FAST, "max_iter": 3}, warm_start=True).fit(X, y)
    before = clf.coefs_[0]
    network = clf.network_
    clf.fit(X, y)
    assert clf.network_ is network and len(clf.loss_curve_) == 6
    assert not np.array_equal(clf.coefs_[0], before)
    with pytest.raises(ValueError, match="same classes"):
        clf.fit(X[y < 2], y[y < 2])


@pytest.mark.parametrize(
    ("params", "match"),
    [({"solver": "newton"}, "solver"),
     ({"init": "nope"}, "init"), ({"hidden_layer_sizes": (4, 0)}, "hidden_layer_sizes"),
     ({"batch_size": 0}, "batch_size"), ({"activation": "nope"}, "activation"),
     ({"learning_rate": "fast"}, "learning_rate"), ({"dtype": "float16"}, "dtype"),
     ({"alpha": -1.0}, "alpha"), ({"validation_fraction": 1.0}, "validation_fraction")],
)
def test_bad_parameters_are_named_at_fit(iris, params, match):
    X, y = iris
    clf = MLPClassifier(**params)  # never validated in __init__
    with pytest.raises((ValueError, TypeError), match=match):
        clf.fit(X, y)


def test_bad_regressor_loss_and_sample_weights(iris):
    X, y = iris
    with pytest.raises(ValueError, match="squared_error"):
        MLPRegressor(loss="huber").fit(X, y)
    with pytest.raises(ValueError, match="negative"):
        MLPRegressor(loss="poisson").fit(X, y - 1.0)
    with pytest.raises(ValueError, match="shape"):
        MLPClassifier(**FAST).fit(X, y, sample_weight=np.ones(3))
    with pytest.raises(ValueError, match=">= 0"):
        MLPClassifier(**FAST).fit(X, y, sample_weight=-np.ones(150))


def test_sklearn_tooling(iris):
    X, y = iris
    X_raw = X * 3.0 + 1.0
    pipe = make_pipeline(StandardScaler(), MLPClassifier(**FAST))
    assert pipe.fit(X_raw, y).score(X_raw, y) > 0.9
    scores = cross_val_score(MLPClassifier(**FAST), X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8
    search = GridSearchCV(pipe, {"mlpclassifier__alpha": [1e-4, 1e-2]}, cv=3).fit(X_raw, y)
    assert search.best_score_ > 0.8
    fitted = MLPClassifier(**FAST).fit(X, y)
    fresh = clone(fitted)
    assert not hasattr(fresh, "network_") and fresh.get_params() == fitted.get_params()
    assert fitted.set_params(alpha=0.5) is fitted and fitted.alpha == 0.5


def test_pickle_and_joblib_round_trip(iris):
    X, y = iris
    clf = MLPClassifier(**FAST).fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), clf.predict_proba(X))
    buffer = io.BytesIO()
    joblib.dump(clf, buffer)
    buffer.seek(0)
    loaded = joblib.load(buffer)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    loaded.partial_fit(X, y)  # the reloaded network keeps training (plain optimizer state)
    assert loaded.t_ == clf.t_ + 150


def test_same_random_state_same_model_on_every_backend(iris, backend):
    X, y = iris
    weights = np.random.default_rng(1).integers(0, 3, len(y)).astype(float)
    reference = MLPClassifier(**FAST, batch_size=32).fit(X, y, sample_weight=weights)
    other = MLPClassifier(**FAST, batch_size=32, backend=backend)
    other.fit(X, y, sample_weight=weights)
    # CPU backends share NumPy's arithmetic; a GPU sums in another order (float64 still)
    tolerance = 1e-12 if backend in ("numpy", "array_api_strict") else 1e-7
    for mine, theirs in zip(reference.coefs_, other.coefs_, strict=True):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=tolerance)
    assert other.loss_curve_ == pytest.approx(reference.loss_curve_, rel=tolerance)
    np.testing.assert_array_equal(other.predict(X), reference.predict(X))


@needs_sklearn_weights_and_poisson
@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression", "poisson"])
def test_training_steps_equal_sklearn(kind, iris):
    """From the same weights, SGD steps give scikit-learn's weights and loss (objective,
    alpha on the weights only, sample-weight normalisation, half squared error)."""
    X, y = iris
    Estimator = neural_network.MLPClassifier
    if kind == "binary":
        y = y % 2
    elif kind in ("regression", "poisson"):
        X, y = make_regression(60, 4, n_targets=2, random_state=0)
        y = y / 100 if kind == "regression" else np.floor(np.abs(y) / 50)
        Estimator = partial(neural_network.MLPRegressor,
                            loss="poisson" if kind == "poisson" else "squared_error")
    theirs = Estimator(hidden_layer_sizes=(8, 7), activation="tanh", solver="sgd",
                       momentum=0.0, shuffle=False, alpha=0.3, learning_rate_init=0.05,
                       max_iter=3, random_state=0).fit(X, y)
    ours = anynn.sklearn.from_sklearn(theirs)
    weights = np.random.default_rng(0).integers(0, 3, len(y)).astype(float)
    for _ in range(3):
        theirs.partial_fit(X, y, sample_weight=weights)
        ours.partial_fit(X, y, sample_weight=weights)
    for mine, reference in zip(ours.coefs_ + ours.intercepts_,
                               theirs.coefs_ + theirs.intercepts_, strict=True):
        np.testing.assert_allclose(mine, reference, rtol=0, atol=1e-12)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-12)


@pytest.mark.parametrize("hidden", [(5,), (6, 4)])
def test_from_sklearn_predicts_what_sklearn_predicts(iris, hidden, tmp_path):
    X, y = iris
    for activation in ("relu", "logistic", "tanh", "identity"):
        theirs = neural_network.MLPClassifier(hidden, activation=activation, max_iter=20,
                                              random_state=0).fit(X, y)
        ours = anynn.sklearn.from_sklearn(theirs)
        np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-12)
        np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
        assert ours.get_params()["activation"] == activation
    path = tmp_path / "from_sklearn.anynn"
    ours.network_.save(path)
    reloaded = anynn.load(path)
    np.testing.assert_allclose(anynn.to_numpy(reloaded.predict(X)), theirs.predict_proba(X),
                               atol=1e-12)
    Xr, yr = make_regression(50, 3, random_state=0)
    reg = neural_network.MLPRegressor(hidden_layer_sizes=hidden, max_iter=20,
                                      random_state=0).fit(Xr, yr)
    np.testing.assert_allclose(anynn.sklearn.from_sklearn(reg).predict(Xr), reg.predict(Xr),
                               rtol=1e-12, atol=1e-9)
    lbfgs = neural_network.MLPClassifier((5,), solver="lbfgs", max_iter=20).fit(X, y)
    converted = anynn.sklearn.from_sklearn(lbfgs, backend="array_api_strict")
    np.testing.assert_allclose(converted.predict_proba(X), lbfgs.predict_proba(X), atol=1e-12)
    with pytest.raises(TypeError, match="MLPClassifier or MLPRegressor"):
        anynn.sklearn.from_sklearn(StandardScaler())
    with pytest.raises(NotFittedError):
        anynn.sklearn.from_sklearn(neural_network.MLPClassifier())


@needs_sklearn_weights_and_poisson
def test_from_sklearn_keeps_the_poisson_loss():
    Xr, yr = make_regression(50, 3, random_state=0)
    counts = np.floor(np.abs(yr) / 50)
    poisson = neural_network.MLPRegressor(loss="poisson", max_iter=5).fit(Xr, counts)
    converted = anynn.sklearn.from_sklearn(poisson)
    assert converted.out_activation_ == "exp" and converted.loss == "poisson"
    np.testing.assert_allclose(converted.predict(Xr), poisson.predict(Xr), rtol=1e-12)


def test_import_anynn_does_not_import_sklearn():
    code = "import sys, anynn; assert 'sklearn' not in sys.modules, 'sklearn imported'"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=repo_env(), timeout=120, check=False)
    assert result.returncode == 0, result.stderr



def _warm_pair(X, y, **params):
    theirs = neural_network.MLPClassifier(
        hidden_layer_sizes=(6,), shuffle=False, random_state=0, warm_start=True, **params
    ).fit(X, y)
    return theirs, anynn.sklearn.from_sklearn(theirs)


@pytest.mark.parametrize("schedule", ["constant", "invscaling", "adaptive"])
def test_warm_sgd_fits_equal_sklearn(iris, schedule):
    """Whole ``fit`` calls (momentum, Nesterov, learning-rate schedules, the tol rule)
    continue from equal weights exactly as scikit-learn's do."""
    X, y = iris
    theirs, ours = _warm_pair(X, y, solver="sgd", learning_rate=schedule, momentum=0.9,
                              learning_rate_init=0.1, tol=1e-3, n_iter_no_change=2,
                              max_iter=2)
    for _ in range(2):
        theirs.set_params(max_iter=40).fit(X, y)
        ours.set_params(max_iter=40).fit(X, y)
        assert ours.n_iter_ == theirs.n_iter_ and ours.t_ == theirs.t_
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
        np.testing.assert_allclose(ours.coefs_[0], theirs.coefs_[0], rtol=1e-9, atol=1e-9)


def test_warm_adam_fit_is_close_to_sklearn(iris):
    """Adam follows PyTorch's eps placement; scikit-learn's eps is eps / sqrt(1 - b2**t)."""
    X, y = iris
    theirs, ours = _warm_pair(X, y, solver="adam", learning_rate_init=0.01, max_iter=2)
    theirs.set_params(max_iter=10).fit(X, y)
    ours.set_params(max_iter=10).fit(X, y)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-5)
    np.testing.assert_allclose(ours.coefs_[0], theirs.coefs_[0], rtol=1e-4, atol=1e-4)


def test_missing_sklearn_names_what_to_install():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "try:\n    import anynn.sklearn\nexcept ImportError as e:\n    print(e)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=repo_env(), timeout=120, check=False)
    assert "pip install 'anynn[sklearn]'" in result.stdout, result.stderr


@needs_sklearn_weights_and_poisson
@pytest.mark.parametrize("weighted", [False, True])
def test_lbfgs_reaches_sklearns_optimum_on_a_convex_problem(iris, weighted):
    """No hidden layer and L2: one minimum, which both L-BFGS implementations find."""
    X, y = iris
    weights = np.random.default_rng(0).integers(1, 4, len(y)).astype(float) if weighted else None
    params = {"hidden_layer_sizes": (), "solver": "lbfgs", "alpha": 1.0, "tol": 1e-10,
              "max_iter": 1000, "random_state": 0}
    theirs = neural_network.MLPClassifier(**params).fit(X, y, sample_weight=weights)
    ours = MLPClassifier(**params).fit(X, y, sample_weight=weights)
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-6)
    np.testing.assert_allclose(ours.coefs_[0], theirs.coefs_[0], atol=5e-3)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-3)


def test_lbfgs_rules(iris):
    X, y = iris
    reg = MLPRegressor(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=300, random_state=0)
    assert reg.fit(X[:, :3], X[:, 3]).score(X[:, :3], X[:, 3]) > 0.9
    assert reg.n_iter_ <= 300 and reg.loss_ > 0
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")  # as in scikit-learn
    assert hasattr(MLPRegressor(solver="sgd"), "partial_fit")
    with pytest.raises(ValueError, match="dropout needs a stochastic solver"):
        MLPClassifier(solver="lbfgs", dropout=0.2).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        MLPClassifier(solver="lbfgs", max_iter=2).fit(X, y)


@pytest.mark.parametrize("activation", ["relu", "logistic"])
def test_default_init_is_sklearns_scheme(iris, activation):
    """Weights and biases uniform in ±sqrt(6 / (fan_in + fan_out)) (2 for logistic)."""
    X, y = iris
    clf = MLPClassifier((30, 20), activation=activation, solver="sgd", momentum=0.0,
                        learning_rate_init=1e-300, max_iter=1, random_state=0).fit(X, y)
    factor = 2.0 if activation == "logistic" else 6.0
    for weight, bias in zip(clf.coefs_, clf.intercepts_, strict=True):
        bound = np.sqrt(factor / sum(weight.shape))
        for values in (weight, bias):
            assert np.all(np.abs(values) <= bound) and np.max(np.abs(values)) > 0.8 * bound


def test_init_passes_anynn_schemes_through(iris):
    X, y = iris
    params = {"solver": "sgd", "momentum": 0.0, "learning_rate_init": 1e-300, "max_iter": 1,
              "random_state": 0}
    he = MLPClassifier((50,), init="he", **params).fit(X, y)
    assert np.max(np.abs(he.intercepts_[0])) < 1e-290  # anynn's schemes: zero biases
    assert np.std(he.coefs_[0]) == pytest.approx(np.sqrt(2 / 4), rel=0.2)
    zeros = MLPClassifier((5,), init={"weights": "zeros"}, **params).fit(X, y)
    assert np.max(np.abs(zeros.coefs_[0])) < 1e-290
