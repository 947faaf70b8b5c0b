"""How `python -m zerogpu.calibrate` times this Space's GPU handlers: one plan per handler, by name.

A handler you add to app.py gets a plan here: how to call it at a given input size, the spread of sizes to fit,
and the amount of each unit its duration estimator passes to durations.estimate at that size.
"""

from pathlib import Path

from zerogpu.calibrate import Plan


def _run_image(app, size) -> None:
    steps, width, height = size
    path = app.generate("A lighthouse on a cliff at sunset, oil painting", "", steps, 7.0, width, height, 0)
    Path(path).unlink(missing_ok=True)


def _sides(app) -> tuple[int, int, int]:
    low, high = int(app.MIN_SIDE), int(app.MAX_SIDE)
    return low, (low + high) // 2 // 64 * 64, high


def _image_sizes(app) -> list[tuple[int, int, int]]:
    """Steps from one to the most, sides from the least to the most, square and not, so that every coefficient
    moves; and each at a size of its own, since the first call at a new image size pays set-up costs that later
    ones do not (0.5 to 1.5 s on an H100), as a visitor's first request at that size does."""
    low, middle, high = _sides(app)
    steps = int(app.MAX_STEPS)
    few, half = max(1, steps // 5), max(1, steps // 2)
    return [(1, low, low), (1, high, high - 64), (few, middle, middle), (half, low, high), (half, high, middle + 64),
            (steps, low + 64, low + 64), (steps, middle, high), (steps, high, high)]  # fmt: skip


def _image_gpu_sizes(app) -> list[tuple[int, int, int]]:
    low, _, high = _sides(app)
    few = min(10, int(app.MAX_STEPS))
    return [(1, low, low), (few, low, low), (1, high, high), (few, high, high)]


def _image_amounts(size) -> dict[str, float]:
    steps, width, height = size
    megapixels = width * height / 1_000_000
    return {"steps": float(steps), "megapixels": megapixels, "step_megapixels": steps * megapixels}


PLANS = {
    "generate": Plan(
        handler="generate",
        units=("steps", "megapixels", "step_megapixels"),
        sizes=_image_sizes,
        gpu_sizes=_image_gpu_sizes,
        largest=lambda app: (int(app.MAX_STEPS), int(app.MAX_SIDE), int(app.MAX_SIDE)),
        amounts=_image_amounts,
        run=_run_image,
        label=lambda size: f"{size[0]} step{'s' * (size[0] != 1)}, {size[1]}x{size[2]}",
        bound="compute",  # an SSD-1B step at 1024x1024 does 8.7 TFLOP over a few GB of weights and activations
    ),
}
