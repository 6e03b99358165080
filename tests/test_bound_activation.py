"""bind(): an activation's forward and backward resolved once per backend."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import anynn
from anynn import activations
from anynn.backend import Backend, Kernel, to_numpy
from anynn.bound_activation import BACKWARD_PATHS, BoundActivation, bind
from anynn.errors import KernelUnavailableWarning

ELEMENTWISE = ["sigmoid", "tanh", "relu", "softplus", "gelu", "silu", "elu", "mish"]


def _standard_backward(act: activations.Activation, g: Any, z: Any) -> Any:
    """``dL/dz`` from the plain derivative (``g * f'(z)``, or ``g @ J`` per sample)."""
    derivative = act.derivative(z)
    if derivative.ndim == g.ndim:
        return g * derivative
    return (g[..., None, :] @ derivative)[..., 0, :]


@pytest.mark.parametrize("name", [*ELEMENTWISE, "softmax"])
def test_bind_agrees_with_the_standard_path(backend: str, name: str) -> None:
    b = Backend(backend, "float64")
    act = activations.get(name)
    bound = bind(act, b)
    assert isinstance(bound, BoundActivation) and bound.path in BACKWARD_PATHS
    assert not bound.fused_forward  # host backends compile no kernels
    rng = np.random.default_rng(0)
    z = b.asarray(rng.normal(scale=4.0, size=(5, 3)))
    g = b.asarray(rng.normal(size=(5, 3)))
    a = bound.forward(z)
    np.testing.assert_allclose(to_numpy(a), to_numpy(act(z)), rtol=1e-12)
    np.testing.assert_allclose(
        to_numpy(bound.backward(g, z, a)), to_numpy(_standard_backward(act, g, z)),
        rtol=1e-9, atol=1e-12,
    )


def test_each_backward_path_is_chosen_where_it_applies() -> None:
    b = Backend("numpy")
    assert bind(activations.sigmoid, b).path == "from_output"
    assert bind(activations.silu, b).path == "derivative"
    assert bind(activations.get("softmax"), b).path == "vjp"
    pair = activations.get((activations.softmax_function, activations.softmax_jacobian))
    assert bind(pair, b).path == "derivative"


def test_activations_reexports_bind() -> None:
    assert activations.bind is bind


def test_dense_layers_use_the_bound_activation(backend: str) -> None:
    net = anynn.Network(2, [(3, True, "tanh"), (2, True, "softmax")], backend=backend, seed=0)
    assert [layer.bound_activation.path for layer in net.layers] == ["from_output", "vjp"]


class _PythonKernels(Backend):
    """A backend whose "compiled kernels" record their inputs, to check the wiring."""

    compiles_kernels = True

    def _compile_kernel(self, in_params: str, out_params: str, body: str, name: str) -> Kernel:
        def kernel(*arrays: Any) -> tuple[str, tuple[Any, ...]]:
            return (name, arrays)

        return kernel


def test_fused_kernels_are_used_where_the_backend_compiles_them() -> None:
    b = _PythonKernels("numpy")
    z, g, a = np.zeros(1), np.ones(1), np.full(1, 0.5)
    sigmoid = bind(activations.sigmoid, b)  # f' verified from the output: kernel(g, a)
    assert sigmoid.fused_forward and sigmoid.path == "fused"
    assert sigmoid.forward(z)[0].startswith("anynn_forward_")
    name, args = sigmoid.backward(g, z, a)
    assert name.startswith("anynn_backward_from_output_") and args[1] is a
    silu = bind(activations.silu, b)  # f' from the input: kernel(g, z)
    name, args = silu.backward(g, z, a)
    assert name.startswith("anynn_backward_") and args[1] is z


class _FailingKernels(Backend):
    compiles_kernels = True

    def _compile_kernel(self, in_params: str, out_params: str, body: str, name: str) -> Kernel:
        raise RuntimeError("nvrtc: error: simulated compile failure")


def test_a_failed_kernel_falls_back_to_the_standard_path_and_warns_once() -> None:
    b = _FailingKernels("numpy", "float64")
    act = activations.elu(alpha=0.75)
    with pytest.warns(KernelUnavailableWarning, match=r"elu\(alpha=0.75\).*simulated"):
        bound = bind(act, b)
    assert not bound.fused_forward and bound.path != "fused"
    standard = bind(act, Backend("numpy", "float64"))
    z = np.linspace(-5.0, 5.0, 11)
    g = np.ones_like(z)
    a = standard.forward(z)
    np.testing.assert_array_equal(bound.forward(z), a)
    np.testing.assert_array_equal(bound.backward(g, z, a), standard.backward(g, z, a))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        bind(act, b)  # the failure is remembered: no second warning
