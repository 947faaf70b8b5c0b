"""Bad answers are refused with a message that says what is wrong, and leave no files behind."""

import subprocess
import sys

import pytest
from conftest import TEMPLATE_DIR, frontmatter
from huggingface_hub.utils import validate_repo_id

from extensions.hub_rules import hub_slug
from extensions.kinds import load_kinds
from extensions.platform_facts import load_platform

KINDS = load_kinds(TEMPLATE_DIR / "kinds")

BAD_ANSWERS = [
    ("space_title", "", "must not be empty"),
    ("space_title", "Two\nlines", "one line"),
    ("space_title", "x" * 101, "at most 100"),
    ("space_title", "Line\u2028separator", "one line"),
    ("space_title", "Paragraph\u2029separator", "one line"),
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
    ("emoji", "rocket", "exactly one emoji"),
    ("emoji", "", "exactly one emoji"),
    ("emoji", "🚀 x", "exactly one emoji"),
    ("emoji", "🚀\x7f", "exactly one emoji"),
    ("emoji", "🚀\u202e", "exactly one emoji"),
    ("emoji", "🚀🚀", "exactly one emoji"),
    ("emoji", "©", "text form"),
    ("color_from", "orange", "Invalid choice"),
    ("color_to", "", "Invalid choice"),
    ("short_description", "x" * 61, "at most 60"),
    ("short_description", "tab\there", "one line"),
    ("short_description", "two\u2028lines", "one line"),
    ("short_description", "   ", "must not be empty"),
    ("license", "apache", "not a Hub license identifier"),
    ("license", "GPL-3.0", "not a Hub license identifier"),
    ("python_version", "3.11", "Invalid choice"),
    ("python_version", "3.10", "refuse Python 3.10 (transformers 5.22 needs Python 3.11 or later): use 3.12"),
    ("python_version", "3.13", "Invalid choice"),
    ("gradio_version", "latest", "not a version number"),
    ("gradio_version", "6.31", "exact release"),
    ("gradio_version", "5.49.1", "too old"),
    ("gradio_version", "6.31.0.dev1", "pre-release"),
    ("gradio_version", "6.31.0rc1", "pre-release"),
    ("gradio_version", "6.31.0+evil", "local label"),
    ("gradio_version", "6.31.0.post1", "exact release"),
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


@pytest.mark.parametrize("app_kind", sorted(KINDS))
def test_a_python_the_kind_cannot_run_is_refused_naming_the_libraries_that_refuse_it(copie, app_kind):
    meta = KINDS[app_kind]
    refused = [python for python in load_platform()["PYTHONS"] if python not in meta["python_versions"]]
    if not refused:
        pytest.skip(f"{app_kind} runs on every ZeroGPU Python")
    result = copie.copy(extra_answers={"app_kind": app_kind, "python_version": refused[0]})
    assert result.exit_code != 0 and result.project_dir is None
    runs = " or ".join(meta["python_versions"])
    assert f"({meta['python_refused_because']}): use {runs}" in str(result.exception)


def test_aoti_refuses_anything_but_yes_or_no(copie):
    app_kind = next(kind for kind, meta in KINDS.items() if meta["aoti"])
    result = copie.copy(extra_answers={"app_kind": app_kind, "aoti": "maybe"})
    assert result.exit_code != 0 and "Invalid choice for 'aoti'" in str(result.exception)


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("no-owner", "must look like 'owner/name'"),
        ("owner/bad name", "name in the AoTI package repo"),
        ("owner/a/b", "name in the AoTI package repo"),
        ("owner/name.git", "must not end with '.git'"),
        ("owner/x\n", "name in the AoTI package repo"),
        ("hf://owner/name", "owner in the AoTI package repo"),
    ],
)
def test_a_bad_aoti_repo_is_refused_with_a_message(copie, answer, message):
    app_kind = next(kind for kind, meta in KINDS.items() if meta["aoti"])
    result = copie.copy(extra_answers={"app_kind": app_kind, "aoti": True, "aoti_repo": answer})
    assert result.exit_code != 0 and "aoti_repo" in str(result.exception), result.exception
    assert message in str(result.exception), result.exception
    assert result.project_dir is None and not any(copie.test_dir.glob("copie*/*"))
    if "/" in answer:  # huggingface_hub refuses it too (it takes a bare name, as for the Hub's old canonical models)
        with pytest.raises(ValueError):  # HFValidationError
            validate_repo_id(answer)


@pytest.mark.parametrize("length", [83, 96, 97, 100])
def test_a_long_title_gets_a_valid_space_name_whatever_the_owner(copie_no_tasks, length):
    """The Hub allows 100-character titles; the name derived from one is at most 96 characters, which the Hub allows
    under any owner (its limit is per part of the id, as huggingface_hub's validate_repo_id says)."""
    title = ("Long title " * 10)[:length]
    owner = "an-organisation-with-a-rather-long-name"
    result = copie_no_tasks.copy(extra_answers={"space_title": title, "space_owner": owner})
    assert result.exit_code == 0, result.exception
    name = result.answers["space_name"]
    assert 0 < len(name) <= 96 and name == hub_slug(title)
    validate_repo_id(f"{owner}/{name}")


@pytest.mark.parametrize("emoji", ["1️⃣", "👩‍🔬", "🇫🇷"])
def test_single_emoji_of_several_code_points_are_accepted(copie_no_tasks, emoji):
    result = copie_no_tasks.copy(extra_answers={"emoji": emoji})
    assert result.exit_code == 0, result.exception
    assert frontmatter(result.project_dir)["emoji"] == emoji


@pytest.mark.parametrize(
    "wheel_url",
    [
        "https://user:{secret}@example.org/flash_attn-2.8.3+cu12torch2.8cxx11abiTRUE-cp312-cp312-linux_x86_64.whl",
        "https://example.org/flash_attn-2.8.3+cu12torch2.8cxx11abiTRUE-cp312-cp312-linux_x86_64.whl?token={secret}",
    ],
    ids=["user-info", "query-token"],
)
def test_a_wheel_url_with_a_credential_is_refused_and_the_secret_goes_nowhere(tmp_path, wheel_url):
    secret = "hf_" + "DoNotShowThisTokenAnywhere0123"
    destination = tmp_path / "space"
    run = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref=HEAD",
         "--data", "attention=flash-attn", "--data", f"flash_attn_wheel={wheel_url.format(secret=secret)}",
         str(TEMPLATE_DIR), str(destination)],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode != 0
    assert "flash_attn_wheel" in run.stderr and "carries" in run.stderr, run.stderr
    assert "DoNotShowThisToken" not in run.stdout + run.stderr
    assert not destination.exists()
