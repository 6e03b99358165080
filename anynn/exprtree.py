"""Alias of :mod:`anynn.symbolic.exprtree` (the module moved; old imports keep working)."""

import sys

from .symbolic import exprtree as _exprtree

sys.modules[__name__] = _exprtree
