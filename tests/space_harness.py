"""Install a rendered Space for CPU, build its tiny model, serve `python app.py`, call it.

Shared by tests/test_space_runs.py, tests/test_browser.py and benchmarks/run.py; it needs only the template's dev
environment (uv, PyYAML), which has neither gradio nor torch: those live in the Space's own venv.

Environment knobs, for machines other than CI's:
  SPACE_TEST_PYTHON      interpreter for the Space's virtual environment (default: this one)
  SPACE_TEST_TORCH       the torch_version answer (default 2.13.0, whose CPU wheel CI's machine has on disk)
  SPACE_TEST_FIND_LINKS  extra wheel folder for uv (default /opt/wheels when it exists)
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from uv import find_uv_bin

SPACE_PYTHON = os.environ.get("SPACE_TEST_PYTHON", sys.executable)
SPACE_TORCH = os.environ.get("SPACE_TEST_TORCH", "2.13.0")
FIND_LINKS = os.environ.get("SPACE_TEST_FIND_LINKS", "/opt/wheels" if Path("/opt/wheels").is_dir() else "")
STARTUP_TIMEOUT_S = 180


class SpaceError(RuntimeError):
    """A step of installing or serving a Space failed; the message carries the command's output."""


def uv_environment() -> dict[str, str]:
    """This process's environment for running uv on a Space: no Python downloads (none can be reached), and without
    PYENV_VERSION, which pyenv's shims export and which would override the Space's .python-version."""
    env = {key: value for key, value in os.environ.items() if key != "PYENV_VERSION"}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def uv(*args: str, cwd: Path) -> str:
    run = subprocess.run([find_uv_bin(), *args], cwd=cwd, env=uv_environment(), check=False, capture_output=True,
                         text=True)  # fmt: skip
    if run.returncode != 0:
        raise SpaceError(f"uv {' '.join(args)}:\n{run.stdout}{run.stderr}")
    return run.stdout


def sdk_version(project: Path) -> str:
    """The Gradio version the Space builder installs: the README frontmatter's sdk_version."""
    _, block, _ = (project / "README.md").read_text(encoding="utf-8").split("---\n", 2)
    return yaml.safe_load(block)["sdk_version"]


def cuda_only_packages(project: Path) -> list[str]:
    """The CUDA side-cars that torch from PyPI pins on Linux. The CPU torch used here needs none of them."""
    lines = (project / "requirements.txt").read_text().splitlines()
    names = [Requirement(line).name for line in lines if line[:1].isalpha()]
    return [name for name in names if name.startswith(("nvidia-", "cuda-", "triton"))]


def install_for_cpu(project: Path) -> Path:
    """A fresh venv with the Space's dependencies and dev tools, resolved from its pyproject.toml; its python.

    Two differences from the Hub, both forced by the CPU torch this machine has (a cp311 wheel): the venv runs
    Python 3.11, so the pins are resolved for it rather than taken from requirements.txt (locked for the Space's
    Python), and torch's CUDA side-cars (several GB) are left out. That requirements.txt itself installs on the Hub
    is tests/test_requirements_export.py's job: it replays the builder's pip line for Linux x86_64.
    """
    excludes = project / "cpu-excludes.txt"
    excludes.write_text("\n".join(cuda_only_packages(project)) + "\n")
    uv("venv", "--quiet", "--python", SPACE_PYTHON, ".venv", cwd=project)
    python = project / ".venv" / "bin" / "python"
    find_links = ["--find-links", FIND_LINKS] if FIND_LINKS else []
    try:
        uv("pip", "install", "--quiet", "--python", str(python), *find_links, "--excludes", excludes.name,
           "-r", "pyproject.toml", "--group", "dev", cwd=project)  # fmt: skip
    finally:
        excludes.unlink()
    return python


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without pytest's and the dev venv's variables, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "VIRTUAL_ENV"))}
    return {**env, **extra}


def build_tiny_model(python: Path, project: Path, directory: Path) -> Path:
    """The Space's own tests/tiny_model.py, run in the Space's venv, writes a random-weight model to `directory`."""
    build = "import sys; from pathlib import Path; from tiny_model import save_tiny_model; save_tiny_model(Path(sys.argv[1]))"
    run = subprocess.run(
        [python, "-c", build, str(directory)],
        cwd=project / "tests",
        env=clean_env(),
        check=False,
        capture_output=True,
        text=True,
    )
    if run.returncode != 0:
        raise SpaceError(f"tests/tiny_model.py:\n{run.stdout}{run.stderr}")
    return directory


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serve(python: Path, project: Path, model_dir: Path, log_path: Path) -> Iterator[str]:
    """`python app.py` on the tiny model, offline, on a free loopback port; yields its URL once it answers."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = clean_env(
        MODEL_ID=str(model_dir),
        HF_HUB_OFFLINE="1",
        GRADIO_ANALYTICS_ENABLED="False",
        PYTHONUNBUFFERED="1",
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
    )
    with open(log_path, "w+") as log:
        app = subprocess.Popen([python, "app.py"], cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(url, app, log_path)
            yield url
        finally:
            app.terminate()
            try:
                app.wait(timeout=30)
            except subprocess.TimeoutExpired:
                app.kill()
                app.wait()


def wait_until_serving(url: str, app: subprocess.Popen, log_path: Path, timeout_s: float = STARTUP_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if app.poll() is not None:
            raise SpaceError(f"app.py exited with code {app.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise SpaceError(f"app.py did not serve {url} within {timeout_s} s:\n{log_path.read_text()}")


def call(url: str, api_name: str, *data: object, timeout_s: float = 120) -> list:
    """One call through Gradio's HTTP API (POST, then read the event stream); the outputs of its last event."""
    request = urllib.request.Request(
        f"{url}gradio_api/call/{api_name}",
        data=json.dumps({"data": list(data)}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=timeout_s) as response:
        event_id = json.load(response)["event_id"]
    event, outputs = None, None
    with urllib.request.urlopen(f"{url}gradio_api/call/{api_name}/{event_id}", timeout=timeout_s) as stream:
        for raw in stream:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                event = line.removeprefix("event: ")
            elif line.startswith("data: ") and event in ("generating", "complete", "error"):
                outputs = json.loads(line.removeprefix("data: "))
                if event == "error":
                    raise SpaceError(f"{api_name} failed: {outputs}")
                if event == "complete":
                    return outputs
    raise SpaceError(f"{api_name}: the event stream ended without a result (last event {event!r}: {outputs})")
