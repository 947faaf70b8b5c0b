"""A newcomer's flows, exactly as README.md and the copy's next steps write them, in a fresh clone of this repository.

For every app kind: README's first command renders the Space; its next steps then run the Space's own `uv run pytest`
twice in a row (a suite that fails one run in two is caught; a third pass of every kind would take CI past its time),
which installs the Space from its own uv.lock on the Python its .python-version pins, as it does for its author; and its offline route builds a tiny model and serves the app on it.
Then README's update commands, run in a Space made by README's first command, before and after a release. The commands
come from README.md and from what the copy prints (tests/readme_flows.py), never from this file.
"""

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import yaml
from readme_flows import (
    DEFAULT_KIND,
    TEMPLATE_DIR,
    first_commands,
    fresh_clone,
    passed,
    readme_text,
    render_space,
    shell,
    update_commands,
)
from space_harness import call, free_port, uv_environment, wait_until_serving, with_uploads
from template_versions import CHANGED_APP_LINE, GIT_ENV, commit_all, git

from extensions.kinds import load_kinds

KINDS = load_kinds()
PASSES = 2
GIT_IDENTITY = {key: value for key, value in GIT_ENV.items() if key.startswith("GIT_")}  # an author with git set up


def test_ci_runs_the_test_command_readme_gives():
    ci = [line.strip() for line in (TEMPLATE_DIR / ".ci" / "run").read_text().splitlines() if line.strip()]
    assert ci[-1] == first_commands()[1], ".ci/run must end with README.md's test command"


def test_readme_renders_with_the_defaults_from_this_clone():
    render = first_commands()[0]
    assert render.startswith("uvx --with copier-template-extensions --with emoji copier copy --trust --defaults "), (
        render
    )
    assert render.split()[-2:] == [".", "my-space"], "README's first command renders this clone into my-space"


@pytest.mark.slow
@pytest.mark.parametrize("app_kind", sorted(KINDS))
def test_the_next_steps_run_the_spaces_checks_and_name_its_offline_route(readme_space, app_kind):
    space = readme_space(app_kind)
    assert "uv run pytest" in space.next_steps
    build = [step for step in space.next_steps if step.startswith("uv run tests/tiny_model.py ")]
    assert build and any(step.startswith("MODEL_ID=") and step.endswith("uv run app.py") for step in space.next_steps)
    for where in ("README.md", "hub_model.py"):  # the Space's own README and app.py's message say the same
        assert build[0] in (space.project / where).read_text(encoding="utf-8"), where


@pytest.mark.slow
@pytest.mark.parametrize("run", range(1, PASSES + 1), ids=lambda run: f"pass{run}")
@pytest.mark.parametrize("app_kind", sorted(KINDS))
def test_the_space_passes_its_own_suite_as_its_next_steps_run_it(readme_space, app_kind, run):
    space = readme_space(app_kind)
    lock = (space.project / "uv.lock").read_bytes()
    result = shell("uv run pytest", cwd=space.project)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and passed(result.stdout), (
        f"pass {run} of `uv run pytest` in the {app_kind} Space:\n{output}"
    )
    assert (space.project / "uv.lock").read_bytes() == lock, "`uv run` changed uv.lock: it did not run from the lock"
    pinned = (space.project / ".python-version").read_text().strip()
    used = shell("uv run python -c 'import platform; print(platform.python_version())'", cwd=space.project)
    assert used.stdout.strip().startswith(f"{pinned}."), f"the Space ran on Python {used.stdout}, not {pinned}"


