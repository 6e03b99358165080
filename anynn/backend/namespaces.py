"""Array API namespaces: backend names and modules to namespaces, dtype names.

The one place that maps a backend name (``"numpy"``, ``"cupy"``, ``"array_api_strict"``,
``"torch"``) or a namespace module to the namespace anynn computes with, the one
``array_namespace`` call (:func:`namespace_of`) and the device of an array (:func:`device_of`).
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from ..errors import AnynnValueError, BackendUnavailableError

Array = Any
"""Any Array API array (NumPy, CuPy, array_api_strict, ...)."""

BACKEND_NAMES = ("numpy", "cupy", "array_api_strict")
"""The backends anynn names in its documentation and error messages."""
KNOWN_NAMES = (*BACKEND_NAMES, "torch")
"""Every name :func:`namespace_for` resolves (torch through array-api-compat)."""
DTYPE_NAMES = ("float32", "float64")
ARRAY_API_VERSION = "2024.12"


@dataclass(frozen=True)
class NamespaceSpec:
    """A generic Array API namespace module, named so it can be re-imported (pickling).

    Attributes
    ----------
    module : str
        The module's import name (``module.__name__``).
    """

    module: str

    def load(self) -> ModuleType:
        """Import the module.

        Raises
        ------
        BackendUnavailableError
            If the module cannot be imported here.
        """
        try:
            return importlib.import_module(self.module)
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the Array API namespace module {self.module!r} cannot be imported here: {exc}"
            ) from exc


def cupy_available() -> bool:
    """Return whether CuPy imports and sees at least one CUDA GPU."""
    try:
        cupy = importlib.import_module("cupy")
        return bool(cupy.cuda.is_available())
    except Exception:  # ImportError, CUDA driver errors, ...
        return False


def available_backends() -> list[str]:
    """Names of the backends that can run on this machine."""
    names = ["numpy"]
    if importlib.util.find_spec("array_api_strict") is not None:
        names.append("array_api_strict")
    if cupy_available():
        names.append("cupy")
    return names


@cache
def namespace_for(name: str) -> ModuleType:
    """Import the Array API namespace of a named backend (cached).

    Raises
    ------
    BackendUnavailableError
        If the name is unknown or the backend cannot run here.
    """
    if name == "numpy":
        # NumPy >= 2.1 implements the standard itself (fewer wrapper calls per step);
        # older releases go through array-api-compat.
        if np.lib.NumpyVersion(np.__version__) >= "2.1.0":
            return np
        return importlib.import_module("array_api_compat.numpy")
    if name == "array_api_strict":
        try:
            strict = importlib.import_module("array_api_strict")
        except ImportError as exc:
            raise BackendUnavailableError(
                "backend='array_api_strict' needs the array-api-strict package: "
                "pip install array-api-strict"
            ) from exc
        strict.set_array_api_strict_flags(api_version=ARRAY_API_VERSION)
        return strict
    if name == "cupy":
        if not cupy_available():
            raise BackendUnavailableError(
                "backend='cupy' needs CuPy and a CUDA GPU, and none is usable here "
                "(cupy.cuda.is_available() is False or cupy is not installed); "
                "use backend='numpy'"
            )
        return importlib.import_module("array_api_compat.cupy")
    if name == "torch":
        try:
            return importlib.import_module("array_api_compat.torch")
        except ImportError as exc:
            raise BackendUnavailableError("backend='torch' needs PyTorch installed") from exc
    raise BackendUnavailableError(
        f"unknown backend {name!r}; expected one of {', '.join(BACKEND_NAMES)} "
        "or an Array API namespace module"
    )


def known_name(module: ModuleType) -> str | None:
    """The backend name of a namespace module (``numpy`` or its array-api-compat
    wrapper -> ``"numpy"``, ...), or None for any other module."""
    module_name = getattr(module, "__name__", "")
    for name in KNOWN_NAMES:
        if module_name in (name, f"array_api_compat.{name}"):
            return name
    return None


def resolve_module(module: ModuleType) -> tuple[str, ModuleType]:
    """``(name, namespace)`` for a user-given namespace module.

    Raises
    ------
    BackendUnavailableError
        If the module is not an Array API namespace.
    """
    name = known_name(module)
    if name is not None:
        return name, namespace_for(name)
    if hasattr(module, "__array_api_version__"):
        return module.__name__, module
    raise BackendUnavailableError(
        f"module {module.__name__!r} is not an Array API namespace (it has no "
        "__array_api_version__); pass 'numpy', 'cupy', 'array_api_strict' or a "
        "compliant namespace"
    )


_NAMESPACES: dict[type, ModuleType] = {}


def namespace_of(array: Array) -> ModuleType:
    """The Array API namespace of ``array`` (cached per array type, for per-step callers).

    Raises
    ------
    TypeError
        If ``array`` belongs to no known namespace (array-api-compat's error).
    """
    xp = _NAMESPACES.get(type(array))
    if xp is None:
        from array_api_compat import array_namespace

        xp = _NAMESPACES[type(array)] = array_namespace(array)
    return xp


def device_of(array: Array) -> Any:
    """The device of ``array`` (array-api-compat's ``device``: NumPy < 2 arrays have no
    ``.device`` attribute)."""
    from array_api_compat import device

    return device(array)


def normalize_dtype_name(dtype: Any) -> str:
    """Return ``"float32"`` or ``"float64"`` for a dtype given as a name or dtype object.

    Raises
    ------
    AnynnValueError
        If ``dtype`` is not one of the two supported floating types.
    """
    if isinstance(dtype, str):
        name = dtype
    else:
        try:  # NumPy/CuPy dtypes and scalar types (np.float64)
            name = np.dtype(dtype).name
        except TypeError:  # other namespaces' dtype objects print as "<module>.float64"
            name = str(dtype)
    name = name.rsplit(".", 1)[-1]
    if name not in DTYPE_NAMES:
        raise AnynnValueError(
            f"dtype must be one of {', '.join(DTYPE_NAMES)}; got {dtype!r}"
        )
    return name
