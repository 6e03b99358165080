"""Alias of :mod:`anynn.training.data` (the training data), kept for old import paths."""

from .training.data import (  # noqa: F401
    DEVICE_MEMORY_FRACTION,
    Dataset,
    fit_datasets,
    fits_on_device,
    host_inputs,
    host_targets,
    make_dataset,
    sample_weights,
)
