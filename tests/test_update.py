"""`copier update` keeps an author's work, takes the template's changes, runs migrations once and flags conflicts.

Updates and adoption run copier's command line with the flags docs/update.md gives users, against a scratch repository
of the template tagged v0.2.0 (this working tree) and v0.3.0 (a made-up next release: tests/template_versions.py),
or v0.1.0 (the real release, from history) and v0.2.0 (this working tree);
the fresh copies they are compared with come from copier's Python API, with the same options.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import render
from template_versions import (
    CHANGED_APP_LINE,
    CHANGED_PIN,
    MIGRATION_OUTPUT,
    NEW,
    NEW_FILE,
    OLD,
    RENAMED_QUESTION,
    commit_all,
    copier,
    copy,
    copy_space,
    data_args,
    files_of,
    git,
    make_template_versions,
    make_update_from_0_1_0,
)

from extensions.kinds import load_kinds

# Files copier never merges on update: regenerated from pyproject.toml instead (copier.yml's _skip_if_exists).
REGENERATED = {"requirements.txt", "uv.lock"}
# The Space's checks of its own files, which run without installing it: no torch, no app, so the dev environment
# runs them. A Space's rule checks added later belong in this list.
SPACE_RULE_TESTS = ["tests/test_space_config.py", "tests/test_zerogpu_rules.py", "tests/test_no_conflicts.py"]


def test_regenerated_files_are_declared_in_copier_yml(template_dir):
    skipped = yaml.safe_load((template_dir / "copier.yml").read_text(encoding="utf-8"))["_skip_if_exists"]
    assert REGENERATED <= set(skipped)


@pytest.fixture(scope="module")
def versions(tmp_path_factory) -> tuple[Path, str]:
    return make_template_versions(tmp_path_factory.mktemp("scratch") / "copier-zerogpu")


@pytest.fixture(scope="module")
def template(versions) -> Path:
    return versions[0]


def update(space: Path, *flags: str) -> subprocess.CompletedProcess:
    run = copier("update", "--trust", "--defaults", *flags, cwd=space)
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def answers(space: Path) -> dict:
    return yaml.safe_load((space / ".copier-answers.yml").read_text(encoding="utf-8"))


def run_space_tests(space: Path, *test_files: str) -> subprocess.CompletedProcess:
    """Some of the Space's own tests, run from its folder as `uv run pytest` would, without conftest.py (it needs the
    app's libraries) and without this environment's pytest plugins (the Space has none)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTEST_", "VIRTUAL_ENV"))}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    command = [sys.executable, "-m", "pytest", "--noconftest", "-p", "no:cacheprovider", "-q", *test_files]
    return subprocess.run(command, cwd=space, env=env, check=False, capture_output=True, text=True)


def edit_app(text: str) -> str:
    """An author's changes to the handler logic, away from the lines the template changes."""
    assert text.count("MAX_INPUT_TOKENS = 4096\n") == 1
    text = text.replace("MAX_INPUT_TOKENS = 4096\n", "MAX_INPUT_TOKENS = 2048  # shorter conversations\n")
    return text.replace("\ndef text_of(", '\nGREETING = "Hello from the author"\n\n\ndef text_of(', 1)


def edit_readme(text: str) -> str:
    """An author's changes to README's body: a heading reworded and a section of their own."""
    assert text.count("## Run it locally\n") == 1
    return text.replace("## Run it locally\n", "## Run it on your machine\n") + "\n## About\n\nWritten by me.\n"


def edit(space: Path, name: str, change) -> None:
    path = space / name
    path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


def unmerged(space: Path) -> str:
    return git("ls-files", "--unmerged", cwd=space)


