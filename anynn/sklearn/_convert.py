"""``from_sklearn``: a fitted scikit-learn MLP as an anynn estimator and network."""

from __future__ import annotations

from typing import Any


def from_sklearn(fitted: Any) -> Any:
    raise NotImplementedError
