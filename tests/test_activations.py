"""Activation objects: built-ins, families, get(), dtype, NaN, kinks, torch, gradcheck."""

from __future__ import annotations

import numpy as np
import pytest
import sympy

import anynn
from anynn import activations
from anynn.backend import Backend, to_numpy
from anynn.errors import ActivationError

x = sympy.Symbol("x", real=True)
ELEMENTWISE = sorted(n for n, a in activations.BUILTINS.items() if a.elementwise)
EXPECTED = {
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "selu",
    "softplus",
    "silu",
    "gelu",
    "gelu_tanh",
    "mish",
    "softsign",
    "logsigmoid",
    "hardswish",
    "hard_sigmoid",
    "relu6",
    "hardtanh",
    "celu",
    "quick_gelu",
    "tanhshrink",
    "softshrink",
    "hardshrink",
    "squareplus",
    "softmax",
}


def test_every_builtin_exists_with_name_and_expression() -> None:
    assert set(activations.BUILTINS) == EXPECTED
    for name in ELEMENTWISE:
        act = activations.get(name)
        assert act.name == name and act.builtin == name
        assert isinstance(act.expr, sympy.Expr) and act.expr.free_symbols <= {x}


def test_init_schemes() -> None:
    assert activations.relu.init == "he" and activations.leaky_relu(0.2).init == "he"
    assert activations.selu.init == "lecun"
    assert activations.sigmoid.init == activations.tanh.init == "glorot"


def test_family_default_and_parametrised_members() -> None:
    assert activations.get("leaky_relu") is activations.leaky_relu
    assert activations.leaky_relu.params == {"alpha": 0.01}
    member = activations.leaky_relu(0.2)
    assert member.builtin == "leaky_relu" and member.params == {"alpha": 0.2}
    assert member is activations.leaky_relu(alpha=0.2)  # cached
    assert activations.elu(alpha=0.5).name == "elu(alpha=0.5)"
    z = np.array([-2.0, 3.0])
    np.testing.assert_allclose(member(z), [-0.4, 3.0])
    np.testing.assert_allclose(activations.leaky_relu(z), [-0.02, 3.0])  # array: evaluates


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "relu", "gelu"])
def test_from_builtin_round_trips(name: str) -> None:
    act = activations.get(name)
    rebuilt = activations.from_builtin(act.builtin or "", act.params)
    assert rebuilt.expr == act.expr
    elu = activations.from_builtin("elu", {"alpha": 0.3})
    assert elu.params == {"alpha": 0.3} and elu.expr == activations.elu(0.3).expr


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: activations.leaky_relu(0.1, 0.2), "at most 1"),
        (lambda: activations.elu(beta=1.0), "no parameter 'beta'"),
        (lambda: activations.elu(float("nan")), "finite"),
        (lambda: activations.from_builtin("relu", {"alpha": 1.0}), "takes no parameters"),
        (lambda: activations.get("nope"), "unknown activation 'nope'"),
        (lambda: activations.get(sympy.gamma(x)), "cannot compile gamma"),
        (lambda: activations.get(x * sympy.Symbol("y")), "one free symbol.*x, y"),
        (lambda: activations.get(lambda v: sympy.log(v)), "not real at x = "),
        (lambda: activations.get(lambda v: sympy.I * v), "not real"),
        (lambda: activations.get(3 + 4j), "SymPy expression"),
    ],
)
def test_clear_errors(call: object, match: str) -> None:
    with pytest.raises(ActivationError, match=match):
        call()  # type: ignore[operator]


def test_unsupported_function_fails_at_layer_construction() -> None:
    with pytest.raises(ActivationError, match="besselj"):
        anynn.Network(2, [(3, True, lambda v: sympy.besselj(0, v))], backend="numpy")


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_float32_stays_float32_on_every_backend(backend: str, name: str) -> None:
    b = Backend(backend, "float32")
    z = b.asarray(np.linspace(-5, 5, 11))
    act = activations.get(name)
    compiled = act.compiled(b.xp)
    outputs = [act(z), act.derivative(z), compiled.f(z), compiled.df(z)]
    if compiled.df_from_output is not None:
        outputs.append(compiled.df_from_output(act(z)))
    for out in outputs:
        assert out.dtype == b.dtype and tuple(out.shape) == (11,)
    host64 = np.linspace(-5, 5, 11)
    np.testing.assert_allclose(
        to_numpy(act(z)),
        to_numpy(act(Backend(backend, "float64").asarray(host64))),
        rtol=1e-5,
        atol=1e-6,
    )


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_nan_in_nan_out(backend: str, name: str) -> None:
    b = Backend(backend, "float64")
    z = b.asarray([float("nan"), 0.0, 1.0])
    act = activations.get(name)
    assert np.isnan(to_numpy(act(z))[0]) and np.isnan(to_numpy(act.derivative(z))[0])
    from_output = act.compiled(b.xp).df_from_output
    if from_output is not None:
        assert np.isnan(to_numpy(from_output(act(z)))[0])


