"""The chat's page in Chromium: tests/test_browser.py serves this kind's Space and calls each `check_*(page, url)`.

Never rendered into a Space: it drives the page with the repository's tests/browser_page.py.
"""

import re

from browser_page import call, expect, open_accordion, set_number, shot, words
from playwright.sync_api import Page

PROMPT = "Hello there"
TOKENS = 256  # the tiny model always writes exactly this many words: long enough to see them stream

# Records every text the last bot message shows, from the page's side: each DOM change is one state a person saw.
RECORD_BOT_TEXTS = """() => {
    window.botTexts = [];
    new MutationObserver(() => {
        const messages = document.querySelectorAll('[data-testid="bot"]');
        const text = messages.length ? messages[messages.length - 1].innerText : "";
        if (text && text !== window.botTexts.at(-1)) window.botTexts.push(text);
    }).observe(document.body, {childList: true, subtree: true, characterData: true});
}"""


def check_the_reply_streams_in_then_shows_in_full(page: Page, url: str) -> None:
    # Greedy decoding (temperature 0) makes the reply reproducible: ask the app's API for it first.
    expected = words(call(url, "chat", PROMPT, TOKENS, 0)[0])
    assert len(expected.split()) == TOKENS

    page.goto(url)
    open_accordion(page, "Additional inputs")
    set_number(page, "Max new tokens", TOKENS)
    set_number(page, "Temperature", 0)
    page.evaluate(RECORD_BOT_TEXTS)
    message = page.get_by_placeholder("Type a message...")
    message.fill(PROMPT)
    message.press("Enter")

    expect(page.get_by_test_id("user").last).to_have_text(PROMPT)
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


def check_examples_render_and_a_click_fills_the_chat(page: Page, url: str) -> None:
    page.goto(url)
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


def check_an_empty_message_is_refused_and_the_chat_stays_usable(page: Page, url: str) -> None:
    # The app validates the message in the page (a gr.Error from a chat handler leaves Gradio 6.31's chat box
    # disabled until the page is reloaded), so the message shows by the box and the chat goes on.
    page.goto(url)
    page.get_by_test_id("submit-button").click()
    expect(page.get_by_text("Write a message first.")).to_be_visible()
    expect(page.get_by_test_id("bot")).to_have_count(0)
    shot(page, "text-generation-error")

    message = page.get_by_placeholder("Type a message...")
    message.fill(PROMPT)
    message.press("Enter")
    expect(page.get_by_test_id("bot").last).to_have_text(re.compile(r"\w"))
