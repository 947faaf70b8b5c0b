"""The image app, served by `python app.py` on a tiny random pipeline and called as a user's client would."""

import contextlib
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import gradio as gr
import numpy as np
import pytest
import torch
from conftest import SPACE_DIR, api_call, free_port, wait_until_serving
from diffusers import DiffusionPipeline
from gradio_client.exceptions import AppError
from PIL import Image

import output_files

REQUEST = {"prompt": "a red cube on a table", "negative_prompt": "", "steps": 2, "guidance_scale": 5.0}


def direct_image(model_dir, width: int, height: int, seed: int) -> np.ndarray:
    """The image diffusers alone draws for the same request, without the app."""
    pipe = DiffusionPipeline.from_pretrained(model_dir, dtype=torch.float32)
    image = pipe(
        prompt=REQUEST["prompt"],
        num_inference_steps=REQUEST["steps"],
        guidance_scale=REQUEST["guidance_scale"],
        width=width,
        height=height,
        generator=torch.Generator("cpu").manual_seed(seed),
    ).images[0]
    return np.asarray(image)


def test_generate_returns_a_png_of_the_requested_size(client, tiny_model_dir):
    path = client.predict(*REQUEST.values(), 320, 256, 7, api_name="/generate")
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (320, 256)
        np.testing.assert_array_equal(np.asarray(image.convert("RGB")), direct_image(tiny_model_dir, 320, 256, 7))


def test_the_seed_used_is_the_sliders_when_randomize_is_off(app_module):
    assert [app_module.pick_seed(seed, False) for seed in (0, 42, app_module.MAX_SEED)] == [0, 42, app_module.MAX_SEED]


def test_randomize_picks_a_fresh_seed_in_range_each_time(app_module):
    seeds = [app_module.pick_seed(42, True) for _ in range(20)]
    assert all(isinstance(seed, int) and 0 <= seed <= app_module.MAX_SEED for seed in seeds), seeds
    assert len(set(seeds)) > 1, f"20 draws of 2**31 seeds gave {set(seeds)}"


def test_the_api_offers_generate_alone_with_an_explicit_seed(client):
    """Picking the seed is the page's step before /generate: API and MCP callers send a seed themselves."""
    api = client.view_api(return_format="dict", print_info=False)
    assert list(api["named_endpoints"]) == ["/generate"] and not api["unnamed_endpoints"], api
    assert api["named_endpoints"]["/generate"]["parameters"][-1]["parameter_name"] == "seed"


def test_a_request_reports_its_denoising_steps_as_progress(client):
    """diffusers' step bar (tqdm) reaches the client as Gradio progress, step by step.

    Gradio sends the latest progress every 10 ms and the client keeps only the latest: 8 steps at 256x256 on the tiny
    model once all fell between two looks (CI: one state seen, step 4 of 8). So the request is the longest the app
    takes on its smallest side, 50 steps at 512x512, hundreds of milliseconds on CPU."""
    steps, seen = 50, set()
    job = client.submit(REQUEST["prompt"], "", steps, 0.0, 512, 512, 0, api_name="/generate")
    while not job.done():
        for unit in job.status().progress_data or []:
            seen.add((unit.index, unit.length, unit.unit))
        time.sleep(0.01)
    assert Path(job.result()).is_file()
    assert {(length, unit) for _, length, unit in seen} == {(steps, "steps")}, seen
    assert len({index for index, _, _ in seen}) > 1, f"one progress state only: {seen}"


def test_every_call_writes_its_own_file_where_gradio_serves_it(app_module):
    """A file of its own per request (concurrent requests never share one), in Gradio's cache folder, which Gradio
    serves without a copy and output_files empties (see the next tests): a file in /tmp would stay for as long as the
    Space runs."""
    paths = [app_module.generate(*REQUEST.values(), 256, 256, 3) for _ in range(3)]
    assert len(set(paths)) == 3, "concurrent requests must never share an output path"
    for path in paths:
        assert Path(path).parent == Path(gr.utils.get_upload_folder()), path
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (256, 256)


