"""A generic Array API namespace module for the tests: array_api_strict under another name.

anynn knows it only as "some module with ``__array_api_version__``", like a user's own
namespace.
"""

from array_api_strict import *  # noqa: F403
from array_api_strict import __array_api_version__  # noqa: F401
