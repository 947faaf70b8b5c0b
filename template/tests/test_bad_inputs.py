"""Every bad value an API client can send gets a message that says what is wrong, and the app keeps serving.

Each GPU endpoint (found by zerogpu/contract.py, with the Gradio components wired to it) gets, one input at a time,
values no page would send while its other inputs keep a good request's: for a slider NaN, infinities, huge,
negative, fractional (where it takes whole numbers) and out-of-range numbers, strings, None, bools, lists and
dicts, fixed ones and generated ones (hypothesis); for a text box None, numbers, lists and dicts. A slider's bad value
must be refused with a message naming its label; a text box's must be refused with a message or answered. Never
Gradio's bare "The upstream Gradio app has raised an exception", and after each bad request a good one is answered.
NaN and infinity travel in raw HTTP, as JSON's NaN and Infinity: gradio_client refuses to send them. Four visitors
send their cases at once, each in a session of its own.
"""

import math
from concurrent.futures import ThreadPoolExecutor

import gradio as gr
from conftest import Refused, api_call
from gradio_client import Client
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zerogpu import contract

GENERIC = "upstream Gradio app has raised an exception"
BAD_TEXT = [None, 42, ["a", "list"], {"a": "dict"}]
VISITORS = 4  # clients sending their cases at the same time, each in a session of its own
FUZZ = settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def inputs_of(zerogpu_space) -> list[tuple[contract.Endpoint, int, gr.components.Component]]:
    """(endpoint, position among the values a client sends, component) for every slider and text box."""
    found = []
    for endpoint in zerogpu_space.endpoints():
        sent = [component for component in endpoint.components if not isinstance(component, gr.State)]
        found += [
            (endpoint, position, component)
            for position, component in enumerate(sent)
            if isinstance(component, gr.Slider | gr.Textbox)
        ]
    assert found, "no GPU endpoint has a slider or a text box"
    return found


def good_request(endpoint: contract.Endpoint) -> list:
    return contract.api_arguments(endpoint, contract.sample_inputs(endpoint.components, "min"))


def whole(slider: gr.Slider) -> bool:
    return float(slider.minimum).is_integer() and float(slider.step).is_integer()


def bad_values(slider: gr.Slider) -> list:
    """Values a page never sends to this slider, of every kind."""
    low, high = slider.minimum, slider.maximum
    values = [math.nan, math.inf, -math.inf, 10**30, low - 1, high + 1, "abc", "5", None, True, [low], {"value": low}]
    if whole(slider):
        values.append(low + 0.5)
    return [value for value in values if not is_good(slider, value)]


def is_good(slider: gr.Slider, value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return False
    return slider.minimum <= value <= slider.maximum and (not whole(slider) or float(value).is_integer())


def generated_bad_values(slider: gr.Slider) -> st.SearchStrategy:
    numbers = st.one_of(st.integers(), st.floats(allow_nan=True, allow_infinity=True))
    others = st.one_of(st.text(max_size=12), st.none(), st.booleans(), st.lists(st.integers(), max_size=3),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))  # fmt: skip
    return st.one_of(numbers, others).filter(lambda value: not is_good(slider, value))


def send(url: str, api_name: str, values: list, client: Client):
    """One call: through gradio_client, or through raw HTTP when a value is NaN or infinite."""
    if any(isinstance(value, float) and not math.isfinite(value) for value in values):
        return api_call(url, api_name, *values)
    try:
        return client.predict(*values, api_name=f"/{api_name}")
    except AppError as error:
        raise Refused(str(error)) from error


def check(app_url, client, endpoint, position, component, value) -> None:
    values = good_request(endpoint)
    values[position] = value
    label = component.label or type(component).__name__
    try:
        send(app_url, endpoint.api_name, values, client)
        answered, said = True, ""
    except Refused as refusal:
        answered, said = False, str(refusal)
    assert GENERIC not in said, f"/{endpoint.api_name} {label}={value!r}: Gradio's bare error, not a message"
    if isinstance(component, gr.Slider):
        assert not answered, f"/{endpoint.api_name} took {label}={value!r}"
        assert label in said, f"/{endpoint.api_name} {label}={value!r}: the message does not name the input: {said}"
    else:
        assert answered or said, f"/{endpoint.api_name} {label}={value!r}: neither answered nor refused"
    assert send(app_url, endpoint.api_name, good_request(endpoint), client) is not None, "the next good request failed"


def test_every_bad_value_of_every_input_gets_a_message(app_url, zerogpu_space):
    cases = [
        (endpoint, position, component, value)
        for endpoint, position, component in inputs_of(zerogpu_space)
        for value in (bad_values(component) if isinstance(component, gr.Slider) else BAD_TEXT)
    ]

    def visitor(share: list) -> None:  # one client session each, its cases one after the other
        client = Client(app_url, verbose=False)
        for case in share:
            check(app_url, client, *case)

    with ThreadPoolExecutor(VISITORS) as pool:
        for finished in [pool.submit(visitor, cases[start::VISITORS]) for start in range(VISITORS)]:
            finished.result()


@FUZZ
@given(data=st.data())
def test_generated_bad_numbers_get_a_message(app_url, zerogpu_space, data):
    client = Client(app_url, verbose=False)
    for endpoint, position, component in inputs_of(zerogpu_space):
        if isinstance(component, gr.Slider):
            value = data.draw(generated_bad_values(component), label=f"{endpoint.api_name} {component.label}")
            check(app_url, client, endpoint, position, component, value)
