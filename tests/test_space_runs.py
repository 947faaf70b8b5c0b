"""The option combinations README's default render does not reach pass the rendered Space's own checks, run as its
author runs them: `uv run ruff check .` and `uv run pytest`, from the Space's own uv.lock on its pinned Python.

(The default Space of each kind is run three times over, as README.md's first command renders it, by
tests/test_user_flows.py.) Its suite builds a tiny random model, starts `python app.py` on it and calls it through
gradio_client.
"""

import pytest
from conftest import TEMPLATE_DIR
from readme_flows import passed, shell

from extensions.kinds import load_kinds

# Each kind's slow_runs (kind.yml): the answers beyond the default that its run takes.
RUNS = [(kind, answers) for kind, meta in load_kinds(TEMPLATE_DIR / "kinds").items() for answers in meta["slow_runs"]]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("app_kind", "answers"),
    RUNS,
    ids=["-".join([kind, *(f"{k}={v}" for k, v in answers.items())]) for kind, answers in RUNS],
)
def test_rendered_space_passes_its_own_checks(installed_space, app_kind, answers):
    project, _ = installed_space(app_kind, **answers)
    assert (project / "requirements.txt").is_file() and (project / "uv.lock").is_file(), "the export task did not run"
    for command in ("uv run ruff check .", "uv run pytest"):
        run = shell(command, cwd=project)
        assert run.returncode == 0, f"{command}:\n{run.stdout}{run.stderr}"
    assert passed(run.stdout), run.stdout
