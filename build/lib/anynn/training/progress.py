"""Progress reporting for ``fit``: a tqdm bar over epochs, or one printed line per epoch."""

from __future__ import annotations

import sys
from typing import Any

from .._checks import check_choice, check_int
from ..callbacks import Callback, Logs


def _format(logs: Logs) -> str:
    return " - ".join(f"{k}: {v:.4g}" for k, v in logs.items())


class EpochLines(Callback):
    """``verbose=2``: print one line per epoch."""

    def __init__(self, epochs: int, stream: Any = None) -> None:
        self.epochs = epochs
        self.stream = stream

    def on_train_begin(self, logs: Logs) -> None:
        self._first = logs.get("first_epoch", 0)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        done = epoch - self._first + 1
        print(f"epoch {done}/{self.epochs} - {_format(logs)}", file=self.stream or sys.stdout)


class ProgressBar(Callback):
    """``verbose=1``: a tqdm bar over the epochs, with the last values as postfix."""

    def __init__(self, epochs: int) -> None:
        self.epochs = epochs
        self._bar: Any = None

    def on_train_begin(self, logs: Logs) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=self.epochs, unit="epoch", leave=True)

    def on_epoch_end(self, epoch: int, logs: Logs) -> None:
        self._bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()}, refresh=False)
        self._bar.update(1)

    def on_train_end(self, logs: Logs) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def resolve_verbose(verbose: Any) -> int:
    """``"auto"``: 1 when stdout is a terminal, else 0; ``True``/``False``: 1/0 (as
    scikit-learn and PyTorch users write it); else 0, 1 or 2.

    Raises
    ------
    AnynnTypeError
        For neither a str nor an int.
    AnynnValueError
        For another str, or an int outside [0, 2].
    """
    if isinstance(verbose, bool):
        return int(verbose)
    if isinstance(verbose, str):
        check_choice(verbose, "verbose", ("auto",))
        isatty = getattr(sys.stdout, "isatty", None)
        return 1 if callable(isatty) and isatty() else 0
    return check_int(verbose, "verbose", low=0, high=2)


def progress_callback(verbose: int, epochs: int) -> Callback | None:
    """The reporter for a resolved ``verbose`` level (1 falls back to lines without tqdm)."""
    if verbose == 0 or epochs == 0:
        return None
    if verbose == 1:
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return EpochLines(epochs)
        return ProgressBar(epochs)
    return EpochLines(epochs)
