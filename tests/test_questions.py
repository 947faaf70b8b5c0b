"""Bad answers are refused with a message that says what is wrong, and leave no files behind."""

import subprocess
import sys

import pytest
from conftest import TEMPLATE_DIR

BAD_ANSWERS = [
    ("space_title", "", "must not be empty"),
    ("space_title", "Two\nlines", "one line"),
    ("space_title", "x" * 101, "at most 100"),
    ("space_owner", "has space", "Space owner"),
    ("space_owner", "-dash-first", "must not start or end"),
    ("space_name", "double--dash", "'--'"),
    ("space_name", "ends.", "must not start or end"),
    ("space_name", "x" * 97, "1 to 96"),
    ("space_name", "ü-umlaut", "1 to 96"),
    ("app_kind", "video-generation", "Invalid choice"),
    ("model_id", "no-owner", "owner/name"),
    ("model_id", "owner/bad name", "name in the model id"),
    ("model_id", "a/b/c", "name in the model id"),
    ("emoji", "rocket", "single emoji"),
    ("emoji", "", "single emoji"),
    ("emoji", "🚀 x", "single emoji"),
    ("color_from", "orange", "Invalid choice"),
    ("color_to", "", "Invalid choice"),
    ("short_description", "x" * 61, "at most 60"),
    ("short_description", "tab\there", "one line"),
    ("short_description", "   ", "must not be empty"),
    ("license", "apache", "not a Hub license identifier"),
    ("license", "GPL-3.0", "not a Hub license identifier"),
    ("python_version", "3.11", "Invalid choice"),
    ("python_version", "3.10", "refuse Python 3.10 (transformers 5.22 needs Python 3.11 or later): use 3.12"),
    ("python_version", "3.13", "Invalid choice"),
    ("gradio_version", "latest", "not a version number"),
    ("gradio_version", "6.31", "exact release"),
    ("gradio_version", "5.49.1", "too old"),
    ("gradio_version", "6.31.0.dev1", "exact release"),
    ("torch_version", "2.7.1", "Invalid choice"),
    ("gpu_size", "medium", "Invalid choice"),
    ("include_examples", "maybe", "Invalid choice"),
    ("github_sync", "maybe", "Invalid choice"),
]


@pytest.mark.parametrize(("question", "answer", "message"), BAD_ANSWERS)
def test_bad_answer_is_refused_with_a_message(copie, question, answer, message):
    result = copie.copy(extra_answers={question: answer})
    assert result.exit_code != 0, f"{question}={answer!r} was accepted"
    assert question in str(result.exception) and message in str(result.exception), result.exception
    # pytest-copie renders into copie000 (an empty folder it made itself): nothing may have been written there.
    assert result.project_dir is None
    assert not any(copie.test_dir.glob("copie*/*")), "a refused answer left files behind"


def test_the_cli_refuses_a_bad_answer_and_writes_nothing(tmp_path):
    destination = tmp_path / "space"
    run = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref=HEAD",
         "--data", "short_description=" + "x" * 61, str(TEMPLATE_DIR), str(destination)],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode != 0
    assert "the Hub allows at most 60" in run.stderr
    assert not destination.exists()


def test_extensions_need_trust(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--defaults", "--vcs-ref=HEAD", str(TEMPLATE_DIR), str(tmp_path / "s")],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 4, run.stderr
    assert not (tmp_path / "s").exists()


def test_a_python_the_kind_cannot_run_is_refused_naming_the_libraries_that_refuse_it(copie):
    result = copie.copy(extra_answers={"app_kind": "image-generation", "python_version": "3.10"})
    assert result.exit_code != 0 and result.project_dir is None
    assert "(diffusers 0.42 and transformers 5.22 need Python 3.11 or later): use 3.12" in str(result.exception)


def test_aoti_refuses_anything_but_yes_or_no(copie):
    result = copie.copy(extra_answers={"app_kind": "image-generation", "aoti": "maybe"})
    assert result.exit_code != 0 and "Invalid choice for 'aoti'" in str(result.exception)
