"""Name lookup shared by the losses, metrics and other by-name registries."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .errors import AnynnValueError

T = TypeVar("T")


def resolve(
    spec: Any,
    *,
    kind: str,
    base: type[T],
    registry: Mapping[str, Callable[[], T]],
    aliases: Mapping[str, str],
) -> T:
    """Return ``spec`` if it is a ``base`` instance, else build the entry it names.

    Names are case-insensitive and may be aliases.

    Raises
    ------
    AnynnValueError
        For an unknown name or a value of another type, naming the ``kind``.
    """
    if isinstance(spec, base):
        return spec
    if isinstance(spec, str):
        key = aliases.get(spec.lower(), spec.lower())
        if key in registry:
            return registry[key]()
    raise AnynnValueError(
        f"unknown {kind} {spec!r}; expected one of {', '.join(registry)} or a "
        f"{base.__name__} object"
    )
