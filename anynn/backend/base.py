"""The Backend: anynn's device "ops" object, resolved once and passed down.

A :class:`Backend` is what every other module receives instead of calling
``array_namespace`` per operation. It moves host data onto its device
(:meth:`Backend.asarray`) and back (:func:`to_numpy`), answers memory questions, hands out
erf/erfc and fused elementwise kernels, and describes itself picklably (:meth:`Backend.spec`).
Subclasses override only what differs on their device (:class:`anynn.backend.cupy.CupyBackend`).
"""

from __future__ import annotations

import contextlib
import operator
import sys
import warnings
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from ..errors import (
    AnynnTypeError,
    AnynnValueError,
    BackendUnavailableError,
    KernelUnavailableWarning,
)
from .namespaces import (
    KNOWN_NAMES,
    Array,
    NamespaceSpec,
    namespace_for,
    namespace_of,
    normalize_dtype_name,
    resolve_module,
)
from .special import ArrayFunction, special_functions_for

BackendSpec = str | NamespaceSpec
"""What :meth:`Backend.spec` returns and ``Backend(spec)`` accepts back."""
Kernel = Callable[..., Array]

_NUMPY_BASED = ("array_api_compat.numpy", "array_api_strict")
_SUBCLASSES: dict[str, type[Backend]] = {}
_KERNELS: dict[tuple[type, str, str, str, str], Kernel | None] = {}


def clip(xp: ModuleType, a: Array, low: float, high: float) -> Array:
    """Clamp ``a`` to ``[low, high]`` as ``minimum(maximum())``.

    array-api-compat's ``clip`` is about 30 times slower on CuPy; NaN stays NaN.
    """
    return xp.minimum(xp.maximum(a, low), high)


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


def warn_kernel_unavailable(description: str, reason: str) -> None:
    """Warn that a fused kernel is not used (the standard path is, more slowly)."""
    warnings.warn(
        f"the fused kernel for {description} is unavailable ({reason}); the standard "
        "Array API path is used instead (correct, but slower)",
        KernelUnavailableWarning,
        stacklevel=3,
    )


def _resolve(spec: Any) -> tuple[str, ModuleType]:
    """``(name, namespace)`` of a backend spec; see :class:`Backend`."""
    if isinstance(spec, Backend):
        return spec.name, spec.xp
    if isinstance(spec, str):
        return spec, namespace_for(spec)
    if isinstance(spec, NamespaceSpec):
        return resolve_module(spec.load())
    if isinstance(spec, ModuleType):
        return resolve_module(spec)
    raise AnynnTypeError(
        "backend must be a name ('numpy', 'cupy', 'array_api_strict') or an "
        f"Array API namespace module; got {type(spec).__name__}: {spec!r}"
    )


