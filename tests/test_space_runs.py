"""Each kind's rendered Space, installed into a fresh virtual environment, passes its own checks on CPU.

Its own test suite builds a tiny random model, starts `python app.py` on it and calls it through gradio_client.
How the Space is installed, and the knobs for machines other than CI's: tests/space_harness.py.
"""

import re
import subprocess

import pytest
from space_harness import clean_env


@pytest.mark.slow
@pytest.mark.parametrize(
    ("app_kind", "answers"),
    [
        ("text-generation", {}),
        ("text-generation", {"attention": "kernels"}),
        # AoTI on: off ZeroGPU the image app falls back to eager, so this covers the plain app as well.
        ("image-generation", {"aoti": True}),
    ],
    ids=["text", "text-kernels", "image-aoti"],
)
def test_rendered_space_passes_its_own_checks(installed_space, app_kind, answers):
    project, python = installed_space(app_kind, **answers)
    assert (project / "requirements.txt").is_file() and (project / "uv.lock").is_file(), "the export task did not run"

    lint = subprocess.run(
        [python, "-m", "ruff", "check", "."], cwd=project, check=False, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr

    own_tests = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=clean_env(),
        check=False,
        capture_output=True,
        text=True,
    )
    output = own_tests.stdout + own_tests.stderr
    assert own_tests.returncode == 0, output
    summary = output.strip().splitlines()[-1]
    assert re.match(r"\d+ passed", summary) and not re.search(r"failed|error", summary), output
