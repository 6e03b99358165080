"""CuPy: what differs from the standard backend on a CUDA GPU.

Free device memory answers :meth:`CupyBackend.fits_in_memory`, and fused elementwise
kernels are ``cupy.ElementwiseKernel`` objects, compiled (and run once on one element, so
compile errors surface at construction rather than mid-training) when first asked for.
"""

from __future__ import annotations

import importlib
from typing import ClassVar

from .base import Backend, Kernel


def parameter_types(params: str) -> list[str]:
    """The dtype names of a typed parameter list (``"float32 g, float32 x"``)."""
    return [param.split()[0] for param in params.split(",") if param.strip()]


class CupyBackend(Backend, backend_name="cupy"):
    """The CuPy backend (built by ``Backend("cupy")``); see :class:`Backend`."""

    compiles_kernels: ClassVar[bool] = True
    on_host: ClassVar[bool] = False

    def fits_in_memory(self, nbytes: int, fraction: float = 1.0) -> bool:
        """Whether ``nbytes`` fit in ``fraction`` of the GPU's free memory."""
        cupy = importlib.import_module("cupy")
        free, _total = cupy.cuda.runtime.memGetInfo()
        return bool(nbytes <= fraction * free)

    def _compile_kernel(self, in_params: str, out_params: str, body: str, name: str) -> Kernel:
        cupy = importlib.import_module("cupy")
        kernel = cupy.ElementwiseKernel(in_params, out_params, body, name)
        samples = [cupy.ones((1,), dtype=dtype) for dtype in parameter_types(in_params)]
        kernel(*samples)  # CuPy compiles on the first call
        cupy.cuda.get_current_stream().synchronize()
        return kernel  # type: ignore[no-any-return]
