"""Shared command line of the examples: ``--backend``, ``--quick``, ``--seed``."""

from __future__ import annotations

import argparse

import numpy as np


def parser(description: str, seed: int = 0) -> argparse.ArgumentParser:
    """An argument parser with the options every example takes.

    Parameters
    ----------
    description : str
        What the example shows (printed by ``--help``).
    seed : int
        Default seed of the network (fixed so a reader sees the same run every time).
    """
    p = argparse.ArgumentParser(description=description)
    p.add_argument(
        "--backend",
        default="numpy",
        help="numpy (default), array_api_strict or cupy",
    )
    p.add_argument(
        "--quick", action="store_true", help="a shorter run (smoke tests, CI)"
    )
    p.add_argument("--seed", type=int, default=seed, help=f"network seed (default {seed})")
    return p


def binary_accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of outputs on the right side of 0.5."""
    predicted = (np.asarray(outputs).reshape(-1) > 0.5).astype(int)
    return float(np.mean(predicted == np.asarray(targets).reshape(-1).astype(int)))
