"""zerogpu/contract.py catches each ZeroGPU mistake it claims to: small apps with one planted mistake each.

No GPU here, so the CUDA tensor is a stand-in: an object that pickles like one, whose rebuild in the main process
calls Tensor.cuda() and so reaches CUDA initialisation, which the harness blocks as ZeroGPU's main process does.
On a GPU, `python -m zerogpu.emulate` shows the real thing.
"""

import os
import textwrap
import threading
import time
from datetime import timedelta

import gradio as gr
import pytest
from zerogpu import contract
from zerogpu.settings import LOW_LEVEL_CUDA_INIT, Limits

PLANTED_APP = '''
import spaces

import os
import tempfile
import threading
import time
from datetime import timedelta

import gradio as gr
import torch

FIXED_OUTPUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "output.png")


class CudaTensorStandIn:
    """Pickles as a CUDA tensor does for its rebuild: unpickling runs Tensor.cuda(), which initialises CUDA."""

    def __reduce__(self):
        return (torch.Tensor.cuda, (torch.zeros(2),))


def two_arguments(prompt: str, steps: int) -> int:
    return 10


def prompt_only(prompt: str) -> int:
    return 10


def raises(prompt: str) -> int:
    raise ValueError("no estimate")


@spaces.GPU(duration=two_arguments)
def echo(prompt: str, steps: int) -> dict:
    return {"prompt": prompt, "steps": steps, "pid": os.getpid()}


@spaces.GPU(duration=10)
def lock(prompt: str):
    return threading.Lock()


@spaces.GPU(duration=10)
def cuda_tensor(prompt: str):
    return CudaTensorStandIn()


@spaces.GPU(duration=prompt_only)
def wrong_estimator(prompt: str, steps: int) -> str:
    return prompt


@spaces.GPU(duration=prompt_only)
def injected(prompt: str, request: gr.Request) -> str:
    return prompt


@spaces.GPU(duration=raises)
def estimator_raises(prompt: str) -> str:
    return prompt


@spaces.GPU(duration=10)
def fixed_path(prompt: str) -> str:
    with open(FIXED_OUTPUT, "w") as output:
        output.write(prompt)
    time.sleep(0.2)
    return FIXED_OUTPUT


@spaces.GPU(duration=10)
def own_path(prompt: str) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as output:
        output.write(prompt)
    return output.name


@spaces.GPU(duration=10)
def stream(prompt: str):
    for word in prompt.split():
        yield word
        time.sleep(0.5)


@spaces.GPU(duration=10)
def stream_lock(prompt: str):
    yield prompt
    yield threading.Lock()


@spaces.GPU(duration=10)
def fails(prompt: str) -> str:
    raise ValueError("a bug")


@spaces.GPU(duration=10)
def refuses(prompt: str) -> str:
    raise gr.Error("Write a prompt first.")


def duration_of(prompt: str):
    return DURATIONS[prompt]


DURATIONS = {}


@spaces.GPU(duration=duration_of)
def any_duration(prompt: str) -> str:
    return prompt


@spaces.GPU(duration=duration_of, size="xlarge")
def any_duration_xlarge(prompt: str) -> str:
    return prompt
'''


def plant(folder, source: str):
    (folder / "app.py").write_text(textwrap.dedent(source), encoding="utf-8")
    return contract.load(folder, limits=Limits())  # ZeroGPU's own caps, whatever pyproject.toml says


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    return plant(tmp_path_factory.mktemp("planted"), PLANTED_APP)


def violation(rule: str):
    return pytest.raises(contract.ContractViolation, match=rf"^\[{rule}\] .* Fix: ")


def test_a_handler_runs_in_a_forked_worker_and_its_result_comes_back(planted):
    result = planted.handlers["echo"].wrapper("cat", 3)
    assert result["prompt"] == "cat" and result["steps"] == 3
    assert result["pid"] != os.getpid()
    assert planted.requests[-1].seconds == 10 and planted.requests[-1].charged == 15  # x1.5 on large


def test_an_unpicklable_argument_is_caught_in_the_caller(planted):
    with violation("picklable-arguments"):
        planted.handlers["lock"].wrapper(threading.Lock())


def test_an_unpicklable_result_is_caught(planted):
    with violation("picklable-results") as caught:
        planted.handlers["lock"].wrapper("cat")
    assert "PicklingError" in str(caught.value)


def test_an_unpicklable_yield_is_caught(planted):
    values = planted.handlers["stream_lock"].wrapper("cat")
    assert next(values) == "cat"
    with violation("picklable-results"):
        next(values)


def test_a_cuda_tensor_returned_fails_as_in_zerogpus_main_process(planted):
    with violation("cpu-results") as caught:
        planted.handlers["cuda_tensor"].wrapper("cat")
    assert LOW_LEVEL_CUDA_INIT in str(caught.value)


def test_an_estimator_without_the_handlers_parameters_is_caught(planted):
    with violation("estimator-takes-handler-args"):
        planted.handlers["wrong_estimator"].wrapper("cat", 3)


def test_an_estimator_missing_a_gradio_injected_parameter_is_caught(planted):
    handler = planted.handlers["injected"]
    arguments = contract.handler_arguments(handler, ["cat"])
    assert isinstance(arguments[1], gr.Request), "gr.Request is inserted where the handler declares it"
    with violation("estimator-takes-handler-args"):
        handler.wrapper(*arguments)


