"""Activation engine v2: bounded time, self-contained verification, errors and warnings,
and the new parametrised built-ins (issue 10)."""

from __future__ import annotations

import hashlib
import json
import struct
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy
from repo_env import repo_env

import anynn
from anynn import activations
from anynn.backend import to_numpy
from anynn.errors import ActivationError, ActivationWarning, ModelFileError
from anynn.symbolic import budget, stability

x = sympy.Symbol("x", real=True)
HOSTILE_TERMS = 52
WALL_LIMIT = 30.0  # seconds, generous: the machine running the tests may be shared


def hostile_file(folder: Path) -> Path:
    """The user trial's 4 KB file: a sum of 52 tanh terms, inside the format's limits."""
    base, path = folder / "base.anynn", folder / "hostile.anynn"
    anynn.Network(2, [(3, True, x * sympy.tanh(x)), 1], seed=0).save(base)
    raw = base.read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    header, data = json.loads(raw[8 : 8 + n]), raw[8 + n :]
    model = json.loads(header["__metadata__"]["model"])
    model["layers"][0]["activation"] = {"expression": ["Add"] + [
        ["tanh", ["Mul", ["Rational", i + 1, 7], ["Symbol", "x"]]] for i in range(HOSTILE_TERMS)
    ]}
    text = json.dumps(model, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()
    header["__metadata__"].update(model=text, model_sha256=digest)
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + data)
    return path