@pytest.mark.slow
@pytest.mark.parametrize("app_kind", sorted(KINDS))
def test_the_app_serves_a_tiny_model_as_the_next_steps_say(readme_space, app_kind, tmp_path):
    space = readme_space(app_kind)
    build = next(step for step in space.next_steps if step.startswith("uv run tests/tiny_model.py "))
    serve = next(step for step in space.next_steps if step.startswith("MODEL_ID=") and "uv run app.py" in step)
    built = shell(build, cwd=space.project)
    assert built.returncode == 0, built.stdout + built.stderr
    model_dir = space.project / build.split()[-1]
    assert (model_dir / "config.json").is_file() or (model_dir / "model_index.json").is_file(), built.stdout
    try:
        assert "tiny-model/" in (space.project / ".gitignore").read_text(), "the tiny model must never be pushed"
        port = free_port()
        env = {**uv_environment(), "GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
               "GRADIO_ANALYTICS_ENABLED": "False", "PYTHONUNBUFFERED": "1"}  # fmt: skip
        log_path = tmp_path / "app.log"
        with open(log_path, "w") as log:
            app = subprocess.Popen(["bash", "-c", serve], cwd=space.project, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
            try:
                url = f"http://127.0.0.1:{port}/"
                wait_until_serving(url, app, log_path, timeout_s=600)  # the first `uv run` may still install
                first_call = KINDS[app_kind]["first_call"]
                data = with_uploads(url, space.project, first_call["data"])
                assert call(url, first_call["api_name"], *data)[0], log_path.read_text()
            finally:
                os.killpg(app.pid, signal.SIGTERM)
                app.wait(timeout=60)
    finally:
        shutil.rmtree(model_dir, ignore_errors=True)


def answers(space: Path) -> dict:
    return yaml.safe_load((space / ".copier-answers.yml").read_text(encoding="utf-8"))


def copier_alias() -> str:
    """What the Space's README means by `copier` (it says so beside its update commands)."""
    found = re.search(r"\(`copier` here is `([^`]+)`\)", (TEMPLATE_DIR / "template" / "README.md.jinja").read_text())
    assert found, "the Space's README must say what its `copier` stands for"
    return found[1]


@pytest.mark.slow
def test_readme_update_commands_update_a_space_that_readme_made(tmp_path):
    clone = fresh_clone(tmp_path / "copier-zerogpu")
    space = render_space(clone).project
    assert answers(space)["_src_path"] == "..", "the Space must find its template from its own folder"
    git("init", "--quiet", "--initial-branch=main", cwd=space)
    commit_all(space, "From copier-zerogpu")
    take_newest, change_answer = update_commands()
    check_update = f"{copier_alias()} check-update"

    # No release yet: the update takes the newest commit, which the Space already has, and says so.
    run = shell(take_newest, cwd=space, **GIT_IDENTITY)
    said = run.stdout + run.stderr
    assert run.returncode == 0, said
    assert "not a release" in said and not git("status", "--porcelain", cwd=space), said

    # A release, made as docs/releasing.md says: a change on main, tagged.
    app_template = clone / "kinds" / DEFAULT_KIND / "app.py.jinja"
    app_template.write_text(app_template.read_text().replace(*CHANGED_APP_LINE))
    commit_all(clone, "Serve more requests at once")
    git("tag", "-a", "v0.1.0", "-m", "copier-zerogpu 0.1.0", cwd=clone)
    run = shell(check_update, cwd=space, **GIT_IDENTITY)
    assert run.returncode == 0 and "0.1.0" in run.stdout + run.stderr, run.stdout + run.stderr
    run = shell(take_newest, cwd=space, **GIT_IDENTITY)
    said = run.stdout + run.stderr
    assert run.returncode == 0 and "release v0.1.0" in said, said
    assert CHANGED_APP_LINE[1] in (space / "app.py").read_text() and answers(space)["_commit"] == "v0.1.0"
    commit_all(space, "Update to copier-zerogpu v0.1.0")

    # One answer changed, on the same release.
    run = shell(change_answer, cwd=space, **GIT_IDENTITY)
    assert run.returncode == 0, run.stdout + run.stderr
    assert 'size="xlarge"' in (space / "app.py").read_text()
    assert answers(space)["gpu_size"] == "xlarge" and answers(space)["_commit"] == "v0.1.0"
    commit_all(space, "Ask for a whole GPU")

    checks = shell("uv run pytest -q tests/test_no_conflicts.py tests/test_space_config.py tests/test_zerogpu_rules.py "
                   "tests/test_requirements.py", cwd=space)  # fmt: skip
    assert checks.returncode == 0 and passed(checks.stdout), checks.stdout + checks.stderr


PYENV_ROOT = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
# A newcomer's pyenv Python: one without uv (on CI's machine .ci/run puts uv into another), not the Space's own.
PYENV_FRESH = sorted(
    path.name for path in (PYENV_ROOT / "versions").glob("3.1[013].*") if not (path / "bin" / "uv").exists()
)


@pytest.mark.slow
@pytest.mark.skipif(not PYENV_FRESH, reason="no pyenv Python without uv here: no newcomer's pyenv to try")
def test_readmes_uv_install_works_in_a_space_under_pyenv(readme_space, tmp_path):
    """With pyenv, `pip install uv` into a pyenv Python leaves a shim that fails inside a Space (its .python-version
    picks another Python); README's `pip install --user` puts uv in ~/.local/bin, which works everywhere."""
    install = re.search(r"`(python3 -m pip install --user uv)`", readme_text())
    assert install, "README.md must give the `python3 -m pip install --user uv` install"
    assert "pyenv: uv: command not found" in readme_text(), "README.md must warn about pyenv's shim"
    home = tmp_path / "home"
    env = {"HOME": str(home), "PATH": f"{home}/.local/bin:{PYENV_ROOT / 'shims'}:/usr/local/bin:/usr/bin:/bin",
           "PYENV_ROOT": str(PYENV_ROOT)}  # fmt: skip
    run = shell(install[1], cwd=tmp_path, PYENV_VERSION=PYENV_FRESH[-1], **env)  # `pyenv global`, as a newcomer has it
    assert run.returncode == 0, run.stdout + run.stderr
    inside = shell("uv --version", cwd=readme_space(DEFAULT_KIND).project, **env)
    assert inside.returncode == 0 and inside.stdout.startswith("uv "), inside.stdout + inside.stderr
