"""The command line: ``python -m anynn`` (the demo) on every backend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from repo_env import repo_env

from anynn.cli import demo, main

ROOT = Path(__file__).resolve().parent.parent


def test_demo_trains_and_reports_accuracy(backend: str, capsys: pytest.CaptureFixture[str]) -> None:
    accuracy = demo(backend, epochs=4)
    out = capsys.readouterr().out
    assert "epoch 4/4" in out and "val_accuracy" in out
    assert f"on backend {backend!r}" in out
    assert "predictions identical" in out
    assert 0.5 < accuracy <= 1.0


def test_demo_learns_the_circle() -> None:
    assert demo("numpy", epochs=30) > 0.9


def test_python_dash_m_anynn_runs_the_demo() -> None:
    env = repo_env()  # this checkout first: works uninstalled
    result = subprocess.run(
        [sys.executable, "-m", "anynn", "demo", "--epochs", "2"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test accuracy" in result.stdout


def test_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["train-everything"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
