"""Each kind's rendered Space as a person sees it: Debian's Chromium, headless, driven by Playwright.

The Space is installed like the Space builder installs it and served by its own `python app.py` on CPU, on a tiny
random model that its own tests/tiny_model.py builds. Each kind's checks, the `check_*` functions of
kinds/<kind>/browser_checks.py (never rendered into a Space), type into the page, click its buttons and examples, and
read what the page shows, with tests/browser_page.py's helpers; each keeps a screenshot under build/artifacts/browser/
(printed at the end of the run).

Playwright drives the system's Chromium through `executable_path`: no browser is downloaded (never run
`playwright install`). .ci/run installs Debian's `chromium` when it is missing; without it these tests skip.
CHROMIUM_PATH names another Chromium binary.
"""

import importlib.util
import inspect
import os
import shutil

import pytest
from browser_page import SHOTS_DIR, TIMEOUT_MS, shot
from conftest import TEMPLATE_DIR
from playwright.sync_api import sync_playwright
from space_harness import build_tiny_model, serve

from extensions.kinds import load_kinds

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def browser_checks(kind: str) -> list:
    """The `check_*(page, url)` functions of kinds/<kind>/browser_checks.py, in the order the file defines them."""
    path = TEMPLATE_DIR / "kinds" / kind / "browser_checks.py"
    spec = importlib.util.spec_from_file_location(f"{kind.replace('-', '_')}_browser_checks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    checks = [value for name, value in vars(module).items() if name.startswith("check_") and inspect.isfunction(value)]
    if not checks:
        raise ValueError(f"{path} defines no check_*(page, url) function.")
    return checks


CHECKS = [pytest.param(kind, check, id=f"{kind}-{check.__name__.removeprefix('check_')}")
          for kind in load_kinds() for check in browser_checks(kind)]  # fmt: skip


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


@pytest.fixture(scope="module")
def app(request, browser, installed_space, tmp_path_factory):  # browser first: without one, skip before installing
    """The kind's Space served on its tiny model; one at a time (pytest runs each kind's checks together)."""
    kind = request.param
    project, python = installed_space(kind)
    model_dir = build_tiny_model(python, project, tmp_path_factory.mktemp(f"tiny-{kind}"))
    with serve(python, project, model_dir, tmp_path_factory.mktemp("logs") / f"{kind}.log") as url:
        yield url


@pytest.mark.parametrize(("app", "check"), CHECKS, indirect=["app"])
def test_the_page(app, check, page):
    check(page, app)
