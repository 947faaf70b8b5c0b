"""The Space's configuration keeps the ZeroGPU and Space-builder rules: README frontmatter, pins, app.py's shape."""

import ast
import re
from pathlib import Path

from huggingface_hub import SpaceCard
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

SPACE_DIR = Path(__file__).resolve().parent.parent
BUILDER_PACKAGES = {"gradio", "spaces"}  # the Space builder installs these itself, next to requirements.txt
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


def test_python_version_is_quoted_and_matches_the_project():
    text = (SPACE_DIR / "README.md").read_text(encoding="utf-8")
    match = re.search(r'^python_version: "(3\.\d+)"$', text, re.MULTILINE)
    assert match, 'README.md must pin python_version as a quoted string, e.g. python_version: "3.12"'
    assert (SPACE_DIR / ".python-version").read_text().strip() == match[1]
    assert pyproject()["project"]["requires-python"] == f"=={match[1]}.*"


def test_requirements_leave_out_what_the_builder_installs():
    names = {canonicalize_name(req.name) for req in requirements_txt()}
    assert not names & BUILDER_PACKAGES, "requirements.txt must not list gradio or spaces: the Space builder pins them"


def test_requirements_pin_torch_as_the_project_does():
    (torch,) = [req for req in requirements_txt() if canonicalize_name(req.name) == "torch"]
    assert exact_pin(torch) == exact_pin(declared("torch"))


def test_spaces_is_declared():
    declared("spaces")


def app_tree() -> ast.Module:
    return ast.parse((SPACE_DIR / "app.py").read_text(encoding="utf-8"))


def gpu_decorator(function: ast.FunctionDef) -> ast.Call | None:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "spaces.GPU":
            return decorator
    return None


def test_spaces_is_imported_first():
    first = app_tree().body[0]
    assert isinstance(first, ast.Import) and first.names[0].name == "spaces", "app.py must start with `import spaces`"


def startup_calls(tree: ast.Module) -> set[str]:
    """Names of the functions app.py calls at module scope, outside any function: what runs at start-up."""
    names = set()
    for statement in tree.body:
        if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                names.add(node.func.id)
    return names


def test_every_gpu_handler_has_an_estimator_with_its_signature():
    tree = app_tree()
    functions = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    gpu_functions = {name: gpu_decorator(node) for name, node in functions.items() if gpu_decorator(node)}
    startup = startup_calls(tree)
    handlers = {name: decorator for name, decorator in gpu_functions.items() if name not in startup}
    assert handlers, "app.py has no @spaces.GPU(...) handler"
    for name, decorator in handlers.items():
        duration = {keyword.arg: keyword.value for keyword in decorator.keywords}.get("duration")
        assert isinstance(duration, ast.Name), f"{name}: give duration=<a module-level estimator function>"
        estimator = functions.get(duration.id)
        assert estimator, f"{name}: the estimator {duration.id} must be a function defined in app.py"
        assert ast.dump(estimator.args) == ast.dump(functions[name].args), (
            f"{duration.id} must take exactly the parameters of {name}: ZeroGPU calls it with the handler's arguments"
        )


def test_startup_gpu_calls_declare_at_most_1500_seconds():
    """A GPU function app.py calls at start-up (AoTI compilation) is no handler: it declares a fixed duration, and
    ZeroGPU allows a start-up call at most 1500 s."""
    tree = app_tree()
    startup = startup_calls(tree)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in startup and (decorator := gpu_decorator(node)):
            duration = {keyword.arg: keyword.value for keyword in decorator.keywords}.get("duration")
            assert isinstance(duration, ast.Constant) and 0 < duration.value <= 1500, (
                f"{node.name} runs at start-up: give it @spaces.GPU(duration=<at most 1500>)"
            )
