"""A loopback fake of the ZeroGPU device API, the service the real `spaces` package asks for GPUs.

The protocol (facts sheet, seen against spaces 0.51.3): POST /startup-report -> 200; POST /schedule with the query
parameters durationSeconds, gpuSize, taskId, cgroupPath, token -> 200 {"idle", "nvidiaIndex", "nvidiaUUID",
"allowToken"}, or 429 {"left", "wait"} with the header X-Approve-Result, or 503 when no GPU is free;
POST /allow and /release -> 200. spaces reads a negative `wait` as "illegal duration".

The answer to /schedule is switchable (`answer`, or POST /answer?value=...):
  ok                every request gets the GPU
  auto              like the real scheduler: illegal duration over max_request_seconds, quota exceeded over
                    quota_left_seconds, else ok (the default)
  illegal-duration  every request is refused as longer than allowed
  quota-exceeded    every request is refused for lack of quota
  no-gpu            503: no GPU available
Every /schedule request is recorded (GET /requests returns them as JSON), with the durationSeconds it declared.

Run alone: python -m zerogpu.fake_device_api [--port N] [--answer ANSWER] [--gpu-uuid UUID]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from zerogpu.platform import DEFAULT_DURATION, MAX_REQUEST_SECONDS
from zerogpu.settings import gpu_size

ANSWERS = ("ok", "auto", "illegal-duration", "quota-exceeded", "no-gpu")


class FakeDeviceAPI:
    """The fake, served from a thread: `with FakeDeviceAPI(...) as api: ... api.url ... api.schedules`."""

    def __init__(
        self,
        answer: str = "auto",
        *,
        gpu_uuid: str = "GPU-00000000-0000-0000-0000-000000000000",
        max_request_seconds: int = MAX_REQUEST_SECONDS,
        quota_left_seconds: int = MAX_REQUEST_SECONDS,
        retry_after_seconds: int = 3600,
        idle: bool = False,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        self.answer = answer
        self.gpu_uuid = gpu_uuid
        self.max_request_seconds = max_request_seconds
        self.quota_left_seconds = quota_left_seconds
        self.retry_after_seconds = retry_after_seconds
        self.idle = idle  # True: spaces reuses its worker process for the next call (a warm GPU slot)
        self.schedules: list[dict[str, Any]] = []
        self.allows: list[dict[str, Any]] = []
        self.releases: list[dict[str, Any]] = []
        self.startup_reports = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def answer(self) -> str:
        return self._answer

    @answer.setter
    def answer(self, value: str) -> None:
        if value not in ANSWERS:
            raise ValueError(f"unknown answer {value!r}: one of {', '.join(ANSWERS)}")
        self._answer = value

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    def start(self) -> FakeDeviceAPI:
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-device-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:  # shutdown() waits for a serve_forever() that must have started
            self._server.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def recorded(self) -> dict[str, Any]:
        with self._lock:
            return {
                "answer": self.answer,
                "startup_reports": self.startup_reports,
                "schedules": list(self.schedules),
                "allows": list(self.allows),
                "releases": list(self.releases),
            }

    def decide(self, seconds: int | None, size: str | None) -> str:
        """What /schedule answers now, for a request of `seconds` (already scaled by spaces for `large`)."""
        if self.answer != "auto":
            return self.answer
        charged = (seconds if seconds is not None else DEFAULT_DURATION) * gpu_size(size).quota_factor
        if charged > self.max_request_seconds:
            return "illegal-duration"
        if charged > self.quota_left_seconds:
            return "quota-exceeded"
        return "ok"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the emulator prints what matters
                pass

            def _reply(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                if urlsplit(self.path).path == "/requests":
                    self._reply(200, api.recorded())
                else:
                    self._reply(404, {"detail": "not found"})

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urlsplit(self.path)
                query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
                route = parts.path.rstrip("/")
                if route == "/startup-report":
                    with api._lock:
                        api.startup_reports += 1
                    self._reply(200, {})
                elif route == "/schedule":
                    self._schedule(query)
                elif route == "/allow":
                    with api._lock:
                        api.allows.append({**query, "time": time.time()})
                    self._reply(200, {})
                elif route == "/release":
                    with api._lock:
                        api.releases.append({**query, "time": time.time()})
                    self._reply(200, {})
                elif route == "/answer":
                    try:
                        api.answer = query.get("value", "")
                    except ValueError as error:
                        self._reply(400, {"detail": str(error)})
                        return
                    self._reply(200, {"answer": api.answer})
                else:
                    self._reply(404, {"detail": "not found"})

            def _schedule(self, query: dict[str, str]) -> None:
                seconds = int(query["durationSeconds"]) if "durationSeconds" in query else None
                size = query.get("gpuSize")
                decision = api.decide(seconds, size)
                record = {
                    "durationSeconds": seconds,
                    "gpuSize": size,
                    "taskId": query.get("taskId"),
                    "token": query.get("token"),  # the caller's X-IP-Token: whose quota the call is charged to
                    "answer": decision,
                    "time": time.time(),
                }
                with api._lock:
                    api.schedules.append(record)
                if decision == "ok":
                    self._reply(
                        200,
                        {
                            "idle": api.idle,
                            "nvidiaIndex": 0,
                            "nvidiaUUID": api.gpu_uuid,
                            "allowToken": uuid.uuid4().hex,
                        },
                    )
                elif decision == "illegal-duration":
                    self._reply(
                        429,
                        {"left": api.quota_left_seconds, "wait": -1},
                        {"X-Approve-Result": "illegal-duration"},
                    )
                elif decision == "quota-exceeded":
                    self._reply(
                        429,
                        {"left": api.quota_left_seconds, "wait": api.retry_after_seconds},
                        {"X-Approve-Result": "quota-exceeded"},
                    )
                else:
                    self._reply(503, {"detail": "No GPU available"})

        return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="A loopback fake of the ZeroGPU device API.")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--answer", choices=ANSWERS, default="auto")
    parser.add_argument("--gpu-uuid", default="GPU-00000000-0000-0000-0000-000000000000")
    parser.add_argument("--max-request-seconds", type=int, default=MAX_REQUEST_SECONDS)
    parser.add_argument("--quota-left-seconds", type=int, default=MAX_REQUEST_SECONDS)
    options = parser.parse_args(argv)
    api = FakeDeviceAPI(
        options.answer,
        gpu_uuid=options.gpu_uuid,
        max_request_seconds=options.max_request_seconds,
        quota_left_seconds=options.quota_left_seconds,
        port=options.port,
    )
    print(f"fake ZeroGPU device API on {api.url} (answer: {api.answer}); GET /requests shows what it saw", flush=True)
    try:
        api._server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        api._server.server_close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
