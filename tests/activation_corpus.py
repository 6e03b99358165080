"""A corpus of published elementwise activations, written naively in plain SymPy.

Each entry is ``(name, expression, expected)`` with ``expected`` one of ``"accepted"``
(verified finite and accurate in float32 and float64 over [-1e4, 1e4]), ``"warns"``
(accepted, with an :class:`~anynn.errors.ActivationWarning`: its derivative vanishes
everywhere) or ``"refused"`` (an :class:`~anynn.errors.ActivationError`). Sources:
PyTorch's ``torch.nn`` elementwise activations (defaults and other parameters) and the
papers that introduced the others; each is written as a user would type it, not in a
numerically careful form.
"""

from __future__ import annotations

import sympy
from sympy import Abs, Max, Min, Piecewise, Rational, cos, erf, exp, log, sin, sqrt, tanh

x = sympy.Symbol("x", real=True)
F = sympy.Float


def sigmoid(u: sympy.Expr) -> sympy.Expr:
    return 1 / (1 + exp(-u))


def softplus(u: sympy.Expr) -> sympy.Expr:
    return log(1 + exp(u))


SELU_A, SELU_L = F("1.6732632423543772848"), F("1.0507009873554804934")
SERLU_L, SERLU_A = F("1.07862"), F("2.90427")