class Backend:
    """An Array API namespace with its device and the network's floating dtype.

    ``Backend("cupy")`` builds the :class:`~anynn.backend.cupy.CupyBackend` subclass.

    Parameters
    ----------
    spec : str, module, NamespaceSpec or Backend
        ``"numpy"``, ``"cupy"``, ``"array_api_strict"``, ``"torch"``, an Array API
        namespace module, what :meth:`spec` returned, or a backend to copy.
    dtype : str or dtype
        ``"float32"`` (default) or ``"float64"``.
    tf32 : bool, optional
        Let float32 matrix products use TensorFloat-32 (a 10-bit mantissa, about 1e-3
        relative error; several times faster on Ampere and newer GPUs). Only anynn's own
        products are affected, never the rest of the program's; off by default (full
        float32). Only backends that support it accept True (``"cupy"``, float32).
        Default: the value of ``spec`` when it is a Backend, else False.

    Attributes
    ----------
    name : str
        Canonical backend name (``"numpy"``, ``"cupy"``, ...; a generic module's name).
    xp : module
        The Array API namespace.
    dtype : dtype
        The floating dtype of the namespace.
    dtype_name : str
        ``"float32"`` or ``"float64"``.
    device : object
        The device arrays are created on.
    compiles_kernels : bool
        Whether :meth:`elementwise_kernel` can return kernels (False: it returns None).
    on_host : bool
        Whether arrays live in host memory (False: in a device's own memory).
    tf32 : bool
        Whether float32 matrix products may use TensorFloat-32.
    matmul : callable
        ``matmul(a, b)``: the matrix product at the precision in force (``a @ b``).
    """

    compiles_kernels: ClassVar[bool] = False
    on_host: ClassVar[bool] = True
    supports_tf32: ClassVar[bool] = False

    def __init_subclass__(cls, backend_name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if backend_name is not None:
            _SUBCLASSES[backend_name] = cls

    def __new__(
        cls, spec: Any = "numpy", dtype: Any = "float32", tf32: bool | None = None  # noqa: ARG004
    ) -> Backend:
        if cls is Backend:
            cls = type(spec) if isinstance(spec, Backend) else _SUBCLASSES.get(
                _resolve(spec)[0], Backend
            )
        return super().__new__(cls)

    def __init__(
        self, spec: Any = "numpy", dtype: Any = "float32", tf32: bool | None = None
    ) -> None:
        self.name, self.xp = _resolve(spec)
        self.dtype_name = normalize_dtype_name(dtype)
        self.dtype = getattr(self.xp, self.dtype_name)
        probe = self.xp.zeros((1,), dtype=self.dtype)
        self.device = probe.device if hasattr(probe, "device") else None
        if tf32 is None:  # a copy keeps the choice where it still applies
            inherited: bool = isinstance(spec, Backend) and spec.tf32
            tf32 = inherited and self.dtype_name == "float32"
        self.tf32: bool = self._check_tf32(tf32)
        self.matmul: Callable[[Array, Array], Array] = operator.matmul

    def _check_tf32(self, tf32: Any) -> bool:
        if not isinstance(tf32, bool):
            raise AnynnTypeError(f"tf32 must be True or False; got {tf32!r}")
        if tf32 and not (self.supports_tf32 and self.dtype_name == "float32"):
            raise AnynnValueError(
                "tf32=True needs backend='cupy' with dtype='float32' (TensorFloat-32 is a "
                f"float32 GPU matrix-product mode); got backend={self.name!r}, "
                f"dtype={self.dtype_name!r}"
            )
        return tf32

    def __repr__(self) -> str:
        extra = ", tf32=True" if self.tf32 else ""
        return f"Backend({self.name!r}, dtype={self.dtype_name!r}{extra})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Backend)
            and self.xp is other.xp
            and self.dtype_name == other.dtype_name
            and self.tf32 == other.tf32
        )

    def __hash__(self) -> int:
        return hash((self.name, self.dtype_name, self.tf32))

    def __reduce__(self) -> tuple[Any, tuple[BackendSpec, str, bool]]:
        return (Backend, (self.spec(), self.dtype_name, self.tf32))

    # -- description ----------------------------------------------------------------
    def spec(self) -> BackendSpec:
        """A picklable description that ``Backend(spec, dtype)`` turns back into this backend.

        A backend name, or for a generic namespace module a :class:`NamespaceSpec` that
        re-imports it by module name.

        Raises
        ------
        BackendUnavailableError
            If the namespace module cannot be found again by its name (it was not imported
            as a module, e.g. built with ``types.ModuleType``).
        """
        if self.name in KNOWN_NAMES:
            return self.name
        module_name = self.xp.__name__
        if sys.modules.get(module_name) is not self.xp:
            raise BackendUnavailableError(
                f"the Array API namespace module {module_name!r} is not importable by its "
                "name (it is not in sys.modules), so this backend cannot be described for "
                "pickling; import the namespace from a module file"
            )
        return NamespaceSpec(module_name)

    def with_dtype(self, dtype: Any) -> Backend:
        """Return the same namespace with another floating dtype (tf32 kept for float32)."""
        return Backend(self, dtype)

    # -- arrays ---------------------------------------------------------------------
    def namespace_of(self, array: Array) -> ModuleType:
        """The Array API namespace of any array (not necessarily this backend's)."""
        return namespace_of(array)

    def owns(self, array: Array) -> bool:
        """Return whether ``array`` already is an array of this namespace."""
        if self.xp is np:
            return isinstance(array, np.ndarray)
        try:
            return namespace_of(array) is self.xp
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

    def overflow_allowed(self, invalid: bool = False) -> contextlib.AbstractContextManager[None]:
        """See :func:`overflow_allowed`."""
        return overflow_allowed(self.xp, invalid)

    # -- device abilities -------------------------------------------------------------
    def special_functions(self) -> tuple[ArrayFunction, ArrayFunction]:
        """``(erf, erfc)`` for this namespace (native where there is one)."""
        return special_functions_for(self.xp)

    def fits_in_memory(self, nbytes: int, fraction: float = 1.0) -> bool:
        """Whether ``nbytes`` fit in ``fraction`` of the device's free memory (host: True)."""
        return True

    def elementwise_kernel(
        self,
        in_params: str,
        out_params: str,
        body: str,
        name: str,
        *,
        description: str | None = None,
    ) -> Kernel | None:
        """A fused elementwise kernel, or None where this backend has none.

        Built and test-compiled once per process and cached. A kernel that fails to
        compile warns once (:class:`~anynn.errors.KernelUnavailableWarning`, naming
        ``description`` or ``name`` and the compiler's message) and gives None, so the
        caller uses the standard path.

        Parameters
        ----------
        in_params, out_params : str
            Typed parameter lists, e.g. ``"float32 g, float32 x"`` and ``"float32 out"``.
        body : str
            The C body, assigning the outputs.
        name : str
            The kernel's C name.
        description : str, optional
            What the kernel computes, for the warning (e.g. the activation's name).
        """
        if not self.compiles_kernels:
            return None
        key = (type(self), in_params, out_params, body, name)
        if key in _KERNELS:
            return _KERNELS[key]
        kernel: Kernel | None
        try:
            kernel = self._compile_kernel(in_params, out_params, body, name)
        except Exception as exc:  # noqa: BLE001 - compilers raise many types; the path falls back
            warn_kernel_unavailable(description or name, f"{type(exc).__name__}: {exc}")
            kernel = None
        _KERNELS[key] = kernel
        return kernel

    def update_function(self, spec: Any, *, description: str | None = None) -> Kernel | None:
        """The fused optimizer update of ``spec`` (an :class:`anynn.update_kernels.UpdateKernel`),
        called ``update(g, *scalars, w, *state)``, or None: the standard path.

        Here the compiled kernel (:meth:`elementwise_kernel`); NumPy runs ufuncs instead.
        """
        return self.elementwise_kernel(spec.in_params, spec.out_params, spec.body, spec.name,
                                       description=description)

    def _compile_kernel(self, in_params: str, out_params: str, body: str, name: str) -> Kernel:
        """Build and compile one kernel (raises on failure); only where ``compiles_kernels``."""
        raise NotImplementedError(f"{type(self).__name__} compiles no kernels")


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
