"""Timing and reference passes shared by the benchmarks (scripts import it as ``_timing``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any


def run_times(
    fn: Callable[[], object], repeat: int, sync: Callable[[], None] = lambda: None
) -> list[float]:
    """Wall times of ``repeat`` calls of ``fn`` after one warm-up, each ended by ``sync``."""
    fn()
    sync()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return times


def bare_gemms(x: Any, weights: Sequence[Any]) -> None:
    """The matrix products of one training step and nothing else (the step's floor)."""
    acts = [x]
    for w in weights:
        acts.append(acts[-1] @ w)
    delta = acts[-1]
    for i in range(len(weights) - 1, -1, -1):
        acts[i].T @ delta
        if i:
            delta = delta @ weights[i].T
