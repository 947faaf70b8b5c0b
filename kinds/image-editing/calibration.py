"""How `python -m zerogpu.calibrate` times this Space's GPU handlers: one plan per handler, by name.

A handler you add to app.py gets a plan here: how to call it at a given input size, the spread of sizes to fit,
and the amount of each unit its duration estimator passes to durations.estimate at that size.
"""

from pathlib import Path

from zerogpu.calibrate import Plan


def _run_edit(app, size) -> None:
    from PIL import Image  # the app's own dependency, imported where it is used

    steps, width, height = size
    image = Image.new("RGB", (width, height), (120, 160, 200))
    path = app.edit(image, "make it a winter evening", steps, 7.5, 1.5, 0)
    Path(path).unlink(missing_ok=True)


def _sides(app) -> tuple[int, int, int]:
    high = int(app.MAX_SIDE)
    low = max(int(app.MIN_SIDE), high // 3 // 64 * 64)
    return low, (low + high) // 2 // 64 * 64, high


def _edit_sizes(app) -> list[tuple[int, int, int]]:
    """Steps from one to the most, sides from the least to the most, square and not, so that every coefficient
    moves; each at a size of its own, since the first call at a new image size pays set-up costs that later ones do
    not (0.2 to 1.7 s on an H200), as a visitor's first request at that size does: the one-step call at a second
    small size brings that cost into the overhead the fit finds (the warm-up has paid it for the smallest)."""
    low, middle, high = _sides(app)
    steps = int(app.MAX_STEPS)
    few, half = max(1, steps // 5), max(1, steps // 2)
    return [(1, low, low), (1, low + 64, low), (1, high, high - 64), (few, middle, middle), (half, low, high),
            (half, high, middle + 64), (steps, low + 64, low + 64), (steps, middle, high), (steps, high, high)]  # fmt: skip


def _edit_gpu_sizes(app) -> list[tuple[int, int, int]]:
    low, _, high = _sides(app)
    few = min(10, int(app.MAX_STEPS))
    return [(1, low, low), (few, low, low), (1, high, high), (few, high, high)]


def _edit_amounts(size) -> dict[str, float]:
    steps, width, height = size
    megapixels = width * height / 1_000_000
    return {"steps": float(steps), "megapixels": megapixels, "step_megapixels": steps * megapixels}


PLANS = {
    "edit": Plan(
        handler="edit",
        units=("steps", "megapixels", "step_megapixels"),
        sizes=_edit_sizes,
        gpu_sizes=_edit_gpu_sizes,
        largest=lambda app: (int(app.MAX_STEPS), int(app.MAX_SIDE), int(app.MAX_SIDE)),
        amounts=_edit_amounts,
        run=_run_edit,
        label=lambda size: f"{size[0]} step{'s' * (size[0] != 1)}, {size[1]}x{size[2]}",
        # A Stable Diffusion 1.5 UNet step at 768x768 runs the UNet on three latents (instruction, image and no
        # guidance): about 5 TFLOP over 2 GB of weights.
        bound="compute",
    ),
}
