"""The export task writes a requirements.txt the Space builder accepts, for every option combination.

The builder installs `-r requirements.txt gradio[oauth,mcp]==<sdk_version> uvicorn>=0.14.0 websockets>=10.4 spaces`
in one pip call. Each test replays that line through uv's resolver for Linux x86_64 and the Space's Python.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import plumbum
import pytest
from conftest import TEMPLATE_DIR, pyproject, render, space_card
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from space_harness import uv_environment
from uv import find_uv_bin
from wheel_server import serve_stand_in_wheels

from extensions import flash_attn, kinds
from extensions.platform_facts import load_platform

ZEROGPU_PYTHON = load_platform()["PYTHONS"]  # the patch release ZeroGPU runs, by minor
TORCH_VERSIONS = list(load_platform()["TORCH_VERSIONS"])
ONLY_FOR_THE_BUILDER = {"gradio", "gradio-client", "spaces", "fastapi", "uvicorn", "starlette", "websockets"}


def combinations() -> list[tuple[str, str, str, str, str]]:
    """Every (kind, python, torch, attention, gradio) the questions accept: the Pythons the kind supports, flash-attn
    only where a wheel is published (the refusals are tested below and in test_questions.py), each Gradio release the
    kind's pins are tested with."""
    found = []
    for kind, meta in kinds.load_kinds(TEMPLATE_DIR / "kinds").items():
        for python in meta["python_versions"]:
            for torch in TORCH_VERSIONS:
                for attention in meta["attention"]:
                    if attention != "flash-attn" or not flash_attn.flash_attn_error(python, torch):
                        found.extend((kind, python, torch, attention, gradio) for gradio in meta["gradio_versions"])
    return found


