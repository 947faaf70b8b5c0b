"""Run the Space under the real `spaces` package in ZeroGPU mode, on a machine with an NVIDIA GPU.

    uv run python -m zerogpu.emulate                  # serve the app on http://127.0.0.1:7860 until Ctrl-C
    uv run python -m zerogpu.emulate --call-each      # call each API endpoint once, print what was asked for, stop
    uv run python -m zerogpu.emulate --call-each --answer ok,illegal-duration,quota-exceeded,no-gpu

The app starts as on ZeroGPU (SPACES_ZERO_GPU=true), talking to a loopback fake of the device API
(zerogpu/fake_device_api.py) that hands out this machine's GPU: module-scope `.to("cuda")` is intercepted and the
weights are packed at launch, and each call forks a worker that takes the GPU, runs the handler and pickles its
result back, so a CUDA tensor returned, an unpicklable value or a duration over the cap fails as it would on the Hub.
--answer switches what the fake's scheduler says (see fake_device_api.py); the default, auto, refuses requests over
[tool.zerogpu] max-request-seconds as the real one does. The worker processes are stopped when the emulator exits.

Without an NVIDIA GPU and a CUDA build of torch this cannot run (the real package refuses): it says so and exits 2.
On such a machine `uv run pytest` checks the same contract on CPU (zerogpu/contract.py).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from zerogpu.fake_device_api import ANSWERS, FakeDeviceAPI
from zerogpu.rules import Space as SpaceFiles
from zerogpu.settings import SAMPLE_TEXT, Limits

# What the Hub's proxy adds to every visitor's request (a JWT; spaces reads only its payload). With it, a refusal
# reads as a visitor sees it ("You have exceeded your ZeroGPU quota (Ns requested vs. Ms left)...").
VISITOR_TOKEN = "e30." + base64.urlsafe_b64encode(json.dumps({"emulated": True}).encode()).decode().rstrip("=") + ".x"


def gpu_uuid() -> str | None:
    """The first NVIDIA GPU's UUID, which the fake hands to spaces' worker (it sets CUDA_VISIBLE_DEVICES to it)."""
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return None
    try:
        run = subprocess.run(
            [smi, "--query-gpu=uuid", "--format=csv,noheader"], check=False, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    uuids = [line.strip() for line in run.stdout.splitlines() if line.strip().startswith("GPU-")]
    return uuids[0] if run.returncode == 0 and uuids else None


def torch_cuda_version(python: str = sys.executable) -> str | None:
    """The CUDA version this Python's torch was built for; None for a CPU build or no torch."""
    code = "import torch; print(torch.version.cuda or '')"
    try:
        run = subprocess.run([python, "-c", code], check=False, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout.strip() or None


def group_processes(group: int) -> list[int]:
    """The live processes of a process group (the app and the workers it forked), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == group and fields[0] != "Z":
                found.append(int(stat.parent.name))
    return sorted(found)


@dataclass
class CallResult:
    endpoint: str
    answer: str
    arguments: list
    ok: bool
    outcome: str
    value: Any = None
    schedules: list = field(default_factory=list)
    app_log: str = ""


class Emulation:
    """The fake device API and the app under the real spaces package, started together and stopped together."""

    def __init__(
        self,
        space_dir: Path | str = ".",
        *,
        gpu_uuid: str,
        answer: str = "auto",
        port: int = 0,
        log_path: Path | str | None = None,
        python: str = sys.executable,
        extra_env: dict[str, str] | None = None,
        limits: Limits | None = None,
        warm: bool = False,
        startup_timeout: float = 600,
    ):
        self.space_dir = Path(space_dir).resolve()
        self.limits = limits or Limits.of(self.space_dir)
        self.fake = FakeDeviceAPI(
            answer,
            gpu_uuid=gpu_uuid,
            max_request_seconds=self.limits.max_request_seconds,
            quota_left_seconds=self.limits.max_request_seconds,
            idle=warm,
        )
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.scratch = Path(tempfile.mkdtemp(prefix="zerogpu-emulate-"))
        self.log_path = Path(log_path) if log_path else self.scratch / "app.log"
        self.python = python
        self.extra_env = extra_env or {}
        self.startup_timeout = startup_timeout
        self.app: subprocess.Popen | None = None
        self.stopped: dict[str, Any] = {}

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def start(self) -> None:
        self.fake.start()
        env = {
            **os.environ,
            "SPACES_ZERO_GPU": "true",
            "SPACES_ZERO_DEVICE_API_URL": self.fake.url,
            "ZEROGPU_OFFLOAD_DIR": str(self.scratch / "tensors"),
            # After packing, spaces deletes the Hub-cache files the weights were mapped from (fine on the Hub's
            # throwaway disk, not on yours): point its pattern at nothing.
            "ZEROGPU_MMAP_AUTOPRUNE_PATTERN": str(self.scratch / "no-autoprune" / "*"),
            "GRADIO_SERVER_NAME": "127.0.0.1",
            "GRADIO_SERVER_PORT": str(self.port),
            "GRADIO_CACHE_EXAMPLES": "true",  # as Spaces set them on ZeroGPU: examples are cached on first click
            "GRADIO_CACHE_MODE": "lazy",
            "GRADIO_ANALYTICS_ENABLED": "False",
            "PYTHONUNBUFFERED": "1",
            **self.extra_env,
        }
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 (the app writes to it until stop())
        app_file = SpaceFiles(self.space_dir).app_file
        # A session of its own: the app and every worker it forks share one process group, stopped as one.
        self.app = subprocess.Popen(
            [self.python, app_file],
            cwd=self.space_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.app.poll() is not None:
                raise RuntimeError(f"the app exited with code {self.app.returncode}:\n{self.log_tail(60)}")
            try:
                with urllib.request.urlopen(self.url, timeout=5):
                    return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"the app did not serve {self.url} within {self.startup_timeout:.0f} s:\n{self.log_tail()}")

    def processes(self) -> list[int]:
        return group_processes(self.app.pid) if self.app is not None else []

    def stop(self) -> dict[str, Any]:
        """Stop the app and every worker process it forked, then the fake."""
        if self.app is not None and not self.stopped:
            running = self.processes()
            for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.app.pid, sig)
                deadline = time.monotonic() + wait
                while time.monotonic() < deadline and self.processes():
                    time.sleep(0.2)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.app.wait(timeout=1)
                if not self.processes():
                    break
            self.stopped = {"app": self.app.pid, "stopped": running, "left": self.processes()}
        with contextlib.suppress(Exception):
            self.fake.stop()
        shutil.rmtree(self.scratch / "tensors", ignore_errors=True)
        return self.stopped

    def packed_bytes(self) -> int:
        """The bytes of weights spaces packed to disk at launch (module-scope CUDA tensors, offloaded)."""
        folder = self.scratch / "tensors"
        return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file()) if folder.is_dir() else 0

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_tail(self, lines: int = 40, since: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as log:
            log.seek(since)
            text = log.read().decode("utf-8", "replace")
        return "\n".join(text.splitlines()[-lines:])

    def client(self):
        from gradio_client import Client

        return Client(self.url, verbose=False, headers={"X-IP-Token": VISITOR_TOKEN})

    def call_each(self, answers: list[str] | None = None, endpoints: list[str] | None = None) -> list[CallResult]:
        """Call each named API endpoint once per answer of the fake, with its default inputs (empty text is given
        SAMPLE_TEXT); returns what happened and what the fake was asked for."""
        client = self.client()
        named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
        results = []
        for answer in answers or [self.fake.answer]:
            self.fake.answer = answer
            for name, info in named.items():
                if endpoints and name not in endpoints:
                    continue
                arguments = [_sample(parameter) for parameter in info["parameters"]]
                seen, log_start = len(self.fake.schedules), self.log_size()
                value = None
                try:
                    value = client.predict(*arguments, api_name=name)
                    ok, outcome = True, _short(value)
                except Exception as error:  # noqa: BLE001 (whatever failed, report what the visitor would see)
                    ok, outcome = False, f"{type(error).__name__}: {error}"
                time.sleep(0.2)  # let the app flush what it printed
                results.append(
                    CallResult(
                        name,
                        answer,
                        arguments,
                        ok,
                        outcome,
                        value,
                        self.fake.schedules[seen:],
                        "" if ok else self.log_tail(25, since=log_start),
                    )
                )
        return results


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _sample(parameter: dict) -> Any:
    value = parameter.get("parameter_default") if parameter.get("parameter_has_default") else None
    kind = (parameter.get("python_type") or {}).get("type", "")
    if value in (None, "") and "str" in kind:
        return SAMPLE_TEXT
    return value


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def print_results(results: list[CallResult]) -> None:
    for result in results:
        print(f"\n{result.endpoint}  (fake answers {result.answer})  arguments {_short(result.arguments, 120)}")
        for request in result.schedules:
            print(
                f"  device API /schedule: durationSeconds={request['durationSeconds']} gpuSize={request['gpuSize']}"
                f" -> {request['answer']}"
            )
        if not result.schedules:
            print("  device API: no GPU requested")
        print(f"  {'ok' if result.ok else 'FAILED'}: {result.outcome}")
        if result.app_log:
            print("  app log:\n    " + result.app_log.replace("\n", "\n    "))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--space", default=".", help="the Space's folder (default: here)")
    parser.add_argument("--call-each", action="store_true", help="call each API endpoint once, report, and stop")
    parser.add_argument(
        "--answer",
        default="auto",
        help=f"what the fake scheduler answers, or a comma-separated list to call each endpoint under each: "
        f"{', '.join(ANSWERS)} (default auto)",
    )
    parser.add_argument("--endpoint", action="append", help="with --call-each: only this api_name (repeatable)")
    parser.add_argument("--port", type=int, default=0, help="the app's port (default 7860 when serving)")
    parser.add_argument("--warm", action="store_true", help="reuse the worker process between calls (warm GPU)")
    parser.add_argument("--log", help="write the app's output to this file")
    parser.add_argument("--report", help="with --call-each: write the results as JSON to this file")
    options = parser.parse_args(argv)
    answers = [answer.strip() for answer in options.answer.split(",") if answer.strip()]
    unknown = [answer for answer in answers if answer not in ANSWERS]
    if unknown or not answers:
        parser.error(f"unknown --answer {', '.join(unknown)}: choose from {', '.join(ANSWERS)}")

    uuid = gpu_uuid()
    if uuid is None:
        print(
            "zerogpu.emulate: no NVIDIA GPU here (nvidia-smi finds none). The real spaces package needs one in "
            "ZeroGPU mode, so nothing was started. On this machine, `uv run pytest` checks the same contract on CPU.",
            file=sys.stderr,
        )
        return 2
    cuda = torch_cuda_version()
    if cuda is None:
        print(
            f"zerogpu.emulate: found {uuid}, but this Python's torch is a CPU build (or missing): ZeroGPU mode needs "
            "a CUDA build of torch. Nothing was started.",
            file=sys.stderr,
        )
        return 2

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the app and its workers on `kill` too
    port = options.port or (0 if options.call_each else 7860)
    print(f"zerogpu.emulate: GPU {uuid}, torch built for CUDA {cuda}; starting the app under spaces in ZeroGPU mode")
    emulation = Emulation(options.space, gpu_uuid=uuid, answer=answers[0], port=port, log_path=options.log)
    failed, report = False, {}
    try:
        with emulation:
            print(f"zerogpu.emulate: app pid {emulation.app.pid} serving {emulation.url}, app log {emulation.log_path}")
            report = {
                "gpu": uuid,
                "torch_cuda": cuda,
                "app_pid": emulation.app.pid,
                "startup_reports": emulation.fake.startup_reports,
                "packed_bytes": emulation.packed_bytes(),
            }
            print(f"zerogpu.emulate: fake device API on {emulation.fake.url}: startup reports "
                  f"{report['startup_reports']}; weights packed at launch: {report['packed_bytes']} bytes")  # fmt: skip
            if options.call_each:
                results = emulation.call_each(answers, options.endpoint)
                print_results(results)
                failed = any(not result.ok for result in results if result.answer in ("ok", "auto"))
                report["calls"] = [asdict(result) for result in results]
            else:
                print("zerogpu.emulate: Ctrl-C to stop")
                with contextlib.suppress(KeyboardInterrupt):
                    emulation.app.wait()
            report["running_before_stop"] = emulation.processes()
            print(f"\nzerogpu.emulate: processes running before stopping: {report['running_before_stop']}")
    finally:
        stopped = emulation.stopped
        if stopped:
            print(f"zerogpu.emulate: stopped app {stopped['app']} and its workers {stopped['stopped']}; "
                  f"left running: {stopped['left'] or 'none'}")  # fmt: skip
        if options.report and report:
            report["stopped"] = stopped
            Path(options.report).write_text(json.dumps(report, indent=2, default=repr), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
