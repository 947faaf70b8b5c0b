"""The image app, served by `python app.py` on a tiny random pipeline and called as a user's client would."""

import gradio as gr
import numpy as np
import pytest
import torch
from diffusers import DiffusionPipeline
from gradio_client.exceptions import AppError
from PIL import Image

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


def test_every_call_writes_its_own_file(app_module):
    paths = [app_module.generate(*REQUEST.values(), 256, 256, 3) for _ in range(3)]
    assert len(set(paths)) == 3, "concurrent requests must never share an output path"
    for path in paths:
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (256, 256)


# Out-of-range slider values are refused by Gradio's Slider itself; the app's checks refuse the rest (and the same
# values in direct calls, as test_the_handler_refuses_out_of_range_values shows).
@pytest.mark.parametrize(
    ("prompt", "steps", "guidance", "width", "height", "seed", "message"),
    [("  ", 2, 5.0, 256, 256, 0, "Write a prompt"), ("", 2, 5.0, 256, 256, 0, "Write a prompt"),
     ("cat", 0, 5.0, 256, 256, 0, "less than minimum"), ("cat", 1000, 5.0, 256, 256, 0, "greater than maximum"),
     ("cat", 2, -1.0, 256, 256, 0, "less than minimum"), ("cat", 2, 25.0, 256, 256, 0, "greater than maximum"),
     ("cat", 2, 5.0, 4096, 4096, 0, "greater than maximum"), ("cat", 2, 5.0, 100_000, 100_000, 0, "greater than max"),
     ("cat", 2, 5.0, -256, 256, 0, "less than minimum"), ("cat", 2, 5.0, 300, 256, 0, "Width and height"),
     ("cat", 2, 5.0, 256, 256, -5, "less than minimum"), ("cat", 2, 5.0, 256, 256, 2**40, "greater than maximum")],
)  # fmt: skip
def test_bad_input_gives_an_error_and_the_app_keeps_serving(
    client, prompt, steps, guidance, width, height, seed, message
):
    with pytest.raises(AppError, match=message):  # the app's own gr.Error, not a crash
        client.predict(prompt, "", steps, guidance, width, height, seed, api_name="/generate")
    assert client.predict(*REQUEST.values(), 256, 256, 0, api_name="/generate")


@pytest.mark.parametrize(
    ("steps", "guidance", "side", "seed", "message"),
    [(0, 5.0, 256, 0, "Steps"), (51, 5.0, 256, 0, "Steps"), (2, 21.0, 256, 0, "Guidance"),
     (2, 5.0, 100_000, 0, "Width and height"), (2, 5.0, 256, -1, "Seed")],
)  # fmt: skip
def test_the_handler_refuses_out_of_range_values(app_module, steps, guidance, side, seed, message):
    """The handler checks its inputs itself too: code that calls it directly gets no Slider in between."""
    with pytest.raises(gr.Error, match=message):
        app_module.generate("cat", "", steps, guidance, side, side, seed)


def test_estimate_grows_with_steps_and_pixels_and_stays_clamped(app_module):
    small = app_module.generate_duration("cat", "", 4, 7.0, 256, 256, 0)
    large = app_module.generate_duration("cat", "", 50, 7.0, 1024, 1024, 0)
    assert isinstance(small, int) and isinstance(large, int)
    assert 1 <= small < large <= app_module.MAX_DURATION
