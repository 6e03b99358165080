"""The device seam: the only code that names cupy, cupyx, array_api_compat,
array_api_strict, torch or scipy, or tells backends apart by name.

- :mod:`.namespaces`: backend names and modules -> Array API namespaces, dtype names, the
  one ``array_namespace`` call (:func:`namespace_of`);
- :mod:`.special`: erf/erfc per namespace (native or pure Array API);
- :mod:`.base`: :class:`Backend`, anynn's "ops" object;
- :mod:`.cupy`: :class:`CupyBackend`, overriding only what differs on a GPU;
- :mod:`.numpy_backend`: :class:`NumpyBackend`, fused optimizer updates as in-place
  ufuncs (:mod:`.host_updates`).
"""

from __future__ import annotations

from .base import (
    Backend,
    BackendSpec,
    Kernel,
    clip,
    overflow_allowed,
    to_numpy,
    warn_kernel_unavailable,
)
from .cupy import CupyBackend
from .namespaces import (
    ARRAY_API_VERSION,
    BACKEND_NAMES,
    DTYPE_NAMES,
    Array,
    NamespaceSpec,
    available_backends,
    cupy_available,
    device_of,
    namespace_of,
    normalize_dtype_name,
)
from .numpy_backend import NumpyBackend
from .special import (
    ArrayFunction,
    erf,
    erfc,
    nan_propagating_sign,
    sign_for,
    special_functions_for,
)

__all__ = [
    "ARRAY_API_VERSION",
    "BACKEND_NAMES",
    "DTYPE_NAMES",
    "Array",
    "ArrayFunction",
    "Backend",
    "BackendSpec",
    "CupyBackend",
    "Kernel",
    "NamespaceSpec",
    "NumpyBackend",
    "available_backends",
    "clip",
    "cupy_available",
    "device_of",
    "erf",
    "erfc",
    "namespace_of",
    "normalize_dtype_name",
    "overflow_allowed",
    "nan_propagating_sign",
    "sign_for",
    "special_functions_for",
    "to_numpy",
    "warn_kernel_unavailable",
]
