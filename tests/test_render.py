"""Every option combination renders a Space whose frontmatter holds the answers and whose code is lint-clean."""

import ast
import itertools
import json
import re
import subprocess
import sys

import pytest
from conftest import TEMPLATE_DIR, frontmatter, pyproject, render, space_card

from extensions.kinds import load_kinds

KINDS = load_kinds(TEMPLATE_DIR / "kinds")


def paired_aoti(meta: dict, gpu_size: str, include_examples: bool) -> bool | None:
    """AoTI, for the kinds that offer it, is paired with GPU size and examples rather than multiplied by them: on and
    off each meet both sizes and both example settings, and the matrix keeps its size."""
    return (gpu_size == "large") == include_examples if meta.get("aoti") else None


# Every kind x the Pythons its pinned libraries support x GPU size x examples (other Pythons: test_questions.py).
MATRIX = [
    (kind, gpu_size, python_version, include_examples, paired_aoti(meta, gpu_size, include_examples))
    for kind, meta in KINDS.items()
    for gpu_size, python_version, include_examples in itertools.product(
        ["large", "xlarge"], meta["python_versions"], [True, False]
    )
]


@pytest.mark.parametrize(("app_kind", "gpu_size", "python_version", "include_examples", "aoti"), MATRIX)
def test_every_combination_renders_a_clean_space(
    copie_no_tasks, app_kind, gpu_size, python_version, include_examples, aoti
):
    result = render(
        copie_no_tasks,
        app_kind=app_kind,
        gpu_size=gpu_size,
        python_version=python_version,
        include_examples=include_examples,
        **({} if aoti is None else {"aoti": aoti}),
    )
    project = result.project_dir
    answers = result.answers

    card = space_card(project).data
    assert card.sdk == "gradio"
    assert card.sdk_version == answers["gradio_version"]
    assert card.python_version == python_version
    assert card.title == answers["space_title"]
    assert card.emoji == answers["emoji"]
    assert (card.colorFrom, card.colorTo) == (answers["color_from"], answers["color_to"])
    assert card.short_description == answers["short_description"]
    assert card.license == answers["license"]
    assert card.models == [answers["model_id"]]
    assert card.app_file == "app.py"
    # Exactly these keys, nothing pasted in by accident.
    assert list(frontmatter(project)) == [
        "title", "emoji", "colorFrom", "colorTo", "sdk", "sdk_version", "python_version", "app_file",
        "short_description", "license", "models", "suggested_hardware",
    ]  # fmt: skip

    app = (project / "app.py").read_text(encoding="utf-8")
    tree = ast.parse(app)
    assert ast.unparse(tree.body[0]) == "import spaces"
    decorators = [
        ast.unparse(d) for node in tree.body if isinstance(node, ast.FunctionDef) for d in node.decorator_list
    ]
    handlers = [d for d in decorators if d.startswith("spaces.GPU(duration=") and "duration=1500" not in d]
    assert handlers and all(f"size='{gpu_size}'" in d for d in handlers), decorators
    assert ("cache_mode='lazy'" in ast.unparse(tree)) == include_examples
    # AoTI: compiled ahead of time in a start-up GPU call, never with torch.compile.
    assert "torch.compile" not in ast.unparse(tree)  # comments may name it; code may not
    assert ("spaces.GPU(duration=1500)" in decorators and "spaces.aoti_apply" in app) == bool(aoti), decorators
    assert ("aoti" in app.lower()) == bool(aoti)
    # Durations: the estimators read the kind's shipped coefficients for the chosen size; every call is logged.
    durations = json.loads((project / "durations.json").read_text(encoding="utf-8"))
    assert durations["target"]["size"] == gpu_size
    assert len([d for d in decorators if d.startswith("durations.logged(")]) == len(handlers)
    assert (project / "durations.py").is_file() and (project / "zerogpu" / "calibrate.py").is_file()

    dependencies = pyproject(project)["project"]["dependencies"]
    assert f"gradio[oauth,mcp]=={answers['gradio_version']}" in dependencies
    assert f"torch=={answers['torch_version']}" in dependencies
    assert any(dep.startswith("spaces") for dep in dependencies)
    assert pyproject(project)["project"]["requires-python"] == f"=={python_version}.*"
    assert (project / ".python-version").read_text() == f"{python_version}\n"

    ruff = [sys.executable, "-m", "ruff"]
    target = f"py{python_version.replace('.', '')}"
    for command in (["check", "--target-version", target], ["format", "--check", "--target-version", target]):
        run = subprocess.run([*ruff, *command, "."], cwd=project, check=False, capture_output=True, text=True)
        assert run.returncode == 0, f"ruff {command[0]}:\n{run.stdout}{run.stderr}"


def test_defaults_give_the_documented_space(copie_no_tasks):
    """The defaults users get: the real model ids and the ZeroGPU-supported pins from the facts sheet."""
    answers = render(copie_no_tasks).answers
    assert answers["app_kind"] == "text-generation"
    assert answers["model_id"] == "HuggingFaceTB/SmolLM2-1.7B-Instruct"
    assert (answers["python_version"], answers["torch_version"], answers["gradio_version"]) == (
        "3.12",
        "2.8.0",
        "6.31.0",
    )
    assert answers["gpu_size"] == "large"
    assert answers["space_name"] == "my-zerogpu-space"


def test_image_kind_defaults_to_its_own_model(copie_no_tasks):
    answers = render(copie_no_tasks, app_kind="image-generation").answers
    assert answers["model_id"] == "segmind/SSD-1B"
    assert answers["short_description"] == "Text-to-image generation on ZeroGPU"


def test_aoti_is_off_by_default_and_only_for_kinds_that_offer_it(copie_no_tasks):
    image = render(copie_no_tasks, app_kind="image-generation").project_dir
    assert "aoti: false" in (image / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "aoti" not in (image / "app.py").read_text(encoding="utf-8").lower()
    text = render(copie_no_tasks, aoti=True).project_dir  # not asked for a kind without a denoiser: ignored
    assert "aoti" not in (text / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "aoti" not in (text / "app.py").read_text(encoding="utf-8").lower()


def test_the_data_file_is_the_kinds_shipped_coefficients_for_the_chosen_size(copie_no_tasks):
    for app_kind, gpu_size in [("text-generation", "xlarge"), ("image-generation", "large")]:
        project = render(copie_no_tasks, app_kind=app_kind, gpu_size=gpu_size).project_dir
        shipped = json.loads((TEMPLATE_DIR / "kinds" / app_kind / "durations.json").read_text(encoding="utf-8"))
        assert json.loads((project / "durations.json").read_text(encoding="utf-8")) == shipped[gpu_size]


def test_answers_file_records_every_answer_for_updates(copie_no_tasks):
    result = render(copie_no_tasks, space_title="Answers kept")
    recorded = (result.project_dir / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "_src_path:" in recorded and "_commit:" in recorded
    assert "space_title: Answers kept" in recorded


def test_no_secrets_are_rendered(copie_no_tasks):
    """Secrets live in the Space's settings: no token-shaped string and no .env file in a rendered Space."""
    project = render(copie_no_tasks).project_dir
    assert not (project / ".env").exists()
    for path in project.rglob("*"):
        if path.is_file():
            assert not re.search(r"hf_[A-Za-z0-9]{30,}", path.read_text(encoding="utf-8")), path
