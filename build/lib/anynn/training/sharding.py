"""Which samples of each global batch a process of a data-parallel fit trains on.

A data-parallel fit runs the single-process schedule: the same global batches, in the
same (shuffled) order, drawn from one generator kept identical on every process. Each
global batch is then divided among the processes:

- by default every process holds the whole data set, and takes the ``rank``-th of
  ``size`` contiguous, near-equal slices of every batch;
- with ``sharded=True`` process ``r`` holds rows ``offset_r : offset_r + n_r`` of the
  concatenation of all shards (in rank order), and takes the samples of each batch that
  it holds.

Either way the samples of a batch over all processes are exactly the batch of one
process on the whole data, which is what makes the run exact.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

Rows = slice | np.ndarray


@dataclass(frozen=True)
class LocalSteps:
    """The division of every global batch among the processes.

    Parameters
    ----------
    rank, size : int
        This process and the number of processes.
    counts : sequence of int
        Per process, the samples it holds: all equal (the whole data set) unless
        ``sharded``.
    sharded : bool
        Whether each process holds its own rows.
    """

    rank: int
    size: int
    counts: Sequence[int]
    sharded: bool

    @property
    def n_samples(self) -> int:
        """Samples per epoch over all processes."""
        return int(sum(self.counts)) if self.sharded else int(self.counts[0])

    @property
    def offset(self) -> int:
        """The global index of this process's first row (0 unless sharded)."""
        return int(sum(self.counts[: self.rank])) if self.sharded else 0

    def steps(
        self, order: np.ndarray | None, batch_size: int
    ) -> Iterator[tuple[Rows, Rows, int]]:
        """Per global batch: ``(local rows, positions in the batch, batch size)``.

        ``order`` is the epoch's permutation of the global indices, or None for the
        natural order. Local rows index this process's data; positions say which rows of
        the batch (and of its dropout masks) they are. Either may be empty.
        """
        n = self.n_samples
        for start in range(0, n, batch_size):
            size = min(batch_size, n - start)
            if self.sharded:
                rows, positions = self._held(order, start, size)
            else:
                lo, hi = size * self.rank // self.size, size * (self.rank + 1) // self.size
                positions = slice(lo, hi)
                rows = (
                    slice(start + lo, start + hi) if order is None
                    else order[start + lo : start + hi]
                )
            yield rows, positions, size

    def _held(self, order: np.ndarray | None, start: int, size: int) -> tuple[Rows, Rows]:
        """The rows of batch ``start:start + size`` that this process holds."""
        first, stop = self.offset, self.offset + int(self.counts[self.rank])
        if order is None:  # a contiguous range meets this shard in a contiguous range
            lo, hi = max(start, first), min(start + size, stop)
            hi = max(lo, hi)
            return slice(lo - first, hi - first), slice(lo - start, hi - start)
        ids = order[start : start + size]
        positions = np.flatnonzero((ids >= first) & (ids < stop))
        return ids[positions] - first, positions


def count(rows: Rows) -> int:
    """Number of rows of a slice (with known bounds) or an index array."""
    if isinstance(rows, slice):
        return max(0, int(rows.stop) - int(rows.start))
    return int(rows.shape[0])


def validation_share(n_samples: int, rank: int, size: int) -> tuple[int, int]:
    """``(start, stop)`` of the validation samples a process evaluates when all hold them."""
    return n_samples * rank // size, n_samples * (rank + 1) // size
