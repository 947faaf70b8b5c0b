"""Install a rendered Space as `uv run` does, build its tiny model, serve `python app.py`, call it.

Shared by the tests that run Spaces (tests/test_user_flows.py, tests/test_space_runs.py, tests/test_browser.py) and
benchmarks/run.py; it needs only the template's dev environment (uv, PyYAML), which has neither gradio nor torch:
those live in the Space's own venv. A Space is installed from its own uv.lock on the Python its .python-version pins,
exactly as its own `uv run ...` installs it (torch from PyPI, a CUDA build that runs on CPU as well): a test that
installed anything else would prove nothing about what the Space's author runs.
"""

from __future__ import annotations

import contextlib
import json
import mimetypes
import os
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

STARTUP_TIMEOUT_S = 180


class SpaceError(RuntimeError):
    """A step of installing or serving a Space failed; the message carries the command's output."""


def uv_environment() -> dict[str, str]:
    """This process's environment for running uv on a Space: no Python downloads (none can be reached), and without
    PYENV_VERSION, which pyenv's shims export and which would override the Space's .python-version."""
    env = {key: value for key, value in clean_env().items() if key != "PYENV_VERSION"}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    return env


def uv(*args: str, cwd: Path) -> str:
    from uv import find_uv_bin  # here, not at the top: the GPU scripts serve and call a Space on a machine without uv

    run = subprocess.run([find_uv_bin(), *args], cwd=cwd, env=uv_environment(), check=False, capture_output=True,
                         text=True)  # fmt: skip
    if run.returncode != 0:
        raise SpaceError(f"uv {' '.join(args)}:\n{run.stdout}{run.stderr}")
    return run.stdout


def install_from_lock(project: Path) -> Path:
    """The Space's .venv as `uv run` makes it (its uv.lock, its dev group, its Python), failing if the lock is stale;
    returns the venv's python."""
    uv("sync", "--locked", "--quiet", cwd=project)
    return project / ".venv" / "bin" / "python"


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without pytest's and the dev venv's variables, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "VIRTUAL_ENV"))}
    return {**env, **extra}


def build_tiny_model(python: Path, project: Path, directory: Path) -> Path:
    """The Space's own command for a random-weight model (its README's `uv run tests/tiny_model.py DIR`), run with the
    Space's venv, writes the model to `directory` (a new or empty folder)."""
    run = subprocess.run(
        [python, "tests/tiny_model.py", str(directory)],
        cwd=project,
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


def upload(url: str, path: Path) -> dict:
    """Upload a local file through Gradio's upload route (a multipart POST of field `files`), as gradio_client's
    handle_file does; the FileData that names it in a call's data."""
    boundary = uuid.uuid4().hex
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{path.name}"\r\n'
        f"Content-Type: {mime}\r\n\r\n".encode()
        + path.read_bytes()
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{url}gradio_api/upload", data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        (server_path,) = json.load(response)
    return {"path": server_path, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def with_uploads(url: str, project: Path, data: list) -> list:
    """A kind's first_call data as a call sends it: each `{file: <asset>}` item replaced by the upload of that file
    of the Space (`project`)."""
    return [upload(url, project / item["file"]) if isinstance(item, dict) else item for item in data]
