"""The image page in Chromium: tests/test_browser.py serves this kind's Space and calls each `check_*(page, url)`.

Never rendered into a Space: it drives the page with the repository's tests/browser_page.py.
"""

import re

from browser_page import call, expect, expect_error_toast, open_accordion, png_size, set_number, shot, shown_image
from playwright.sync_api import Page

PROMPT = "a red cube on a table"

# Records every "i/n steps" progress text the page shows (Gradio's status tracker over the output), as a person saw it.
RECORD_PROGRESS_TEXTS = """() => {
    window.progressTexts = [];
    new MutationObserver(() => {
        for (const [text] of document.body.innerText.matchAll(/\\d+\\/\\d+ steps/g))
            if (!window.progressTexts.includes(text)) window.progressTexts.push(text);
    }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def generate(page: Page, steps: int, width: int, height: int) -> bytes:
    """Type the prompt, set steps and size under Settings, press Generate: the PNG the page then shows."""
    page.get_by_placeholder("Describe the image").fill(PROMPT)
    open_accordion(page, "Settings")
    set_number(page, "Steps", steps)
    set_number(page, "Width", width)
    set_number(page, "Height", height)
    page.get_by_role("button", name="Generate").click()
    return shown_image(page)


def generate_again(page: Page) -> bytes:
    """Press Generate once more: the PNG the page shows once the new image has replaced the one before."""
    image = page.locator('img[src*="/gradio_api/file="]')
    before = image.get_attribute("src")
    page.get_by_role("button", name="Generate").click()
    expect(image).not_to_have_attribute("src", before)  # every image has a file of its own
    return shown_image(page)


def check_each_image_shows_the_random_seed_it_was_drawn_with(page: Page, url: str) -> None:
    page.goto(url)
    shown = generate(page, 2, 320, 256)
    shot(page, "image-generation-image")
    assert png_size(shown) == (320, 256)
    expect(page.get_by_label("Randomize seed")).to_be_checked()  # on by default, as in image demos
    seed = page.get_by_label("number input for Seed")
    expect(seed).not_to_have_value("0")  # the slider's default, replaced by the seed picked for this image
    first_seed = int(seed.input_value())
    # The same request through the API, with the seed the page shows, gives the very same PNG.
    same = call(url, "generate", PROMPT, "", 2, 7.0, 320, 256, first_seed)[0]
    assert page.request.get(same["url"]).body() == shown, "the page shows another image or seed than the app used"

    again = generate_again(page)
    expect(seed).not_to_have_value(str(first_seed))
    assert again != shown, "a fresh seed drew the same image"


def check_with_randomize_off_the_sliders_seed_draws_the_same_image_again(page: Page, url: str) -> None:
    page.goto(url)
    open_accordion(page, "Settings")
    page.get_by_label("Randomize seed").uncheck()
    set_number(page, "Seed", 1234)
    open_accordion(page, "Settings")  # closed again: generate() opens it
    first = generate(page, 1, 256, 256)
    assert generate_again(page) == first
    expect(page.get_by_label("number input for Seed")).to_have_value("1234")
    expected = call(url, "generate", PROMPT, "", 1, 7.0, 256, 256, 1234)[0]
    assert page.request.get(expected["url"]).body() == first


def check_the_denoising_steps_show_as_progress_while_the_image_is_drawn(page: Page, url: str) -> None:
    page.goto(url)
    page.evaluate(RECORD_PROGRESS_TEXTS)
    # Gradio sends the latest progress every 10 ms: a request long enough for many (the Space's own progress test
    # once saw one state of 8 steps at 256x256), 50 steps at 512x512.
    assert png_size(generate(page, 50, 512, 512)) == (512, 512)
    shown = page.evaluate("() => window.progressTexts")
    assert len(shown) > 1 and all(re.fullmatch(r"\d+/50 steps", text) for text in shown), shown


def check_examples_render_and_a_click_fills_the_inputs(page: Page, url: str) -> None:
    page.goto(url)
    example = "A red fox in fresh snow, photo, 85mm"
    expect(page.get_by_role("gridcell", name="A lighthouse on a cliff at sunset, oil painting")).to_be_visible()
    expect(page.get_by_role("gridcell", name=example)).to_be_visible()

    page.get_by_role("gridcell", name=example).click()
    expect(page.get_by_placeholder("Describe the image")).to_have_value(example)
    expect(page.get_by_placeholder("What to leave out")).to_have_value("blurry")
    open_accordion(page, "Settings")
    for label, value in [("Steps", "25"), ("Width", "1024"), ("Height", "768"), ("Seed", "42")]:
        expect(page.get_by_label(f"number input for {label}")).to_have_value(value)
    # Lazy caching, as on ZeroGPU: the first click draws the example at its real size.
    assert png_size(shown_image(page)) == (1024, 768)
    shot(page, "image-generation-example")


def check_an_empty_prompt_shows_the_apps_error_and_the_page_stays_usable(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_role("button", name="Generate").click()
    expect_error_toast(page, "Write a prompt first.")
    shot(page, "image-generation-error")

    assert png_size(generate(page, 1, 256, 256)) == (256, 256)
