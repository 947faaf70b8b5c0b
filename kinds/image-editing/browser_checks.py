"""The image-editing page in Chromium: tests/test_browser.py serves this kind's Space and calls each
`check_*(page, url)`.

Never rendered into a Space: it drives the page with the repository's tests/browser_page.py.
"""

from pathlib import Path

from browser_page import call, expect, expect_error_toast, open_accordion, png_size, set_number, shot
from playwright.sync_api import Page
from space_harness import upload

HOUSE = Path(__file__).resolve().parent / "examples" / "house.png"  # seeded into the Space byte for byte
INSTRUCTION = "make it a winter evening"


def upload_house(page: Page) -> None:
    """Drop the example image on the Image input, as a person picks a file, and wait until the page shows it."""
    page.locator('input[type="file"]').first.set_input_files(HOUSE)
    expect(image_in(page, "Image")).to_be_visible()


def image_in(page: Page, label: str):
    """The image the block labelled `label` shows (the upload or the edit), served from the app's file route."""
    block = page.locator(".block").filter(has=page.get_by_text(label, exact=True))
    return block.locator('img[src*="/gradio_api/file="]').first


def edited_image(page: Page, before: str | None = None) -> bytes:
    """The bytes of the edit the page shows, once it has replaced `before` (an earlier edit's URL)."""
    image = image_in(page, "Edited image")
    expect(image).to_be_visible()
    if before:
        expect(image).not_to_have_attribute("src", before)
    response = page.request.get(image.get_attribute("src"))
    assert response.ok, response.status
    return response.body()


def check_an_uploaded_image_is_edited_and_the_edit_shown(page: Page, url: str) -> None:
    page.goto(url)
    upload_house(page)
    page.get_by_placeholder("What to change").fill(INSTRUCTION)
    open_accordion(page, "Settings")
    set_number(page, "Steps", 2)
    page.get_by_role("button", name="Edit", exact=True).click()
    shown = edited_image(page)
    shot(page, "image-editing-edit")
    assert png_size(shown) == (512, 384)  # the upload's own size
    # The same request through the API, with the same image and seed, gives the very same PNG.
    same = call(url, "edit", upload(url, HOUSE), INSTRUCTION, 2, 7.5, 1.5, 0)[0]
    assert page.request.get(same["url"]).body() == shown, "the page shows another edit than the API gives"


def check_another_seed_gives_another_edit(page: Page, url: str) -> None:
    page.goto(url)
    upload_house(page)
    page.get_by_placeholder("What to change").fill(INSTRUCTION)
    open_accordion(page, "Settings")
    set_number(page, "Steps", 1)
    page.get_by_role("button", name="Edit", exact=True).click()
    first = edited_image(page)
    set_number(page, "Seed", 99)
    page.get_by_role("button", name="Edit", exact=True).click()
    again = edited_image(page, before=image_in(page, "Edited image").get_attribute("src"))
    assert png_size(again) == png_size(first) and again != first


def check_examples_render_and_a_click_fills_the_inputs_and_edits(page: Page, url: str) -> None:
    page.goto(url)
    example = page.get_by_role("gridcell", name="turn it into a watercolour painting")
    expect(example).to_be_visible()
    example.click()
    expect(page.get_by_placeholder("What to change")).to_have_value("turn it into a watercolour painting")
    open_accordion(page, "Settings")
    for label, value in [("Steps", "10"), ("Seed", "42")]:
        expect(page.get_by_label(f"number input for {label}")).to_have_value(value)
    expect(image_in(page, "Image")).to_be_visible()
    # Lazy caching, as on ZeroGPU: the first click edits the example at its own size.
    assert png_size(edited_image(page)) == (512, 384)
    shot(page, "image-editing-example")


def check_no_image_shows_the_apps_error_and_the_page_stays_usable(page: Page, url: str) -> None:
    page.goto(url)
    page.get_by_placeholder("What to change").fill(INSTRUCTION)
    page.get_by_role("button", name="Edit", exact=True).click()
    expect_error_toast(page, "Upload an image first.")
    shot(page, "image-editing-error")

    upload_house(page)
    open_accordion(page, "Settings")
    set_number(page, "Steps", 1)
    page.get_by_role("button", name="Edit", exact=True).click()
    assert png_size(edited_image(page)) == (512, 384)
