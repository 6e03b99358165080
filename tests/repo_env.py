"""The environment for tests that start Python subprocesses."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def repo_env() -> dict[str, str]:
    """``os.environ`` with this checkout first on PYTHONPATH (works uninstalled)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env
