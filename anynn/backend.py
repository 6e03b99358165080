"""Backends: an Array API namespace, a device and a floating dtype, resolved once.

A :class:`Backend` is what every other module receives instead of calling
``array_namespace`` per operation. It knows how to move host data onto its device
(:meth:`Backend.asarray`) and back (:func:`to_numpy`).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import Any

import numpy as np

from .errors import AnynnTypeError, AnynnValueError, BackendUnavailableError

Array = Any
"""Any Array API array (NumPy, CuPy, array_api_strict, ...)."""

BACKEND_NAMES = ("numpy", "cupy", "array_api_strict")
DTYPE_NAMES = ("float32", "float64")
ARRAY_API_VERSION = "2024.12"


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
def _namespace_for(name: str) -> ModuleType:
    """Import the Array API namespace of a named backend (cached)."""
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
        os.environ.setdefault("CUPY_TF32", "1")  # read before the first float32 GEMM
        if not cupy_available():
            raise BackendUnavailableError(
                "backend='cupy' needs CuPy and a CUDA GPU, and none is usable here "
                "(cupy.cuda.is_available() is False or cupy is not installed); "
                "use backend='numpy'"
            )
        return importlib.import_module("array_api_compat.cupy")
    raise BackendUnavailableError(
        f"unknown backend {name!r}; expected one of {', '.join(BACKEND_NAMES)} "
        "or an Array API namespace module"
    )


def _name_of_module(module: ModuleType) -> str:
    """Map a user-given namespace module to a backend name, or raise."""
    module_name = module.__name__
    for name in BACKEND_NAMES:
        if module_name in (name, f"array_api_compat.{name}"):
            return name
    if module_name in ("torch", "array_api_compat.torch"):
        return "torch"
    if hasattr(module, "__array_api_version__"):
        return module_name
    raise BackendUnavailableError(
        f"module {module_name!r} is not an Array API namespace (it has no "
        "__array_api_version__); pass 'numpy', 'cupy', 'array_api_strict' or a "
        "compliant namespace"
    )


def _module_namespace(name: str, module: ModuleType) -> ModuleType:
    if name in BACKEND_NAMES:
        return _namespace_for(name)
    if name == "torch":
        return importlib.import_module("array_api_compat.torch")
    return module


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


def clip(xp: ModuleType, a: Array, low: float, high: float) -> Array:
    """Clamp ``a`` to ``[low, high]`` as ``minimum(maximum())``.

    array-api-compat's ``clip`` is about 30 times slower on CuPy; NaN stays NaN.
    """
    return xp.minimum(xp.maximum(a, low), high)


_NUMPY_BASED = ("array_api_compat.numpy", "array_api_strict")


@contextlib.contextmanager
def overflow_allowed(xp: ModuleType, invalid: bool = False) -> Iterator[None]:
    """Silence NumPy's overflow/underflow warnings inside the block.

    Compiled activations may let an intermediate ``exp`` overflow to ``inf`` where the
    result is still exact (``1 / (1 + inf) == 0``); the stability probe has verified
    those forms, and training checks every epoch's loss for non-finite values, so the
    warnings are noise. ``invalid=True`` also silences invalid-value and division
    warnings: for training, where a NaN is reported once, as ``TrainingDiverged``.
    Namespaces not computed by NumPy do not warn: for them this does nothing.
    """
    if xp is np or getattr(xp, "__name__", "") in _NUMPY_BASED:
        if invalid:
            with np.errstate(over="ignore", under="ignore", invalid="ignore", divide="ignore"):
                yield
        else:
            with np.errstate(over="ignore", under="ignore"):
                yield
    else:
        yield


@dataclass(frozen=True)
class NamespaceSpec:
    """A picklable reference to an Array API namespace module: its import name."""

    module: str

    def load(self) -> ModuleType:
        """Import the module again.

        Raises
        ------
        BackendUnavailableError
            If it cannot be imported here.
        """
        try:
            return importlib.import_module(self.module)
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the Array API namespace module {self.module!r} cannot be imported: {exc}"
            ) from exc


class Backend:
    """An Array API namespace with its device and the network's floating dtype.

    Parameters
    ----------
    spec : str or module
        ``"numpy"``, ``"cupy"``, ``"array_api_strict"`` or an Array API namespace.
    dtype : str
        ``"float32"`` (default) or ``"float64"``.

    Attributes
    ----------
    name : str
        Canonical backend name (``"numpy"``, ``"cupy"``, ...).
    xp : module
        The Array API namespace.
    dtype : dtype
        The floating dtype of the namespace.
    dtype_name : str
        ``"float32"`` or ``"float64"``.
    device : object
        The device arrays are created on.
    """

    def __init__(
        self, spec: str | ModuleType | NamespaceSpec | Backend = "numpy", dtype: Any = "float32"
    ) -> None:
        self.name: str
        self.xp: ModuleType
        if isinstance(spec, Backend):
            spec = spec.name if spec.name in BACKEND_NAMES else spec.xp
        if isinstance(spec, NamespaceSpec):
            spec = spec.load()
        if isinstance(spec, str):
            self.name = spec
            self.xp = _namespace_for(spec)
        elif isinstance(spec, ModuleType):
            self.name = _name_of_module(spec)
            self.xp = _module_namespace(self.name, spec)
        else:
            raise AnynnTypeError(
                "backend must be a name ('numpy', 'cupy', 'array_api_strict') or an "
                f"Array API namespace module; got {type(spec).__name__}: {spec!r}"
            )
        self.dtype_name = normalize_dtype_name(dtype)
        self.dtype = getattr(self.xp, self.dtype_name)
        probe = self.xp.zeros((1,), dtype=self.dtype)
        self.device = probe.device if hasattr(probe, "device") else None

    def __repr__(self) -> str:
        return f"Backend({self.name!r}, dtype={self.dtype_name!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Backend)
            and self.xp is other.xp
            and self.dtype_name == other.dtype_name
        )

    def __hash__(self) -> int:
        return hash((self.name, self.dtype_name))

    def spec(self) -> str | NamespaceSpec:
        """A picklable description that ``Backend(spec, dtype)`` accepts back."""
        return self.name if self.name in BACKEND_NAMES else NamespaceSpec(self.xp.__name__)

    def with_dtype(self, dtype: Any) -> Backend:
        """Return the same namespace with another floating dtype."""
        return Backend(self.name if self.name in BACKEND_NAMES else self.xp, dtype)

    def overflow_allowed(self, invalid: bool = False) -> contextlib.AbstractContextManager[None]:
        """See :func:`overflow_allowed`."""
        return overflow_allowed(self.xp, invalid)

    def owns(self, array: Array) -> bool:
        """Return whether ``array`` already is an array of this namespace."""
        if self.name == "numpy":
            return isinstance(array, np.ndarray)
        try:
            from array_api_compat import array_namespace

            return array_namespace(array) is self.xp
        except TypeError:
            return False

    def asarray(self, data: Any, dtype: Any = None) -> Array:
        """Move ``data`` (list, NumPy array, any backend array) to this backend.

        The result has the backend's floating dtype unless ``dtype`` is given.
        Arrays from another namespace go through the host.
        """
        dtype = self.dtype if dtype is None else dtype
        if not self.owns(data):
            data = to_numpy(data) if _is_foreign_array(data) else np.asarray(data)
        return self.xp.asarray(data, dtype=dtype, device=self.device)

    def from_host(self, host: np.ndarray) -> Array:
        """Copy a host NumPy array (any dtype) onto the device, keeping its dtype."""
        return self.xp.asarray(host, device=self.device)


def _is_foreign_array(data: Any) -> bool:
    return hasattr(data, "__dlpack__") and not isinstance(data, np.ndarray)


def to_numpy(array: Any) -> np.ndarray:
    """Return a host NumPy copy (or view) of any backend array, list or scalar."""
    if isinstance(array, np.ndarray):
        return array
    get = getattr(array, "get", None)
    if callable(get) and type(array).__module__.startswith("cupy"):
        return np.asarray(get())
    if hasattr(array, "__dlpack__"):
        try:
            return np.from_dlpack(array)
        except (TypeError, RuntimeError, BufferError):
            pass
    return np.asarray(array)
