"""16 simultaneous requests through the running app give 16 distinct, complete outputs.

ZeroGPU runs requests concurrently (not opt-in), so shared mutable state or a fixed output path mixes visitors'
results. Each GPU endpoint gets 16 requests at once, made distinct by their text and by one integer setting (a seed
if the UI has one, else the first integer slider: request i takes its minimum plus i steps), the rest at their
cheapest; every output must differ from the others and equal what the same request gives alone afterwards. Each
request is a visitor of its own (a client session of its own: a ChatInterface keeps one conversation per session).
The requests come from the Gradio components wired to each handler (zerogpu/contract.py), so new handlers are covered.
"""

import hashlib
import multiprocessing
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import gradio as gr
import pytest
from gradio_client import Client

from zerogpu import contract

REQUESTS = 16
COLD_START_ROUNDS = 10


def requests_for(endpoint: contract.Endpoint) -> list[list]:
    base = contract.sample_inputs(endpoint.components, "min")
    integer_sliders = [
        index
        for index, component in enumerate(endpoint.components)
        if isinstance(component, gr.Slider) and float(component.step).is_integer() and component.maximum is not None
    ]
    seeds = [index for index in integer_sliders if "seed" in (endpoint.components[index].label or "").lower()]
    varied = (seeds or integer_sliders or [None])[0]
    requests = []
    for number in range(REQUESTS):
        values = list(base)
        for index, component in enumerate(endpoint.components):
            if isinstance(component, gr.Textbox | gr.MultimodalTextbox) and isinstance(values[index], str):
                values[index] = f"{values[index]} #{number}"
        if varied is not None:
            slider = endpoint.components[varied]
            values[varied] = min(int(slider.minimum + number * slider.step), int(slider.maximum))
        requests.append(contract.api_arguments(endpoint, values))
    return requests


def comparable(value):
    """Files by the digest of their bytes (and checked to be there), everything else as is."""
    if isinstance(value, str) and contract.output_files(value):
        return ("file", hashlib.sha256(Path(value).read_bytes()).hexdigest())
    if isinstance(value, list | tuple):
        return tuple(comparable(item) for item in value)
    if isinstance(value, dict):
        return tuple(sorted((key, comparable(item)) for key, item in value.items()))
    return value


def gpu_endpoints(zerogpu_space) -> list[contract.Endpoint]:
    endpoints = zerogpu_space.endpoints()
    assert endpoints, "no public Gradio event reaches a @spaces.GPU handler"
    return endpoints


def test_the_app_lets_16_requests_run_at_once(zerogpu_space):
    """As ZeroGPU does: Gradio's default of one at a time would queue them and hide what this file looks for."""
    for endpoint in gpu_endpoints(zerogpu_space):
        limit = zerogpu_space.concurrency_limit(endpoint.api_name)
        assert limit is None or limit >= REQUESTS, (
            f"/{endpoint.api_name} runs at most {limit} request(s) at once: raise default_concurrency_limit in "
            "app.py's demo.queue(...) (ZeroGPU runs requests concurrently)"
        )


def test_16_simultaneous_requests_give_16_distinct_complete_outputs(app_url, zerogpu_space):
    for endpoint in gpu_endpoints(zerogpu_space):
        requests = requests_for(endpoint)
        api_name = f"/{endpoint.api_name}"
        visitors = [Client(app_url, verbose=False) for _ in requests]
        jobs = [
            visitor.submit(*arguments, api_name=api_name) for visitor, arguments in zip(visitors, requests, strict=True)
        ]
        with ThreadPoolExecutor(REQUESTS) as pool:
            together = list(pool.map(lambda job: comparable(job.result(timeout=300)), jobs))
        assert len(set(together)) == REQUESTS, f"{api_name}: only {len(set(together))} distinct outputs: {together}"
        alone = [
            comparable(Client(app_url, verbose=False).predict(*arguments, api_name=api_name)) for arguments in requests
        ]
        mixed = [number for number in range(REQUESTS) if together[number] != alone[number]]
        assert not mixed, f"{api_name}: requests {mixed} gave another output when sent together than alone"


def test_the_requests_themselves_differ(zerogpu_space):
    """Else 16 distinct outputs would prove nothing."""
    for endpoint in gpu_endpoints(zerogpu_space):
        assert len({repr(arguments) for arguments in requests_for(endpoint)}) == REQUESTS


def _worker() -> None:
    pass


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")  # spaces forks so too
def test_visitors_arriving_together_can_all_start_a_gpu_worker(app_module):
    """On ZeroGPU a call that finds no warm worker forks one from the request's own thread (spaces 0.51.3,
    spaces.zero.wrappers.Worker: multiprocessing's fork context, no lock), so visitors who arrive together fork at
    once. filelock 3.30 and later, which huggingface_hub imports, refuse a fork while another thread is forking
    ("os.fork is unsafe while filelock is changing descriptor ownership", Python 3.12 and later): the visitor would
    get an error. pyproject.toml pins filelock below 3.30; here 16 threads fork as spaces does, 10 times over, with
    everything app.py imports loaded."""
    context = multiprocessing.get_context("fork")
    failures: list[str] = []

    def cold_start(barrier: threading.Barrier) -> None:
        barrier.wait()
        try:
            worker = context.Process(target=_worker, daemon=True)
            worker.start()
            worker.join()
        except Exception as error:  # noqa: BLE001 - every failure is counted, whatever raised it
            failures.append(f"{type(error).__name__}: {error}")

    for _ in range(COLD_START_ROUNDS):
        barrier = threading.Barrier(REQUESTS)
        threads = [threading.Thread(target=cold_start, args=(barrier,)) for _ in range(REQUESTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not failures, (
        f"{len(failures)} of {REQUESTS * COLD_START_ROUNDS} simultaneous worker starts failed, first: {failures[0]}. "
        "Keep pyproject.toml's filelock pin (see its comment) and run `python -m zerogpu.export`."
    )
