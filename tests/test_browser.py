"""Each kind's rendered Space as a person sees it: Debian's Chromium, headless, driven by Playwright.

The Space is installed like the Space builder installs it and served by its own `python app.py` on CPU, on a tiny
random model that its own tests/tiny_model.py builds. The tests type into the page, click its buttons and examples,
and read what the page shows; each keeps a screenshot under build/artifacts/browser/ (printed at the end of the run).

Playwright drives the system's Chromium through `executable_path`: no browser is downloaded (never run
`playwright install`). .ci/run installs Debian's `chromium` when it is missing; without it these tests skip.
CHROMIUM_PATH names another Chromium binary.
"""

import os
import re
import shutil
import struct
from pathlib import Path

import pytest
from conftest import ARTIFACTS_DIR, keep_artifact
from playwright.sync_api import Page, expect, sync_playwright
from space_harness import build_tiny_model, call, serve

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SHOTS_DIR = ARTIFACTS_DIR / "browser"
TIMEOUT_MS = 120_000  # generous: CI's machine has two cores, and an example at 1024x768 is drawn on first click
expect.set_options(timeout=TIMEOUT_MS)


def chromium_path() -> str | None:
    candidates = [os.environ.get("CHROMIUM_PATH"), "/usr/lib/chromium/chromium"]  # Debian's binary, past its wrapper
    candidates += [shutil.which(name) for name in ("chromium", "chromium-browser")]
    return next((path for path in candidates if path and os.access(path, os.X_OK)), None)


@pytest.fixture(scope="module")
def browser():
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium here: `apt-get install chromium` (Debian's package; .ci/run installs it)")
    shutil.rmtree(SHOTS_DIR, ignore_errors=True)  # this run's screenshots only
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    if getattr(request.node, "failed_call", False):
        shot(page, f"FAILED-{request.node.name}")
    context.close()


def shot(page: Page, name: str) -> Path:
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    path = SHOTS_DIR / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=path, full_page=True, animations="disabled")
    return keep_artifact(path)


def served(installed_space, tmp_path_factory, app_kind: str):
    project, python = installed_space(app_kind)
    model_dir = build_tiny_model(python, project, tmp_path_factory.mktemp(f"tiny-{app_kind}"))
    return serve(python, project, model_dir, tmp_path_factory.mktemp("logs") / f"{app_kind}.log")


@pytest.fixture(scope="module")
def text_app(browser, installed_space, tmp_path_factory):  # browser first: without one, skip before installing
    with served(installed_space, tmp_path_factory, "text-generation") as url:
        yield url


@pytest.fixture(scope="module")
def image_app(browser, installed_space, tmp_path_factory):
    with served(installed_space, tmp_path_factory, "image-generation") as url:
        yield url


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


