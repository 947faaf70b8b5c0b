"""Release bookkeeping: CHANGELOG.md and pyproject.toml agree, and every migration is wired as docs/releasing.md says."""

import re
import tomllib

import pytest
import yaml
from conftest import TEMPLATE_DIR
from packaging.version import Version
from template_versions import MIGRATION

HEADING = re.compile(r"^## (?:Unreleased|(?P<version>\S+) - (?:\d{4}-\d{2}-\d{2}|not tagged yet))$")


def changelog_sections() -> dict[str, str]:
    """Each `## ` section of CHANGELOG.md by its version ("Unreleased" for the one on top)."""
    text = (TEMPLATE_DIR / "CHANGELOG.md").read_text(encoding="utf-8")
    sections = {}
    for block in text.split("\n## ")[1:]:
        heading, _, body = f"## {block}".partition("\n")
        match = HEADING.match(heading)
        assert match, f"CHANGELOG.md: {heading!r} must read '## X.Y.Z - YYYY-MM-DD' (or 'not tagged yet', 'Unreleased')"
        sections[match["version"] or "Unreleased"] = body
    return sections


def migrations(config_text: str) -> list[dict]:
    return yaml.safe_load(config_text).get("_migrations") or []


def migration_problems(migration: dict) -> list[str]:
    """What is wrong with one `_migrations` entry, measured against docs/releasing.md."""
    problems = []
    if not isinstance(migration, dict) or not re.fullmatch(r"v\d+\.\d+\.\d+", str(migration.get("version"))):
        return [f"{migration!r}: give a `version: vX.Y.Z` (the release that makes the breaking change)"]
    command = migration.get("command")
    if not isinstance(command, list) or command[:1] != ["{{ _copier_python }}"]:
        problems.append(f'{migration["version"]}: run the script with ["{{{{ _copier_python }}}}", ...]')
    else:
        script = str(command[1]).removeprefix("{{ _copier_conf.src_path }}/")
        if not script.startswith("migrations/") or not (TEMPLATE_DIR / script).is_file():
            problems.append(f"{migration['version']}: {command[1]} must be a script in migrations/")
    if migration.get("when", "{{ _stage == 'after' }}") not in ("{{ _stage == 'before' }}", "{{ _stage == 'after' }}"):
        problems.append(f"{migration['version']}: `when` must pick a stage, before or after")
    return problems


def test_the_newest_changelog_version_is_the_projects():
    versions = [version for version in changelog_sections() if version != "Unreleased"]
    assert versions, "CHANGELOG.md has no release"
    assert all(str(Version(version)) == version for version in versions), versions
    assert [Version(v) for v in versions] == sorted(map(Version, versions), reverse=True), "newest release first"
    project = tomllib.loads((TEMPLATE_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    assert versions[0] == project, "pyproject.toml's version must be the newest release in CHANGELOG.md"


def test_every_release_says_what_updating_authors_must_know():
    for version, body in changelog_sections().items():
        if version != "Unreleased":
            assert "\n### Updating\n" in body, f"CHANGELOG.md {version}: add an '### Updating' part"


def test_every_migration_runs_a_script_and_is_flagged_in_the_changelog():
    sections = changelog_sections()
    for migration in migrations((TEMPLATE_DIR / "copier.yml").read_text(encoding="utf-8")):
        assert not migration_problems(migration)
        version = migration["version"].removeprefix("v")
        assert version in sections, f"CHANGELOG.md has no {version} section for its migration"
        assert "migration" in sections[version].lower(), f"CHANGELOG.md {version}: flag the migration under Updating"


@pytest.mark.parametrize(
    ("migration", "problem"),
    [
        ({"command": ["python", "x.py"]}, "give a `version"),
        ({"version": "v0.2.0", "command": "python migrations/rename_answer.py a b"}, "_copier_python"),
        ({"version": "v0.2.0", "command": ["{{ _copier_python }}", "scripts/x.py"]}, "a script in migrations/"),
        ({"version": "v0.2.0", "command": ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/migrations/no.py"]},
         "a script in migrations/"),
    ],
)  # fmt: skip
def test_a_miswired_migration_is_reported(migration, problem):
    assert any(problem in found for found in migration_problems(migration))


def test_the_update_tests_migration_is_wired_as_the_docs_say():
    """The made-up v0.2.0 of tests/template_versions.py follows docs/releasing.md, as real releases must."""
    (migration,) = migrations(MIGRATION)
    assert migration_problems(migration) == []
    assert migration["when"] == "{{ _stage == 'before' }}"