CORPUS: list[tuple[str, sympy.Expr, str]] = [
    # torch.nn, default parameters
    ("ELU", Piecewise((x, x > 0), (exp(x) - 1, True)), "accepted"),
    ("Hardshrink", Piecewise((x, x > F(0.5)), (x, x < -F(0.5)), (0, True)), "accepted"),
    ("Hardsigmoid", Max(0, Min(1, x / 6 + Rational(1, 2))), "accepted"),
    ("Hardtanh", Max(-1, Min(1, x)), "accepted"),
    ("Hardswish", x * Max(0, Min(1, x / 6 + Rational(1, 2))), "accepted"),
    ("Hardswish_relu6", x * Min(Max(x + 3, 0), 6) / 6, "accepted"),
    ("LeakyReLU", Max(x, F(0.01) * x), "accepted"),
    ("LogSigmoid", log(sigmoid(x)), "accepted"),
    ("PReLU", Piecewise((x, x >= 0), (F(0.25) * x, True)), "accepted"),
    ("ReLU", Max(0, x), "accepted"),
    ("ReLU6", Min(Max(0, x), 6), "accepted"),
    ("RReLU_eval", Piecewise((x, x >= 0), ((Rational(1, 8) + Rational(1, 3)) / 2 * x, True)),
     "accepted"),
    ("SELU", SELU_L * Piecewise((x, x > 0), (SELU_A * (exp(x) - 1), True)), "accepted"),
    ("CELU", Max(0, x) + Min(0, exp(x) - 1), "accepted"),
    ("GELU", x / 2 * (1 + erf(x / sqrt(2))), "accepted"),
    ("GELU_tanh", x / 2 * (1 + tanh(sqrt(2 / sympy.pi) * (x + F("0.044715") * x**3))),
     "accepted"),
    ("Sigmoid", sigmoid(x), "accepted"),
    ("SiLU", x * sigmoid(x), "accepted"),
    ("Mish", x * tanh(softplus(x)), "accepted"),
    ("Softplus", softplus(x), "accepted"),
    ("Softshrink", Piecewise((x - F(0.5), x > F(0.5)), (x + F(0.5), x < -F(0.5)), (0, True)),
     "accepted"),
    ("Softsign", x / (1 + Abs(x)), "accepted"),
    ("Tanh", tanh(x), "accepted"),
    ("Tanhshrink", x - tanh(x), "accepted"),
    ("Threshold", Piecewise((x, x > F(0.1)), (20, True)), "accepted"),
    # torch.nn, other parameters
    ("ELU_alpha0.5", Piecewise((x, x > 0), (F(0.5) * (exp(x) - 1), True)), "accepted"),
    ("CELU_alpha2", Max(0, x) + Min(0, 2 * (exp(x / 2) - 1)), "accepted"),
    ("Hardtanh_-2_2", Max(-2, Min(2, x)), "accepted"),
    ("LeakyReLU_0.2", Max(x, F(0.2) * x), "accepted"),
    ("Softplus_beta2", softplus(2 * x) / 2, "accepted"),
    ("Softplus_beta0.5", 2 * softplus(x / 2), "accepted"),
    ("Softshrink_1", Piecewise((x - 1, x > 1), (x + 1, x < -1), (0, True)), "accepted"),
    ("Hardshrink_1", Piecewise((x, Abs(x) > 1), (0, True)), "accepted"),
    # papers
    ("quick_GELU", x * sigmoid(F("1.702") * x), "accepted"),
    ("swish_beta0.5", x * sigmoid(x / 2), "accepted"),
    ("swish_beta2", x * sigmoid(2 * x), "accepted"),
    ("E-swish", F("1.375") * x * sigmoid(x), "accepted"),
    ("Logish", x * log(1 + sigmoid(x)), "accepted"),
    ("Smish", x * tanh(log(1 + sigmoid(x))), "accepted"),
    ("Serf", x * erf(softplus(x)), "accepted"),
    ("ELiSH", Piecewise((x * sigmoid(x), x >= 0), ((exp(x) - 1) * sigmoid(x), True)),
     "accepted"),
    ("HardELiSH", Piecewise((x * Max(0, Min(1, (x + 1) / 2)), x >= 0),
                            ((exp(x) - 1) * Max(0, Min(1, (x + 1) / 2)), True)), "accepted"),
    ("SERLU", Piecewise((SERLU_L * x, x >= 0), (SERLU_L * SERLU_A * x * exp(x), True)),
     "accepted"),
    ("ISRU", x / sqrt(1 + x**2), "accepted"),
    ("ISRLU", Piecewise((x, x >= 0), (x / sqrt(1 + 3 * x**2), True)), "accepted"),
    ("Snake", x + sin(x) ** 2, "accepted"),
    ("Snake_a0.5", x + sin(x / 2) ** 2 * 2, "accepted"),
    ("GCU", x * cos(x), "accepted"),
    ("bipolar_sigmoid", (1 - exp(-x)) / (1 + exp(-x)), "accepted"),
    ("sech", 2 / (exp(x) + exp(-x)), "accepted"),
    ("loglog", exp(-exp(-x)), "accepted"),
    ("cloglog", 1 - exp(-exp(x)), "accepted"),
    ("TanhExp", x * tanh(exp(x)), "accepted"),
    ("squareplus", (x + sqrt(x**2 + 4)) / 2, "accepted"),
    ("PFLU", x * (1 + x / sqrt(1 + x**2)) / 2, "accepted"),
    ("soft_clipping", log((1 + exp(x)) / (1 + exp(x - 1))), "accepted"),
    ("soft_clipping_a2", log((1 + exp(2 * x)) / (1 + exp(2 * (x - 1)))) / 2, "accepted"),
    ("LiSHT", x * tanh(x), "accepted"),
    ("bent_identity", (sqrt(x**2 + 1) - 1) / 2 + x, "accepted"),
    ("gaussian", exp(-(x**2)), "accepted"),
    ("sinusoid", sin(x), "accepted"),
    ("arctan", sympy.atan(x), "accepted"),
    ("asinh", sympy.asinh(x), "accepted"),
    ("SQNL", Piecewise((1, x > 2), (x - x**2 / 4, x >= 0), (x + x**2 / 4, x >= -2), (-1, True)),
     "accepted"),
    ("StarReLU", F("0.8944") * Max(0, x) ** 2 - F("0.4472"), "accepted"),
    ("shifted_softplus", log(exp(x) / 2 + Rational(1, 2)), "accepted"),
    ("softplus_plus_tanh", softplus(x) + tanh(x), "accepted"),
    ("sigmoid_via_tanh", (1 + tanh(x / 2)) / 2, "accepted"),
    ("keras_hard_sigmoid", Max(0, Min(1, F(0.2) * x + F(0.5))), "accepted"),
    ("mish_beta2", x * tanh(softplus(2 * x) / 2), "accepted"),
    ("naive_logsigmoid_neg", -log(1 + exp(-x)), "accepted"),
    ("exponential", exp(x), "accepted"),
    # expected warnings and refusals
    ("sign", sympy.sign(x), "warns"),
    ("heaviside_step", Piecewise((1, x > 0), (0, True)), "warns"),
    ("undefined_piecewise", Piecewise((x, x > 0)), "refused"),
    ("log_of_x", log(x), "refused"),
]
"""The corpus: (name, naive SymPy expression in ``x``, expected behaviour)."""
