"""ZeroGPU's contract, reproduced on CPU: calls each `@spaces.GPU` handler of app.py the way ZeroGPU does.

On ZeroGPU (spaces 0.51, see the template's facts sheet) a call to a handler:
1. runs the duration estimator in the main process with exactly the handler's arguments (Gradio's injected
   gr.Request and gr.Progress included), and reads its result as `timedelta(seconds=...).seconds`: None means 60 s,
   12.7 means 12, a negative number wraps to 86,395 s, a string raises TypeError;
2. asks the device scheduler for that many seconds, multiplied by the size's grant factor and counted its quota
   factor times (zerogpu/platform.py's GPU_SIZES), and the quota check refuses a request over what the visitor has
   left (MAX_REQUEST_SECONDS a day for a visitor who is not logged in);
3. pickles the arguments to a forked worker process, runs the handler there and pickles its result (each yield, for
   a generator) back to the main process, where rebuilding a CUDA tensor fails: "Low-level CUDA init ... reached".

`load(space_dir)` imports app.py with a stand-in for `spaces.GPU` that records each handler and binds its name to a
wrapper doing exactly that across a real process boundary (a fork per call). Breaking the contract raises a
`ContractViolation` naming the rule and the fix; other failures come back as ZeroGPU sends them (a gr.Error keeps its
message, any other exception becomes a gr.Error titled "ZeroGPU worker error" reading only its class name).

What a CPU cannot show: no CUDA tensor exists here, so the CUDA-init failure is checked by blocking CUDA
initialisation while results are unpickled (as ZeroGPU's patched torch does) and, on a machine with a GPU, by
refusing CUDA tensors before they are sent. `python -m zerogpu.emulate` runs the real `spaces` package on a GPU.

The caps come from `[tool.zerogpu]` in pyproject.toml (max-request-seconds, duration-factor), or the environment
variables ZEROGPU_MAX_REQUEST_SECONDS and ZEROGPU_DURATION_FACTOR.
"""

import atexit
import contextlib
import functools
import importlib.util
import inspect
import itertools
import os
import pickle
import socket
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing import get_context
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

import gradio as gr

from zerogpu.platform import DEFAULT_DURATION, SPACES_DEFAULT_SIZE
from zerogpu.rules import Space as SpaceFiles
from zerogpu.settings import LOW_LEVEL_CUDA_INIT, SAMPLE_TEXT, Limits, gpu_size

WORKER_TIMEOUT_S = 20 * 60  # spaces' GENERATOR_GLOBAL_TIMEOUT: the longest wait for a worker's next message


class ContractViolation(gr.Error):
    """A break of ZeroGPU's contract. A gr.Error, so that Gradio shows its message to the caller."""

    def __init__(self, rule: str, message: str):
        self.rule = rule
        self.detail = message
        super().__init__(f"[{rule}] {message}", title="ZeroGPU contract", print_exception=False)

    def __reduce__(self):
        return type(self), (self.rule, self.detail)

    def __str__(self) -> str:  # gr.Error shows repr(message)
        return self.message


@dataclass
class Handler:
    name: str
    task: Callable  # the function as written
    duration: Any  # seconds, a timedelta, an estimator, or None
    size: str | None
    generator: bool
    wrapper: Callable | None = None  # what the app calls: the task behind the process boundary


@dataclass(frozen=True)
class Scheduled:
    """One GPU request, as the device scheduler would see it."""

    handler: str
    args: tuple
    kwargs: dict
    seconds: int  # what ZeroGPU reads from the duration
    charged: int  # what the quota check counts
    size: str


@dataclass(frozen=True)
class Endpoint:
    """A Gradio event whose function reaches a GPU handler."""

    api_name: str
    handler: Handler
    components: tuple  # the event's input components, in order


# -- the process boundary ------------------------------------------------------------------------------------------

_in_worker = False  # True in a forked worker: nested GPU calls run directly there, as on ZeroGPU
_cuda_lock = threading.Lock()


