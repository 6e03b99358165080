"""Alias of :mod:`anynn.symbolic.stability` (the module moved; old imports keep working)."""

import sys
from typing import TYPE_CHECKING

from .symbolic import stability as _stability

if TYPE_CHECKING:
    from .symbolic.stability import *  # noqa: F403

sys.modules[__name__] = _stability
