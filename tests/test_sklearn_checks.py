"""scikit-learn's own estimator checks on anynn's MLPClassifier and MLPRegressor.

The defaults and ``solver="lbfgs"`` pass every check; the last pair of configurations
(fixed mini-batches, float32, dropout) fails exactly the checks listed by
``expected_failed_checks`` (``xfail_strict``: an unexpected pass fails the test, so the
list stays true).
"""

from __future__ import annotations

import inspect

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import (  # noqa: E402
    check_sample_weight_equivalence_on_dense_data,
    parametrize_with_checks,
)

from anynn.sklearn import MLPClassifier, MLPRegressor, expected_failed_checks  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = {"hidden_layer_sizes": (16,), "max_iter": 100, "learning_rate_init": 1e-2}
ESTIMATORS = [
    MLPClassifier(**SMALL),
    MLPRegressor(**SMALL),
    MLPClassifier(**SMALL, solver="lbfgs"),
    MLPRegressor(**SMALL, solver="lbfgs"),
    MLPClassifier(**SMALL, batch_size=8, dtype="float32", dropout=0.1),
    MLPRegressor(**SMALL, batch_size=8, dtype="float32"),
]


# xfail_strict: scikit-learn 1.9 has it, 1.6 does not (there the failures are only marked)
STRICT = ({"xfail_strict": True}
          if "xfail_strict" in inspect.signature(parametrize_with_checks).parameters else {})


_CHECKS = parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=expected_failed_checks, **STRICT
)
# scikit-learn 1.6 passes a generator, which pytest >= 9 deprecates: give it a list
_NAMES, _CASES = _CHECKS.args
CHECKS = pytest.mark.parametrize(_NAMES, list(_CASES), **_CHECKS.kwargs)


@CHECKS
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
@pytest.mark.parametrize(
    "setting", [{"batch_size": 8}, {"dtype": "float32"}, {"dropout": 0.1},
                {"early_stopping": True}],
)
def test_each_listed_cause_alone_fails_the_weight_check(Estimator, setting):
    """Every cause in the expected-failure table fails the check on its own."""
    estimator = Estimator(**SMALL, **setting)
    assert "check_sample_weight_equivalence_on_dense_data" in expected_failed_checks(estimator)
    with pytest.raises((AssertionError, ValueError)):
        check_sample_weight_equivalence_on_dense_data(Estimator.__name__, estimator)


def test_defaults_expect_no_failure():
    assert expected_failed_checks(MLPClassifier()) == {}
    assert expected_failed_checks(MLPRegressor()) == {}