@contextlib.contextmanager
def _cuda_blocked() -> Iterator[None]:
    """CUDA initialisation fails as on ZeroGPU's main process, where spaces replaces it with an error."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    with _cuda_lock:
        original = torch.cuda._lazy_init

        def refuse(*args, **kwargs):
            raise RuntimeError(LOW_LEVEL_CUDA_INIT)

        torch.cuda._lazy_init = refuse
        try:
            yield
        finally:
            torch.cuda._lazy_init = original


def _cuda_tensor_in(value: Any, depth: int = 0) -> str | None:
    """A description of the first CUDA tensor in a result (only possible on a machine with a GPU)."""
    torch = sys.modules.get("torch")
    if torch is None or depth > 4:
        return None
    if isinstance(value, torch.Tensor):
        return None if value.device.type == "cpu" else f"a tensor on {value.device}"
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple | set):
        return next((found for item in value if (found := _cuda_tensor_in(item, depth + 1))), None)
    return None


def _worker(connection, task: Callable, generator: bool, name: str) -> None:
    """The forked worker: takes the pickled arguments, runs the task, pickles each result back."""
    global _in_worker
    _in_worker = True
    if "torch" in sys.modules:
        # OpenMP thread pools do not survive fork: a child that runs a parallel op hangs unless it uses one thread.
        sys.modules["torch"].set_num_threads(1)

    def send(kind: str, value: Any) -> None:
        if found := _cuda_tensor_in(value):
            raise ContractViolation("cpu-results", _cuda_message(name, found))
        try:
            payload = ForkingPickler.dumps((kind, value))
        except Exception as error:  # PicklingError, or TypeError/AttributeError "cannot pickle ..."
            raise ContractViolation(
                "picklable-results",
                f"{name} returned {type(value).__name__!r}, which cannot be pickled ({error}): ZeroGPU pickles "
                "results back to the main process, and the visitor gets 'ZeroGPU worker error: PicklingError'. "
                "Fix: return plain data (str, numbers, lists and dicts of them, numpy arrays, PIL images, CPU "
                "tensors, file paths).",
            ) from error
        connection.send_bytes(payload)

    try:
        args, kwargs = pickle.loads(connection.recv_bytes())
        if generator:
            for value in task(*args, **kwargs):
                send("yield", value)
            send("end", None)
        else:
            send("ok", task(*args, **kwargs))
    except Exception as error:  # noqa: BLE001 (as ZeroGPU does: any error goes back to the caller)
        connection.send_bytes(ForkingPickler.dumps(("error", _describe(error))))
    with contextlib.suppress(EOFError, OSError):
        connection.recv_bytes()  # stay alive until the caller has unpickled: shared tensors are served from here
    connection.close()


def _describe(error: Exception) -> dict:
    shipped = error if isinstance(error, gr.Error) else None
    if shipped is not None:
        try:
            pickle.dumps(shipped)
        except Exception:  # noqa: BLE001 (a gr.Error subclass that does not pickle: keep its message)
            shipped = gr.Error(str(error))
    return {
        "class": type(error).__name__,
        "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        "error": shipped,
    }


def _cuda_message(name: str, found: str) -> str:
    return (
        f"{name} returned {found}: ZeroGPU pickles results back to the main process, where rebuilding a CUDA "
        f'tensor fails: "{LOW_LEVEL_CUDA_INIT}" Fix: return CPU data: tensor.cpu(), .cpu().numpy(), .tolist(), a '
        "PIL image or a file path."
    )


class _Call:
    """One call across the process boundary: a forked worker with a pipe to it."""

    def __init__(self, handler: Handler, args: tuple, kwargs: dict):
        self.handler = handler
        try:
            payload = ForkingPickler.dumps((args, kwargs))
        except Exception as error:
            raise ContractViolation(
                "picklable-arguments",
                f"{handler.name} was called with an argument that cannot be pickled ({error}): ZeroGPU pickles the "
                "arguments to the GPU worker and raises PicklingError in the caller. Fix: pass plain data, and "
                "reach models, locks and files through module-level names instead of arguments.",
            ) from error
        context = get_context("fork")
        self.connection, child = context.Pipe()
        self.process = context.Process(
            target=_worker, args=(child, handler.task, handler.generator, handler.name), daemon=True
        )
        self.process.start()
        child.close()
        self.connection.send_bytes(payload)

    def receive(self) -> tuple[str, Any]:
        if not self.connection.poll(WORKER_TIMEOUT_S):
            raise gr.Error(f"No result from {self.handler.name} after {WORKER_TIMEOUT_S} s", title="ZeroGPU worker")
        try:
            payload = self.connection.recv_bytes()
        except (EOFError, OSError):
            raise gr.Error("GPU task aborted", title="ZeroGPU worker error") from None
        try:
            with _cuda_blocked():
                kind, value = pickle.loads(payload)
        except RuntimeError as error:
            if LOW_LEVEL_CUDA_INIT not in str(error):
                raise
            raise ContractViolation("cpu-results", _cuda_message(self.handler.name, "a CUDA tensor")) from error
        if kind == "error":
            if value["error"] is not None:
                raise value["error"]
            print(value["traceback"], file=sys.stderr)
            raise gr.Error(value["class"], title="ZeroGPU worker error")
        return kind, value

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send_bytes(b"done")
        self.connection.close()
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


# -- the emulated Space --------------------------------------------------------------------------------------------


class EmulatedSpace:
    """app.py, imported with its GPU handlers behind ZeroGPU's process boundary."""

    def __init__(self, root: Path, limits: Limits):
        self.root = root
        self.limits = limits
        self.module: Any = None
        self.handlers: dict[str, Handler] = {}
        self.requests: list[Scheduled] = []
        self.violations: list[ContractViolation] = []
        self._lock = threading.Lock()
        self._decorated: dict[Callable, Callable] = {}
        self._server_url: str | None = None

    @property
    def demo(self) -> gr.Blocks:
        return self.module.demo

    # spaces.GPU, as the app sees it while it is imported here
    def gpu(self, task: Callable | None = None, *, duration: Any = None, size: str | None = None, **kwargs):
        if not callable(task):
            if isinstance(task, str):
                size = task
            elif task is not None:
                duration = task
            return functools.partial(self._decorate, duration=duration, size=size)
        return self._decorate(task, duration=duration, size=size)

    def _decorate(self, task: Callable, duration: Any, size: str | None) -> Callable:
        if task in self._decorated:
            return self._decorated[task]  # as spaces does: the first decoration wins
        if inspect.iscoroutinefunction(task) or inspect.isasyncgenfunction(task):
            raise self._violation(
                ContractViolation(
                    "no-async-gpu-handler",
                    f"{task.__name__} is async: on ZeroGPU spaces.GPU raises NotImplementedError for it. Fix: make "
                    "it a plain def (a generator to stream).",
                )
            )
        handler = Handler(task.__name__, task, duration, size, inspect.isgeneratorfunction(task))
        handler.wrapper = self._generator_wrapper(handler) if handler.generator else self._wrapper(handler)
        self.handlers[handler.name] = handler
        self._decorated[task] = self._decorated[handler.wrapper] = handler.wrapper
        return handler.wrapper

    def _violation(self, violation: ContractViolation) -> ContractViolation:
        with self._lock:
            self.violations.append(violation)
        return violation

    def _wrapper(self, handler: Handler) -> Callable:
        @functools.wraps(handler.task)
        def gpu_call(*args, **kwargs):
            if _in_worker:
                return handler.task(*args, **kwargs)
            self.schedule(handler.name, *args, **kwargs)
            call = self._start(handler, args, kwargs)
            try:
                return call.receive()[1]
            except ContractViolation as violation:
                raise self._violation(violation) from violation.__cause__
            finally:
                call.close()

        return gpu_call

    def _generator_wrapper(self, handler: Handler) -> Callable:
        @functools.wraps(handler.task)
        def gpu_call(*args, **kwargs):
            if _in_worker:
                yield from handler.task(*args, **kwargs)
                return
            self.schedule(handler.name, *args, **kwargs)
            call = self._start(handler, args, kwargs)
            try:
                while True:
                    kind, value = call.receive()
                    if kind == "end":
                        return
                    yield value
            except ContractViolation as violation:
                raise self._violation(violation) from violation.__cause__
            finally:
                call.close()

        return gpu_call

    def _start(self, handler: Handler, args: tuple, kwargs: dict) -> _Call:
        try:
            return _Call(handler, args, kwargs)
        except ContractViolation as violation:
            raise self._violation(violation) from violation.__cause__

    def schedule(self, name: str, *args, **kwargs) -> Scheduled:
        """Reads the handler's duration for this call as ZeroGPU does, checks it, and records the request."""
        handler = self.handlers[name]
        duration = handler.duration
        if callable(duration):
            estimator = getattr(duration, "__name__", repr(duration))
            try:
                inspect.signature(duration).bind(*args, **kwargs)
            except TypeError as error:
                raise self._violation(
                    ContractViolation(
                        "estimator-takes-handler-args",
                        f"the duration estimator {estimator}{inspect.signature(duration)} cannot take the arguments "
                        f"{name} was called with ({error}): ZeroGPU calls it with exactly the handler's arguments, "
                        f"Gradio's injected ones included, and the call fails before any GPU is asked for. Fix: give "
                        f"{estimator} the parameters of {name}{inspect.signature(handler.task)} (or *args, **kwargs).",
                    )
                ) from error
            try:
                value = duration(*args, **kwargs)
            except Exception as error:
                raise self._violation(
                    ContractViolation(
                        "estimator-raises",
                        f"the duration estimator {estimator} raised {type(error).__name__}: {error}. On ZeroGPU the "
                        "call fails before any GPU is asked for. Fix: make the estimator total: clamp, don't raise.",
                    )
                ) from error
        else:
            value = duration
        seconds = self._read_seconds(name, value)
        size = handler.size or SPACES_DEFAULT_SIZE
        charged = self.limits.charged(seconds, size)
        if not 1 <= charged <= self.limits.max_request_seconds:
            quota_factor = gpu_size(size).quota_factor
            scaling = f"x{self.limits.grant_factor(size):g} for {size}" + (
                f", then counted x{quota_factor}" if quota_factor != 1 else ""
            )
            wrapped = (
                " (a negative duration wraps around a day)" if isinstance(value, int | float) and value < 0 else ""
            )
            raise self._violation(
                ContractViolation(
                    "duration-within-cap",
                    f"{name} asks for {value!r}, which ZeroGPU reads as {seconds} s{wrapped} and the quota check "
                    f"counts as {charged} s ({scaling}): outside 1..{self.limits.max_request_seconds} s, the most a "
                    "visitor who is not logged in has a day, so the call is refused before it runs. Fix: clamp the "
                    "estimate (e.g. max(10, min(60, ...))), or raise max-request-seconds in [tool.zerogpu] if only "
                    "logged-in visitors use the Space.",
                )
            )
        request = Scheduled(name, args, kwargs, seconds, charged, size)
        with self._lock:
            self.requests.append(request)
        return request

    def _read_seconds(self, name: str, value: Any) -> int:
        if value is None:
            return DEFAULT_DURATION
        if isinstance(value, timedelta):
            return value.seconds
        try:
            return timedelta(seconds=value).seconds
        except TypeError as error:
            raise self._violation(
                ContractViolation(
                    "duration-type",
                    f"{name}'s duration is {value!r} ({type(value).__name__}): ZeroGPU reads it with "
                    "timedelta(seconds=...) and raises TypeError. Fix: return an int number of seconds.",
                )
            ) from error

    # what Gradio sends
    def endpoints(self, name: str | None = None) -> list[Endpoint]:
        """The public Gradio events whose function is, or wraps, a GPU handler (ChatInterface wraps its fn)."""
        found = []
        for block_function in self.demo.fns.values():
            if getattr(block_function, "api_visibility", "public") != "public" or block_function.fn is None:
                continue
            chain, function = [], block_function.fn
            while function is not None and len(chain) < 10:
                chain.append(function)
                function = getattr(function, "__wrapped__", None)
            for handler in self.handlers.values():
                if name in (None, handler.name) and any(f in (handler.wrapper, handler.task) for f in chain):
                    found.append(Endpoint(block_function.api_name, handler, tuple(block_function.inputs)))
        return found

    def concurrency_limit(self, api_name: str) -> int | None:
        """How many calls of this event Gradio runs at once (None: no limit), as the app's queue settings say."""
        (block_function,) = [fn for fn in self.demo.fns.values() if fn.api_name == api_name]
        if block_function.concurrency_limit != "default":
            return block_function.concurrency_limit
        queue = getattr(self.demo, "_queue", None)
        return queue.default_concurrency_limit if queue is not None else 1

    def launch(self) -> str:
        """Serve the emulated app in this process, on a free loopback port; returns its URL."""
        if self._server_url is None:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
            self.demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True)
            self._server_url = f"http://127.0.0.1:{port}/"
        return self._server_url

    def close(self) -> None:
        if self._server_url is not None:
            self.demo.close()
            self._server_url = None

    def check_distinct_outputs(self, name: str, *args, calls: int = 2, **kwargs) -> list:
        """Run the same request `calls` times at once; fail if two of them hand back the same file."""
        handler = self.handlers[name]

        def one_call():
            result = handler.wrapper(*args, **kwargs)
            return list(result)[-1] if handler.generator else result

        with ThreadPoolExecutor(calls) as pool:
            results = list(pool.map(lambda _: one_call(), range(calls)))
        owners: dict[str, int] = {}
        for index, result in enumerate(results):
            for path in output_files(result):
                if path in owners and owners[path] != index:
                    raise self._violation(
                        ContractViolation(
                            "distinct-output-files",
                            f"{calls} simultaneous calls of {name} returned the same file {path}: ZeroGPU runs "
                            "requests concurrently, so one visitor gets another's output, or half of it. Fix: write "
                            "each output to a new file of its own in Gradio's cache folder (output_files.new(suffix) "
                            "where the Space has output_files.py, else tempfile.mkstemp(dir=gr.utils.get_upload_folder())).",
                        )
                    )
                owners[path] = index
        return results