def uv(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    environment = {**uv_environment(), **(env or {})}
    return subprocess.run([find_uv_bin(), *args], cwd=cwd, env=environment, capture_output=True, text=True, check=False)


def replay_space_builder(project: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """uv's resolver on the builder's pip line, for Linux x86_64 and the Space's Python."""
    card = space_card(project).data
    line = [f"gradio[oauth,mcp]=={card.sdk_version}", "uvicorn>=0.14.0", "websockets>=10.4", "spaces"]
    (project / "builder.in").write_text("\n".join(["-r requirements.txt", *line]) + "\n")
    python = ZEROGPU_PYTHON[card.python_version]
    platform = ["--python-platform", "x86_64-unknown-linux-gnu", "--python-version", python]
    return uv("pip", "compile", "--quiet", "--no-header", *platform, "builder.in", cwd=project, env=env)


def requirement_lines(project: Path) -> dict[str, Requirement]:
    lines = (project / "requirements.txt").read_text().splitlines()
    parsed = [Requirement(line) for line in lines if line[:1].isalpha()]
    return {canonicalize_name(requirement.name): requirement for requirement in parsed}


@pytest.fixture(scope="module")
def wheel_server(tmp_path_factory):
    with serve_stand_in_wheels(tmp_path_factory.mktemp("wheels")) as served:
        yield served


@pytest.mark.parametrize(("app_kind", "python_version", "torch_version", "attention", "gradio_version"), combinations())
def test_every_combination_exports_requirements_the_builder_accepts(
    copie, wheel_server, app_kind, python_version, torch_version, attention, gradio_version
):
    answers = {"app_kind": app_kind, "python_version": python_version, "torch_version": torch_version}
    answers |= {"attention": attention, "gradio_version": gradio_version}
    base_url, trust_the_server = wheel_server
    if attention == "flash-attn":  # GitHub is out of reach: the same file name, served from loopback
        published = flash_attn.flash_attn_wheel_url(python_version, torch_version)
        answers["flash_attn_wheel"] = f"{base_url}/{published.rsplit('/', 1)[-1]}"
    with plumbum.local.env(**trust_the_server):  # Copier runs its tasks in plumbum's copy of the environment
        project = render(copie, **answers).project_dir

    pinned = requirement_lines(project)
    assert (project / "requirements.txt").read_text().startswith("# Generated from pyproject.toml and uv.lock by")
    assert not ONLY_FOR_THE_BUILDER & set(pinned), "requirements.txt must leave out what the builder installs"
    assert str(pinned["torch"].specifier) == f"=={torch_version}"
    for name in kinds.load_kinds(TEMPLATE_DIR / "kinds")[app_kind]["dependencies"]:
        requirement = Requirement(name)
        assert pinned[canonicalize_name(requirement.name)].specifier == requirement.specifier
    if attention == "flash-attn":
        assert pinned["flash-attn"].url == answers["flash_attn_wheel"]
        marker = pinned["flash-attn"].marker
        assert marker.evaluate({"sys_platform": "linux", "platform_machine": "x86_64"})
        assert not marker.evaluate({"sys_platform": "linux", "platform_machine": "aarch64"})
        assert not marker.evaluate({"sys_platform": "darwin", "platform_machine": "x86_64"})
    if attention == "kernels":
        assert "kernels" in pinned

    replay = replay_space_builder(project, env=trust_the_server)
    assert replay.returncode == 0, f"the Space builder's install would fail:\n{replay.stderr}"


def test_the_rule_sheets_export_recipe_fails_the_builder(copie):
    """Regression guard: `gradio==X` in pyproject and `--no-emit-package spaces` alone pins pydantic past gradio[mcp]."""
    project = render(copie).project_dir
    project_file = project / "pyproject.toml"
    sdk_version = space_card(project).data.sdk_version
    project_file.write_text(
        project_file.read_text().replace(f'"gradio[oauth,mcp]=={sdk_version}"', f'"gradio=={sdk_version}"')
    )
    (project / "uv.lock").unlink()  # a fresh lock, as a project following the rule sheet has
    assert uv("lock", "--quiet", cwd=project).returncode == 0
    recipe = uv(
        "export", "--no-hashes", "--no-dev", "--no-emit-package", "spaces", "-o", "requirements.txt", cwd=project
    )
    assert recipe.returncode == 0, recipe.stderr

    replay = replay_space_builder(project)
    assert replay.returncode != 0
    assert "pydantic" in replay.stderr


def test_flash_attn_without_a_published_wheel_is_refused_with_the_torch_versions_that_work(copie):
    result = copie.copy(extra_answers={"attention": "flash-attn", "torch_version": "2.11.0"})
    assert result.exit_code != 0
    message = str(result.exception)
    assert "attention" in message and "2.8.0" in message and "2.9.1" in message


def test_a_pasted_wheel_for_another_torch_is_refused(copie):
    url = "https://example.org/flash_attn-2.8.3+cu12torch2.9cxx11abiTRUE-cp312-cp312-linux_x86_64.whl"
    result = copie.copy(extra_answers={"attention": "flash-attn", "torch_version": "2.8.0", "flash_attn_wheel": url})
    assert result.exit_code != 0
    assert "flash_attn_wheel" in str(result.exception) and "torch" in str(result.exception)


def test_export_is_idempotent_and_the_check_catches_drift(copie):
    project = render(copie).project_dir
    script = [sys.executable, "-m", "zerogpu.export"]
    first = (project / "requirements.txt").read_text()
    assert subprocess.run(script, cwd=project, check=False).returncode == 0
    assert (project / "requirements.txt").read_text() == first

    project_file = project / "pyproject.toml"
    project_file.write_text(
        project_file.read_text().replace('    "accelerate', '    "einops==0.8.1",\n    "accelerate')
    )
    drift = subprocess.run([*script, "--check"], cwd=project, capture_output=True, text=True, check=False)
    assert drift.returncode == 1 and "uv.lock is out of date" in drift.stderr
    assert "python -m zerogpu.export" in drift.stderr

    assert subprocess.run(script, cwd=project, capture_output=True, check=False).returncode == 0
    assert "einops==0.8.1" in (project / "requirements.txt").read_text()
    assert subprocess.run([*script, "--check"], cwd=project, check=False).returncode == 0

    (project / "requirements.txt").write_text((project / "requirements.txt").read_text() + "numpy==1.0\n")
    drift = subprocess.run([*script, "--check"], cwd=project, capture_output=True, text=True, check=False)
    assert drift.returncode == 1 and "requirements.txt differs" in drift.stderr


def test_copy_succeeds_and_says_what_to_run_when_the_index_is_unreachable(tmp_path):
    env = {**os.environ, "UV_DEFAULT_INDEX": "http://127.0.0.1:9/simple", "UV_NO_CACHE": "1", "UV_OFFLINE": "0"}
    destination = tmp_path / "space"
    copy = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref=HEAD", str(TEMPLATE_DIR),
         str(destination)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert copy.returncode == 0, copy.stderr
    assert "requirements.txt was not written" in copy.stderr
    assert "Run `python -m zerogpu.export`" in copy.stderr
    assert (destination / "app.py").is_file()
    assert not (destination / "requirements.txt").exists() and not (destination / "uv.lock").exists()


def test_export_says_what_to_run_when_uv_is_missing(copie_no_tasks, tmp_path):
    project = render(copie_no_tasks).project_dir
    python_without_uv = tmp_path / "venv"
    subprocess.run([find_uv_bin(), "venv", "--quiet", "--python", sys.executable, str(python_without_uv)], check=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    script = [str(python_without_uv / "bin" / "python"), "-m", "zerogpu.export"]
    lenient = subprocess.run(
        [*script, "--if-possible"], cwd=project, env=env, capture_output=True, text=True, check=False
    )
    assert lenient.returncode == 0
    assert "uv is not installed" in lenient.stderr and "python -m zerogpu.export" in lenient.stderr
    assert not (project / "requirements.txt").exists()
    strict = subprocess.run(script, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert strict.returncode == 1


def test_a_gradio_version_that_does_not_resolve_fails_the_copy_and_says_why(tmp_path):
    """A final release the pins are not tested with is accepted only if the export resolves it: 6.999.0 does not
    exist, so the copy fails with uv's reason and leaves no folder, instead of a Space that cannot build."""
    destination = tmp_path / "space"
    copy = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref=HEAD",
         "--data", "gradio_version=6.999.0", str(TEMPLATE_DIR), str(destination)],
        env=uv_environment(), capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert copy.returncode != 0, copy.stdout + copy.stderr
    assert "requirements.txt was not written" in copy.stderr
    assert "gradio[oauth]==6.999.0" in copy.stderr and "unsatisfiable" in copy.stderr, copy.stderr
    assert not destination.exists(), "a failed copy must leave nothing half-written"


def export(project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    script = [sys.executable, "-m", "zerogpu.export", *args]
    return subprocess.run(script, cwd=project, env=env, capture_output=True, text=True, check=False)


def test_the_check_says_uv_is_missing_rather_than_out_of_date(copie, tmp_path):
    project = render(copie).project_dir
    python_without_uv = tmp_path / "venv"
    subprocess.run([find_uv_bin(), "venv", "--quiet", "--python", sys.executable, str(python_without_uv)], check=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    script = [str(python_without_uv / "bin" / "python"), "-m", "zerogpu.export", "--check"]
    run = subprocess.run(script, cwd=project, env=env, capture_output=True, text=True, check=False)
    assert run.returncode == 1
    assert "uv is not installed" in run.stderr and "out of date" not in run.stderr, run.stderr


def test_broken_toml_is_named_as_such_and_fails_even_as_a_copier_task(copie):
    project = render(copie).project_dir
    with (project / "pyproject.toml").open("a") as pyproject_file:
        pyproject_file.write("extra = [\n")
    before = (project / "requirements.txt").read_text()
    for args in (["--check"], ["--if-possible"], []):
        run = export(project, *args)
        assert run.returncode == 1, args
        assert "pyproject.toml is not valid TOML" in run.stderr and "out of date" not in run.stderr, run.stderr
    assert (project / "requirements.txt").read_text() == before


def test_a_hand_written_requirements_txt_gets_one_story_from_the_check_and_the_export(copie):
    """The check must not tell the author to run a command that then refuses."""
    project = render(copie).project_dir
    (project / "requirements.txt").write_text("torch==2.8.0\ntransformers\n")
    check, run = export(project, "--check"), export(project)
    assert check.returncode == run.returncode == 1
    for said in (check.stderr, run.stderr):
        assert "requirements.txt was written by hand" in said and "delete it" in said, said
        assert "differs" not in said
    assert (project / "requirements.txt").read_text() == "torch==2.8.0\ntransformers\n"


def test_hand_edits_under_the_generated_header_are_shown_before_they_are_dropped(copie):
    project = render(copie).project_dir
    generated = (project / "requirements.txt").read_text()
    (project / "requirements.txt").write_text(
        generated.replace("\naccelerate==", "\nmy-own-package==1.0\naccelerate==")
    )
    check = export(project, "--check")
    assert check.returncode == 1 and "+my-own-package==1.0" in check.stderr, check.stderr
    run = export(project)
    assert run.returncode == 0, run.stderr
    assert "these lines are gone" in run.stderr and "+my-own-package==1.0" in run.stderr, run.stderr
    assert (project / "requirements.txt").read_text() == generated


def test_a_requirements_txt_from_an_earlier_version_is_generated_not_hand_written(copie):
    """Before 0.2.0 the export was `python scripts/export_requirements.py`, and its header named that command."""
    project = render(copie).project_dir
    generated = (project / "requirements.txt").read_text()
    assert "`python -m zerogpu.export`" in generated
    (project / "requirements.txt").write_text(
        generated.replace("`python -m zerogpu.export`", "`python scripts/export_requirements.py`", 1)
    )
    check = export(project, "--check")
    assert check.returncode == 0, check.stderr
    run = export(project)
    assert run.returncode == 0 and "by hand" not in run.stderr and "gone" not in run.stderr, run.stderr
    assert (project / "requirements.txt").read_text() == generated


def test_no_credential_reaches_the_exports_output(copie):
    """uv quotes the URL it fails on, with its user name and query: the export's messages leave them out."""
    project = render(copie).project_dir
    secret = "hf_" + "NotARealTokenButLongEnough42"
    url = f"https://{secret}:pw-{secret}@127.0.0.1:9/private-1.0-py3-none-any.whl?token=q-{secret}&sig=zzz-{secret}"
    pyproject_file = project / "pyproject.toml"
    pyproject_file.write_text(
        pyproject_file.read_text().replace('    "accelerate', f'    "private @ {url}",\n    "accelerate')
    )
    for args in (["--check"], ["--if-possible"], []):
        run = export(project, *args, env={**uv_environment(), "UV_HTTP_RETRIES": "0"})
        said = run.stdout + run.stderr
        assert "127.0.0.1:9" in said or "not written" in said, said
        assert "NotARealToken" not in said and "zzz" not in said, said


def test_pyproject_is_the_single_source_of_requirements(copie_no_tasks):
    """The template renders no requirements.txt of its own: only the export writes it."""
    project = render(copie_no_tasks).project_dir
    assert not (project / "requirements.txt").exists()
    assert "spaces>=0.51.3" in pyproject(project)["project"]["dependencies"]


@pytest.mark.parametrize("kind", sorted(kinds.load_kinds(TEMPLATE_DIR / "kinds")))
def test_a_kind_names_the_libraries_that_refuse_the_pythons_it_refuses(kind, tmp_path):
    """kind.yml's `python_refused_because` (what the python_version question says) against uv's resolver: each ZeroGPU
    Python the kind refuses is refused by exactly the pinned libraries it names, one resolved at a time."""
    meta = kinds.load_kinds(TEMPLATE_DIR / "kinds")[kind]
    named = {canonicalize_name(name) for name in re.findall(r"([A-Za-z][\w.-]*) \d", meta["python_refused_because"])}
    named.discard("python")
    for python in sorted(set(ZEROGPU_PYTHON) - set(meta["python_versions"])):
        refusing = set()
        for pin in meta["dependencies"]:
            (tmp_path / "one.in").write_text(pin + "\n")
            run = uv("pip", "compile", "--quiet", "--python-version", ZEROGPU_PYTHON[python], "--python-platform",
                     "x86_64-unknown-linux-gnu", "one.in", cwd=tmp_path)  # fmt: skip
            if run.returncode != 0:
                assert "Python" in run.stderr, run.stderr
                refusing.add(canonicalize_name(Requirement(pin).name))
        assert refusing == named, (
            f"{kind}: on Python {python} {sorted(refusing)} refuse, kind.yml names {sorted(named)}"
        )
