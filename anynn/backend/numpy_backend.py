"""NumPy: what differs from the standard backend on the host.

- optimizer updates run fused, as NumPy ufuncs writing in place into reused scratch
  arrays (:mod:`.host_updates`), instead of the standard path's fresh temporaries.
"""

from __future__ import annotations

from typing import Any

from .base import Backend, Kernel
from .host_updates import host_update


class NumpyBackend(Backend, backend_name="numpy"):
    """The NumPy backend (built by ``Backend("numpy")``); see :class:`Backend`."""

    def update_function(self, spec: Any, *, description: str | None = None) -> Kernel | None:
        """A fresh NumPy update for ``spec``'s rule (its own scratch arrays), or None."""
        return host_update(spec)
