"""Shared helpers for the template's tests: render with pytest-copie and read back what was rendered."""

import functools
import tomllib
from pathlib import Path

import copier
import pytest
import pytest_copie.plugin
import yaml
from huggingface_hub import SpaceCard
from readme_flows import ReadmeSpace, fresh_clone, render_space
from space_harness import install_from_lock

TEMPLATE_DIR = Path(__file__).resolve().parent.parent
# zerogpu's tests that need a Space's environment: tests/test_tooling.py runs them with a Space's venv.
collect_ignore = ["tooling/in_space"]
ARTIFACTS_DIR = TEMPLATE_DIR / "build" / "artifacts"  # gitignored; the run's summary lists what tests write here
_artifacts: list[Path] = []


def keep_artifact(path: Path) -> Path:
    """Note a file a test wrote under ARTIFACTS_DIR, so that the run's summary prints its path."""
    _artifacts.append(path)
    return path


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Mark a test whose body failed (`item.failed_call`), for fixtures that keep evidence on failure."""
    report = yield
    if report.when == "call" and report.failed:
        item.failed_call = True
    return report


def pytest_terminal_summary(terminalreporter):
    if _artifacts:
        terminalreporter.section("test artifacts")
        for path in _artifacts:
            terminalreporter.write_line(str(path))


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


@pytest.fixture(scope="session")
def installed_space(copie_session):
    """`installed_space(kind, **answers)`: that Space, rendered (the export task included) and installed from its own
    uv.lock as `uv run` installs it, once per session; returns (project folder, the venv's python)."""
    spaces = {}

    def install(app_kind: str, **answers) -> tuple[Path, Path]:
        key = (app_kind, *sorted(answers.items()))
        if key not in spaces:
            project = render(copie_session, app_kind=app_kind, **answers).project_dir
            spaces[key] = project, install_from_lock(project)
        return spaces[key]

    return install


@pytest.fixture(scope="session")
def readme_space(tmp_path_factory):
    """`readme_space(kind)`: that kind's Space as README's first command renders it in a fresh clone of this
    repository (tests/readme_flows.py), once per session; not installed (its next steps do that)."""
    spaces: dict[str, ReadmeSpace] = {}

    def make(app_kind: str) -> ReadmeSpace:
        if app_kind not in spaces:
            clone = fresh_clone(tmp_path_factory.mktemp(f"newcomer-{app_kind}") / "copier-zerogpu")
            spaces[app_kind] = render_space(clone, app_kind)
        return spaces[app_kind]

    return make
