"""Each kind's rendered Space, installed the way the Space builder installs it, passes its own checks on CPU.

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
import tomllib
from pathlib import Path

import pytest
from conftest import render, space_card
from uv import find_uv_bin

SPACE_PYTHON = os.environ.get("SPACE_TEST_PYTHON", sys.executable)
SPACE_TORCH = os.environ.get("SPACE_TEST_TORCH", "2.13.0")
FIND_LINKS = os.environ.get("SPACE_TEST_FIND_LINKS", "/opt/wheels" if Path("/opt/wheels").is_dir() else "")


def uv(*args: str, cwd: Path) -> None:
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    run = subprocess.run([find_uv_bin(), *args], cwd=cwd, env=env, check=False, capture_output=True, text=True)
    assert run.returncode == 0, f"uv {' '.join(args)}:\n{run.stdout}{run.stderr}"


def install_like_the_space_builder(project: Path) -> Path:
    """A fresh venv with requirements.txt plus the builder's own line, then the Space's dev tools."""
    uv("venv", "--quiet", "--python", SPACE_PYTHON, ".venv", cwd=project)
    python = project / ".venv" / "bin" / "python"
    sdk_version = space_card(project).data.sdk_version
    builder_line = [f"gradio[oauth,mcp]=={sdk_version}", "uvicorn>=0.14.0", "websockets>=10.4", "spaces"]
    dev_tools = tomllib.loads((project / "pyproject.toml").read_text())["dependency-groups"]["dev"]
    find_links = ["--find-links", FIND_LINKS] if FIND_LINKS else []
    uv("pip", "install", "--quiet", "--python", str(python), *find_links, "-r", "requirements.txt", *builder_line,
       *dev_tools, cwd=project)  # fmt: skip
    return python


@pytest.mark.slow
@pytest.mark.parametrize("app_kind", ["text-generation", "image-generation"])
def test_rendered_space_passes_its_own_checks(copie, app_kind):
    project = render(copie, app_kind=app_kind, torch_version=SPACE_TORCH).project_dir
    python = install_like_the_space_builder(project)

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
    assert re.match(r"\d+ passed", summary) and not re.search(r"failed|error|skipped", summary), output