def test_an_estimator_that_raises_is_caught(planted):
    with violation("estimator-raises"):
        planted.handlers["estimator_raises"].wrapper("cat")


@pytest.mark.parametrize(
    ("duration", "size", "seconds", "charged"),
    [
        (12.7, "large", 12, 18),  # timedelta(seconds=12.7).seconds truncates
        (None, "large", 60, 90),  # no duration: spaces' default of 60 s
        (timedelta(minutes=1), "xlarge", 60, 120),  # xlarge doubles
        (0.4, "large", 0, None),  # 0 s: refused
        (81, "large", 81, None),  # 122 s counted on large: over the cap
        (61, "xlarge", 61, None),  # 122 s counted on xlarge: over the cap
        (-1, "large", 86399, None),  # a negative duration wraps around a day
    ],
)
def test_durations_are_read_as_zerogpu_reads_them(planted, duration, size, seconds, charged):
    name = "any_duration_xlarge" if size == "xlarge" else "any_duration"
    key = f"{duration!r}-{size}"
    planted.module.DURATIONS[key] = duration
    if charged is None:
        with violation("duration-within-cap") as caught:
            planted.schedule(name, key)
        assert f"reads as {seconds} s" in str(caught.value)
    else:
        request = planted.schedule(name, key)
        assert (request.seconds, request.charged) == (seconds, charged)


def test_a_duration_zerogpu_cannot_read_is_caught(planted):
    planted.module.DURATIONS["text"] = "10"
    with violation("duration-type"):
        planted.handlers["any_duration"].wrapper("text")


def test_a_fixed_output_path_shared_by_simultaneous_calls_is_caught(planted):
    with violation("distinct-output-files"):
        planted.check_distinct_outputs("fixed_path", "cat", calls=2)
    assert len(planted.check_distinct_outputs("own_path", "cat", calls=2)) == 2


def test_a_generator_streams_each_value_through_the_boundary(planted):
    start = time.monotonic()
    values = planted.handlers["stream"].wrapper("one two three")
    assert next(values) == "one"
    first = time.monotonic() - start
    assert list(values) == ["two", "three"]
    assert first < time.monotonic() - start - 0.5, "the first value waited for the last one"


def test_errors_come_back_as_zerogpu_sends_them(planted):
    with pytest.raises(gr.Error) as caught:
        planted.handlers["fails"].wrapper("cat")
    assert (caught.value.title, caught.value.message) == ("ZeroGPU worker error", "ValueError")
    with pytest.raises(gr.Error) as caught:
        planted.handlers["refuses"].wrapper("cat")
    assert caught.value.message == "Write a prompt first."


def test_an_async_handler_is_refused_when_the_app_is_imported(tmp_path):
    source = """
        import spaces

        @spaces.GPU(duration=10)
        async def answer(prompt: str) -> str:
            return prompt
    """
    with violation("no-async-gpu-handler"):
        plant(tmp_path, source)


def test_violations_are_recorded_even_when_gradio_swallows_the_exception(planted):
    before = len(planted.violations)
    for name in ("lock", "cuda_tensor"):
        with pytest.raises(contract.ContractViolation):
            planted.handlers[name].wrapper("cat")
    assert [violation.rule for violation in planted.violations[before:]] == ["picklable-results", "cpu-results"]


def test_file_inputs_get_valid_sample_files_in_the_form_each_component_hands_its_handler():
    import wave

    import numpy as np
    from gradio_client.utils import is_file_obj_with_meta
    from PIL import Image

    components = (gr.Image(type="pil"), gr.Image(type="numpy"), gr.Image(type="filepath"), gr.Audio(type="filepath"),
                  gr.Audio(type="numpy"), gr.MultimodalTextbox(file_types=["image"]), gr.Textbox())  # fmt: skip
    pil, array, image_path, audio_path, (rate, samples), message, text = contract.sample_inputs(components)
    assert isinstance(pil, Image.Image) and pil.mode == "RGB" and pil.size == (64, 48)
    assert isinstance(array, np.ndarray) and array.shape == (48, 64, 3)
    assert Image.open(image_path).size == (64, 48)
    with wave.open(audio_path) as audio:  # the standard library's reader agrees it is a 16 kHz mono second
        assert (audio.getframerate(), audio.getnchannels(), audio.getnframes()) == (16_000, 1, 16_000)
    assert rate == 16_000 and samples.shape == (16_000,) and 0 < np.abs(samples).max() < 32767
    assert message["text"] == text and Image.open(message["files"][0]).format == "PNG"

    class Endpoint:
        pass

    Endpoint.components = components
    sent = contract.api_arguments(Endpoint, [pil, array, image_path, audio_path, (rate, samples), message, text])
    for value in (*sent[:5], *sent[5]["files"]):  # each file as gradio_client uploads it
        assert is_file_obj_with_meta(value) and os.path.isfile(value["path"]), value
    with wave.open(sent[4]["path"]) as audio:
        assert audio.getnframes() == 16_000
    assert np.array_equal(np.asarray(Image.open(sent[1]["path"])), array) and sent[6] == text
