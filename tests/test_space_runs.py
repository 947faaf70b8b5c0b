"""Each kind's rendered Space, installed into a fresh virtual environment, passes its own checks on CPU.

Its own test suite builds a tiny random model, starts `python app.py` on it and calls it through gradio_client.
Environment knobs, for machines other than CI's:
  SPACE_TEST_PYTHON      interpreter for the Space's virtual environment (default: this one)
  SPACE_TEST_TORCH       the torch_version answer (default 2.13.0, whose CPU wheel CI's machine has on disk)
  SPACE_TEST_FIND_LINKS  extra wheel folder for uv (default /opt/wheels when it exists)
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import render
from packaging.requirements import Requirement
from uv import find_uv_bin

SPACE_PYTHON = os.environ.get("SPACE_TEST_PYTHON", sys.executable)
SPACE_TORCH = os.environ.get("SPACE_TEST_TORCH", "2.13.0")
FIND_LINKS = os.environ.get("SPACE_TEST_FIND_LINKS", "/opt/wheels" if Path("/opt/wheels").is_dir() else "")


def uv(*args: str, cwd: Path) -> None:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    run = subprocess.run([find_uv_bin(), *args], cwd=cwd, env=env, check=False, capture_output=True, text=True)
    assert run.returncode == 0, f"uv {' '.join(args)}:\n{run.stdout}{run.stderr}"


def cuda_only_packages(project: Path) -> list[str]:
    """The CUDA side-cars that torch from PyPI pins on Linux. The CPU torch used here needs none of them."""
    lines = (project / "requirements.txt").read_text().splitlines()
    names = [Requirement(line).name for line in lines if line[:1].isalpha()]
    return [name for name in names if name.startswith(("nvidia-", "cuda-", "triton"))]


def install_for_cpu(project: Path) -> Path:
    """A fresh venv with the Space's dependencies and dev tools, resolved from its pyproject.toml.

    Two differences from the Hub, both forced by the CPU torch this machine has (a cp311 wheel): the venv runs
    Python 3.11, so the pins are resolved for it rather than taken from requirements.txt (locked for the Space's
    Python), and torch's CUDA side-cars (several GB) are left out. That requirements.txt itself installs on the Hub
    is test_requirements_export.py's job: it replays the builder's pip line for Linux x86_64 and the Space's Python.
    """
    (project / "cpu-excludes.txt").write_text("\n".join(cuda_only_packages(project)) + "\n")
    uv("venv", "--quiet", "--python", SPACE_PYTHON, ".venv", cwd=project)
    python = project / ".venv" / "bin" / "python"
    find_links = ["--find-links", FIND_LINKS] if FIND_LINKS else []
    uv("pip", "install", "--quiet", "--python", str(python), *find_links, "--excludes", "cpu-excludes.txt",
       "-r", "pyproject.toml", "--group", "dev", cwd=project)  # fmt: skip
    (project / "cpu-excludes.txt").unlink()
    return python


@pytest.mark.slow
@pytest.mark.parametrize(
    ("app_kind", "attention"),
    [("text-generation", "sdpa"), ("text-generation", "kernels"), ("image-generation", "sdpa")],
)
def test_rendered_space_passes_its_own_checks(copie, app_kind, attention):
    # The image Space runs with AoTI on: off ZeroGPU it falls back to eager, so this covers the plain app as well.
    aoti = {"aoti": True} if app_kind == "image-generation" else {}
    project = render(copie, app_kind=app_kind, attention=attention, torch_version=SPACE_TORCH, **aoti).project_dir
    assert (project / "requirements.txt").is_file() and (project / "uv.lock").is_file(), "the export task did not run"
    python = install_for_cpu(project)

    lint = subprocess.run(
        [python, "-m", "ruff", "check", "."], cwd=project, check=False, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr

    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "VIRTUAL_ENV"))}
    own_tests = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    output = own_tests.stdout + own_tests.stderr
    assert own_tests.returncode == 0, output
    summary = output.strip().splitlines()[-1]
    assert re.match(r"\d+ passed", summary) and not re.search(r"failed|error", summary), output
