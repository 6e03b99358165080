"""The exceptions anynn raises.

Every error anynn raises on bad input derives from :class:`AnynnError`, and also from
the matching built-in type (``ValueError``, ``TypeError``, ``OSError`` or
``ArithmeticError``), so callers may catch either.
"""

from __future__ import annotations


class AnynnError(Exception):
    """Base class of every exception raised by anynn."""


class AnynnValueError(AnynnError, ValueError):
    """An argument has the right type but a bad value (shape, range, name)."""


class AnynnTypeError(AnynnError, TypeError):
    """An argument has a type anynn cannot use."""


class BackendUnavailableError(AnynnValueError):
    """The requested backend is unknown or cannot run on this machine."""


class ActivationError(AnynnValueError):
    """An activation cannot be built, compiled or made numerically stable."""


class ModelFileError(AnynnValueError):
    """A model file is missing, malformed, corrupted, foreign or hostile."""


class FileWriteError(AnynnError, OSError):
    """The operating system failed to write a file anynn was saving.

    A read-only or full file system, missing permissions: ``errno`` is the OS's,
    ``filename`` the path the caller gave (never a temporary file's), and the message
    says both. The previous file at that path is intact and no temporary file remains.
    """

    def __str__(self) -> str:
        return str(self.strerror) if self.strerror is not None else super().__str__()


class NetworkBusyError(AnynnError, RuntimeError):
    """A ``fit`` or ``partial_fit`` was called on a network that is already training."""


class TrainingDiverged(AnynnError, ArithmeticError):  # noqa: N818 (public name)
    """Training produced a non-finite loss; the network keeps its last finite weights.

    Parameters
    ----------
    message : str
        What happened.
    epoch : int
        The (0-based) epoch in which the loss stopped being finite.
    step : int
        The global optimisation step at which it was detected.
    """

    def __init__(self, message: str, *, epoch: int, step: int) -> None:
        super().__init__(message)
        self.epoch = epoch
        self.step = step


class DistributedError(AnynnError, RuntimeError):
    """A data-parallel ``fit`` stopped on every process because one of them failed.

    The process that failed raises its own exception; every other one raises this,
    naming the rank and the error (so no process waits forever for the others).

    Parameters
    ----------
    message : str
        What happened, on which rank.
    rank : int
        The (first) rank that failed.
    """

    def __init__(self, message: str, *, rank: int) -> None:
        super().__init__(message)
        self.rank = rank


class AnynnWarning(UserWarning):
    """Base class of every warning anynn emits."""


class KernelUnavailableWarning(AnynnWarning, RuntimeWarning):
    """A fused device kernel could not be built; the slower standard path is used."""


class ActivationWarning(AnynnWarning):
    """An activation is valid but suspect (its derivative vanishes everywhere)."""
