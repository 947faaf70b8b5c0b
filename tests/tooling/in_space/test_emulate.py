"""`python -m zerogpu.emulate` and its fake device API, checked as far as a machine without a GPU allows.

The real `spaces` package refuses ZeroGPU mode with a CPU build of torch, so the end-to-end check here hides torch
from a small planted app (spaces then skips its CUDA emulation): the real package's scheduling, forked workers,
pickling and error messages still run against the fake. With a GPU, the emulator runs the Space itself.
"""

import asyncio
import base64
import json
import os
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import gradio as gr
import httpx
import pytest
from gradio_client import Client
from markdown_it import MarkdownIt
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from zerogpu import emulate
from zerogpu.fake_device_api import FakeDeviceAPI

SPACE_DIR = Path.cwd()  # the Space these run in (tests/test_zerogpu_package.py runs them from its folder)
TORCH_FREE_APP = """
import spaces

import threading

import gradio as gr


def estimate(prompt: str, steps: int) -> int:
    return 5 + int(steps)


@spaces.GPU(duration=estimate)
def echo(prompt: str, steps: int) -> str:
    return f"{prompt} x{int(steps)}"


@spaces.GPU(duration=7)
def count(prompt: str, steps: int):
    for number in range(int(steps)):
        yield f"{prompt} {number}"


@spaces.GPU(duration=3)
def lock(prompt: str) -> str:
    return threading.Lock()


with gr.Blocks() as demo:
    prompt = gr.Textbox()
    steps = gr.Slider(1, 10, value=3, step=1)
    output = gr.Textbox()
    gr.Button().click(echo, [prompt, steps], output, api_name="echo")
    gr.Button().click(count, [prompt, steps], output, api_name="count")
    gr.Button().click(lock, [prompt], output, api_name="lock")

if __name__ == "__main__":
    demo.launch(mcp_server=True)
"""


def test_without_a_gpu_it_says_so_and_starts_nothing(monkeypatch, capsys):
    def must_not_start(*args, **kwargs):
        raise AssertionError("the emulator started something without a GPU")

    monkeypatch.setattr(emulate, "gpu_uuid", lambda: None)
    monkeypatch.setattr(emulate, "Emulation", must_not_start)
    monkeypatch.setattr(emulate, "FakeDeviceAPI", must_not_start)
    assert emulate.main(["--call-each"]) == 2
    assert "no NVIDIA GPU" in capsys.readouterr().err


