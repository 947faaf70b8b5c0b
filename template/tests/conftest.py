"""Fixtures for the Space's own tests: a tiny random model of the app's architecture, and the app serving it.

Nothing here downloads: the model is built on the spot and the app loads it through its MODEL_ID override. The
tests run on CPU, even on a machine with a GPU (`python -m zerogpu.emulate` is the GPU check): ZeroGPU's contract is
checked by forking workers, which a process that has initialised CUDA cannot do.
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from tiny_model import save_tiny_model

SPACE_DIR = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_S = 180
os.environ["CUDA_VISIBLE_DEVICES"] = ""  # CPU only, for this process and the app it starts


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tiny-model")
    save_tiny_model(directory)
    return directory


@pytest.fixture(scope="session")
def app_env(tiny_model_dir) -> dict[str, str]:
    """The environment the app runs in: the tiny model, offline, no telemetry."""
    return {
        **os.environ,
        "MODEL_ID": str(tiny_model_dir),
        "HF_HUB_OFFLINE": "1",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="session")
def app_log(tmp_path_factory) -> Path:
    """Where the served app's stdout and stderr go: what the Space's logs would show."""
    return tmp_path_factory.mktemp("app") / "app.log"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def app_url(app_env, app_log) -> str:
    """Start `python app.py` as the Space would, and stop it after the tests."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {**app_env, "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    with open(app_log, "w+") as log:
        app = subprocess.Popen([sys.executable, "app.py"], cwd=SPACE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(url, app, app_log)
            yield url
        finally:
            app.terminate()
            app.wait(timeout=30)


def wait_until_serving(url: str, app: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if app.poll() is not None:
            pytest.fail(f"app.py exited with code {app.returncode}:\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"app.py did not serve {url} within {STARTUP_TIMEOUT_S} s:\n{log_path.read_text()}")


class Refused(Exception):
    """The app answered a call with an error event; the exception's text is its message (None when Gradio hid it)."""


def uploaded(url: str, value: object) -> object:
    """The value as the HTTP API takes it: a local file from gradio_client's handle_file uploaded through Gradio's
    upload route and named by its path on the server; any other value as it is."""
    if not (isinstance(value, dict) and value.get("meta", {}).get("_type") == "gradio.FileData" and "path" in value):
        return value
    path = Path(value["path"])
    with path.open("rb") as file:
        response = httpx.post(f"{url}gradio_api/upload", files={"files": (path.name, file)}, timeout=60)
    response.raise_for_status()
    (server_path,) = response.json()
    return {"path": server_path, "meta": {"_type": "gradio.FileData"}}


def api_call(url: str, api_name: str, *data: object, timeout_s: float = 120) -> list:
    """One call through Gradio's HTTP API, as a client in any language makes it: upload its files (`uploaded`), POST
    the inputs as JSON (Python's json writes NaN and Infinity, which gradio_client refuses to send), then read the
    event stream; returns the last event's outputs, or raises Refused with the app's message."""
    request = urllib.request.Request(
        f"{url}gradio_api/call/{api_name}",
        data=json.dumps({"data": [uploaded(url, value) for value in data]}).encode(),
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
                    raise Refused(outputs)
                if event == "complete":
                    return outputs
    raise AssertionError(f"/{api_name}: the event stream ended without a result (last event {event!r}: {outputs})")


@pytest.fixture(scope="session")
def client(app_url) -> Client:
    return Client(app_url, verbose=False)


@pytest.fixture(scope="session")
def app_module(app_env, monkeypatch_session):
    """app.py imported in this process, on the tiny model, for calling its functions directly."""
    for key in ("MODEL_ID", "HF_HUB_OFFLINE"):
        monkeypatch_session.setenv(key, app_env[key])
    import app

    return app


@pytest.fixture(scope="session")
def zerogpu_space(app_env, monkeypatch_session):
    """app.py imported with its @spaces.GPU handlers behind ZeroGPU's process boundary (zerogpu/contract.py)."""
    from zerogpu import contract

    for key in ("MODEL_ID", "HF_HUB_OFFLINE"):
        monkeypatch_session.setenv(key, app_env[key])
    space = contract.load(SPACE_DIR)
    yield space
    space.close()


@pytest.fixture(scope="session")
def monkeypatch_session():
    with pytest.MonkeyPatch.context() as patch:
        yield patch