def output_files(value: Any, depth: int = 0) -> set[str]:
    """The files a result points at: strings and paths that name existing files, in any nesting."""
    if depth > 4:
        return set()
    if isinstance(value, str | os.PathLike):
        path = os.fspath(value)
        return {os.path.realpath(path)} if len(path) < 4096 and os.path.isfile(path) else set()
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple | set):
        return set().union(*(output_files(item, depth + 1) for item in value)) if value else set()
    return set()


_loaded = itertools.count()


def load(space_dir: Path | str = ".", limits: Limits | None = None) -> EmulatedSpace:
    """Import the Space's app file with its GPU handlers behind ZeroGPU's process boundary.

    The app runs in this process as it would on ZeroGPU's main process: models load at module scope, handlers run in
    forked workers. Importing twice gives two independent apps (each under a module name of its own).
    """
    import spaces

    root = Path(space_dir).resolve()
    space = EmulatedSpace(root, limits or Limits.of(root))
    app_path = root / SpaceFiles(root).app_file
    module_name = f"zerogpu_contract_app_{next(_loaded)}"
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    original = spaces.GPU
    spaces.GPU = space.gpu
    try:
        spec = importlib.util.spec_from_file_location(module_name, app_path)
        assert spec is not None and spec.loader is not None, app_path
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    finally:
        spaces.GPU = original
    space.module = module
    return space