def test_update_keeps_the_authors_edits_and_equals_a_fresh_copy(template, tmp_path):
    old_key, new_key = RENAMED_QUESTION
    space = copy_space(template, tmp_path / "space", OLD, **{old_key: False})
    edit(space, "app.py", edit_app)
    edit(space, "README.md", edit_readme)
    commit_all(space, "My changes")
    assert copier("check-update", "--quiet", cwd=space).returncode == 2, f"check-update must see {NEW}"

    run = update(space)

    assert (run.stdout + run.stderr).count(MIGRATION_OUTPUT) == 1, "the migration must run exactly once"
    recorded = answers(space)
    assert recorded["_commit"] == NEW and recorded[new_key] is False and old_key not in recorded
    assert not unmerged(space) and not list(space.rglob("*.rej"))
    checks = run_space_tests(space, "tests/test_no_conflicts.py")
    assert checks.returncode == 0, checks.stdout

    fresh = files_of(copy(template, tmp_path / "fresh", NEW, **{new_key: False}))
    updated = files_of(space)
    assert set(updated) == set(fresh)
    assert updated.pop("app.py").decode() == edit_app(fresh.pop("app.py").decode())
    assert updated.pop("README.md").decode() == edit_readme(fresh.pop("README.md").decode())
    assert updated == fresh, "every other file, requirements.txt and uv.lock included, must equal a fresh copy"
    # What the release changed did land (the equality above implies it; spelled out for the reader):
    assert CHANGED_APP_LINE[1] in (space / "app.py").read_text()
    assert CHANGED_PIN[1] in (space / "pyproject.toml").read_text()
    assert CHANGED_PIN[1] in (space / "requirements.txt").read_text(), "the export task regenerates it after update"
    assert "pinned: false" in (space / "README.md").read_text()
    assert (space / NEW_FILE[0]).read_text() == NEW_FILE[1]


def test_a_conflicting_edit_is_marked_and_the_space_tests_say_how_to_resolve_it(template, tmp_path):
    space = copy_space(template, tmp_path / "space", OLD)
    edit(space, "app.py", lambda text: text.replace(CHANGED_APP_LINE[0], "CONCURRENT_REQUESTS = 4\n"))
    commit_all(space, "Fewer requests at once")

    update(space)  # copier exits 0 although it could not merge

    assert "app.py" in unmerged(space)
    app = (space / "app.py").read_text()
    assert "<<<<<<< before updating\nCONCURRENT_REQUESTS = 4\n" in app and CHANGED_APP_LINE[1] in app
    checks = run_space_tests(space, "tests/test_no_conflicts.py")
    assert checks.returncode == 1
    assert "`copier update` left conflicts that must be resolved" in checks.stdout
    assert "app.py:" in checks.stdout and "<<<<<<< before updating" in checks.stdout
    assert "delete the three marker lines" in checks.stdout

    # Resolved as the message says (keeping the author's line), the Space's check passes.
    start, end = app.index("<<<<<<<"), app.index(">>>>>>> after updating\n") + len(">>>>>>> after updating\n")
    (space / "app.py").write_text(app[:start] + "CONCURRENT_REQUESTS = 4\n" + app[end:])
    assert run_space_tests(space, "tests/test_no_conflicts.py").returncode == 0


@pytest.mark.parametrize(
    ("question", "answer"), [("gpu_size", "xlarge"), ("short_description", "Chats about GPUs, briefly")]
)
def test_changing_one_answer_rewrites_what_depends_on_it_and_nothing_else(template, tmp_path, question, answer):
    space = copy_space(template, tmp_path / "space", OLD)
    edit(space, "app.py", edit_app)
    commit_all(space, "My changes")
    before = files_of(space)

    update(space, "--vcs-ref=:current:", *data_args({question: answer}))

    after = files_of(space)
    old_copy = files_of(copy(template, tmp_path / "old", OLD))
    new_copy = files_of(copy(template, tmp_path / "new", OLD, **{question: answer}))
    depends = {name for name in old_copy.keys() | new_copy.keys() if old_copy.get(name) != new_copy.get(name)}
    changed = {name for name in before.keys() | after.keys() if before.get(name) != after.get(name)}
    assert changed == depends, "the update must rewrite exactly the files that depend on the answer"
    assert after.pop("app.py").decode() == edit_app(new_copy.pop("app.py").decode()), "the author's edit survives"
    assert after == new_copy
    assert answers(space)["_commit"] == OLD and answers(space)[question] == answer
    if question == "gpu_size":
        assert depends == {".copier-answers.yml", "README.md", "app.py", "durations.json"}
        diff = git("diff", "--unified=0", "--", "app.py", cwd=space).splitlines()
        assert [line for line in diff if line.startswith(("+", "-")) and not line.startswith(("+++", "---"))] == [
            '-@spaces.GPU(duration=chat_duration, size="large")',
            '+@spaces.GPU(duration=chat_duration, size="xlarge")',
        ]


# Answers that only the plumbing depends on: the card and the pins.
PLUMBING_ANSWERS = {
    "space_owner": "someone-else",
    "space_name": "another-name",
    "emoji": "🚀",
    "color_from": "red",
    "color_to": "gray",
    "short_description": "Other words for the card",
    "license": "mit",
    "gradio_version": "6.40.0",
    "torch_version": "2.13.0",
}


