"""Each @spaces.GPU handler of app.py keeps ZeroGPU's contract, checked on CPU by calling it as ZeroGPU does.

zerogpu/contract.py imports app.py with every handler behind ZeroGPU's process boundary: the duration estimator runs
with the handler's exact arguments and is read as ZeroGPU reads it, checked against [tool.zerogpu]'s caps; arguments
and results are pickled across a forked worker; generators stream through it. The handlers are found in app.py and
their inputs come from the Gradio components wired to them, so a handler you add is covered without editing this file.
"""

import contextlib
import hashlib
import inspect
import math
import os
from pathlib import Path

import pytest
from gradio_client import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zerogpu import contract, rules

SPACE_DIR = Path(__file__).resolve().parent.parent
APP = rules.Space(SPACE_DIR).app
STARTUP = APP.startup_calls  # GPU functions called once at start-up (AoTI compilation): no request reaches them
HANDLERS = sorted({handler.name for handler in APP.handlers} - STARTUP)
CASES = ("default", "min", "max", "beyond")  # the cases' meaning: zerogpu.contract.sample_inputs


@pytest.fixture(params=HANDLERS)
def handler(request, zerogpu_space) -> contract.Handler:
    assert request.param in zerogpu_space.handlers, f"{request.param} is not decorated when app.py is imported"
    return zerogpu_space.handlers[request.param]


@pytest.fixture
def endpoints(handler, zerogpu_space) -> list[contract.Endpoint]:
    found = zerogpu_space.endpoints(handler.name)
    assert found, f"{handler.name} is wired to no public Gradio event (api_name), so nothing calls it"
    return found


@pytest.fixture(scope="module")
def served(zerogpu_space) -> Client:
    """The emulated app, served in this process: Gradio calls the handlers, injecting what they declare."""
    return Client(zerogpu_space.launch(), verbose=False)


def cheapest_arguments(handler: contract.Handler, endpoint: contract.Endpoint) -> list:
    return contract.handler_arguments(handler, contract.sample_inputs(endpoint.components, "min"))


def comparable(value):
    """A result with each file it names replaced by a digest of its bytes, so that two runs can be compared."""
    if isinstance(value, str | os.PathLike) and contract.output_files(value):
        return ("file", hashlib.sha256(Path(value).read_bytes()).hexdigest())
    if isinstance(value, list | tuple):
        return [comparable(item) for item in value]
    if isinstance(value, dict):
        return {key: comparable(item) for key, item in value.items()}
    return value


@contextlib.contextmanager
def one_thread():
    """Torch computing on one thread, as in the forked worker (OpenMP's thread pools do not survive a fork): a
    kernel that splits its work across threads may round differently, and give another image, on two."""
    import torch  # here: the app's own import of torch comes after spaces'

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def test_handlers_found_at_import_are_those_in_the_source(zerogpu_space):
    assert zerogpu_space.handlers, "app.py has no @spaces.GPU handler"
    assert set(zerogpu_space.handlers) - STARTUP <= set(HANDLERS), (set(zerogpu_space.handlers), HANDLERS)


@pytest.mark.parametrize("case", CASES)
def test_duration_is_read_as_zerogpu_reads_it_and_stays_within_the_caps(zerogpu_space, handler, endpoints, case):
    """Every request the UI allows (and ten times its maxima, as an API call can send) asks for a duration the
    quota check lets through; a failure says which rule broke and how to fix it."""
    for endpoint in endpoints:
        arguments = contract.handler_arguments(handler, contract.sample_inputs(endpoint.components, case))
        request = zerogpu_space.schedule(handler.name, *arguments)
        assert 1 <= request.charged <= zerogpu_space.limits.max_request_seconds, request


ANY_VALUE = st.one_of(
    st.sampled_from([math.nan, math.inf, -math.inf, -1, 10**400, 0.5, "abc", "", None, True, [1], {"a": 1}, object()]),
    st.integers(), st.floats(), st.text(max_size=8), st.lists(st.integers(), max_size=2),
)  # fmt: skip


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_estimator_never_raises_and_asks_for_what_zerogpu_accepts(zerogpu_space, handler, endpoints, data):
    """ZeroGPU runs the estimator before the handler can refuse a bad request: whatever an argument is, it must
    return seconds within the caps (an estimator that raises fails the call before any GPU is asked for, and the
    visitor gets no message). The handler then refuses the request itself."""
    for endpoint in endpoints:
        arguments = cheapest_arguments(handler, endpoint)
        position = data.draw(st.integers(0, len(arguments) - 1), label="argument")
        arguments[position] = data.draw(ANY_VALUE, label="value")
        request = zerogpu_space.schedule(handler.name, *arguments)  # a ContractViolation says what broke
        assert 1 <= request.charged <= zerogpu_space.limits.max_request_seconds, request


def test_a_call_crosses_the_process_boundary_intact(zerogpu_space, handler, endpoints):
    """Pickled to a forked worker and back, the result is the one an in-process call on one thread gives (files
    compared by content); a generator streams each value across."""
    arguments = cheapest_arguments(handler, endpoints[0])
    through_boundary = handler.wrapper(*arguments)
    with one_thread():
        in_process = handler.task(*arguments)
        if handler.generator:
            through_boundary, in_process = list(through_boundary), list(in_process)
        assert through_boundary, f"{handler.name} yielded nothing"
    assert comparable(through_boundary) == comparable(in_process)
    assert zerogpu_space.requests[-1].handler == handler.name


def test_gradio_calls_reach_the_estimator_with_every_argument(served, zerogpu_space, handler, endpoints):
    """Through the running app, Gradio passes the handler its inputs and whatever it injects (gr.Request,
    gr.Progress): the estimator gets all of them, and the call completes."""
    parameters = inspect.signature(handler.task).parameters
    for endpoint in endpoints:
        values = contract.sample_inputs(endpoint.components, "min")
        before = len(zerogpu_space.requests)
        result = served.predict(*contract.api_arguments(endpoint, values), api_name=f"/{endpoint.api_name}")
        assert result is not None
        calls = [request for request in zerogpu_space.requests[before:] if request.handler == handler.name]
        assert calls, f"/{endpoint.api_name} did not reach {handler.name} through the boundary"
        assert len(calls[-1].args) + len(calls[-1].kwargs) == len(parameters), calls[-1]


def test_simultaneous_calls_hand_back_files_of_their_own(zerogpu_space, handler, endpoints):
    zerogpu_space.check_distinct_outputs(handler.name, *cheapest_arguments(handler, endpoints[0]), calls=3)


def test_no_contract_violation_was_recorded(zerogpu_space):
    """Violations raised inside Gradio's worker threads end up here too."""
    assert not zerogpu_space.violations, "\n".join(str(violation) for violation in zerogpu_space.violations)