def sample_inputs(components: tuple, case: str = "min", text: str = SAMPLE_TEXT) -> list:
    """Handler arguments for one Gradio event, from its input components.

    case: "default" (each component's value), "min" or "max" (sliders and bounded numbers at that end, the cheapest
    and the costliest request the UI allows), or "beyond" (ten times the maximum: what a direct API call can send).
    Empty text becomes `text`, so that the request is a valid one; file inputs (an image, audio, a message that
    accepts images) get a valid sample file (sample_file).
    """
    values = []
    for component in components:
        value = component.value() if callable(component.value) else component.value
        low, high = getattr(component, "minimum", None), getattr(component, "maximum", None)
        if isinstance(component, gr.Slider | gr.Number) and low is not None and high is not None:
            value = {"min": low, "max": high, "beyond": high * 10}.get(case, value)
        elif isinstance(component, gr.Textbox):
            value = value or text
        elif isinstance(component, gr.MultimodalTextbox):
            value = dict(value or {})
            value["text"] = value.get("text") or text
            value["files"] = value.get("files") or ([sample_file(".png")] if _accepts_images(component) else [])
        elif isinstance(component, gr.Image) and value is None:
            value = _as_image_type(sample_file(".png"), component.type)
        elif isinstance(component, gr.Audio) and value is None:
            value = sample_file(".wav") if component.type == "filepath" else _wav_samples(sample_file(".wav"))
        elif isinstance(component, gr.Chatbot | gr.State) and value is None:
            value = []
        elif isinstance(component, gr.Dropdown | gr.Radio) and value is None and component.choices:
            value = component.choices[0][1]
        values.append(value)
    return values