def test_kink_convention_left_derivative() -> None:
    zero = np.zeros(1)
    assert activations.relu.derivative(zero)[0] == 0.0
    assert activations.leaky_relu(0.1).derivative(zero)[0] == pytest.approx(0.1)
    assert activations.elu(0.5).derivative(zero)[0] == pytest.approx(0.5)
    assert activations.get(sympy.Max(0, -x)).derivative(zero)[0] == -1.0
    assert activations.get(sympy.Abs(x)).derivative(zero)[0] == -1.0
    assert activations.get(sympy.Min(0, x)).derivative(zero)[0] == 1.0


def test_erf_without_scipy_matches_scipy() -> None:
    special = pytest.importorskip("scipy.special")
    from anynn.backend import erf, erfc

    z = np.concatenate([np.linspace(-30, 30, 4001), [0.0, -0.0, 1e-300]])
    np.testing.assert_allclose(erf(z), special.erf(z), rtol=3e-15, atol=1e-300)
    np.testing.assert_allclose(erfc(z), special.erfc(z), rtol=2e-13, atol=1e-300)
    assert np.isnan(erf(np.array([np.nan]))[0]) and np.isnan(erfc(np.array([np.nan]))[0])


def torch_logaddexp0(t: object) -> object:
    """softplus exactly (torch's F.softplus switches to x above a threshold)."""
    return t.logaddexp(t.new_zeros(()))  # type: ignore[attr-defined]


TORCH_FUNCTIONS = {
    "identity": lambda t, F: t,
    "sigmoid": lambda t, F: t.sigmoid(),
    "tanh": lambda t, F: t.tanh(),
    "relu": lambda t, F: F.relu(t),
    "leaky_relu": lambda t, F: F.leaky_relu(t, 0.01),
    "elu": lambda t, F: F.elu(t),
    "selu": lambda t, F: F.selu(t),
    "softplus": lambda t, F: torch_logaddexp0(t),
    "silu": lambda t, F: F.silu(t),
    "gelu": lambda t, F: F.gelu(t),
    "gelu_tanh": lambda t, F: F.gelu(t, approximate="tanh"),
    "mish": lambda t, F: F.mish(t),
    "softsign": lambda t, F: F.softsign(t),
    "logsigmoid": lambda t, F: F.logsigmoid(t),
    "hardswish": lambda t, F: F.hardswish(t),
    "hard_sigmoid": lambda t, F: F.relu6(t + 3) / 6,  # F.hardsigmoid: grad 1/6 in float32
    "relu6": lambda t, F: F.relu6(t),
    "hardtanh": lambda t, F: F.hardtanh(t),
    "celu": lambda t, F: F.celu(t),
    "quick_gelu": lambda t, F: t * (1.702 * t).sigmoid(),
    "tanhshrink": lambda t, F: F.tanhshrink(t),
    "softshrink": lambda t, F: F.softshrink(t),
    "hardshrink": lambda t, F: F.hardshrink(t),
    "squareplus": lambda t, F: (  # without cancellation on either side
        (t > 0) * (t + (t * t + 4).sqrt()) / 2 + (t <= 0) * 2 / ((t * t + 4).sqrt() - t)
    ),
}


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_values_and_derivatives_match_torch_autograd(name: str) -> None:
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    z = np.concatenate([np.linspace(-60, 60, 241), [-700.0, -1e4, 1e4]])
    z = z[(z != 0.0) & (np.abs(z) != 3.0) & (np.abs(z) != 0.5) & (z != 6.0)]  # kinks
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    out = TORCH_FUNCTIONS[name](t, F)
    (grad,) = torch.autograd.grad(out.sum(), t)
    act = activations.get(name)
    # atol: the documented absolute floor of the float64 criterion is 7e-15
    np.testing.assert_allclose(act(z), out.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(act.derivative(z), grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "fn",
    [
        *ELEMENTWISE,
        activations.leaky_relu(0.2),
        activations.elu(0.7),
        lambda v: v * sympy.exp(-(v**2)) + v,
    ],
)
def test_gradcheck_network_with_activation(fn: object) -> None:
    rng = np.random.default_rng(0)
    net = anynn.Network(
        3, [(4, True, fn), (2, True, "identity")], backend="numpy", dtype="float64", seed=1
    )
    X = rng.normal(size=(6, 3))
    z = X @ to_numpy(net.layers[0].weights) + to_numpy(net.layers[0].biases)
    assert np.min(np.abs(z)) > 1e-4  # no pre-activation at a kink
    y = rng.normal(size=(6, 2))
    assert anynn.gradcheck(net, X, y, epsilon=1e-5) < 1e-6


def test_softmax_vjp_equals_the_jacobian_product(backend: str) -> None:
    from anynn.activations import softmax_function, softmax_jacobian, softmax_vjp

    bk = anynn.Backend(backend, "float64")
    rng = np.random.default_rng(3)
    z, g = bk.asarray(rng.normal(size=(6, 5))), bk.asarray(rng.normal(size=(6, 5)))
    through_jacobian = (g[:, None, :] @ softmax_jacobian(z))[:, 0, :]
    np.testing.assert_allclose(
        anynn.to_numpy(softmax_vjp(softmax_function(z), g)),
        anynn.to_numpy(through_jacobian),
        atol=1e-15,
    )


def test_a_family_called_with_a_non_number_is_an_anynn_error() -> None:
    with pytest.raises(ActivationError, match="takes numeric parameters"):
        activations.leaky_relu("a")
