"""Shared helpers for the template's tests: render with pytest-copie and read back what was rendered."""

import functools
import tomllib
from pathlib import Path

import copier
import pytest
import pytest_copie.plugin
import yaml
from huggingface_hub import SpaceCard

TEMPLATE_DIR = Path(__file__).resolve().parent.parent


def render(copie, **answers):
    """Render the template at its working tree (HEAD plus uncommitted changes) and fail loudly on error."""
    result = copie.copy(extra_answers=answers)
    assert result.exit_code == 0, result.exception
    return result


def space_card(project_dir: Path) -> SpaceCard:
    return SpaceCard.load(project_dir / "README.md")


def frontmatter(project_dir: Path) -> dict:
    """The README's YAML block, parsed by PyYAML (SpaceCard fills in defaults; this shows exactly what is there)."""
    text = (project_dir / "README.md").read_text(encoding="utf-8")
    _, block, _ = text.split("---\n", 2)
    return yaml.safe_load(block)


def pyproject(project_dir: Path) -> dict:
    return tomllib.loads((project_dir / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def template_dir() -> Path:
    return TEMPLATE_DIR


@pytest.fixture
def copie_no_tasks(copie, monkeypatch):
    """pytest-copie's `copie`, rendering without the Copier tasks (uv lock and export): for tests of what the
    template itself renders, which then need no uv run per render. Tests of the export use plain `copie`."""
    monkeypatch.setattr(pytest_copie.plugin, "run_copy", functools.partial(copier.run_copy, skip_tasks=True))
    return copie
