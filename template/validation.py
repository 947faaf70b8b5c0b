"""How app.py refuses a bad request: a `gr.Error` that names the input and the values it takes.

- `number(value, label, minimum, maximum, whole=False)`: the value as an int (whole) or a float, or a gr.Error for
  anything else: a string, None, a bool, NaN or infinity, a fraction where a whole number is due, out of range.
- `text(value, label)`: the value as a str ("" for None), or a gr.Error.
- `check_api_inputs(demo)`: the app's sliders check what an API client sends with `number`, before Gradio's own
  processing, and its text boxes take None as "" (what the page sends for an empty box). Without it gr.Slider lets
  NaN through (every comparison with NaN is false) and fails on a string or None with a bare TypeError, and
  gr.ChatInterface fails on a None message with an AttributeError: a visitor sees either only as "The upstream
  Gradio app has raised an exception". Its images are decoded in full while Gradio preprocesses them, so a file
  that is not an image, one that claims more pixels than PIL opens (twice PIL.Image.MAX_IMAGE_PIXELS: a
  decompression bomb) or a damaged one is refused there with a message that names the input, not later in the
  handler (Gradio's own preprocess fails on them with a bare error, or hands a file path on without decoding it).

The handlers check their inputs with `number` and `text` too: code that calls a handler directly has no slider in
between. This file is owned by the template (`copier update` keeps it current).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import gradio as gr
import PIL.Image


def _shown(value: Any) -> str:
    """The value as a message quotes it: short, and never failing (repr of a huge int does)."""
    try:
        text = repr(value)
    except ValueError:
        return "a number of thousands of digits"
    return text if len(text) <= 40 else text[:37] + "..."


def _bound(limit: float) -> str:
    return str(int(limit)) if float(limit).is_integer() else str(limit)


def number(value: Any, label: str, minimum: float, maximum: float, *, whole: bool = False) -> int | float:
    """The value, checked: a real number (not a bool), finite, whole if asked, from minimum to maximum."""
    kind = "a whole number" if whole else "a number"
    refused = gr.Error(f"{label} must be {kind} from {_bound(minimum)} to {_bound(maximum)}, not {_shown(value)}.")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise refused
    if isinstance(value, float) and not math.isfinite(value):
        raise refused
    if whole and value != int(value):
        raise refused
    if not minimum <= value <= maximum:
        raise refused
    return int(value) if whole else float(value)


def text(value: Any, label: str) -> str:
    """The value as text: a str, or "" for None."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise gr.Error(f"{label} must be text, not {_shown(value)}.")
    return value


def check_api_inputs(demo: gr.Blocks) -> gr.Blocks:
    """Give each slider, text box and image of `demo` the checks above, on the component itself (a subclass of a Gradio
    component would make Gradio write a .pyi file beside this one). A slider takes whole numbers when its minimum and
    step are whole (all the page itself can send), else any number in its range."""
    for block in demo.blocks.values():
        if isinstance(block, gr.Slider):
            block.preprocess = _checked_slider(block, block.preprocess)
        elif isinstance(block, gr.Textbox):
            block.preprocess = _checked_textbox(block.preprocess)
        elif isinstance(block, gr.Image):
            block.preprocess = _checked_image(block, block.preprocess)
    return demo


def _checked_slider(slider: gr.Slider, preprocess: Callable[[Any], Any]) -> Callable[[Any], Any]:
    whole = float(slider.minimum).is_integer() and float(slider.step).is_integer()
    label = str(slider.label or "The slider's value")

    def checked(payload: Any) -> Any:
        return preprocess(number(payload, label, slider.minimum, slider.maximum, whole=whole))

    return checked


def _checked_textbox(preprocess: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def checked(payload: Any) -> Any:
        return preprocess("" if payload is None else payload)

    return checked


def _checked_image(image: gr.Image, preprocess: Callable[[Any], Any]) -> Callable[[Any], Any]:
    label = str(image.label or "The image")

    def checked(payload: Any) -> Any:
        try:
            value = preprocess(payload)
            if isinstance(value, PIL.Image.Image):
                value.load()
            elif isinstance(value, str):  # a path Gradio may hand on undecoded
                with PIL.Image.open(value) as opened:
                    opened.load()
        except PIL.UnidentifiedImageError:
            raise gr.Error(f"{label} must be an image file (PNG, JPEG, WebP, ...): this file is not one.") from None
        except PIL.Image.DecompressionBombError as error:
            said = str(error).rstrip(".")
            raise gr.Error(f"{label} is too large to open: it claims too many pixels ({said}).") from None
        except (OSError, SyntaxError, ValueError) as error:
            raise gr.Error(f"{label} is damaged and cannot be read ({error}).") from None
        return value

    return checked
