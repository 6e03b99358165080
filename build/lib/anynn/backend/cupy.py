"""CuPy: what differs from the standard backend on a CUDA GPU.

- free device memory (including blocks CuPy's memory pool holds but does not use)
  answers :meth:`CupyBackend.fits_in_memory`;
- fused elementwise kernels are ``cupy.ElementwiseKernel`` objects, compiled (and run
  once on one element, so compile errors surface at construction rather than
  mid-training) when first asked for;
- ``tf32=True`` makes anynn's own float32 matrix products use TensorFloat-32, scoped to
  each product: CuPy's only documented switch (the ``CUPY_TF32`` environment variable)
  is read once and applies to every product in the process, so anynn never sets it.

Only API that CuPy 13 and 14 both have is used (no ``ndarray.mT``).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, ClassVar

from ..errors import BackendUnavailableError
from .base import Array, Backend, Kernel


def parameter_types(params: str) -> list[str]:
    """The dtype names of a typed parameter list (``"float32 g, float32 x"``)."""
    return [param.split()[0] for param in params.split(",") if param.strip()]


def _cupy() -> ModuleType:
    return importlib.import_module("cupy")


class CupyBackend(Backend, backend_name="cupy"):
    """The CuPy backend (built by ``Backend("cupy")``); see :class:`Backend`."""

    compiles_kernels: ClassVar[bool] = True
    on_host: ClassVar[bool] = False
    supports_tf32: ClassVar[bool] = True

    def __init__(
        self, spec: Any = "cupy", dtype: Any = "float32", tf32: bool | None = None
    ) -> None:
        super().__init__(spec, dtype, tf32)
        if self.tf32:
            self.matmul = self._tf32_matmul_or_plain()

    def _tf32_matmul_or_plain(self) -> Any:
        """``matmul`` with TensorFloat-32 scoped to the call (plain before Ampere)."""
        cupy = _cupy()
        if int(cupy.cuda.Device().compute_capability) < 80:
            return self.matmul  # no TF32 units: full float32, as PyTorch's allow_tf32
        # CuPy's compute-type table (cupy/_core/_routines_linalg, CuPy 8 to 14) is what
        # CUPY_TF32 sets; it is set around each product and restored after it.
        linalg = importlib.import_module("cupy._core._routines_linalg")
        needed = ("get_compute_type", "set_compute_type", "COMPUTE_TYPE_TF32")
        if not all(hasattr(linalg, name) for name in needed):
            raise BackendUnavailableError(
                f"tf32=True: this CuPy ({cupy.__version__}) has no compute-type control; "
                "set CUPY_TF32=1 in the environment yourself for a process-wide choice"
            )
        float32, tf32_type = cupy.float32, linalg.COMPUTE_TYPE_TF32
        get_type, set_type = linalg.get_compute_type, linalg.set_compute_type

        def matmul(a: Array, b: Array) -> Array:
            previous = get_type(float32)
            set_type(float32, tf32_type)
            try:
                return a @ b
            finally:
                set_type(float32, previous)

        return matmul

    def fits_in_memory(self, nbytes: int, fraction: float = 1.0) -> bool:
        """Whether ``nbytes`` fit in ``fraction`` of the GPU's free memory.

        Free memory is the driver's free memory plus what CuPy's default pool has cached.
        """
        cupy = _cupy()
        free, _total = cupy.cuda.runtime.memGetInfo()
        free += cupy.get_default_memory_pool().free_bytes()
        return bool(nbytes <= fraction * free)

    def _compile_kernel(self, in_params: str, out_params: str, body: str, name: str) -> Kernel:
        cupy = _cupy()
        kernel = cupy.ElementwiseKernel(in_params, out_params, body, name)
        samples = [cupy.ones((1,), dtype=dtype) for dtype in parameter_types(in_params)]
        samples += [cupy.ones((1,), dtype=dtype) for dtype in parameter_types(out_params)]
        kernel(*samples)  # CuPy compiles on the first call
        cupy.cuda.get_current_stream().synchronize()
        return kernel  # type: ignore[no-any-return]
