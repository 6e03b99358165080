"""Activation speed: compiled f + f' against hand-written code (ratios, never pass/fail).

CPU part: compiled sigmoid and tanh (``f`` then ``f'`` from the output, what a Dense layer
does) against hand-written NumPy; target ratio <= 1.3.
GPU part (skipped with a message without a GPU): f + g*f' on 1e8 float32 elements, fused
kernels vs the unfused standard path vs the bandwidth floor of the same memory traffic.
Forward then backward is two kernels touching five arrays (read z, write y; read g, read
y or z, write out), so the floor is two trivial kernels with that traffic (``y = z``, then
``out = g * y``), not one copy (two arrays, which no forward + backward can reach);
target: fused within 1.5x of that floor.

Run: ``python benchmarks/bench_activations.py``
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from _timing import run_times

from anynn import activations
from anynn.backend import cupy_available


def best_time(
    fn: Callable[[], object], repeat: int = 15, sync: Callable[[], None] = lambda: None
) -> float:
    return min(run_times(fn, repeat, sync))


def cpu_part(n: int = 1_000_000) -> None:
    import array_api_compat.numpy as xp

    z = np.random.default_rng(0).normal(0, 3, n).astype(np.float32)
    g = np.ones_like(z)
    sigmoid = activations.sigmoid.compiled(xp)
    tanh = activations.tanh.compiled(xp)

    def hand_sigmoid() -> object:
        s = 1.0 / (1.0 + np.exp(-z))
        return g * (s * (1.0 - s))

    def hand_tanh() -> object:
        t = np.tanh(z)
        return g * (1.0 - t * t)

    def ours(c: object) -> Callable[[], object]:
        return lambda: g * c.df_from_output(c.f(z))  # type: ignore[attr-defined]

    print(f"CPU, {n:.0e} float32 elements, f + g*f' (best of 15):")
    with np.errstate(all="ignore"):
        for name, hand, compiled in (("sigmoid", hand_sigmoid, sigmoid), ("tanh", hand_tanh, tanh)):
            t_hand, t_ours = best_time(hand), best_time(ours(compiled))
            print(
                f"  {name:8s} compiled / hand-written NumPy = {t_ours / t_hand:.2f}x "
                "(target <= 1.3)"
            )


def gpu_part(n: int = 100_000_000) -> None:
    if not cupy_available():
        print("GPU part skipped: CuPy with a CUDA GPU is not available on this machine.")
        return
    import array_api_compat.cupy as cxp
    import cupy

    from anynn.backend import Backend
    from anynn.bound_activation import bind

    sync = cupy.cuda.Device().synchronize
    z = cupy.random.standard_normal(n, dtype=cupy.float32)
    g = cupy.ones_like(z)
    copy = cupy.ElementwiseKernel("float32 x", "float32 y", "y = x;", "anynn_bench_copy")
    scale = cupy.ElementwiseKernel(
        "float32 g, float32 y", "float32 out", "out = g * y;", "anynn_bench_scale"
    )

    def floor() -> object:  # five array passes, like forward + backward
        return scale(g, copy(z))

    t_copy = best_time(floor, 10, sync)
    print(f"GPU, {n:.0e} float32 elements, f then g*f' (best of 10):")
    for name in ("sigmoid", "tanh", "gelu", "mish", "silu"):
        act = activations.get(name)
        kernels = bind(act, Backend("cupy", "float32"))
        standard = act.compiled(cxp)

        def fused(kernels: object = kernels) -> object:
            y = kernels.forward(z)
            return kernels.backward(g, z, y)

        def unfused(standard: object = standard) -> object:
            y = standard.f(z)
            if standard.df_from_output is not None:
                return g * standard.df_from_output(y)
            return g * standard.df(z)

        t_fused, t_unfused = best_time(fused, 10, sync), best_time(unfused, 10, sync)
        print(
            f"  {name:8s} fused/floor = {t_fused / t_copy:.2f}x  unfused/floor = "
            f"{t_unfused / t_copy:.2f}x  fused speed-up = {t_unfused / t_fused:.2f}x"
        )
    print("  (floor: y = z then out = g * y, the same five array passes; target: fused "
          "within 1.5x of it)")


if __name__ == "__main__":
    cpu_part()
    gpu_part()