def test_outputs_over_the_age_limit_are_removed_and_younger_files_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(output_files, "folder", lambda: tmp_path)
    old, young = output_files.new(".png"), output_files.new(".png")
    other = tmp_path / "upload.png"  # not an output: Gradio's delete_cache owns it
    other.write_bytes(b"")
    an_hour_and_a_second_ago = time.time() - output_files.MAX_AGE_SECONDS - 1
    for path in (old, other):
        os.utime(path, (an_hour_and_a_second_ago, an_hour_and_a_second_ago))
    output_files.remove_expired()
    assert sorted(tmp_path.iterdir()) == sorted([young, other])


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_a_hundred_requests_leave_a_bounded_number_of_files(app_env, tmp_path):
    """The app as app.py builds it, with its temporary folder (and so Gradio's cache) in a folder of the test's own
    and outputs expiring after 5 s instead of an hour. 100 requests from four visitors at a time, a pause, then one
    more: only that last image is left, in /tmp and in Gradio's cache alike. (Gradio's own delete_cache sweep is no
    help here: on a busy Space it stops for good, see output_files.py.)"""
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    port = free_port()
    launch = "import output_files; output_files.MAX_AGE_SECONDS = 5; import app; app.demo.launch()"
    env = {**app_env, "TMPDIR": str(temporary), "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port)}
    with open(tmp_path / "app.log", "w+") as log:
        served = subprocess.Popen([sys.executable, "-c", launch], cwd=SPACE_DIR, env=env, stdout=log, stderr=log)
        try:
            url = f"http://127.0.0.1:{port}/"
            wait_until_serving(url, served, tmp_path / "app.log")
            started = set(files_under(temporary))  # what start-up leaves (torch writes a module there)

            def draw(seed: int) -> dict:
                return api_call(url, "generate", REQUEST["prompt"], "", 1, 0.0, 256, 256, seed)[0]

            with ThreadPoolExecutor(4) as visitors:  # four visitors at a time, 100 distinct images
                images = list(visitors.map(draw, range(100)))
            assert len({image["path"] for image in images}) == 100
            time.sleep(6)  # every image is now over 5 s old
            last = draw(100)
            left = [path for path in files_under(temporary) if path not in started]
        finally:
            served.terminate()
            served.wait(timeout=30)
    assert [path.name for path in left] == [Path(last["path"]).name], f"{len(left)} files left: {left[:10]}"


def test_a_request_leaves_the_shared_weights_in_their_dtype(app_module):
    """On a GPU the app loads bfloat16 weights; a request that cast the shared pipeline to float32 would make every
    later one several times slower and twice as big (diffusers' from_pipe does so unless told the dtype)."""
    pipe = app_module.pipe
    pipe.to(torch.bfloat16)  # as on a GPU; CPU runs the tiny model in bfloat16 too
    try:
        app_module.generate(*REQUEST.values(), 256, 256, 3)
        dtypes = {name: part.dtype for name, part in pipe.components.items() if isinstance(part, torch.nn.Module)}
        assert set(dtypes.values()) == {torch.bfloat16}, dtypes
    finally:
        pipe.to(torch.float32)


STEPS, GUIDANCE = "Steps must be a whole number from 1 to 50", "Guidance scale must be a number from 0 to 20"
WIDTH, SEED = "Width must be a whole number from 256 to 1024", "Seed must be a whole number from 0 to 2147483647"


# The sliders check what an API client sends (validation.check_api_inputs), the handler checks it again (for direct
# calls, as test_the_handler_refuses_out_of_range_values shows). tests/test_bad_inputs.py sends generated values.
@pytest.mark.parametrize(
    ("prompt", "steps", "guidance", "width", "height", "seed", "message"),
    [("  ", 2, 5.0, 256, 256, 0, "Write a prompt"), ("", 2, 5.0, 256, 256, 0, "Write a prompt"),
     (None, 2, 5.0, 256, 256, 0, "Write a prompt"),
     ("cat", 0, 5.0, 256, 256, 0, STEPS), ("cat", 1000, 5.0, 256, 256, 0, STEPS), ("cat", 2.5, 5.0, 256, 256, 0, STEPS),
     ("cat", "2", 5.0, 256, 256, 0, STEPS), ("cat", None, 5.0, 256, 256, 0, STEPS), ("cat", True, 5.0, 256, 256, 0, STEPS),
     ("cat", 2, -1.0, 256, 256, 0, GUIDANCE), ("cat", 2, 25.0, 256, 256, 0, GUIDANCE),
     ("cat", 2, [5.0], 256, 256, 0, GUIDANCE),
     ("cat", 2, 5.0, 4096, 4096, 0, WIDTH), ("cat", 2, 5.0, 100_000, 100_000, 0, WIDTH),
     ("cat", 2, 5.0, -256, 256, 0, WIDTH), ("cat", 2, 5.0, 300, 256, 0, "multiples of 64"),
     ("cat", 2, 5.0, 256, 256, -5, SEED), ("cat", 2, 5.0, 256, 256, 2**40, SEED), ("cat", 2, 5.0, 256, 256, 0.5, SEED)],
)  # fmt: skip
def test_bad_input_gives_an_error_and_the_app_keeps_serving(
    client, prompt, steps, guidance, width, height, seed, message
):
    with pytest.raises(AppError, match=re.escape(message)):  # the app's own gr.Error, not a crash
        client.predict(prompt, "", steps, guidance, width, height, seed, api_name="/generate")
    assert client.predict(*REQUEST.values(), 256, 256, 0, api_name="/generate")


@pytest.mark.parametrize(
    ("steps", "guidance", "side", "seed", "message"),
    [(0, 5.0, 256, 0, "Steps"), (51, 5.0, 256, 0, "Steps"), (2, 21.0, 256, 0, "Guidance"),
     (2, 5.0, 100_000, 0, "Width"), (2, 5.0, 300, 0, "multiples of 64"), (2, 5.0, 256, -1, "Seed"),
     (float("nan"), 5.0, 256, 0, "Steps"), (2, float("inf"), 256, 0, "Guidance"), (2, 5.0, 256, "0", "Seed")],
)  # fmt: skip
def test_the_handler_refuses_out_of_range_values(app_module, steps, guidance, side, seed, message):
    """The handler checks its inputs itself too: code that calls it directly gets no Slider in between."""
    with pytest.raises(gr.Error, match=message):
        app_module.generate("cat", "", steps, guidance, side, side, seed)


def test_estimate_grows_with_steps_and_pixels_and_stays_clamped(app_module):
    table = {"handlers": {"generate": {**app_module.durations.load()["handlers"]["generate"], "floor_s": 1}}}
    with mock.patch.object(app_module.durations, "table", lambda: table):  # no floor, to see every term count
        few = app_module.generate_duration("cat", "", 4, 7.0, 256, 256, 0)
        more_steps = app_module.generate_duration("cat", "", 50, 7.0, 256, 256, 0)
        more_pixels = app_module.generate_duration("cat", "", 50, 7.0, 1024, 1024, 0)
    assert all(isinstance(seconds, int) for seconds in (few, more_steps, more_pixels))
    assert 1 <= few < more_steps < more_pixels


def test_the_largest_image_the_ui_allows_fits_under_the_ceiling(app_module):
    """At the ceiling the estimate would be clamped, and ZeroGPU would stop the call before the image is done."""
    entry = app_module.durations.load()["handlers"]["generate"]
    steps, megapixels = app_module.MAX_STEPS, app_module.MAX_SIDE**2 / 1_000_000
    largest = {"steps": steps, "megapixels": megapixels, "step_megapixels": steps * megapixels}
    needed = app_module.durations.seconds_for({**entry, "ceiling_s": 10**6}, largest)
    assert needed < entry["ceiling_s"], (
        f"{steps} steps at {app_module.MAX_SIDE}x{app_module.MAX_SIDE} need {needed} s, over durations.json's "
        f"{entry['ceiling_s']} s ceiling: lower MAX_STEPS or MAX_SIDE in app.py, or raise the ceiling"
    )


def logged_calls(app_log) -> list[tuple[int, float]]:
    """(declared, actual) seconds of each `generate` call in the served app's log."""
    found = re.findall(r"^duration generate: declared (\d+) s, took ([\d.]+) s", app_log.read_text(), re.MULTILINE)
    return [(int(declared), float(actual)) for declared, actual in found]


def test_each_call_logs_its_declared_and_actual_seconds(client, app_log, app_module):
    before = logged_calls(app_log)
    client.predict(*REQUEST.values(), 320, 256, 5, api_name="/generate")
    after = logged_calls(app_log)
    assert len(after) == len(before) + 1, app_log.read_text()
    declared, actual = after[-1]
    assert declared == app_module.generate_duration(*REQUEST.values(), 320, 256, 5) and actual > 0


@contextlib.contextmanager
def capture_first_call(module):
    """What spaces.aoti_capture does, for CPU: the spaces helper itself needs a CUDA build of torch."""

    class Call:
        args, kwargs = (), {}

    class Captured(Exception):
        pass

    def capture(*args, **kwargs):
        Call.args, Call.kwargs = args, kwargs
        raise Captured

    with mock.patch.object(module, "forward", new=capture):
        try:
            yield Call
        except Captured:
            pass


def test_aoti_falls_back_to_eager_off_zerogpu(client, app_log, app_module):
    if not hasattr(app_module, "aoti_unet"):
        pytest.skip("AoTI is off in this Space (the aoti question)")
    assert "AoTI: not on ZeroGPU (SPACES_ZERO_GPU is not set), so the UNet runs eagerly." in app_log.read_text()


def test_aoti_exports_the_unet_with_free_batch_and_size(app_module, monkeypatch):
    """The graph ZeroGPU compiles is traced once, at the default size: it must accept every size the UI allows."""
    if not hasattr(app_module, "aoti_unet"):
        pytest.skip("AoTI is off in this Space (the aoti question)")
    monkeypatch.setattr(app_module.spaces, "aoti_capture", capture_first_call)
    exported = app_module.aoti_unet.export(app_module.pipe, app_module.MIN_SIDE, app_module.MAX_SIDE).module()
    with capture_first_call(app_module.pipe.unet) as call:
        app_module.pipe("a cube", num_inference_steps=1, width=256, height=256)
    for batch, height, width in [(2, 256, 256), (1, 256, 320), (2, 1024, 768)]:
        sample = torch.randn(batch, 4, height // 8, width // 8)
        kwargs = {**call.kwargs, "encoder_hidden_states": call.kwargs["encoder_hidden_states"][:batch],
                  "added_cond_kwargs": {key: value[:batch] for key, value in call.kwargs["added_cond_kwargs"].items()}}  # fmt: skip
        expected = app_module.pipe.unet(sample, call.args[1], **kwargs)[0]
        torch.testing.assert_close(exported(sample, call.args[1], **kwargs)[0], expected)
