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
