"""Alias of :mod:`anynn.symbolic.stability` (the module moved; old imports keep working)."""

import sys

from .symbolic import stability as _stability

sys.modules[__name__] = _stability
