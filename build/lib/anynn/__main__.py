"""``python -m anynn``: a short demo; ``python -m anynn info FILE`` describes a model file."""

from __future__ import annotations

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
