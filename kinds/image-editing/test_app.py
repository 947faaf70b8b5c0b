"""The image-editing app, served by `python app.py` on a tiny random pipeline and called as a user's client would."""

import io
import os
import re
import subprocess
import sys
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from unittest import mock

import gradio as gr
import numpy as np
import pytest
import torch
from conftest import SPACE_DIR, free_port, wait_until_serving
from diffusers import DiffusionPipeline
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

import output_files

HOUSE = SPACE_DIR / "examples" / "house.png"  # the example the kind ships: 512 x 384
INSTRUCTION = "make it a winter evening"
SETTINGS = {"steps": 2, "text_guidance": 7.5, "image_guidance": 1.5}


def direct_edit(model_dir, image: Image.Image, seed: int) -> np.ndarray:
    """The edit diffusers alone makes of the same request, without the app."""
    pipe = DiffusionPipeline.from_pretrained(model_dir, dtype=torch.float32)
    edited = pipe(
        prompt=INSTRUCTION,
        image=image,
        num_inference_steps=SETTINGS["steps"],
        guidance_scale=SETTINGS["text_guidance"],
        image_guidance_scale=SETTINGS["image_guidance"],
        generator=torch.Generator("cpu").manual_seed(seed),
    ).images[0]
    return np.asarray(edited)


def edit_through_api(client: Client, image, seed: int = 0, **changes) -> str:
    request = {"instruction": INSTRUCTION, **SETTINGS, "seed": seed, **changes}
    return client.predict(image, *request.values(), api_name="/edit")


def png_file(tmp_path: Path, image: Image.Image, name: str = "upload.png") -> str:
    path = tmp_path / name
    image.save(path)
    return str(path)


def test_an_uploaded_image_is_edited_as_diffusers_alone_edits_it(client, tiny_model_dir):
    path = edit_through_api(client, handle_file(str(HOUSE)), seed=7)
    with Image.open(path) as edited, Image.open(HOUSE) as house:
        assert edited.format == "PNG" and edited.size == house.size == (512, 384)
        expected = direct_edit(tiny_model_dir, house.convert("RGB"), seed=7)
        np.testing.assert_array_equal(np.asarray(edited.convert("RGB")), expected)


def test_the_same_seed_gives_the_same_edit_and_another_seed_another(client):
    first, again, other = (edit_through_api(client, handle_file(str(HOUSE)), seed=seed) for seed in (3, 3, 4))
    pixels = [np.asarray(Image.open(path)) for path in (first, again, other)]
    np.testing.assert_array_equal(pixels[0], pixels[1])
    assert not np.array_equal(pixels[0], pixels[2])


@pytest.mark.parametrize(
    ("size", "edited"),
    [((1600, 1200), (768, 576)), ((300, 2000), (112, 768)), ((777, 333), (768, 328)), ((40, 36), (40, 32))],
)
def test_an_image_is_edited_at_its_own_size_scaled_down_to_fit(app_module, size, edited):
    assert app_module.edited_size(*size) == edited
    path = app_module.edit(Image.new("RGB", size, "teal"), INSTRUCTION, 1, 7.5, 1.5, 0)
    with Image.open(path) as image:
        assert image.size == edited


def test_transparency_is_edited_on_white(app_module):
    clear = Image.new("RGBA", (64, 48), (255, 0, 0, 0))  # red, but fully transparent: a visitor sees nothing there
    assert app_module.image_to_edit(clear).getpixel((10, 10)) == (255, 255, 255)
    assert app_module.image_to_edit(Image.new("LA", (64, 48), (0, 255))).getpixel((10, 10)) == (0, 0, 0)


def test_the_api_offers_edit_alone(client):
    api = client.view_api(return_format="dict", print_info=False)
    assert list(api["named_endpoints"]) == ["/edit"] and not api["unnamed_endpoints"], api
    names = [parameter["parameter_name"] for parameter in api["named_endpoints"]["/edit"]["parameters"]]
    assert names == ["image", "instruction", "steps", "text_guidance", "image_guidance", "seed"]


def test_every_call_writes_its_own_file_where_gradio_serves_it(app_module):
    """A file of its own per request (concurrent requests never share one), in Gradio's cache folder, which Gradio
    serves without a copy and output_files empties: a file in /tmp would stay for as long as the Space runs."""
    paths = [app_module.edit(Image.new("RGB", (64, 48)), INSTRUCTION, 1, 7.5, 1.5, seed) for seed in range(3)]
    assert len(set(paths)) == 3, "concurrent requests must never share an output path"
    for path in paths:
        assert Path(path).parent == Path(gr.utils.get_upload_folder()), path
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (64, 48)


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