@pytest.mark.parametrize("app_kind", sorted(load_kinds()))
def test_template_plumbing_stays_out_of_app_py(copie_no_tasks, app_kind):
    """So a release or an answer that changes the plumbing never touches the author's code."""
    plain = render(copie_no_tasks, app_kind=app_kind).project_dir
    other = render(copie_no_tasks, app_kind=app_kind, **PLUMBING_ANSWERS).project_dir
    assert (plain / "app.py").read_text() == (other / "app.py").read_text()
    for plumbing in ("README.md", "pyproject.toml"):
        assert (plain / plumbing).read_text() != (other / plumbing).read_text()


def test_update_regenerates_requirements_txt_instead_of_merging_it(template, tmp_path):
    space = copy_space(template, tmp_path / "space", OLD)
    generated = (space / "requirements.txt").read_text()
    (space / "requirements.txt").write_text(generated + "my-extra-package==1.0\n")
    commit_all(space, "A package by hand, in the wrong place")

    update(space, "--vcs-ref=:current:", "--data", "torch_version=2.9.1")

    fresh = copy(template, tmp_path / "fresh", OLD, torch_version="2.9.1")
    assert "torch==2.9.1" in (space / "pyproject.toml").read_text()
    for name in REGENERATED:
        assert (space / name).read_text() == (fresh / name).read_text(), f"{name} is regenerated, never merged"
    assert not unmerged(space)

    # Deleted, both are written afresh by the next update's export task.
    commit_all(space, "Take torch 2.9.1")
    git("rm", "--quiet", *REGENERATED, cwd=space)
    commit_all(space, "Regenerate the lock and requirements.txt")
    update(space, "--vcs-ref=:current:")
    for name in REGENERATED:
        assert (space / name).read_text() == (fresh / name).read_text()


def test_a_space_copied_before_the_first_release_updates(versions, tmp_path):
    template, before_release = versions
    space = copy_space(template, tmp_path / "space", before_release)
    assert before_release.startswith(answers(space)["_commit"]), "an untagged commit is recorded as its hash"

    run = update(space)

    assert (run.stdout + run.stderr).count(MIGRATION_OUTPUT) == 1
    assert answers(space)["_commit"] == NEW and not unmerged(space)


# Files that 0.2.0 moved (into zerogpu/) or took out of the Space (the tooling's own tests), and what the migration
# (migrations/keep_edited_files.py) says of each, edited or not.
MOVED_IN_0_2_0 = {
    "durations.py": "durations.py: it moves to zerogpu/durations.py; it held your edits, kept in durations.py.edited",
    "scripts/export_requirements.py": "scripts/export_requirements.py: unedited; it moves to zerogpu/export.py",
    "tests/test_zerogpu_harness.py": "tests/test_zerogpu_harness.py: unedited; it is no longer part of the template",
    "tests/test_zerogpu_emulator.py": "tests/test_zerogpu_emulator.py: unedited; it is no longer part of the template",
}
AUTHOR_NOTE = "\n# My note: the estimator of my own handler lives in calibration.py.\n"


def edit_input_limit(text: str) -> str:
    """An author's change to a line of app.py that no release since 0.1.0 has changed."""
    assert text.count("MAX_INPUT_TOKENS = 4096\n") == 1
    return text.replace("MAX_INPUT_TOKENS = 4096\n", "MAX_INPUT_TOKENS = 2048  # shorter conversations\n")