def test_hostile_file_loads_and_is_listed_in_bounded_time(tmp_path: Path) -> None:
    path = hostile_file(tmp_path)
    script = textwrap.dedent(
        f"""
        import time, anynn
        start = time.perf_counter()
        try:
            anynn.load({str(path)!r})
            outcome = "network"
        except anynn.ModelFileError:
            outcome = "ModelFileError"
        print(outcome, time.perf_counter() - start)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=repo_env(),
        timeout=120, check=True,
    )
    outcome, seconds = result.stdout.split()
    assert outcome in {"network", "ModelFileError"} and float(seconds) < WALL_LIMIT
    start = time.perf_counter()
    info = subprocess.run(
        [sys.executable, "-m", "anynn", "info", str(path)], capture_output=True, text=True,
        env=repo_env(), timeout=120, check=False,
    )
    assert time.perf_counter() - start < WALL_LIMIT
    assert "tanh(x/7)" in info.stdout


def test_every_step_is_under_the_cpu_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(budget, "VERIFY_SECONDS", 0.0)
    with pytest.raises(ActivationError, match=r"took more than 0 s \(stopped during"):
        stability.stable_form(x * sympy.tanh(x) + x / 11, x)


@pytest.mark.parametrize(
    "expr",
    [
        sympy.Add(*[sympy.tanh(sympy.Rational(i + 1, 7) * x) for i in range(HOSTILE_TERMS)]),
        sympy.Add(*[sympy.log(1 + sympy.exp(sympy.Rational(i + 1, 3) * x)) for i in range(40)]),
        sympy.Add(*[x**3 / (1 + sympy.exp(-x * sympy.Rational(k, 4))) for k in range(1, 30)]),
    ],
    ids=["52_tanh", "40_softplus_rates", "29_sigmoid_rates"],
)
def test_large_expressions_are_decided_within_the_budget(expr: sympy.Expr) -> None:
    start = time.thread_time()
    try:
        stability.stable_form(expr, x)
    except ActivationError:
        pass
    assert time.thread_time() - start < budget.VERIFY_SECONDS + 1.0


def test_a_typical_new_expression_verifies_well_under_a_second() -> None:
    start = time.thread_time()
    stability.stable_form(x * sympy.tanh(sympy.log(1 + sympy.exp(x))) + x / 13, x)
    assert time.thread_time() - start < 1.0


@pytest.mark.parametrize("dps", [5, 15, 50])
def test_verdict_ignores_the_callers_mpmath_precision(
    dps: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    expr = x * sympy.Max(0, sympy.Min(1, x / 6 + sympy.Rational(1, 2)))  # a kink at -3
    monkeypatch.setattr(stability, "_FORMS", {})
    monkeypatch.setattr(mpmath.mp, "dps", dps)
    assert stability.stable_form(expr, x).key.endswith("|f:direct|df:direct|nan(False, False)")


def test_at_a_kink_either_one_sided_derivative_is_accepted() -> None:
    """0.2 is not 1/5 in binary: float32 puts the kink of 0.2x + 0.5 = 1 beside x = 2.5."""
    act = activations.get(sympy.Max(0, sympy.Min(1, sympy.Float(0.2) * x + sympy.Float(0.5))))
    slopes = act.derivative(np.array([2.5], dtype=np.float32))
    assert slopes[0] in (np.float32(0.0), np.float32(0.2))


def test_piecewise_with_an_undefined_region_says_where() -> None:
    with pytest.raises(ActivationError, match=r"undefined for x in Interval\(-oo, 0\)"):
        anynn.Network(3, [(4, True, sympy.Piecewise((x, x > 0)))])


def test_piecewise_covering_every_real_needs_no_default() -> None:
    act = activations.get(sympy.Piecewise((x, x > 0), (x / 4, x <= 0)))
    np.testing.assert_allclose(act(np.array([-2.0, 2.0])), [-0.5, 2.0])


@pytest.mark.parametrize("expr", [sympy.sign(x), sympy.Heaviside(x), sympy.Integer(1), 0 * x])
def test_vanishing_derivative_warns_at_construction(expr: sympy.Expr) -> None:
    with pytest.warns(ActivationWarning, match="layers below it will not learn"):
        anynn.Network(3, [(4, True, expr), 1])


def test_builtins_do_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for act in activations.BUILTINS.values():
            if act.elementwise:
                _ = act.form


def _softmax_df(z: object) -> object:
    return activations.softmax_jacobian(z)


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        ((np.tanh, lambda z: 1.0), r"df\(z\) must return an array of the layer's namespace"),
        ((np.tanh, lambda z: np.ones((z.shape[0], 1), z.dtype)), r"shape \(2, 3\) or \(2, 3, 3\)"),
        ((lambda z: list(z), np.ones_like), r"f\(z\) must return an array"),
        ((lambda z: z.astype(np.float64), np.ones_like), "dtype float32"),
        ((lambda z: z[:, :1], np.ones_like), r"shape \(2, 3\)"),
        ((lambda z: 1 / 0, np.ones_like), r"f\(z\) raised ZeroDivisionError"),
    ],
)
def test_bad_pairs_are_refused_at_layer_construction(pair: tuple, message: str) -> None:
    with pytest.raises(ActivationError, match=message):
        anynn.Network(3, [(3, True, pair)])


def test_good_pairs_pass_the_probe(backend: str) -> None:
    net = anynn.Network(
        3, [(3, True, (activations.softmax_function, _softmax_df))], backend=backend
    )
    assert net.predict(np.ones((2, 3), np.float32)).shape == (2, 3)


# -- the new built-ins -------------------------------------------------------------------
MEMBERS = [
    activations.celu(2.0), activations.softplus(beta=2.0), activations.silu(0.5),
    activations.hardtanh(-2.0, 3.0), activations.softshrink(1.0), activations.hardshrink(1.0),
    activations.squareplus(1.0),
]


def test_parameters_follow_pytorch_names_and_defaults() -> None:
    assert activations.celu.params == {"alpha": 1.0}
    assert activations.softplus.params == {"beta": 1.0}
    assert activations.silu.params == {"beta": 1.0}
    assert activations.hardtanh.params == {"min_val": -1.0, "max_val": 1.0}
    assert activations.softshrink.params == activations.hardshrink.params == {"lambd": 0.5}
    assert activations.squareplus.params == {"b": 4.0}
    assert activations.get("hardsigmoid") is activations.hard_sigmoid
    assert activations.get("swish") is activations.silu


@pytest.mark.parametrize(
    ("family", "params", "message"),
    [
        ("celu", {"alpha": 0.0}, "alpha must not be 0"),
        ("hardtanh", {"min_val": 1.0, "max_val": 1.0}, "must be < max_val"),
        ("softplus", {"beta": -1.0}, "beta must be > 0"),
        ("softshrink", {"lambd": -0.5}, "lambd must be >= 0"),
        ("squareplus", {"b": -1.0}, "b must be >= 0"),
    ],
)
def test_bad_parameters_are_refused(family: str, params: dict, message: str) -> None:
    with pytest.raises(ActivationError, match=message):
        activations.from_builtin(family, params)


TORCH_MEMBERS = {
    "celu(alpha=2.0)": lambda t, F: F.celu(t, 2.0),
    "softplus(beta=2.0)": lambda t, F: t.mul(2).logaddexp(t.new_zeros(())) / 2,
    "silu(beta=0.5)": lambda t, F: t * (0.5 * t).sigmoid(),
    "hardtanh(min_val=-2.0, max_val=3.0)": lambda t, F: F.hardtanh(t, -2.0, 3.0),
    "softshrink(lambd=1.0)": lambda t, F: F.softshrink(t, 1.0),
    "hardshrink(lambd=1.0)": lambda t, F: F.hardshrink(t, 1.0),
    "squareplus(b=1.0)": lambda t, F: (
        (t > 0) * (t + (t * t + 1).sqrt()) / 2 + (t <= 0) * 0.5 / ((t * t + 1).sqrt() - t)
    ),
}


@pytest.mark.parametrize("act", MEMBERS, ids=[a.name for a in MEMBERS])
def test_members_match_torch_autograd(act: activations.Activation) -> None:
    torch = pytest.importorskip("torch")
    z = np.concatenate([np.linspace(-60, 60, 241) + 0.013, [-700.0, -1e4, 1e4]])
    t = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    out = TORCH_MEMBERS[act.name](t, torch.nn.functional)
    (grad,) = torch.autograd.grad(out.sum(), t)
    np.testing.assert_allclose(act(z), out.detach().numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(act.derivative(z), grad.numpy(), rtol=1e-9, atol=1e-12)


NEW_BUILTINS = [
    "hardswish", "hard_sigmoid", "relu6", "hardtanh", "celu", "softplus", "silu",
    "quick_gelu", "tanhshrink", "softshrink", "hardshrink", "squareplus",
]


@pytest.mark.parametrize(
    "fn", NEW_BUILTINS + MEMBERS, ids=NEW_BUILTINS + [a.name for a in MEMBERS]
)
def test_gradcheck_network_with_new_builtin(fn: object, backend: str) -> None:
    rng = np.random.default_rng(5)
    net = anynn.Network(
        3, [(4, True, fn), (2, True, "identity")], backend=backend, dtype="float64", seed=2
    )
    X = rng.normal(size=(6, 3)) * 2.0
    z = X @ to_numpy(net.layers[0].weights) + to_numpy(net.layers[0].biases)
    kinks = np.array([0.0, 0.5, 1.0, 2.0, 3.0, 6.0])
    assert np.min(np.abs(np.abs(z)[..., None] - kinks)) > 1e-4  # no pre-activation at a kink
    y = rng.normal(size=(6, 2))
    assert anynn.gradcheck(net, X, y, epsilon=1e-6) < 1e-6


def test_model_file_keeps_member_parameters(tmp_path: Path) -> None:
    net = anynn.Network(2, [(3, True, activations.squareplus(1.0)), 1], seed=0)
    net.save(tmp_path / "m.anynn")
    loaded = anynn.load(tmp_path / "m.anynn")
    assert loaded.layers[0].activation is activations.squareplus(1.0)
    with pytest.raises(ModelFileError):
        (tmp_path / "bad.anynn").write_bytes(b"nope")
        anynn.load(tmp_path / "bad.anynn")


def test_a_step_that_never_returns_is_interrupted(monkeypatch: pytest.MonkeyPatch) -> None:
    """The watchdog interrupts work between the budget's own checks (a SymPy step)."""

    def spin(expr: sympy.Expr) -> None:
        while True:
            pass

    monkeypatch.setattr(budget, "VERIFY_SECONDS", 0.1)
    monkeypatch.setattr(stability, "check_supported", spin)
    start = time.thread_time()
    with pytest.raises(ActivationError, match=r"took more than 0.1 s \(interrupted\)"):
        stability.stable_form(x * sympy.tanh(x) + x / 17, x)
    assert time.thread_time() - start < 0.1 + budget.HARD_LIMIT_GRACE + 1.0


# -- the strategies, one by one ----------------------------------------------------------
def test_common_rate_of_commensurable_exponentials() -> None:
    from anynn.symbolic.exp_rewrite import common_rate

    assert common_rate({1.0, 0.5}) == (0.5, {1.0: 2, 0.5: 1})
    assert common_rate({1.702}) == (1.702, {1.702: 1})
    assert common_rate({1.0, 2**0.5}) is None  # incommensurable: no single t


def test_cancellation_rules() -> None:
    from sympy.codegen.cfunctions import expm1, log1p

    from anynn.symbolic.cancellation import remove_cancellation

    assert remove_cancellation(2 * (sympy.exp(x / 2) - 1)) == 2 * expm1(x / 2)
    assert remove_cancellation(1 - sympy.exp(-sympy.exp(x))) == -expm1(-sympy.exp(x))
    assert remove_cancellation(sympy.log(1 + x**2)) == log1p(x**2)
    conjugate = remove_cancellation(x + sympy.sqrt(x**2 + 4))
    assert isinstance(conjugate, sympy.Piecewise)
    assert conjugate.args[1][0] == -4 / (x - sympy.sqrt(x**2 + 4))


def test_affine_tails_come_from_the_reference() -> None:
    from anynn.symbolic.reference import PROBE_POINTS, reference_values
    from anynn.symbolic.tails import affine_tails

    expr = x * sympy.tanh(sympy.exp(x))
    left, right = affine_tails(
        PROBE_POINTS, reference_values(expr, x), reference_values(sympy.diff(expr, x), x)
    )
    assert right is not None and 1.0 <= right.start <= 8.0 and right.slope == pytest.approx(1.0)
    assert left is not None and left.value == pytest.approx(0.0, abs=1e-12)
    assert affine_tails(PROBE_POINTS, reference_values(sympy.sin(x), x),
                        reference_values(sympy.cos(x), x)) == (None, None)


def test_a_sum_with_an_overflowing_term_is_rewritten_per_term() -> None:
    expr = sympy.Add(*[sympy.log(1 + sympy.exp(k * x / 3)) for k in range(1, 13)])
    form = stability.stable_form(expr, x)
    assert "per-term" in form.key and len(form.bindings) == 12