def test_forty_requests_leave_a_bounded_number_of_files(app_env, tmp_path):
    """The app as app.py builds it, with its temporary folder (and so Gradio's cache) in a folder of the test's own
    and outputs expiring after 5 s instead of an hour. 40 edits from four visitors at a time, each uploading the same
    image, a pause, then one more: the last edit is the only output left, beside at most the one upload (Gradio
    stores an upload by its content, so the same image is kept once, and its delete_cache removes it after an
    hour)."""
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
            visitors = [Client(url, verbose=False) for _ in range(4)]

            def edit(seed: int) -> str:
                return edit_through_api(visitors[seed % 4], handle_file(str(HOUSE)), seed=seed, steps=1)

            with ThreadPoolExecutor(4) as pool:  # four visitors at a time, 40 distinct edits
                edits = list(pool.map(edit, range(40)))
            assert len({Path(path).name for path in edits}) == 40
            time.sleep(6)  # every edit is now over 5 s old
            last = edit(40)
            left = sorted(path.name for path in files_under(temporary) if path not in started)
        finally:
            served.terminate()
            served.wait(timeout=30)
    outputs = [name for name in left if name.startswith(output_files.PREFIX)]
    assert outputs == [Path(last).name], f"{len(outputs)} edits left: {outputs[:10]}"
    assert set(left) - set(outputs) <= {HOUSE.name}, f"{len(left)} files left: {left[:10]}"


def test_a_request_leaves_the_shared_weights_in_their_dtype(app_module):
    """On a GPU the app loads bfloat16 weights; a request that cast the shared pipeline to float32 would make every
    later one several times slower and twice as big (diffusers' from_pipe does so unless told the dtype)."""
    pipe = app_module.pipe
    pipe.to(torch.bfloat16)  # as on a GPU; CPU runs the tiny model in bfloat16 too
    try:
        app_module.edit(Image.new("RGB", (64, 48)), INSTRUCTION, 1, 7.5, 1.5, 0)
        dtypes = {name: part.dtype for name, part in pipe.components.items() if isinstance(part, torch.nn.Module)}
        assert set(dtypes.values()) == {torch.bfloat16}, dtypes
    finally:
        pipe.to(torch.float32)


STEPS, SEED = "Steps must be a whole number from 1 to 50", "Seed must be a whole number from 0 to 2147483647"
TEXT, IMAGE = "Instruction guidance must be a number from 0 to 20", "Image guidance must be a number from 0 to 5"


# The sliders check what an API client sends (validation.check_api_inputs), the handler checks it again (for direct
# calls, as test_the_handler_refuses_bad_values shows). tests/test_bad_inputs.py sends generated values.
@pytest.mark.parametrize(
    ("instruction", "steps", "text_guidance", "image_guidance", "seed", "message"),
    [("  ", 2, 7.5, 1.5, 0, "Write an instruction"), (None, 2, 7.5, 1.5, 0, "Write an instruction"),
     ("snow", 0, 7.5, 1.5, 0, STEPS), ("snow", 1000, 7.5, 1.5, 0, STEPS), ("snow", 2.5, 7.5, 1.5, 0, STEPS),
     ("snow", "2", 7.5, 1.5, 0, STEPS), ("snow", True, 7.5, 1.5, 0, STEPS),
     ("snow", 2, -1.0, 1.5, 0, TEXT), ("snow", 2, 25.0, 1.5, 0, TEXT), ("snow", 2, 7.5, -0.5, 0, IMAGE),
     ("snow", 2, 7.5, 6.0, 0, IMAGE), ("snow", 2, 7.5, 1.5, -5, SEED), ("snow", 2, 7.5, 1.5, 0.5, SEED)],
)  # fmt: skip
def test_a_bad_setting_gives_an_error_and_the_app_keeps_serving(
    client, instruction, steps, text_guidance, image_guidance, seed, message
):
    with pytest.raises(AppError, match=re.escape(message)):  # the app's own gr.Error, not a crash
        client.predict(handle_file(str(HOUSE)), instruction, steps, text_guidance, image_guidance, seed,
                       api_name="/edit")  # fmt: skip
    assert edit_through_api(client, handle_file(str(HOUSE)))


