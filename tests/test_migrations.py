"""The migration scripts are idempotent and tolerate Spaces that are already half-migrated.

Copier runs them as plain scripts with its own Python (`{{ _copier_python }}`), in the Space's folder; so do these
tests. tests/test_update.py runs them through a real `copier update`.
"""

import subprocess
import sys

import pytest
import yaml
from conftest import TEMPLATE_DIR

RENAME_ANSWER = TEMPLATE_DIR / "migrations" / "rename_answer.py"
HEADER = "# Changes here will be overwritten by Copier; NEVER EDIT MANUALLY\n"
ANSWERS = HEADER + "_commit: v0.1.0\n_src_path: gh:owner/copier-zerogpu\ngpu_size: xlarge\nspace_title: Mine\n"


def rename_answer(space, *args: str) -> str:
    run = subprocess.run([sys.executable, RENAME_ANSWER, *args], cwd=space, check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture
def space(tmp_path):
    (tmp_path / ".copier-answers.yml").write_text(ANSWERS, encoding="utf-8")
    return tmp_path


def test_renames_the_key_and_keeps_the_answer_and_the_order(space):
    said = rename_answer(space, "gpu_size", "zerogpu_size")
    assert "renamed answer 'gpu_size' to 'zerogpu_size'" in said
    text = (space / ".copier-answers.yml").read_text(encoding="utf-8")
    assert text.startswith(HEADER)
    assert list(yaml.safe_load(text).items()) == [
        ("_commit", "v0.1.0"),
        ("_src_path", "gh:owner/copier-zerogpu"),
        ("zerogpu_size", "xlarge"),
        ("space_title", "Mine"),
    ]


def test_running_twice_changes_nothing_the_second_time(space):
    rename_answer(space, "gpu_size", "zerogpu_size")
    once = (space / ".copier-answers.yml").read_bytes()
    assert "nothing to do" in rename_answer(space, "gpu_size", "zerogpu_size")
    assert (space / ".copier-answers.yml").read_bytes() == once


def test_a_half_migrated_space_keeps_the_new_answer(space):
    """Both keys present (someone answered the new question already): the new answer wins, the old key goes."""
    (space / ".copier-answers.yml").write_text(ANSWERS + "zerogpu_size: large\n", encoding="utf-8")
    assert "dropped 'gpu_size'" in rename_answer(space, "gpu_size", "zerogpu_size")
    answers = yaml.safe_load((space / ".copier-answers.yml").read_text(encoding="utf-8"))
    assert answers["zerogpu_size"] == "large" and "gpu_size" not in answers


def test_a_space_without_the_old_key_or_without_answers_is_left_alone(space, tmp_path_factory):
    assert "nothing to do" in rename_answer(space, "no_such_question", "other")
    assert (space / ".copier-answers.yml").read_text(encoding="utf-8") == ANSWERS
    empty = tmp_path_factory.mktemp("no-answers")
    assert "not found; nothing to do" in rename_answer(empty, "gpu_size", "zerogpu_size")
    assert not list(empty.iterdir())


def test_a_custom_answers_file_is_followed(space):
    (space / ".copier-answers.yml").rename(space / "answers.yml")
    rename_answer(space, "--answers-file", "answers.yml", "gpu_size", "zerogpu_size")
    assert "zerogpu_size" in yaml.safe_load((space / "answers.yml").read_text(encoding="utf-8"))


KEEP_EDITED = TEMPLATE_DIR / "migrations" / "keep_edited_files.py"
SHIPPED = "TABLE = {}\n"


@pytest.fixture
def released(tmp_path):
    """A template repository whose tag v0.1.0 ships template/durations.py."""
    template = tmp_path / "template-repo"
    (template / "template").mkdir(parents=True)
    (template / "template" / "durations.py").write_text(SHIPPED, encoding="utf-8")
    git = ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", "-C", str(template)]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "0.1.0"], ["tag", "v0.1.0"]):
        subprocess.run([*git, *args], check=True, capture_output=True)
    space = tmp_path / "space"
    space.mkdir()
    return template, space


def keep_edited(template, space, *files: str, ref: str = "v0.1.0") -> str:
    command = [sys.executable, KEEP_EDITED, "--template", template, "--from", ref, *files]
    run = subprocess.run(command, cwd=space, check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_an_unedited_file_is_left_for_the_update_to_replace(released):
    template, space = released
    (space / "durations.py").write_text(SHIPPED, encoding="utf-8")
    said = keep_edited(template, space, "durations.py=zerogpu/durations.py")
    assert "durations.py: unedited; it moves to zerogpu/durations.py" in said
    assert sorted(path.name for path in space.iterdir()) == ["durations.py"]


def test_an_edited_file_is_copied_aside_once_even_when_run_twice(released):
    template, space = released
    (space / "durations.py").write_text(SHIPPED + "MINE = 1\n", encoding="utf-8")
    first = keep_edited(template, space, "durations.py=zerogpu/durations.py")
    second = keep_edited(template, space, "durations.py=zerogpu/durations.py")
    assert "held your edits, kept in durations.py.edited" in first, first
    assert "kept in durations.py.edited already" in second, second
    assert (space / "durations.py.edited").read_text(encoding="utf-8") == SHIPPED + "MINE = 1\n"


def test_a_copy_of_older_edits_is_refreshed_and_a_missing_file_is_no_error(released):
    template, space = released
    (space / "durations.py").write_text(SHIPPED + "MINE = 2\n", encoding="utf-8")
    (space / "durations.py.edited").write_text(SHIPPED + "MINE = 1\n", encoding="utf-8")
    said = keep_edited(template, space, "durations.py", "tests/gone.py")
    assert "durations.py: it is no longer part of the template; it held your edits" in said, said
    assert "tests/gone.py: nothing to do (not in this Space)" in said
    assert (space / "durations.py.edited").read_text(encoding="utf-8") == SHIPPED + "MINE = 2\n"


def test_a_file_whose_shipped_text_cannot_be_read_is_kept(released):
    """An unknown version (or a file that version never shipped): better a copy too many than an edit lost."""
    template, space = released
    (space / "durations.py").write_text(SHIPPED, encoding="utf-8")
    said = keep_edited(template, space, "durations.py", ref="v9.9.9")
    assert "could not be compared with v9.9.9's, kept in durations.py.edited" in said, said
    assert (space / "durations.py.edited").read_text(encoding="utf-8") == SHIPPED
