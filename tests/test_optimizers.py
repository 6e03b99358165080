"""Optimizers: update rules against torch.optim and a plain NumPy reference."""

from __future__ import annotations

import numpy as np
import pytest

import anynn as nn
from anynn import optimizers as opt
from anynn.backend import Backend, to_numpy
from anynn.layers import Parameter

SHAPES = [(3, 4), (4,)]
STEPS = 5


def _grads(seed: int = 1) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(STEPS)]


def _initial() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.standard_normal(s) for s in SHAPES]


def run_anynn(optimizer: opt.Optimizer, backend: str, steps: int = STEPS) -> list[np.ndarray]:
    be = Backend(backend, "float64")
    params = [Parameter(be.asarray(w), f"p{i}") for i, w in enumerate(_initial())]
    for grads in _grads()[:steps]:
        for p, g in zip(params, grads, strict=True):
            p.grad = be.asarray(g)
        optimizer.step(params)
    return [to_numpy(p.value) for p in params]


# -- plain NumPy references (PyTorch's documented algorithms) ---------------------------
def ref_sgd(lr, momentum=0.0, nesterov=False, weight_decay=0.0, steps=STEPS):
    ws = [w.copy() for w in _initial()]
    bufs = [None] * len(ws)
    for grads in _grads()[:steps]:
        for i, g in enumerate(grads):
            g = g + weight_decay * ws[i]
            if momentum:
                bufs[i] = g.copy() if bufs[i] is None else momentum * bufs[i] + g
                g = g + momentum * bufs[i] if nesterov else bufs[i]
            ws[i] = ws[i] - lr * g
    return ws


def ref_adam(lr, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False, steps=STEPS):
    ws = [w.copy() for w in _initial()]
    m = [np.zeros_like(w) for w in ws]
    v = [np.zeros_like(w) for w in ws]
    for t, grads in enumerate(_grads()[:steps], start=1):
        for i, g in enumerate(grads):
            if decoupled:
                ws[i] = ws[i] * (1 - lr * weight_decay)
            else:
                g = g + weight_decay * ws[i]
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            mhat = m[i] / (1 - b1**t)
            vhat = v[i] / (1 - b2**t)
            ws[i] = ws[i] - lr * mhat / (np.sqrt(vhat) + eps)
    return ws


def ref_rmsprop(lr, rho=0.99, eps=1e-8, momentum=0.0, weight_decay=0.0, steps=STEPS):
    ws = [w.copy() for w in _initial()]
    s = [np.zeros_like(w) for w in ws]
    b = [np.zeros_like(w) for w in ws]
    for grads in _grads()[:steps]:
        for i, g in enumerate(grads):
            g = g + weight_decay * ws[i]
            s[i] = rho * s[i] + (1 - rho) * g * g
            upd = g / (np.sqrt(s[i]) + eps)
            if momentum:
                b[i] = momentum * b[i] + upd
                upd = b[i]
            ws[i] = ws[i] - lr * upd
    return ws


CASES = [
    (lambda: opt.SGD(0.1), lambda: ref_sgd(0.1)),
    (lambda: opt.SGD(0.1, momentum=0.9), lambda: ref_sgd(0.1, 0.9)),
    (
        lambda: opt.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda: ref_sgd(0.1, 0.9, True, 0.01),
    ),
    (lambda: opt.Adam(0.01), lambda: ref_adam(0.01)),
    (lambda: opt.Adam(0.01, weight_decay=0.1), lambda: ref_adam(0.01, weight_decay=0.1)),
    (lambda: opt.AdamW(0.01), lambda: ref_adam(0.01, weight_decay=1e-2, decoupled=True)),
    (lambda: opt.RMSprop(0.01), lambda: ref_rmsprop(0.01)),
    (
        lambda: opt.RMSprop(0.01, momentum=0.5, weight_decay=0.1),
        lambda: ref_rmsprop(0.01, momentum=0.5, weight_decay=0.1),
    ),
]


