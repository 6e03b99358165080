"""scikit-learn estimators backed by anynn: ``MLPClassifier`` and ``MLPRegressor``.

Drop-in replacements for :mod:`sklearn.neural_network`'s estimators that train on any
anynn backend (``backend="cupy"`` for the GPU), plus :func:`from_sklearn`, which turns a
fitted scikit-learn MLP into an anynn network. Needs scikit-learn (``pip install
anynn[sklearn]``); ``import anynn`` alone never imports it.
"""

from __future__ import annotations

try:  # validate_data and __sklearn_tags__ arrived in scikit-learn 1.6
    from sklearn.utils.validation import validate_data as _validate_data  # noqa: F401
except ImportError as error:
    raise ImportError(
        "anynn.sklearn needs scikit-learn >= 1.6: pip install 'anynn[sklearn]'"
    ) from error

from ._checks import EXPECTED_FAILED_CHECKS, expected_failed_checks
from ._classifier import MLPClassifier
from ._convert import from_sklearn
from ._regressor import MLPRegressor

__all__ = [
    "EXPECTED_FAILED_CHECKS",
    "MLPClassifier",
    "MLPRegressor",
    "expected_failed_checks",
    "from_sklearn",
]