def test_the_command_fails_cleanly_where_nvidia_smi_is_missing(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}  # no nvidia-smi on it, even on a machine with a GPU
    run = subprocess.run(
        [sys.executable, "-m", "zerogpu.emulate", "--call-each"],
        check=False,
        cwd=SPACE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "no NVIDIA GPU" in run.stderr and "nothing was started" in run.stderr
    assert "starting the app" not in run.stdout


def test_the_fake_answers_as_the_real_spaces_client_expects(monkeypatch):
    from spaces.config import Config
    from spaces.zero import client

    visitor = gr.Request(headers={"x-ip-token": emulate.VISITOR_TOKEN}, client=None)
    with FakeDeviceAPI("ok", gpu_uuid="GPU-test", quota_left_seconds=100) as api:
        monkeypatch.setattr(Config, "zero_device_api_url", api.url)
        granted = client.schedule(task_id=1, duration=timedelta(seconds=30), gpu_size="large")
        assert granted.nvidiaUUID == "GPU-test"
        expected = {
            "illegal-duration": ("ZeroGPU illegal duration", "The requested GPU duration (30s) is larger than the"),
            "quota-exceeded": ("ZeroGPU quota exceeded", "(30s requested vs. 100s left). Try again in 1:00:00."),
            "no-gpu": ("ZeroGPU client error", "No GPU was available"),
        }
        for answer, (title, message) in expected.items():
            api.answer = answer
            with pytest.raises(gr.Error) as refused:
                client.schedule(task_id=1, request=visitor, duration=timedelta(seconds=30), gpu_size="large")
            assert refused.value.title == title and message in refused.value.message, refused.value.message
        api.answer = "auto"
        with pytest.raises(gr.Error, match="larger than the maximum allowed"):
            client.schedule(task_id=1, request=visitor, duration=timedelta(seconds=61), gpu_size="xlarge")
        assert [request["durationSeconds"] for request in api.schedules] == [30, 30, 30, 30, 61]
        assert [request["answer"] for request in api.schedules][-1] == "illegal-duration"


def torch_free_emulation(tmp_path: Path, app: str = TORCH_FREE_APP) -> emulate.Emulation:
    """The emulation of a planted app (TORCH_FREE_APP unless told), with torch hidden from it."""
    hidden = tmp_path / "hidden"
    (hidden / "torch").mkdir(parents=True)
    (hidden / "torch" / "__init__.py").write_text('raise ImportError("torch is hidden from this test app")\n')
    space = tmp_path / "space"
    space.mkdir()
    (space / "app.py").write_text(textwrap.dedent(app), encoding="utf-8")
    return emulate.Emulation(space, gpu_uuid="GPU-cpu-test", extra_env={"PYTHONPATH": str(hidden)})


def caller_token(caller: str) -> str:
    """An X-IP-Token shaped as huggingface.co's (spaces reads its payload), naming its caller."""
    payload = base64.urlsafe_b64encode(json.dumps({"caller": caller}).encode()).decode().rstrip("=")
    return f"e30.{payload}.x"


def called_over_mcp(url: str, token: str) -> str:
    """One call of the echo tool by an MCP client that sends its caller's token, as docs/work.md shows."""

    async def call() -> str:
        async with (
            httpx.AsyncClient(headers={"x-ip-token": token}) as http,
            streamable_http_client(f"{url}gradio_api/mcp/", http_client=http) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool("echo", {"prompt": "agent", "steps": 2})
            assert not result.isError, result.content
            return result.content[-1].text

    return asyncio.run(call())


def readme_function(name: str):
    """A function of the Space's README.md snippets, run as a reader who pastes the snippet would run it."""
    readme = (SPACE_DIR / "README.md").read_text(encoding="utf-8")
    for token in MarkdownIt().parse(readme):
        if token.type == "fence" and token.info == "python" and f"def {name}(" in token.content:
            namespace: dict = {}
            exec(compile(token.content, "README.md", "exec"), namespace)  # noqa: S102 (the README's own snippet)
            return namespace[name]
    raise AssertionError(f"README.md has no python snippet defining {name}()")


def called_from_another_space(url: str, token: str) -> str:
    """A call of the echo endpoint by another Space's handler that forwards its visitor's token with the README's
    caller_headers(), the visitor's request carrying `token`."""
    caller_headers = readme_function("caller_headers")

    def relay(prompt: str, request: gr.Request) -> str:
        return Client(url, verbose=False, headers=caller_headers(request)).predict(prompt, 2, api_name="/echo")

    with gr.Blocks() as calling_space:
        gr.api(relay, api_name="relay")
    calling_space.launch(prevent_thread_lock=True, quiet=True)
    try:
        return Client(calling_space.local_url, verbose=False, headers={"X-IP-Token": token}).predict(
            "space", api_name="/relay"
        )
    finally:
        calling_space.close()


def test_each_callers_token_reaches_the_scheduling_call(tmp_path):
    """Quota attribution: spaces charges a call to the X-IP-Token its request carries, and the Space's own limit
    when there is none. A script's gradio_client sends its token in headers, an MCP client likewise (Gradio's MCP
    server hands the headers on to the handler's request); here the fake device API sees which token each
    scheduling call carried."""
    script, agent, visitor = caller_token("script"), caller_token("agent"), caller_token("visitor")
    with torch_free_emulation(tmp_path) as emulation:
        script_client = Client(emulation.url, verbose=False, headers={"X-IP-Token": script})
        assert script_client.predict("script", 2, api_name="/echo") == "script x2"
        assert called_over_mcp(emulation.url, agent) == "agent x2"
        assert called_from_another_space(emulation.url, visitor) == "space x2"
        assert Client(emulation.url, verbose=False).predict("anonymous", 2, api_name="/echo") == "anonymous x2"
        tokens = [request["token"] for request in emulation.fake.schedules]
    assert tokens == [script, agent, visitor, None], tokens


def test_the_real_spaces_package_runs_a_space_in_zerogpu_mode_against_the_fake(tmp_path):
    emulation = torch_free_emulation(tmp_path)
    with emulation:
        assert emulation.fake.startup_reports == 1, emulation.log_tail()
        results = emulation.call_each(["auto", "illegal-duration", "quota-exceeded", "no-gpu"])
        running = emulation.processes()
    by_call = {(result.endpoint, result.answer): result for result in results}

    echo = by_call["/echo", "auto"]
    assert echo.ok and echo.outcome == repr(f"{emulate.SAMPLE_TEXT} x3"), echo
    assert [request["durationSeconds"] for request in echo.schedules] == [8]  # the estimator's 5 + 3 reached it
    assert by_call["/count", "auto"].outcome == repr(f"{emulate.SAMPLE_TEXT} 2")  # the generator's last yield
    lock = by_call["/lock", "auto"]
    assert not lock.ok and "PicklingError" in lock.outcome and "cannot pickle" in lock.app_log, lock
    assert "larger than the maximum allowed" in by_call["/echo", "illegal-duration"].outcome
    assert "(8s requested vs. 120s left)" in by_call["/echo", "quota-exceeded"].outcome
    assert "No GPU was available" in by_call["/echo", "no-gpu"].outcome

    assert len(running) > 1, "each call forks a worker process next to the app"
    assert emulation.stopped["stopped"] == running and emulation.stopped["left"] == [], emulation.stopped


PROGRESS_APP = """
import spaces

import time

import gradio as gr
from tqdm import tqdm


@spaces.GPU(duration=5)
def walk(steps: int, progress=gr.Progress(track_tqdm=True)) -> str:
    for _ in tqdm(range(int(steps))):
        time.sleep(0.3)
    return "walked"


with gr.Blocks() as demo:
    steps = gr.Number(value=5)
    output = gr.Textbox()
    gr.Button().click(walk, steps, output, api_name="walk")

if __name__ == "__main__":
    demo.launch()
"""


def test_a_handlers_progress_reaches_the_client_from_the_forked_worker(tmp_path):
    """progress=gr.Progress(track_tqdm=True) in a handler (the image kind's step bar): spaces runs the handler in a
    forked worker, and relays each progress update of its tqdm bars back to Gradio's queue in the app."""
    seen = set()
    with torch_free_emulation(tmp_path, PROGRESS_APP) as emulation:
        job = emulation.client().submit(5, api_name="/walk")
        while not job.done():
            seen |= {(unit.index, unit.length) for unit in job.status().progress_data or []}
            time.sleep(0.01)
        assert job.result() == "walked", emulation.log_tail()
        assert len(emulation.processes()) > 1, "the handler ran in a worker forked next to the app"
    assert {length for _, length in seen} == {5}, seen
    assert len({index for index, _ in seen}) > 1, f"one progress state only: {seen}"