@pytest.mark.parametrize("case", range(len(CASES)))
def test_matches_numpy_reference(case: int, backend: str) -> None:
    make, ref = CASES[case]
    got = run_anynn(make(), backend)
    for g, r in zip(got, ref(), strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-12, atol=1e-12)


TORCH_CASES = [
    (lambda: opt.SGD(0.1), "SGD", {"lr": 0.1}),
    (
        lambda: opt.SGD(0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        "SGD",
        {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
    ),
    (lambda: opt.Adam(), "Adam", {}),
    (lambda: opt.Adam(0.01, weight_decay=0.1), "Adam", {"lr": 0.01, "weight_decay": 0.1}),
    (lambda: opt.AdamW(), "AdamW", {}),
    (
        lambda: opt.AdamW(0.05, beta1=0.8, beta2=0.9, eps=1e-6, weight_decay=0.3),
        "AdamW",
        {"lr": 0.05, "betas": (0.8, 0.9), "eps": 1e-6, "weight_decay": 0.3},
    ),
    (lambda: opt.RMSprop(), "RMSprop", {}),
    (
        lambda: opt.RMSprop(0.01, rho=0.9, momentum=0.5, weight_decay=0.1),
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.1},
    ),
]


@pytest.mark.parametrize("steps", [1, STEPS])
@pytest.mark.parametrize("case", range(len(TORCH_CASES)))
def test_matches_torch(case: int, steps: int) -> None:
    torch = pytest.importorskip("torch")
    make, name, kwargs = TORCH_CASES[case]
    tparams = [torch.tensor(w, requires_grad=True) for w in _initial()]
    topt = getattr(torch.optim, name)(tparams, **kwargs)
    for grads in _grads()[:steps]:
        for p, g in zip(tparams, grads, strict=True):
            p.grad = torch.tensor(g)
        topt.step()
    got = run_anynn(make(), "numpy", steps)
    for g, t in zip(got, tparams, strict=True):
        np.testing.assert_allclose(g, t.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_defaults_equal_torch() -> None:
    torch = pytest.importorskip("torch")
    w = [torch.zeros(1, requires_grad=True)]
    adam = torch.optim.Adam(w).defaults
    assert (opt.Adam().lr, (opt.Adam().beta1, opt.Adam().beta2), opt.Adam().eps) == (
        adam["lr"],
        adam["betas"],
        adam["eps"],
    )
    adamw = torch.optim.AdamW(w).defaults
    assert (opt.AdamW().lr, opt.AdamW().weight_decay) == (adamw["lr"], adamw["weight_decay"])
    rms = torch.optim.RMSprop(w).defaults
    r = opt.RMSprop()
    assert (r.lr, r.rho, r.eps, r.momentum) == (
        rms["lr"],
        rms["alpha"],
        rms["eps"],
        rms["momentum"],
    )
    sgd = torch.optim.SGD(w, lr=0.1).defaults
    s = opt.SGD(0.1)
    assert (s.momentum, s.nesterov, s.weight_decay) == (
        sgd["momentum"],
        sgd["nesterov"],
        sgd["weight_decay"],
    )


@pytest.mark.parametrize(
    ("make", "lr", "config"),
    [
        (opt.SGD, 0.01, {"momentum": 0.0, "nesterov": False, "weight_decay": 0.0}),
        (opt.Adam, 1e-3, {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0}),
        (opt.AdamW, 1e-3, {"beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 1e-2}),
        (opt.RMSprop, 1e-2, {"rho": 0.99, "eps": 1e-8, "momentum": 0.0, "weight_decay": 0.0}),
    ],
)
def test_documented_defaults(make: type, lr: float, config: dict) -> None:
    """PyTorch's defaults written as literals (SGD's lr is the issue's 0.01): no torch needed."""
    optimizer = make()
    assert optimizer.lr == lr
    assert optimizer.config() == config


def test_state_lives_on_backend(backend: str) -> None:
    optimizer = opt.Adam(0.01)
    run_anynn(optimizer, backend, 1)
    be = Backend(backend, "float64")
    assert all(be.owns(a) for arrays in optimizer._state.values() for a in arrays)


def test_state_dict_round_trip_continues_exactly(backend: str) -> None:
    first = opt.Adam(0.01, weight_decay=0.1)
    be = Backend(backend, "float64")
    params = [Parameter(be.asarray(w), f"p{i}") for i, w in enumerate(_initial())]
    grads = _grads()
    for step in range(2):
        for p, g in zip(params, grads[step], strict=True):
            p.grad = be.asarray(g)
        first.step(params)
    state = first.state_dict()
    assert state["iterations"] == 2 and set(state["arrays"]) == {
        "exp_avg.p0",
        "exp_avg.p1",
        "exp_avg_sq.p0",
        "exp_avg_sq.p1",
    }
    assert all(isinstance(a, np.ndarray) for a in state["arrays"].values())
    second = opt.from_state(state, be)
    assert second.config() == first.config() and second.iterations == 2
    for step in range(2, STEPS):
        for p, g in zip(params, grads[step], strict=True):
            p.grad = be.asarray(g)
        second.step(params)
    for g, r in zip(
        (to_numpy(p.value) for p in params), ref_adam(0.01, weight_decay=0.1), strict=True
    ):
        np.testing.assert_allclose(g, r, rtol=1e-12)


def test_schedule_state_round_trip() -> None:
    sgd = opt.SGD(nn.schedules.StepDecay(0.1, every=2, factor=0.5), momentum=0.9)
    state = sgd.state_dict()
    again = opt.from_state(state, Backend("numpy"))
    assert isinstance(again.lr, nn.schedules.StepDecay) and again.lr(3) == 0.05


def test_schedule_applied_per_step() -> None:
    seen: list[int] = []

    def schedule(step: int) -> float:
        seen.append(step)
        return 0.1 / (1 + step)

    run_anynn(opt.SGD(schedule), "numpy", 3)
    assert seen == [0, 1, 2]
    got = run_anynn(opt.SGD(schedule), "numpy", 3)
    ws = _initial()
    for t, grads in enumerate(_grads()[:3]):
        ws = [w - 0.1 / (1 + t) * g for w, g in zip(ws, grads, strict=True)]
    for g, r in zip(got, ws, strict=True):
        np.testing.assert_allclose(g, r, rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda: opt.SGD(0.0),
        lambda: opt.SGD(-1),
        lambda: opt.SGD(0.1, momentum=1.0),
        lambda: opt.SGD(0.1, nesterov=True),
        lambda: opt.Adam(beta1=1.0),
        lambda: opt.Adam(eps=-1),
        lambda: opt.AdamW(weight_decay=-0.1),
        lambda: opt.RMSprop(rho=1.5),
        lambda: opt.SGD(float("nan")),
        lambda: opt.SGD("0.1"),
    ],
)
def test_bad_arguments(make) -> None:
    with pytest.raises(nn.AnynnError):
        make()


def test_unknown_name_and_foreign_state() -> None:
    with pytest.raises(nn.AnynnValueError, match="unknown optimizer"):
        opt.get("adagrad")
    with pytest.raises(nn.AnynnValueError, match="not a 'sgd'"):
        opt.SGD().load_state_dict(opt.Adam().state_dict(), Backend("numpy"))
    with pytest.raises(nn.AnynnValueError, match="unknown optimizer"):
        opt.from_state({"name": "lbfgs"}, Backend("numpy"))


def test_optimizer_refuses_parameters_of_other_shapes() -> None:
    adam = opt.Adam()
    run_anynn(adam, "numpy", 1)
    p = Parameter(np.zeros((2, 2)), "q")
    p.grad = np.ones((2, 2))
    with pytest.raises(nn.AnynnValueError, match="own optimizer"):
        adam.prepare([p, p])