def test_a_space_from_release_0_1_0_updates_across_the_moved_files(tmp_path):
    template = make_update_from_0_1_0(tmp_path / "copier-zerogpu")
    space = copy_space(template, tmp_path / "space", "v0.1.0")
    assert all((space / name).is_file() for name in MOVED_IN_0_2_0)
    edit(space, "durations.py", lambda text: text + AUTHOR_NOTE)
    edit(space, "app.py", edit_input_limit)
    edited_durations = (space / "durations.py").read_text(encoding="utf-8")
    commit_all(space, "My changes")

    run = update(space)

    said = run.stdout + run.stderr
    assert all(said.count(f"keep_edited_files: {line}") == 1 for line in MOVED_IN_0_2_0.values()), said
    assert (space / "durations.py.edited").read_text(encoding="utf-8") == edited_durations
    assert not any((space / name).exists() for name in MOVED_IN_0_2_0)
    assert answers(space)["_commit"] == "v0.2.0" and not unmerged(space) and not list(space.rglob("*.rej"))
    app = (space / "app.py").read_text(encoding="utf-8")
    assert "from zerogpu import durations\n" in app and "\nimport durations\n" not in app

    fresh = files_of(copy(template, tmp_path / "fresh", "v0.2.0"))
    updated = files_of(space)
    assert updated.pop("durations.py.edited")
    assert updated.pop("app.py").decode() == edit_input_limit(fresh.pop("app.py").decode())
    assert updated == fresh, "every other file must equal a fresh copy of 0.2.0: nothing of 0.1.0's tooling is left"
    checks = run_space_tests(space, *SPACE_RULE_TESTS)
    assert checks.returncode == 0, checks.stdout


# An existing Space, written by hand as many are: its own app.py, a requirements.txt that lists what the Space builder
# installs itself, a README without python_version.
OWN_APP = """\
import gradio as gr
import spaces
import torch


@spaces.GPU(duration=120)
def double(number: float) -> str:
    return str(torch.tensor(number).cuda() * 2)


gr.Interface(double, gr.Number(), gr.Textbox()).launch()
"""
OWN_REQUIREMENTS = "spaces\ngradio==6.31.0\ntorch==2.8.0\n"
OWN_README = """\
---
title: Doubler
emoji: 🔢
colorFrom: blue
colorTo: green
sdk: gradio
sdk_version: 6.31.0
app_file: app.py
short_description: Doubles a number on a GPU
---

Doubles any number you give it.
"""
ADOPTED_APP = """\
import spaces

import gradio as gr
import torch


def double_duration(number: float) -> int:
    return 10


@spaces.GPU(duration=double_duration, size="large")
def double(number: float) -> str:
    return str(torch.tensor(number) * 2)


gr.Interface(double, gr.Number(), gr.Textbox()).launch()
"""


def test_an_existing_space_adopts_the_template(template, tmp_path):
    space = tmp_path / "doubler"
    space.mkdir()
    own = {"app.py": OWN_APP, "requirements.txt": OWN_REQUIREMENTS, "README.md": OWN_README}
    for name, text in own.items():
        (space / name).write_text(text, encoding="utf-8")
    git("init", "--quiet", cwd=space)
    commit_all(space, "My Space")

    # docs/update.md, "Adopt the template": write the template's files where the Space has none, touch no other.
    adopt = ["copy", "--trust", "--defaults", "--skip", "*", f"--vcs-ref={OLD}", "--data", "space_title=Doubler",
             "--data", "short_description=Doubles a number on a GPU", str(template), "."]  # fmt: skip
    run = copier(*adopt, cwd=space)
    assert run.returncode == 0, run.stdout + run.stderr

    assert {name: (space / name).read_text(encoding="utf-8") for name in own} == own, "the author's files survive"
    assert {"pyproject.toml", ".python-version", ".copier-answers.yml", *SPACE_RULE_TESTS} <= set(files_of(space))
    checks = run_space_tests(space, *SPACE_RULE_TESTS)
    assert checks.returncode == 1, checks.stdout
    said = "\n".join(line for line in checks.stdout.splitlines() if line.startswith("E "))  # the failure messages
    # (Its static duration=120 is allowed by the rule sheet; only a missing duration is a rule violation.)
    for what_to_fix in ("python_version", "requirements.txt", "import spaces"):
        assert what_to_fix in said, f"the rule checks must say what to fix about {what_to_fix}:\n{checks.stdout}"

    # The export task never overwrites a requirements.txt written by hand: it said so and what to do instead.
    assert "requirements.txt was written by hand" in run.stderr
    # Fixed as the docs say: python_version added by hand; requirements.txt deleted and written by the same command
    # again (it regenerates what is missing, nothing else); app.py changed as the checks asked.
    (space / "README.md").write_text(OWN_README.replace("app_file:", 'python_version: "3.12"\napp_file:'))
    (space / "requirements.txt").unlink()
    assert copier(*adopt, cwd=space).returncode == 0
    (space / "app.py").write_text(ADOPTED_APP)
    checks = run_space_tests(space, *SPACE_RULE_TESTS)
    assert checks.returncode == 0, checks.stdout
    assert answers(space)["_commit"] == OLD, "the Space now records the template version it adopted"
