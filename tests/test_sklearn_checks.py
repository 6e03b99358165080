"""scikit-learn's own estimator checks on anynn's MLPClassifier and MLPRegressor.

The defaults pass every check; the second pair of configurations (fixed mini-batches,
float32, dropout) fails exactly the checks listed by ``expected_failed_checks``
(``xfail_strict``: an unexpected pass fails the test, so the list stays true).
"""

from __future__ import annotations

import pytest

pytest.importorskip("sklearn")

from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from anynn.sklearn import MLPClassifier, MLPRegressor, expected_failed_checks  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = {"hidden_layer_sizes": (16,), "max_iter": 100, "learning_rate_init": 1e-2}
ESTIMATORS = [
    MLPClassifier(**SMALL),
    MLPRegressor(**SMALL),
    MLPClassifier(**SMALL, batch_size=8, dtype="float32", dropout=0.1),
    MLPRegressor(**SMALL, batch_size=8, dtype="float32"),
]


@parametrize_with_checks(
    ESTIMATORS, expected_failed_checks=expected_failed_checks, xfail_strict=True
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_defaults_expect_no_failure():
    assert expected_failed_checks(MLPClassifier()) == {}
    assert expected_failed_checks(MLPRegressor()) == {}
