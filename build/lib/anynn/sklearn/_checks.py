"""scikit-learn estimator checks that a neural network cannot meet by its nature.

With the defaults (``batch_size="auto"``, ``dtype=None``, no dropout, no early stopping)
anynn's estimators pass every check of ``sklearn.utils.estimator_checks``. Some
configurations cannot, for reasons that hold for any mini-batch neural network; pass
:func:`expected_failed_checks` to ``parametrize_with_checks(..., expected_failed_checks=...)``
or ``check_estimator(..., expected_failed_checks=...)`` to mark them.
"""

from __future__ import annotations

from typing import Any

_WEIGHT_CHECKS = (
    "check_sample_weight_equivalence_on_dense_data",
    "check_sample_weight_equivalence_on_sparse_data",
)

REASONS: dict[str, str] = {
    "batch_size": (
        "integer sample weights must equal repeated rows to rtol 1e-7, but a fixed batch "
        "size smaller than the data makes mini-batches of different rows (and a different "
        "number of steps) for the weighted and the repeated data set"
    ),
    "early_stopping": (
        "the held-out validation split depends on the number of rows, so the weighted and "
        "the repeated data set train on different samples (and the check's 15 rows leave "
        "a stratified validation set smaller than the number of classes)"
    ),
    "dropout": (
        "the random dropout masks are drawn per row, so repeated rows get other masks than "
        "one weighted row"
    ),
    "float32": (
        "float32 rounding (about 1e-7 relative per operation, accumulated over training) "
        "exceeds the checks' tolerance of 1e-7"
    ),
    "float32_output": "scikit-learn requires float64 predictions for float64 input",
}
"""Why a configuration fails the checks, keyed by the parameter that causes it."""

EXPECTED_FAILED_CHECKS: dict[str, dict[str, str]] = {
    "batch_size": dict.fromkeys(_WEIGHT_CHECKS, REASONS["batch_size"]),
    "early_stopping": dict.fromkeys(_WEIGHT_CHECKS, REASONS["early_stopping"]),
    "dropout": dict.fromkeys(_WEIGHT_CHECKS, REASONS["dropout"]),
    "float32": {
        **dict.fromkeys(_WEIGHT_CHECKS, REASONS["float32"]),
        "check_regressor_multioutput": REASONS["float32_output"],
    },
}
"""Per cause (a parameter setting), the checks that fail and why."""


def expected_failed_checks(estimator: Any) -> dict[str, str]:
    """The checks ``estimator`` (an anynn scikit-learn estimator) is expected to fail.

    Returns
    -------
    dict
        Check name -> reason, for the causes present in ``estimator``'s parameters.
    """
    params = estimator.get_params()
    causes = [
        cause
        for cause, present in (
            ("batch_size", params["batch_size"] != "auto"),
            ("early_stopping", bool(params["early_stopping"])),
            ("dropout", bool(params["dropout"])),
            ("float32", params["dtype"] == "float32"),
        )
        if present
    ]
    failing: dict[str, str] = {}
    for cause in causes:
        for check, reason in EXPECTED_FAILED_CHECKS[cause].items():
            failing.setdefault(check, reason)
    if "check_regressor_multioutput" in failing and not hasattr(estimator, "loss"):
        del failing["check_regressor_multioutput"]  # classifiers do not run it
    return failing
