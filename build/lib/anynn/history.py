"""The per-epoch training record returned by ``fit`` (shaped like Keras' ``History``)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import AnynnValueError
from .files import check_destination, write_atomic


@dataclass
class History:
    """Per-epoch values: ``history["loss"]``, ``history["val_loss"]``, each metric.

    The same object accumulates over successive ``fit``/``partial_fit`` calls of one
    network (``net.history``); ``epoch`` keeps counting.

    Attributes
    ----------
    history : dict of str to list of float
        ``loss``, ``val_loss``, each metric and its ``val_`` twin, one value per epoch.
    epoch : list of int
        The (0-based) epoch numbers recorded.
    """

    history: dict[str, list[float]] = field(default_factory=lambda: {"loss": []})
    epoch: list[int] = field(default_factory=list)

    def record(self, epoch: int, **values: float) -> None:
        """Append one epoch's values, keeping every list aligned with ``epoch``.

        A key not recorded in some epochs (a metric used by one ``fit`` and not the
        next) holds NaN for those epochs, so ``history[key][i]`` is always epoch ``i``.
        """
        done = len(self.epoch)
        self.epoch.append(epoch)
        for key, value in values.items():
            series = self.history.get(key)
            if series is None:  # a key new in this epoch: NaN for the earlier ones
                series = self.history[key] = [math.nan] * done
            series.append(value)
        for series in self.history.values():
            if len(series) == done:
                series.append(math.nan)

    def drop_last(self) -> None:
        """Forget the last recorded epoch (its weights were rolled back)."""
        self.epoch.pop()
        for series in self.history.values():
            series.pop()

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def last(self) -> dict[str, float]:
        """The values of the last recorded epoch."""
        return {k: v[-1] for k, v in self.history.items() if v}

    def plot(self, path: str | Path) -> Path:
        """Save a PNG of the curves: one panel for the losses, one per metric.

        The file is written like a model file (:mod:`anynn.files`): atomically, links
        followed, an existing file's permission bits kept.

        Raises
        ------
        AnynnValueError
            If there is nothing to plot, or ``path`` is refused (empty, in a missing
            folder, an existing directory or special file).
        FileWriteError
            If the OS fails the write.
        ImportError
            If matplotlib (an optional extra) is not installed.
        """
        check_destination(path)
        try:
            import matplotlib

            matplotlib.use("Agg", force=False)
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError(
                "History.plot needs matplotlib: pip install matplotlib (or anynn[plot])"
            ) from exc
        groups = [k for k in self.history if not k.startswith("val_") and self.history[k]]
        if not groups:
            raise AnynnValueError("History.plot: no epoch recorded yet; train first")
        fig, axes = plt.subplots(1, len(groups), figsize=(5 * len(groups), 3.6), squeeze=False)
        for ax, key in zip(axes[0], groups, strict=True):
            for name in (key, f"val_{key}"):
                values = self.history.get(name, [])
                if values:
                    ax.plot(self.epoch[-len(values) :], values, label=name)
            ax.set_xlabel("epoch")
            ax.set_title(key)
            ax.legend()
        fig.tight_layout()
        image = io.BytesIO()
        fig.savefig(image, format="png", dpi=100)
        plt.close(fig)
        write_atomic(path, image.getvalue())
        return Path(path)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epoch)}, last={self.last()})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-able copy: ``{"epoch": [...], "history": {...}}``."""
        return {"epoch": list(self.epoch), "history": {k: list(v) for k, v in self.history.items()}}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        """Inverse of :meth:`to_dict`."""
        return cls(
            history={str(k): [float(x) for x in v] for k, v in data["history"].items()},
            epoch=[int(e) for e in data["epoch"]],
        )
