"""The zerogpu package (template/zerogpu/, vendored into every Space as it is): the Space carries the very files
tested here, and the package's tests that need a Space's environment (gradio, spaces, torch, mcp) pass in one.

tests/tooling/ holds the package's tests: those that need only the standard library and numpy run in this
repository's environment like any other test; tests/tooling/in_space/ runs here with the default Space's own venv,
installed from its uv.lock on its pinned Python, from the Space's folder (its app, README and durations.json).
"""

import ast
import filecmp
import subprocess
from pathlib import Path

import pytest
from conftest import TEMPLATE_DIR
from readme_flows import DEFAULT_KIND, passed
from space_harness import clean_env

from extensions.kinds import load_kinds

PACKAGE = TEMPLATE_DIR / "template" / "zerogpu"
IN_SPACE = Path(__file__).resolve().parent / "tooling" / "in_space"


def package_files(folder: Path) -> list[str]:
    return sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.py"))


def test_a_space_carries_the_package_as_it_is(copie_no_tasks):
    result = copie_no_tasks.copy()
    assert result.exit_code == 0, result.exception
    vendored = result.project_dir / "zerogpu"
    assert package_files(vendored) == package_files(PACKAGE)
    _, mismatch, errors = filecmp.cmpfiles(PACKAGE, vendored, package_files(PACKAGE), shallow=False)
    assert not mismatch and not errors, f"these differ from template/zerogpu/: {mismatch + errors}"


def names_of_tests(folder: Path) -> set[str]:
    return {node.name for path in folder.rglob("test_*.py") for node in ast.parse(path.read_text(encoding="utf-8")).body
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")}  # fmt: skip


@pytest.mark.parametrize("app_kind", sorted(load_kinds(TEMPLATE_DIR / "kinds")))
def test_a_space_carries_none_of_the_packages_tests(copie_no_tasks, app_kind):
    result = copie_no_tasks.copy(extra_answers={"app_kind": app_kind})
    assert result.exit_code == 0, result.exception
    shipped, package_tests = names_of_tests(result.project_dir / "tests"), names_of_tests(IN_SPACE.parent)
    assert shipped and package_tests and not shipped & package_tests, sorted(shipped & package_tests)


@pytest.mark.slow
def test_the_packages_space_side_tests_pass_in_a_spaces_own_environment(installed_space):
    project, python = installed_space(DEFAULT_KIND)
    run = subprocess.run([python, "-m", "pytest", str(IN_SPACE)], cwd=project, env=clean_env(), check=False,
                         capture_output=True, text=True, timeout=1800)  # fmt: skip
    assert run.returncode == 0 and passed(run.stdout), run.stdout + run.stderr
