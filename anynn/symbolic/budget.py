"""Bounded verification: a time budget per activation and size limits on SymPy steps.

Verifying or refusing an expression must take a bounded time whatever the expression
(a model file is untrusted input). Two guards do it:

- :class:`Budget`: a deadline of :data:`VERIFY_SECONDS` of the verifying thread's CPU
  time (so other threads and processes sharing the machine do not count) for one
  :func:`stable_form` call, checked between steps and inside the reference loops; past
  it the expression is refused with an :class:`~anynn.errors.ActivationError`;
- :func:`small_enough`: SymPy simplification (``cancel``, ``factor``, ``solve``) only runs
  on expressions of at most :data:`MAX_SIMPLIFY_NODES` nodes, since those steps can blow
  up exponentially and cannot be interrupted. Larger expressions skip that rewrite.
"""

from __future__ import annotations

import time

import sympy

from ..errors import ActivationError

VERIFY_SECONDS = 5.0
"""Most seconds one activation's verification (all strategies) may take."""

MAX_SIMPLIFY_NODES = 120
"""Largest expression (in tree nodes) a SymPy simplification step is run on."""


class Budget:
    """The deadline of one verification.

    Parameters
    ----------
    expr : sympy.Expr
        The expression being verified (named in the error).
    seconds : float, optional
        CPU time allowed from now (default :data:`VERIFY_SECONDS`, read at each call).
    """

    def __init__(self, expr: sympy.Expr, seconds: float | None = None) -> None:
        self.expr = expr
        self.seconds = VERIFY_SECONDS if seconds is None else seconds
        self.deadline = time.thread_time() + self.seconds

    def left(self) -> float:
        """Seconds left (negative once past the deadline)."""
        return self.deadline - time.thread_time()

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return time.thread_time() > self.deadline

    def check(self, where: str) -> None:
        """Raise :class:`ActivationError` if the deadline has passed.

        Parameters
        ----------
        where : str
            What was being done (``"the reference at x = 3.0"``), for the message.
        """
        if self.expired():
            raise ActivationError(
                f"verifying the activation {self.expr} took more than {self.seconds:g} s "
                f"(stopped during {where}); simplify the expression or pass fn=(f, df)"
            )


def node_count(expr: sympy.Basic, limit: int) -> int:
    """Number of nodes of ``expr``, counting stops just past ``limit``."""
    count = 0
    for _ in sympy.preorder_traversal(expr):
        count += 1
        if count > limit:
            break
    return count


def small_enough(expr: sympy.Basic, limit: int = MAX_SIMPLIFY_NODES) -> bool:
    """Whether ``expr`` is small enough for an unbounded SymPy simplification step."""
    return node_count(expr, limit) <= limit
