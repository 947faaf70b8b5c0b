"""What each kind's browser checks (kinds/<kind>/browser_checks.py) use to drive its page: screenshots, Gradio's
widgets as a person uses them, and what the page shows. tests/test_browser.py serves the Space and runs the checks."""

import re
import struct
from pathlib import Path

from conftest import ARTIFACTS_DIR, keep_artifact
from playwright.sync_api import Page, expect
from space_harness import call

__all__ = ["call", "expect", "expect_error_toast", "open_accordion", "png_size", "set_number", "shot", "shown_image",
           "words"]  # fmt: skip

SHOTS_DIR = ARTIFACTS_DIR / "browser"
TIMEOUT_MS = 120_000  # generous: CI's machine has two cores, and an example at 1024x768 is drawn on first click
expect.set_options(timeout=TIMEOUT_MS)


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot under build/artifacts/browser/, listed at the end of the run."""
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = SHOTS_DIR / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=path, full_page=True, animations="disabled")
    return keep_artifact(path)


def words(text: str) -> str:
    return " ".join(text.split())


def open_accordion(page: Page, label: str) -> None:
    page.get_by_role("main").get_by_role("button", name=re.compile(f"^{re.escape(label)}")).click()


def set_number(page: Page, label: str, value: float) -> None:
    """Type into a slider's number box, as a person would, and leave it so that Gradio takes the value.

    On a loaded machine Gradio can still be settling the page's initial values when the box is first typed into, and
    puts the default back: type again until the value stays (a person would see it and retype).
    """
    box = page.get_by_label(f"number input for {label}")
    for _ in range(5):
        box.fill(str(value))
        box.press("Tab")
        page.wait_for_timeout(500)
        if box.input_value() == str(value):
            break
    expect(box).to_have_value(str(value))


def expect_error_toast(page: Page, message: str) -> None:
    """Gradio shows a gr.Error as a toast titled "Error" with the message; wait until it has faded fully in."""
    toast = page.get_by_test_id("toast-body")
    expect(toast).to_contain_text("Error")
    expect(toast).to_contain_text(message)
    page.wait_for_function(
        "() => getComputedStyle(document.querySelector('[data-testid=\"toast-body\"]')).opacity === '1'"
    )


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def shown_image(page: Page) -> bytes:
    """The bytes of the image the page shows in its output, fetched from the URL the page itself uses."""
    image = page.locator('img[src*="/gradio_api/file="]')
    expect(image).to_be_visible()
    response = page.request.get(image.get_attribute("src"))
    assert response.ok, response.status
    return response.body()
