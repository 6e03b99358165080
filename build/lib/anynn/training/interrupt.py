"""Ctrl-C during ``fit``: the first one stops after the current step, a second one aborts.

A data-parallel fit sends the flag through each step's allreduce, so that every process
stops after the same step (:meth:`anynn.training.loop.Trainer._stop_requested`).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Interrupt:
    """Ctrl-C during ``fit``: the first one asks the loop to stop after the current step;
    a second one aborts ``fit`` with ``KeyboardInterrupt``, at once, or right after the
    update in progress (``updating``) so that an update is applied whole or not at all."""

    requested = False
    aborted = False
    updating = False


@contextmanager
def deferred_sigint(flag: Interrupt) -> Iterator[None]:
    """Turn the first SIGINT into ``flag.requested``, a second one into an abort."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def handler(signum: int, frame: Any) -> None:
        if not flag.requested:
            flag.requested = True
            return
        flag.aborted = True
        if not flag.updating:
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
