"""The Space's configuration: README frontmatter and the pins the Space builder and ZeroGPU need.

The ZeroGPU rules over the code and files (spaces first, python_version pinned, requirements.txt without gradio and
spaces, estimators, ...) are in zerogpu/rules.py, run by test_zerogpu_rules.py.
"""

from pathlib import Path

from huggingface_hub import SpaceCard
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from zerogpu.settings import tomllib

SPACE_DIR = Path(__file__).resolve().parent.parent
SPACE_COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}


def pyproject() -> dict:
    return tomllib.loads((SPACE_DIR / "pyproject.toml").read_text(encoding="utf-8"))


def declared(name: str) -> Requirement:
    requirements = [Requirement(line) for line in pyproject()["project"]["dependencies"]]
    matches = [req for req in requirements if canonicalize_name(req.name) == name]
    assert matches, f"pyproject.toml must declare {name}"
    return matches[0]


def exact_pin(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    assert specifier.operator == "==", f"{requirement} must be pinned with =="
    return specifier.version


def requirements_txt() -> list[Requirement]:
    lines = (SPACE_DIR / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_frontmatter_is_a_zerogpu_gradio_space():
    card = SpaceCard.load(SPACE_DIR / "README.md")
    assert card.data.sdk == "gradio"
    assert card.data.app_file == "app.py"
    assert card.data.sdk_version == exact_pin(declared("gradio")), "sdk_version must equal pyproject's gradio pin"
    assert 0 < len(card.data.short_description) <= 60, "the Hub rejects a short_description over 60 characters"
    assert {card.data.colorFrom, card.data.colorTo} <= SPACE_COLORS


def test_requirements_pin_torch_as_the_project_does():
    (torch,) = [req for req in requirements_txt() if canonicalize_name(req.name) == "torch"]
    assert exact_pin(torch) == exact_pin(declared("torch"))


def test_spaces_is_declared():
    declared("spaces")
