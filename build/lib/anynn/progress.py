"""Alias of :mod:`anynn.training.progress` (old import path)."""

from .training.progress import (  # noqa: F401
    EpochLines,
    ProgressBar,
    progress_callback,
    resolve_verbose,
)
