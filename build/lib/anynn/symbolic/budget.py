"""Bounded verification: a time budget per activation and size limits on SymPy steps.

Verifying or refusing an expression must take a bounded time whatever the expression
(a model file is untrusted input). Two guards do it:

- :class:`Budget`: a deadline of :data:`VERIFY_SECONDS` of the verifying thread's CPU
  time (so other threads and processes sharing the machine do not count) for one
  :func:`stable_form` call, checked between steps and inside the reference loops; past
  it the expression is refused with an :class:`~anynn.errors.ActivationError`;
- :func:`run_bounded`: a watchdog thread that interrupts the verification (an
  asynchronous exception, delivered between two Python bytecodes: SymPy is pure Python)
  once the verifying thread's CPU clock passes the budget by :data:`HARD_LIMIT_GRACE`,
  for the steps between two checks that take long anyway (``diff`` expanding a product);
- :func:`small_enough` and :func:`degree_bound`: SymPy simplification (``cancel``,
  ``factor``, ``solve``) only runs on expressions of at most :data:`MAX_SIMPLIFY_NODES`
  nodes whose common-denominator degree is at most :data:`MAX_RATIONAL_DEGREE`, since
  those steps can blow up exponentially and cannot be interrupted. Other expressions skip
  that rewrite (and are probed as they are).
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections.abc import Callable
from typing import TypeVar

import sympy

from ..errors import ActivationError

VERIFY_SECONDS = 5.0
"""Most seconds one activation's verification (all strategies) may take."""

HARD_LIMIT_GRACE = 1.0
"""Seconds past the budget after which :func:`run_bounded` interrupts the work."""

WATCH_INTERVAL = 0.05
"""Seconds between two looks of the watchdog at the verifying thread's CPU clock."""

MAX_SIMPLIFY_NODES = 120
"""Largest expression (in tree nodes) a SymPy simplification step is run on."""

MAX_RATIONAL_DEGREE = 24
"""Largest :func:`degree_bound` of an expression ``cancel`` / ``factor`` is run on."""


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


def degree_bound(expr: sympy.Basic) -> int:
    """An upper bound on the degree of ``expr`` as one fraction of polynomials.

    Symbols count 1; sums and products add their parts' bounds (a common denominator
    multiplies them out); an integer power multiplies its base's bound by ``|n|``; numbers
    and other functions count 0 (they are opaque generators of their own).
    """
    if isinstance(expr, sympy.Symbol):
        return 1
    if isinstance(expr, (sympy.Add, sympy.Mul)):
        return sum(degree_bound(a) for a in expr.args)
    if isinstance(expr, sympy.Pow) and expr.exp.is_Integer:
        return abs(int(expr.exp)) * degree_bound(expr.base)
    if isinstance(expr, sympy.Pow):
        return degree_bound(expr.base) + degree_bound(expr.exp)
    return 0


def simplifiable(expr: sympy.Basic) -> bool:
    """Whether ``cancel`` / ``factor`` may run on ``expr`` (small and of low degree)."""
    return small_enough(expr) and degree_bound(expr) <= MAX_RATIONAL_DEGREE


Result = TypeVar("Result")


class _Overrun(BaseException):
    """Raised asynchronously in the verifying thread (not an Exception: nothing catches it)."""


def _interrupt(ident: int, exception: type[BaseException] | None) -> None:
    target = ctypes.py_object(exception) if exception is not None else None
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(ident), target)


def run_bounded(budget: Budget, work: Callable[[], Result]) -> Result:
    """``work()``, interrupted with :class:`ActivationError` once past the budget.

    A watchdog thread reads this thread's CPU clock every :data:`WATCH_INTERVAL` seconds;
    where the platform has no per-thread CPU clock, only the budget's own checks apply.
    """
    ident = threading.get_ident()
    try:
        clock = time.pthread_getcpuclockid(ident)
        _ = ctypes.pythonapi.PyThreadState_SetAsyncExc  # CPython only
    except (AttributeError, OSError):
        return work()
    limit = budget.deadline + HARD_LIMIT_GRACE
    lock, done = threading.Lock(), threading.Event()
    fired = [False]

    def watch() -> None:
        while not done.wait(WATCH_INTERVAL):
            if time.clock_gettime(clock) > limit:
                with lock:
                    if not done.is_set():
                        _interrupt(ident, _Overrun)
                        fired[0] = True
                return

    watcher = threading.Thread(target=watch, name="anynn-verify-watchdog", daemon=True)
    try:
        watcher.start()
    except RuntimeError:  # no threads here: the budget's own checks still apply
        return work()
    try:
        try:
            return work()
        finally:
            with lock:
                done.set()
                if fired[0]:
                    _interrupt(ident, None)  # withdraw it if not delivered yet
    except _Overrun:
        raise ActivationError(
            f"verifying the activation {budget.expr} took more than {budget.seconds:g} s "
            "(interrupted); simplify the expression or pass fn=(f, df)"
        ) from None
