"""Alias of :mod:`anynn.symbolic.exprtree` (the module moved; old imports keep working)."""

import sys
from typing import TYPE_CHECKING

from .symbolic import exprtree as _exprtree

if TYPE_CHECKING:
    from .symbolic.exprtree import *  # noqa: F403

sys.modules[__name__] = _exprtree