def write_bytes(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def bomb_png() -> bytes:
    """A PNG whose header claims 20000 x 10000 pixels (200 megapixels), with almost nothing behind it."""
    header = Image.new("L", (1, 1))
    buffer = io.BytesIO()
    header.save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = (20000).to_bytes(4, "big") + (10000).to_bytes(4, "big")  # IHDR width and height
    data[29:33] = zlib.crc32(bytes(data[12:29])).to_bytes(4, "big")  # IHDR's checksum, so the header is valid
    return bytes(data)


BAD_UPLOADS = {
    "tiny": (lambda tmp: png_file(tmp, Image.new("RGB", (16, 16))), "The image is too small to edit: 16 x 16"),
    "narrow": (lambda tmp: png_file(tmp, Image.new("RGB", (600, 40))), "The image is too narrow to edit: 600 x 40"),
    "colourless": (lambda tmp: png_file(tmp, Image.new("F", (64, 48)), "measurements.tiff"),
                   "The image has no colours to edit (mode F)"),
    "not_an_image": (lambda tmp: write_bytes(tmp, "notes.png", b"these are notes, not a picture\n" * 20),
                     "Image must be an image file (PNG, JPEG, WebP, ...): this file is not one."),
    "bomb": (lambda tmp: write_bytes(tmp, "bomb.png", bomb_png()), "Image is too large to open"),
    "truncated": (lambda tmp: write_bytes(tmp, "cut.png", HOUSE.read_bytes()[:2000]),
                  "Image is damaged and cannot be read"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_UPLOADS))
def test_a_bad_upload_gives_an_error_that_says_why_and_the_app_keeps_serving(client, tmp_path, case):
    make, message = BAD_UPLOADS[case]
    with pytest.raises(AppError, match=re.escape(message)):
        edit_through_api(client, handle_file(make(tmp_path)))
    assert edit_through_api(client, handle_file(str(HOUSE)))


def test_no_image_gives_an_error(client):
    with pytest.raises(AppError, match="Upload an image first."):
        edit_through_api(client, None)


@pytest.mark.parametrize(
    ("image", "steps", "text_guidance", "seed", "message"),
    [(None, 2, 7.5, 0, "Upload an image first"), ("house.png", 2, 7.5, 0, "must be a picture (PIL.Image), not str"),
     (Image.new("RGB", (8000, 7000)), 2, 7.5, 0, "The image is too large: 8000 x 7000 pixels, over 50 megapixels"),
     (Image.new("I", (64, 48)), 2, 7.5, 0, "no colours to edit (mode I)"),
     (Image.new("RGB", (64, 48)), float("nan"), 7.5, 0, "Steps"),
     (Image.new("RGB", (64, 48)), 2, float("inf"), 0, "Instruction guidance"),
     (Image.new("RGB", (64, 48)), 2, 7.5, "0", "Seed")],
)  # fmt: skip
def test_the_handler_refuses_bad_values(app_module, image, steps, text_guidance, seed, message):
    """The handler checks its inputs itself too: code that calls it directly gets no Image or Slider in between."""
    with pytest.raises(gr.Error, match=re.escape(message)):
        app_module.edit(image, INSTRUCTION, steps, text_guidance, 1.5, seed)


def test_estimate_grows_with_steps_and_pixels_and_stays_clamped(app_module):
    table = {"handlers": {"edit": {**app_module.durations.load()["handlers"]["edit"], "floor_s": 1}}}
    small, large = Image.new("RGB", (256, 256)), Image.new("RGB", (768, 768))
    with mock.patch.object(app_module.durations, "table", lambda: table):  # no floor, to see every term count
        few = app_module.edit_duration(small, INSTRUCTION, 4, 7.5, 1.5, 0)
        more_steps = app_module.edit_duration(small, INSTRUCTION, 50, 7.5, 1.5, 0)
        more_pixels = app_module.edit_duration(large, INSTRUCTION, 50, 7.5, 1.5, 0)
        unusable = app_module.edit_duration("not an image", INSTRUCTION, 50, 7.5, 1.5, 0)
    assert all(isinstance(seconds, int) for seconds in (few, more_steps, more_pixels))
    assert 1 <= few < more_steps < more_pixels == unusable  # what it cannot measure counts as the largest


def test_the_largest_edit_the_ui_allows_fits_under_the_ceiling(app_module):
    """At the ceiling the estimate would be clamped, and ZeroGPU would stop the call before the edit is done."""
    entry = app_module.durations.load()["handlers"]["edit"]
    steps, megapixels = app_module.MAX_STEPS, app_module.MAX_SIDE**2 / 1_000_000
    largest = {"steps": steps, "megapixels": megapixels, "step_megapixels": steps * megapixels}
    needed = app_module.durations.seconds_for({**entry, "ceiling_s": 10**6}, largest)
    assert needed < entry["ceiling_s"], (
        f"{steps} steps at {app_module.MAX_SIDE}x{app_module.MAX_SIDE} need {needed} s, over durations.json's "
        f"{entry['ceiling_s']} s ceiling: lower MAX_STEPS or MAX_SIDE in app.py, or raise the ceiling"
    )


def logged_calls(app_log) -> list[tuple[int, float]]:
    """(declared, actual) seconds of each `edit` call in the served app's log."""
    found = re.findall(r"^duration edit: declared (\d+) s, took ([\d.]+) s", app_log.read_text(), re.MULTILINE)
    return [(int(declared), float(actual)) for declared, actual in found]


def test_each_call_logs_its_declared_and_actual_seconds(client, app_log, app_module):
    before = logged_calls(app_log)
    edit_through_api(client, handle_file(str(HOUSE)), seed=5)
    after = logged_calls(app_log)
    assert len(after) == len(before) + 1, app_log.read_text()
    declared, actual = after[-1]
    with Image.open(HOUSE) as house:
        assert declared == app_module.edit_duration(house, INSTRUCTION, *SETTINGS.values(), 5) and actual > 0
