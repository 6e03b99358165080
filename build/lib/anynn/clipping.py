"""Alias of the gradient clipping in :mod:`anynn.training.regularization` (old import path)."""

from .training.regularization import Clipper, check_clip, gradient_clipper  # noqa: F401