# Records every text the last bot message shows, from the page's side: each DOM change is one state a person saw.
RECORD_BOT_TEXTS = """() => {
    window.botTexts = [];
    new MutationObserver(() => {
        const messages = document.querySelectorAll('[data-testid="bot"]');
        const text = messages.length ? messages[messages.length - 1].innerText : "";
        if (text && text !== window.botTexts.at(-1)) window.botTexts.push(text);
    }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


class TestTextGeneration:
    PROMPT = "Hello there"
    TOKENS = 256  # the tiny model always writes exactly this many words: long enough to see them stream

    def test_the_reply_streams_in_then_shows_in_full(self, page, text_app):
        # Greedy decoding (temperature 0) makes the reply reproducible: ask the app's API for it first.
        expected = words(call(text_app, "chat", self.PROMPT, self.TOKENS, 0)[0])
        assert len(expected.split()) == self.TOKENS

        page.goto(text_app)
        open_accordion(page, "Additional inputs")
        set_number(page, "Max new tokens", self.TOKENS)
        set_number(page, "Temperature", 0)
        page.evaluate(RECORD_BOT_TEXTS)
        message = page.get_by_placeholder("Type a message...")
        message.fill(self.PROMPT)
        message.press("Enter")

        expect(page.get_by_test_id("user").last).to_have_text(self.PROMPT)
        reply = page.get_by_test_id("bot").last
        expect(reply).not_to_be_empty()
        shot(page, "text-generation-streaming")
        expect(reply).to_have_text(expected)
        shot(page, "text-generation-reply")

        seen = [words(text) for text in page.evaluate("window.botTexts")]
        partial = [text for text in seen if text != expected]
        assert len(partial) >= 3, f"the reply did not stream: the page showed {len(partial)} partial states"
        assert all(expected.startswith(text) for text in partial), "a partial reply was not the start of the reply"
        assert [len(text) for text in partial] == sorted(len(text) for text in partial), "the reply went backwards"

    def test_examples_render_and_a_click_fills_the_chat(self, page, text_app):
        page.goto(text_app)
        example = "Explain what a GPU does, in two sentences."
        expect(page.get_by_role("gridcell", name=example)).to_be_visible()
        expect(page.get_by_role("gridcell", name="Write a haiku about waiting in a queue.")).to_be_visible()

        page.get_by_role("gridcell", name=example).click()
        # Lazy caching, as on ZeroGPU: the first click runs the handler, then the reply is cached.
        expect(page.get_by_placeholder("Type a message...")).to_have_value(example)
        expect(page.get_by_test_id("user").last).to_have_text(example)
        expect(page.get_by_test_id("bot").last).to_have_text(re.compile(r"\w"))
        open_accordion(page, "Additional inputs")
        expect(page.get_by_label("number input for Max new tokens")).to_have_value("256")
        expect(page.get_by_label("number input for Temperature")).to_have_value("0.7")
        shot(page, "text-generation-example")

    def test_an_empty_message_is_refused_and_the_chat_stays_usable(self, page, text_app):
        # The app validates the message in the page (a gr.Error from a chat handler leaves Gradio 6.31's chat box
        # disabled until the page is reloaded), so the message shows by the box and the chat goes on.
        page.goto(text_app)
        page.get_by_test_id("submit-button").click()
        expect(page.get_by_text("Write a message first.")).to_be_visible()
        expect(page.get_by_test_id("bot")).to_have_count(0)
        shot(page, "text-generation-error")

        message = page.get_by_placeholder("Type a message...")
        message.fill(self.PROMPT)
        message.press("Enter")
        expect(page.get_by_test_id("bot").last).to_have_text(re.compile(r"\w"))


# Records every "i/n steps" progress text the page shows (Gradio's status tracker over the output), as a person saw it.
RECORD_PROGRESS_TEXTS = """() => {
    window.progressTexts = [];
    new MutationObserver(() => {
        for (const [text] of document.body.innerText.matchAll(/\\d+\\/\\d+ steps/g))
            if (!window.progressTexts.includes(text)) window.progressTexts.push(text);
    }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


class TestImageGeneration:
    PROMPT = "a red cube on a table"

    def generate(self, page: Page, steps: int, width: int, height: int) -> bytes:
        """Type the prompt, set steps and size under Settings, press Generate: the PNG the page then shows."""
        page.get_by_placeholder("Describe the image").fill(self.PROMPT)
        open_accordion(page, "Settings")
        set_number(page, "Steps", steps)
        set_number(page, "Width", width)
        set_number(page, "Height", height)
        page.get_by_role("button", name="Generate").click()
        return shown_image(page)

    def generate_again(self, page: Page) -> bytes:
        """Press Generate once more: the PNG the page shows once the new image has replaced the one before."""
        image = page.locator('img[src*="/gradio_api/file="]')
        before = image.get_attribute("src")
        page.get_by_role("button", name="Generate").click()
        expect(image).not_to_have_attribute("src", before)  # every image has a file of its own
        return shown_image(page)

    def test_each_image_shows_the_random_seed_it_was_drawn_with(self, page, image_app):
        page.goto(image_app)
        shown = self.generate(page, 2, 320, 256)
        shot(page, "image-generation-image")
        assert png_size(shown) == (320, 256)
        expect(page.get_by_label("Randomize seed")).to_be_checked()  # on by default, as in image demos
        seed = page.get_by_label("number input for Seed")
        expect(seed).not_to_have_value("0")  # the slider's default, replaced by the seed picked for this image
        first_seed = int(seed.input_value())
        # The same request through the API, with the seed the page shows, gives the very same PNG.
        same = call(image_app, "generate", self.PROMPT, "", 2, 7.0, 320, 256, first_seed)[0]
        assert page.request.get(same["url"]).body() == shown, "the page shows another image or seed than the app used"

        again = self.generate_again(page)
        expect(seed).not_to_have_value(str(first_seed))
        assert again != shown, "a fresh seed drew the same image"

    def test_with_randomize_off_the_sliders_seed_draws_the_same_image_again(self, page, image_app):
        page.goto(image_app)
        open_accordion(page, "Settings")
        page.get_by_label("Randomize seed").uncheck()
        set_number(page, "Seed", 1234)
        open_accordion(page, "Settings")  # closed again: generate() opens it
        first = self.generate(page, 1, 256, 256)
        assert self.generate_again(page) == first
        expect(page.get_by_label("number input for Seed")).to_have_value("1234")
        expected = call(image_app, "generate", self.PROMPT, "", 1, 7.0, 256, 256, 1234)[0]
        assert page.request.get(expected["url"]).body() == first

    def test_the_denoising_steps_show_as_progress_while_the_image_is_drawn(self, page, image_app):
        page.goto(image_app)
        page.evaluate(RECORD_PROGRESS_TEXTS)
        # Gradio sends the latest progress every 10 ms: a request long enough for many (the Space's own progress test
        # once saw one state of 8 steps at 256x256), 50 steps at 512x512.
        assert png_size(self.generate(page, 50, 512, 512)) == (512, 512)
        shown = page.evaluate("() => window.progressTexts")
        assert len(shown) > 1 and all(re.fullmatch(r"\d+/50 steps", text) for text in shown), shown

    def test_examples_render_and_a_click_fills_the_inputs(self, page, image_app):
        page.goto(image_app)
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

    def test_an_empty_prompt_shows_the_apps_error_and_the_page_stays_usable(self, page, image_app):
        page.goto(image_app)
        page.get_by_role("button", name="Generate").click()
        expect_error_toast(page, "Write a prompt first.")
        shot(page, "image-generation-error")

        assert png_size(self.generate(page, 1, 256, 256)) == (256, 256)
