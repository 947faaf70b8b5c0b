"""The user docs hang together: every relative link in README.md and docs/ reaches a file, and every #anchor a
heading of that file (as GitHub names headings)."""

import re
from pathlib import Path

import pytest
from conftest import TEMPLATE_DIR

PAGES = [TEMPLATE_DIR / "README.md", *sorted((TEMPLATE_DIR / "docs").glob("*.md"))]
# Pages linked from these docs that another piece of work writes (updating Spaces and releases, issue 5).
WRITTEN_ELSEWHERE = {TEMPLATE_DIR / "docs" / "update.md", TEMPLATE_DIR / "docs" / "releasing.md"}
LINK = re.compile(r"\]\(([^)\s]+)\)")


def github_anchor(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    return {github_anchor(line.lstrip("#")) for line in text.splitlines() if re.match(r"#{1,6} ", line)}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(TEMPLATE_DIR).as_posix())
def test_relative_links_reach_a_file_and_a_heading(page):
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # an absolute URL
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if linked in WRITTEN_ELSEWHERE and not linked.exists():
            continue
        assert linked.is_file(), f"{page.name} links to {target}, which does not exist"
        if anchor and linked.suffix == ".md":
            assert anchor in anchors(linked), f"{page.name} links to {target}: no such heading"


def test_the_docs_link_to_the_update_page():
    for name in ("generate.md", "work.md", "deploy.md", "troubleshooting.md"):
        assert "](update.md" in (TEMPLATE_DIR / "docs" / name).read_text(encoding="utf-8"), name
