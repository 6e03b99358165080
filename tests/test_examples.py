"""Each example runs with ``--quick`` as a subprocess, exits 0 and prints its result line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from repo_env import repo_env

from anynn import io

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"

# script -> a line of output a reader checks
EXPECTED = {
    "xor.py": "accuracy: 100.0%",
    "xnor.py": "[2, 4, 3, 1] accuracy: 100.0%",
    "sine_regression.py": "test MSE: 0.00",
    "circle.py": "test accuracy: 9",
    "sklearn_dropin.py": "anynn.sklearn (backend=numpy) vs scikit-learn",
}
# script -> the optional module it imports (the test skips where it is not installed)
NEEDS = {"sklearn_dropin.py": "sklearn"}


def run_example(
    script: str, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = repo_env()  # this checkout first: works uninstalled
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True, text=True, env=env, timeout=300, check=False, cwd=cwd,
    )


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_example_runs(script: str, tmp_path: Path) -> None:
    if script in NEEDS:
        pytest.importorskip(NEEDS[script])
    result = run_example(script, "--quick", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert EXPECTED[script] in result.stdout, result.stdout
    assert list(tmp_path.iterdir()) == [], "an example wrote files without being asked"


def test_example_runs_on_another_backend() -> None:
    pytest.importorskip("array_api_strict")
    result = run_example("xnor.py", "--quick", "--backend", "array_api_strict")
    assert result.returncode == 0, result.stderr
    assert "[2, 2, 1] accuracy: 100.0%" in result.stdout


def test_gpu_compare_runs_or_explains() -> None:
    result = run_example("gpu_compare.py", "--quick")
    assert result.returncode == 0, result.stderr
    from anynn.backend import cupy_available

    expected = "speed-up" if cupy_available() else "no CUDA GPU available: "
    assert expected in result.stdout, result.stdout


def test_xor_saves_only_when_asked(tmp_path: Path) -> None:
    target = tmp_path / "xor.anynn"
    result = run_example("xor.py", "--save", str(target))
    assert result.returncode == 0, result.stderr
    assert target.is_file() and f"saved to {target}" in result.stdout
    assert io.inspect(target)["inputs"] == 2


def test_every_example_is_covered() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(EXPECTED) | {"gpu_compare.py", "digits.py", "export_onnx.py"}


def test_digits_comparison_prints_the_table_and_saves_curves(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    curves = tmp_path / "curves.png"
    result = run_example("digits.py", "--quick", "--plot", str(curves))
    assert result.returncode == 0, result.stderr
    assert "anynn" in result.stdout and "MLPClassifier" in result.stdout, result.stdout
    assert curves.is_file() and curves.stat().st_size > 0