def handler_arguments(handler: Handler, values: list, request: gr.Request | None = None) -> list:
    """The arguments Gradio passes the handler for these input values: its injected gr.Request, gr.Progress (and
    the like) inserted where the handler declares them, as gradio.helpers.special_args does."""
    from gradio.helpers import special_args

    request = request or gr.Request(headers={"x-ip-token": "contract-test"}, client=None)
    arguments, *_ = special_args(handler.task, inputs=list(values), request=request)
    return arguments


def api_arguments(endpoint: Endpoint, values: list) -> list:
    """The same values as gradio_client sends them: State components are kept by the server, not sent, and files
    (an image, audio, a message's attachments) are uploaded, as `gradio_client.handle_file` does."""
    return [_api_value(component, value) for component, value in zip(endpoint.components, values, strict=True)
            if not _is_state(component)]  # fmt: skip


def sample_file(suffix: str) -> str:
    """A small valid input file of this type (".png": a 64x48 RGB image, ".wav": a second of a 440 Hz tone, 16 kHz
    mono), one per process, for the file inputs that sample_inputs fills."""
    return _sample_files()[suffix]


@functools.cache
def _sample_files() -> dict[str, str]:
    import shutil
    import tempfile
    import wave

    import numpy as np
    from PIL import Image

    folder = Path(tempfile.mkdtemp(prefix="zerogpu-samples-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    image = folder / "sample.png"
    x, y = np.meshgrid(np.linspace(0, 255, 64), np.linspace(0, 255, 48))
    Image.fromarray(np.stack([x, y, 255 - x], axis=-1).astype(np.uint8), "RGB").save(image)
    audio = folder / "sample.wav"
    tone = (0.3 * 32767 * np.sin(2 * np.pi * 440 * np.arange(16_000) / 16_000)).astype("<i2")
    with wave.open(str(audio), "wb") as out:
        out.setnchannels(1), out.setsampwidth(2), out.setframerate(16_000), out.writeframes(tone.tobytes())
    return {".png": str(image), ".wav": str(audio)}


def _accepts_images(component: gr.MultimodalTextbox) -> bool:
    types = component.file_types or ["image"]
    return any(kind in ("image", "file") or kind.lower() in (".png", "image/png", "image/*") for kind in types)


def _as_image_type(path: str, image_type: str) -> Any:
    import numpy as np
    from PIL import Image

    if image_type == "filepath":
        return path
    image = Image.open(path).convert("RGB")
    return image if image_type == "pil" else np.asarray(image)


def _wav_samples(path: str) -> tuple[int, Any]:
    import wave

    import numpy as np

    with wave.open(path, "rb") as audio:
        return audio.getframerate(), np.frombuffer(audio.readframes(audio.getnframes()), dtype="<i2")


def _api_value(component: Any, value: Any) -> Any:
    """A handler-side value of a file input as gradio_client sends it: the file, uploaded."""
    from gradio_client import handle_file

    if isinstance(component, gr.MultimodalTextbox) and isinstance(value, dict):
        return {**value, "files": [handle_file(_file_of(component, item)) for item in value.get("files", [])]}
    if isinstance(component, gr.Image | gr.Audio | gr.File | gr.Video) and value is not None:
        return handle_file(_file_of(component, value))
    return value


def _file_of(component: Any, value: Any) -> str:
    """A path holding value: itself if it is one, else the value written to a new file of the samples' folder."""
    import tempfile
    import wave

    import numpy as np
    from PIL import Image

    if isinstance(value, str | os.PathLike):
        return os.fspath(value)
    folder = Path(sample_file(".png")).parent
    if isinstance(component, gr.Audio):
        rate, samples = value
        fd, path = tempfile.mkstemp(suffix=".wav", dir=folder)
        with os.fdopen(fd, "wb") as raw, wave.open(raw, "wb") as out:
            out.setnchannels(1), out.setsampwidth(2), out.setframerate(rate)
            out.writeframes(np.asarray(samples, dtype="<i2").tobytes())
        return path
    image = value if isinstance(value, Image.Image) else Image.fromarray(np.asarray(value))
    fd, path = tempfile.mkstemp(suffix=".png", dir=folder)
    with os.fdopen(fd, "wb") as out:
        image.save(out, format="PNG")
    return path


def _is_state(component: Any) -> bool:
    return isinstance(component, gr.State)


__all__ = [
    "DEFAULT_DURATION",
    "LOW_LEVEL_CUDA_INIT",
    "ContractViolation",
    "EmulatedSpace",
    "Endpoint",
    "Handler",
    "Limits",
    "Scheduled",
    "api_arguments",
    "handler_arguments",
    "load",
    "output_files",
    "sample_file",
    "sample_inputs",
]
