"""One name lookup for everything anynn finds by name: losses, metrics, optimizers, schedules,
activations."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Generic, TypeVar

from .errors import AnynnTypeError, AnynnValueError

T = TypeVar("T")


class Registry(Generic[T]):
    """Factories of one ``kind`` of object, found by case-insensitive name or alias.

    Parameters
    ----------
    kind : str
        What the entries are ("loss", "optimizer"...), for messages.
    base : type
        Instances of ``base`` pass through :meth:`resolve` unchanged.
    entries : mapping of str to callable
        Canonical name -> factory (usually the class).
    aliases : mapping of str to str, optional
        Other accepted names -> canonical name.
    unknown_error : type, default AnynnValueError
        Raised for an unknown name (a subclass, e.g. ``ActivationError``).
    """

    def __init__(
        self,
        kind: str,
        base: type[T],
        entries: Mapping[str, Callable[..., T]],
        aliases: Mapping[str, str] | None = None,
        unknown_error: type[AnynnValueError] = AnynnValueError,
    ) -> None:
        self.kind = kind
        self.base = base
        self.entries = dict(entries)
        self.aliases = dict(aliases or {})
        self.unknown_error = unknown_error

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        return self.aliases.get(name.lower(), name.lower()) in self.entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def name_of(self, obj: Any) -> str | None:
        """The canonical name of ``obj`` if it is exactly a registered built-in (an
        instance of the class registered under its ``name``), else None."""
        name = getattr(obj, "name", None)
        return name if isinstance(name, str) and self.entries.get(name) is type(obj) else None

    def lookup(self, name: Any) -> Callable[..., T]:
        """The factory registered as ``name`` (or an alias of it).

        Raises
        ------
        AnynnTypeError
            If ``name`` is not a str.
        AnynnValueError
            For an unknown name (``unknown_error``).
        """
        if not isinstance(name, str):
            raise AnynnTypeError(
                f"{self.kind} must be a name or a {self.base.__name__} object; "
                f"got {type(name).__name__}: {name!r}"
            )
        key = self.aliases.get(name.lower(), name.lower())
        if key not in self.entries:
            raise self.unknown_error(
                f"unknown {self.kind} {name!r}; expected one of {', '.join(self.entries)} or "
                f"a {self.base.__name__} object"
            )
        return self.entries[key]

    def resolve(self, spec: Any, *args: Any, **kwargs: Any) -> T:
        """Return ``spec`` if it is a ``base`` instance, else build the entry it names."""
        if isinstance(spec, self.base):
            return spec
        return self.lookup(spec)(*args, **kwargs)
