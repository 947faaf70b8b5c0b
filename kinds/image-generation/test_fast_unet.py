"""The UNet's CUDA graphs (fast_unet.py), on CPU, against the eager UNet on the tiny pipeline.

On CPU the app runs the UNet eagerly; `cuda_graphs.EmulatedGraph` replays it the way a CUDA graph would, so the graph
code path runs here too. Planted capture-unsafe forwards show that the checks catch them.
"""

import logging
import multiprocessing
import threading

import numpy as np
import pytest
import torch
from diffusers import DiffusionPipeline

import cuda_graphs
import fast_unet


@pytest.fixture(scope="module")
def pipe(tiny_model_dir):
    pipe = DiffusionPipeline.from_pretrained(tiny_model_dir, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture
def messages() -> list[str]:
    """What fast_unet logs."""
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Collect()
    fast_unet.log.addHandler(handler)
    yield lines
    fast_unet.log.removeHandler(handler)


@pytest.fixture
def graphed(pipe):
    """The UNet with fast_unet applied, as a CUDA graph would replay it; the eager forward back afterwards."""
    yield fast_unet.apply(pipe.unet, cuda_graphs.EmulatedGraph)
    pipe.unet.__dict__.pop("forward", None)  # the instance attribute apply() set: the class's own forward again


def draw(pipe, width=128, height=128, guidance=5.0, seed=3, **extra) -> np.ndarray:
    """Three steps: the first two check a new graph, the third replays it."""
    image = pipe("a red cube on a table", num_inference_steps=3, guidance_scale=guidance, width=width, height=height,
                 generator=torch.Generator().manual_seed(seed), **extra).images[0]  # fmt: skip
    return np.asarray(image)


@pytest.mark.parametrize(("width", "height", "guidance"), [(128, 128, 5.0), (160, 128, 5.0), (128, 160, 0.0)],
                         ids=["square", "wide", "no-guidance"])  # fmt: skip
def test_the_graphs_draw_the_eager_image(pipe, graphed, width, height, guidance):
    del pipe.unet.forward
    eager = draw(pipe, width, height, guidance)
    pipe.unet.forward = graphed
    np.testing.assert_array_equal(draw(pipe, width, height, guidance), eager)
    (entry,) = graphed.entries.values()  # one shape: batch 2 with guidance, 1 without
    assert entry is not None and entry.checks_left == 0, "the graph passed its checks and replayed the last steps"
    np.testing.assert_array_equal(draw(pipe, width, height, guidance), eager)  # and again, from the kept graph


def test_on_cpu_the_app_runs_the_unet_eagerly(pipe):
    graphed = fast_unet.apply(pipe.unet)  # as app.py does
    try:
        draw(pipe)
        assert graphed.entries == {}
    finally:
        del pipe.unet.forward


def test_calls_the_graphs_do_not_cover_run_eagerly(pipe, graphed):
    """Here with an attention mask on the prompt, which the graphs do not take as an input."""
    calls = []
    pipe.unet.forward = lambda *args, **kwargs: calls.append((args, kwargs)) or graphed.eager(*args, **kwargs)
    draw(pipe)
    (sample, timestep), kwargs = calls[0]
    mask = torch.ones(kwargs["encoder_hidden_states"].shape[:2])
    eager = graphed.eager(sample, timestep, **{**kwargs, "encoder_attention_mask": mask})[0]
    pipe.unet.forward = graphed
    torch.testing.assert_close(graphed(sample, timestep, **{**kwargs, "encoder_attention_mask": mask})[0], eager)
    assert graphed.entries == {}


# Planted forwards that decide something on the host and compute the same as the UNet eagerly: a graph of them would
# replay the first decision (harmless here, wrong in general); the checks must catch them, and the images stay equal.
def host_read(forward):
    def planted(sample, timestep, *args, **kwargs):
        return forward(sample * (1 + 0 * float(timestep.item())), timestep, *args, **kwargs)

    return planted


def host_counter(forward):
    calls = []

    def planted(sample, timestep, *args, **kwargs):
        calls.append(None)  # a shift by whole widths: the same sample, a different decision every call
        return forward(sample.roll(len(calls) * sample.shape[-1], dims=-1), timestep, *args, **kwargs)

    return planted


def host_tensor(forward):
    calls = []

    def planted(sample, timestep, *args, **kwargs):
        calls.append(None)  # a tensor made from host values, the changing one unused
        return forward(sample * torch.tensor([1.0, float(len(calls))])[0], timestep, *args, **kwargs)

    return planted


@pytest.mark.parametrize("plant", [host_read, host_counter, host_tensor])
def test_a_capture_unsafe_forward_is_caught_and_the_image_stays_right(pipe, messages, plant):
    """Each planted forward decides something on the host: replayed as a graph it would compute something else. The
    checks must catch it and run that shape eagerly, giving what the planted forward gives eagerly."""
    eager_forward = pipe.unet.forward
    pipe.unet.forward = plant(eager_forward)
    expected = draw(pipe)
    pipe.unet.forward = fast_unet.GraphedForward(pipe.unet, plant(eager_forward), cuda_graphs.EmulatedGraph)
    try:
        np.testing.assert_array_equal(draw(pipe), expected)
        assert list(pipe.unet.forward.entries.values()) == [None], "the shape was dropped to eager"
        assert any("CaptureError" in line and "runs eagerly" in line for line in messages), messages
    finally:
        del pipe.unet.forward


def test_requests_in_threads_share_graphs_never_their_buffers(pipe, graphed):
    """Off ZeroGPU, requests run in threads of one process: each gets its own image, as drawn alone."""
    sizes = [(128, 128, seed) for seed in range(2)] + [(160, 128, seed) for seed in range(2)]
    alone = [draw(pipe, width, height, seed=seed) for width, height, seed in sizes]
    together: list = [None] * len(sizes)
    start = threading.Barrier(len(sizes))

    def run(number):
        width, height, seed = sizes[number]
        start.wait()
        together[number] = draw_own(pipe, width, height, seed)

    threads = [threading.Thread(target=run, args=(number,)) for number in range(len(sizes))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for mine, theirs in zip(together, alone, strict=True):
        np.testing.assert_array_equal(mine, theirs)


def draw_own(pipe, width, height, seed) -> np.ndarray:
    """A request's own pipeline sharing the weights, as app.py builds one (a scheduler is per-call state)."""
    import copy

    from diffusers import SchedulerMixin
    from transformers import PreTrainedTokenizerBase

    parts = {name: copy.deepcopy(part) for name, part in pipe.components.items()
             if isinstance(part, SchedulerMixin | PreTrainedTokenizerBase)}  # fmt: skip
    own = type(pipe).from_pipe(pipe, dtype=pipe.dtype, **parts)
    own.set_progress_bar_config(disable=True)
    return draw(own, width, height, seed=seed)


def _entries_after_fork(graphed, queue) -> None:
    queue.put(len(graphed.entries))


def test_a_forked_worker_starts_with_no_graphs(pipe, graphed):
    """As ZeroGPU forks a worker per cold call: graphs and device memory never cross a fork."""
    draw(pipe)
    assert graphed.entries
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_entries_after_fork, args=(graphed, queue))
    child.start()
    child.join(timeout=60)
    assert queue.get(timeout=10) == 0
